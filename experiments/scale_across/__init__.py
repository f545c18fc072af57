"""Scale-across: collectives between sites against DCI distance, baseline vs distance-adaptive.

`run(scale="quick", out_dir=..., progress=print, mode="sim", sweep=...) -> Result` is what
`fabriclab run scale_across --mode sim|emulate` calls. Each DCI distance is one trial
(`experiments.sweep.run_trials`, so --workers and --cluster spread them): a fresh fabric
(`params.topology`), in virtual time (`sim.py`, with intra-site latency probes) or on
Mininet (`trial.py`, a process of its own), runs every collective kind under each scheme
(`params` says what baseline, adaptive and adaptive_hier are). Rows: time, algbw/busbw
(nccl-tests' GB/s), #wrong, retransmissions, timeouts and, in sim, the probes' p50/p99. The
JSON's `headline` is the adaptive/baseline busbw ratio per scheme at the longest distance
(means over the seeds where both schemes succeeded; none for adaptive_hier on a kind without
a hierarchical schedule), printed last.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from experiments.cases import report_seed_major_cases
from experiments.report import format_table, mean_table, paired_ratio, seeds_note
from experiments.results import Result, finish_run, seed_major_cases, start_run
from experiments.scale_across.figure import draw
from experiments.scale_across.params import Params, params_for, spec_for, topology
from experiments.sweep import Sweep, run_trials
from experiments.trials import emulate_trial, preflight
from fabriclab.errors import FabricError
from fabriclab.roce.runs import summarize

NAME = "scale_across"
TRIAL_MODULE = "experiments.scale_across.trial"


def case_row(p: Params, km: float, record: dict[str, Any]) -> dict[str, Any]:
    c = record["case"]
    spec = spec_for(p, c["kind"], c["scheme"])
    row: dict[str, Any] = {"km": km, "one_way_us": p.one_way_us[km], "kind": c["kind"], "scheme": c["scheme"],
                           "algo": spec.algo, "seed": c["seed"], "nranks": spec.nranks, "bytes": spec.bytes,
                           "error": None}
    try:
        r = summarize(spec, record["ranks"])
        row.update(time_us=r.time_us, algbw_gbs=r.algbw, busbw_gbs=r.busbw, wrong=r.wrong)
    except FabricError as err:
        row["error"] = str(err)[:300]
    ranks = record["ranks"]
    row.update(retransmissions=sum(x.get("qp", {}).get("retransmissions", 0) for x in ranks),
               timeouts=sum(x.get("qp", {}).get("timeouts", 0) for x in ranks),
               probe_p50_us=record.get("probe_p50_us"), probe_p99_us=record.get("probe_p99_us"),
               probe_idle_p99_us=record.get("probe_idle_p99_us"), probes=record.get("probes"),
               border_cnps=record.get("border_cnps"), sim_ms=record.get("sim_ms"),
               packets=record.get("packets"), wall_s=round(record["wall_s"], 2))
    return row


def distance_trial(task: tuple[Params, int, int, float], progress: Callable[[str], None]
                   ) -> tuple[list[dict[str, Any]], list[str]]:
    """Every case at one DCI distance on a fresh fabric: (rows, errors). Module-level so
    experiments.sweep can run it in another process or on a Dask worker."""
    p, i, n, km = task
    todo = seed_major_cases(p.seeds, p.kinds, p.schemes)
    progress(f"[trial {i + 1}/{n}] {km:g} km: fresh fabric, {p.sites} sites, DCI one-way "
             f"{p.one_way_us[km]} us, {len(todo)} cases")
    error = None
    if p.mode == "sim":
        from experiments.scale_across.sim import run_distance

        records = run_distance(p, km, todo, progress)
    else:
        records, error = emulate_trial(TRIAL_MODULE, "sa", i, {**p.as_dict(), "km": km},
                                       len(topology(p, km).switches()), todo,
                                       timeout=180 + len(todo) * (p.timeout_s + 30), progress=progress)
    rows = [case_row(p, km, record) for record in records]

    def done(row: dict[str, Any]) -> str:
        probe = (f", intra-site p99 {row['probe_p99_us']:.2f} us (idle {row['probe_idle_p99_us']:.2f})"
                 if row["probe_p99_us"] is not None and row["probe_idle_p99_us"] is not None else "")
        cnps = f", {row['border_cnps']} border CNPs" if row["border_cnps"] else ""
        return (f"busbw {row['busbw_gbs']:.4g} GB/s, #wrong {row['wrong']}, "
                f"{row['retransmissions']} retransmissions{cnps}{probe}")

    return rows, report_seed_major_cases(rows, f"{km:g} km", len(todo), done, error, progress)


def summarize_runs(rows: list[dict[str, Any]], p: Params) -> dict[str, Any]:
    """Mean busbw per kind, distance and scheme; each scheme's ratio to the baseline at the
    longest distance (the headline), a ratio of means over the seeds where both succeeded
    (`report.paired_ratio`). adaptive_hier gets no ratio for a kind it runs flat (all-to-all:
    no hierarchical schedule, so it repeats adaptive)."""
    table = mean_table(rows, {"kind": p.kinds, "km": p.distances_km, "scheme": p.schemes},
                       ("busbw_gbs", "time_us"), ("retransmissions", "wrong"))
    for e in table:  # near-source notifications summed; the probes' p99 (sim) averaged over seeds
        sel = [r for r in rows if r.get("busbw_gbs") is not None
               and (r["kind"], r["km"], r["scheme"]) == (e["kind"], e["km"], e["scheme"])]
        e["border_cnps"] = sum(r.get("border_cnps") or 0 for r in sel)
        for key in ("probe_p99_us", "probe_idle_p99_us"):
            got = [r[key] for r in sel if r.get(key) is not None]
            e[key] = sum(got) / len(got) if got else None
    far = max(p.distances_km)
    ratios: dict[str, dict[str, float]] = {}
    used: list[tuple[int, ...]] = []
    flat_only: list[str] = []  # kinds without a hierarchical schedule: adaptive_hier repeats adaptive
    for kind in p.kinds:
        for scheme in p.schemes:
            if scheme == "baseline":
                continue
            if scheme == "adaptive_hier" and spec_for(p, kind, scheme).algo != "hier":
                flat_only.append(kind)
                continue
            got = paired_ratio(rows, {"kind": kind, "km": far}, "scheme", scheme, "baseline")
            if got is not None:
                ratios.setdefault(kind, {})[scheme] = got[0]
                used.append(got[1])
    parts = [f"{kind} {scheme} {v:.2f}x" for kind, by in ratios.items() for scheme, v in by.items()]
    if parts and flat_only:
        parts.append(f"{' and '.join(flat_only)} no adaptive_hier ratio (no hierarchical schedule: "
                     "adaptive_hier runs adaptive's flat one)")
    where = "virtual time" if p.mode == "sim" else f"Mininet, {p.one_way_us[far] / 1000:g} ms one way"
    headline = (f"adaptive/baseline busbw at {far:g} km ({p.sites} sites x {p.ranks_per_site} ranks, "
                f"{p.nic_gbps:g} Gb/s NICs, {p.dci_gbps:g} Gb/s DCI, {p.nbytes >> 10} KiB, {where}): "
                + (", ".join(parts) + f"; {seeds_note(used)}" if parts else "not measured"))
    return {"table": table, "ratio_at_longest": ratios, "headline": headline}


def summary_table(summary: dict[str, Any]) -> str:
    headers = ("kind", "km", "scheme", "time us", "busbw GB/s", "#retx", "#wrong", "border CNPs", "site p99 us",
               "idle p99 us")
    rows = [(e["kind"], e["km"], e["scheme"], e["time_us"], f"{e['busbw_gbs']:.4g}", e["retransmissions"],
             e["wrong"], e["border_cnps"], "-" if e["probe_p99_us"] is None else f"{e['probe_p99_us']:.2f}",
             "-" if e["probe_idle_p99_us"] is None else f"{e['probe_idle_p99_us']:.2f}") for e in summary["table"]]
    return format_table(headers, rows)


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", sweep: Sweep | None = None, **overrides: Any) -> Result:
    """Run the experiment at `scale` in `mode`, one trial per distance where `sweep` says;
    `overrides` replace parameters."""
    p = params_for(scale, mode, **overrides)
    preflight(p.mode, p.target)
    started = time.monotonic()
    run_name, files = start_run(NAME, scale, p.mode, out_dir)
    total = len(p.distances_km) * len(p.seeds) * len(p.kinds) * len(p.schemes)
    progress(f"{NAME} ({p.mode}, {scale}): {total} cases in {len(p.distances_km)} trials; {p.sites} sites x "
             f"{p.ranks_per_site} ranks, DCI {', '.join(f'{d:g}' for d in p.distances_km)} km "
             f"({', '.join(f'{us / 1000:g}' for us in p.one_way_us.values())} ms one way) at {p.dci_gbps:g} Gb/s, "
             f"{p.nbytes >> 10} KiB per rank, {p.nic_gbps:g} Gb/s NICs, seeds {', '.join(map(str, p.seeds))}")
    tasks = [(p, i, len(p.distances_km), km) for i, km in enumerate(p.distances_km)]
    outcome = run_trials(distance_trial, tasks, progress, p.mode, sweep)
    rows, errors = outcome.rows, outcome.errors
    wall = time.monotonic() - started
    summary = summarize_runs(rows, p)
    finish_run(NAME, run_name, scale, p, files, wall, rows, {**summary, "errors": errors},
               summary["headline"], summary_table(summary), summary["headline"],
               lambda png: draw(rows, p, png), progress, partial=outcome.interrupted)
    outcome.raise_if_interrupted(len(tasks), progress)
    return Result(run_name, p, rows, summary, files, wall, errors)
