"""fabriclab.labs.bottleneck picks the command of the target that runs the switch."""

import sys

import pytest

from fabriclab.errors import FabricError
from fabriclab.labs import bottleneck
from fabriclab.paths import RunDir
from topologies.builders import leaf_spine


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setattr("fabriclab.paths.RUN_DIR", tmp_path)
    rundir = RunDir("lab5")
    rundir.create()
    topo = leaf_spine(2, 2, 2)
    (rundir.path / "topology.json").write_text(topo.to_json())
    return rundir, topo


def test_builtin_switch_through_its_admin_socket(run):
    rundir, _ = run
    rundir.admin_socket("l2").touch()
    argv, stdin = bottleneck.command("lab5", "l2", 1, 100)
    assert argv == [sys.executable, "-m", "fabriclab", "switch-cli", "--socket",
                    str(rundir.admin_socket("l2")), "set_queue_rate", "100", "1"]
    assert stdin is None


def test_bmv2_through_its_thrift_cli(run):
    _, topo = run
    argv, stdin = bottleneck.command("lab5", "l2", 1, 100)
    assert argv == ["simple_switch_CLI", "--thrift-port", str(9090 + topo.switch_index("l2"))]
    assert stdin == "set_queue_rate 100 1\n"


def test_no_such_run(tmp_path, monkeypatch):
    monkeypatch.setattr("fabriclab.paths.RUN_DIR", tmp_path)
    with pytest.raises(FabricError, match="no running network 'gone'"):
        bottleneck.command("gone", "l2", 1, 100)
