"""`fabriclab net --switch-procs`: which layout a config asks for, and bad asks refused
before anything exists (one line, exit 2)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from fabriclab.errors import FabricError
from fabriclab.net.network import NetConfig
from fabriclab.net.p4node import DEFAULT_SWITCH_PROCS, member_pid


def test_the_layout_a_config_asks_for():
    assert NetConfig(switch_procs="shared").shared_switches
    assert not NetConfig(switch_procs="per-switch").shared_switches
    assert NetConfig().shared_switches == (DEFAULT_SWITCH_PROCS == "shared")
    assert not NetConfig(target="bmv2").shared_switches  # BMv2's default: a process each


@pytest.mark.parametrize("config, message", [
    (dict(target="bmv2", switch_procs="shared"), "built-in switches only"),
    (dict(switch_procs="one"), "one of shared, per-switch"),
])
def test_bad_layouts_are_refused(config, message):
    with pytest.raises(FabricError, match=message):
        NetConfig(**config)


def test_cli_refuses_shared_bmv2_in_one_line():
    done = subprocess.run([sys.executable, "-m", "fabriclab", "net", "leaf-spine", "--target",
                           "bmv2", "--switch-procs", "shared"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "fabriclab net: error: --switch-procs shared runs built-in switches only: bmv2 runs "
        "one process per switch"]


def test_member_pid_finds_the_member_process_of_a_switch():
    member = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", "--member-of",
                               "4242", "--admin-socket", "/tmp/x/s1.sock"], stdin=subprocess.PIPE)
    try:
        end = time.monotonic() + 30  # the child's argv is its own once it has exec'd
        while b"--member-of" not in (cmdline := Path(f"/proc/{member.pid}/cmdline").read_bytes()):
            assert member.poll() is None and time.monotonic() < end, (member.returncode, cmdline)
            time.sleep(0.01)
        assert member_pid(4242, "/tmp/x/s1.sock") == member.pid, cmdline
        assert member_pid(4242, "/tmp/x/s2.sock") is None
        assert member_pid(4243, "/tmp/x/s1.sock") is None
    finally:
        member.stdin.close()
        member.wait(10)
