"""`fabriclab switch` / `switch-cli` refuse bad input with one clear line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


def fabriclab(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fabriclab", *argv], capture_output=True,
                          text=True, cwd=REPO, timeout=60)


@pytest.mark.parametrize("argv, message", [
    (["switch", "-i", "1@eth9"], "no program: give a pipeline artifact or .p4 file, or --no-p4"),
    (["switch", "--no-p4", "prog.json"], "either a program or --no-p4"),
    (["switch", "--no-p4", "-i", "1@x", "--port-rate", "3@10mbit"], "port 3 has no interface"),
    (["switch", "--no-p4", "-i", "1@x", "--port-rate", "1@fast"], "'fast' is not a rate"),
    (["switch", "--no-p4", "-i", "1@x", "--port-delay", "1@5parsecs"], "unknown delay unit"),
    (["switch", "--no-p4", "-i", "1@x", "--", "--bogus"], "unknown target options after '--'"),
    (["switch", "--no-p4", "-i", "1@x", "--priority-queues", "0"], "at least 1"),
    (["switch-cli", "--socket", "/tmp/fabriclab/fl-no-such.sock", "show_queues"],
     "no switch answering on /tmp/fabriclab/fl-no-such.sock"),
])
def test_bad_input_gives_one_line_and_nonzero_exit(argv, message):
    out = fabriclab(*argv)
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_unreadable_program_is_reported():
    out = fabriclab("switch", "/nonexistent/prog.json", "-i", "1@x")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "/nonexistent/prog.json" in out.stderr or "no v1model pipeline" in out.stderr
