"""Multi-tenant performance isolation: tenant A's ring all-reduce (the victim) next to
tenant B's all-to-all (the noise), sharing A's leaves and spine.

Cases: A alone; A+B without isolation (one FIFO per port: whoever queues more gets more);
A+B with the tenants installed (per-tenant trTCM meters, A's data in its own strict-priority
queue, B's traffic above its guarantee remarked to best effort, above its cap dropped);
the same plus DCQCN at every NIC with the CC manager's ECN thresholds. Metrics: A's busbw
(the slowest rank's mean iteration) normalised to A alone (same seed), A's p99 iteration
time (nearest rank over every seed's iterations of the case pooled, with their count n:
below n = 100 it is the slowest iteration), B's throughput during A's run, drops and ECN
marks per tenant. The run JSON's `headline` states A's normalised busbw per case.

`run(scale="quick", out_dir=..., progress=print, mode="sim") -> Result` is what
`fabriclab run isolation [--mode sim|emulate]` calls. Sim mode (`sim.py`): each (case, seed)
on a fresh virtual-time fabric at 100 Gb/s, no root. Emulate mode (`trial.py`): each case
on a fresh Mininet leaf-spine at a few Mb/s (root). Trials go through
experiments.sweep.run_trials, so --workers and --cluster work and CSVs are identical.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from experiments.isolation.figure import draw
from experiments.isolation.metrics import case_row, normalise, pooled_p99
from experiments.isolation.params import CASE_LABELS, Params, params_for
from experiments.cases import report_cases
from experiments.report import format_table, group_stats
from experiments.results import Result, finish_run, start_run
from experiments.sweep import Sweep, run_trials
from experiments.trials import emulate_trial, preflight

NAME = "isolation"
TRIAL_MODULE = "experiments.isolation.trial"
METRICS = ("a_norm_busbw", "a_busbw_gbps", "a_iter_p99_us", "b_gbps", "A_drops", "B_drops", "A_marks",
           "B_marks", "A_retx", "B_retx", "A_meter_drops", "B_meter_drops")
MEANS = tuple(m for m in METRICS if m != "a_iter_p99_us")  # averaged over seeds; p99 is pooled


def case_trial(task: tuple[Params, int, int, str, int],
               progress: Callable[[str], None]) -> tuple[list[dict[str, Any]], list[str]]:
    """One case and seed on a fresh fabric: (rows, errors). Module-level so that
    experiments.sweep can run it in another process or on a Dask worker."""
    p, i, n, case, seed = task
    progress(f"[trial {i + 1}/{n}] {CASE_LABELS[case]}, seed {seed}")
    nranks = len(p.tenant_hosts()[0])
    if p.mode == "sim":
        from experiments.isolation.sim import run_case

        records, error = [run_case(p, case, seed)], None
    else:
        hosts = 2 * p.hosts_per_leaf
        records, error = emulate_trial(TRIAL_MODULE, "iso", i, p.as_dict(), 2 + p.spines,
                                       [{"case": case, "seed": seed}],
                                       timeout=180 + hosts * 5 + 2 * p.timeout_s, progress=progress)
    rows = [case_row(r, p.allreduce_bytes, nranks) for r in records]

    def line(k: int, r: dict[str, Any]) -> str:
        return (f"  {CASE_LABELS[r['case']]}, seed {r['seed']}: A busbw {r['a_busbw_gbps'] * 1000:.4g} Mb/s, "
                f"p99 of {r['a_iter_n']} iterations {r['a_iter_p99_us']:.0f} us; B {r['b_gbps'] * 1000:.4g} Mb/s; "
                f"drops A {r['A_drops']} B {r['B_drops']}, marks A {r['A_marks']} B {r['B_marks']} "
                f"({r['wall_s']:.0f} s wall)")

    return rows, report_cases(rows, lambda r: f"{r['case']} seed {r['seed']}", line, error, progress)


def summarize(rows: list[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """Per case (finished runs only): the mean over seeds of every metric but A's p99
    iteration, which is the nearest-rank p99 of every seed's iterations pooled (`a_iter_n`
    of them)."""
    done = [r for r in rows if r["done"]]
    stats = {m: group_stats(done, lambda r: r["case"], m) for m in MEANS}
    out = []
    for c in p.cases:
        if c not in stats["a_busbw_gbps"]:
            continue
        p99, n = pooled_p99([r for r in done if r["case"] == c])
        out.append({"case": c, "seeds": stats["a_busbw_gbps"][c].n,
                    **{m: stats[m][c].mean for m in MEANS if c in stats[m]}, "a_iter_p99_us": p99, "a_iter_n": n})
    return out


def headline(summary: list[dict[str, Any]]) -> dict[str, Any]:
    """A's busbw normalised to A alone, per case: without isolation it should fall well
    below 1, with it stay close to 1."""
    return {"a_normalised_busbw": {s["case"]: round(s["a_norm_busbw"], 3) for s in summary
                                   if "a_norm_busbw" in s and s["a_norm_busbw"] == s["a_norm_busbw"]},
            "a_p99_iteration_us": {s["case"]: round(s["a_iter_p99_us"], 1) for s in summary if "a_iter_p99_us" in s},
            "a_iterations_pooled": {s["case"]: s["a_iter_n"] for s in summary if "a_iter_n" in s},
            "b_gbps": {s["case"]: round(s["b_gbps"], 4) for s in summary if "b_gbps" in s}}


def summary_table(summary: list[dict[str, Any]]) -> str:
    headers = ("case", "seeds", "A busbw/alone", "A busbw Mb/s", "A p99 iter us", "n iters", "B Mb/s", "drops A",
               "drops B", "marks A", "marks B", "retx A", "retx B", "red A", "red B")
    scale = {"a_busbw_gbps": 1000, "b_gbps": 1000}
    return format_table(headers, [(CASE_LABELS[s["case"]], s["seeds"],
                                   *(s.get(m, float("nan")) * scale.get(m, 1) for m in METRICS[:3]), s["a_iter_n"],
                                   *(s.get(m, float("nan")) * scale.get(m, 1) for m in METRICS[3:]))
                                  for s in summary])


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run every case at `scale` ("quick" or "full") in `mode`; `overrides` replace
    parameters."""
    p = params_for(scale, mode, **overrides)
    preflight(p.mode, p.target)
    started = time.monotonic()
    run_name, files = start_run(NAME, scale, p.mode, out_dir)
    tasks = [(p, 0, 0, case, seed) for seed in p.seeds for case in p.cases]
    tasks = [(p, i, len(tasks), case, seed) for i, (_, _, _, case, seed) in enumerate(tasks)]
    a, b = p.tenant_hosts()
    progress(f"{NAME} ({p.mode}, {scale}): {len(tasks)} trials ({len(p.cases)} cases x {len(p.seeds)} seeds); "
             f"{p.link_mbps:g} Mb/s hosts, tenant A {','.join(a)} (ring all-reduce "
             f"{p.allreduce_bytes >> 10} KiB x {p.iters}), tenant B {','.join(b)} (all-to-all)")
    outcome = run_trials(case_trial, tasks, progress, p.mode, sweep)
    rows = outcome.rows
    normalise(rows)
    wall = time.monotonic() - started
    summary = summarize(rows, p)
    head = headline(summary)
    norm = head["a_normalised_busbw"]
    finish_run(NAME, run_name, scale, p, files, wall, rows,
               {"cases": summary, "errors": outcome.errors}, head,
               summary_table(summary),
               "headline: A's busbw / A alone: " + "; ".join(f"{CASE_LABELS[c]} {v:g}" for c, v in norm.items()),
               lambda png: draw(summary, p, png), progress, partial=outcome.interrupted)
    outcome.raise_if_interrupted(len(tasks), progress)
    return Result(run_name, p, rows, {"cases": summary, "headline": head}, files, wall, outcome.errors)
