"""The NIC rate a whole Mininet fabric carries (issue 24): the highest rate at which a 2x2x2
leaf-spine (2 leaves, 2 spines, 4 hosts; built-in switches on fabric.p4, one process each)
runs a 1 MiB all-to-all with under 1% resends and at least 90% of line rate as busbw.

The fabric's links run at 1 Gb/s, so the switches' CPU and not the links' model is what
limits; the hosts' NICs are paced at the rate under test (`fabriclab collective --rate`).
busbw is nccl-tests' figure for the measured iteration, after one warm-up iteration (whose
resends count too: the ranks' start, one "go" after the other on a loaded machine, is not
the fabric's speed). Bisection over rates (in Mb/s, on a log scale) between --low and --high, one all-to-all
per step on the same running net; every step's figures are printed as it ends, then the
answer with the machine's load average. Measured once: a benchmark, never asserts.

Run: sudo .venv/bin/python bench/fabric_capacity.py [--low 5] [--high 400] [--steps 6] [--jumbo]
(the net is `fabriclab net ... --run fl-cap<pid>`, stopped and cleaned on every exit path)
"""

from __future__ import annotations

import argparse
import math
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FABRICLAB = [sys.executable, "-m", "fabriclab"]
SIZE = 1 << 20
RANKS = 4
PMTU = {False: 1024, True: 4096}  # RoCE PMTU: RunOptions' default, or with --jumbo (MTU 9000)
MAX_RESENDS = 0.01
MIN_SHARE = 0.90


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def start_net(run: str, jumbo: bool) -> subprocess.Popen:
    """`fabriclab net` on the 2x2x2 leaf-spine with 1 Gb/s links; returns once it is up."""
    net = subprocess.Popen([*FABRICLAB, "net", "leaf-spine", "--leaves", "2", "--spines", "2",
                            "--hosts-per-leaf", "2", "--downlink-bw", "1G", "--uplink-bw", "1G",
                            "--mtu", "9000" if jumbo else "1500", "--run", run], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    end, seen = time.monotonic() + 600, []
    while time.monotonic() < end and net.poll() is None:
        if select.select([net.stdout], [], [], 1)[0]:
            line = net.stdout.readline()
            seen.append(line)
            if line.startswith("fabriclab net: up"):
                return net
    stop_net(net, run)
    raise SystemExit("fabric_capacity: the net did not come up:\n" + "".join(seen[-20:]))


def stop_net(net: subprocess.Popen, run: str) -> None:
    if net.poll() is None:
        net.send_signal(signal.SIGINT)
        try:
            net.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(net.pid, signal.SIGKILL)
            net.wait()
    subprocess.run([*FABRICLAB, "clean", "--run", run], cwd=REPO, capture_output=True)


def alltoall(run: str, rate_mbps: float, jumbo: bool) -> dict:
    """One 1 MiB all-to-all at `rate_mbps` on the running net: busbw, resends, wall time."""
    t0 = time.monotonic()
    out = subprocess.run([*FABRICLAB, "collective", "alltoall", "--run", run, "--ranks",
                          ",".join(f"h{i}" for i in range(1, RANKS + 1)), "--size", "1M",
                          "--iters", "1", "--warmup", "1", "--mode", "ooo", "--pmtu", str(PMTU[jumbo]), "--rate", f"{rate_mbps:g}M"],
                         cwd=REPO, capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - t0
    busbw = re.search(r"Avg bus bandwidth\s*:\s*([0-9.]+)\s*([GMk]?)b/s", out.stdout)
    resends = re.search(r"retransmissions=(\d+)", out.stdout)
    if out.returncode != 0 or busbw is None or resends is None:
        return {"rate": rate_mbps, "ok": False, "wall_s": wall,
                "error": (out.stderr.strip() or out.stdout.strip()).splitlines()[-1:]}
    scale = {"G": 1000.0, "M": 1.0, "k": 0.001, "": 1e-6}[busbw.group(2)]
    data_packets = 2 * RANKS * (RANKS - 1) * (SIZE // RANKS) // PMTU[jumbo]  # warm-up + measured
    result = {"rate": rate_mbps, "busbw": float(busbw.group(1)) * scale,
              "resends": int(resends.group(1)), "wall_s": wall}
    result["resend_share"] = result["resends"] / data_packets
    result["ok"] = result["resend_share"] < MAX_RESENDS and result["busbw"] >= MIN_SHARE * rate_mbps
    return result


def report(r: dict, steps: list[dict] | None = None) -> None:
    if steps is not None:
        steps.append(r)
    if "busbw" not in r:
        print(f"  {r['rate']:8.1f} Mb/s: failed ({r['wall_s']:.0f} s): {' '.join(r['error'])}", flush=True)
        return
    print(f"  {r['rate']:8.1f} Mb/s: busbw {r['busbw']:7.2f} Mb/s ({100 * r['busbw'] / r['rate']:5.1f}%), "
          f"resends {r['resends']} ({100 * r['resend_share']:.2f}%), {r['wall_s']:.0f} s wall: "
          f"{'passes' if r['ok'] else 'fails'}   [load {loadavg()}]", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--low", type=float, default=5.0, help="a rate expected to pass (Mb/s)")
    parser.add_argument("--high", type=float, default=400.0, help="a rate expected to fail (Mb/s)")
    parser.add_argument("--steps", type=int, default=6, help="bisection steps after the ends")
    parser.add_argument("--jumbo", action="store_true",
                        help="MTU 9000 and 4096-byte RoCE packets (as the experiments run): a "
                             "quarter of the packets per byte")
    args = parser.parse_args()
    if not 0 < args.low < args.high or args.steps < 0:
        print("fabric_capacity: need 0 < --low < --high and --steps >= 0", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("fabric_capacity: needs root (Mininet)", file=sys.stderr)
        return 2
    run = f"fl-cap{os.getpid()}"
    print(f"2x2x2 leaf-spine, fabric.p4, 1 Gb/s links, MTU {9000 if args.jumbo else 1500}, "
          f"PMTU {PMTU[args.jumbo]}, 1 MiB all-to-all over {RANKS} hosts "
          f"(ooo receivers); pass: resends < {MAX_RESENDS:.0%} and busbw >= {MIN_SHARE:.0%} of "
          f"the NIC rate. Load average {loadavg()} on {os.cpu_count()} CPUs.", flush=True)
    t0 = time.monotonic()
    net = start_net(run, args.jumbo)
    steps: list[dict] = []
    try:
        print(f"  net up in {time.monotonic() - t0:.0f} s", flush=True)
        low, high = args.low, args.high
        first = alltoall(run, low, args.jumbo)  # the first collective also warms the switches up
        report(first, steps)
        if not first["ok"]:
            report(first := alltoall(run, low, args.jumbo), steps)
        top = alltoall(run, high, args.jumbo)
        report(top, steps)
        best = low if first["ok"] else None
        if top["ok"]:
            best = high
        else:
            for _ in range(args.steps):
                rate = math.sqrt(low * high)
                r = alltoall(run, rate, args.jumbo)
                report(r, steps)
                if r["ok"]:
                    low = best = rate
                else:
                    high = rate
    finally:
        stop_net(net, run)
    verdict = f"{best:.1f} Mb/s" if best is not None else f"below {args.low:g} Mb/s"
    print(f"capacity: {verdict} (bisection between {args.low:g} and {args.high:g} Mb/s; "
          f"{time.monotonic() - t0:.0f} s wall; load average {loadavg()})", flush=True)
    clean = [r for r in steps if "busbw" in r and r["resend_share"] < MAX_RESENDS]
    if clean:
        top = max(clean, key=lambda r: r["rate"])
        print(f"  highest rate with < {MAX_RESENDS:.0%} resends: {top['rate']:.1f} Mb/s (busbw "
              f"{top['busbw']:.2f} Mb/s); best busbw of any step: "
              f"{max(r['busbw'] for r in steps if 'busbw' in r):.2f} Mb/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
