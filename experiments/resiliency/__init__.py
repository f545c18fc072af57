"""A collective while 1, 2 or 4 fabric links fail at seeded random times: controller-only
reroute vs data-plane fast reroute, with ECMP and with adaptive routing (issue 16).

`run(scale="quick", out_dir=..., progress=print, mode="sim") -> Result` is what
`fabriclab run resiliency --mode sim|emulate` calls (sim.py: virtual time, no root;
emulate.py: Mininet, root, real time). One trial per (collective, routing mode,
seed), through experiments.sweep.run_trials (so --workers/--cluster work and the CSV is
the same): the failure-free run first (its time places the failures and its mean goodput
is the reference), then every failure count under every reroute scheme, each on a fresh
virtual-time fabric (sim.py). The run JSON's `headline` gives the median time to recover
per scheme and the total of wrong elements, and is printed last.
"""

from __future__ import annotations

import time
from pathlib import Path
from statistics import median
from typing import Any, Callable

from experiments.report import format_table
from experiments.resiliency.figure import draw
from experiments.resiliency.metrics import case_row
from experiments.resiliency.params import Params, params_for, split_scheme
from experiments.results import Result, finish_run, start_run
from experiments.sweep import Sweep, run_trials
from experiments.trials import preflight
from fabriclab.errors import FabricError

NAME = "resiliency"


def plan(p: Params) -> list[tuple[str, str, int]]:
    """(collective, routing, seed) per trial, seed-major so a crash keeps whole seeds."""
    routings = list(dict.fromkeys(split_scheme(s)[1] for s in p.schemes))
    return [(c, r, seed) for seed in p.seeds for c in p.collectives for r in routings]


def trial(task: tuple[Params, int, int, str, str, int],
          progress: Callable[[str], None]) -> tuple[list[dict[str, Any]], list[str]]:
    """One collective and routing mode: the healthy run, then each failure count under each
    reroute scheme of that routing mode. Module-level: it runs in workers too."""
    from experiments.resiliency.sim import Case

    p, i, n, collective, routing, seed = task
    if p.mode == "emulate":
        from experiments.resiliency.emulate import run_case
    else:
        from experiments.resiliency.sim import run_case
    progress(f"[trial {i + 1}/{n}] {collective}, {routing}, seed {seed}")
    healthy = run_case(p, Case(collective, routing, seed))
    rows = [case_row(healthy, healthy, p)]
    reroutes = [r for r, m in map(split_scheme, p.schemes) if m == routing]
    for failures in p.failures:
        for reroute in reroutes:
            record = run_case(p, Case(collective, routing, seed, failures, reroute),
                              healthy["elapsed_ns"])
            rows.append(case_row(record, healthy, p))
    for r in rows:
        progress(f"  {r['scheme']:<20} {r['failures']} failed: {r['elapsed_us']:8.1f} us "
                 f"(x{r['slowdown']:.2f}), recovery {r['recoveries_us'] or '-'} us, "
                 f"retx {r['retransmitted_kb']:.0f} KB, wrong {r['wrong']} ({r['wall_s']:.1f} s wall)")
    errors = [f"{r['collective']} {r['scheme']} {r['failures']} failures seed {r['seed']}: {r['error']}"
              for r in rows if r["error"] or r["wrong"]]
    return rows, errors


def summarize(rows: list[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """Per collective, scheme and failure count: completion, wrong, retransmissions,
    recovery (median of every failure's gap) and slowdown, over seeds."""
    out = []
    keys = dict.fromkeys((r["collective"], r["scheme"], r["failures"]) for r in rows)
    for collective, scheme, failures in keys:
        sel = [r for r in rows if (r["collective"], r["scheme"], r["failures"]) == (collective, scheme, failures)]
        gaps = [float(g) for r in sel for g in r["recoveries_us"].split()]
        out.append({"collective": collective, "scheme": scheme, "failures": failures, "runs": len(sel),
                    "completed": sum(r["completed"] for r in sel), "wrong": sum(r["wrong"] for r in sel),
                    "recovery_us_median": median(gaps) if gaps else 0.0,
                    "recovery_us_max": max(gaps) if gaps else 0.0,
                    "slowdown": sum(r["slowdown"] for r in sel) / len(sel),
                    "retransmitted_kb": sum(r["retransmitted_kb"] for r in sel) / len(sel)})
    return out


def headline(rows: list[dict[str, Any]], p: Params) -> dict[str, Any]:
    """Per scheme: the median time to recover over the runs with the fewest failures (with
    more, a failure's cost spills into the windows of the ones after it), completion and
    mean slowdown over all its runs; the total of wrong elements over every run."""
    fewest = min(p.failures)
    per_scheme = {}
    for scheme in p.schemes:
        sel = [r for r in rows if r["scheme"] == scheme]
        gaps = [float(g) for r in sel if r["failures"] == fewest for g in r["recoveries_us"].split()]
        if sel:
            per_scheme[scheme] = {"median_recovery_us": round(median(gaps), 1) if gaps else 0.0,
                                  "runs_with_failures": fewest, "failures": len(gaps),
                                  "completed": f"{sum(r['completed'] for r in sel)}/{len(sel)}",
                                  "mean_slowdown": round(sum(r["slowdown"] for r in sel) / len(sel), 3)}
    return {"schemes": per_scheme, "total_wrong": sum(r["wrong"] for r in rows),
            "all_completed": all(r["completed"] for r in rows)}


def summary_table(summary: list[dict[str, Any]]) -> str:
    headers = ("collective", "scheme", "fail", "done", "wrong", "recov us (med)", "max", "slowdown", "retx KB")
    return format_table(headers, [(s["collective"], s["scheme"], s["failures"], f"{s['completed']}/{s['runs']}",
                                   s["wrong"], s["recovery_us_median"], s["recovery_us_max"], s["slowdown"],
                                   s["retransmitted_kb"]) for s in summary])


def headline_text(head: dict[str, Any]) -> str:
    schemes = "; ".join(f"{s}: {h['median_recovery_us']:g} us" for s, h in head["schemes"].items())
    fewest = next(iter(head["schemes"].values()), {}).get("runs_with_failures", 1)
    return (f"headline: median time to recover per scheme ({fewest}-failure runs): {schemes}; total wrong elements "
            f"{head['total_wrong']}; every run completed: {'yes' if head['all_completed'] else 'NO'}")


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run the experiment at `scale` ("quick" or "full"); `overrides` replace parameters."""
    if overrides.get("target") not in (None, "builtin"):
        raise FabricError("resiliency runs the built-in switch (its port signal: docs/resiliency.md)")
    overrides.pop("target", None)
    p = params_for(scale, mode, **overrides)
    preflight(p.mode, p.target)
    started = time.monotonic()
    run_name, files = start_run(NAME, scale, p.mode, out_dir)
    tasks = [(p, i, len(plan(p)), c, r, seed) for i, (c, r, seed) in enumerate(plan(p))]
    progress(f"{NAME} ({p.mode}, {scale}): {len(tasks)} trials ({', '.join(p.collectives)} x "
             f"{len(tasks) // len(p.collectives) // len(p.seeds)} routing x {len(p.seeds)} seeds), "
             f"{', '.join(map(str, p.failures))} link failures, schemes {', '.join(p.schemes)}; "
             f"{p.link_gbps:g} Gb/s, RTO {p.rto_us} us, controller "
             + (f"{p.control_delay_us} us after the port event" if p.mode == "sim" else "as fast as it is"))
    outcome = run_trials(trial, tasks, progress, p.mode, sweep)
    rows, errors = outcome.rows, outcome.errors
    wall = time.monotonic() - started
    summary = summarize(rows, p)
    head = headline(rows, p)
    finish_run(NAME, run_name, scale, p, files, wall, rows,
               {"schemes": summary, "headline": head, "errors": errors}, head, summary_table(summary),
               headline_text(head), lambda png: draw(rows, p, png), progress, partial=outcome.interrupted)
    outcome.raise_if_interrupted(len(tasks), progress)
    return Result(run_name, p, rows, summary, files, wall, errors, head)
