"""The figure: (a) A's busbw normalised to A alone per case, (b) A's p99 iteration time
(nearest rank over the case's pooled iterations, n of them: the slowest below n = 100) and
B's throughput during A's run per case, (c) drops and ECN marks per tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.isolation.params import Params
from experiments.report import new_figure, save_figure


SHORT = {"alone": "A alone", "shared": "A+B\nno isolation", "meters": "A+B\nmeters",
         "meters_cc": "A+B meters\n+DCQCN/CCM"}


def draw(summary: list[dict[str, Any]], p: Params, path: Path) -> None:
    where = ("virtual time" if p.mode == "sim" else "Mininet, real time") + ", Python P4 switch"
    rate = f"{p.link_mbps / 1000:g} Gb/s" if p.link_mbps >= 1000 else f"{p.link_mbps:g} Mb/s"
    fig, (a, b, c) = new_figure(3, f"Tenant A ring all-reduce ({p.allreduce_bytes >> 10} KiB, "
                                   f"{len(p.tenant_hosts()[0])} ranks) vs tenant B all-to-all: {rate} hosts, "
                                   f"{p.scale()['topology']}\n({where}), {len(p.seeds)} seed(s)", width=4.6)
    labels = [SHORT[s["case"]] for s in summary]
    xs = list(range(len(summary)))
    a.bar(xs, [s["a_norm_busbw"] for s in summary], color="tab:blue", alpha=0.85)
    for x, s in zip(xs, summary):
        a.annotate(f"{s['a_norm_busbw']:.2f}", (x, s["a_norm_busbw"]), ha="center", va="bottom", fontsize=8)
    a.axhline(1.0, color="gray", linestyle=":", linewidth=1)
    a.set_ylim(0, 1.2)
    a.set_xticks(xs, labels, fontsize=7)
    a.set_ylabel("A's busbw / A alone")
    a.set_title("(a) the victim's bus bandwidth", fontsize=9)
    w = 0.4
    unit, div = ("ms", 1000) if max(s["a_iter_p99_us"] for s in summary) > 10_000 else ("us", 1)
    b.bar([x - w / 2 for x in xs], [s["a_iter_p99_us"] / div for s in summary], w,
          label=f"A p99 iteration ({unit}), of n pooled", color="tab:blue")
    for x, s in zip(xs, summary):
        b.annotate(f"n={s['a_iter_n']}", (x - w / 2, s["a_iter_p99_us"] / div), ha="center", va="bottom",
                   fontsize=6)
    b.set_ylabel(f"A's p99 iteration time ({unit})")
    b2 = b.twinx()
    b2.bar([x + w / 2 for x in xs], [s.get("b_gbps", 0.0) * 1000 / p.link_mbps for s in summary], w,
           label="B's throughput in A's run (host links)", color="tab:orange")
    b2.set_ylabel("B's throughput, in host links")
    b.set_xticks(xs, labels, fontsize=7)
    b.set_ylim(0, 1.4 * max(s["a_iter_p99_us"] / div for s in summary))  # room for the legend
    b2.set_ylim(0, 1.4 * max([s.get("b_gbps", 0.0) * 1000 / p.link_mbps for s in summary] + [0.1]))
    handles = b.get_legend_handles_labels()
    extra = b2.get_legend_handles_labels()
    b.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="upper left")
    b.set_title("(b) A's tail, B's throughput", fontsize=9)
    w = 0.2
    for k, (key, colour) in enumerate((("A_drops", "tab:blue"), ("B_drops", "tab:orange"),
                                       ("A_marks", "tab:cyan"), ("B_marks", "tab:red"))):
        c.bar([x + (k - 1.5) * w for x in xs], [s[key] for s in summary], w, label=key.replace("_", " "),
              color=colour)
    c.set_yscale("symlog", linthresh=1)
    c.set_xticks(xs, labels, fontsize=7)
    c.set_ylabel("packets per case")
    c.legend(fontsize=7)
    c.set_title("(c) drops (queue + meter) and ECN marks per tenant", fontsize=9)
    save_figure(fig, path)
