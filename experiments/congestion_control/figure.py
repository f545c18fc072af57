"""The figure: (a) the bottleneck queue over time per scheme, (b) utilisation, Jain's
fairness of the incast and the victim's throughput per scheme."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.congestion_control.params import SCHEME_LABELS, Params
from experiments.report import new_figure, save_figure


def draw(records: list[dict[str, Any]], rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    fig, (a, b) = new_figure(2, f"{p.senders}:1 incast + victim, {p.link_gbps:g} Gb/s leaf-spine "
                                f"(virtual time, Python P4 switch), seed {p.seeds[0]}", width=6.5)
    for r in records:
        if r["seed"] != p.seeds[0]:
            continue
        a.plot([t / 1000 for t, _ in r["queue"]], [q / 1000 for _, q in r["queue"]],
               label=SCHEME_LABELS[r["scheme"]], linewidth=1)
    a.axvline(p.warmup_us, color="gray", linestyle=":", linewidth=1)
    a.set_xlabel("time (us)")
    a.set_ylabel("bottleneck queue (KB)")
    a.set_yscale("symlog", linthresh=1)
    a.set_ylim(bottom=0)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    a.set_title("(a) queue at the incast receiver's port (dotted: metrics start)", fontsize=9)
    schemes = [s for s in p.schemes if any(r["scheme"] == s for r in rows)]
    mean = {s: {k: sum(r[k] for r in rows if r["scheme"] == s) / max(1, sum(r["scheme"] == s for r in rows))
                for k in ("utilisation_pct", "jain", "victim_gbps")} for s in schemes}
    width = 0.27
    xs = range(len(schemes))
    b.bar([x - width for x in xs], [mean[s]["utilisation_pct"] for s in schemes], width, label="utilisation %")
    b.bar(list(xs), [100 * mean[s]["jain"] for s in schemes], width, label="Jain x 100 (incast)")
    b.bar([x + width for x in xs], [100 * mean[s]["victim_gbps"] / p.link_gbps for s in schemes], width,
          label="victim, % of link")
    b.set_xticks(list(xs), [SCHEME_LABELS[s] for s in schemes], rotation=20, ha="right", fontsize=7)
    b.set_ylim(0, 115)
    b.grid(axis="y", alpha=0.3)
    b.legend(fontsize=7, ncol=3, loc="upper center")
    b.set_title("(b) utilisation, fairness and the victim", fontsize=9)
    save_figure(fig, path)
