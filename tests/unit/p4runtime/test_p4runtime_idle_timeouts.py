"""Idle timeouts through a P4Runtime Device on a switch with a virtual clock: what a
controller writes, reads and is notified of (spec 9.1.3, 16.4; PI device_mgr and BMv2's
ageing as simple_switch_grpc runs them). The gRPC stream is tested in
tests/integration/p4runtime/test_p4rt_idle_timeout.py."""

from __future__ import annotations

import pathlib
import sys

import pytest
from finsy.proto import p4r

HERE = pathlib.Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2] / "integration" / "p4runtime"))

from p4rt_client import DEVICE_ID, action, exact, pid, update  # noqa: E402

from fabriclab.switch.p4runtime.device import Device  # noqa: E402
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch  # noqa: E402
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, OK, UNIMPLEMENTED  # noqa: E402

PROGRAM = HERE.parents[2] / "integration" / "p4runtime" / "p4rt_test.p4"
MS = 1_000_000  # ns
S = 1_000 * MS
MAC_A, MAC_B = b"\x0a", b"\x0b"  # canonical byte strings, as reads give them back


class ClockedSwitch(LoopbackSwitch):
    """The loopback switch on a clock the test moves."""

    def __init__(self) -> None:
        super().__init__(device_id=DEVICE_ID)
        self.t = 0

    def now_ns(self) -> int:
        return self.t


@pytest.fixture(scope="module")
def compiled():
    from fabriclab.p4 import compile_file

    return compile_file(str(PROGRAM))


@pytest.fixture
def rig(compiled):
    switch = ClockedSwitch()
    device = Device(switch, DEVICE_ID)
    device.set_pipeline(p4r.SetForwardingPipelineConfigRequest(
        device_id=DEVICE_ID, action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT,
        config=p4r.ForwardingPipelineConfig(p4info=compiled.p4info, p4_device_config=compiled.to_artifact())))
    return switch, device, compiled.p4info


def smac(info, mac, **extra) -> p4r.TableEntry:
    return p4r.TableEntry(table_id=pid(info, "tables", "smac"), match=[exact(1, mac)],
                          action=action(info, "NoAction"), **extra)


def write(device, *updates) -> list[int]:
    """Each update's canonical code."""
    errors = device.write(p4r.WriteRequest(device_id=DEVICE_ID, updates=updates))
    return [OK] * len(updates) if errors is None else [e.canonical_code for e in errors]


def read(device, entry: p4r.TableEntry) -> list[p4r.TableEntry]:
    return [e.table_entry for e in device.read(p4r.ReadRequest(device_id=DEVICE_ID, entities=[
        p4r.Entity(table_entry=entry)]))]


def notified(switch, device, at_ns: int) -> list[bytes]:
    """The MACs a sweep due at `at_ns` reports (nothing between sweeps)."""
    switch.t = at_ns
    msg = device.poll_idle_timeouts(True)
    return [] if msg is None else [e.match[0].exact.value for e in msg.table_entry]


def frame(src: bytes) -> bytes:
    return b"\x00" * 6 + src.rjust(6, b"\x00") + b"\x88\xb5" + b"x" * 46


def test_an_idle_entry_is_notified_by_key_until_it_is_hit(rig):
    switch, device, info = rig
    assert notified(switch, device, 0) == []  # the sweeps start: one a second from here
    entry = smac(info, MAC_A, idle_timeout_ns=300 * MS, metadata=b"m")
    assert write(device, update("INSERT", table_entry=entry)) == [OK]
    switch.t = S
    msg = device.poll_idle_timeouts(True)
    expected = p4r.TableEntry(table_id=entry.table_id, match=entry.match, metadata=b"m", idle_timeout_ns=300 * MS)
    assert list(msg.table_entry) == [expected] and msg.timestamp > 0
    assert notified(switch, device, 2 * S) == []  # as BMv2: not in two sweeps running
    assert notified(switch, device, 3 * S) == [MAC_A]
    switch.t = 3 * S + 900 * MS
    switch.receive(1, frame(MAC_A))  # a hit
    assert notified(switch, device, 4 * S) == []
    assert notified(switch, device, 5 * S) == [MAC_A]


def test_modify_restarts_the_idle_time_delete_and_ttl_0_end_it(rig):
    switch, device, info = rig
    notified(switch, device, 0)
    write(device, update("INSERT", table_entry=smac(info, MAC_A, idle_timeout_ns=30 * S)),
          update("INSERT", table_entry=smac(info, MAC_B, idle_timeout_ns=500 * MS)))
    assert notified(switch, device, S) == [MAC_B]
    switch.t = S + 500 * MS
    write(device, update("MODIFY", table_entry=smac(info, MAC_A, idle_timeout_ns=1200 * MS)),
          update("MODIFY", table_entry=smac(info, MAC_B, idle_timeout_ns=0)))
    assert notified(switch, device, 2 * S) == []
    assert notified(switch, device, 3 * S) == [MAC_A]  # 1.5 s after the MODIFY: idle
    write(device, update("DELETE", table_entry=smac(info, MAC_A)))
    assert notified(switch, device, 5 * S) == [] and notified(switch, device, 6 * S) == []


def test_a_sweep_without_a_primary_is_lost(rig):
    switch, device, info = rig
    notified(switch, device, 0)
    write(device, update("INSERT", table_entry=smac(info, MAC_A, idle_timeout_ns=MS)))
    switch.t = S
    assert device.poll_idle_timeouts(False) is None  # swept, nobody to tell
    assert notified(switch, device, 2 * S) == []  # so this one skips it, as BMv2
    assert notified(switch, device, 3 * S) == [MAC_A]


def test_reads_give_idle_timeout_ns_and_time_since_last_hit(rig):
    switch, device, info = rig
    switch.t = 10 * S
    write(device, update("INSERT", table_entry=smac(info, MAC_A, idle_timeout_ns=2 * S)),
          update("INSERT", table_entry=smac(info, MAC_B)))
    switch.t = 10 * S + 700 * MS
    switch.receive(1, frame(MAC_B))
    switch.t = 11 * S
    table = pid(info, "tables", "smac")
    got = read(device, p4r.TableEntry(table_id=table))
    assert [(e.idle_timeout_ns, e.HasField("time_since_last_hit")) for e in got] == [(2 * S, False), (0, False)]
    got = read(device, p4r.TableEntry(table_id=table, time_since_last_hit=p4r.TableEntry.IdleTimeout()))
    assert [e.time_since_last_hit.elapsed_ns for e in got] == [S, 300 * MS]
    switch.t = 14 * S  # past the TTL: the elapsed time goes on (PI caps it at the TTL)
    got = read(device, smac(info, MAC_A, time_since_last_hit=p4r.TableEntry.IdleTimeout()))
    assert [e.time_since_last_hit.elapsed_ns for e in got] == [4 * S]


def test_p4runtime_errors(rig):
    switch, device, info = rig
    dmac = p4r.TableEntry(table_id=pid(info, "tables", "dmac"), match=[exact(1, MAC_A)],
                          action=action(info, "forward", b"\x01"), idle_timeout_ns=S)
    default = p4r.TableEntry(table_id=pid(info, "tables", "smac"), is_default_action=True,
                             action=action(info, "learn"))
    since = p4r.TableEntry.IdleTimeout()
    assert write(device,
                 update("INSERT", table_entry=dmac),  # PI validate_entry_ttl: no support_timeout
                 update("INSERT", table_entry=smac(info, MAC_A, idle_timeout_ns=-1)),  # negative
                 update("MODIFY", table_entry=p4r.TableEntry(
                     table_id=default.table_id, is_default_action=True, idle_timeout_ns=S)),  # spec 9.1.3
                 update("INSERT", table_entry=smac(info, MAC_B, time_since_last_hit=since)),  # PI table_write
                 update("DELETE", table_entry=smac(info, MAC_B, time_since_last_hit=since)),
                 ) == [INVALID_ARGUMENT] * 5
    for query in (p4r.TableEntry(table_id=dmac.table_id, time_since_last_hit=since),  # PI table_read_one
                  p4r.TableEntry(time_since_last_hit=since),  # a wildcard read covering such tables
                  p4r.TableEntry(table_id=default.table_id, is_default_action=True, time_since_last_hit=since)):
        with pytest.raises(Exception) as err:
            read(device, query)
        assert getattr(err.value, "code", None) == INVALID_ARGUMENT


def test_a_switch_driver_without_a_clock_refuses_ttls(compiled):
    switch = ClockedSwitch()
    switch.now_ns = None  # as a driver without one (vtime's SwitchNode)
    device = Device(switch, DEVICE_ID)
    device.set_pipeline(p4r.SetForwardingPipelineConfigRequest(
        device_id=DEVICE_ID, action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT,
        config=p4r.ForwardingPipelineConfig(p4info=compiled.p4info, p4_device_config=compiled.to_artifact())))
    info = compiled.p4info
    assert write(device, update("INSERT", table_entry=smac(info, MAC_A, idle_timeout_ns=S)),
                 update("INSERT", table_entry=smac(info, MAC_B))) == [UNIMPLEMENTED, OK]
    assert device.poll_idle_timeouts(True) is None
