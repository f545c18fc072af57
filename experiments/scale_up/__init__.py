"""Scale-up domains: flat ring over scale-out vs hierarchical collectives, against domain size.

`run(scale="quick", out_dir=..., progress=print, mode="sim") -> Result` is what `fabriclab run
scale_up --mode sim` calls. For each domain size G a fresh virtual-time fabric of the same
total accelerator count (`params.topology`: domains of G on G rails) runs every collective
kind under both schemes: "flat" (the ring or direct schedule, every byte over the
scale-out NICs) and "hier" (`algo="hier"`: reduce-scatter and all-gather inside the domain
over scale-up, all-reduce across domains per rail; all-to-all's local part over scale-up).
Rows: time, algbw/busbw (nccl-tests' GB/s), #wrong and the share of bytes that stayed
inside the domains. The JSON's `headline` is the hierarchical/flat busbw speed-up at the
largest domain, printed last.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from experiments.report import format_table, mean_table
from experiments.results import Result, finish_run, start_run
from experiments.scale_up.figure import draw
from experiments.scale_up.params import Params, params_for, topology
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions, summarize

NAME = "scale_up"


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
    """Per kind, scheme and G: mean busbw over seeds; the headline speed-ups at the largest G."""
    table = mean_table(rows, {"kind": p.kinds, "domain": p.domain_sizes, "scheme": p.schemes},
                       ("busbw_gbs", "time_us", "intra_share"), ("wrong",))
    largest = max(p.domain_sizes)
    speedups = {}
    for kind in p.kinds:
        bus = {e["scheme"]: e["busbw_gbs"] for e in table if e["kind"] == kind and e["domain"] == largest}
        if bus.get("flat") and "hier" in bus:
            speedups[kind] = bus["hier"] / bus["flat"]
    parts = [f"{k} {v:.2f}x" for k, v in speedups.items()]
    headline = (f"hierarchical/flat busbw at G={largest} ({p.accelerators} accelerators, "
                f"{p.nic_gbps:g} Gb/s NICs, scale-up {p.scaleup_ratio:g}:1): "
                + (", ".join(parts) if parts else "not measured"))
    return {"table": table, "speedup_at_largest": speedups, "headline": headline}


def summary_table(summary: dict[str, Any]) -> str:
    headers = ("kind", "G", "scheme", "time us", "busbw GB/s", "inside %", "#wrong")
    rows = [(e["kind"], e["domain"], e["scheme"], e["time_us"], e["busbw_gbs"],
             100 * e["intra_share"], e["wrong"]) for e in summary["table"]]
    return format_table(headers, rows)


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", **overrides: Any) -> Result:
    """Run the experiment at `scale` in virtual time; `overrides` replace parameters."""
    from experiments.scale_up.sim import run_case
    from fabriclab.vtime.fabric import Fabric

    p = params_for(scale, mode, **overrides)
    started = time.monotonic()
    run_name, files = start_run(NAME, f"sim-{scale}", out_dir)
    cases = len(p.domain_sizes) * len(p.kinds) * len(p.schemes) * len(p.seeds)
    progress(f"{NAME} ({p.mode}, {scale}): {cases} cases; {p.accelerators} accelerators, "
             f"G = {', '.join(map(str, p.domain_sizes))}, {p.nbytes >> 10} KiB per rank, "
             f"{p.nic_gbps:g} Gb/s NICs, scale-up {p.scaleup_mbps / 1000:g} Gb/s "
             f"({p.scaleup_ratio:g}:1), seeds {', '.join(map(str, p.seeds))}")
    options = RunOptions(iters=p.iters, warmup=p.warmup, line_rate=p.nic_mbps * 1e6, pmtu=p.pmtu,
                         window=p.window)
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    done = 0
    for g in p.domain_sizes:
        progress(f"[G={g}] fresh fabric: {p.accelerators // g} domains of {g} on {g} rail(s)")
        fabric = Fabric(topology(p, g))
        for seed in p.seeds:
            for kind in p.kinds:
                for scheme in p.schemes:
                    done += 1
                    record = run_case(fabric, spec_for(p, kind, scheme, g), options,
                                      p.scaleup_mbps * 1e6, seed, round(p.timeout_s * 1e9), progress)
                    row = case_row(p, g, kind, scheme, seed, record)
                    rows.append(row)
                    if row["error"]:
                        errors.append(f"G={g} {kind} {scheme} seed {seed}: {row['error']}")
                    progress(f"  [{done}/{cases}] G={g} {kind} {scheme}: "
                             + (f"busbw {row['busbw_gbs']:.1f} GB/s, #wrong {row['wrong']}, "
                                f"{100 * row['intra_share']:.0f}% inside domains"
                                if not row["error"] else f"FAILED {row['error']}")
                             + f" ({row['wall_s']:.1f} s wall, {row['packets']} packets)")
    wall = time.monotonic() - started
    summary = summarize_runs(rows, p)
    finish_run(NAME, run_name, scale, p, files, wall, rows, {**summary, "errors": errors},
               summary["headline"], summary_table(summary), summary["headline"],
               lambda png: draw(rows, p, png), progress)
    return Result(run_name, p, rows, summary, files, wall, errors)
