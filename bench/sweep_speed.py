"""Wall time of a full sim sweep at 1, 2 and 4 local workers, and the speed-up.

Default: innet_allreduce's full sim sweep, 40 trials (10 sweep points x ring/in-network x
seeds 1-2), each a fresh virtual-time fabric: enough trials that every worker stays busy,
and a few minutes serially. (adaptive_routing's full sim sweep is 3 trials of minutes each,
so its speed-up stops at 3 whatever the cores.) The CSVs, wall-time columns excluded, must
be identical. CPU seconds (this process and its reaped workers) show what the workers cost
(each imports fabriclab and compiles fabric.p4 for itself), independently of other load;
the load average before each run and the cores used (CPU / wall) say how much of the
machine the sweep had.

    .venv/bin/python bench/sweep_speed.py [--experiment NAME] [--scale full|quick]
        [--workers 1,2,4] [--rounds 2] [--figure docs/figures/sweep_speed.png]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from experiments.cli import experiment_module
from experiments.report import new_figure, save_figure
from experiments.sweep import Sweep


@dataclass(frozen=True)
class Point:
    workers: int
    wall_s: float
    cpu_s: float
    load: float
    trials: int
    errors: int


def cpu_s() -> float:
    """CPU seconds of this process and its reaped children (the sweep's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def without_wall_time(path: Path) -> list[list[str]]:
    header, *rows = list(csv.reader(path.open(newline="")))
    keep = [i for i, column in enumerate(header) if not column.startswith("wall")]
    return [[row[i] for i in keep] for row in [header, *rows]]


def draw(points: list[Point], title: str, path: Path) -> None:
    fig, (wall_ax, cpu_ax) = new_figure(2, title)
    xs = [str(p.workers) for p in points]
    wall_ax.bar(xs, [p.wall_s for p in points], color="tab:blue")
    for x, p in zip(xs, points):
        label = f"{points[0].wall_s / p.wall_s:.2f}x\nload {p.load:.1f}\n{p.cpu_s / p.wall_s:.2f} cores used"
        wall_ax.annotate(label, (x, p.wall_s),
                         ha="center", va="bottom", fontsize=8)
    wall_ax.set_xlabel("local workers")
    wall_ax.set_ylabel("wall time (s)")
    wall_ax.set_title("wall time, speed-up over the first count, load average at start", fontsize=9)
    cpu_ax.bar(xs, [p.cpu_s for p in points], color="tab:gray")
    cpu_ax.set_xlabel("local workers")
    cpu_ax.set_ylabel("CPU time, parent + workers (s)")
    cpu_ax.set_title("CPU time (what the workers cost)", fontsize=9)
    wall_ax.set_ylim(0, 1.35 * max(p.wall_s for p in points))  # room for the labels
    cpu_ax.set_ylim(bottom=0)
    for ax in (wall_ax, cpu_ax):
        ax.grid(alpha=0.3, axis="y")
    save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="innet_allreduce")
    parser.add_argument("--scale", default="full", choices=("quick", "full"))
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every count this many times, every other round in reverse "
                             "order (so a drifting load does not favour one count); means reported")
    parser.add_argument("--figure", type=Path, help="write the figure here (png)")
    args = parser.parse_args()
    module = experiment_module(args.experiment)
    counts = [int(w) for w in args.workers.split(",")]
    print(f"{args.experiment} {args.scale} sim sweep at {', '.join(map(str, counts))} workers, "
          f"{args.rounds} round(s); {os.cpu_count()} cores; {time.strftime('%H:%M UTC', time.gmtime())}",
          flush=True)
    runs: dict[int, list[Point]] = {w: [] for w in counts}
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for workers in counts if r % 2 == 0 else counts[::-1]:
                load = os.getloadavg()[0]
                started, cpu_before = time.monotonic(), cpu_s()
                result = module.run(args.scale, Path(tmp) / f"{r}-{workers}", progress=lambda s: None,
                                    mode="sim", sweep=Sweep(workers=workers))
                point = Point(workers, time.monotonic() - started, cpu_s() - cpu_before, load,
                              len(result.rows), len(result.errors))
                runs[workers].append(point)
                tables.append(without_wall_time(result.files.csv))
                print(f"  {workers} worker(s): {point.wall_s:6.1f} s wall, {point.cpu_s:6.1f} s CPU, "
                      f"{point.trials} rows, errors {point.errors}, load average at start {load:.1f}, "
                      f"cores used {point.cpu_s / point.wall_s:.2f}", flush=True)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    points = [Point(w, mean([p.wall_s for p in ps]), mean([p.cpu_s for p in ps]), mean([p.load for p in ps]),
                    ps[0].trials, sum(p.errors for p in ps)) for w, ps in runs.items()]
    for p in points:
        print(f"mean of {args.rounds}: {p.workers} worker(s) {p.wall_s:6.1f} s wall, {p.cpu_s:6.1f} s CPU, "
              f"speed-up {points[0].wall_s / p.wall_s:.2f}x, load average {p.load:.1f}")
    print("CSVs identical (wall-time columns excluded):", all(t == tables[0] for t in tables))
    if args.figure:
        draw(points, f"{args.experiment} {args.scale} sim sweep ({points[0].trials} rows), mean of "
                     f"{args.rounds} round(s), on {os.cpu_count()} cores shared with other jobs", args.figure)
        print("figure:", args.figure)

if __name__ == "__main__":
    main()
