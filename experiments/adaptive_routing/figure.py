"""The experiment's figure: (a) CDF over seeds of the permutation's % of ideal per scheme,
(b) all-reduce bus bandwidth per scheme, (c) what happened: each uplink's load in one
seed's permutation, ECMP's collisions next to adaptive routing's even spread."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from experiments.adaptive_routing.metrics import uplink_loads
from experiments.adaptive_routing.params import Params
from experiments.report import group_stats, new_figure, plot_bars, plot_cdfs, save_figure

PANEL_C_SCHEMES = ("ecmp+gbn", "flowlet+gbn", "adaptive+ooo")


def ecmp_expectation(flows: int, links: int) -> float:
    """% of capacity used when `flows` equal flows hash uniformly onto `links` links: the
    expected share of links that get at least one flow (1-(1-1/N)^N for N flows on N)."""
    return 100 * (1 - (1 - 1 / links) ** flows) * links / flows


def title(p: Params) -> str:
    rate = f"{p.link_mbps / 1000:g} Gb/s" if p.link_mbps >= 1000 else f"{p.link_mbps:g} Mb/s"
    how = "virtual time" if p.mode == "sim" else "emulated"
    return (f"ECMP vs flowlet vs adaptive routing: {p.leaves}x{p.spines} leaf-spine, "
            f"{p.hosts} hosts, {rate} links ({how}, {p.scale_name} scale, Python P4 switch), "
            f"{len(p.seeds)} seeds")


def draw(rows: list[dict[str, Any]], p: Params, path: Path) -> None:
    fig, (a, b, c) = new_figure(3, title(p))
    ok = [r for r in rows if r.get("pct_ideal") is not None]
    perm = [r for r in ok if r["workload"] == "permutation"]
    series: dict[str, list[float]] = {}
    for r in perm:
        series.setdefault(r["scheme"], []).append(float(r["pct_ideal"]))
    plot_cdfs(a, series, "permutation goodput, % of link rate (mean over flows)")
    expected = ecmp_expectation(p.hosts_per_leaf, p.spines)
    a.axvline(expected, color="gray", linestyle=":", linewidth=1)
    a.annotate(f"random hashing:\n{expected:.0f}% expected", (expected, 0.05), fontsize=7, color="gray",
               xytext=(3, 0), textcoords="offset points")
    a.set_title("(a) long flows, one value per seed", fontsize=9)

    bus = group_stats([r for r in ok if r["workload"] == "allreduce"], lambda r: r["scheme"], "busbw_mbps")
    labels = [s for s in p.schemes if s in bus]
    plot_bars(b, labels, [bus[s].mean for s in labels],
              [0.0 if math.isnan(bus[s].std) else bus[s].std for s in labels], "busbw (Mb/s)")
    b.axhline(p.link_mbps, color="gray", linestyle="--", linewidth=1)
    b.set_title(f"(b) {p.hosts}-rank ring all-reduce, {p.allreduce_bytes >> 10} KiB "
                f"(dashed: link rate)", fontsize=9)

    seed = p.seeds[0]
    shown = [s for s in PANEL_C_SCHEMES if s in p.schemes] or list(p.schemes[:3])
    loads = {r["scheme"]: uplink_loads(r) for r in perm if r["seed"] == seed and r["scheme"] in shown}
    links = sorted({k for v in loads.values() for k in v})
    width = 0.8 / max(1, len(loads))
    for i, (scheme, values) in enumerate(loads.items()):
        c.bar([x + i * width for x in range(len(links))], [values.get(k, 0.0) for k in links],
              width, label=scheme)
    c.set_xticks([x + width * (len(loads) - 1) / 2 for x in range(len(links))], links,
                 rotation=45, ha="right", fontsize=7)
    c.set_ylabel("uplink load, % of capacity")
    c.set_ylim(0, 125)
    c.grid(axis="y", alpha=0.3)
    if loads:  # a partial run may have no permutation row of this seed yet
        c.legend(fontsize=8, ncol=3, loc="upper center")
    c.set_title(f"(c) what happened: leaf uplinks (bytes sent, incl. resends),\n"
                f"permutation, seed {seed}", fontsize=9)
    save_figure(fig, path)
