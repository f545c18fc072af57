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
    (["switch", "--no-p4", "-i", "1@x", "--port-delay", "1@5parsecs"], "unknown time unit"),
    (["switch", "--no-p4", "-i", "1@x", "--queue-bytes", "2@96k"], "port 2 has no interface"),
    (["switch", "--no-p4", "-i", "1@x", "--", "--bogus"], "unknown target options after '--'"),
    (["switch", "--no-p4", "-i", "1@x", "--priority-queues", "0"], "at least 1"),
    (["switch-cli", "--socket", "/tmp/fabriclab-run/fl-no-such.sock", "show_queues"],
     "no switch answering on /tmp/fabriclab-run/fl-no-such.sock"),
])
def test_bad_input_gives_one_line_and_nonzero_exit(argv, message):
    out = fabriclab(*argv)
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("name, content, message", [
    ("missing.json", None, "missing.json"),
    ("bad.json", '{"format": "nope"', "not a fabriclab pipeline artifact"),
    ("bad.p4", "control X() { apply { x = ; } }", "bad.p4:1:"),
    ("basic.json", '{"header_types": [], "headers": [], "pipelines": []}',
     "is a p4c BMv2 JSON: the built-in switch runs P4 itself"),
])
def test_bad_program_is_reported(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    out = fabriclab("switch", str(path), "-i", "1@x")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert message in out.stderr
