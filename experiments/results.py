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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

from fabriclab import __version__
from fabriclab.errors import FabricError

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
    if out_dir.exists() and not out_dir.is_dir():
        raise FabricError(f"--out {out_dir}: not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    return RunFiles(out_dir / f"{run}.csv", out_dir / f"{run}.json", out_dir / f"{run}.png")


def check_mode(mode: str, modes: Iterable[str]) -> None:
    """Params.__post_init__'s mode check, one message for every experiment."""
    modes = tuple(modes)
    if mode not in modes:
        raise FabricError(f"unknown mode {mode!r} (one of {', '.join(modes)})")


def check_choices(what: str, given: Iterable[str], allowed: Iterable[str]) -> None:
    """At least one of `given`, all in `allowed` (schemes, collective kinds)."""
    given, allowed = tuple(given), tuple(allowed)
    bad = [x for x in given if x not in allowed]
    if bad or not given:
        raise FabricError(f"unknown or missing {what} {', '.join(bad) or '(none)'} "
                          f"(choose from {', '.join(allowed)})")


_Params = TypeVar("_Params", bound="RunParams")


class RunParams:
    """Base of each experiment's frozen `Params` dataclass: `as_dict` is what a run saves next
    to its results and hands its trial processes as JSON, `from_dict` its inverse (JSON turns
    tuples into lists; keys that are not fields, such as a trial's own distance or domain
    size, are left out)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[_Params], data: Mapping[str, Any]) -> _Params:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        try:
            return cls(**{k: tuple(v) if isinstance(v, list) else v
                          for k, v in data.items() if k in names})
        except TypeError as err:
            raise FabricError(f"bad experiment parameters: {err}") from None


def split_pair(scheme: str, first: tuple[str, tuple[str, ...]],
               second: tuple[str, tuple[str, ...]]) -> tuple[str, str]:
    """A scheme named FIRST+SECOND ('adaptive+ooo', 'fast+ecmp') split into its two parts,
    each checked against its (name, choices)."""
    a, _, b = scheme.partition("+")
    (name_a, choices_a), (name_b, choices_b) = first, second
    if a not in choices_a or b not in choices_b:
        raise FabricError(f"unknown scheme {scheme!r}: {name_a}+{name_b} with {name_a} one of "
                          f"{', '.join(choices_a)} and {name_b} one of {', '.join(choices_b)}")
    return a, b


def seed_major_cases(seeds: Iterable[int], kinds: Iterable[str], schemes: Iterable[str]
                     ) -> list[dict[str, Any]]:
    """A trial's cases, every kind and scheme for one seed before the next seed's (so a
    stopped run has whole seeds)."""
    return [{"kind": kind, "scheme": scheme, "seed": seed}
            for seed in seeds for kind in kinds for scheme in schemes]


@dataclass
class Result:
    """What an experiment's `run` returns: its rows, summary, files and failures, and the
    JSON's `headline` where the summary does not hold it."""
    run: str
    params: Any
    rows: list[dict[str, Any]]
    summary: Any
    files: RunFiles
    wall_s: float
    errors: list[str] = field(default_factory=list)
    headline: Any = None

    def entry(self, **keys: Any) -> dict[str, Any]:
        """The entry of a list summary whose values match `keys` (a scheme's, a workload's)."""
        for e in self.summary:
            if all(e.get(k) == v for k, v in keys.items()):
                return e
        raise KeyError(f"{' '.join(map(str, keys.values()))} not in this run")


def finish_run(experiment: str, run: str, scale_name: str, p: Any, files: RunFiles, wall_s: float,
               rows: list[dict[str, Any]], summary: Mapping[str, Any], headline: Any, table: str,
               headline_text: str, draw: Callable[[Path], None],
               progress: Callable[[str], None], target: str | None = None, partial: bool = False) -> None:
    """The end of every experiment run, in one order: CSV, figure (if any rows), JSON with the
    `headline` at the top level, then the table, the file list and the headline printed last
    (so a reader's eye and `tail -1` land on it). `p` gives as_dict(), seeds, scale() and, unless `target` is given, target.
    `partial`: the sweep was interrupted (experiments.sweep.Outcome.interrupted)."""
    write_csv(files.csv, rows)
    if rows:
        draw(files.png)
    document = run_document(experiment, run, scale_name, p.as_dict(), p.seeds, p.scale(),
                            target or p.target, wall_s, summary, files, partial)
    document["headline"] = headline
    write_json(files.json, document)
    progress(table)
    progress(f"wall time {wall_s:.0f} s; results: {files.csv}, {files.json}"
             + (f", figure: {files.png}" if rows else ""))
    progress(headline_text)


def start_run(experiment: str, scale: str, mode: str, out_dir: Path | str | None) -> tuple[str, RunFiles]:
    """A new run id (its time and scale, `sim-` before the scale in sim mode) and its files
    in `out_dir` or results/<experiment>/."""
    run = run_id(scale if mode == "emulate" else f"sim-{scale}")
    return run, run_files(Path(out_dir) if out_dir else RESULTS / experiment, run)


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
