"""The NIC rate a whole Mininet fabric carries (issue 24): the highest rate at which a 2x2x2
leaf-spine (2 leaves, 2 spines, 4 hosts; built-in switches on fabric.p4, in the layout
--switch-procs asks for)
runs a 1 MiB all-to-all with under 1% resends and at least 90% of line rate as busbw.

The fabric's links run at 1 Gb/s, so the switches' CPU and not the links' model is what
limits; the hosts' NICs are paced at the rate under test (`fabriclab collective --rate`).
busbw is nccl-tests' figure: each rank times its --iters measured iterations back to back
after one warm-up iteration (whose resends count too), so its time per iteration is its
span over the batch, as nccl-tests times a batch; the row takes the slowest rank's (nccl-tests
reports the ranks' average by default: ours is the stricter). Unlike nccl-tests, building a
rank's buffers and checking its output fall inside the timed span; they cost about 1 ms per
rank and iteration (until 2026-12-03 np.resize and the first check took ~30 ms in the one
agent process that drives all ranks, a pause in every rank's pacing: the first measured
iteration took 85-100 ms at 100 Mb/s against 65-75, hence --iters 4 found less than
--iters 10). One iteration of 1 MiB lasts 60-170 ms at 50-100 Mb/s. Bisection over rates (in
Mb/s, on a log scale) between --low and --high, one all-to-all per step on the same running
net, or just the rates of --at; every step's figures are printed as it ends (with the slowest
rank's iteration times), then the answer with the machine's load average. Measured once: a
benchmark, never asserts.

Each step also says where the CPU went, per iteration (warm-up included): the switch
processes (from /proc: four, or the shared one and its idle member processes) and the rank agents (their CPU from "go" to done), and the
machine's busy share over the step; and what the resends were (timeouts; duplicates:
packets the receiver already had, i.e. late ACKs rather than drops).

Run: sudo .venv/bin/python bench/fabric_capacity.py [--low 5] [--high 400] [--steps 6] [--jumbo]
     [--iters 4] [--at 20,40] [--switch-procs shared|per-switch] [--net-args "..."]
     [--collective-args "..."]
(the net is `fabriclab net ... --run fl-cap<pid>`, stopped and cleaned on every exit path)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fabriclab.paths import run_of  # noqa: E402

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


def start_net(run: str, jumbo: bool, extra: list[str]) -> subprocess.Popen:
    """`fabriclab net` on the 2x2x2 leaf-spine with 1 Gb/s links (and `extra` flags);
    returns once it is up."""
    net = subprocess.Popen([*FABRICLAB, "net", "leaf-spine", "--leaves", "2", "--spines", "2",
                            "--hosts-per-leaf", "2", "--downlink-bw", "1G", "--uplink-bw", "1G",
                            "--mtu", "9000" if jumbo else "1500", "--run", run, *extra],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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


def switch_pids(run: str) -> list[int]:
    """The switch processes of running net `run` (`fabriclab switch ...`, --group and
    --member-of included)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and run_of(int(proc.name)) == run:
            try:
                if b"switch" in (proc / "cmdline").read_bytes().split(b"\0")[3:4][0]:
                    pids.append(int(proc.name))
            except (OSError, IndexError):
                continue
    return pids


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of `pids` so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """(busy, all) jiffies of every CPU so far (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def alltoall(run: str, rate_mbps: float, jumbo: bool, iters: int, switches: list[int],
             extra: list[str]) -> dict:
    """One 1 MiB all-to-all at `rate_mbps` on the running net: busbw, resends, wall time and
    CPU per iteration."""
    t0, sw0, busy0 = time.monotonic(), cpu_s(switches), machine_busy()
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([*FABRICLAB, "collective", "alltoall", "--run", run, "--ranks",
                              ",".join(f"h{i}" for i in range(1, RANKS + 1)), "--size", "1M",
                              "--iters", str(iters), "--warmup", "1", "--mode", "ooo", "--pmtu", str(PMTU[jumbo]),
                              "--rate", f"{rate_mbps:g}M", "--json", f"{tmp}/ranks.json", *extra],
                             cwd=REPO, capture_output=True, text=True, timeout=900)
        ranks = json.loads(Path(f"{tmp}/ranks.json").read_text())["runs"][0]["ranks"] if out.returncode == 0 else []
    wall = time.monotonic() - t0
    busy1 = machine_busy()
    busbw = re.search(r"Avg bus bandwidth\s*:\s*([0-9.]+)\s*([GMk]?)b/s", out.stdout)
    if out.returncode != 0 or busbw is None or not ranks:
        return {"rate": rate_mbps, "ok": False, "wall_s": wall,
                "error": (out.stderr.strip() or out.stdout.strip()).splitlines()[-1:]}
    scale = {"G": 1000.0, "M": 1.0, "k": 0.001, "": 1e-6}[busbw.group(2)]
    data_packets = (1 + iters) * RANKS * (RANKS - 1) * (SIZE // RANKS) // PMTU[jumbo]  # warm-up + measured
    qp = {k: sum(r["qp"][k] for r in ranks) for k in ("retransmissions", "timeouts", "duplicates")}
    result = {"rate": rate_mbps, "busbw": float(busbw.group(1)) * scale, "resends": qp["retransmissions"],
              "timeouts": qp["timeouts"], "duplicates": qp["duplicates"], "wall_s": wall,
              "switch_cpu": (cpu_s(switches) - sw0) / (1 + iters),
              "agent_cpu": sum(r.get("cpu_s", 0.0) for r in ranks) / (1 + iters),
              "busy": (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * (os.cpu_count() or 1)}
    result["times_ms"] = [round(t * 1e3) for t in max(ranks, key=lambda r: r["avg_time"])["times"]]
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
          f"resends {r['resends']} ({100 * r['resend_share']:.2f}%; {r['timeouts']} timeouts, "
          f"{r['duplicates']} duplicates), {r['wall_s']:.0f} s wall: "
          f"{'passes' if r['ok'] else 'fails'}   [load {loadavg()}]\n"
          f"            CPU per iteration: switches {r['switch_cpu']:.3f} s, agents {r['agent_cpu']:.3f} s; "
          f"machine busy {r['busy']:.2f} of {os.cpu_count()} CPUs over the step; slowest rank's "
          f"iterations {r['times_ms']} ms", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--low", type=float, default=5.0, help="a rate expected to pass (Mb/s)")
    parser.add_argument("--high", type=float, default=400.0, help="a rate expected to fail (Mb/s)")
    parser.add_argument("--steps", type=int, default=6, help="bisection steps after the ends")
    parser.add_argument("--jumbo", action="store_true",
                        help="MTU 9000 and 4096-byte RoCE packets (as the experiments run): a "
                             "quarter of the packets per byte")
    parser.add_argument("--iters", type=int, default=4,
                        help="measured iterations after the warm-up (default 4)")
    parser.add_argument("--at", metavar="MBPS,...", help="measure just these rates (no bisection)")
    parser.add_argument("--switch-procs", choices=("shared", "per-switch"),
                        help="`fabriclab net --switch-procs`: all switches in one process, or "
                             "one process each (default: the net's default)")
    parser.add_argument("--net-args", default="", metavar="ARGS",
                        help='more flags for `fabriclab net`, e.g. "--switch-args --log-console"')
    parser.add_argument("--collective-args", default="", metavar="ARGS",
                        help="more flags for every `fabriclab collective` step")
    args = parser.parse_args()
    try:
        net_args = shlex.split(args.net_args) + (["--switch-procs", args.switch_procs]
                                                 if args.switch_procs else [])
        collective_args = shlex.split(args.collective_args)
    except ValueError as err:
        print(f"fabric_capacity: --net-args/--collective-args: {err}", file=sys.stderr)
        return 2
    try:
        at = [float(x) for x in args.at.split(",")] if args.at else []
    except ValueError:
        at = [0.0]
    if not 0 < args.low < args.high or args.steps < 0 or args.iters < 1 or not all(r > 0 for r in at):
        print("fabric_capacity: need 0 < --low < --high, --steps >= 0, --iters >= 1 and rates > 0", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("fabric_capacity: needs root (Mininet)", file=sys.stderr)
        return 2
    run = f"fl-cap{os.getpid()}"
    print(f"2x2x2 leaf-spine, fabric.p4, 1 Gb/s links, MTU {9000 if args.jumbo else 1500}, "
          f"net {' '.join(net_args) or '(defaults)'}, collective {' '.join(collective_args) or '(defaults)'}, "
          f"PMTU {PMTU[args.jumbo]}, 1 MiB all-to-all over {RANKS} hosts, {args.iters} iterations "
          f"(ooo receivers); pass: resends < {MAX_RESENDS:.0%} and busbw >= {MIN_SHARE:.0%} of "
          f"the NIC rate. Load average {loadavg()} on {os.cpu_count()} CPUs.", flush=True)
    t0 = time.monotonic()
    net = start_net(run, args.jumbo, net_args)
    steps: list[dict] = []
    best = None
    try:
        print(f"  net up in {time.monotonic() - t0:.0f} s", flush=True)
        switches = switch_pids(run)

        def step(rate: float) -> dict:
            r = alltoall(run, rate, args.jumbo, args.iters, switches, collective_args)
            report(r, steps)
            return r
        if at:
            step(at[0])  # the first collective also warms the switches up
            for rate in at:
                if step(rate)["ok"]:
                    best = max(best or 0.0, rate)
        else:
            low, high = args.low, args.high
            first = step(low)  # the first collective also warms the switches up
            if not first["ok"]:
                first = step(low)
            top = step(high)
            best = low if first["ok"] else None
            if top["ok"]:
                best = high
            else:
                for _ in range(args.steps):
                    rate = math.sqrt(low * high)
                    if step(rate)["ok"]:
                        low = best = rate
                    else:
                        high = rate
    finally:
        stop_net(net, run)
    verdict = f"{best:.1f} Mb/s" if best is not None else "no rate passes" if at else f"below {args.low:g} Mb/s"
    where = f"of {args.at} Mb/s" if at else f"bisection between {args.low:g} and {args.high:g} Mb/s"
    print(f"capacity: {verdict} ({where}; "
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
