"""Packets per second of p4src/fabric.p4 on the built-in switch core (one CPU, no I/O), per
routing mode and with INT: inserted (the first switch of a watched flow) or carried (every
switch after it pushes its hop record); prints a table (no assertions: a benchmark).

Rates per wall-clock second and per CPU second of this process (the second is steadier on
a shared machine), best of `--repeat` rounds; a round runs basic.p4 then every case, so
each gets its chances at the machine's quiet moments. The last column is basic.p4's
CPU-second rate on the same core path (bench/switch_pps.py's routes and frames) divided by
the case's: issue 24's goal is 2x or less. `--bytecodes` adds the Python
bytecodes executed per packet (traced, so slow; after a first untraced pass, so per-flow
caches are warm as in the timed rounds), the generated stages' shares of them and each
case's bytecodes over basic.p4's: figures that do not depend on the machine's load at all.

    .venv/bin/python bench/fabric_pps.py [--packets 5000] [--repeat 3] [--program p4src/fabric.p4]
        [--bytecodes] [--profile N]

`--profile N` ends with cProfile's N costliest functions (own CPU time) on the adaptive case.
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "stf" / "fabric"), str(REPO / "bench")]

from gen_fabric_stf import H1, REMOTE, ROCE_PORT, SETUP, bth, hop, udp_pkt, with_int  # noqa: E402

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
    # packets that arrive with INT (one hop already recorded): this switch pushes its record
    "ecmp+INT transit": ("setdefault int_config int_configure(switch_id:3, report_src_ip:1, "
                         "collector_ip:2, collector_port:32766)"),
}


def case_packets(case: str, n: int) -> list[bytes]:
    """The `n` packets a case forwards: RoCE over UDP from 64 source ports (with INT for
    the transit case)."""
    if case == "ecmp+INT transit":
        return [bytes(with_int(H1[0], REMOTE, 49152 + i % 64, ROCE_PORT, [hop(7, 1, 2)], bth()))
                for i in range(n)]
    return [bytes(udp_pkt(H1[0], REMOTE, 49152 + i % 64, dport=ROCE_PORT)) for i in range(n)]


def bytecodes(core: SwitchCore, packets: list[bytes]) -> tuple[float, str]:
    """Mean bytecodes executed per SwitchCore.process call (opcode tracing) and a text with
    the generated stages' shares: where a program's cost is, independent of the machine."""
    from switch_pps import opcode_counts

    def run() -> None:
        for i, data in enumerate(packets):
            core.process(1, data, i * 10)

    run()  # the packets are run once first: per-flow caches warm, as in the timed rounds
    counts = opcode_counts(run)
    n = len(packets)
    by_stage = collections.Counter({name.rsplit(":", 1)[1]: k for name, k in counts.items()
                                    if name.startswith("<fabriclab pipeline")})
    stages = " ".join(f"{name} {by_stage[name] / n:.0f}"
                      for name in ("run_ingress", "egress", "finish") if by_stage[name])
    total = sum(k for name, k in counts.items() if not name.startswith("fabric_pps.py:")) / n
    return total, f"{total:6.0f} bytecodes/pkt ({stages})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packets", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best counts")
    parser.add_argument("--program", type=pathlib.Path, default=REPO / "p4src" / "fabric.p4")
    parser.add_argument("--bytecodes", action="store_true",
                        help="also count the bytecodes each packet executes (slow)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="then print the adaptive case's N costliest functions (cProfile)")
    args = parser.parse_args()
    program = compile_file(args.program)
    packets = {name: case_packets(name, args.packets) for name in CASES}
    print(f"load average {open('/proc/loadavg').read().split()[0]}")
    from switch_pps import build_core, frames

    basic_core, basic_frames = build_core(str(REPO / "p4src" / "basic.p4")), frames(256)
    cores = {}
    for name, extra in CASES.items():
        core = cores[name] = SwitchCore(program)
        result = run_stf(core, SETUP + extra + "\n")
        assert result.ok, result.failures
    # Rounds: basic.p4 then every case, `repeat` times over; each keeps its best run. On a
    # busy machine every case gets a chance at each quiet moment, the ratios stay comparable.
    wall = dict.fromkeys(["basic", *cores], float("inf"))
    cpu, sent = dict(wall), dict.fromkeys(cores, 0)
    for r in range(args.repeat):
        start, cpu0 = time.perf_counter(), time.process_time()
        for i in range(args.packets):
            basic_core.process(1, basic_frames[i & 255], i)
        wall["basic"] = min(wall["basic"], time.perf_counter() - start)
        cpu["basic"] = min(cpu["basic"], time.process_time() - cpu0)
        for name, core in cores.items():
            start, cpu0 = time.perf_counter(), time.process_time()
            out = 0
            for i, data in enumerate(packets[name]):
                out += len(core.process(1, data, (r * args.packets + i) * 10))
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - cpu0)
            sent[name] = out
    basic = args.packets / cpu["basic"]
    extra, basic_codes = "", 0.0
    if args.bytecodes:
        basic_codes, text = bytecodes(basic_core, [basic_frames[i & 255] for i in range(200)])
        extra = "  " + text
    print(f"basic.p4 (bench/switch_pps.py core path): {args.packets / wall['basic']:9.0f} pkt/s  "
          f"{basic:9.0f} pkt/CPU-s{extra}")
    print(f"fabric.p4 on SwitchCore.process, {args.packets} RoCE packets ({len(packets['ecmp'][0])} B; "
          f"{len(packets['ecmp+INT transit'][0])} B with INT), 64 flows, ingress port 1 -> ECMP group {{3, 4}}")
    for name, core in cores.items():
        extra = ""
        if args.bytecodes:  # the ratio of bytecodes: issue 24's goal by a load-free figure
            codes, text = bytecodes(core, packets[name][:200])
            extra = f"  {text}  ratio {codes / basic_codes:4.2f}"
        print(f"  {name:<16} {args.packets / wall[name]:9.0f} pkt/s  "
              f"{args.packets / cpu[name]:9.0f} pkt/CPU-s  basic/this "
              f"{basic * cpu[name] / args.packets:4.2f}  ({sent[name]} sent){extra}")
    if args.profile:
        profile(program, packets["adaptive"], args.profile)
    return 0


def profile(program, packets: list[bytes], top: int) -> None:
    """cProfile of the adaptive case: the functions with the most own time."""
    import cProfile
    import pstats

    core = SwitchCore(program)
    assert run_stf(core, SETUP + CASES["adaptive"] + "\n").ok
    prof = cProfile.Profile(time.process_time)  # CPU time: other processes' load is left out
    prof.enable()
    for i, data in enumerate(packets):
        core.process(1, data, i * 10)
    prof.disable()
    print(f"adaptive, cProfile, {len(packets)} packets (own CPU time; profiling slows every call):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    sys.exit(main())
