"""The scale_across figure: busbw against DCI distance per scheme, one panel per collective,
with the ideal (one NIC's rate) line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.report import group_stats, new_figure, save_figure
from experiments.scale_across.params import Params


def title(p: Params) -> str:
    how = "virtual time" if p.mode == "sim" else "emulated"
    return (f"Scale-across: busbw vs DCI distance, {p.sites} sites x {p.ranks_per_site} ranks, "
            f"{p.nbytes >> 10} KiB,\n{p.nic_gbps:g} Gb/s NICs, {p.dci_gbps:g} Gb/s DCI "
            f"({how}, {p.scale_name} scale, Python P4 switches)")


def draw(rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    fig, axes = new_figure(len(p.kinds), title(p))
    ok = [r for r in rows if r.get("busbw_gbs") is not None]
    xs = list(p.distances_km)
    for ax, kind in zip(axes, p.kinds):
        for scheme in p.schemes:
            bus = group_stats([r for r in ok if r["kind"] == kind and r["scheme"] == scheme],
                              lambda r: r["km"], "busbw_gbs")
            ds = [d for d in xs if d in bus]
            ax.plot(ds, [bus[d].mean for d in ds], marker="o", label=scheme)
        ax.axhline(p.ideal_gbs, color="gray", linestyle="--", linewidth=1, label="ideal (NIC rate)")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_yscale("log")
        ax.set_xticks(xs, [f"{d:g}" for d in xs])
        ax.set_xlabel("DCI distance (km, 5 us/km one way)")
        ax.set_ylabel("busbw (GB/s)")
        ax.set_title(kind, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)
