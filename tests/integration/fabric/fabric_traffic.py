"""UDP traffic for the fabric acceptance tests, run inside Mininet hosts:

    python fabric_traffic.py send DST DPORT --sports 49152-49167 --rate 400 --duration 2
    python fabric_traffic.py recv BIND DPORT --duration 3      (prints one JSON line)

`send` round-robins over the source ports at a fixed packet rate, optionally in bursts
separated by idle gaps, with a chosen TOS (ECT(0) = 2); each payload carries a sequence
number. `recv` reports how many packets arrived, how many carried CE, the sequence
numbers of the first CE and of the last packet, and when the last one arrived.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import time


def parse_ports(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def send(args: argparse.Namespace) -> dict:
    socks = []
    for sport in parse_ports(args.sports):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, args.tos)
        s.bind(("0.0.0.0", sport))
        socks.append(s)
    pad = b"\x00" * max(0, args.size - 12)
    interval = 1.0 / args.rate
    seq = 0
    for burst in range(args.bursts):
        if burst:
            time.sleep(args.gap)
        start = time.monotonic()
        n = int(args.duration * args.rate)
        for i in range(n):
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            socks[seq % len(socks)].sendto(struct.pack("!Qd", seq, time.time()) + pad,
                                           (args.dst, args.dport))
            seq += 1
    return {"sent": seq}


def recv(args: argparse.Namespace) -> dict:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    s.bind((args.bind, args.dport))
    s.settimeout(0.2)
    print("ready", flush=True)
    out = {"received": 0, "ce": 0, "first_ce_seq": None, "last_seq": None, "last_time": None,
           "sports": {}}
    end = time.monotonic() + args.duration
    while time.monotonic() < end:
        try:
            data, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(4))
        except socket.timeout:
            continue
        seq = struct.unpack_from("!Q", data)[0]
        tos = next((c[2][0] for c in anc if c[0] == socket.IPPROTO_IP), 0)
        out["received"] += 1
        out["sports"][str(addr[1])] = out["sports"].get(str(addr[1]), 0) + 1
        if tos & 3 == 3:
            out["ce"] += 1
            if out["first_ce_seq"] is None:
                out["first_ce_seq"] = seq
        out["last_seq"], out["last_time"] = seq, time.time()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    snd = sub.add_parser("send")
    snd.add_argument("dst")
    snd.add_argument("dport", type=int)
    snd.add_argument("--sports", default="49152")
    snd.add_argument("--rate", type=float, default=100.0, help="packets per second")
    snd.add_argument("--duration", type=float, default=1.0, help="seconds per burst")
    snd.add_argument("--bursts", type=int, default=1)
    snd.add_argument("--gap", type=float, default=0.0, help="idle seconds between bursts")
    snd.add_argument("--tos", type=int, default=0)
    snd.add_argument("--size", type=int, default=200, help="UDP payload bytes")
    rcv = sub.add_parser("recv")
    rcv.add_argument("bind")
    rcv.add_argument("dport", type=int)
    rcv.add_argument("--duration", type=float, default=3.0)
    args = parser.parse_args(argv)
    print(json.dumps(send(args) if args.cmd == "send" else recv(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
