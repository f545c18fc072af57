"""`fabriclab lab start|check` handle SIGHUP (a closed terminal, a lost SSH session) like
SIGTERM: the `fabriclab net` under them gets SIGTERM and tears its run down before the lab
command ends. The network is a stand-in process (no root, no Mininet) that records the
SIGTERM it got; everything else is the real `lab` code path through `fabriclab.cli.main`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# argv[1]: a file the stand-in writes when SIGTERM tears it down
FAKE_NET = ("import pathlib, signal, sys, time\n"
            "def down(*_):\n"
            "    pathlib.Path(sys.argv[1]).write_text('torn down')\n"
            "    sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, down)\n"
            "print('up', flush=True)\n"
            "time.sleep(120)\n")

LAB = """\
import contextlib, subprocess, sys
import fabriclab.labs.grader as grader, fabriclab.labs.lock as lock, fabriclab.labs.runs as runs
import fabriclab.p4 as p4
from fabriclab.cli import main

net = [sys.executable, "-c", {fake!r}, {marker!r}]
lock.one_lab = lambda number: contextlib.nullcontext()
p4.compile_file = lambda program: None
runs.net_command = lambda *args, **kwargs: net

def grade(lab, program, target="builtin", mininet=True):
    proc = subprocess.Popen(net)
    proc.wait()
    yield grader.Result(grader.PASS, "run", "done")

grader.grade = grade
sys.exit(main({argv!r}))
"""


@pytest.mark.parametrize("action,status", [("start", 0), ("check", 130)])
def test_sighup_tears_the_lab_network_down(action, status, tmp_path):
    marker = tmp_path / "net-down"
    argv = ["lab", action, "1", "--solution", *(["--no-cli"] if action == "start" else [])]
    script = LAB.format(fake=FAKE_NET, marker=str(marker), argv=argv)
    lab = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert lab.stdout.readline().startswith(("fabriclab lab:", "lab 1"))
        assert lab.stdout.readline() == "up\n"  # the network is up
        lab.send_signal(signal.SIGHUP)
        out, err = lab.communicate(timeout=30)
    finally:
        lab.kill()
        lab.wait()
    assert marker.read_text() == "torn down", out + err
    assert lab.returncode == status, out + err
    assert "Traceback" not in err


def test_no_child_left_after_the_hangup(tmp_path):
    """The stand-in network is gone (not only signalled) when `lab check` has ended."""
    marker = tmp_path / "net-down"
    script = LAB.format(fake=FAKE_NET.replace("sys.exit(0)", "time.sleep(1); sys.exit(0)"),
                        marker=str(marker), argv=["lab", "check", "1", "--solution"])
    lab = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                           text=True, start_new_session=True)
    try:
        lab.stdout.readline()
        assert lab.stdout.readline() == "up\n"
        started = time.monotonic()
        lab.send_signal(signal.SIGHUP)
        lab.wait(timeout=30)
        assert time.monotonic() - started >= 1.0  # it waited for the tear-down
        left = subprocess.run(["pgrep", "-s", str(lab.pid)], capture_output=True, text=True)
        assert left.stdout.split() == []
    finally:
        lab.kill()
        lab.wait()
