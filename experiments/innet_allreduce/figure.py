"""The innet_allreduce figure: busbw against ranks (ring, in-network, and the ring scaled by
the expected 2(n-1)/n drawn dashed), busbw against size, and busbw against loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.innet_allreduce.params import Params, expected_ratio, host_rate, rate_unit
from experiments.report import group_stats, new_figure, save_figure


def title(p: Params) -> str:
    how = "virtual time" if p.mode == "sim" else "emulated"
    return (f"In-network vs ring all-reduce: leaf-spine 2x2, {host_rate(p)} hosts, "
            f"float32 ({how}, {p.scale_name} scale, Python P4 switches)")


def _sweep(ax: Any, rows: list[dict[str, Any]], p: Params, key: str, xs: list[Any]) -> None:
    _, factor = rate_unit(p)
    for scheme in p.schemes:
        bus = group_stats([r for r in rows if r["scheme"] == scheme], lambda r: r[key], "busbw_gbs")
        got = [x for x in xs if x in bus]
        ax.plot([f"{100 * x:g}%" if key == "loss" else x for x in got], [factor * bus[x].mean for x in got],
                marker="o", label=scheme)


def draw(rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    fig, axes = new_figure(3, title(p))
    unit, factor = rate_unit(p)
    ok = [r for r in rows if r.get("busbw_gbs")]
    ax = axes[0]
    by_ranks = [r for r in ok if r["bytes"] == p.nbytes and r["loss"] == 0]
    xs = sorted({r["ranks"] for r in by_ranks})
    _sweep(ax, by_ranks, p, "ranks", xs)
    ring = group_stats([r for r in by_ranks if r["scheme"] == "ring"], lambda r: r["ranks"], "busbw_gbs")
    got = [n for n in xs if n in ring]
    ax.plot(got, [factor * ring[n].mean * expected_ratio(n) for n in got], linestyle="--", color="gray",
            label="ring x 2(n-1)/n (expected innet)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(n) for n in xs])
    ax.set_xlabel("ranks")
    ax.set_ylabel(f"busbw ({unit})")
    ax.set_title(f"busbw vs ranks, {p.nbytes >> 10} KiB per rank", fontsize=9)
    ax = axes[1]
    by_size = [r for r in ok if r["ranks"] == p.loss_ranks and r["loss"] == 0]
    sizes = sorted({r["bytes"] for r in by_size})
    _sweep(ax, by_size, p, "bytes", sizes)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [f"{b >> 10} KiB" for b in sizes])
    ax.set_xlabel("bytes per rank")
    ax.set_ylabel(f"busbw ({unit})")
    ax.set_title(f"busbw vs size, {p.loss_ranks} ranks", fontsize=9)
    ax = axes[2]
    by_loss = [r for r in ok if r["ranks"] == p.loss_ranks and r["bytes"] == p.nbytes]
    _sweep(ax, by_loss, p, "loss", sorted({r["loss"] for r in by_loss}))
    ax.set_xlabel("loss per switch egress")
    ax.set_ylabel(f"busbw ({unit})")
    ax.set_title(f"busbw vs loss, {p.loss_ranks} ranks, {p.nbytes >> 10} KiB"
                 + (" (Mininet: no loss model)" if p.mode == "emulate" else ""), fontsize=9)
    for ax in axes:
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_figure(fig, path)
