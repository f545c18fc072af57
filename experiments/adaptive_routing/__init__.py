"""ECMP vs flowlet vs per-packet adaptive routing for RoCE long flows and all-reduce.

`run(scale="quick", out_dir=..., progress=print, mode="emulate") -> Result` is what
`fabriclab run adaptive_routing` and `fabriclab demo` call. Emulate mode: one trial process
per routing mode brings up a fresh leaf-spine, runs that mode's cases (receiver x workload
x seed) and tears it down (needs root, Mininet). Sim mode (`sim.py`): the same, each
routing mode's cases on one virtual-time fabric in this process, at 100 Gb/s, no root. The
rows, JSON and figure are written here either way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from experiments.adaptive_routing.figure import draw
from experiments.adaptive_routing.metrics import case_row
from experiments.adaptive_routing.params import Params, params_for, split_scheme, topology
from experiments import results
from experiments.cases import report_cases
from experiments.report import format_table, group_stats, paired_ratio
from experiments.results import finish_run, start_run
from experiments.sweep import Sweep, run_trials
from experiments.trials import emulate_trial, preflight

NAME = "adaptive_routing"
TRIAL_MODULE = "experiments.adaptive_routing.trial"


class Result(results.Result):
    """A run's result; its summary is one entry per workload and scheme."""

    def scheme(self, scheme: str, workload: str = "permutation") -> dict[str, Any]:
        """The summary entry of one scheme and workload."""
        return self.entry(workload=workload, scheme=scheme)


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


def headline(summary: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The claim's numbers: the permutation's % of ideal and the all-reduce's busbw per scheme
    (means over seeds), adaptive+ooo over ECMP on each (the ratio of their means over the
    seeds both finished, so a failed seed cannot tilt it), and the all-reduce's wrong elements."""
    pct = {s["scheme"]: s["pct_mean"] for s in summary if s["workload"] == "permutation"}
    bus = {s["scheme"]: s["busbw_mbps"] for s in summary if s["workload"] == "allreduce"}

    def ratio(values: dict[str, Any], workload: str, field: str) -> float | None:
        got = paired_ratio(rows, {"workload": workload}, "scheme", "adaptive+ooo", ecmp_scheme(values), field)
        return None if got is None else round(got[0], 3)

    def rounded(values: dict[str, Any]) -> dict[str, Any]:
        return {k: None if v is None else round(v, 2) for k, v in values.items()}

    return {"permutation_pct_ideal": rounded(pct), "allreduce_busbw_mbps": rounded(bus),
            "adaptive_over_ecmp_permutation": ratio(pct, "permutation", "pct_ideal"),
            "adaptive_over_ecmp_allreduce": ratio(bus, "allreduce", "busbw_mbps"),
            "allreduce_wrong_elements": sum(r.get("wrong") or 0 for r in rows
                                            if r["workload"] == "allreduce")}


def ecmp_scheme(values: dict[str, Any]) -> str:
    """ECMP's figure: with either receiver (ECMP does not reorder), ooo if both ran."""
    return "ecmp+ooo" if values.get("ecmp+ooo") is not None else "ecmp+gbn"


def headline_text(head: dict[str, Any], link_mbps: float) -> str:
    """One line for the end of the run: ECMP against adaptive+ooo (the schemes that ran)."""
    def pair(values: dict[str, Any], fmt: str) -> str:
        return ", ".join(f"{s} {fmt.format(values[s])}" for s in (ecmp_scheme(values), "adaptive+ooo")
                         if values.get(s) is not None)

    parts = []
    if head["permutation_pct_ideal"]:
        parts.append(f"permutation {pair(head['permutation_pct_ideal'], '{:.1f}%')} of ideal"
                     + (f" ({head['adaptive_over_ecmp_permutation']:.2f}x)"
                        if head["adaptive_over_ecmp_permutation"] else ""))
    if head["allreduce_busbw_mbps"]:
        unit = "Gb/s" if link_mbps >= 1000 else "Mb/s"
        scale = 1000 if link_mbps >= 1000 else 1
        busbw = {k: None if v is None else v / scale for k, v in head["allreduce_busbw_mbps"].items()}
        parts.append(f"all-reduce busbw {pair(busbw, '{:.1f} ' + unit)}; "
                     f"{head['allreduce_wrong_elements']} wrong elements")
    return "headline: " + ("; ".join(parts) or "no case finished")


def summary_table(summary: list[dict[str, Any]]) -> str:
    headers = ("workload", "scheme", "seeds", "% ideal", "min", "max", "busbw Mb/s", "retx/case", "ooo/case")
    rows = [(s["workload"], s["scheme"], s["seeds"], s["pct_mean"], s["pct_min"], s["pct_max"],
             float("nan") if s["busbw_mbps"] is None else s["busbw_mbps"], s["retransmissions"],
             s["out_of_order"]) for s in summary]
    return format_table(headers, rows)


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
        records, error = emulate_trial(TRIAL_MODULE, "ar", i, p.as_dict(), p.leaves + p.spines, cases,
                                       timeout=120 + len(cases) * (p.timeout_s + 15), progress=progress)
    rows = [case_row(r, p) for r in records]
    return rows, report_cases(rows, lambda r: f"{r['workload']} {r['scheme']} seed {r['seed']}", None,
                              error, progress)


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "emulate", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run the experiment at `scale` ("quick" or "full") in `mode` ("emulate" or "sim"), its
    trials where `sweep` says; `overrides` replace parameters."""
    p = params_for(scale, mode, **overrides)
    preflight(p.mode, p.target, topology(p))
    started = time.monotonic()
    run_name, files = start_run(NAME, scale, p.mode, out_dir)
    groups = plan(p)
    total = sum(len(c) for c in groups.values())
    progress(f"{NAME} ({p.mode}, {scale}): {total} cases in {len(groups)} trials; "
             f"{p.link_mbps:g} Mb/s links, {p.hosts} hosts, seeds {', '.join(map(str, p.seeds))}")
    tasks = [(p, i, len(groups), routing, cases) for i, (routing, cases) in enumerate(groups.items())]
    outcome = run_trials(routing_trial, tasks, progress, p.mode, sweep)
    rows, errors = outcome.rows, outcome.errors
    wall = time.monotonic() - started
    summary = summarize(rows, p)
    head = headline(summary, rows)
    finish_run(NAME, run_name, scale, p, files, wall, rows,
               {"schemes": summary, "errors": errors, "headline": head}, head,
               summary_table(summary), headline_text(head, p.link_mbps),
               lambda png: draw(rows, p, png), progress, partial=outcome.interrupted)
    outcome.raise_if_interrupted(len(tasks), progress)
    return Result(run_name, p, rows, summary, files, wall, errors)
