"""Wall time of a reduced full sim sweep of adaptive_routing at 1, 2 and 4 local workers.

The sweep: every scheme (3 routing modes x 2 receivers), the permutation workload, SEEDS
seeds, on the quick sim leaf-spine: 3 trials (one per routing mode) of 2 x SEEDS cases. The
CSVs must be identical; the speed-up is wall(1) / wall(N). On a 2-core machine 4 workers
oversubscribe the cores (and only 3 trials exist), so expect no gain past 2. CPU seconds
(this process and its workers) show what the workers cost (each imports fabriclab and
builds its own fabric) independently of other load on the machine.

    .venv/bin/python bench/sweep_speed.py [SEEDS]
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import experiments.adaptive_routing as ar
from experiments.sweep import Sweep


def cpu_s() -> float:
    """CPU seconds of this process and its reaped children (the sweep's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    seeds = tuple(range(1, int(sys.argv[1]) + 1)) if len(sys.argv) > 1 else (1, 2)
    print(f"adaptive_routing sim sweep: 6 schemes x permutation x {len(seeds)} seeds, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    walls, csvs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2, 4):
            started, cpu_before = time.monotonic(), cpu_s()
            result = ar.run("quick", Path(tmp) / str(workers), progress=lambda s: None, mode="sim",
                            sweep=Sweep(workers=workers), workloads=("permutation",), seeds=seeds)
            walls[workers], cpu = time.monotonic() - started, cpu_s() - cpu_before
            csvs[workers] = result.files.csv.read_bytes()
            print(f"  {workers} worker(s): {walls[workers]:6.1f} s wall, {cpu:6.1f} s CPU, {len(result.rows)} cases, "
                  f"speed-up {walls[1] / walls[workers]:.2f}x, errors {len(result.errors)}")
    print("CSVs identical:", len(set(csvs.values())) == 1)


if __name__ == "__main__":
    main()
