"""Packets per second through SwitchCore.process for basic IPv4 LPM forwarding (one core).

Run: .venv/bin/python bench/bench_switch_pipeline.py [--packets N] [--routes N]
Prints the figure; never asserts on time.
"""

from __future__ import annotations

import argparse
import pathlib
import time

from fabriclab.p4 import compile_file
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.tables import Lpm

REPO = pathlib.Path(__file__).resolve().parent.parent


def build(routes: int) -> SwitchCore:
    core = SwitchCore(compile_file(REPO / "p4src" / "basic.p4"))
    table = core.tables["MyIngress.ipv4_lpm"]
    for i in range(routes):
        plen = (8, 16, 24, 32)[i % 4]
        value = (0x0A000000 | (i << 8)) & ((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF)
        try:
            table.insert({"hdr.ipv4.dstAddr": Lpm(value, plen)},
                         table.action_call("MyIngress.ipv4_forward",
                                           {"dstAddr": 0x020000000000 + i, "port": 1 + i % 8}))
        except Exception:
            pass  # duplicate prefixes from the synthetic pattern
    return core


def packet(dst: int) -> bytes:
    eth = bytes.fromhex("000000000001" "00000000000a" "0800")
    ip = bytes.fromhex("45000054" "00000000" "4011" "0000" "0a000009") + dst.to_bytes(4, "big")
    return eth + ip + bytes(64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--packets", type=int, default=100_000)
    ap.add_argument("--routes", type=int, default=1000)
    args = ap.parse_args()
    core = build(args.routes)
    pkts = [packet(0x0A000000 | ((i * 7919) & 0xFFFFFF)) for i in range(1024)]
    process = core.process
    sent = 0
    start = time.perf_counter()
    for i in range(args.packets):
        sent += len(process(0, pkts[i & 1023], i))
    elapsed = time.perf_counter() - start
    print(f"basic.p4 LPM forwarding, {args.routes} routes: {args.packets / elapsed:,.0f} packets/s "
          f"through SwitchCore.process ({sent} forwarded, {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
