"""Where an experiment's results go and what is saved with them.

Every run writes `results/<experiment>/<run>.csv` (one row per case), `<run>.json` (the
parameters, seeds, scale, versions, wall time and summary: enough to reproduce and to
judge the figure) and `<run>.png`. Run ids sort by time and say the scale.
"""

from __future__ import annotations

import csv
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from fabriclab import __version__

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"


def run_id(scale: str, now: float | None = None) -> str:
    """'20261121-142501-quick': sortable, unique per second and scale."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + f"-{scale}"


def versions(target: str) -> dict[str, str]:
    """What produced the numbers: fabriclab, the switch target, Python, the kernel."""
    out = {"fabriclab": __version__, "target": target, "python": platform.python_version(),
           "kernel": platform.release(), "machine": platform.machine()}
    git = shutil.which("git")
    if git:
        done = subprocess.run([git, "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True)
        if done.returncode == 0:
            out["git"] = done.stdout.strip()
    if target == "bmv2":
        binary = shutil.which("simple_switch_grpc")
        if binary:
            done = subprocess.run([binary, "--version"], capture_output=True, text=True)
            out["simple_switch_grpc"] = (done.stdout or done.stderr).strip()
    return out


@dataclass(frozen=True)
class RunFiles:
    csv: Path
    json: Path
    png: Path


def run_files(out_dir: Path, run: str) -> RunFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    return RunFiles(out_dir / f"{run}.csv", out_dir / f"{run}.json", out_dir / f"{run}.png")


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows as CSV; columns are every key seen, in first-seen order (missing cells empty)."""
    rows = list(rows)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _cell(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, sort_keys=False, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot save {type(value).__name__} in a result JSON")


def run_document(experiment: str, run: str, scale_name: str, config: Mapping[str, Any],
                 seeds: Iterable[int], scale: Mapping[str, Any], target: str, wall_s: float,
                 summary: Any, files: RunFiles, partial: bool = False) -> dict[str, Any]:
    """The JSON saved next to a run's CSV and figure; `partial`: the run was interrupted and
    its files hold the trials that finished."""
    return {"experiment": experiment, "run": run, "scale_name": scale_name,
            "command": " ".join(sys.argv) or None, "config": dict(config), "seeds": list(seeds),
            "scale": dict(scale), "versions": versions(target), "wall_time_s": round(wall_s, 1),
            "summary": summary, "files": {"csv": files.csv.name, "png": files.png.name},
            "partial": partial}
