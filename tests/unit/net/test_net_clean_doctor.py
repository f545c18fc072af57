"""`fabriclab clean` finds a run's processes by their environment marker; `doctor` reports
what it finds. Only processes this test starts are touched."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from fabriclab.net import clean, doctor
from fabriclab.paths import ENV, run_of


def started(argv, env=None):
    """Popen, then wait until the child has exec'd (its cmdline is argv, not ours)."""
    proc = subprocess.Popen(argv, env=env)
    for _ in range(500):
        if Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[-2:-1] == [argv[-1].encode()]:
            return proc
        time.sleep(0.01)
    raise AssertionError("child never exec'd")


def test_run_processes_are_found_by_marker_and_killed():
    run = f"unit-{os.getpid()}"
    proc = started(["sleep", "60"], env={**os.environ, ENV: run})
    other = started(["sleep", "61"], env={**os.environ, ENV: run + "-other"})
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
    proc = started([sys.executable, "-c", "import time; time.sleep(60)", "fabriclab", "switch"])
    plain = started([sys.executable, "-c", "import time; time.sleep(60)", "switch", "x"])
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


def test_a_net_driver_is_found_by_its_run_flag():
    """`fabriclab net --run NAME` sets its marker after start-up (not in /proc/PID/environ)."""
    run = f"unit-net-{os.getpid()}"
    code = "import time; time.sleep(60)"
    proc = started([sys.executable, "-c", code, "/x/bin/fabriclab", "net", "leaf-spine", "--run", run])
    other = started([sys.executable, "-c", code, "/x/bin/fabriclab", "net", f"--run={run}x"])
    try:
        assert clean.net_driver_run(proc.pid) == run and clean.net_driver_run(other.pid) == run + "x"
        assert clean.run_processes(run) == [proc.pid]
    finally:
        for p in (proc, other):
            p.kill()
            p.wait()


IGNORE_TERM = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
               "print('ready', flush=True); time.sleep(60)")


def test_kill_returns_only_once_a_term_ignoring_process_is_gone(monkeypatch):
    """Tear-down on a loaded machine: SIGKILL is asynchronous, so kill() waits (bounded)
    until the process has exited; a caller checking right after finds nothing left."""
    monkeypatch.setattr(clean, "GRACE_S", 0.2)
    run = f"unit-stubborn-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, "-c", IGNORE_TERM], stdout=subprocess.PIPE,
                            env={**os.environ, ENV: run}, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"  # SIGTERM is ignored from here on
        assert clean.clean_run(run).processes == [proc.pid]
        assert not clean._alive(proc.pid) and clean.run_processes(run) == []
    finally:
        proc.kill()
        proc.wait()


def test_stop_group_kills_stragglers_of_the_switch_group():
    """A P4 switch node's process group: the leader exits on SIGTERM, a child ignoring it
    must not outlive the node."""
    from fabriclab.net.p4node import stop_group

    script = (f"import subprocess, sys, time; "
              f"c = subprocess.Popen([sys.executable, '-c', {IGNORE_TERM!r}], stdout=subprocess.PIPE, text=True); "
              f"c.stdout.readline(); print(c.pid, flush=True); time.sleep(60)")
    leader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    child = int(leader.stdout.readline())
    try:
        stop_group(leader, grace=5.0, kill_wait=5.0)
        assert leader.poll() is not None
        deadline = time.monotonic() + 10
        while clean._alive(child) and time.monotonic() < deadline:  # reaped by init
            time.sleep(0.05)
        assert not clean._alive(child)
    finally:
        leader.kill()
        leader.wait()


def test_a_standalone_switch_belongs_to_no_run():
    """`fabriclab clean` (no --run) collects run_processes(None): a `fabriclab switch`
    started by hand, with no run marker, is not among them; a marked one is."""
    argv = [sys.executable, "-c", "import time; time.sleep(60)", "fabriclab", "switch"]
    standalone = started(argv)
    marked = started(argv, env={**os.environ, ENV: f"unit-marked-{os.getpid()}"})
    try:
        everything = clean.run_processes(None)
        assert standalone.pid not in everything
        assert marked.pid in everything
    finally:
        for p in (standalone, marked):
            p.kill()
            p.wait()


def test_clean_removes_finished_run_folders_but_the_newest(tmp_path, monkeypatch):
    monkeypatch.setattr(clean, "RUN_DIR", tmp_path)
    monkeypatch.setattr(clean, "live_runs", lambda: {"live"})
    for age, name in enumerate(["live", "r0", "r1", "r2", "r3"]):
        (tmp_path / name).mkdir()
        (tmp_path / name / "s1.log").write_text("log\n")
        os.utime(tmp_path / name, (1000 - age, 1000 - age))  # r0 newest, r3 oldest
    (tmp_path / "switch-0.sock").write_text("")  # a standalone switch's socket: not a folder
    assert sorted(clean.prune_run_folders(keep=2)) == ["r2", "r3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live", "r0", "r1", "switch-0.sock"]


def test_switch_processes_die_with_their_parent():
    """PR_SET_PDEATHSIG (paths.die_with_parent, the P4 switch node's preexec_fn): SIGKILL
    the parent and the child gets SIGTERM."""
    script = ("import subprocess, sys, time; from fabriclab import paths; "
              "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
              "preexec_fn=paths.die_with_parent); print(c.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while clean._alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not clean._alive(child)
