"""Codes a controller sees from simple_switch_grpc, where PI (p4lang/PI proto/frontend) decides.

Each case names the PI function that answers it; where PI and the spec differ, the docstring
says so (we answer as the switch we replace).
"""

import grpc
import pytest
from finsy.proto import p4r

from p4rt_client import action, batch_errors, exact, failure_code, pid, update

Code = grpc.StatusCode


def ecmp_entry(info, table_action, **extra):
    return p4r.TableEntry(table_id=pid(info, "tables", "ecmp"), match=[exact(1, bytes([10, 1, 2, 3]))],
                          action=table_action, **extra)


def dmac_entry(info, **extra):
    return p4r.TableEntry(table_id=pid(info, "tables", "dmac"), match=[exact(1, b"\x0b")],
                          action=action(info, "forward", b"\x01"), **extra)


def group(info, group_id, *members, max_size=0):
    return p4r.ActionProfileGroup(action_profile_id=pid(info, "action_profiles", "ecmp_selector"), group_id=group_id,
                                  max_size=max_size, members=[p4r.ActionProfileGroup.Member(member_id=m, weight=w)
                                                              for m, w in members])


def pre(**entry):
    return p4r.PacketReplicationEngineEntry(**entry)


def _cases(info):
    """(update, code): every one was accepted or answered otherwise before."""
    ecmp_profile = pid(info, "action_profiles", "ecmp_selector")
    acl_default = p4r.TableEntry(table_id=pid(info, "tables", "acl"), is_default_action=True, priority=3,
                                 action=action(info, "acl_permit"))
    ecmp_default = p4r.TableEntry(table_id=pid(info, "tables", "ecmp"), is_default_action=True,
                                  action=action(info, "drop"))
    return [
        # validate_action: "Cannot provide direct action for indirect table"
        (update("INSERT", table_entry=ecmp_entry(info, action(info, "forward", b"\x02"))), Code.INVALID_ARGUMENT),
        # validate_action: "Cannot set / reset default action for indirect table"
        (update("MODIFY", table_entry=ecmp_default), Code.INVALID_ARGUMENT),
        # construct_match_key: "Non-zero priority for default entry"
        (update("MODIFY", table_entry=acl_default), Code.INVALID_ARGUMENT),
        # construct_direct_resources: "Table has no direct meters" / "... counters"
        (update("INSERT", table_entry=dmac_entry(info, meter_config=p4r.MeterConfig(cir=1, pir=1))),
         Code.INVALID_ARGUMENT),
        (update("INSERT", table_entry=dmac_entry(info, counter_data=p4r.CounterData(packet_count=1))),
         Code.INVALID_ARGUMENT),
        # table_write: "has_time_since_last_hit must not be set in WriteRequest"
        (update("INSERT", table_entry=dmac_entry(info, time_since_last_hit=p4r.TableEntry.IdleTimeout())),
         Code.INVALID_ARGUMENT),
        # group_update_members (and spec 9.2.2): "Member weight must be a positive integer value"
        (update("INSERT", action_profile_group=group(info, 2, (1, 0))), Code.INVALID_ARGUMENT),
        # action_prof_mgr validate_action: an unknown action id is "Invalid P4 id"
        (update("INSERT", action_profile_member=p4r.ActionProfileMember(
            action_profile_id=ecmp_profile, member_id=9, action=p4r.Action(action_id=12345))), Code.INVALID_ARGUMENT),
        # pre_mc_write: ids from 2**15 are reserved for clone sessions, "Group id value is too high"
        (update("INSERT", packet_replication_engine_entry=pre(multicast_group_entry=p4r.MulticastGroupEntry(
            multicast_group_id=1 << 15, replicas=[p4r.Replica(egress_port=1, instance=1)]))), Code.OUT_OF_RANGE),
        # GetReplicaPort: "Missing port in multicast group replica"; bytestring_to_pi_port: empty port
        (update("INSERT", packet_replication_engine_entry=pre(multicast_group_entry=p4r.MulticastGroupEntry(
            multicast_group_id=3, replicas=[p4r.Replica(instance=1)]))), Code.INVALID_ARGUMENT),
        (update("INSERT", packet_replication_engine_entry=pre(multicast_group_entry=p4r.MulticastGroupEntry(
            multicast_group_id=3, replicas=[p4r.Replica(port=b"", instance=1)]))), Code.INVALID_ARGUMENT),
        # PreCloneMgr::validate_session_id: "Clone session id out-of-range" (1..32767)
        (update("INSERT", packet_replication_engine_entry=pre(clone_session_entry=p4r.CloneSessionEntry(
            session_id=32768, replicas=[p4r.Replica(egress_port=1)]))), Code.INVALID_ARGUMENT),
    ]


def test_per_update_codes_as_simple_switch_grpc(primary, compiled):
    info = compiled.p4info
    primary.write(update("INSERT", action_profile_member=p4r.ActionProfileMember(
        action_profile_id=pid(info, "action_profiles", "ecmp_selector"), member_id=1,
        action=action(info, "forward", b"\x02").action)))
    cases = _cases(info)
    with pytest.raises(grpc.RpcError) as err:
        primary.write(*(u for u, _ in cases))
    got = [e.canonical_code for e in batch_errors(err.value)]
    assert got == [c.value[0] for _, c in cases]
    assert primary.read(p4r.Entity(table_entry=p4r.TableEntry())) == \
        primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(info, "tables", "ethertype_filter"))))


def test_an_empty_bytestring_is_zero(primary, compiled, switch_and_address):
    """PI's bytestring_p4rt_to_pi pads a short string, the empty one too (spec 8.4 rejects it):
    a controller that encodes 0 as b"" works on simple_switch_grpc, so it must work here."""
    switch, _ = switch_and_address
    info = compiled.p4info
    entry = p4r.TableEntry(table_id=pid(info, "tables", "dmac"), match=[exact(1, b"")],
                           action=action(info, "forward", b"\x05"))
    primary.write(update("INSERT", table_entry=entry))
    got = primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(info, "tables", "dmac"))))
    assert [e.table_entry.match[0].exact.value for e in got] == [b"\x00"]  # read back canonical
    frame = b"\x00" * 6 + b"\x00\x00\x00\x00\x00\x0a" + b"\x88\xb5" + b"x" * 50
    assert [p for p, _ in switch.receive(1, frame)] == [5]


def test_group_modify_without_max_size_keeps_it(primary, compiled):
    """PI group_modify: "no check is performed if max_size is unset", and the group keeps the
    max_size it was inserted with; a different non-zero one is still INVALID_ARGUMENT (9.2.2)."""
    info = compiled.p4info
    for member_id, port in ((1, b"\x02"), (2, b"\x03")):
        primary.write(update("INSERT", action_profile_member=p4r.ActionProfileMember(
            action_profile_id=pid(info, "action_profiles", "ecmp_selector"), member_id=member_id,
            action=action(info, "forward", port).action)))
    primary.write(update("INSERT", action_profile_group=group(info, 7, (1, 1), max_size=2)))
    primary.write(update("MODIFY", action_profile_group=group(info, 7, (1, 1), (2, 1))))
    read = primary.read(p4r.Entity(action_profile_group=group(info, 7)))
    assert read[0].action_profile_group.max_size == 2 and len(read[0].action_profile_group.members) == 2
    other_size = update("MODIFY", action_profile_group=group(info, 7, (1, 1), max_size=3))
    assert failure_code(lambda: primary.write(other_size)) == Code.INVALID_ARGUMENT
    too_heavy = update("MODIFY", action_profile_group=group(info, 7, (1, 2), (2, 1)))
    assert failure_code(lambda: primary.write(too_heavy)) == Code.RESOURCE_EXHAUSTED  # the kept max_size bounds it


def _read_code(ctl, entity) -> Code:
    return failure_code(lambda: ctl.read(entity))


def test_read_codes_as_simple_switch_grpc(primary, compiled):
    """PI entry_handle_from_table_entry ("Cannot map table entry to handle"): reading the direct
    counter or meter of a key no entry has is INVALID_ARGUMENT (spec 9.5/9.7 would say
    NOT_FOUND), as of a table without one. PI pre_mc_read / session_read: one
    multicast group or clone session that does not exist is NOT_FOUND, a reserved group id
    OUT_OF_RANGE. We used to answer all of these with an empty read."""
    info = compiled.p4info
    acl = p4r.TableEntry(table_id=pid(info, "tables", "acl"), priority=1, match=[
        p4r.FieldMatch(field_id=3, optional=p4r.FieldMatch.Optional(value=b"\x08\x00"))])
    dmac = p4r.TableEntry(table_id=pid(info, "tables", "dmac"))
    assert _read_code(primary, p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl))) == \
        Code.INVALID_ARGUMENT
    assert _read_code(primary, p4r.Entity(direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl))) == \
        Code.INVALID_ARGUMENT
    assert _read_code(primary, p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=dmac))) == \
        Code.INVALID_ARGUMENT
    assert _read_code(primary, p4r.Entity(packet_replication_engine_entry=pre(
        multicast_group_entry=p4r.MulticastGroupEntry(multicast_group_id=4)))) == Code.NOT_FOUND
    assert _read_code(primary, p4r.Entity(packet_replication_engine_entry=pre(
        multicast_group_entry=p4r.MulticastGroupEntry(multicast_group_id=1 << 15)))) == Code.OUT_OF_RANGE
    assert _read_code(primary, p4r.Entity(packet_replication_engine_entry=pre(
        clone_session_entry=p4r.CloneSessionEntry(session_id=4)))) == Code.NOT_FOUND
    primary.write(update("INSERT", table_entry=p4r.TableEntry(
        table_id=acl.table_id, priority=1, match=acl.match, action=action(info, "acl_permit"))))
    assert len(primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl)))) == 1
    assert primary.read(p4r.Entity(packet_replication_engine_entry=pre(
        multicast_group_entry=p4r.MulticastGroupEntry()))) == []  # the wildcard read stays empty


def test_the_default_entry_has_no_direct_counter_or_meter(primary, compiled, switch_and_address):
    """BMv2 counts and meters hits only (match_units.cpp lookup, match_tables.cpp apply_action):
    it keeps no direct counter or meter cell for a table's default entry. PI's frontend passes a
    DirectCounterEntry/DirectMeterEntry of the default entry to BMv2's PI target, which refuses
    it (PI/src/pi_counter_imp.cpp, pi_meter_imp.cpp: NOT_IMPLEMENTED_BY_TARGET), so
    simple_switch_grpc answers UNKNOWN; a bad key, a table without the resource or an INSERT
    are INVALID_ARGUMENT first. We answered INVALID_ARGUMENT to all."""
    switch, _ = switch_and_address
    info = compiled.p4info
    acl = pid(info, "tables", "acl")
    default = p4r.TableEntry(table_id=acl, is_default_action=True)
    counter = p4r.DirectCounterEntry(table_entry=default, data=p4r.CounterData(packet_count=5))
    meter = p4r.DirectMeterEntry(table_entry=default, config=p4r.MeterConfig(cir=1, cburst=1, pir=1, pburst=1))
    for entity in (p4r.Entity(direct_counter_entry=counter), p4r.Entity(direct_meter_entry=meter)):
        with pytest.raises(grpc.RpcError) as err:  # (failure_code reads an UNKNOWN as a Write batch)
            primary.read(entity)
        assert err.value.code() == Code.UNKNOWN
    assert _read_code(primary, p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(
        table_entry=p4r.TableEntry(table_id=pid(info, "tables", "dmac"), is_default_action=True)))) == \
        Code.INVALID_ARGUMENT
    cases = [(update("MODIFY", direct_counter_entry=counter), Code.UNKNOWN),
             (update("MODIFY", direct_meter_entry=meter), Code.UNKNOWN),
             (update("INSERT", direct_counter_entry=counter), Code.INVALID_ARGUMENT),
             # construct_direct_resources, for the default entry too: dmac has no counter
             (update("MODIFY", table_entry=p4r.TableEntry(table_id=pid(info, "tables", "dmac"), is_default_action=True,
                                                         counter_data=p4r.CounterData())), Code.INVALID_ARGUMENT),
             # ... and acl has one: accepted, and BMv2's PI target drops it (no cell)
             (update("MODIFY", table_entry=p4r.TableEntry(table_id=acl, is_default_action=True,
                                                         counter_data=p4r.CounterData(packet_count=9))), Code.OK),
             (update("MODIFY", direct_counter_entry=p4r.DirectCounterEntry(
                 table_entry=p4r.TableEntry(table_id=acl, is_default_action=True, priority=1))), Code.INVALID_ARGUMENT)]
    with pytest.raises(grpc.RpcError) as err:
        primary.write(*(u for u, _ in cases))
    assert [e.canonical_code for e in batch_errors(err.value)] == [c.value[0] for _, c in cases]
    # and a miss counts into nothing: the one entry counts its own hit only
    src = p4r.FieldMatch.Ternary(value=b"\x0a\x00\x00\x01", mask=b"\xff\xff\xff\xff")
    entry = p4r.TableEntry(table_id=acl, priority=1, action=action(info, "acl_permit"),
                           match=[p4r.FieldMatch(field_id=1, ternary=src)])
    primary.write(update("INSERT", table_entry=entry))
    for src in (1, 2, 3):
        ipv4 = bytes([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, 9])
        switch.receive(1, b"\x00" * 5 + b"\x01" + b"\x00" * 5 + b"\x02" + b"\x08\x00" + ipv4 + b"x" * 26)
    [got] = primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=entry)))
    assert got.direct_counter_entry.data.packet_count == 1
