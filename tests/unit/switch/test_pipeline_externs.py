"""Registers, counters, meters (trTCM) and the replication engine."""

import pytest

from fabriclab.errors import FabricError
from fabriclab.switch.externs import (GREEN, RED, YELLOW, Counter, CounterData, Meter,
                                      MeterConfig, Register)
from fabriclab.switch.replication import CloneSession, ReplicationEngine


def test_register_masks_to_width_and_checks_control_plane_index():
    reg = Register("r", 4, 8)
    reg.write(1, 0x1FF)
    assert reg.read(1) == 0xFF
    with pytest.raises(FabricError, match="out of range"):
        reg.read(4)
    reg.dp_write(9, 1)  # data plane: ignored
    assert reg.dp_read(9) == 0


def test_counter_counts_packets_and_bytes():
    ctr = Counter("c", 2)
    ctr.count(1, 100)
    ctr.count(1, 50)
    ctr.count(7, 50)  # out of range from the data plane: ignored
    assert ctr.read(1) == CounterData(2, 150)
    ctr.write(0, CounterData(5, 6))
    assert ctr.read(0) == CounterData(5, 6)


def test_unconfigured_meter_is_green():
    assert Meter("m", 1).execute(0, 1500, 0) == GREEN


def test_packet_meter_colours_follow_trtcm():
    m = Meter("m", 1, unit="packets")
    m.set_config(0, MeterConfig(cir=1, cburst=2, pir=1000, pburst=3))
    colours = [m.execute(0, 64, 0) for _ in range(4)]
    assert colours == [GREEN, GREEN, YELLOW, RED]
    # one second later the committed bucket has one more token
    assert m.execute(0, 64, 1_000_000) == GREEN


def test_byte_meter_uses_packet_length():
    m = Meter("m", 1, unit="bytes")
    m.set_config(0, MeterConfig(cir=0, cburst=100, pir=0, pburst=200))
    assert m.execute(0, 100, 0) == GREEN
    assert m.execute(0, 100, 0) == YELLOW
    assert m.execute(0, 100, 0) == RED


def test_replication_groups_and_clone_sessions():
    pre = ReplicationEngine()
    pre.set_group(1, [(2, 10), (3, 11)])
    assert [tuple(r) for r in pre.group_replicas(1)] == [(2, 10), (3, 11)]
    assert pre.group_replicas(99) == ()
    pre.set_clone_session(5, CloneSession(replicas=((4, 0),), mcast_group=1))
    assert [r.port for r in pre.clone_targets(5)] == [4, 2, 3]
    assert pre.clone_targets(6) == ()
    with pytest.raises(FabricError):
        pre.delete_group(42)
    with pytest.raises(FabricError):
        pre.set_group(0, [])
