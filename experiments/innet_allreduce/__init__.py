"""In-network (SwitchML/SHARP-style) all-reduce against the ring, in both modes.

`run(scale="quick", out_dir=..., progress=print, mode="sim") -> Result` is what `fabriclab run
innet_allreduce --mode sim|emulate` calls. Sim: every case is a trial on a fresh
virtual-time 2x2 leaf-spine running fabric.p4; emulate: every rank count is a trial on one
fresh Mininet net (experiments/innet_allreduce/emulate.py). Trials run through
experiments.sweep (`--workers`, `--cluster`). Either way the ranks all-reduce float32 buffers either with the
RoCE ring or through the switches' aggregation slots (docs/aggregation.md). Sweeps: busbw against ranks, against size, and
against loss (completion, #wrong, retransmissions). A case where a rank did not finish has
no busbw (None): averages are over the finished cases, and `completed`/`cases` says how many
those are. The JSON's `headline` is the measured in-network/ring busbw ratio at `loss_ranks`
ranks, the wrong elements over all in-network cases (counted over the ranks that finished,
must be 0) and the in-network cases that did not finish, printed last.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from experiments.cases import case_line, report_cases
from experiments.innet_allreduce.figure import draw
from experiments.innet_allreduce.params import Params, expected_ratio, host_rate, params_for, rate_unit
from experiments.report import format_table
from experiments.results import Result, finish_run, start_run
from experiments.sweep import Sweep, run_trials
from experiments.trials import preflight

NAME = "innet_allreduce"


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    """The mean of `key` over the finished cases (no error) that have it; None if none."""
    vals = [r[key] for r in rows if r["error"] is None and r.get(key) is not None]
    return sum(vals) / len(vals) if vals else None


def summarize_runs(rows: list[dict[str, Any]], p: Params) -> dict[str, Any]:
    """Per (ranks, bytes, loss, scheme): mean busbw over the finished cases (`completed` of
    `cases`), #wrong (over finished ranks), retransmissions; the headline."""
    table = []
    for n, nbytes, loss in p.cases():
        for scheme in p.schemes:
            sel = [r for r in rows if (r["ranks"], r["bytes"], r["loss"], r["scheme"])
                   == (n, nbytes, loss, scheme)]
            if sel:
                table.append({"ranks": n, "bytes": nbytes, "loss": loss, "scheme": scheme,
                              "busbw_gbs": _mean(sel, "busbw_gbs"),
                              "completed": sum(r["error"] is None for r in sel), "cases": len(sel),
                              "wrong": sum(r["wrong"] or 0 for r in sel),
                              "retransmissions": sum(r["retransmissions"] or 0 for r in sel)})
    at = {e["scheme"]: e["busbw_gbs"] for e in table
          if (e["ranks"], e["bytes"], e["loss"]) == (p.loss_ranks, p.nbytes, 0.0)}
    ratio = at["innet"] / at["ring"] if at.get("ring") and at.get("innet") else None
    wrong = sum(r["wrong"] or 0 for r in rows if r["scheme"] == "innet")
    unfinished = sum(r["error"] is not None for r in rows if r["scheme"] == "innet")
    headline = {"ranks": p.loss_ranks, "bytes": p.nbytes,
                "innet_ring_busbw_ratio": round(ratio, 3) if ratio else None,
                "expected_ratio": round(expected_ratio(p.loss_ranks), 3),
                "innet_wrong_elements": wrong, "innet_unfinished": unfinished,
                "text": (f"in-network/ring busbw at {p.loss_ranks} ranks, {p.nbytes >> 10} KiB: "
                         + (f"{ratio:.2f}x" if ratio else "not measured")
                         + f" (expected 2(n-1)/n = {expected_ratio(p.loss_ranks):.2f}); "
                         f"in-network wrong elements: {wrong}"
                         + (f"; {unfinished} in-network case(s) did not finish" if unfinished else ""))}
    return {"table": table, "headline": headline}


def summary_table(summary: dict[str, Any], p: Params) -> str:
    unit, factor = rate_unit(p)
    headers = ("ranks", "KiB", "loss %", "scheme", f"busbw {unit}", "done", "#wrong", "retrans")
    rows = [(e["ranks"], e["bytes"] >> 10, f"{100 * e['loss']:g}", e["scheme"],
             f"{factor * e['busbw_gbs']:.4g}" if e["busbw_gbs"] is not None else "-",
             f"{e['completed']}/{e['cases']}", e["wrong"], e["retransmissions"])
            for e in summary["table"]]
    return format_table(headers, rows)


Case = tuple[int, int, float, int, str]   # (ranks, bytes, loss, seed, scheme)


@dataclass(frozen=True)
class Task:
    """One trial, picklable for experiments.sweep: sim, one case on a fresh fabric; emulate,
    every case of one rank count on one fresh Mininet net. `first` numbers its progress
    lines in the run's plan order."""

    p: Params
    cases: tuple[Case, ...]
    first: int
    total: int


def plan(p: Params) -> list[Task]:
    """The run's trials in plan order (the order of its rows)."""
    cases = [(n, nbytes, loss, seed, scheme) for n, nbytes, loss in p.cases()
             for seed in p.seeds for scheme in p.schemes]
    if p.mode == "sim":
        groups = [[c] for c in cases]
    else:
        groups = [[c for c in cases if c[0] == n] for n in dict.fromkeys(c[0] for c in cases)]
    starts = [sum(len(g) for g in groups[:i]) for i in range(len(groups))]
    return [Task(p, tuple(g), first, len(cases)) for g, first in zip(groups, starts)]


def trial(task: Task, progress: Callable[[str], None]) -> tuple[list[dict[str, Any]], list[str]]:
    """A task's rows and errors; module-level so it runs in another process or on a Dask worker."""
    p = task.p
    if p.mode == "sim":
        from experiments.innet_allreduce.sim import run_case

        rows = [run_case(p, scheme, n, nbytes, loss, seed) for n, nbytes, loss, seed, scheme in task.cases]
    else:
        from experiments.innet_allreduce.emulate import run_rank_count

        ranks = task.cases[0][0]
        progress(f"[{ranks} ranks] fresh Mininet leaf-spine on fabric.p4")
        rows = run_rank_count(p, ranks, [c[1:] for c in task.cases], progress)
    unit, factor = rate_unit(p)

    def what(row: dict[str, Any]) -> str:
        return (f"{row['ranks']} ranks, {row['bytes'] >> 10} KiB, loss {100 * row['loss']:g}%, "
                f"{row['scheme']}, seed {row['seed']}")

    def done(row: dict[str, Any]) -> str:
        return (f"busbw {factor * row['busbw_gbs']:.4g} {unit}, #wrong {row['wrong']}, "
                f"{row['retransmissions']} retransmissions")

    return rows, report_cases(
        rows, what, lambda k, r: case_line(f"{task.first + k + 1}/{task.total}", what(r), r, done), None, progress)


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run the experiment at `scale` (sim: virtual time; emulate: Mininet, root), its trials
    where `sweep` says; `overrides` replace parameters."""
    p = params_for(scale, mode, **overrides)
    preflight(p.mode, p.target)
    started = time.monotonic()
    run_name, files = start_run(NAME, scale, p.mode, out_dir)
    tasks = plan(p)
    how = "virtual time" if p.mode == "sim" else "Mininet, real time"
    progress(f"{NAME} ({p.mode}, {scale}): {tasks[0].total} cases in {len(tasks)} trials, {how}; "
             f"leaf-spine 2x2, {host_rate(p)} hosts; ranks {', '.join(map(str, p.ranks))} at "
             f"{p.nbytes >> 10} KiB; sizes {', '.join(str(b >> 10) for b in p.sizes)} KiB and "
             f"loss {', '.join(f'{100 * x:g}%' for x in p.losses)} at {p.loss_ranks} ranks; "
             f"seeds {', '.join(map(str, p.seeds))}")
    outcome = run_trials(trial, tasks, progress, p.mode, sweep)
    rows, errors = outcome.rows, outcome.errors
    wall = time.monotonic() - started
    summary = summarize_runs(rows, p)
    finish_run(NAME, run_name, scale, p, files, wall, rows, {**summary, "errors": errors},
               summary["headline"], summary_table(summary, p), summary["headline"]["text"],
               lambda png: draw(rows, p, png), progress, partial=outcome.interrupted)
    outcome.raise_if_interrupted(len(tasks), progress)
    return Result(run_name, p, rows, summary, files, wall, errors)
