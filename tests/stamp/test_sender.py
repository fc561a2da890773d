#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# tests/stamp/test_sender.py: sockecho --stamp against tests/stamp/
# ref_reflector.py (written from RFC 8762's figures) on loopback: every
# field of the test packets byte by byte, the sizes, NTP and PTP, the JSON,
# the warning when the clocks are not synchronised, forward against
# backward loss, duplicates and reordering; and the kernel timestamps of
# sockecho -p over UDP and TCP (against an echo server of its own).
# Exit 0, 1 on a failure, 77 to skip.
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOCKECHO = os.environ.get("SOCKECHO", "src/sockecho")
NTP_UNIX = 2208988800
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


class Reflector:
    def __init__(self, *args):
        self.log = tempfile.NamedTemporaryFile(delete=False).name
        self.p = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "ref_reflector.py"),
             "--log", self.log] + list(args), stdout=subprocess.PIPE,
            text=True)
        self.port = self.p.stdout.readline().split()[1]

    def requests(self):
        with open(self.log) as f:
            return [bytes.fromhex(line.strip()) for line in f if line.strip()]

    def close(self):
        self.p.kill()
        self.p.wait()
        os.unlink(self.log)


def sockecho(args, port=None, timeout=60):
    argv = [SOCKECHO] + args + ["127.0.0.1"] + ([port] if port else [])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def stamp_json(refl, *args):
    rc, out, err = sockecho(["--stamp", "-j", "-i", "0.002", "-w", "1"] +
                            list(args), refl.port)
    try:
        return rc, json.loads(out)
    except ValueError:
        check(False, "JSON does not parse: %r %r" % (out, err))
        return rc, {}


def test_fields_ntp():
    refl = Reflector()
    try:
        before = time.time()
        rc, j = stamp_json(refl, "-C", "3")
        after = time.time()
        reqs = refl.requests()
    finally:
        refl.close()
    check(rc == 0, "ntp: exit %d" % rc)
    check(len(reqs) == 3, "ntp: 3 requests, not %d" % len(reqs))
    for i, b in enumerate(reqs):
        check(len(b) == 44, "ntp: a 44-byte packet, not %d" % len(b))
        seq, sec, frac, err, ssid = struct.unpack("!IIIHH", b[0:16])
        check(seq == i, "ntp: sequence %d, not %d" % (i, seq))
        t = sec - NTP_UNIX + frac / 2**32
        check(before - 1 <= t <= after + 1,
              "ntp: timestamp %f outside [%f, %f]" % (t, before, after))
        check(not err & 0x4000, "ntp: Z set without --ptp")
        check(bool(err & 0x8000) == j.get("sender_synchronised"),
              "ntp: S bit %x against sender_synchronised" % err)
        check(err & 0xff != 0, "ntp: Error Estimate multiplier 0")
        check(ssid == j.get("ssid") and ssid != 0,
              "ntp: SSID %d, JSON %r" % (ssid, j.get("ssid")))
        check(b[16:] == bytes(28), "ntp: MBZ bytes not zero")
    check(j.get("protocol") == "stamp" and j.get("style") == "ntp",
          "ntp: protocol/style")


def test_fields_ptp():
    refl = Reflector()
    try:
        before = time.time()
        rc, j = stamp_json(refl, "-C", "2", "--ptp")
        after = time.time()
        reqs = refl.requests()
    finally:
        refl.close()
    check(rc == 0 and j.get("style") == "ptp", "ptp: exit %d" % rc)
    for b in reqs:
        sec, ns, err = struct.unpack("!IIH", b[4:14])
        check(err & 0x4000, "ptp: Z bit not set")
        check(ns < 10**9, "ptp: nanoseconds %d" % ns)
        # PTP is TAI: up to 37 s ahead of UTC (adjtimex's offset).
        check(before - 1 <= sec + ns / 1e9 <= after + 38,
              "ptp: timestamp %d.%09d" % (sec, ns))
    check(j.get("received") == 2, "ptp: the replies read back")


def test_sizes():
    for size in (44, 45, 100, 1472):
        refl = Reflector()
        try:
            rc, j = stamp_json(refl, "-C", "1", "-s", str(size))
            reqs = refl.requests()
        finally:
            refl.close()
        check(rc == 0 and j.get("received") == 1 and j.get("size") == size,
              "size %d: exit %d, %r" % (size, rc, j.get("received")))
        check([len(b) for b in reqs] == [size],
              "size %d: sent %r" % (size, [len(b) for b in reqs]))
        check(all(b[16:] == bytes(size - 16) for b in reqs),
              "size %d: padding not zero" % size)
    for size in ("43", "1473"):
        rc, out, err = sockecho(["--stamp", "-s", size], "9")
        check(rc == 64 and "44 to 1472" in err, "size %s accepted" % size)


def test_text_and_ttl():
    refl = Reflector()
    try:
        rc, out, err = sockecho(["--stamp", "-C", "2", "-i", "0.002"],
                                refl.port)
    finally:
        refl.close()
    check(rc == 0, "text: exit %d %s" % (rc, err))
    check(out.count("ttl=255") == 2, "text: ttl=255 twice:\n" + out)
    for w in ("seq=0 ", "seq=1 ", "fwd=", "back=", "res=", "STAMP statistics",
              "loss: forward 0, backward 0", "residence min/avg/max/mdev"):
        check(w in out, "text: no %r in\n%s" % (w, out))


def test_json_fields():
    refl = Reflector()
    try:
        rc, j = stamp_json(refl, "-C", "100", "--stateful")
    finally:
        refl.close()
    check(rc == 0 and j.get("received") == 100, "json: 100 back")
    for k in ("rtt_ms", "forward_ms", "backward_ms", "residence_ms"):
        d = j.get(k) or {}
        for f in ("min", "avg", "max", "mdev", "p50", "p90", "p99"):
            check(isinstance(d.get(f), float), "json: %s.%s" % (k, f))
    res = j.get("residence_ms") or {}
    check(0 <= res.get("min", -1) <= res.get("max", -1) < 1000,
          "json: residence %r" % res)
    check(j.get("reflector_stateful") is True, "json: --stateful")
    check(j.get("kernel_timestamps", {}).get("enabled") is True,
          "json: kernel timestamps on")
    check(j.get("timestamps") in ("kernel", "mixed"),
          "json: timestamps %r" % j.get("timestamps"))
    check(j.get("client_delay_ms") is not None, "json: client delay")


def test_unsync():
    refl = Reflector("--unsync")
    try:
        rc, j = stamp_json(refl, "-C", "3")
        rc2, out, err = sockecho(["--stamp", "-q", "-C", "2", "-i", "0.002"],
                                 refl.port)
    finally:
        refl.close()
    check(j.get("synchronised") is False and
          j.get("reflector_unsynchronised") == 3, "unsync: S bit clear")
    check("WARNING: the clocks are not synchronised" in out and
          "forward offset" in out and "backward offset" in out,
          "unsync: warning and offsets in\n" + out)
    refl = Reflector("--offset", "-5")
    try:
        rc, j = stamp_json(refl, "-C", "3")
    finally:
        refl.close()
    check(j.get("negative_one_way") == 3 and j.get("synchronised") is False,
          "offset: a negative forward delay, %r" % j.get("negative_one_way"))
    check((j.get("forward_ms") or {}).get("max", 0) < -4000,
          "offset: forward offset %r" % j.get("forward_ms"))


def test_loss_direction():
    refl = Reflector("--drop-before", "3")
    try:
        rc, j = stamp_json(refl, "-C", "10", "-w", "0.3")
    finally:
        refl.close()
    check((j.get("lost"), j.get("lost_forward"), j.get("lost_backward"),
           j.get("lost_either")) == (3, 3, 0, 0),
          "forward loss: %r" % [j.get(k) for k in
                                ("lost", "lost_forward", "lost_backward",
                                 "lost_either")])
    check(j.get("reflector_stateful") is True, "forward loss: stateful seen")
    refl = Reflector("--drop-after", "3")
    try:
        rc, j = stamp_json(refl, "-C", "10", "-w", "0.3", "--stateful")
    finally:
        refl.close()
    check((j.get("lost"), j.get("lost_forward"), j.get("lost_backward"),
           j.get("lost_either")) == (3, 0, 3, 0),
          "backward loss: %r" % [j.get(k) for k in
                                 ("lost", "lost_forward", "lost_backward",
                                  "lost_either")])
    refl = Reflector("--drop-after", "3", "--stateless")
    try:
        rc, j = stamp_json(refl, "-C", "10", "-w", "0.3")
    finally:
        refl.close()
    check((j.get("lost"), j.get("lost_either")) == (3, 3) and
          j.get("reflector_stateful") is False,
          "stateless: direction unknown %r" % j)


def test_dup_reorder():
    refl = Reflector("--dup", "4")
    try:
        rc, j = stamp_json(refl, "-C", "8")
    finally:
        refl.close()
    check(j.get("duplicates") == 1 and j.get("received") == 8,
          "dup: %r" % j.get("duplicates"))
    refl = Reflector("--hold", "4")
    try:
        rc, j = stamp_json(refl, "-C", "8")
    finally:
        refl.close()
    check(j.get("reordered") == 1 and j.get("received") == 8 and
          j.get("lost") == 0, "reorder: %r" % j.get("reordered"))


class Echo:
    def __init__(self):
        self.t = socket.socket()
        self.t.bind(("127.0.0.1", 0))
        self.t.listen(8)
        self.port = str(self.t.getsockname()[1])
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.bind(("127.0.0.1", int(self.port)))
        threading.Thread(target=self.udp, daemon=True).start()
        threading.Thread(target=self.tcp, daemon=True).start()

    def udp(self):
        while True:
            d, a = self.u.recvfrom(70000)
            self.u.sendto(d, a)

    def tcp(self):
        while True:
            c, _ = self.t.accept()
            threading.Thread(target=self.conn, args=(c,), daemon=True).start()

    def conn(self, c):
        while True:
            d = c.recv(65536)
            if not d:
                c.close()
                return
            c.sendall(d)


def test_ping_kernel_timestamps():
    e = Echo()
    for style in (["-u"], [], ["-N"]):
        rc, out, err = sockecho(["-p", "-j", "-C", "20", "-i", "0.002"] +
                                style, e.port)
        j = json.loads(out)
        k = j.get("kernel_timestamps", {})
        check(rc == 0 and k.get("enabled") is True and k.get("both", 0) >= 15,
              "ping %r: kernel stamps %r" % (style, k))
        check(j.get("timestamps") in ("kernel", "mixed"),
              "ping %r: timestamps %r" % (style, j.get("timestamps")))
        cd = j.get("client_delay_ms") or {}
        check(cd.get("min", -1) >= 0, "ping %r: client delay %r" % (style, cd))
        u = j.get("rtt_user_ms") or {}
        check(u.get("max", 0) >= j["rtt_ms"]["min"],
              "ping %r: user rtt %r" % (style, u))
        if j.get("timestamps") == "kernel":
            # Every round trip timed both ways: ours less the kernel's.
            want = u.get("avg", 0) - j["rtt_ms"]["avg"]
            check(abs(cd.get("avg", -1) - want) < 0.0005,
                  "ping %r: client delay %r is not user %r less kernel %r" %
                  (style, cd.get("avg"), u.get("avg"), j["rtt_ms"]["avg"]))
        rc, out, err = sockecho(["-p", "-C", "3", "-i", "0.002"] + style,
                                e.port)
        check("sched=" in out and "client delay min/avg/max/mdev" in out,
              "ping %r: client delay shown\n%s" % (style, out))


def test_ping_unix_falls_back():
    d = tempfile.mkdtemp()
    path = os.path.join(d, "s")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1)

    def serve():
        c, _ = s.accept()
        while True:
            b = c.recv(65536)
            if not b:
                return
            c.sendall(b)
    threading.Thread(target=serve, daemon=True).start()
    r = subprocess.run([SOCKECHO, "-p", "-j", "-C", "2", "-i", "0.002",
                        "unix:" + path], capture_output=True, text=True,
                       timeout=30)
    j = json.loads(r.stdout)
    k = j.get("kernel_timestamps", {})
    check(j.get("timestamps") == "user" and k.get("enabled") is False and
          k.get("error"), "unix: fallback said %r" % k)
    os.unlink(path)
    os.rmdir(d)


def main():
    if not os.access(SOCKECHO, os.X_OK):
        print("no sockecho at", SOCKECHO)
        return 77
    for t in (test_fields_ntp, test_fields_ptp, test_sizes, test_text_and_ttl,
              test_json_fields, test_unsync, test_loss_direction,
              test_dup_reorder, test_ping_kernel_timestamps,
              test_ping_unix_falls_back):
        print("--", t.__name__, flush=True)
        t()
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
