"""Congestion control on a lossless fabric: a 7:1 incast plus a victim flow that shares the
bottleneck's upstream link, and long flows mixed with short ones, under none (lossy, window
only), PFC only, DCQCN+PFC with fixed ECN, DCQCN+PFC with the CC manager (rate-based ECN,
switch notification, adaptive), and HPCC (INT to the receiver) with PFC.

`run(scale="quick", out_dir=..., progress=print, mode="sim") -> Result` is what
`fabriclab run congestion_control --mode sim|emulate` calls. One trial per scheme, on a
fresh fabric: in virtual time in a worker process (`sim.py`, 100 Gb/s, no root), or a
Mininet leaf-spine in a trial process of its own (`emulate.py`, 10 Mb/s, root). Trials go
through experiments.sweep.run_trials, so --workers/--cluster spread them and the CSV is the
same either way. The run JSON's `headline` gives, per scheme, the incast's p99 bottleneck
queue, the long flows' goodput into the receiver (% of its link), the wire utilisation of
that link (INT included) and the victim, and the mix's short-flow slowdown p50/p99 with the
number of flows n; it is printed last.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from experiments.congestion_control.figure import draw
from experiments.congestion_control.metrics import case_row
from experiments.congestion_control.params import SCHEME_LABELS, Params, params_for
from experiments import results
from experiments.cases import report_cases
from experiments.report import format_table, group_stats
from experiments.results import finish_run, start_run
from experiments.sweep import Sweep, run_trials
from experiments.trials import emulate_trial, preflight

NAME = "congestion_control"
TRIAL_MODULE = "experiments.congestion_control.emulate"
METRICS = ("queue_p50_kb", "queue_p99_kb", "goodput_pct", "wire_util_pct", "jain", "victim_gbps",
           "slowdown_p50", "slowdown_p99", "short_n", "short_unfinished", "retransmissions", "drops", "pauses",
           "switch_paused_us", "host_paused_us")

class Result(results.Result):
    """A run's result; its summary is one entry per workload and scheme."""

    def scheme(self, scheme: str, workload: str = "incast") -> dict[str, Any]:
        """The summary entry of one scheme and workload."""
        return self.entry(workload=workload, scheme=scheme)


def plan(p: Params) -> list[tuple[str, list[dict[str, Any]]]]:
    """(scheme, its cases): one trial per scheme, cases seed-major."""
    return [(scheme, [{"workload": w, "scheme": scheme, "seed": seed} for seed in p.seeds for w in p.workloads])
            for scheme in p.schemes]


def scheme_trial(task: tuple[Params, int, int, str, list[dict[str, Any]]],
                 progress: Callable[[str], None]) -> tuple[list[dict[str, Any]], list[str]]:
    """One scheme's cases on a fresh fabric: (rows, errors). Module-level so that
    experiments.sweep can run it in another process or on a Dask worker."""
    p, i, n, scheme, cases = task
    progress(f"[trial {i + 1}/{n}] {SCHEME_LABELS[scheme]}: {len(cases)} case(s)")
    error = None
    if p.mode == "sim":
        from experiments.congestion_control.sim import run_case

        records = [run_case(p, c["workload"], scheme, c["seed"]) for c in cases]
    else:
        records, error = emulate_trial(TRIAL_MODULE, "cc", i, p.as_dict(), 3, cases,
                                       timeout=60 + len(cases) * (p.timeout_s + 30), progress=progress)
    rows = [case_row(r, p) for r in records]

    def line(k: int, r: dict[str, Any]) -> str:
        return (f"  {r['workload']} {SCHEME_LABELS[scheme]}, seed {r['seed']}: p99 queue "
                f"{r['queue_p99_kb']:.1f} KB, goodput {r['goodput_pct']:.1f}% (wire {r['wire_util_pct']:.1f}%), "
                + (f"victim {r['victim_gbps']:.3g} Gb/s" if r["workload"] == "incast" else
                   f"short flows after warm-up {r['short_n']} ({r['short_unfinished']} unfinished), "
                   f"slowdown p99 {r['slowdown_p99']:.1f}")
                + f" ({r['wall_s']:.0f} s wall)")

    return rows, report_cases(rows, lambda r: f"{r['workload']} {scheme} seed {r['seed']}", line, error, progress)


def summarize(rows: list[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """Per workload and scheme: the mean over seeds of every metric."""
    out = []
    for workload in p.workloads:
        sel = [r for r in rows if r["workload"] == workload]
        stats = {m: group_stats(sel, lambda r: r["scheme"], m) for m in METRICS}
        for s in p.schemes:
            if s in stats["goodput_pct"]:
                out.append({"workload": workload, "scheme": s, "seeds": stats["goodput_pct"][s].n,
                            **{m: stats[m][s].mean if s in stats[m] else float("nan") for m in METRICS}})
    return out


def headline(summary: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per scheme: the incast's p99 queue, goodput (and wire utilisation, INT included) and
    victim; the mix's short-flow slowdown p50/p99 over its n flows (mean per seed)."""
    out: dict[str, dict[str, float]] = {}
    for s in summary:
        h = out.setdefault(s["scheme"], {})
        if s["workload"] == "incast":
            h.update(p99_queue_kb=round(s["queue_p99_kb"], 2), goodput_pct=round(s["goodput_pct"], 1),
                     wire_util_pct=round(s["wire_util_pct"], 1), victim_gbps=round(s["victim_gbps"], 4))
        else:
            h.update(short_slowdown_p50=round(s["slowdown_p50"], 2), short_slowdown_p99=round(s["slowdown_p99"], 2),
                     short_n=round(s["short_n"], 1), short_unfinished=round(s["short_unfinished"], 1))
    return out


def summary_table(summary: list[dict[str, Any]]) -> str:
    headers = ("workload", "scheme", "q p50 KB", "q p99 KB", "goodput %", "wire util % (INT incl.)", "Jain",
               "victim Gb/s", "slowdown p50", "p99", "n", "retx", "drops", "pauses", "paused us")
    return format_table(headers, [(s["workload"], SCHEME_LABELS[s["scheme"]], s["queue_p50_kb"], s["queue_p99_kb"],
                                   s["goodput_pct"], s["wire_util_pct"], s["jain"], s["victim_gbps"],
                                   s["slowdown_p50"], s["slowdown_p99"], s["short_n"] or float("nan"),
                                   s["retransmissions"], s["drops"], s["pauses"], s["switch_paused_us"])
                                  for s in summary])


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run every scheme at `scale` ("quick" or "full") in `mode` ("sim" or "emulate"), its
    trials where `sweep` says; `overrides` replace parameters."""
    p = params_for(scale, mode, **overrides)
    preflight(p.mode, p.target)
    started = time.monotonic()
    run_name, files = start_run(NAME, scale, p.mode, out_dir)
    trials = plan(p)
    rate = f"{p.link_gbps:g} Gb/s" if p.link_gbps >= 1 else f"{p.link_gbps * 1000:g} Mb/s"
    progress(f"{NAME} ({p.mode}, {scale}): {len(trials)} schemes x {len(p.workloads)} workloads x "
             f"{len(p.seeds)} seeds; {p.senders}:1 incast + victim and a long/short mix, {rate}, "
             f"{p.duration_us / 1000:g} ms per case")
    tasks = [(p, i, len(trials), scheme, cases) for i, (scheme, cases) in enumerate(trials)]
    outcome = run_trials(scheme_trial, tasks, progress, p.mode, sweep)
    rows = outcome.rows
    wall = time.monotonic() - started
    summary = summarize(rows, p)
    head = headline(summary)
    csv_rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    text = "; ".join(f"{SCHEME_LABELS[s]}: p99 queue {h['p99_queue_kb']:g} KB, goodput {h['goodput_pct']:g}% "
                     f"(wire {h['wire_util_pct']:g}%)" for s, h in head.items() if "p99_queue_kb" in h)
    finish_run(NAME, run_name, scale, p, files, wall, csv_rows,
               {"schemes": summary, "errors": outcome.errors, "headline": head}, head,
               summary_table(summary), "headline: " + (text or "no incast case finished"),
               lambda png: draw(rows, p, png), progress, partial=outcome.interrupted)
    outcome.raise_if_interrupted(len(tasks), progress)
    return Result(run_name, p, csv_rows, summary, files, wall, outcome.errors, head)
