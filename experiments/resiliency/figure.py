"""Goodput around a failure, per scheme: every failure of every run aligned on its instant,
goodput as a share of the failure-free run's mean, averaged per scheme; one panel per
collective. The title states the scale and the two times that decide the shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.resiliency.params import Params

def aligned(rows: list[dict[str, Any]], scheme: str, collective: str, before_us: float,
            after_us: float) -> tuple[list[float], list[float]]:
    """(time from the failure in us, mean goodput share) over every failure of `scheme`."""
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for r in rows:
        if r["scheme"] != scheme or r["collective"] != collective or not r["failures"]:
            continue
        width = float(r["bin_us"])
        values = [float(v) for v in r["goodput_series"].split()]
        for t in (float(x) for x in r["failure_times_us"].split()):
            at = int(t // width)
            for k in range(-int(before_us // width), int(after_us // width) + 1):
                if 0 <= at + k < len(values):
                    sums[k] = sums.get(k, 0.0) + values[at + k]
                    counts[k] = counts.get(k, 0) + 1
    ks = sorted(sums)
    width = float(next((r["bin_us"] for r in rows), 1))
    return [k * width for k in ks], [sums[k] / counts[k] for k in ks]


def draw(rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    after = max(3 * p.rto_us, 4 * p.control_delay_us, 30 * p.bin_us)
    before = 5 * p.bin_us
    collectives = [c for c in p.collectives if any(r["collective"] == c for r in rows)]
    fig, axes = plt.subplots(1, len(collectives), figsize=(max(8, 6 * len(collectives)), 4.4), squeeze=False)
    unit, scale = ("ms", 1e3) if p.bin_us >= 1000 else ("us", 1.0)
    for ax, collective in zip(axes[0], collectives):
        for scheme in p.schemes:
            xs, ys = aligned(rows, scheme, collective, before, after)
            if xs:
                style = "-" if scheme.startswith("fast") else "--"
                ax.plot([x / scale for x in xs], ys, style, label=scheme, linewidth=1.6)
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.axhline(1.0, color="grey", linewidth=0.6, linestyle=":")
        ax.set_title(f"{collective}, {p.hosts} ranks")
        ax.set_xlabel(f"time from the link failure ({unit})")
        ax.set_ylabel("goodput / failure-free mean")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    rate = f"{p.link_gbps:g} Gb/s" if p.link_gbps >= 1 else f"{p.link_gbps * 1000:g} Mb/s"
    controller = (f"controller reroutes {p.control_delay_us} us after the port event" if p.mode == "sim"
                  else "controller: real (Mininet, built-in switch)")
    fig.suptitle(f"resiliency ({p.mode}, {p.scale_name}): {p.leaves}x{p.spines} leaf-spine, "
                 f"{rate} links, {controller},\nRoCE RTO {p.rto_us / scale:g} {unit}, "
                 f"goodput per {p.bin_us / scale:g} {unit}; {len(p.seeds)} seed(s), "
                 f"{', '.join(map(str, p.failures))} failure(s) per run", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
