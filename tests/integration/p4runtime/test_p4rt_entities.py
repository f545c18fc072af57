"""Every entity written over gRPC, read back, and seen by the data plane where it acts."""

import pathlib

import grpc
import pytest
from finsy.proto import p4d, p4r
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from fabriclab.switch.hashing import crc16
from p4rt_client import action, exact, failure_code, pid, update

MAC_B = "00:00:00:00:00:0b"


def frame(dst=MAC_B, src="00:00:00:00:00:0a", ip_src="10.0.0.1", ip_dst="10.1.2.3", proto=17):
    return bytes(Ether(dst=dst, src=src) / IP(src=ip_src, dst=ip_dst, proto=proto) / UDP(sport=1, dport=2) / (b"x" * 8))


def one(entities):
    assert len(entities) == 1, entities
    return entities[0]


# ---------------------------------------------------------------- tables


def test_exact_entry_insert_read_modify_delete(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    table = pid(info, "tables", "dmac")
    padded = p4r.TableEntry(table_id=table, match=[exact(1, b"\x00\x00\x00\x00\x00\x00\x00\x0b")],
                            action=action(info, "forward", b"\x00\x00\x03"), metadata=b"cookie",
                            controller_metadata=77)
    primary.write(update("INSERT", table_entry=padded))
    got = one(primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table)))).table_entry
    assert got.match[0].exact.value == b"\x0b"  # canonical
    assert got.action.action.params[0].value == b"\x03" and got.metadata == b"cookie"
    assert got.controller_metadata == 77  # kept as PI keeps it
    assert [p for p, _ in switch.receive(1, frame())] == [3]

    padded.action.CopyFrom(action(info, "forward", b"\x04"))
    primary.write(update("MODIFY", table_entry=padded))
    assert [p for p, _ in switch.receive(1, frame())] == [4]
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=padded))) == grpc.StatusCode.ALREADY_EXISTS
    primary.write(update("DELETE", table_entry=padded))
    assert primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table))) == []
    assert failure_code(lambda: primary.write(update("DELETE", table_entry=padded))) == grpc.StatusCode.NOT_FOUND
    assert failure_code(lambda: primary.write(update("MODIFY", table_entry=padded))) == grpc.StatusCode.NOT_FOUND


def test_wildcard_read_lists_entries_in_bmv2_handle_order(primary, compiled):
    """PI fetches a table's entries in BMv2's handle order; an INSERT takes the lowest
    handle a DELETE freed."""
    info = compiled.p4info
    table = pid(info, "tables", "dmac")
    entry = lambda mac: p4r.TableEntry(table_id=table, match=[exact(1, bytes([mac]))],  # noqa: E731
                                       action=action(info, "forward", b"\x03"))
    primary.write(*(update("INSERT", table_entry=entry(mac)) for mac in (0x0b, 0x0c, 0x0d)))
    primary.write(update("DELETE", table_entry=entry(0x0b)))
    primary.write(update("INSERT", table_entry=entry(0x0e)))
    got = primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table)))
    assert [e.table_entry.match[0].exact.value for e in got] == [b"\x0e", b"\x0c", b"\x0d"]


def test_lpm_entry_forwards_and_reads_back(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    entry = p4r.TableEntry(table_id=pid(info, "tables", "ipv4_lpm"), match=[p4r.FieldMatch(
        field_id=1, lpm=p4r.FieldMatch.LPM(value=bytes([10, 1, 0, 0]), prefix_len=16))],
        action=action(info, "forward", b"\x07"))
    primary.write(update("INSERT", table_entry=entry))
    assert one(primary.read(p4r.Entity(table_entry=entry))).table_entry == entry
    assert [p for p, _ in switch.receive(1, frame(dst="00:00:00:00:00:99"))] == [7]


def acl_entry(info, priority=10, **extra):
    return p4r.TableEntry(
        table_id=pid(info, "tables", "acl"), priority=priority,
        match=[
            p4r.FieldMatch(field_id=1, ternary=p4r.FieldMatch.Ternary(value=bytes([10, 0, 0, 0]), mask=bytes([255, 0, 0, 0]))),
            p4r.FieldMatch(field_id=2, range=p4r.FieldMatch.Range(low=b"\x10", high=b"\x11")),
            p4r.FieldMatch(field_id=3, optional=p4r.FieldMatch.Optional(value=b"\x08\x00")),
        ],
        action=action(info, "acl_to_cpu"), **extra)


def test_ternary_range_optional_need_a_priority(primary, compiled):
    info = compiled.p4info
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=acl_entry(info, priority=0)))) == \
        grpc.StatusCode.INVALID_ARGUMENT
    primary.write(update("INSERT", table_entry=acl_entry(info, priority=10)))
    primary.write(update("INSERT", table_entry=acl_entry(info, priority=20)))  # same key, other priority
    got = primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(info, "tables", "acl"))))
    assert sorted(e.table_entry.priority for e in got) == [10, 20]
    assert one(primary.read(p4r.Entity(table_entry=acl_entry(info, priority=20)))).table_entry.priority == 20
    exact_with_priority = p4r.TableEntry(table_id=pid(info, "tables", "dmac"), priority=5,
                                         match=[exact(1, b"\x01")], action=action(info, "drop"))
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=exact_with_priority))) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_default_entry_rules(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    table = pid(info, "tables", "dmac")
    default = p4r.TableEntry(table_id=table, is_default_action=True, action=action(info, "forward", b"\x05"))
    primary.write(update("MODIFY", table_entry=default))
    got = one(primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table, is_default_action=True))))
    assert got.table_entry == default
    assert [p for p, _ in switch.receive(1, frame(dst="00:00:00:00:00:77"))] == [5]
    for kind in ("INSERT", "DELETE"):
        assert failure_code(lambda: primary.write(update(kind, table_entry=default))) == grpc.StatusCode.INVALID_ARGUMENT
    primary.write(update("MODIFY", table_entry=p4r.TableEntry(table_id=table, is_default_action=True)))  # reset
    reset = one(primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table, is_default_action=True))))
    assert reset.table_entry.action.action.action_id == pid(info, "actions", "NoAction")
    const = p4r.TableEntry(table_id=pid(info, "tables", "ethertype_filter"), is_default_action=True,
                           action=action(info, "drop"))
    assert failure_code(lambda: primary.write(update("MODIFY", table_entry=const))) == grpc.StatusCode.PERMISSION_DENIED


def test_const_table_is_read_only_and_reads_its_entries(primary, compiled):
    info = compiled.p4info
    table = pid(info, "tables", "ethertype_filter")
    got = one(primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table)))).table_entry
    assert got.is_const and got.match[0].exact.value == b"\x99\x99"
    entry = p4r.TableEntry(table_id=table, match=[exact(1, b"\x12\x34")], action=action(info, "drop"))
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=entry))) == grpc.StatusCode.PERMISSION_DENIED


def test_wildcard_read_of_all_tables(primary, compiled):
    info = compiled.p4info
    primary.write(update("INSERT", table_entry=acl_entry(info)))
    tables = {e.table_entry.table_id for e in primary.read(p4r.Entity(table_entry=p4r.TableEntry()))}
    assert tables == {pid(info, "tables", "acl"), pid(info, "tables", "ethertype_filter")}


def test_direct_counter_and_meter(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    entry = acl_entry(info, meter_config=p4r.MeterConfig(cir=100, cburst=10, pir=200, pburst=20))
    primary.write(update("INSERT", table_entry=entry))
    switch.receive(1, frame(proto=0x10))
    counted = one(primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl_entry(info)))))
    assert counted.direct_counter_entry.data.packet_count == 1
    assert counted.direct_counter_entry.data.byte_count == len(frame())
    with_data = acl_entry(info, counter_data=p4r.CounterData())
    assert one(primary.read(p4r.Entity(table_entry=with_data))).table_entry.counter_data.packet_count == 1
    primary.write(update("MODIFY", direct_counter_entry=p4r.DirectCounterEntry(
        table_entry=acl_entry(info), data=p4r.CounterData(packet_count=40, byte_count=50))))
    wildcard = one(primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry())))
    assert wildcard.direct_counter_entry.data == p4r.CounterData(packet_count=40, byte_count=50)

    meter = one(primary.read(p4r.Entity(direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl_entry(info)))))
    assert meter.direct_meter_entry.config == p4r.MeterConfig(cir=100, cburst=10, pir=200, pburst=20)
    primary.write(update("MODIFY", direct_meter_entry=p4r.DirectMeterEntry(
        table_entry=acl_entry(info), config=p4r.MeterConfig(cir=1, cburst=1, pir=2, pburst=2))))
    meter = one(primary.read(p4r.Entity(direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl_entry(info)))))
    assert meter.direct_meter_entry.config.pir == 2
    bad = p4r.MeterConfig(cir=10, cburst=1, pir=5, pburst=1)  # PIR < CIR: BMv2 refuses, PI answers UNKNOWN
    assert failure_code(lambda: primary.write(update("MODIFY", direct_meter_entry=p4r.DirectMeterEntry(
        table_entry=acl_entry(info), config=bad)))) == grpc.StatusCode.UNKNOWN


def test_full_table_is_resource_exhausted(primary, compiled):
    info = compiled.p4info
    table = pid(info, "tables", "dmac")  # size = 64
    entries = [update("INSERT", table_entry=p4r.TableEntry(table_id=table, match=[exact(1, bytes([1, i]))],
                                                         action=action(info, "drop"))) for i in range(64)]
    primary.write(*entries)
    extra = p4r.TableEntry(table_id=table, match=[exact(1, b"\x02\x00")], action=action(info, "drop"))
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=extra))) == grpc.StatusCode.RESOURCE_EXHAUSTED


# ---------------------------------------------------------------- action profiles


def member(info, member_id, port):
    return p4r.ActionProfileMember(action_profile_id=pid(info, "action_profiles", "ecmp_selector"),
                                   member_id=member_id, action=action(info, "forward", port).action)


def ecmp_entry(info, table_action):
    return p4r.TableEntry(table_id=pid(info, "tables", "ecmp"), match=[exact(1, bytes([10, 1, 2, 3]))],
                          action=table_action)


def test_members_groups_and_indirect_entries(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")),
                  update("INSERT", action_profile_member=member(info, 2, b"\x03")))
    group = p4r.ActionProfileGroup(action_profile_id=profile, group_id=7, max_size=4, members=[
        p4r.ActionProfileGroup.Member(member_id=1, weight=1), p4r.ActionProfileGroup.Member(member_id=2, weight=1)])
    primary.write(update("INSERT", action_profile_group=group))
    primary.write(update("INSERT", table_entry=ecmp_entry(info, p4r.TableAction(action_profile_group_id=7))))
    members = primary.read(p4r.Entity(action_profile_member=p4r.ActionProfileMember(action_profile_id=profile)))
    assert [m.action_profile_member.member_id for m in members] == [1, 2]
    assert one(primary.read(p4r.Entity(action_profile_group=p4r.ActionProfileGroup()))).action_profile_group == group
    ports = {p for i in range(16) for p, _ in switch.receive(1, frame(dst="00:00:00:00:00:99", ip_src=f"10.9.0.{i}"))}
    assert ports == {2, 3}  # the selector spreads flows over both members
    got = one(primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(info, "tables", "ecmp")))))
    assert got.table_entry.action.action_profile_group_id == 7
    assert failure_code(lambda: primary.write(update("DELETE", action_profile_group=group))) == \
        grpc.StatusCode.UNKNOWN  # still used by the ecmp entry (PI: BMv2's GRP_STILL_USED)
    assert failure_code(lambda: primary.write(update("DELETE", action_profile_member=member(info, 1, b"\x02")))) == \
        grpc.StatusCode.UNKNOWN  # still in group 7 (PI: BMv2's MBR_STILL_USED)
    missing = ecmp_entry(info, p4r.TableAction(action_profile_member_id=99))
    primary.write(update("DELETE", table_entry=ecmp_entry(info, p4r.TableAction())))
    primary.write(update("DELETE", action_profile_group=group))
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=missing))) == \
        grpc.StatusCode.INVALID_ARGUMENT  # PI: "Invalid member / group id"
    assert failure_code(lambda: primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")))) == \
        grpc.StatusCode.ALREADY_EXISTS


def test_weighted_group_selects_in_bmv2_member_handle_order(primary, compiled, switch_and_address):
    """BMv2 gives a new member the lowest free handle and picks hash % n among a group's
    handles in ascending order; PI makes a weight-2 member's second handle when the group
    needs it. Member 4 takes deleted member 1's handle (first), member 2's copy the next free
    one (last): ports 5, 3, 4, 3, not the writes' order 3, 3, 4, 5."""
    switch, _ = switch_and_address
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    primary.write(*(update("INSERT", action_profile_member=member(info, m, bytes([port])))
                    for m, port in ((1, 2), (2, 3), (3, 4))))
    primary.write(update("DELETE", action_profile_member=member(info, 1, b"\x02")))
    primary.write(update("INSERT", action_profile_member=member(info, 4, b"\x05")))
    weighted = lambda *mw: p4r.ActionProfileGroup(action_profile_id=profile, group_id=7, members=[  # noqa: E731
        p4r.ActionProfileGroup.Member(member_id=m, weight=w) for m, w in mw])
    primary.write(update("INSERT", action_profile_group=weighted((4, 1), (2, 2), (3, 1))),
                  update("INSERT", table_entry=ecmp_entry(info, p4r.TableAction(action_profile_group_id=7))))

    def ports_by_flow(order):
        for i in range(24):
            src = bytes([10, 9, 0, i])
            [(port, _)] = switch.receive(1, frame(dst="00:00:00:00:00:99", ip_src=".".join(map(str, src))))
            assert port == order[crc16(src) % len(order)], (i, port)

    ports_by_flow([5, 3, 4, 3])
    members = primary.read(p4r.Entity(action_profile_member=p4r.ActionProfileMember(action_profile_id=profile)))
    assert [m.action_profile_member.member_id for m in members] == [4, 2, 3]  # by BMv2 handle
    got = one(primary.read(p4r.Entity(action_profile_group=p4r.ActionProfileGroup()))).action_profile_group
    assert [(m.member_id, m.weight) for m in got.members] == [(2, 2), (3, 1), (4, 1)]  # PI's std::map
    primary.write(update("MODIFY", action_profile_group=weighted((3, 1), (4, 1), (2, 1))))
    ports_by_flow([5, 3, 4])  # member 2's copy given back
    primary.write(update("INSERT", action_profile_member=member(info, 5, b"\x06")))
    primary.write(update("MODIFY", action_profile_group=weighted((3, 1), (4, 1), (5, 1))))
    ports_by_flow([5, 4, 6])  # member 5 took the copy's handle, after member 3's


def test_an_entry_cannot_point_at_an_empty_group(primary, compiled):
    """BMv2 refuses it (EMPTY_GRP), PI reports UNKNOWN; emptying a group an entry points at
    is allowed (its hits then run no action: tests/stf/action_selector_empty_group.stf)."""
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")),
                  update("INSERT", action_profile_group=p4r.ActionProfileGroup(action_profile_id=profile, group_id=7)))
    entry = ecmp_entry(info, p4r.TableAction(action_profile_group_id=7))
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=entry))) == grpc.StatusCode.UNKNOWN
    full = p4r.ActionProfileGroup(action_profile_id=profile, group_id=7,
                                  members=[p4r.ActionProfileGroup.Member(member_id=1, weight=1)])
    primary.write(update("MODIFY", action_profile_group=full), update("INSERT", table_entry=entry))
    primary.write(update("MODIFY", action_profile_group=p4r.ActionProfileGroup(action_profile_id=profile,
                                                                                group_id=7)))


def test_one_shot_action_set(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    action_set = p4r.ActionProfileActionSet(action_profile_actions=[
        p4r.ActionProfileAction(action=action(info, "forward", b"\x05").action, weight=1),
        p4r.ActionProfileAction(action=action(info, "forward", b"\x06").action, weight=2)])
    entry = ecmp_entry(info, p4r.TableAction(action_profile_action_set=action_set))
    primary.write(update("INSERT", table_entry=entry))
    assert one(primary.read(p4r.Entity(table_entry=entry))).table_entry.action.action_profile_action_set == action_set
    for entity in (p4r.Entity(action_profile_member=p4r.ActionProfileMember()),
                   p4r.Entity(action_profile_group=p4r.ActionProfileGroup())):  # PI: modes not mixed
        assert failure_code(lambda: primary.read(entity)) == grpc.StatusCode.INVALID_ARGUMENT
    ports = {p for i in range(16) for p, _ in switch.receive(1, frame(dst="00:00:00:00:00:99", ip_src=f"10.9.0.{i}"))}
    assert ports == {5, 6}
    primary.write(update("DELETE", table_entry=entry))
    assert switch.core.action_profiles["MyIngress.ecmp_selector"].members == {}


# ---------------------------------------------------------------- indexed externs


def test_counter_read_write_and_wildcard(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    counter = pid(compiled.p4info, "counters", "port_counter")
    switch.receive(3, frame())
    cell = one(primary.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=3)))))
    assert cell.counter_entry.data.packet_count == 1
    assert len(primary.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter)))) == 64
    primary.write(update("MODIFY", counter_entry=p4r.CounterEntry(
        counter_id=counter, index=p4r.Index(index=3), data=p4r.CounterData(packet_count=9, byte_count=9))))
    cell = one(primary.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=3)))))
    assert cell.counter_entry.data.packet_count == 9
    outside = p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=64))
    assert failure_code(lambda: primary.read(p4r.Entity(counter_entry=outside))) == grpc.StatusCode.OUT_OF_RANGE
    assert failure_code(lambda: primary.write(update("INSERT", counter_entry=outside))) == grpc.StatusCode.INVALID_ARGUMENT


def test_meter_config_read_back(primary, compiled):
    meter = pid(compiled.p4info, "meters", "port_meter")
    config = p4r.MeterConfig(cir=10, cburst=2, pir=20, pburst=4)
    primary.write(update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=2), config=config)))
    cells = primary.read(p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=meter)))
    assert len(cells) == 16
    assert [c.meter_entry.index.index for c in cells if c.meter_entry.HasField("config")] == [2]
    assert cells[2].meter_entry.config == config


def test_register_read_write_single_and_wildcard(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    register = pid(compiled.p4info, "registers", "seen")
    primary.write(update("MODIFY", register_entry=p4r.RegisterEntry(
        register_id=register, index=p4r.Index(index=5), data=p4d.P4Data(bitstring=b"\x00\x00\x01\x02"))))
    switch.receive(2, frame())  # the program writes seen[ingress_port] = 1
    cells = primary.read(p4r.Entity(register_entry=p4r.RegisterEntry(register_id=register)))
    values = {c.register_entry.index.index: c.register_entry.data.bitstring for c in cells}
    assert len(values) == 16 and values[5] == b"\x01\x02" and values[2] == b"\x01" and values[0] == b"\x00"
    too_big = p4r.RegisterEntry(register_id=register, index=p4r.Index(index=1),
                                data=p4d.P4Data(bitstring=b"\x01\x00\x00\x00\x00"))
    assert failure_code(lambda: primary.write(update("MODIFY", register_entry=too_big))) == \
        grpc.StatusCode.INVALID_ARGUMENT  # too wide, as PI answers for every bytestring


# ---------------------------------------------------------------- replication


def test_multicast_groups_with_both_port_encodings(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    group = p4r.MulticastGroupEntry(multicast_group_id=3, replicas=[
        p4r.Replica(port=b"\x00\x02", instance=1), p4r.Replica(port=b"\x04", instance=1)])
    legacy = p4r.MulticastGroupEntry(multicast_group_id=4, replicas=[p4r.Replica(egress_port=6, instance=2)])
    pre = lambda g: p4r.PacketReplicationEngineEntry(multicast_group_entry=g)  # noqa: E731
    primary.write(update("INSERT", packet_replication_engine_entry=pre(group)),
                  update("INSERT", packet_replication_engine_entry=pre(legacy)))
    got = primary.read(p4r.Entity(packet_replication_engine_entry=pre(p4r.MulticastGroupEntry())))
    # PI's std::unordered_map lists small ids in the reverse of their insertion
    assert got[0].packet_replication_engine_entry.multicast_group_entry == legacy  # answered in its encoding
    assert [(r.port, r.instance) for r in got[1].packet_replication_engine_entry.multicast_group_entry.replicas] == \
        [(b"\x00\x02", 1), (b"\x04", 1)]  # as written (PI pi_port_to_bytestring(port, num_bytes))
    primary.write(update("INSERT", table_entry=p4r.TableEntry(
        table_id=pid(info, "tables", "dmac"), match=[exact(1, b"\x0b")], action=action(info, "set_mcast", b"\x03"))))
    assert sorted(p for p, _ in switch.receive(1, frame())) == [2, 4]
    assert failure_code(lambda: primary.write(update("INSERT", packet_replication_engine_entry=pre(group)))) == \
        grpc.StatusCode.ALREADY_EXISTS
    primary.write(update("DELETE", packet_replication_engine_entry=pre(group)))
    assert failure_code(lambda: primary.write(update("MODIFY", packet_replication_engine_entry=pre(group)))) == \
        grpc.StatusCode.NOT_FOUND


def test_clone_sessions(primary):
    session = p4r.CloneSessionEntry(session_id=5, replicas=[p4r.Replica(port=b"\x09", instance=0)])
    entry = p4r.PacketReplicationEngineEntry(clone_session_entry=session)
    primary.write(update("INSERT", packet_replication_engine_entry=entry))
    got = one(primary.read(p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
        clone_session_entry=p4r.CloneSessionEntry()))))
    assert got.packet_replication_engine_entry.clone_session_entry == session


@pytest.mark.parametrize("length, code", [(64, grpc.StatusCode.UNKNOWN), (-1, grpc.StatusCode.UNKNOWN),
                                          (1 << 16, None)])
def test_clone_session_truncation_is_refused_as_simple_switch_grpc_refuses_it(primary, length, code):
    """PI casts packet_length_bytes to 16 bits and BMv2's pi_clone_session_set refuses any
    but 0 ("Error when creating clone session in target"): nothing is installed."""
    session = p4r.CloneSessionEntry(session_id=5, replicas=[p4r.Replica(port=b"\x09", instance=0)],
                                    packet_length_bytes=length)
    entry = p4r.PacketReplicationEngineEntry(clone_session_entry=session)
    write = lambda: primary.write(update("INSERT", packet_replication_engine_entry=entry))  # noqa: E731
    if code is None:
        write()
    else:
        assert failure_code(write) == code
        assert primary.read(p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
            clone_session_entry=p4r.CloneSessionEntry()))) == []


def test_multicast_replicates_and_reads_in_simple_switch_grpc_order(primary, compiled, switch_and_address):
    """PI makes a node per instance and lists them in its std::unordered_map's order (small
    instances in the reverse of their first appearance); BMv2 replicates node by node, each
    node's ports ascending; a modify keeps the kept instances' places and appends new ones."""
    switch, _ = switch_and_address
    info = compiled.p4info
    pre = lambda g: p4r.PacketReplicationEngineEntry(multicast_group_entry=g)  # noqa: E731
    replica = lambda port, rid: p4r.Replica(port=bytes([port]), instance=rid)  # noqa: E731
    group = p4r.MulticastGroupEntry(multicast_group_id=9, replicas=[
        replica(5, 1), replica(3, 2), replica(4, 3), replica(2, 1)])
    primary.write(update("INSERT", packet_replication_engine_entry=pre(group)),
                  update("INSERT", table_entry=p4r.TableEntry(
                      table_id=pid(info, "tables", "dmac"), match=[exact(1, b"\x0b")],
                      action=action(info, "set_mcast", b"\x09"))))
    assert [p for p, _ in switch.receive(1, frame())] == [4, 3, 2, 5]
    read = lambda: [(r.port[0], r.instance) for r in one(primary.read(p4r.Entity(  # noqa: E731
        packet_replication_engine_entry=pre(p4r.MulticastGroupEntry(multicast_group_id=9)))))
        .packet_replication_engine_entry.multicast_group_entry.replicas]
    assert read() == [(4, 3), (3, 2), (2, 1), (5, 1)]

    group = p4r.MulticastGroupEntry(multicast_group_id=9, replicas=[replica(6, 2), replica(7, 4), replica(2, 1)])
    primary.write(update("MODIFY", packet_replication_engine_entry=pre(group)))
    assert [p for p, _ in switch.receive(1, frame())] == [6, 2, 7]  # nodes 2 and 1 kept, 4 attached after
    assert read() == [(2, 1), (7, 4), (6, 2)]


def test_one_port_in_two_encodings_is_two_replicas_and_one_copy(primary, compiled, switch_and_address):
    """PI tells replicas apart by port encoding too; BMv2's port map sends once per node."""
    switch, _ = switch_and_address
    info = compiled.p4info
    pre = lambda g: p4r.PacketReplicationEngineEntry(multicast_group_entry=g)  # noqa: E731
    group = p4r.MulticastGroupEntry(multicast_group_id=2, replicas=[
        p4r.Replica(port=b"\x02", instance=1), p4r.Replica(port=b"\x00\x02", instance=1),
        p4r.Replica(egress_port=2, instance=1)])
    primary.write(update("INSERT", packet_replication_engine_entry=pre(group)),
                  update("INSERT", table_entry=p4r.TableEntry(
                      table_id=pid(info, "tables", "dmac"), match=[exact(1, b"\x0b")],
                      action=action(info, "set_mcast", b"\x02"))))
    assert [p for p, _ in switch.receive(1, frame())] == [2]
    got = one(primary.read(p4r.Entity(packet_replication_engine_entry=pre(p4r.MulticastGroupEntry()))))
    assert list(got.packet_replication_engine_entry.multicast_group_entry.replicas) == [
        p4r.Replica(egress_port=2, instance=1), p4r.Replica(port=b"\x02", instance=1),
        p4r.Replica(port=b"\x00\x02", instance=1)]  # PI's std::set order: kind, port, bytes
    twice = p4r.MulticastGroupEntry(multicast_group_id=3, replicas=[p4r.Replica(port=b"\x02", instance=1)] * 2)
    assert failure_code(lambda: primary.write(update("INSERT", packet_replication_engine_entry=pre(twice)))) == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_clone_session_modify_keeps_its_replicas_when_its_length_is_refused(primary, switch_and_address):
    """PI modifies the session's group, then sets the changed configuration, and does not
    roll back; a length whose low 16 bits are 0 is accepted and read back as written."""
    switch, _ = switch_and_address
    entry = lambda length, port: p4r.PacketReplicationEngineEntry(clone_session_entry=p4r.CloneSessionEntry(  # noqa: E731
        session_id=5, replicas=[p4r.Replica(port=bytes([port]), instance=0)], packet_length_bytes=length))
    primary.write(update("INSERT", packet_replication_engine_entry=entry(1 << 16, 9)))
    read = lambda: one(primary.read(p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(  # noqa: E731
        clone_session_entry=p4r.CloneSessionEntry())))).packet_replication_engine_entry
    assert read() == entry(1 << 16, 9)
    assert failure_code(lambda: primary.write(update("MODIFY", packet_replication_engine_entry=entry(64, 8)))) == \
        grpc.StatusCode.UNKNOWN
    assert read() == entry(1 << 16, 8)
    assert switch.core.pre.clone_targets(5) == ((8, 0),)


def test_replicas_past_the_port_or_rid_width_are_refused(primary, switch_and_address):
    """A copy's port becomes egress_port (bit<9>): 512 would index per-port state past its
    size, so the write fails and nothing is installed."""
    switch, _ = switch_and_address
    pre = lambda **kw: p4r.PacketReplicationEngineEntry(**kw)  # noqa: E731
    bad_group = p4r.MulticastGroupEntry(multicast_group_id=7, replicas=[
        p4r.Replica(port=b"\x02", instance=1), p4r.Replica(port=b"\x02\x00", instance=1)])
    bad_rid = p4r.MulticastGroupEntry(multicast_group_id=8, replicas=[p4r.Replica(egress_port=2, instance=1 << 16)])
    bad_session = p4r.CloneSessionEntry(session_id=6, replicas=[p4r.Replica(egress_port=600, instance=0)])
    for entry in (pre(multicast_group_entry=bad_group), pre(multicast_group_entry=bad_rid),
                  pre(clone_session_entry=bad_session)):
        assert failure_code(lambda: primary.write(update("INSERT", packet_replication_engine_entry=entry))) == \
            grpc.StatusCode.INVALID_ARGUMENT
    assert switch.core.pre.groups == {} and switch.core.pre.clone_sessions == {}


def test_top_level_register_is_addressed_by_its_unprefixed_name(connect, switch_and_address):
    """fabric.p4 declares port_qdepth outside any control; P4Info names it `port_qdepth`
    (as p4c), and that name reaches the same register ingress and egress share."""
    from fabriclab.p4 import compile_file

    switch, _ = switch_and_address
    fabric = compile_file(pathlib.Path(__file__).resolve().parents[3] / "p4src" / "fabric.p4")
    ctl = connect(1)
    ctl.set_pipeline(fabric)
    register = pid(fabric.p4info, "registers", "port_qdepth")
    ctl.write(update("MODIFY", register_entry=p4r.RegisterEntry(
        register_id=register, index=p4r.Index(index=3), data=p4d.P4Data(bitstring=b"\x00\x00\x00\x2a"))))
    assert switch.core.registers["port_qdepth"].read(3) == 42
    cell = one(ctl.read(p4r.Entity(register_entry=p4r.RegisterEntry(register_id=register, index=p4r.Index(index=3)))))
    assert cell.register_entry.data.bitstring == b"\x2a"
