"""Wall time of a reduced full sim sweep of adaptive_routing at 1, 2 and 4 local workers.

The sweep: every scheme (3 routing modes x 2 receivers), the permutation workload, SEEDS
seeds, on the quick sim leaf-spine: 3 trials (one per routing mode) of 2 x SEEDS cases. The
CSVs must be identical; the speed-up is wall(1) / wall(N). On a 2-core machine 4 workers
oversubscribe the cores (and only 3 trials exist), so expect no gain past 2.

    .venv/bin/python bench/sweep_speed.py [SEEDS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import experiments.adaptive_routing as ar
from experiments.sweep import Sweep


def main() -> None:
    seeds = tuple(range(1, int(sys.argv[1]) + 1)) if len(sys.argv) > 1 else (1, 2)
    print(f"adaptive_routing sim sweep: 6 schemes x permutation x {len(seeds)} seeds, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    walls, csvs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2, 4):
            started = time.monotonic()
            result = ar.run("quick", Path(tmp) / str(workers), progress=lambda s: None, mode="sim",
                            sweep=Sweep(workers=workers), workloads=("permutation",), seeds=seeds)
            walls[workers] = time.monotonic() - started
            csvs[workers] = result.files.csv.read_bytes()
            print(f"  {workers} worker(s): {walls[workers]:6.1f} s wall, {len(result.rows)} cases, "
                  f"speed-up {walls[1] / walls[workers]:.2f}x, errors {len(result.errors)}")
    print("CSVs identical:", len(set(csvs.values())) == 1)


if __name__ == "__main__":
    main()
