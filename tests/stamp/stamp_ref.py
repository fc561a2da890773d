#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""stamp_ref.py: an independent STAMP Session-Sender and Session-Reflector
(RFC 8762, unauthenticated mode; RFC 8972's SSID and TLVs), written from
the RFCs' figures and not from sockechod's C, to check sockechod's
reflector byte by byte, and to be checked the same way itself.

  stamp_ref.py reflect PORT [--stateful]     a reference reflector on 127.0.0.1
  stamp_ref.py check HOST PORT [--stateful]  the conformance cases against
                                             a reflector; exit 1 on a mismatch
  stamp_ref.py probe HOST PORT COUNT [--interval S] [--wait S] [--src-addr A]
                                             COUNT probes, one-way figures
  stamp_ref.py relay PORT TARGET_PORT [--delay-out MS] [--delay-back MS]
                 [--loss-out PCT] [--loss-back PCT]
                                             a relay on 127.0.0.1:PORT that
                                             delays or drops one direction
                                             (where the kernel has no netem)
  stamp_ref.py burst HOST PORT COUNT         COUNT at once; prints how many
                                             were answered within a second
"""
import json
import os
import select
import socket
import statistics
import struct
import sys
import time

# RFC 8762 figure 1 (sender, unauthenticated), with RFC 8972's SSID:
#   Sequence Number (4) | Timestamp (8) | Error Estimate (2) | SSID (2) |
#   MBZ (28)                                                = 44 bytes
SENDER = struct.Struct("!IQHH28x")
# RFC 8762 figure 3 (reflector, unauthenticated), RFC 8972's SSID:
#   Sequence Number (4) | Timestamp (8) | Error Estimate (2) | SSID (2) |
#   Receive Timestamp (8) | Session-Sender Sequence Number (4) |
#   Session-Sender Timestamp (8) | Session-Sender Error Estimate (2) |
#   MBZ (2) | Ses-Sender TTL (1) | MBZ (3)                 = 44 bytes
REFLECTOR = struct.Struct("!IQHHQIQH2xB3x")
assert SENDER.size == 44 and REFLECTOR.size == 44
BASE = 44

# RFC 4656 section 4.1.2 Error Estimate: S | Z | Scale (6) | Multiplier (8)
EE_S = 0x8000
EE_Z = 0x4000
# RFC 8972 section 4: STAMP TLV Flags U | M | I | reserved, Type, Length
TLV_U, TLV_M = 0x80, 0x40
TLV_EXTRA_PADDING = 1
NTP_EPOCH_OFFSET = 2208988800   # 1900-01-01 to 1970-01-01
IP_TTL = getattr(socket, "IP_TTL", 2)           # Linux <netinet/in.h>
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)


def ntp(t_ns):
    sec, ns = divmod(t_ns, 10**9)
    return ((sec + NTP_EPOCH_OFFSET) & 0xFFFFFFFF) << 32 | (ns << 32) // 10**9


def ptp(t_ns):
    sec, ns = divmod(t_ns, 10**9)
    return (sec & 0xFFFFFFFF) << 32 | ns


def to_ns(ts, is_ptp):
    sec, frac = ts >> 32, ts & 0xFFFFFFFF
    if is_ptp:
        return sec * 10**9 + frac
    return (sec - NTP_EPOCH_OFFSET) * 10**9 + (frac * 10**9 >> 32)


def ee_error_ns(ee):
    scale, mult = (ee >> 8) & 0x3F, ee & 0xFF
    return mult * 2**scale * 10**9 / 2**32


def request(seq, t_ns, is_ptp, ssid=0, size=BASE, tail=b""):
    """A sender's test packet of SIZE bytes; TAIL (TLVs) then zeros."""
    ee = (EE_Z if is_ptp else 0) | 1          # unsynchronised, 2^-32 s
    ts = ptp(t_ns) if is_ptp else ntp(t_ns)
    pkt = SENDER.pack(seq, ts, ee, ssid) + tail
    return pkt + bytes(size - len(pkt))


def reflect_tlvs(tail):
    """RFC 8972 section 4 for the bytes after the base packet: unknown
    types get U; a TLV running past the end gets M and ends the walk;
    all zeros to the end are RFC 8762 padding."""
    out = bytearray(tail)
    off = 0
    while off < len(out):
        if not any(out[off:]):
            break
        if len(out) - off < 4:
            out[off] |= TLV_M
            break
        _flags, typ, length = struct.unpack_from("!BBH", out, off)
        if length > len(out) - off - 4:
            out[off] |= TLV_M
            break
        if typ != TLV_EXTRA_PADDING:
            out[off] |= TLV_U
        off += 4 + length
    return bytes(out)


def expected_reply(req, seq, t2, t3, ee, ttl):
    """What RFC 8762 says a reflector answers to REQ, given the values only
    it can know: its sequence number, T2, T3, its Error Estimate, TTL."""
    s_seq, s_ts, s_ee, ssid = SENDER.unpack_from(req)
    head = REFLECTOR.pack(seq, t3, ee, ssid, t2, s_seq, s_ts, s_ee, ttl)
    return head + reflect_tlvs(req[BASE:])


def parse_reply(rep):
    seq, t3, ee, ssid, t2, s_seq, s_ts, s_ee, ttl = REFLECTOR.unpack_from(rep)
    return dict(seq=seq, t3=t3, ee=ee, ssid=ssid, t2=t2, s_seq=s_seq,
                s_ts=s_ts, s_ee=s_ee, ttl=ttl)


class Reflector:
    """The reference Session-Reflector: stateless, or stateful with a
    counter per (address, port, SSID), section 4.3."""

    def __init__(self, stateful):
        self.stateful = stateful
        self.next = {}

    def answer(self, req, peer, ttl, t2_ns):
        if len(req) < BASE:
            return None
        s_seq, _ts, s_ee, ssid = SENDER.unpack_from(req)
        is_ptp = bool(s_ee & EE_Z)
        if self.stateful:
            key = (peer, ssid)
            seq = self.next.get(key, 0)
            self.next[key] = seq + 1
        else:
            seq = s_seq
        ee = (EE_Z if is_ptp else 0) | 1
        enc = ptp if is_ptp else ntp
        return expected_reply(req, seq, enc(t2_ns), enc(time.time_ns()),
                              ee, ttl)


def serve(port, stateful):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    s.bind(("0.0.0.0", port))
    print("ready", flush=True)
    r = Reflector(stateful)
    while True:
        data, anc, _fl, peer = s.recvmsg(65535, 256)
        t2 = time.time_ns()
        ttl = 0
        for level, typ, val in anc:
            if level == socket.IPPROTO_IP and typ == IP_TTL:
                ttl = struct.unpack("i", val[:4])[0]
        rep = r.answer(data, peer, ttl, t2)
        if rep is not None:
            s.sendto(rep, peer)


class Sender:
    def __init__(self, host, port, ttl=None, src=None):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_DGRAM)
        if src:
            self.s.bind((src, 0))
        if ttl is not None and fam == socket.AF_INET6:
            self.s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS,
                              ttl)
        elif ttl is not None:
            self.s.setsockopt(socket.IPPROTO_IP, IP_TTL, ttl)
        self.dst = (host, port)

    def exchange(self, pkt, wait=1.0):
        """Send PKT; the reply and T4 (ns), or (None, None) on timeout.
        A late reply to an earlier packet (its Session-Sender Sequence
        Number is not PKT's) is read and passed over."""
        self.s.sendto(pkt, self.dst)
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None, None
            rep = self.s.recv(65535)
            t4 = time.time_ns()
            if (len(pkt) >= BASE and len(rep) >= BASE and
                    rep[24:28] != pkt[0:4]):
                continue
            return rep, t4


class Failures:
    def __init__(self):
        self.n = 0
        self.count = 0

    def check(self, what, ok, detail=""):
        self.count += 1
        if ok:
            print("ok %d - %s" % (self.count, what))
        else:
            self.n += 1
            print("not ok %d - %s %s" % (self.count, what, detail))


def one_case(f, snd, name, req, is_ptp, want_seq, ttl):
    t1 = time.time_ns()
    rep, t4 = snd.exchange(req)
    if rep is None:
        f.check(name, False, "(no answer)")
        return None
    r = parse_reply(rep)
    exp = expected_reply(req, want_seq if want_seq is not None else r["seq"],
                         r["t2"], r["t3"], r["ee"], ttl)
    f.check(name + ": byte for byte", rep == exp,
            "\n  got  %s\n  want %s" % (rep.hex(), exp.hex()))
    f.check(name + ": symmetric size", len(rep) == len(req),
            "%d != %d" % (len(rep), len(req)))
    t2, t3 = to_ns(r["t2"], is_ptp), to_ns(r["t3"], is_ptp)
    # Same host, one clock (PTP may be off by the TAI offset, whole s).
    slack = 40 * 10**9 if is_ptp else 0
    f.check(name + ": T1 <= T2 <= T3 <= T4",
            t1 - 1000 <= t2 + slack and t2 <= t3 and
            t3 <= t4 + slack + 1000, "%d %d %d %d" % (t1, t2, t3, t4))
    f.check(name + ": Error Estimate Z and a multiplier",
            bool(r["ee"] & EE_Z) == is_ptp and r["ee"] & 0xFF != 0,
            hex(r["ee"]))
    return r


def tlv(flags, typ, value):
    return struct.pack("!BBH", flags, typ, len(value)) + value


def run_checks(host, port, stateful):
    f = Failures()
    sizes = [44, 45, 48, 100, 512, 1000, 1472]
    ssid = 0x5a5a
    for is_ptp in (False, True):
        snd = Sender(host, port, ttl=37)
        fmt = "PTP" if is_ptp else "NTP"
        for i, size in enumerate(sizes):
            seq = 1000 + i
            want = i if stateful else seq
            req = request(seq, time.time_ns(), is_ptp, ssid, size)
            one_case(f, snd, "%s %d bytes" % (fmt, size), req, is_ptp,
                     want, 37)
    snd = Sender(host, port, ttl=64)
    tails = {
        "unknown TLV gets U": tlv(0, 200, b"abcd") + tlv(0, 201, b""),
        "Extra Padding reflected as is": tlv(0, 1, bytes(20)),
        "TLV past the end gets M": tlv(0, 1, bytes(4))[:4] +
        b"\x00\x00" + tlv(0, 9, b"xy")[:3] + b"\x00\x40\x00",
        "3 stray bytes get M": b"\x07\x08\x09",
    }
    for i, (name, tail) in enumerate(tails.items()):
        req = request(5000 + i, time.time_ns(), False, 77,
                      BASE + len(tail) + (4 if i == 1 else 0), tail)
        one_case(f, snd, name, req, False, i if stateful else 5000 + i, 64)
    # Stateful: a new SSID is a new session, and the counter runs on.
    if stateful:
        for k in range(3):
            one_case(f, snd, "new session %d" % k,
                     request(9, time.time_ns(), False, 4242), False, k, 64)
    for size in (0, 1, 20, 43):
        rep, _ = snd.exchange(b"\x01" * size, wait=0.3)
        f.check("%d bytes dropped" % size, rep is None)
    one_case(f, snd, "still answers after the malformed ones",
             request(1, time.time_ns(), False, 31337), False,
             0 if stateful else 1, 64)
    return f.n


def percentile(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def probe(host, port, count, interval, src, wait, is_ptp=False):
    """COUNT probes; forward (T2-T1), backward (T4-T3) and residence
    (T3-T2) delays in ms, and with a stateful reflector the losses each
    way (RFC 8762 section 4.3: its counter counts what reached it)."""
    snd = Sender(host, port, src=src)
    fwd, bwd, res, refl_seqs = [], [], [], []
    answered = 0
    for seq in range(count):
        t1 = time.time_ns()
        rep, t4 = snd.exchange(request(seq, t1, is_ptp, 1), wait=wait)
        if rep is not None and len(rep) >= BASE:
            r = parse_reply(rep)
            t2, t3 = to_ns(r["t2"], is_ptp), to_ns(r["t3"], is_ptp)
            fwd.append((t2 - t1) / 1e6)
            bwd.append((t4 - t3) / 1e6)
            res.append((t3 - t2) / 1e3)
            refl_seqs.append((r["s_seq"], r["seq"]))
            answered += 1
        if interval:
            time.sleep(interval)
    # Up to the last answer: sent s_seq + 1, reflected seq + 1 of them.
    last_sent, last_refl = refl_seqs[-1] if refl_seqs else (-1, -1)
    out = dict(sent=count, answered=answered,
               forward_loss=last_sent - last_refl,
               backward_loss=last_refl + 1 - answered)
    for name, v in (("forward_ms", fwd), ("backward_ms", bwd),
                    ("residence_us", res)):
        if v:
            out[name] = dict(median=statistics.median(v),
                             p99=percentile(v, 99), min=min(v), max=max(v))
    return out


def burst(host, port, count):
    snd = Sender(host, port)
    for seq in range(count):
        snd.s.sendto(request(seq, time.time_ns(), False, 3), snd.dst)
    got = 0
    deadline = time.monotonic() + 1.0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([snd.s], [], [], left)[0]:
            return got
        if len(snd.s.recv(65535)) >= BASE:
            got += 1


def relay(port, target, delay_out, delay_back, loss_out, loss_back):
    """Sender -> PORT -> 127.0.0.1:TARGET and back, each way delayed by
    its own MS and dropped with its own probability (a fixed seed)."""
    import heapq
    import random
    rnd = random.Random(25)
    down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    down.bind(("127.0.0.1", port))
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.connect(("127.0.0.1", target))
    client = None
    queue = []          # (due, n, socket, data, address)
    n = 0
    print("ready", flush=True)
    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _due, _n, sock, data, addr = heapq.heappop(queue)
            if addr is None:
                sock.send(data)
            else:
                sock.sendto(data, addr)
        wait = max(0.0, queue[0][0] - now) if queue else None
        # Sleep to 1 ms before the next is due, then spin: on time to
        # some microseconds, where select() alone wakes late under load.
        if wait is not None and wait < 0.001:
            ready = select.select([down, up], [], [], 0)[0]
            if not ready:
                continue
        else:
            ready = select.select([down, up], [], [],
                                  None if wait is None else wait - 0.001)[0]
        for s in ready:
            if s is down:
                data, client = down.recvfrom(65535)
                if rnd.random() * 100 >= loss_out:
                    n += 1
                    heapq.heappush(queue, (time.monotonic() +
                                           delay_out / 1e3, n, up, data, None))
            else:
                data = up.recv(65535)
                if client and rnd.random() * 100 >= loss_back:
                    n += 1
                    heapq.heappush(queue, (time.monotonic() +
                                           delay_back / 1e3, n, down, data,
                                           client))


def opt(argv, name, default):
    return float(argv[argv.index(name) + 1]) if name in argv else default


def main(argv):
    if len(argv) >= 2 and argv[1] == "reflect":
        serve(int(argv[2]), "--stateful" in argv)
    elif len(argv) >= 4 and argv[1] == "check":
        return 1 if run_checks(argv[2], int(argv[3]),
                               "--stateful" in argv) else 0
    elif len(argv) >= 4 and argv[1] == "relay":
        relay(int(argv[2]), int(argv[3]), opt(argv, "--delay-out", 0),
              opt(argv, "--delay-back", 0), opt(argv, "--loss-out", 0),
              opt(argv, "--loss-back", 0))
    elif len(argv) >= 5 and argv[1] == "burst":
        print(burst(argv[2], int(argv[3]), int(argv[4])))
    elif len(argv) >= 5 and argv[1] == "probe":
        interval = 0.0
        src = None
        if "--interval" in argv:
            interval = float(argv[argv.index("--interval") + 1])
        if "--src-addr" in argv:
            src = argv[argv.index("--src-addr") + 1]
        print(json.dumps(probe(argv[2], int(argv[3]), int(argv[4]),
                               interval, src, opt(argv, "--wait", 0.5))))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
