"""Congestion control on a lossless fabric: a 7:1 incast plus a victim flow that shares the
bottleneck's upstream link, under none (lossy, window only), PFC only, DCQCN+PFC with fixed
ECN, DCQCN+PFC with the CC manager (rate-based ECN, switch notification, adaptive), and
HPCC (INT to the receiver) with PFC.

`run(scale="quick", out_dir=..., progress=print, mode="sim") -> Result` is what
`fabriclab run congestion_control --mode sim` calls. Sim mode only (virtual time, 100 Gb/s,
no root): one fresh fabric per scheme and seed (`sim.py`). The run JSON's `headline` gives
the p99 bottleneck queue and the utilisation per scheme, and is printed last.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from experiments.congestion_control.figure import draw
from experiments.congestion_control.metrics import case_row
from experiments.congestion_control.params import SCHEME_LABELS, Params, params_for
from experiments.congestion_control.sim import run_scheme
from experiments.report import format_table, group_stats
from experiments.results import RunFiles, finish_run, start_run

NAME = "congestion_control"
METRICS = ("queue_p50_kb", "queue_p99_kb", "utilisation_pct", "jain", "victim_gbps", "retransmissions",
           "drops", "pauses", "switch_paused_us", "host_paused_us")


@dataclass
class Result:
    run: str
    params: Params
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    headline: dict[str, dict[str, float]]
    files: RunFiles
    wall_s: float
    errors: list[str] = field(default_factory=list)

    def scheme(self, scheme: str) -> dict[str, Any]:
        return next(s for s in self.summary if s["scheme"] == scheme)


def summarize(rows: list[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """Per scheme: the mean over seeds of every metric."""
    stats = {m: group_stats(rows, lambda r: r["scheme"], m) for m in METRICS}
    return [{"scheme": s, "seeds": stats["utilisation_pct"][s].n, **{m: stats[m][s].mean for m in METRICS}}
            for s in p.schemes if s in stats["utilisation_pct"]]


def headline(summary: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {s["scheme"]: {"p99_queue_kb": round(s["queue_p99_kb"], 2),
                          "utilisation_pct": round(s["utilisation_pct"], 1),
                          "victim_gbps": round(s["victim_gbps"], 2)} for s in summary}


def summary_table(summary: list[dict[str, Any]]) -> str:
    headers = ("scheme", "q p50 KB", "q p99 KB", "util %", "Jain", "victim Gb/s", "retx", "drops", "pauses",
               "paused us")
    return format_table(headers, [(SCHEME_LABELS[s["scheme"]], s["queue_p50_kb"], s["queue_p99_kb"],
                                   s["utilisation_pct"], s["jain"], s["victim_gbps"], s["retransmissions"],
                                   s["drops"], s["pauses"], s["switch_paused_us"]) for s in summary])


def run(scale: str = "quick", out_dir: Path | str | None = None, progress: Callable[[str], None] = print,
        mode: str = "sim", **overrides: Any) -> Result:
    """Run every scheme at `scale` ("quick" or "full"); `overrides` replace parameters."""
    p = params_for(scale, mode, **overrides)
    started = time.monotonic()
    run_name, files = start_run(NAME, f"sim-{scale}", out_dir)
    progress(f"{NAME} (sim, {scale}): {len(p.schemes)} schemes x {len(p.seeds)} seeds; {p.senders}:1 incast "
             f"+ victim, {p.link_gbps:g} Gb/s, {p.duration_us} simulated us each")
    records, rows = [], []
    for seed in p.seeds:
        for scheme in p.schemes:
            record = run_scheme(p, scheme, seed)
            records.append(record)
            rows.append(case_row(record))
            r = rows[-1]
            progress(f"  {SCHEME_LABELS[scheme]}, seed {seed}: p99 queue {r['queue_p99_kb']:.1f} KB, "
                     f"utilisation {r['utilisation_pct']:.1f}%, victim {r['victim_gbps']:.1f} Gb/s "
                     f"({r['wall_s']:.0f} s wall)")
    wall = time.monotonic() - started
    summary = summarize(rows, p)
    head = headline(summary)
    finish_run(NAME, run_name, scale, p, files, wall, rows, {"schemes": summary, "headline": head}, head,
               summary_table(summary),
               "headline: " + "; ".join(f"{SCHEME_LABELS[s]}: p99 queue {h['p99_queue_kb']:g} KB, "
                                        f"utilisation {h['utilisation_pct']:g}%" for s, h in head.items()),
               lambda png: draw(records, rows, p, png), progress, target="builtin")
    return Result(run_name, p, rows, summary, head, files, wall)
