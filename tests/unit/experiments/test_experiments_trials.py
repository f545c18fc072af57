"""Trials in fresh processes (no root): records survive a crash, errors are reported, and a
hung trial is killed with everything it started."""

from __future__ import annotations

import os
import textwrap
import time

import pytest

from experiments.trials import run_trial

FAKE_TRIAL = textwrap.dedent("""
    import json, os, subprocess, sys, time
    params_path, cases_path, out_path = sys.argv[1:]
    params = json.load(open(params_path))["params"]
    child = subprocess.Popen(["sleep", "1000"])
    open(params["pidfile"], "w").write(str(child.pid))
    print("starting", json.load(open(cases_path)), flush=True)
    with open(out_path, "a") as out:
        for case in json.load(open(cases_path)):
            out.write(json.dumps({"case": case, "fork_support": os.environ.get("GRPC_ENABLE_FORK_SUPPORT")}) + "\\n")
            out.flush()
            if params["mode"] == "crash":
                print("trial: error: boom", file=sys.stderr)
                sys.exit(3)
    if params["mode"] == "hang":
        time.sleep(1000)
    child.kill()
""")


@pytest.fixture
def fake_module(tmp_path, monkeypatch):
    (tmp_path / "fl_fake_trial.py").write_text(FAKE_TRIAL)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return "fl_fake_trial"


def _alive(pid: int) -> bool:
    """Still running after the group was killed? (SIGKILL lands asynchronously: wait for it.)"""
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[1][0] == "Z":
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.1)
    return True


def _trial(module, tmp_path, mode, timeout=30.0):
    lines = []
    pidfile = tmp_path / "child.pid"
    records, error = run_trial(module, f"fl-test-{mode}", {"mode": mode, "pidfile": str(pidfile)},
                               [{"seed": 1}, {"seed": 2}], timeout, lines.append)
    return records, error, lines, int(pidfile.read_text())


def test_a_good_trial_returns_its_records_and_progress(fake_module, tmp_path):
    records, error, lines, _ = _trial(fake_module, tmp_path, "ok")
    assert error is None
    assert [r["case"]["seed"] for r in records] == [1, 2]
    assert records[0]["fork_support"] == "false"  # gRPC's fork handlers are off in trials
    assert lines and lines[0].startswith("starting")


def test_a_crashed_trial_keeps_finished_records_and_says_why(fake_module, tmp_path):
    records, error, _, child = _trial(fake_module, tmp_path, "crash")
    assert [r["case"]["seed"] for r in records] == [1]
    assert "boom" in error
    assert not _alive(child)


def test_a_hung_trial_is_killed_with_its_children(fake_module, tmp_path):
    records, error, _, child = _trial(fake_module, tmp_path, "hang", timeout=3.0)
    assert "timed out" in error and len(records) == 2
    assert not _alive(child)
