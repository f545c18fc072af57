"""Scale-up domains: flat ring over scale-out vs hierarchical collectives, against domain size.

`run(scale="quick", out_dir=..., progress=print, mode="sim", sweep=...) -> Result` is what
`fabriclab run scale_up --mode sim|emulate` calls. Each domain size G is one trial
(`experiments.sweep.run_trials`, so --workers and --cluster spread them): a fresh fabric of
the same total accelerator count (`params.topology`: domains of G on G rails), in virtual
time (`sim.py`) or on Mininet (`trial.py`, a process of its own), runs every collective
kind under both schemes: "flat" (the ring or direct schedule, every byte over the
scale-out NICs) and "hier" (`algo="hier"`: reduce-scatter and all-gather inside the domain
over scale-up, all-reduce across domains per rail; all-to-all's local part over scale-up).
Rows: time, algbw/busbw (nccl-tests' GB/s), #wrong and the share of bytes that stayed
inside the domains. The JSON's `headline` is the hierarchical/flat busbw speed-up at the
largest domain (means over the seeds where both schemes succeeded), printed last.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from experiments.cases import report_seed_major_cases
from experiments.report import format_table, mean_table, paired_ratio, seeds_note
from experiments.results import Result, finish_run, seed_major_cases, start_run
from experiments.scale_up.figure import draw
from experiments.scale_up.params import Params, params_for, topology
from experiments.sweep import Sweep, run_trials
from experiments.trials import emulate_trial, preflight
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions, summarize

NAME = "scale_up"
TRIAL_MODULE = "experiments.scale_up.trial"


def spec_for(p: Params, kind: str, scheme: str, domain: int) -> CollectiveSpec:
    return CollectiveSpec(kind, p.accelerators, p.nbytes, algo="hier" if scheme == "hier" else "ring",
                          local=domain)


def case_row(p: Params, domain: int, kind: str, scheme: str, seed: int,
             record: dict[str, Any]) -> dict[str, Any]:
    spec = spec_for(p, kind, scheme, domain)
    row: dict[str, Any] = {"domain": domain, "kind": kind, "scheme": scheme, "seed": seed,
                           "nranks": spec.nranks, "bytes": spec.bytes, "error": None}
    try:
        r = summarize(spec, record["ranks"])
        row.update(time_us=r.time_us, algbw_gbs=r.algbw, busbw_gbs=r.busbw, wrong=r.wrong)
    except FabricError as err:
        row["error"] = str(err)[:300]
    row.update(intra_share=record["intra_share"], intra_bytes=record["intra_domain_bytes"],
               host_bytes=record["host_bytes"], retransmissions=sum(
                   x["qp"].get("retransmissions", 0) for x in record["ranks"]),
               wall_s=round(record["wall_s"], 2), sim_ms=record["sim_ms"], packets=record["packets"])
    return row


def summarize_runs(rows: list[dict[str, Any]], p: Params) -> dict[str, Any]:
    """Per kind, scheme and G: mean busbw over seeds; the headline speed-ups at the largest G,
    each a ratio of means over the seeds where both schemes succeeded (`report.paired_ratio`)."""
    table = mean_table(rows, {"kind": p.kinds, "domain": p.domain_sizes, "scheme": p.schemes},
                       ("busbw_gbs", "time_us", "intra_share"), ("wrong",))
    largest = max(p.domain_sizes)
    speedups = {}
    used = []
    for kind in p.kinds:
        got = paired_ratio(rows, {"kind": kind, "domain": largest}, "scheme", "hier", "flat")
        if got is not None:
            speedups[kind] = got[0]
            used.append(got[1])
    parts = [f"{k} {v:.2f}x" for k, v in speedups.items()]
    headline = (f"hierarchical/flat busbw at G={largest} ({p.accelerators} accelerators, {p.rates}, "
                f"{'virtual time' if p.mode == 'sim' else 'Mininet'}): "
                + (", ".join(parts) + f"; {seeds_note(used)}" if parts else "not measured"))
    return {"table": table, "speedup_at_largest": speedups, "headline": headline}


def summary_table(summary: dict[str, Any], p: Params) -> str:
    unit, scale = p.busbw_unit
    headers = ("kind", "G", "scheme", "time us", f"busbw {unit}", "inside %", "#wrong")
    rows = [(e["kind"], e["domain"], e["scheme"], e["time_us"],
             e["busbw_gbs"] * scale if e["busbw_gbs"] is not None else float("nan"),
             100 * e["intra_share"], e["wrong"]) for e in summary["table"]]
    return format_table(headers, rows)


def domain_trial(task: tuple[Params, int, int, int], progress: Callable[[str], None]
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Every case of one domain size G on a fresh fabric: (rows, errors). Module-level so
    experiments.sweep can run it in another process or on a Dask worker."""
    p, i, n, g = task
    todo = seed_major_cases(p.seeds, p.kinds, p.schemes)
    progress(f"[trial {i + 1}/{n}] G={g}: fresh fabric, {p.accelerators // g} domains of {g} on "
             f"{g} rail(s), {len(todo)} cases")
    error = None
    if p.mode == "sim":
        from experiments.scale_up.sim import run_case
        from fabriclab.vtime.fabric import Fabric

        fabric = Fabric(topology(p, g))
        options = RunOptions(iters=p.iters, warmup=p.warmup, line_rate=p.nic_mbps * 1e6, pmtu=p.pmtu,
                             window=p.window, rto=p.rto_s)
        records = []
        for case in todo:
            record = run_case(fabric, spec_for(p, case["kind"], case["scheme"], g), options,
                              p.scaleup_mbps * 1e6, case["seed"], round(p.timeout_s * 1e9), progress)
            records.append({"case": case, **record})
    else:
        records, error = emulate_trial(TRIAL_MODULE, "su", i, {**p.as_dict(), "domain": g},
                                       len(topology(p, g).switches()), todo,
                                       timeout=180 + len(todo) * (p.timeout_s + 30), progress=progress)
    rows = [case_row(p, g, r["case"]["kind"], r["case"]["scheme"], r["case"]["seed"], r) for r in records]
    unit, factor = p.busbw_unit

    def done(row: dict[str, Any]) -> str:
        return (f"busbw {row['busbw_gbs'] * factor:.2f} {unit}, #wrong {row['wrong']}, "
                f"{100 * row['intra_share']:.0f}% inside domains")

    return rows, report_seed_major_cases(rows, f"G={g}", len(todo), done, error, progress)


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run the experiment at `scale` in `mode`, one trial per domain size where `sweep`
    says; `overrides` replace parameters."""
    p = params_for(scale, mode, **overrides)
    preflight(p.mode, p.target)
    started = time.monotonic()
    run_name, files = start_run(NAME, scale, p.mode, out_dir)
    total = len(p.domain_sizes) * len(p.seeds) * len(p.kinds) * len(p.schemes)
    progress(f"{NAME} ({p.mode}, {scale}): {total} cases in {len(p.domain_sizes)} trials; "
             f"{p.accelerators} accelerators, G = {', '.join(map(str, p.domain_sizes))}, "
             f"{p.nbytes >> 10} KiB per rank, {p.rates}, seeds {', '.join(map(str, p.seeds))}")
    if p.mode == "sim" and p.accelerators > 144:
        progress(f"note: flat rings of {p.accelerators} ranks take hours of wall time on a 2-core machine "
                 "(docs/scale_up.md); Ctrl-C writes the trials that finished")
    tasks = [(p, i, len(p.domain_sizes), g) for i, g in enumerate(p.domain_sizes)]
    outcome = run_trials(domain_trial, tasks, progress, p.mode, sweep)
    rows, errors = outcome.rows, outcome.errors
    wall = time.monotonic() - started
    summary = summarize_runs(rows, p)
    finish_run(NAME, run_name, scale, p, files, wall, rows, {**summary, "errors": errors},
               summary["headline"], summary_table(summary, p), summary["headline"],
               lambda png: draw(rows, p, png), progress, partial=outcome.interrupted)
    outcome.raise_if_interrupted(len(tasks), progress)
    return Result(run_name, p, rows, summary, files, wall, errors)
