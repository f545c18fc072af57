"""--cluster: the same trials on a dask.distributed cluster (a LocalCluster on 127.0.0.1 with
one worker process) give the CSV of a serial run; a worker on another fabriclab version and
an unreachable scheduler are one-line errors with exit 2."""

from __future__ import annotations

import socket

import pytest

import experiments.adaptive_routing as ar
import experiments.sweep as sweep_module
from experiments.sweep import Sweep
from fabriclab.cli import main

distributed = pytest.importorskip("distributed")

QUICK = dict(schemes=("ecmp+ooo", "adaptive+ooo"), workloads=("permutation",), seeds=(1,),
             flow_bytes=32 << 10)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  scheduler_port=0, dashboard_address=None) as c:
        yield c.scheduler_address


def test_cluster_run_writes_the_csv_of_a_serial_run(tmp_path, cluster):
    lines: list[str] = []
    serial = ar.run("quick", tmp_path / "serial", progress=lambda s: None, mode="sim",
                    sweep=Sweep(workers=1), **QUICK)
    remote = ar.run("quick", tmp_path / "cluster", progress=lines.append, mode="sim",
                    sweep=Sweep(cluster=cluster), **QUICK)
    assert not remote.errors and len(remote.rows) == 2
    assert serial.files.csv.read_bytes() == remote.files.csv.read_bytes()
    assert [ln for ln in lines if ln.startswith("[trial")] == [
        "[trial 1/2] routing ecmp: fresh network, 1 cases",
        "[trial 2/2] routing adaptive: fresh network, 1 cases"]


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
