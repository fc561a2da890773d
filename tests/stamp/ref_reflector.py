#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# tests/stamp/ref_reflector.py: a STAMP Session-Reflector written from RFC
# 8762's figures 3 and 4 (unauthenticated) and RFC 8972 section 4.1 (SSID),
# not from sockecho's code, to test sockecho --stamp against. Prints
# "PORT n" once bound on 127.0.0.1, then reflects until killed.
# Options: --stateless, --unsync (S bit clear), --offset SECONDS (its clock
# off by so much), --drop-before N / --drop-after N (drop every Nth packet
# before / after counting it), --dup K (reflect packet K twice),
# --hold K (answer packet K after packet K+1), --log FILE (each request's
# bytes in hex, one a line).
import argparse
import socket
import struct
import sys
import time

NTP_UNIX = 2208988800


def ntp(t):
    sec = int(t)
    frac = int((t - sec) * (1 << 32)) & 0xffffffff
    return struct.pack("!II", sec + NTP_UNIX, frac)


def ptp(t):
    sec = int(t)
    return struct.pack("!II", sec, int((t - sec) * 1e9))


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--stateless", action="store_true")
    a.add_argument("--unsync", action="store_true")
    a.add_argument("--offset", type=float, default=0.0)
    a.add_argument("--drop-before", type=int, default=0)
    a.add_argument("--drop-after", type=int, default=0)
    a.add_argument("--dup", type=int, default=-1)
    a.add_argument("--hold", type=int, default=-1)
    a.add_argument("--log")
    o = a.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVTTL", 12), 1)
    s.bind(("127.0.0.1", 0))
    print("PORT", s.getsockname()[1], flush=True)
    log = open(o.log, "w") if o.log else None
    count = {}     # the stateful reflector's numbers, per session
    seen = 0       # every packet, for the drops
    held = None
    while True:
        data, anc, _, peer = s.recvmsg(65536, 64)
        t2 = time.time() + o.offset
        ttl = 0
        for lvl, typ, val in anc:
            if lvl == socket.IPPROTO_IP and typ == socket.IP_TTL:
                ttl = struct.unpack("i", val)[0]
        if log:
            log.write(data.hex() + "\n")
            log.flush()
        if len(data) < 44:
            continue
        seen += 1
        if o.drop_before and seen % o.drop_before == 0:
            continue
        # Figure 3: Sequence Number, Timestamp, Error Estimate, SSID, MBZ.
        sseq, sts, serr, ssid = struct.unpack("!I8sHH", data[0:16])
        key = (peer, ssid)
        n = count.get(key, 0)
        count[key] = n + 1
        rseq = sseq if o.stateless else n
        if o.drop_after and (n + 1) % o.drop_after == 0:
            continue
        z = serr & 0x4000
        fmt = ptp if z else ntp
        err = (0 if o.unsync else 0x8000) | z | 0x0001
        t3 = time.time() + o.offset
        # Figure 4: reflected packet, as long as the request.
        out = (struct.pack("!I", rseq) + fmt(t3) + struct.pack("!HH", err, ssid)
               + fmt(t2) + struct.pack("!I", sseq) + sts
               + struct.pack("!HH", serr, 0) + struct.pack("!B3x", ttl))
        out += bytes(len(data) - len(out))
        k = sseq
        if k == o.hold:
            held = (out, peer)
            continue
        s.sendto(out, peer)
        if k == o.dup:
            s.sendto(out, peer)
        if held is not None and k == o.hold + 1:
            s.sendto(*held)
            held = None


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
