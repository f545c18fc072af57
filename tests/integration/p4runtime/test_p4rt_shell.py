"""p4runtime-shell, the reference interactive client, drives our switch unchanged.

p4runtime-shell 0.0.6 pins p4runtime 1.4.1 and protobuf < 3.21, which clash with ours, so
it lives in its own virtualenv under ~/.cache/fabriclab (created on first use, reused
after). The test skips only when no package registry is reachable to create it.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest
from google.protobuf import text_format
from scapy.layers.inet import IP
from scapy.layers.l2 import Ether


SHELL_PIN = "p4runtime-shell==0.0.6"
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "fabriclab"
VENV = CACHE / "p4rt-shell-venv"

pytestmark = pytest.mark.slow


def _pip(venv: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "-q", *args],
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def shell_python() -> pathlib.Path:
    """The python of a virtualenv with p4runtime-shell (built once, atomically renamed)."""
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix="p4rt-shell-venv.", dir=CACHE))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(staging)], check=True, timeout=300)
        with tempfile.TemporaryDirectory() as probe:
            reach = _pip(staging, "download", "--no-deps", "-d", probe, SHELL_PIN)
        if reach.returncode != 0:
            pytest.skip(f"no package registry reachable to install {SHELL_PIN}: {reach.stderr.strip()[-300:]}")
        install = _pip(staging, "install", SHELL_PIN)
        assert install.returncode == 0, f"installing {SHELL_PIN} failed:\n{install.stderr[-2000:]}"
        shutil.rmtree(VENV, ignore_errors=True)
        staging.rename(VENV)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return python


SCRIPT = textwrap.dedent("""
    import os
    import sys
    import traceback

    import p4runtime_sh.shell as sh

    if sys.argv[2] == "push":  # set the pipeline from files, as `--config p4info.txtpb,prog.json` does
        sh.setup(device_id=1, grpc_addr=sys.argv[1], election_id=(0, 1), verbose=False,
                 config=sh.FwdPipeConfig(sys.argv[3], sys.argv[4]))
        sh.teardown()
        sys.exit(0)
    sh.setup(device_id=1, grpc_addr=sys.argv[1], election_id=(0, 1), verbose=False)
    try:
        te = sh.TableEntry("MyIngress.dmac")(action="MyIngress.forward")
        te.match["hdr.ethernet.dstAddr"] = "00:00:00:00:00:0b"
        te.action["port"] = "3"
        te.insert()
        for entry in sh.TableEntry("MyIngress.dmac").read():
            print("ENTRY", entry.match["hdr.ethernet.dstAddr"].exact.value.hex(),
                  entry.action["port"].value.hex())
        counter = sh.CounterEntry("MyIngress.port_counter")
        counter.index = 2
        for cell in counter.read():
            print("COUNTER", cell.index, cell.packet_count)
        sh.MulticastGroupEntry(5).add(1, 1).add(2, 1).insert()
        for group in sh.MulticastGroupEntry(5).read():
            print("GROUP", group.group_id, sorted((r.egress_port, r.instance) for r in group.replicas))
        sh.teardown()
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)  # the shell's stream thread would keep the process alive
""")


def test_scripted_p4runtime_shell_session(shell_python, switch_and_address, compiled, tmp_path):
    switch, address = switch_and_address
    script = tmp_path / "session.py"
    script.write_text(SCRIPT)
    p4info = tmp_path / "prog.p4info.txtpb"
    p4info.write_text(text_format.MessageToString(compiled.p4info))
    artifact = tmp_path / "prog.json"
    artifact.write_bytes(compiled.to_artifact())

    def shell(*args: str) -> subprocess.CompletedProcess:
        run = subprocess.run([str(shell_python), str(script), address, *args],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        return run

    shell("push", str(p4info), str(artifact))
    assert switch.core is not None
    switch.receive(2, bytes(Ether() / IP()))  # port_counter[2] = 1 packet
    lines = shell("session").stdout.split("\n")
    assert "ENTRY 0b 03" in lines or "ENTRY 00000000000b 0003" in lines, lines
    assert "COUNTER 2 1" in lines, lines
    assert any(line.startswith("GROUP 5") and "(1, 1), (2, 1)" in line for line in lines), lines
    assert set(switch.core.pre.groups[5]) == {(1, 1), (2, 1)}
    table = switch.core.tables["MyIngress.dmac"]
    assert len(table.entries()) == 1 and table.entries()[0].action.args == (3,)
