"""CPU per packet of the real-time host stack: RoCE engine + UDP driver + agent loop (issue 24).

N rank agents (the real `fabriclab.launch.agent` round: bind, "bound", "go", run) on loopback
addresses 127.0.0.1..N, one process each, run a collective paced at --rate; each reports the
CPU seconds its process spent from "go" to done and its NIC's packet counters. Prints CPU
microseconds per packet (sent + received) and packets per CPU second, per rank and in all,
with the load average. No switch and no root: what a host costs, not what a fabric carries.
`--profile` runs rank 0 under cProfile and prints its top functions (by own time);
`--agents` picks the layouts measured: one agent process per rank (per-host), all ranks in
one agent process on one event loop (shared, what `fabriclab collective --agents shared`
runs), or both, side by side (each wake-up of a process costs more than the packet it
handles at tens of Mb/s). `--one-process` is `--agents both`.

Run: .venv/bin/python bench/host_driver.py [--ranks 4] [--rate 100M] [--size 1M] [--pmtu 1024]
     [--kind alltoall] [--repeat 3] [--profile] [--agents per-host|shared|both]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fabriclab.launch import agent  # noqa: E402
from fabriclab.launch.lockstep import Lockstep  # noqa: E402
from fabriclab.launch.placement import here  # noqa: E402
from fabriclab.roce.collectives import CollectiveSpec  # noqa: E402
from fabriclab.roce.runs import RunOptions  # noqa: E402
from fabriclab.units import parse_bitrate, parse_size  # noqa: E402

PORT = 4791


def child(argv: list[str]) -> int:
    """One rank: the agent's round (which reports its CPU from "go" to done), timed and
    profiled from "go" to done."""
    profile = "--profile" in argv
    argv = [a for a in argv if a != "--profile"]
    real_wait_go = agent.wait_go
    marks: dict[str, float] = {}
    prof = cProfile.Profile(time.process_time) if profile else None  # CPU time: waits left out
    gc_time = [0.0, 0.0, 0]  # CPU in the cyclic garbage collector: total, start of the current pass, passes

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_time[1] = time.process_time()
        else:
            gc_time[0] += time.process_time() - gc_time[1]
            gc_time[2] += 1

    gc.callbacks.append(on_gc)

    def wait_go() -> None:
        real_wait_go()
        marks["wall"] = time.monotonic()
        gc_time[0] = gc_time[2] = 0
        if prof:
            prof.enable()

    def answer(summary: dict) -> None:
        if prof:
            prof.disable()
        summary["wall_s"] = time.monotonic() - marks["wall"]
        summary["gc_s"], summary["gc_passes"] = gc_time[0], gc_time[2]
        if prof:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(os.environ.get("HOST_DRIVER_SORT", "tottime")).print_stats(25)
            summary["profile"] = out.getvalue()
        agent.reply(summary)

    def run_round(job: dict, seats: list[agent.Seat], peers: agent.Peers) -> None:
        agent.run_job(agent.collective, job, seats, peers, answer)

    agent.wait_go = wait_go  # run_job looks it up at call time
    return agent.serve_rounds(run_round, argv, prog="host_driver child", shared=True)


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, default=4)
    p.add_argument("--rate", default="100M", help="NIC rate, bit/s (pacing)")
    p.add_argument("--size", default="1M")
    p.add_argument("--pmtu", type=int, default=1024)
    p.add_argument("--kind", default="alltoall")
    p.add_argument("--iters", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3, help="rounds; the best (least CPU per packet) is reported")
    p.add_argument("--profile", action="store_true", help="cProfile rank 0's process and print its top 25")
    p.add_argument("--agents", choices=("per-host", "shared", "both"), default="per-host",
                   help="one agent process per rank, all ranks in one, or both side by side")
    p.add_argument("--one-process", action="store_true", help="the same as --agents both")
    args = p.parse_args()
    rate = parse_bitrate(args.rate, "--rate")
    spec = CollectiveSpec(args.kind, args.ranks, parse_size(args.size, "--size"))
    opts = RunOptions(iters=args.iters, warmup=0, line_rate=rate, pmtu=args.pmtu, mode="ooo")
    addrs = [(f"127.0.0.{i + 1}", PORT) for i in range(args.ranks)]
    print(f"host stack on loopback: {args.ranks} ranks, {args.kind} of {args.size}, {args.rate}b/s "
          f"NICs, PMTU {args.pmtu}; load average {loadavg()} on {os.cpu_count()} CPUs", flush=True)
    layouts = ("per-host", "shared") if args.one_process or args.agents == "both" else (args.agents,)
    bests = {layout: measure(layout, spec, opts, addrs, args.repeat, args.profile) for layout in layouts}
    if len(bests) > 1 and all(bests.values()):
        per, one = bests["per-host"], bests["shared"]
        print(f"one process for all {args.ranks} ranks: {1e6 * one:.1f} us CPU per packet against "
              f"{1e6 * per:.1f} with a process per rank ({per / one:.2f}x)   [load {loadavg()}]", flush=True)
    return 0 if all(bests.values()) else 1


def measure(layout: str, spec: CollectiveSpec, opts: RunOptions, addrs: list[tuple[str, int]],
            repeat: int, profile: bool) -> float | None:
    """`repeat` rounds of the real agents in `layout`; prints each, then the best round's
    ranks; returns its CPU seconds per packet (None if every round failed)."""
    n = len(addrs)
    peers = ",".join(f"{ip}:{port}" for ip, port in addrs)
    child_argv = [sys.executable, __file__, "--child", "--peers", peers]
    if layout == "shared":
        argvs = [[*child_argv, "--me", ",".join(map(str, range(n)))] + (["--profile"] if profile else [])]
        spawns, answers = [here], [n]
    else:
        argvs = [[*child_argv, "--me", str(i)] + (["--profile"] if profile and i == 0 else []) for i in range(n)]
        spawns, answers = [here] * n, None
    print(f"{layout}: {len(argvs)} agent process{'es' if len(argvs) > 1 else ''}", flush=True)
    best = None
    with Lockstep(spawns, argvs, 60, what="rank", answers=answers) as ranks:
        for _ in range(repeat):
            results = ranks.round([agent.collective_job(spec, opts, 120.0)] * len(argvs), 180)
            bad = [r.get("error") for r in results if r.get("error") or not r.get("done")]
            if bad:
                print(f"  round failed: {bad}", flush=True)
                continue
            cpu = sum(r["cpu_s"] for r in results)
            pkts = sum(r["nic"]["tx_packets"] + r["nic"]["rx_packets"] for r in results)
            wall = max(r["wall_s"] for r in results)
            retx = sum(r["qp"]["retransmissions"] for r in results)
            print(f"  {pkts} packets (tx+rx) in {wall:.2f} s wall, {cpu:.2f} CPU-s: "
                  f"{1e6 * cpu / pkts:.1f} us/packet, {pkts / cpu:,.0f} packets per CPU-s, "
                  f"{pkts / wall:,.0f} per wall-s; resends {retx}, wrong {sum(r['wrong'] for r in results)}"
                  f"   [load {loadavg()}]", flush=True)
            if best is None or cpu / pkts < best[0]:
                best = (cpu / pkts, results)
    if best is None:
        return None
    print(f"  best: {1e6 * best[0]:.1f} us CPU per packet (tx+rx), {1 / best[0]:,.0f} packets per CPU-s", flush=True)
    for r in best[1]:
        k = r["nic"]["tx_packets"] + r["nic"]["rx_packets"]
        print(f"    rank {r['rank']}: tx {r['nic']['tx_packets']} rx {r['nic']['rx_packets']}, "
              f"{r['cpu_s']:.3f} CPU-s{' (its share)' if layout == 'shared' else ''}, "
              f"{1e6 * r['cpu_s'] / k:.1f} us/packet; garbage collector "
              f"{r['gc_passes']} passes, {1e3 * r['gc_s']:.1f} ms{' (the process)' if layout == 'shared' else ''}",
              flush=True)
    if "profile" in best[1][0]:
        print(best[1][0]["profile"])
    return best[0]


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
