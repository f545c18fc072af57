"""Packets per second of p4src/fabric.p4 on the built-in switch core (one CPU, no I/O), per
routing mode and with INT insertion; prints a table (no assertions: a benchmark).

    .venv/bin/python bench/fabric_pps.py [--packets 5000] [--program p4src/fabric.p4]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "stf" / "fabric"))

from gen_fabric_stf import H1, REMOTE, ROCE_PORT, SETUP, udp_pkt  # noqa: E402

from fabriclab.p4 import compile_file  # noqa: E402
from fabriclab.switch.core import SwitchCore  # noqa: E402
from fabriclab.switch.stf import run_stf  # noqa: E402

CASES = {
    "ecmp": "",
    "flowlet": "setdefault routing_mode set_mode(mode:1, flowlet_gap:1000, load_max_age:1000)",
    "adaptive": "setdefault routing_mode set_mode(mode:2, flowlet_gap:0, load_max_age:1000)",
    "ecmp+INT source": ("add int_watchlist 10 hdr.ipv4.srcAddr:0x0a000101&&&0xffffffff "
                        "int_watch()\nsetdefault int_config int_configure(switch_id:3, "
                        "report_src_ip:1, collector_ip:2, collector_port:32766)"),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packets", type=int, default=5000)
    parser.add_argument("--program", type=pathlib.Path, default=REPO / "p4src" / "fabric.p4")
    args = parser.parse_args()
    program = compile_file(args.program)
    packets = [bytes(udp_pkt(H1[0], REMOTE, 49152 + i % 64, dport=ROCE_PORT))
               for i in range(args.packets)]
    print(f"fabric.p4 on SwitchCore.process, {args.packets} UDP packets of {len(packets[0])} B, "
          "64 flows, ingress port 1 -> ECMP group {3, 4}")
    for name, extra in CASES.items():
        core = SwitchCore(program)
        result = run_stf(core, SETUP + extra + "\n")
        assert result.ok, result.failures
        start = time.perf_counter()
        sent = 0
        for i, data in enumerate(packets):
            sent += len(core.process(1, data, i * 10))
        elapsed = time.perf_counter() - start
        print(f"  {name:<16} {args.packets / elapsed:9.0f} pkt/s  ({sent} sent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
