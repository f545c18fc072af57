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


def test_paired_ratio_compares_only_the_seeds_both_sides_succeeded_in():
    """flat failed seed 2 (no busbw), hier did not: the ratio is of means over seeds 1 and 3,
    not hier's mean over three seeds against flat's over two."""
    from experiments.report import mean_table, paired_ratio, seeds_note

    rows = [{"kind": "allreduce", "scheme": "hier", "seed": s, "busbw_gbs": b}
            for s, b in ((1, 4.0), (2, 1.0), (3, 8.0))]
    rows += [{"kind": "allreduce", "scheme": "flat", "seed": 1, "busbw_gbs": 2.0},
             {"kind": "allreduce", "scheme": "flat", "seed": 2, "error": "timed out"},
             {"kind": "allreduce", "scheme": "flat", "seed": 3, "busbw_gbs": 2.0},
             {"kind": "alltoall", "scheme": "flat", "seed": 1, "busbw_gbs": 9.0}]
    ratio, seeds = paired_ratio(rows, {"kind": "allreduce"}, "scheme", "hier", "flat")
    assert seeds == (1, 3) and ratio == 3.0  # (4 + 8) / (2 + 2); the unpaired means give 4.33 / 2
    assert paired_ratio(rows, {"kind": "alltoall"}, "scheme", "hier", "flat") is None  # no common seed
    table = mean_table(rows, {"kind": ("allreduce",), "scheme": ("hier", "flat")}, ("busbw_gbs",), ())
    assert [(e["scheme"], e["seeds"]) for e in table] == [("hier", [1, 2, 3]), ("flat", [1, 3])]
    assert seeds_note([(1, 3), (1, 3)]) == "ratio of means over seeds 1, 3"
    assert seeds_note([(1, 3), (1, 2, 3)]) == "ratios of means over the seeds where both sides succeeded"
