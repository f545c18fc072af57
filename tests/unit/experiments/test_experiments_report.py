"""CDF, summary statistics, the text table and the plotting helpers."""

from __future__ import annotations

import math

from experiments.report import (ecdf, format_table, group_stats, new_figure, plot_bars, plot_cdfs,
                                save_figure, stats)


def test_ecdf_steps_to_one():
    xs, ys = ecdf([3.0, 1.0, 2.0, 2.0])
    assert xs == [1.0, 2.0, 2.0, 3.0]
    assert ys == [0.25, 0.5, 0.75, 1.0]


def test_stats_mean_std_and_spread():
    s = stats([40.0, 50.0, 60.0])
    assert (s.n, s.mean, s.min, s.max, s.spread) == (3, 50.0, 40.0, 60.0, 20.0)
    assert math.isclose(s.std, 10.0)
    assert stats([7.0]).std == 0.0
    assert math.isnan(stats([]).mean)


def test_group_stats_groups_in_order_and_skips_missing_values():
    rows = [{"s": "b", "v": 1.0}, {"s": "a", "v": 3.0}, {"s": "b", "v": 3.0}, {"s": "a", "v": None},
            {"s": "a", "v": ""}, {"s": "c"}]
    g = group_stats(rows, lambda r: r["s"], "v")
    assert list(g) == ["b", "a"]
    assert g["b"].mean == 2.0 and g["a"].n == 1


def test_table_aligns_columns_and_formats_floats():
    text = format_table(("scheme", "% ideal"), [("ecmp+gbn", 45.25), ("adaptive+ooo", float("nan"))])
    lines = text.splitlines()
    assert lines[0].startswith("scheme") and set(lines[1]) <= {"-", " "}
    assert lines[2].endswith("45.2") or lines[2].endswith("45.3")
    assert lines[3].endswith("-")
    assert len({len(line) for line in lines}) == 1


def test_plots_write_a_png(tmp_path):
    fig, (a, b) = new_figure(2, "title")
    plot_cdfs(a, {"x": [1.0, 2.0], "empty": []}, "value")
    plot_bars(b, ["x", "y"], [1.0, float("nan")], [0.1, 0.0], "busbw")
    path = tmp_path / "f.png"
    save_figure(fig, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
