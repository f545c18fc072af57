"""Numbers and pictures shared by experiments: empirical CDFs, per-group summaries, a
plain-text summary table, and matplotlib helpers (Agg backend: no display needed)."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402


def _register_bundled_fonts() -> None:
    """matplotlib keeps one font cache per user: one written by another installation (a
    removed clone's venv, say) lists none of this one's bundled fonts, and log axes' tick
    labels (mathtext, STIX fallback) then print a page of findfont warnings in every run."""
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for path in sorted(Path(matplotlib.get_data_path(), "fonts", "ttf").glob("*.ttf")):
        if str(path) not in known:
            font_manager.fontManager.addfont(path)


_register_bundled_fonts()


def ecdf(values: Iterable[float]) -> tuple[list[float], list[float]]:
    """Sorted values and P(X <= x) at each: the points of an empirical CDF."""
    xs = sorted(values)
    n = len(xs)
    return xs, [(i + 1) / n for i in range(n)]


@dataclass(frozen=True)
class Stats:
    n: int
    mean: float
    std: float    # sample standard deviation (0 for one value)
    min: float
    max: float

    @property
    def spread(self) -> float:
        """max - min: how much the outcome depends on the seed."""
        return self.max - self.min


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile by nearest rank: the ceil(q/100 x n)-th smallest value (1-based),
    the least sample with at least q % of them at or below it; None without samples. Below
    100 samples p99 is the largest."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(round(q * len(ordered) / 100, 9))  # q x n first: 7/100*100 is 7.000000000000001
    return ordered[min(len(ordered), max(1, rank)) - 1]


def value_at(samples: Sequence[Sequence[float]], t: float) -> float:
    """A counter sampled as (time, value so far), linearly interpolated at time `t`: the
    first value before the first sample, the last after the last, 0 without samples."""
    if not samples:
        return 0.0
    if t <= samples[0][0]:
        return float(samples[0][1])
    for (t0, v0), (t1, v1) in zip(samples, samples[1:]):
        if t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else float(v1)
    return float(samples[-1][1])


def stats(values: Sequence[float]) -> Stats:
    if not values:
        return Stats(0, math.nan, math.nan, math.nan, math.nan)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return Stats(len(values), statistics.fmean(values), std, min(values), max(values))


def group_stats(rows: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str],
                metric: str) -> dict[str, Stats]:
    """Stats of `metric` per group, groups in first-seen order; rows without it are skipped."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        value = row.get(metric)
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            continue
        groups.setdefault(key(row), []).append(float(value))
    return {g: stats(v) for g, v in groups.items()}


def mean_table(rows: Sequence[Mapping[str, Any]], axes: Mapping[str, Sequence[Any]],
                means: Sequence[str], sums: Sequence[str]) -> list[dict[str, Any]]:
    """One entry per combination of `axes` values (in their order) that has rows with a
    busbw: the axes, the mean over those rows (seeds) of `means`, the total of `sums` and
    `seeds` (the seeds those rows ran). Entries can average different seeds when one failed:
    compare them with `paired_ratio`, not by dividing their means."""
    table = []
    for combo in itertools.product(*axes.values()):
        sel = [r for r in rows if tuple(r[k] for k in axes) == combo and r.get("busbw_gbs") is not None]
        if sel:
            table.append({**dict(zip(axes, combo)), **{m: sum(r[m] for r in sel) / len(sel) for m in means},
                          **{m: sum(r[m] for r in sel) for m in sums},
                          "seeds": sorted({r["seed"] for r in sel if "seed" in r})})
    return table


def paired_ratio(rows: Sequence[Mapping[str, Any]], where: Mapping[str, Any], axis: str, num: Any, den: Any,
                 metric: str = "busbw_gbs") -> tuple[float, tuple[Any, ...]] | None:
    """Among the rows matching `where`, the ratio of the mean `metric` at `axis` = `num` to
    that at `axis` = `den`, both over the same seeds: those where both have the metric
    (succeeded). A seed that failed for one side is left out of both means, so the ratio never
    compares different seed sets. (ratio, those seeds), or None without a common seed or with
    a zero denominator."""
    def by_seed(value: Any) -> dict[Any, float]:
        return {r["seed"]: float(r[metric]) for r in rows
                if r.get(axis) == value and r.get(metric) is not None
                and all(r.get(k) == v for k, v in where.items())}

    top, bottom = by_seed(num), by_seed(den)
    seeds = tuple(sorted(top.keys() & bottom.keys()))
    total = sum(bottom[s] for s in seeds)
    if not seeds or not total:
        return None
    return sum(top[s] for s in seeds) / total, seeds


def seeds_note(used: Iterable[Sequence[Any]]) -> str:
    """How headline ratios were taken: 'ratio of means over seeds 1, 2' when they share one
    seed set, else 'ratios of means over the seeds both sides succeeded in' (each stated)."""
    sets = {tuple(s) for s in used}
    if len(sets) == 1:
        (only,) = sets
        return f"ratio of means over seeds {', '.join(map(str, only))}"
    return "ratios of means over the seeds where both sides succeeded"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-width text table; floats get one decimal."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
            for r in cells]
    return "\n".join([line, sep, *body])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.1f}"
    return str(value)


def plot_cdfs(ax: Any, series: Mapping[str, Sequence[float]], xlabel: str) -> None:
    """One step CDF per label (drawn from 0 so a single value is still a visible step)."""
    for label, values in series.items():
        if not values:
            continue
        xs, ys = ecdf(values)
        ax.step([xs[0], *xs], [0.0, *ys], where="post", label=label, linewidth=1.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of seeds")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")


def plot_bars(ax: Any, labels: Sequence[str], means: Sequence[float], errors: Sequence[float],
              ylabel: str) -> None:
    """Bars with error bars, labelled with their value."""
    xs = range(len(labels))
    bars = ax.bar(xs, means, yerr=errors, capsize=3, color="tab:blue", alpha=0.8)
    ax.set_xticks(list(xs), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    for bar, m in zip(bars, means):
        if not math.isnan(m):  # inside the bar, clear of the error bar
            ax.annotate(f"{m:.1f}", (bar.get_x() + bar.get_width() / 2, m / 2), ha="center",
                        va="center", fontsize=8, color="white")


def new_figure(ncols: int, title: str, width: float = 5.0, height: float = 4.2) -> tuple[Any, list[Any]]:
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height))
    fig.suptitle(title, fontsize=10)
    return fig, list(axes) if ncols > 1 else [axes]


def save_figure(fig: Any, path: Any) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
