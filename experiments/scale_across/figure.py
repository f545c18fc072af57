"""The scale_across figure: busbw against DCI distance per scheme, one panel per collective,
with the ideal (one NIC's rate) line and, under a slower DCI, the DCI's rate; in sim, one more panel: the intra-site probes' p99
from each collective's start to its end, against the idle fabric's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.report import group_stats, new_figure, save_figure
from experiments.scale_across.params import Params, spec_for


def title(p: Params) -> str:
    how = "virtual time" if p.mode == "sim" else "Mininet, real time"
    return (f"Scale-across: busbw vs DCI distance, {p.sites} sites x {p.ranks_per_site} ranks, "
            f"{p.nbytes >> 10} KiB,\n{p.nic_gbps:g} Gb/s NICs, {p.dci_gbps:g} Gb/s DCI "
            f"({how}, {p.scale_name} scale, Python P4 switches)")


def _distance_axis(ax: Any, p: Params) -> None:
    xs = list(p.distances_km)
    far = [d for d in xs if d > 0]
    if far and max(far) >= 10 * min(far):  # decades apart (sim: 10-1,000 km); else linear (1,000-4,000)
        ax.set_xscale("symlog", linthresh=10)
    ax.set_xticks(xs, [f"{d:g}\n{p.one_way_us[d] / 1000:g} ms" for d in xs], fontsize=7)
    ax.set_xlabel("DCI distance (km; one-way delay at 5 us/km)")
    ax.grid(alpha=0.3)


def draw(rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    ok = [r for r in rows if r.get("busbw_gbs") is not None]
    probed = [r for r in ok if r.get("probe_p99_us") is not None]
    panels = len(p.kinds) + bool(probed)
    fig, axes = new_figure(panels, title(p), width=max(5.0, 8.0 / panels))
    for ax, kind in zip(axes, p.kinds):
        for scheme in p.schemes:
            bus = group_stats([r for r in ok if r["kind"] == kind and r["scheme"] == scheme],
                              lambda r: r["km"], "busbw_gbs")
            ds = [d for d in p.distances_km if d in bus]
            flat = scheme == "adaptive_hier" and spec_for(p, kind, scheme).algo != "hier"
            ax.plot(ds, [bus[d].mean for d in ds], marker="o",
                    label=f"{scheme} (no hier schedule: runs adaptive's)" if flat else scheme)
        ax.axhline(p.ideal_gbs, color="gray", linestyle="--", linewidth=1, label="ideal (NIC rate)")
        if p.dci_gbps < p.nic_gbps:
            ax.axhline(p.dci_gbps / 8, color="gray", linestyle=":", linewidth=1, label="DCI rate (a flat ring's bound)")
        ax.set_yscale("log")
        _distance_axis(ax, p)
        ax.set_ylabel("busbw (GB/s)")
        ax.set_title(kind, fontsize=9)
        ax.legend(fontsize=8)
    if probed:
        ax = axes[-1]
        for scheme in p.schemes:
            p99 = group_stats([r for r in probed if r["scheme"] == scheme], lambda r: r["km"], "probe_p99_us")
            ds = [d for d in p.distances_km if d in p99]
            ax.plot(ds, [p99[d].mean for d in ds], marker="o", label=f"during {scheme}")
        idle = group_stats(probed, lambda r: r["km"], "probe_idle_p99_us")
        ds = [d for d in p.distances_km if d in idle]
        ax.plot(ds, [idle[d].mean for d in ds], color="gray", linestyle="--", label="idle fabric")
        _distance_axis(ax, p)
        ax.set_ylabel(f"intra-site p99 latency (us), {p.probe_bytes >> 10} KiB WRITE")
        ax.set_title(f"intra-site traffic over each whole collective (a WRITE per {p.probe_interval_us:g} us)",
                     fontsize=9)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    save_figure(fig, path)
