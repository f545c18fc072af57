"""`fabriclab int plot RUN|CSV`: queue depth per hop, labelled with switch names."""

import pytest

from controller import int_plot
from fabriclab.cli import main
from topologies import builders

CSV = ("recv_time_s,hop,switch_id,qdepth\n"
       "1.0,0,2,3\n1.0,1,1,7\n1.5,0,2,5\n1.5,1,1,9\n")


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setattr("fabriclab.paths.RUN_DIR", tmp_path)
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "int.csv").write_text(CSV)
    (tmp_path / "r1" / "topology.json").write_text(builders.leaf_spine(leaves=2, spines=1).to_json())
    return tmp_path / "r1"


def test_labels_carry_switch_names(run):
    series = int_plot.load_series(run / "int.csv")
    names = int_plot.switch_names((run / "topology.json").read_text())
    assert names == {1: "s1", 2: "l1", 3: "l2"}  # the controller's INT id: topology index + 1
    assert int_plot.hop_labels(series, names) == ["hop 0: l1", "hop 1: s1"]
    assert int_plot.hop_labels(series, {}) == ["hop 0: switch 2", "hop 1: switch 1"]


def test_plot_a_run_by_name(run, capsys):
    pytest.importorskip("matplotlib")
    assert main(["int", "plot", "r1"]) == 0
    assert (run / "int.png").stat().st_size > 0
    assert f"wrote {run / 'int.png'}" in capsys.readouterr().out


def test_plot_a_csv_with_output(run, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "fig" / "q.png"
    assert main(["int", "plot", str(run / "int.csv"), "-o", str(out)]) == 0
    assert out.stat().st_size > 0


def test_unknown_source_is_a_one_line_error(run, capsys):
    assert main(["int", "plot", "nosuch"]) == 2
    assert "no INT CSV or run named 'nosuch'" in capsys.readouterr().err
