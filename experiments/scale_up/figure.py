"""The scale_up figure: busbw against domain size per scheme, one panel per collective, and
the share of bytes that stayed inside the domains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.report import group_stats, new_figure, save_figure
from experiments.scale_up.params import Params


def title(p: Params) -> str:
    how = "virtual time" if p.mode == "sim" else "emulated"
    return (f"Scale-up domains: flat vs hierarchical, {p.accelerators} accelerators, "
            f"{p.nbytes >> 10} KiB, {p.rates}\n({how}, {p.scale_name} scale, Python P4 switches)")


def draw(rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    fig, axes = new_figure(len(p.kinds) + 1, title(p))
    ok = [r for r in rows if r.get("busbw_gbs") is not None]
    unit, scale = p.busbw_unit
    xs = list(p.domain_sizes)
    for ax, kind in zip(axes, p.kinds):
        for scheme in p.schemes:
            bus = group_stats([r for r in ok if r["kind"] == kind and r["scheme"] == scheme],
                              lambda r: r["domain"], "busbw_gbs")
            gs = [g for g in xs if g in bus]
            ax.plot(gs, [bus[g].mean * scale for g in gs], marker="o", label=scheme)
        ax.axhline(p.nic_gbps / 8 * scale, color="gray", linestyle="--", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [str(g) for g in xs])
        ax.set_xlabel("domain size G (accelerators per scale-up domain)")
        ax.set_ylabel(f"busbw ({unit})")
        ax.set_title(f"{kind} (dashed: one NIC's rate)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax = axes[-1]
    for kind in p.kinds:
        for scheme in p.schemes:
            share = group_stats([r for r in ok if r["kind"] == kind and r["scheme"] == scheme],
                                lambda r: r["domain"], "intra_share")
            gs = [g for g in xs if g in share]
            ax.plot(gs, [100 * share[g].mean for g in gs], marker="o", label=f"{kind} {scheme}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(g) for g in xs])
    ax.set_xlabel("domain size G")
    ax.set_ylabel("bytes delivered by scale-up switches, %")
    ax.set_title("share of bytes that stayed inside domains", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)
