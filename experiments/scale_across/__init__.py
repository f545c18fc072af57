"""Scale-across: collectives between sites against DCI distance, baseline vs distance-adaptive.

`run(scale="quick", out_dir=..., progress=print, mode="sim") -> Result` is what `fabriclab run
scale_across --mode sim` calls. For each DCI distance a fresh virtual-time fabric
(`params.topology`) runs every collective kind under each scheme (`params` says what
baseline, adaptive and adaptive_hier are). Rows: time, algbw/busbw (nccl-tests' GB/s),
#wrong, retransmissions and timeouts. The JSON's `headline` is the adaptive/baseline busbw
ratio per scheme at the longest distance, printed last.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from experiments.report import format_table, mean_table
from experiments.results import Result, finish_run, start_run
from experiments.scale_across.figure import draw
from experiments.scale_across.params import Params, params_for, spec_for, stack_for, topology
from fabriclab.errors import FabricError
from fabriclab.roce.runs import summarize

NAME = "scale_across"


def run_case(p: Params, fabric: Any, km: float, kind: str, scheme: str, seed: int) -> dict[str, Any]:
    """One collective on `fabric` -> its row."""
    from fabriclab.vtime.runs import run_collective

    spec = spec_for(p, kind, scheme)
    started, packets = time.monotonic(), fabric.loop.packets
    t0 = fabric.now
    ranks = run_collective(fabric.topo, spec, stack_for(p, scheme), seed, fabric=fabric,
                           limit_ns=round(p.timeout_s * 1e9))
    row: dict[str, Any] = {"km": km, "kind": kind, "scheme": scheme, "algo": spec.algo,
                           "seed": seed, "nranks": spec.nranks, "bytes": spec.bytes, "error": None}
    try:
        r = summarize(spec, ranks)
        row.update(time_us=r.time_us, algbw_gbs=r.algbw, busbw_gbs=r.busbw, wrong=r.wrong)
    except FabricError as err:
        row["error"] = str(err)[:300]
    row.update(retransmissions=sum(x["qp"].get("retransmissions", 0) for x in ranks),
               timeouts=sum(x["qp"].get("timeouts", 0) for x in ranks),
               sim_ms=(fabric.now - t0) / 1e6, packets=fabric.loop.packets - packets,
               wall_s=round(time.monotonic() - started, 2))
    return row


def summarize_runs(rows: list[dict[str, Any]], p: Params) -> dict[str, Any]:
    """Mean busbw per kind, distance and scheme; each scheme's ratio to the baseline at the
    longest distance (the headline)."""
    table = mean_table(rows, {"kind": p.kinds, "km": p.distances_km, "scheme": p.schemes},
                       ("busbw_gbs", "time_us"), ("retransmissions", "wrong"))
    far = max(p.distances_km)
    ratios: dict[str, dict[str, float]] = {}
    for kind in p.kinds:
        bus = {e["scheme"]: e["busbw_gbs"] for e in table if e["kind"] == kind and e["km"] == far}
        if bus.get("baseline"):
            ratios[kind] = {s: bus[s] / bus["baseline"] for s in bus if s != "baseline"}
    parts = [f"{kind} {scheme} {v:.2f}x" for kind, by in ratios.items() for scheme, v in by.items()]
    headline = (f"adaptive/baseline busbw at {far:g} km ({p.sites} sites x {p.ranks_per_site} ranks, "
                f"{p.nic_gbps:g} Gb/s NICs, {p.dci_gbps:g} Gb/s DCI, {p.nbytes >> 10} KiB): "
                + (", ".join(parts) if parts else "not measured"))
    return {"table": table, "ratio_at_longest": ratios, "headline": headline}


def summary_table(summary: dict[str, Any]) -> str:
    headers = ("kind", "km", "scheme", "time us", "busbw GB/s", "#retx", "#wrong")
    rows = [(e["kind"], e["km"], e["scheme"], e["time_us"], e["busbw_gbs"], e["retransmissions"],
             e["wrong"]) for e in summary["table"]]
    return format_table(headers, rows)


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", **overrides: Any) -> Result:
    """Run the experiment at `scale` in virtual time; `overrides` replace parameters."""
    from fabriclab.vtime.fabric import Fabric

    p = params_for(scale, mode, **overrides)
    started = time.monotonic()
    run_name, files = start_run(NAME, f"sim-{scale}", out_dir)
    cases = len(p.distances_km) * len(p.kinds) * len(p.schemes) * len(p.seeds)
    progress(f"{NAME} ({p.mode}, {scale}): {cases} cases; {p.sites} sites x {p.ranks_per_site} "
             f"ranks, DCI {', '.join(f'{d:g}' for d in p.distances_km)} km at {p.dci_gbps:g} Gb/s, "
             f"{p.nbytes >> 10} KiB per rank, {p.nic_gbps:g} Gb/s NICs, seeds "
             f"{', '.join(map(str, p.seeds))}")
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    done = 0
    for km in p.distances_km:
        progress(f"[{km:g} km] fresh fabric: {p.sites} sites, DCI one-way "
                 f"{topology(p, km).links[-1].ab.delay_us} us")
        fabric = Fabric(topology(p, km))
        for seed in p.seeds:
            for kind in p.kinds:
                for scheme in p.schemes:
                    done += 1
                    row = run_case(p, fabric, km, kind, scheme, seed)
                    rows.append(row)
                    if row["error"]:
                        errors.append(f"{km:g} km {kind} {scheme} seed {seed}: {row['error']}")
                    progress(f"  [{done}/{cases}] {km:g} km {kind} {scheme}: "
                             + (f"busbw {row['busbw_gbs']:.2f} GB/s, #wrong {row['wrong']}, "
                                f"{row['retransmissions']} retransmissions"
                                if not row["error"] else f"FAILED {row['error']}")
                             + f" ({row['wall_s']:.1f} s wall, {row['packets']} packets)")
    wall = time.monotonic() - started
    summary = summarize_runs(rows, p)
    finish_run(NAME, run_name, scale, p, files, wall, rows, {**summary, "errors": errors},
               summary["headline"], summary_table(summary), summary["headline"],
               lambda png: draw(rows, p, png), progress)
    return Result(run_name, p, rows, summary, files, wall, errors)
