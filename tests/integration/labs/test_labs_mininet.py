"""The labs' Mininet criteria (root): each solution passes `lab check` in full, each
skeleton fails its Mininet run; one lab at a time, and nothing is left behind."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fabriclab.labs import runs
from fabriclab.labs.registry import all_labs, find
from fabriclab.paths import run_tag

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[3]
LABS = REPO / "labs"
NUMBERS = [lab.number for lab in all_labs(LABS)]


def fabriclab(*args, **kw):
    return subprocess.run([sys.executable, "-m", "fabriclab", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=400, **kw)


def leftovers(run: str) -> list[str]:
    """Veths and processes of `run` still around."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    veths = [w for w in links.split() if w.startswith(f"flv{run_tag(run)}")]
    procs = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"FABRICLAB_RUN={run}".encode() in env:
            procs.append(pid)
    return veths + procs


@pytest.mark.parametrize("number", NUMBERS)
def test_solution_passes_and_skeleton_fails_the_mininet_run(number):
    lab = find(number, LABS)
    full = fabriclab("lab", "check", str(number), "--solution")
    print(full.stdout)
    assert full.returncode == 0, full.stdout + full.stderr
    assert f"PASS mininet {lab.run.check}: " in full.stdout
    assert full.stdout.splitlines()[-1] == f"score: {2 + len(lab.stf)}/{2 + len(lab.stf)}"
    ok, detail = runs.CHECKS[lab.run.check](lab, lab.program(), "builtin")
    print("skeleton:", detail)
    assert not ok, detail
    assert leftovers(lab.run_name) == []


def test_a_lab_started_while_another_runs():
    first = subprocess.Popen([sys.executable, "-m", "fabriclab", "lab", "start", "1", "--no-cli"],
                             cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        for line in first.stdout:
            if "Ctrl-C to stop" in line:
                break
        else:
            pytest.fail("lab 1 did not come up")
        for action in ("start", "check"):
            second = fabriclab("lab", action, "2")
            assert second.returncode == 2
            assert second.stderr.startswith(
                f"fabriclab lab: error: lab 1 is already running (pid {first.pid})"), second.stderr
            assert leftovers("lab2") == []
        assert first.poll() is None  # the running lab is left alone
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=120)
    assert first.returncode == 130  # stopped like a Ctrl-C: torn down
    assert leftovers("lab1") == []
