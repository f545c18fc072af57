"""SetForwardingPipelineConfig RECONCILE_AND_COMMIT over real gRPC, as simple_switch_grpc's PI.

PI (proto/frontend/src/device_mgr.cpp, save_forwarding_state) reads the running pipeline's
state with wildcard Reads and writes it into the new one by P4 id; anything the new P4Info
cannot take fails the request with UNKNOWN. We keep the old pipeline untouched on failure.
"""

from __future__ import annotations

import pathlib

import grpc
import pytest
from finsy.proto import p4r
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from p4rt_client import action, exact, failure_code, pid, update

SetReq = p4r.SetForwardingPipelineConfigRequest
GetReq = p4r.GetForwardingPipelineConfigRequest
SOURCE = pathlib.Path(__file__).with_name("p4rt_test.p4").read_text()
DMAC_KEY = "key = { hdr.ethernet.dstAddr: exact; }"
EXTRA_TABLE = """    table src_filter {
        key = { hdr.ethernet.srcAddr: exact; }
        actions = { drop; NoAction; }
        default_action = NoAction();
        size = 16;
    }
    table ethertype_filter {"""


def variant(name: str, *replacements: tuple[str, str]):
    from fabriclab.p4 import compile_source

    text = SOURCE
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return compile_source(text, name=name)


@pytest.fixture(scope="module")
def with_extra_table():
    return variant("extra", ("    table ethertype_filter {", EXTRA_TABLE),
                   ("dmac.apply();", "dmac.apply();\n            src_filter.apply();"))


@pytest.fixture(scope="module")
def without_dmac():
    start = SOURCE.index("    table dmac {")
    block = SOURCE[start:SOURCE.index("    table ipv4_lpm {")]
    return variant("no_dmac", (block, ""), ("dmac.apply();", ""))


@pytest.fixture(scope="module")
def dmac_ternary():
    return variant("dmac_ternary", (DMAC_KEY, DMAC_KEY.replace("exact", "ternary")))


def frame(dst: str, ip_dst: str = "10.7.7.7", ip_src: str = "10.0.0.1") -> bytes:
    ip = IP(src=ip_src, dst=ip_dst) / UDP(sport=1, dport=2) / (b"x" * 8)
    return bytes(Ether(dst=dst, src="00:00:00:00:00:0a") / ip)


def ecmp_ports(switch) -> set[int]:
    return {p for i in range(16) for p, _ in switch.receive(1, frame("00:00:00:00:00:99", "10.1.2.3", f"10.9.0.{i}"))}


def pre(**kind) -> p4r.PacketReplicationEngineEntry:
    return p4r.PacketReplicationEngineEntry(**kind)


def fill(ctl, info, one_shots: bool = False) -> None:
    """Write one of every kind of forwarding state the test program has. ecmp_selector is
    programmed with members and groups, or (`one_shots`) with one-shot action sets: one profile
    takes one kind or the other (PI's check_selector_usage). Either way 10.1.2.3 spreads over
    ports 5 and 6 and 10.1.2.4 goes to port 8."""
    table = lambda name: pid(info, "tables", name)  # noqa: E731
    profile = pid(info, "action_profiles", "ecmp_selector")

    def action_set(*ports: bytes) -> p4r.TableAction:
        return p4r.TableAction(action_profile_action_set=p4r.ActionProfileActionSet(action_profile_actions=[
            p4r.ActionProfileAction(action=action(info, "forward", port).action, weight=1) for port in ports]))

    if one_shots:
        spread, single = action_set(b"\x05", b"\x06"), action_set(b"\x08")
    else:
        members = [p4r.ActionProfileMember(action_profile_id=profile, member_id=m,
                                           action=action(info, "forward", port).action)
                   for m, port in ((1, b"\x05"), (2, b"\x06"), (3, b"\x08"))]
        group = p4r.ActionProfileGroup(action_profile_id=profile, group_id=7, max_size=4, members=[
            p4r.ActionProfileGroup.Member(member_id=1, weight=1), p4r.ActionProfileGroup.Member(member_id=2, weight=1)])
        ctl.write(*[update("INSERT", action_profile_member=m) for m in members])
        ctl.write(update("INSERT", action_profile_group=group))
        spread, single = p4r.TableAction(action_profile_group_id=7), p4r.TableAction(action_profile_member_id=3)
    ctl.write(
        update("INSERT", table_entry=p4r.TableEntry(table_id=table("dmac"), match=[exact(1, b"\x0b")],
                                                    action=action(info, "forward", b"\x03"))),
        update("INSERT", table_entry=p4r.TableEntry(table_id=table("dmac"), match=[exact(1, b"\x0c")],
                                                    action=action(info, "set_mcast", b"\x05"))),
        update("INSERT", table_entry=p4r.TableEntry(
            table_id=table("ipv4_lpm"), match=[p4r.FieldMatch(field_id=1, lpm=p4r.FieldMatch.LPM(
                value=bytes([10, 2, 0, 0]), prefix_len=16))], action=action(info, "forward", b"\x04"))),
        update("INSERT", table_entry=p4r.TableEntry(
            table_id=table("acl"), priority=10, action=action(info, "acl_permit"),
            match=[p4r.FieldMatch(field_id=1, ternary=p4r.FieldMatch.Ternary(value=bytes([10, 9, 9, 9]),
                                                                             mask=b"\xff\xff\xff\xff"))],
            counter_data=p4r.CounterData(packet_count=5, byte_count=500))),
        update("INSERT", table_entry=p4r.TableEntry(
            table_id=table("smac"), match=[exact(1, b"\x0a")], action=action(info, "NoAction"),
            idle_timeout_ns=60_000_000_000, metadata=b"cookie", controller_metadata=42)),
        update("INSERT", table_entry=p4r.TableEntry(table_id=table("ecmp"), match=[exact(1, bytes([10, 1, 2, 3]))],
                                                    action=spread)),
        update("INSERT", table_entry=p4r.TableEntry(table_id=table("ecmp"), match=[exact(1, bytes([10, 1, 2, 4]))],
                                                    action=single)),
        update("MODIFY", counter_entry=p4r.CounterEntry(counter_id=pid(info, "counters", "port_counter"),
                                                        index=p4r.Index(index=1),
                                                        data=p4r.CounterData(packet_count=10, byte_count=1000))),
        update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=pid(info, "meters", "port_meter"),
                                                    index=p4r.Index(index=2),
                                                    config=p4r.MeterConfig(cir=10, cburst=2, pir=20, pburst=4))),
        update("INSERT", packet_replication_engine_entry=pre(multicast_group_entry=p4r.MulticastGroupEntry(
            multicast_group_id=5,
            replicas=[p4r.Replica(port=b"\x01", instance=1), p4r.Replica(egress_port=2, instance=1)]))),
        update("INSERT", packet_replication_engine_entry=pre(clone_session_entry=p4r.CloneSessionEntry(
            session_id=9, replicas=[p4r.Replica(port=b"\x09", instance=0)], class_of_service=0))),
        update("MODIFY", table_entry=p4r.TableEntry(table_id=table("dmac"), is_default_action=True,
                                                    action=action(info, "drop"))),
    )


def state(ctl, info) -> list[bytes]:
    """Every carried-over entity a wildcard Read returns, serialized (deterministic order)."""
    queries = [p4r.Entity(table_entry=p4r.TableEntry()),
               p4r.Entity(action_profile_member=p4r.ActionProfileMember()),
               p4r.Entity(action_profile_group=p4r.ActionProfileGroup()),
               p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=pid(info, "counters", "port_counter"))),
               p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=pid(info, "meters", "port_meter"))),
               p4r.Entity(packet_replication_engine_entry=pre(multicast_group_entry=p4r.MulticastGroupEntry())),
               p4r.Entity(packet_replication_engine_entry=pre(clone_session_entry=p4r.CloneSessionEntry()))]
    out = []
    for q in queries:
        try:
            out += [e.SerializeToString(deterministic=True) for e in ctl.read(q)]
        except grpc.RpcError as err:  # members or groups of a profile one-shot sets program (PI)
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
            out.append(b"refused")
    return out


def forwards_as_filled(switch) -> None:
    assert [p for p, _ in switch.receive(1, frame("00:00:00:00:00:0b"))] == [3]  # dmac
    assert sorted(p for p, _ in switch.receive(1, frame("00:00:00:00:00:0c"))) == [1, 2]  # dmac -> PRE group 5
    assert [p for p, _ in switch.receive(1, frame("00:00:00:00:00:99", "10.2.3.4"))] == [4]  # ipv4_lpm
    assert ecmp_ports(switch) == {5, 6}  # ecmp -> selector group 7, or a one-shot set of two
    assert [p for p, _ in switch.receive(1, frame("00:00:00:00:00:99", "10.1.2.4"))] == [8]  # member 3, or a set of one


def default_action_id(ctl, info, table: str) -> int:
    got = ctl.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(info, "tables", table), is_default_action=True)))
    return got[0].table_entry.action.action.action_id


@pytest.mark.parametrize("one_shots", [False, True], ids=["members-and-groups", "one-shot-sets"])
def test_reconcile_with_the_same_program_keeps_entries_groups_and_cells(primary, compiled, switch_and_address,
                                                                        one_shots):
    switch, _ = switch_and_address
    info = compiled.p4info
    fill(primary, info, one_shots)
    forwards_as_filled(switch)  # counts port 1's packets in port_counter[1]
    before, old_core = state(primary, info), switch.core

    primary.set_pipeline(compiled, SetReq.RECONCILE_AND_COMMIT, cookie=8)

    assert switch.core is not old_core  # a new pipeline, committed at once
    assert state(primary, info) == before  # the same entities, ids, metadata, TTLs, one-shot set, cells
    forwards_as_filled(switch)
    got = primary.stub.GetForwardingPipelineConfig(GetReq(device_id=1, response_type=GetReq.COOKIE_ONLY))
    assert got.config.cookie.cookie == 8
    assert failure_code(lambda: primary.set_pipeline(None, SetReq.COMMIT)) == grpc.StatusCode.NOT_FOUND  # nothing saved


def test_reconcile_does_not_carry_what_pi_does_not(primary, compiled, switch_and_address):
    """PI reads non-default entries without direct data, and no registers: default entries
    come back as the program declares them, direct counters restart at 0."""
    switch, _ = switch_and_address
    info = compiled.p4info
    fill(primary, info)
    assert default_action_id(primary, info, "dmac") == pid(info, "actions", "drop")
    acl = p4r.TableEntry(table_id=pid(info, "tables", "acl"))
    assert primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl)))[0] \
        .direct_counter_entry.data.packet_count == 5

    primary.set_pipeline(compiled, SetReq.RECONCILE_AND_COMMIT)

    assert default_action_id(primary, info, "dmac") == pid(info, "actions", "NoAction")
    assert primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl)))[0] \
        .direct_counter_entry.data.packet_count == 0


def test_reconcile_to_a_program_with_one_more_table(primary, compiled, with_extra_table, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    fill(primary, info)
    before = state(primary, info)

    primary.set_pipeline(with_extra_table, SetReq.RECONCILE_AND_COMMIT)

    assert state(primary, with_extra_table.p4info) == before
    forwards_as_filled(switch)
    src_filter = pid(with_extra_table.p4info, "tables", "src_filter")
    primary.write(update("INSERT", table_entry=p4r.TableEntry(table_id=src_filter, match=[exact(1, b"\x0a")],
                                                              action=action(with_extra_table.p4info, "drop"))))
    assert switch.receive(1, frame("00:00:00:00:00:0b")) == []  # the new table runs in the data plane


def test_reconcile_maps_entries_by_id_not_by_name(primary, compiled, switch_and_address):
    """PI's own test (test_proto_fe_set_pipeline_config.cpp, Reconcile): a table renamed
    under the same id keeps its entries."""
    switch, _ = switch_and_address
    info = compiled.p4info
    dmac_id = pid(info, "tables", "dmac")
    renamed = variant("renamed", ("    table dmac {", f"    @id({dmac_id}) table dmac2 {{"),
                      ("dmac.apply();", "dmac2.apply();"))
    fill(primary, info)
    primary.set_pipeline(renamed, SetReq.RECONCILE_AND_COMMIT)
    assert len(primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=dmac_id)))) == 2
    forwards_as_filled(switch)


@pytest.mark.parametrize("program", ["without_dmac", "dmac_ternary"])
def test_reconcile_that_cannot_keep_the_entries_fails_and_keeps_the_old_pipeline(
        primary, compiled, switch_and_address, program, request):
    """A new P4Info without a table that holds entries, or with a match field changed under
    it: PI's replay fails and it answers UNKNOWN ("Error when reconciling config"; the spec
    says INVALID_ARGUMENT). The old pipeline keeps forwarding and serving requests."""
    switch, _ = switch_and_address
    info = compiled.p4info
    fill(primary, info)
    before, old_core = state(primary, info), switch.core

    new = request.getfixturevalue(program)
    with pytest.raises(grpc.RpcError) as err:
        primary.set_pipeline(new, SetReq.RECONCILE_AND_COMMIT, cookie=8)
    assert err.value.code() == grpc.StatusCode.UNKNOWN
    assert "reconcil" in err.value.details() and "dmac" in err.value.details()

    assert switch.core is old_core
    assert state(primary, info) == before
    forwards_as_filled(switch)
    got = primary.stub.GetForwardingPipelineConfig(GetReq(device_id=1, response_type=GetReq.P4INFO_AND_COOKIE))
    assert got.config.cookie.cookie == 7 and got.config.p4info == info
    primary.write(update("DELETE", table_entry=p4r.TableEntry(table_id=pid(info, "tables", "dmac"),
                                                              match=[exact(1, b"\x0b")])))
    assert switch.receive(1, frame("00:00:00:00:00:0b")) == []  # writes still go to it (default: drop)


def test_reconcile_without_a_pipeline_is_a_commit(connect, compiled, switch_and_address):
    switch, _ = switch_and_address
    ctl = connect(1)
    ctl.set_pipeline(compiled, SetReq.RECONCILE_AND_COMMIT)
    assert switch.core is not None
    fill(ctl, compiled.p4info)
    forwards_as_filled(switch)


def test_reconcile_without_a_config_is_invalid_argument(primary):
    assert failure_code(lambda: primary.set_pipeline(None, SetReq.RECONCILE_AND_COMMIT)) == \
        grpc.StatusCode.INVALID_ARGUMENT
