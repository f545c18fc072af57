"""`python -m fabriclab.labs.traffic`: paced UDP flows for the labs' Mininet runs.

Run inside a Mininet host (`h1 python -m fabriclab.labs.traffic --dst 10.0.2.1 ...`):
`--flows` flows that differ only in their UDP source port (sport, sport+1, ...), packets
sent round-robin over the flows at `--pps` packets per second in total, with the IPv4 TOS
byte `--tos` (2 = ECT(0), for ECN). Nothing listens on the far side: the packets are
counted in the switches' pcaps.
"""

from __future__ import annotations

import argparse
import socket
import time

DPORT = 5000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fabriclab.labs.traffic")
    parser.add_argument("--dst", required=True, help="destination IPv4 address")
    parser.add_argument("--flows", type=int, default=1)
    parser.add_argument("--packets", type=int, default=20, help="packets per flow")
    parser.add_argument("--pps", type=float, default=200.0, help="packets/s over all flows")
    parser.add_argument("--sport", type=int, default=49152, help="first flow's source port")
    parser.add_argument("--tos", type=int, default=0, help="IPv4 TOS byte (2 = ECT(0))")
    parser.add_argument("--size", type=int, default=100, help="UDP payload bytes")
    args = parser.parse_args(argv)
    socks = []
    for i in range(args.flows):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, args.tos)
        sock.bind(("0.0.0.0", args.sport + i))
        socks.append(sock)
    payload = b"fabriclab-lab".ljust(args.size, b".")
    gap = 1.0 / args.pps
    start = time.monotonic()
    sent = 0
    for _ in range(args.packets):
        for sock in socks:
            sock.sendto(payload, (args.dst, DPORT))
            sent += 1
            delay = start + sent * gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    for sock in socks:
        sock.close()
    print(f"sent {sent} packets in {args.flows} flow(s) to {args.dst}:{DPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
