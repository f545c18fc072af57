"""--cluster: the same trials on a dask.distributed cluster (a LocalCluster on 127.0.0.1 with
one worker process) give the CSV and progress lines of a serial run, for every experiment
whose run() takes a sweep; a worker on another fabriclab version and an unreachable
scheduler are one-line errors with exit 2."""

from __future__ import annotations

import socket

import pytest
from test_sweep import SMALLEST, comparable, small_run, sweepable, without_wall_time

import experiments.sweep as sweep_module
from experiments.cli import EXPERIMENTS
from experiments.sweep import Sweep
from fabriclab.cli import main

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  scheduler_port=0, dashboard_address=None) as c:
        yield c.scheduler_address


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_cluster_run_writes_the_csv_of_a_serial_run(name, tmp_path, cluster):
    if not sweepable(name):
        pytest.skip(f"{name}: run() takes no sweep (its trials do not go through run_trials yet)")
    print(f"{name}: --workers 1 and --cluster, sim, overrides {SMALLEST.get(name, 'none (quick scale)')}")
    serial, lines_serial = small_run(name, tmp_path / "serial", Sweep(workers=1))
    remote, lines_remote = small_run(name, tmp_path / "cluster", Sweep(cluster=cluster))
    assert serial.rows and not serial.errors and not remote.errors, (serial.errors, remote.errors)
    assert without_wall_time(serial.files.csv) == without_wall_time(remote.files.csv)
    assert comparable(lines_serial) == comparable(lines_remote)


def test_a_worker_on_another_version_is_refused(tmp_path, cluster, capsys, monkeypatch):
    # this process claims another version; the worker process imports the real one
    monkeypatch.setattr(sweep_module, "__version__", "0.0.0-other")
    code = main(["run", "adaptive_routing", "--mode", "sim", "--cluster", cluster, "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "1 of 1 Dask workers run another fabriclab" in err[0] and "here: 0.0.0-other" in err[0]


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(sweep_module, "CONNECT_TIMEOUT_S", 2)
    code = main(["run", "adaptive_routing", "--mode", "sim", "--cluster", f"tcp://127.0.0.1:{port}",
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err[0]
