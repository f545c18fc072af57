"""The figure: (a) the bottleneck queue over time per scheme (incast), (b) the long flows'
goodput into the receiver (with the wire utilisation, INT included, as an outline), Jain's
fairness of the incast and the victim's throughput per scheme, (c) the CDF of short flows'
FCT slowdown per scheme (mix: flows started after the warm-up, unfinished ones at their
lower bound), (d) their median and p99 slowdown by size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from experiments.congestion_control.params import SCHEME_LABELS, Params
from experiments.report import new_figure, save_figure


def _scale_text(p: Params) -> str:
    rate = f"{p.link_gbps:g} Gb/s" if p.link_gbps >= 1 else f"{p.link_gbps * 1000:g} Mb/s"
    where = "virtual time" if p.mode == "sim" else "Mininet, real time"
    span = (f"{p.duration_us / 1e6:g} s" if p.duration_us >= 1_000_000 else
            f"{p.duration_us / 1000:g} ms" if p.duration_us >= 1000 else f"{p.duration_us} us")
    return (f"{p.senders}:1 incast + victim, and {p.mix_long} long + short flows; {rate} host links, "
            f"{span} per case ({where}, Python P4 switch), seeds {', '.join(map(str, p.seeds))}")


def draw(rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    fig, (a, b, c, d) = new_figure(4, _scale_text(p), width=4.6)
    schemes = [s for s in p.schemes if any(r["scheme"] == s for r in rows)]
    colour = {s: f"C{i}" for i, s in enumerate(p.schemes)}
    unit = 1000 if p.mode == "sim" else 1e9  # ns -> us in sim, s in emulate
    incast = [r for r in rows if r["workload"] == "incast"]
    for r in incast:
        if r["seed"] == p.seeds[0]:
            a.plot([t / unit for t, _ in r["_queue"]], [q / 1000 for _, q in r["_queue"]],
                   label=SCHEME_LABELS[r["scheme"]], linewidth=1, color=colour[r["scheme"]])
    a.axvline(p.warmup_us * 1000 / unit, color="gray", linestyle=":", linewidth=1)
    a.set_xlabel("time (us)" if p.mode == "sim" else "time (s)")
    a.set_ylabel("bottleneck queue (KB)")
    a.set_yscale("symlog", linthresh=1)
    a.set_ylim(bottom=0)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    a.set_title("(a) incast: queue at the receiver's port\n(dotted: metrics start)", fontsize=9)

    mean = {s: {k: float(np.nanmean([r[k] for r in incast if r["scheme"] == s] or [np.nan]))
                for k in ("goodput_pct", "wire_util_pct", "jain", "victim_gbps")} for s in schemes}
    width, xs = 0.27, np.arange(len(schemes))
    b.bar(xs - width, [mean[s]["wire_util_pct"] for s in schemes], width, fill=False, edgecolor="C0",
          linestyle="--", linewidth=0.8, label="wire util. % (INT incl.)")
    b.bar(xs - width, [mean[s]["goodput_pct"] for s in schemes], width, color="C0", label="goodput, % of link")
    b.bar(xs, [100 * mean[s]["jain"] for s in schemes], width, label="Jain x 100 (incast)")
    b.bar(xs + width, [100 * mean[s]["victim_gbps"] / p.link_gbps for s in schemes], width,
          label="victim, % of link")
    b.set_xticks(list(xs), [SCHEME_LABELS[s] for s in schemes], rotation=20, ha="right", fontsize=7)
    b.set_ylim(0, 130)
    b.grid(axis="y", alpha=0.3)
    b.legend(fontsize=7, ncol=2, loc="upper center")
    b.set_title("(b) incast: long flows' goodput, fairness, victim", fontsize=9)

    mix = [r for r in rows if r["workload"] == "mix"]
    sizes = sorted(p.short_sizes)
    for s in schemes:
        got = [x for r in mix if r["scheme"] == s for x in r["_slowdowns"]]
        if not got:
            continue
        values = np.sort([x for _, x, _ in got])
        open_ = sum(not done for _, _, done in got)
        c.step(values, np.arange(1, len(values) + 1) / len(values), where="post", color=colour[s],
               label=f"{SCHEME_LABELS[s]} (n={len(values)}" + (f", {open_} unfinished)" if open_ else ")"),
               linewidth=1)
        by_size = [[x for size, x, _ in got if size == z] for z in sizes]
        d.plot(sizes, [np.median(v) if v else np.nan for v in by_size], color=colour[s], marker="o",
               markersize=3, linewidth=1, label=SCHEME_LABELS[s])
        d.plot(sizes, [np.percentile(v, 99) if v else np.nan for v in by_size], color=colour[s], marker="^",
               markersize=3, linewidth=1, linestyle="--")
    c.set_xscale("log")
    c.set_xlabel("FCT slowdown (FCT / ideal)")
    c.set_ylabel("fraction of short flows")
    if c.get_legend_handles_labels()[0]:
        c.legend(fontsize=6)
    c.grid(alpha=0.3)
    c.set_title(f"(c) mix: short flows' slowdown CDF (load {p.short_load:.0%})\n"
                f"(started after warm-up; unfinished: lower bound)", fontsize=9)
    d.set_xscale("log", base=2)
    d.set_yscale("log")
    d.set_xticks(sizes, [f"{z // 1024} KB" for z in sizes], fontsize=7)
    d.set_xlabel("short flow size")
    d.set_ylabel("FCT slowdown")
    d.grid(alpha=0.3)
    d.set_title("(d) mix: slowdown by size (o median, ^-- p99)", fontsize=9)
    save_figure(fig, path)
