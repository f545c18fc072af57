"""`fabriclab ctl`: argument checking and clear errors without a running network."""

import subprocess
import sys

import pytest

from controller.cli import STATE_FILE, _load_state, _save_state, parse_watch
from controller.fabric_plan import FabricConfig, Mode, Watch
from fabriclab.errors import FabricError


def test_parse_watch():
    assert parse_watch("10.0.1.1:10.0.2.1:4791") == Watch("10.0.1.1", "10.0.2.1", 4791)
    assert parse_watch("*:10.0.2.1") == Watch(None, "10.0.2.1", None)
    for bad in ("10.0.1.1", "10.0.1.1:10.0.2.1:roce", "10.0.1:10.0.2.1"):
        with pytest.raises(FabricError):
            parse_watch(bad)


def ctl(*args, env_root):
    return subprocess.run([sys.executable, "-m", "fabriclab", "ctl", *args], capture_output=True,
                          text=True, env={"FABRICLAB_RUN_ROOT": str(env_root), "PATH": "/usr/bin"},
                          timeout=60)


def test_no_running_network_is_a_clear_error(tmp_path):
    done = ctl("--run", "nosuch", "mode", "ecmp", env_root=tmp_path)
    assert done.returncode == 2
    assert "no running network 'nosuch'" in done.stderr and "Traceback" not in done.stderr
    done = ctl("stats", "l1", env_root=tmp_path)
    assert done.returncode == 2 and "--run" in done.stderr


@pytest.fixture
def live_run(tmp_path):
    """A run directory with a process carrying its marker: what `fabriclab net` leaves running."""
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "topology.json").write_text("{}")
    proc = subprocess.Popen(["sleep", "60"], env={"FABRICLAB_RUN": "r1"})
    try:
        yield tmp_path
    finally:
        proc.kill()
        proc.wait()


def test_a_run_whose_processes_are_gone_is_not_running(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "topology.json").write_text("{}")
    done = ctl("--run", "r1", "mode", "ecmp", env_root=tmp_path)
    assert done.returncode == 2 and "no running network 'r1'" in done.stderr
    done = ctl("mode", "ecmp", env_root=tmp_path)
    assert done.returncode == 2 and "running networks: none" in done.stderr


def test_bad_arguments_are_rejected_before_connecting(live_run):
    tmp_path = live_run
    done = ctl("--run", "r1", "ecn", "--kmin", "5", env_root=tmp_path)
    assert done.returncode == 2 and "--kmax" in done.stderr
    done = ctl("--run", "r1", "mode", "fastest", env_root=tmp_path)
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_state_round_trip_and_corruption(tmp_path):
    class Ctl:  # the two attributes _save_state reads
        config = FabricConfig(mode=Mode.ADAPTIVE, flowlet_gap_us=7, class_modes={48: Mode.ECMP})
        down = {("l1", 3), ("s1", 1)}

    assert _load_state(tmp_path)[1] == set()
    _save_state(tmp_path, Ctl)
    config, down = _load_state(tmp_path)
    assert down == Ctl.down
    assert (config.mode, config.flowlet_gap_us, config.class_modes) == (
        Mode.ADAPTIVE, 7, {48: Mode.ECMP})
    (tmp_path / STATE_FILE).write_text('{"mode": 9}')
    with pytest.raises(FabricError, match="corrupt"):
        _load_state(tmp_path)


def test_bad_dscp_is_rejected_before_connecting(live_run):
    tmp_path = live_run
    done = ctl("--run", "r1", "mode", "ecmp", "--dscp", "64", env_root=tmp_path)
    assert done.returncode == 2 and "0..63" in done.stderr


def test_grpc_base_port_defaults_to_the_one_the_run_recorded(tmp_path, monkeypatch):
    """`fabriclab net --grpc-base-port 29640 --run r1` then `ctl --run r1` must reach 29640."""
    from controller.cli import DEFAULT_GRPC_BASE_PORT, grpc_base_port
    from fabriclab import paths
    from fabriclab.paths import RunDir

    monkeypatch.setattr(paths, "RUN_DIR", tmp_path)
    run = RunDir("r1")
    assert run.create() == tmp_path / "r1"
    assert grpc_base_port(run.path, None) == DEFAULT_GRPC_BASE_PORT
    run.record_grpc_base_port(29640)
    assert run.recorded_grpc_base_port() == 29640
    assert grpc_base_port(run.path, None) == 29640
    assert grpc_base_port(run.path, 30000) == 30000


def test_ctl_waits_while_the_net_is_still_programming_its_switches(live_run):
    """Taking primary mid-install would make the net's own writes fail: ctl waits for the
    net to clear its `starting` marker, then goes on (here: to its argument check)."""
    marker = live_run / "r1" / "starting"
    marker.touch()
    proc = subprocess.Popen([sys.executable, "-m", "fabriclab", "ctl", "--run", "r1", "ecn",
                             "--kmin", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={"FABRICLAB_RUN_ROOT": str(live_run), "PATH": "/usr/bin"})
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3)  # still waiting: nothing was said to the switches
        marker.unlink()
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "waiting for net r1" in err and proc.returncode == 2 and "--kmax" in err


def test_ctl_stops_waiting_when_the_starting_net_dies(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "topology.json").write_text("{}")
    (tmp_path / "r1" / "starting").touch()
    net = subprocess.Popen(["sleep", "3"], env={"FABRICLAB_RUN": "r1"})
    try:
        done = ctl("--run", "r1", "mode", "ecmp", env_root=tmp_path)
    finally:
        net.kill()
        net.wait()
    assert done.returncode == 2 and "stopped while it was starting" in done.stderr
