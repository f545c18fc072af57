"""`fabriclab switch --group FILE`: the group file's checks (one line, exit 2), and a group
of switches without ports: each gets its own P4Runtime server, admin socket and log with
its ready line; ending a switch's member process stops that switch alone."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fabriclab.errors import FabricError
from fabriclab.cpu_share import share_of
from fabriclab.switch.group_cli import MemberSpec, load_specs, parse_member

SWITCH = [sys.executable, "-m", "fabriclab", "switch"]


@pytest.mark.parametrize("doc, message", [
    ("not json", "is not JSON"),
    ('{"switches": []}', "one or more"),
    ('{"switches": [{"name": "a", "log": "x"}]}', "switch 0: expected name, log"),
    ('{"switches": [{"name": "a", "log": "x", "args": []}, {"name": "a", "log": "y", "args": []}]}',
     "names repeat"),
])
def test_bad_group_files_are_refused(tmp_path, doc, message):
    path = tmp_path / "group.json"
    path.write_text(doc)
    with pytest.raises(FabricError, match=message):
        load_specs(str(path))


def test_the_group_weighs_what_its_switches_would():
    """CFS weights: nice -6 is about 3.8 times nice 0, the weight of 4 processes."""
    assert [share_of(n) for n in (1, 2, 4, 8)] == [0, -3, -6, -9]
    assert share_of(1000) == -10  # bounded


def test_a_member_with_bad_flags_is_named():
    with pytest.raises(FabricError, match="switch s1: .*unrecognized arguments: --nope"):
        parse_member(MemberSpec("s1", "x.log", ["--no-p4", "--nope"]))
    with pytest.raises(FabricError, match="do not nest"):
        parse_member(MemberSpec("s1", "x.log", ["--no-p4", "--group", "g.json"]))


@pytest.mark.parametrize("extra, message", [
    (["--no-p4"], "--group takes no other flag"),
    ([], "cannot read"),
])
def test_group_cli_bad_input_is_one_line_and_exit_2(tmp_path, extra, message):
    done = subprocess.run([*SWITCH, "--group", str(tmp_path / "none.json"), *extra],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _wait_for(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _members(group_pid: int) -> dict[str, int]:
    """admin socket -> pid of the group's member processes."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"--member-of" in argv and argv[argv.index(b"--member-of") + 1] == str(group_pid).encode():
            found[argv[argv.index(b"--admin-socket") + 1].decode()] = int(entry)
    return found


def test_a_group_serves_each_switch_and_stops_one_when_its_member_ends(tmp_path):
    names = ("a", "b")
    spec = {"switches": [{"name": n, "log": str(tmp_path / f"{n}.log"),
                          "args": ["--no-p4", "--device-id", str(i), "--grpc-server-addr",
                                   "127.0.0.1:0", "--admin-socket", str(tmp_path / f"{n}.sock")]}
                         for i, n in enumerate(names)]}
    (tmp_path / "group.json").write_text(json.dumps(spec))
    group = subprocess.Popen([*SWITCH, "--group", str(tmp_path / "group.json")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait_for(lambda: all("ready: device" in (tmp_path / f"{n}.log").read_text()
                                     for n in names if (tmp_path / f"{n}.log").exists()) and
                         all((tmp_path / f"{n}.log").exists() for n in names))
        ports = set()
        for i, n in enumerate(names):
            line = (tmp_path / f"{n}.log").read_text()
            assert f"ready: device {i}," in line and f"admin {tmp_path / n}.sock" in line
            ports.add(line.split("P4Runtime on ")[1].split(",")[0])
            assert (tmp_path / f"{n}.sock").exists()
        assert len(ports) == 2  # a gRPC server each
        members = _members(group.pid)
        assert set(members) == {str(tmp_path / f"{n}.sock") for n in names}
        os.kill(members[str(tmp_path / "a.sock")], signal.SIGKILL)  # what `ctl fail switch` does
        assert _wait_for(lambda: "stopped:" in (tmp_path / "a.log").read_text())
        assert not (tmp_path / "a.sock").exists() and (tmp_path / "b.sock").exists()
        assert group.poll() is None and "stopped:" not in (tmp_path / "b.log").read_text()
        group.send_signal(signal.SIGTERM)
        assert group.wait(20) == 0
        assert "stopped:" in (tmp_path / "b.log").read_text()
        assert _wait_for(lambda: not _members(group.pid))
    finally:
        if group.poll() is None:
            group.kill()
            group.wait()
        group.stdout.close()
