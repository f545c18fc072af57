"""ECMP vs flowlet vs per-packet adaptive routing for RoCE long flows and all-reduce.

`run(scale="quick", out_dir=..., progress=print, mode="emulate") -> Result` is what
`fabriclab run adaptive_routing` and `fabriclab demo` call. Emulate mode: one trial process
per routing mode brings up a fresh leaf-spine, runs that mode's cases (receiver x workload
x seed) and tears it down (needs root, Mininet). Sim mode (`sim.py`): the same, each
routing mode's cases on one virtual-time fabric in this process, at 100 Gb/s, no root. The
rows, JSON and figure are written here either way.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from experiments.adaptive_routing.figure import draw
from experiments.adaptive_routing.metrics import case_row
from experiments.adaptive_routing.params import Params, params_for, split_scheme, topology
from experiments.report import format_table, group_stats
from experiments.results import RESULTS, RunFiles, run_document, run_files, run_id, write_csv, write_json
from experiments.sweep import Sweep, run_trials
from experiments.trials import free_port_base, require_root, run_trial

NAME = "adaptive_routing"
TRIAL_MODULE = "experiments.adaptive_routing.trial"


@dataclass
class Result:
    run: str
    params: Params
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    files: RunFiles
    wall_s: float
    errors: list[str] = field(default_factory=list)

    def scheme(self, scheme: str, workload: str = "permutation") -> dict[str, Any]:
        """The summary entry of one scheme and workload."""
        for s in self.summary:
            if s["scheme"] == scheme and s["workload"] == workload:
                return s
        raise KeyError(f"{workload} {scheme} not in this run")


def plan(p: Params) -> dict[str, list[dict[str, Any]]]:
    """routing mode -> its cases (one trial each), seed-major so a crash keeps whole seeds."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for seed in p.seeds:
        for workload in p.workloads:
            for scheme in p.schemes:
                routing, receiver = split_scheme(scheme)
                groups.setdefault(routing, []).append(
                    {"routing": routing, "receiver": receiver, "workload": workload, "seed": seed})
    return groups


def summarize(rows: list[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """Per workload and scheme: % of ideal over seeds, busbw, retransmissions, reordering."""
    out = []
    for workload in p.workloads:
        sel = [r for r in rows if r["workload"] == workload]
        key = lambda r: r["scheme"]  # noqa: E731
        pct, bus = group_stats(sel, key, "pct_ideal"), group_stats(sel, key, "busbw_mbps")
        retx, ooo = group_stats(sel, key, "retransmissions"), group_stats(sel, key, "out_of_order")
        for scheme in p.schemes:
            if scheme not in pct:
                continue
            s = pct[scheme]
            out.append({"workload": workload, "scheme": scheme, "seeds": s.n, "pct_mean": s.mean,
                        "pct_std": s.std, "pct_min": s.min, "pct_max": s.max, "pct_spread": s.spread,
                        "busbw_mbps": bus[scheme].mean if scheme in bus else None,
                        "retransmissions": retx[scheme].mean, "out_of_order": ooo[scheme].mean})
    return out


def summary_table(summary: list[dict[str, Any]]) -> str:
    headers = ("workload", "scheme", "seeds", "% ideal", "min", "max", "busbw Mb/s", "retx/case", "ooo/case")
    rows = [(s["workload"], s["scheme"], s["seeds"], s["pct_mean"], s["pct_min"], s["pct_max"],
             float("nan") if s["busbw_mbps"] is None else s["busbw_mbps"], s["retransmissions"],
             s["out_of_order"]) for s in summary]
    return format_table(headers, rows)


def preflight(p: Params) -> None:
    """What would fail in every trial fails here, once: the target's binary and whether it
    can model these links on this machine."""
    from fabriclab.net.linkparams import check_target_supports
    from fabriclab.net.p4node import target_command

    target_command(p.target)
    check_target_supports(topology(p), p.target)


def routing_trial(task: tuple[Params, int, int, str, list[dict[str, Any]]],
          progress: Callable[[str], None]) -> tuple[list[dict[str, Any]], list[str]]:
    """One routing mode's cases on a fresh network: (rows, errors). Module-level so that
    experiments.sweep can run it in another process or on a Dask worker."""
    p, i, n, routing, cases = task
    progress(f"[trial {i + 1}/{n}] routing {routing}: fresh network, {len(cases)} cases")
    if p.mode == "sim":
        from experiments.adaptive_routing.sim import run_cases
        from experiments.adaptive_routing.trial import Case

        records, error = run_cases(p, [Case(**c) for c in cases], progress), None
    else:
        trial_params = {**p.as_dict(), "grpc_base_port": free_port_base(p.grpc_base_port, p.leaves + p.spines)}
        records, error = run_trial(TRIAL_MODULE, f"ar-{os.getpid()}-{i}", trial_params, cases,
                                   timeout=120 + len(cases) * (p.timeout_s + 15), progress=progress)
    rows = [case_row(r, p) for r in records]
    errors = [f"{r['workload']} {r['scheme']} seed {r['seed']}: {r['error']}" for r in rows if r["error"]]
    if error:
        errors.append(error)
        progress(f"  {error}")
    return rows, errors


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "emulate", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run the experiment at `scale` ("quick" or "full") in `mode` ("emulate" or "sim"), its
    trials where `sweep` says; `overrides` replace parameters."""
    p = params_for(scale, mode, **overrides)
    if p.mode == "emulate":
        require_root()
        preflight(p)
    started = time.monotonic()
    run_name = run_id(scale if p.mode == "emulate" else f"sim-{scale}")
    files = run_files(Path(out_dir) if out_dir else RESULTS / NAME, run_name)
    groups = plan(p)
    total = sum(len(c) for c in groups.values())
    progress(f"{NAME} ({p.mode}, {scale}): {total} cases in {len(groups)} trials; "
             f"{p.link_mbps:g} Mb/s links, {p.hosts} hosts, seeds {', '.join(map(str, p.seeds))}")
    tasks = [(p, i, len(groups), routing, cases) for i, (routing, cases) in enumerate(groups.items())]
    outcome = run_trials(routing_trial, tasks, progress, p.mode, sweep)
    rows, errors = outcome.rows, outcome.errors
    wall = time.monotonic() - started
    summary = summarize(rows, p)
    write_csv(files.csv, rows)
    if rows:
        draw(rows, p, files.png)
    write_json(files.json, run_document(NAME, run_name, scale, p.as_dict(), p.seeds, p.scale(), p.target,
                                        wall, {"schemes": summary, "errors": errors}, files,
                                        partial=outcome.interrupted))
    progress(summary_table(summary))
    progress(f"wall time {wall:.0f} s; results: {files.csv}, {files.json}"
             + (f", figure: {files.png}" if rows else " (no figure: no case finished)"))
    if outcome.interrupted:
        progress(f"interrupted: partial results of {outcome.finished}/{len(tasks)} trials")
        raise KeyboardInterrupt
    return Result(run_name, p, rows, summary, files, wall, errors)
