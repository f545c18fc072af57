"""`fabriclab clean` finds a run's processes by their environment marker; `doctor` reports
what it finds. Only processes this test starts are touched."""

import os
import socket
import subprocess
import sys

from fabriclab.net import clean, doctor
from fabriclab.net.runstate import ENV, run_of


def test_run_processes_are_found_by_marker_and_killed():
    run = f"unit-{os.getpid()}"
    proc = subprocess.Popen(["sleep", "60"], env={**os.environ, ENV: run})
    other = subprocess.Popen(["sleep", "60"], env={**os.environ, ENV: run + "-other"})
    try:
        assert run_of(proc.pid) == run
        assert clean.run_processes(run) == [proc.pid]
        assert clean.kill(clean.run_processes(run)) == [proc.pid]
        assert proc.wait(timeout=10) != 0
        assert other.poll() is None  # another run is left alone
        assert clean.run_processes(run) == []
    finally:
        proc.kill()
        other.kill()
        proc.wait()
        other.wait()


def test_switch_processes_are_recognised_by_argv():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "fabriclab", "switch"])
    plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "switch"])
    try:
        assert clean.is_switch_process(proc.pid)
        assert not clean.is_switch_process(plain.pid)
        assert not clean.is_switch_process(os.getpid())
    finally:
        for p in (proc, plain):
            p.kill()
            p.wait()


def test_doctor_reports_a_busy_grpc_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        (check,) = [c for c in doctor.checks(port, 1) if c.name.startswith("gRPC ports")]
    assert not check.ok and f"in use: {port}" in check.detail
    names = [c.name for c in doctor.checks(port, 1)]
    assert {"root", "mininet", "cpp", "simple_switch_grpc"} <= set(names)
