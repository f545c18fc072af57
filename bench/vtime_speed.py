"""Speed of the virtual-time fabric: fabric.p4 in adaptive mode on a 100 Gb/s leaf-spine,
one ring all-reduce over every host, run for a fixed stretch of simulated time.

Prints, per size (8, 32, 128 hosts): build time (pipeline codegen per switch + controller
install), packet-hops (frames that crossed a link) per wall second and per CPU second (the
one-core figure on a shared machine), wall seconds per simulated millisecond and the peak
memory of the process that ran it (each size runs in a fresh process so peaks do not mix).
A benchmark: no assertions. Goals (issue 13): >= 25,000 packet-hops/s on one core, 128
hosts < 2 GiB.

Run: .venv/bin/python bench/vtime_speed.py [--sizes 8,32,128] [--chunk 16384] [--sim-us 50] [--profile]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

# hosts -> (leaves, spines, hosts per leaf)
SHAPES = {8: (2, 2, 4), 32: (4, 4, 8), 128: (8, 8, 16)}


def one(hosts: int, chunk: int, sim_us: int, profile: bool) -> dict:
    from controller.fabric_plan import FabricConfig, Mode
    from fabriclab.roce.collectives import CollectiveSpec
    from fabriclab.roce.runs import RunOptions
    from fabriclab.vtime.fabric import Fabric, FabricOptions
    from fabriclab.vtime.runs import run_collective
    from topologies.builders import leaf_spine

    leaves, spines, per_leaf = SHAPES[hosts]
    topo = leaf_spine(leaves, spines, per_leaf, downlink_bw=100_000.0, delay_us=1)
    started = time.perf_counter()
    fabric = Fabric(topo, FabricOptions(queue_bytes=2 << 20, config=FabricConfig(
        mode=Mode.ADAPTIVE, flowlet_gap_us=1, load_max_age_us=2)), seed=1)
    built = time.perf_counter() - started
    spec = CollectiveSpec("allreduce", hosts, chunk * hosts)
    opts = RunOptions(iters=1, warmup=0, line_rate=100e9, pmtu=4096, window=64, rto=0.001)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    results = run_collective(topo, spec, opts, seed=1, fabric=fabric, limit_ns=sim_us * 1000)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)
    ok = all(not r["wrong"] and not r["error"] for r in results)
    return {"hosts": hosts, "switches": leaves + spines, "build_s": built, "wall_s": wall, "cpu_s": cpu,
            "sim_ms": fabric.now / 1e6, "hops": fabric.loop.packets, "events": fabric.loop.events,
            "ok": ok, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,32,128", help="host counts (of 8, 32, 128)")
    parser.add_argument("--chunk", type=int, default=16384,
                        help="all-reduce bytes per rank (each rank stages 2x this per peer)")
    parser.add_argument("--sim-us", type=int, default=50, help="simulated time to run (us)")
    parser.add_argument("--profile", action="store_true", help="cProfile the run (to stderr)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.chunk, args.sim_us, args.profile)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    bad = [s for s in sizes if s not in SHAPES]
    if bad:
        print(f"vtime_speed: sizes must be among {sorted(SHAPES)}, got {bad}", file=sys.stderr)
        return 2
    print("fabric.p4 adaptive, 100 Gb/s leaf-spine, ring all-reduce of "
          f"{args.chunk} B per rank, 4 KiB MTU, {args.sim_us} us simulated, one process per size")
    print(f"{'hosts':>5} {'switches':>8} {'build s':>8} {'run s':>8} {'sim ms':>8} "
          f"{'hops':>8} {'hops/s':>8} {'hops/cpu s':>10} {'s/sim ms':>9} {'peak MiB':>9} ok")
    for hosts in sizes:
        argv = [sys.executable, __file__, "--one", str(hosts), "--chunk", str(args.chunk),
                "--sim-us", str(args.sim_us)] + (["--profile"] if args.profile else [])
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode:
            print(f"{hosts:>5} failed: {done.stderr.strip()[-300:]}")
            continue
        if args.profile:
            print(done.stderr)
        r = json.loads(done.stdout.splitlines()[-1])
        print(f"{r['hosts']:>5} {r['switches']:>8} {r['build_s']:>8.1f} {r['wall_s']:>8.1f} "
              f"{r['sim_ms']:>8.3f} {r['hops']:>8} {r['hops'] / r['wall_s']:>8.0f} "
              f"{r['hops'] / r['cpu_s']:>10.0f} "
              f"{r['wall_s'] / r['sim_ms']:>9.1f} {r['peak_mib']:>9.0f} {'yes' if r['ok'] else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
