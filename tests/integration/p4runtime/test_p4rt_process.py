"""The P4Runtime server inside a real `fabriclab switch` process (no data ports, no root)."""

from __future__ import annotations

import socket

import pytest
from finsy.proto import p4r

from fabriclab.switch.spawn import start_switch, stop_switch
from p4rt_client import Controller, action, exact, pid, update


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def switch_process(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    proc, ready = start_switch(["--no-p4", "--device-id", "1", "--cpu-port", "255",
                                "--grpc-server-addr", address, "--admin-socket", str(tmp_path / "admin.sock")])
    try:
        assert "device 1" in ready
        yield address
    finally:
        stop_switch(proc)


def test_controller_programs_a_running_switch_process(switch_process, compiled):
    ctl = Controller(switch_process, election_id=1)
    try:
        assert ctl.arbitrate().status.code == 0
        ctl.set_pipeline(compiled, device_config=compiled.source.encode())
        info = compiled.p4info
        entry = p4r.TableEntry(table_id=pid(info, "tables", "dmac"), match=[exact(1, b"\x0b")],
                               action=action(info, "forward", b"\x02"))
        ctl.write(update("INSERT", table_entry=entry))
        assert [e.table_entry for e in ctl.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=entry.table_id)))] \
            == [entry]
        got = ctl.stub.GetForwardingPipelineConfig(p4r.GetForwardingPipelineConfigRequest(device_id=1))
        assert got.config.p4info == info
    finally:
        ctl.close()


def test_a_switch_that_cannot_start_is_an_error_with_its_output():
    from fabriclab.errors import FabricError

    with pytest.raises(FabricError, match="(?s)did not start.*exit status 2.*no program"):
        start_switch(["-i", "1@eth9"], timeout=30)
