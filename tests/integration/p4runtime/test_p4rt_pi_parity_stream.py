"""Where simple_switch_grpc's P4Runtime server (p4lang/PI proto/frontend, proto/server) answers
otherwise than the spec's wording or our earlier choices, we answer as it does: packet-out
metadata, silent stream messages, action-profile watch ports, programming modes and codes,
replica port encodings and clone-session class of service, DigestEntry reads.

Each test names the PI function it follows.
"""

import time

import grpc
import pytest
from finsy.proto import U128, p4r
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from p4rt_client import DEVICE_ID, action, batch_errors, exact, failure_code, pid, update

from fabriclab.switch.p4runtime.device import Device
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, P4RuntimeError

Code = grpc.StatusCode
FRAME = bytes(Ether(dst="00:00:00:00:00:0b", src="00:00:00:00:00:0a") / IP(dst="10.1.2.3") / UDP() / b"payload!")
EGRESS_PORT, PAD = 1, 2  # packet_out metadata ids in p4rt_test.p4 (bit<9> egress_port, bit<7> _pad)


def packet_out(*metadata: tuple[int, bytes]) -> p4r.StreamMessageRequest:
    return p4r.StreamMessageRequest(packet=p4r.PacketOut(
        payload=FRAME, metadata=[p4r.PacketMetadata(metadata_id=i, value=v) for i, v in metadata]))


def until_arbitration(ctl) -> list[str]:
    """Re-send the stream's arbitration and return the kinds of the messages that came before its
    answer: everything sent before it on the stream has been handled by then."""
    ctl.send(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
        device_id=ctl.device_id, election_id=U128.encode(ctl.election_id))))
    kinds = []
    while True:
        msg = ctl.messages.get(timeout=5)
        assert msg is not None, f"stream ended: {ctl.stream_error}"
        kind = msg.WhichOneof("update")
        if kind == "arbitration":
            return kinds
        kinds.append(kind)


def wait_transmitted(switch, count: int = 1) -> list:
    """The switch's sent frames once there are `count` (packet-outs run on the stream's reader thread)."""
    for _ in range(500):
        if len(switch.transmitted) >= count:
            break
        time.sleep(0.01)
    return switch.transmitted


# ---------------------------------------------------------------- 1. packet-out metadata


def test_packet_out_missing_metadata_is_zero_filled_and_sent(primary, switch_and_address):
    """packet_io_mgr.cpp PacketOutMutate: a field the PacketOut leaves out is sent as zeros."""
    switch, _ = switch_and_address
    primary.send(packet_out((EGRESS_PORT, b"\x02")))  # no _pad
    assert wait_transmitted(switch) == [(2, FRAME)]
    primary.send(packet_out((PAD, b"\x00")))  # no egress_port: it is 0
    assert wait_transmitted(switch, 2)[1] == (0, FRAME)
    assert "error" not in until_arbitration(primary)


def test_packet_out_unknown_or_too_wide_metadata_is_still_refused(primary, switch_and_address):
    """PacketOutMutate: "Unknown metadata id in PacketOut message"; bytestring_p4rt_to_pi: too wide."""
    switch, _ = switch_and_address
    primary.send(packet_out((EGRESS_PORT, b"\x02"), (9, b"\x00")))
    assert primary.next("error").canonical_code == Code.INVALID_ARGUMENT.value[0]
    primary.send(packet_out((EGRESS_PORT, b"\x02\x00")))  # 512 does not fit bit<9>
    assert primary.next("error").canonical_code == Code.INVALID_ARGUMENT.value[0]
    assert switch.transmitted == []


# ---------------------------------------------------------------- 2. silent stream messages


def test_backup_packet_out_and_digest_ack_are_ignored_without_error(primary, connect, switch_and_address):
    """pi_server.cpp process_stream_message_request: not the primary -> return (no StreamError)."""
    switch, _ = switch_and_address
    backup = connect(0)
    backup.send(packet_out((EGRESS_PORT, b"\x02"), (PAD, b"\x00")))
    backup.send(p4r.StreamMessageRequest(digest_ack=p4r.DigestListAck(digest_id=424242, list_id=1)))
    assert "error" not in until_arbitration(backup)
    assert switch.transmitted == []


def test_acks_of_unknown_digests_or_lists_are_ignored_without_error(primary, compiled):
    """DigestMgr::ack: an unknown digest id, or a list not awaiting an ack, is ignored."""
    digest_id = pid(compiled.p4info, "digests", "learn_t")
    primary.write(update("INSERT", digest_entry=p4r.DigestEntry(
        digest_id=digest_id, config=p4r.DigestEntry.Config(max_list_size=1, ack_timeout_ns=10**9))))
    primary.send(p4r.StreamMessageRequest(digest_ack=p4r.DigestListAck(digest_id=424242, list_id=1)))
    primary.send(p4r.StreamMessageRequest(digest_ack=p4r.DigestListAck(digest_id=digest_id, list_id=12345)))
    assert "error" not in until_arbitration(primary)


# ---------------------------------------------------------------- action profiles


def member(info, member_id, port):
    return p4r.ActionProfileMember(action_profile_id=pid(info, "action_profiles", "ecmp_selector"),
                                   member_id=member_id, action=action(info, "forward", port).action)


def ecmp_entry(info, table_action, dst=bytes([10, 1, 2, 3])):
    return p4r.TableEntry(table_id=pid(info, "tables", "ecmp"), match=[exact(1, dst)], action=table_action)


def watched_group(primary, info, first: dict, second: dict) -> p4r.ActionProfileGroup:
    """Members 1 (forward to port 2) and 2 (port 3) in group 4, with these Member fields
    (weight 1 unless given); returns the group as written."""
    profile = pid(info, "action_profiles", "ecmp_selector")
    primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")),
                  update("INSERT", action_profile_member=member(info, 2, b"\x03")))
    group = p4r.ActionProfileGroup(action_profile_id=profile, group_id=4, members=[
        p4r.ActionProfileGroup.Member(member_id=m, **{"weight": 1, **fields})
        for m, fields in ((1, first), (2, second))])
    primary.write(update("INSERT", action_profile_group=group))
    return group


def test_group_member_watch_ports_read_back_as_written(primary, compiled):
    """action_profile_group_read_one / WatchPort::to_p4rt: `watch_port` bytes and the
    deprecated `watch` are stored with the membership and returned."""
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    group = watched_group(primary, info, dict(watch_port=b"\x00\x02"), dict(weight=2, watch=3))
    query = p4r.Entity(action_profile_group=p4r.ActionProfileGroup(action_profile_id=profile, group_id=4))
    [got] = primary.read(query)
    assert got.action_profile_group == group
    unwatched = p4r.ActionProfileGroup(action_profile_id=profile, group_id=4, members=[
        p4r.ActionProfileGroup.Member(member_id=1, weight=1)])
    primary.write(update("MODIFY", action_profile_group=unwatched))
    [got] = primary.read(query)
    assert got.action_profile_group == unwatched


def test_a_member_whose_watch_port_is_down_leaves_the_selection(primary, compiled, switch_and_address):
    """PI's WatchPortEnforcer: a port event takes the members watching that port out of the
    group's selection until it is up again; reads still list them, and the controller hears
    the port event as before."""
    switch, _ = switch_and_address
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    group = watched_group(primary, info, dict(watch_port=b"\x02"), dict(watch_port=b"\x03"))
    primary.write(update("INSERT", table_entry=ecmp_entry(info, p4r.TableAction(action_profile_group_id=4))))

    def ports() -> set[int]:
        frames = [bytes(Ether(dst="00:00:00:00:00:99", src="00:00:00:00:00:0a")
                        / IP(src=f"10.9.0.{i}", dst="10.1.2.3") / UDP(sport=1, dport=2)) for i in range(32)]
        return {p for f in frames for p, _ in switch.receive(1, f)}

    assert ports() == {2, 3}
    switch.port_status(3, False)
    assert ports() == {2}
    query = p4r.Entity(action_profile_group=p4r.ActionProfileGroup(action_profile_id=profile, group_id=4))
    assert primary.read(query)[0].action_profile_group == group  # still both members
    assert failure_code(lambda: primary.write(update("DELETE", action_profile_member=member(info, 2, b"\x03")))) == \
        Code.UNKNOWN  # member 2 is still in the group
    switch.port_status(2, False)
    assert ports() == {2, 3}  # both down: the group keeps selecting among all
    switch.port_status(2, True)
    switch.port_status(3, True)
    assert ports() == {2, 3}


def test_members_and_groups_cannot_join_a_profile_one_shot_sets_use(primary, compiled):
    """ActionProfMgr::check_selector_usage: "Invalid attempt to mix action selector programming
    modes" (INVALID_ARGUMENT) while one-shot sets are there; allowed again once they are gone."""
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    action_set = p4r.ActionProfileActionSet(action_profile_actions=[
        p4r.ActionProfileAction(action=action(info, "forward", b"\x05").action, weight=1)])
    entry = ecmp_entry(info, p4r.TableAction(action_profile_action_set=action_set))
    primary.write(update("INSERT", table_entry=entry))
    group = p4r.ActionProfileGroup(action_profile_id=profile, group_id=1)
    assert failure_code(lambda: primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")))) == \
        Code.INVALID_ARGUMENT
    assert failure_code(lambda: primary.write(update("INSERT", action_profile_group=group))) == Code.INVALID_ARGUMENT
    primary.write(update("DELETE", table_entry=entry))
    primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")),
                  update("INSERT", action_profile_group=group))


def test_a_one_shot_set_for_a_profile_with_members_is_invalid_argument(primary, compiled):
    """The other direction of check_selector_usage: a profile programmed with members takes no
    one-shot action set."""
    info = compiled.p4info
    primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")))
    one_shot = p4r.TableEntry(
        table_id=pid(info, "tables", "ecmp"), match=[exact(1, bytes([10, 1, 2, 3]))],
        action=p4r.TableAction(action_profile_action_set=p4r.ActionProfileActionSet(action_profile_actions=[
            p4r.ActionProfileAction(action=action(info, "forward", b"\x03").action, weight=1)])))
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=one_shot))) == Code.INVALID_ARGUMENT
    primary.write(update("DELETE", action_profile_member=member(info, 1, b"\x02")))
    primary.write(update("INSERT", table_entry=one_shot))  # the profile is free again


def test_deleting_a_member_or_group_in_use_is_unknown(primary, compiled):
    """member_delete / group_delete: "Error when deleting member/group on target" (UNKNOWN), for
    BMv2's MBR_STILL_USED / GRP_STILL_USED."""
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    group = p4r.ActionProfileGroup(action_profile_id=profile, group_id=7, members=[
        p4r.ActionProfileGroup.Member(member_id=1, weight=1)])
    primary.write(update("INSERT", action_profile_member=member(info, 1, b"\x02")),
                  update("INSERT", action_profile_member=member(info, 2, b"\x03")),
                  update("INSERT", action_profile_group=group),
                  update("INSERT", table_entry=ecmp_entry(info, p4r.TableAction(action_profile_group_id=7))),
                  update("INSERT", table_entry=ecmp_entry(info, p4r.TableAction(action_profile_member_id=2),
                                                          dst=bytes([10, 1, 2, 4]))))
    for used in (update("DELETE", action_profile_member=member(info, 1, b"\x02")),  # in group 7
                 update("DELETE", action_profile_member=member(info, 2, b"\x03")),  # used by an entry
                 update("DELETE", action_profile_group=group)):  # used by an entry
        with pytest.raises(grpc.RpcError) as err:
            primary.write(used)
        assert err.value.code() == Code.UNKNOWN
        assert [e.canonical_code for e in batch_errors(err.value)] == [Code.UNKNOWN.value[0]]


# ---------------------------------------------------------------- 6. replicas


def pre(**entry):
    return p4r.PacketReplicationEngineEntry(**entry)


def test_replica_ports_read_back_with_the_width_they_were_written_with(primary):
    """PreMcMgr read_group / SetReplicaPort: pi_port_to_bytestring(port, num_bytes), in
    read_group's order."""
    group = p4r.MulticastGroupEntry(multicast_group_id=3, replicas=[
        p4r.Replica(port=b"\x00\x00\x00\x05", instance=1), p4r.Replica(port=b"\x00\x02", instance=1),
        p4r.Replica(egress_port=6, instance=2)])
    session = p4r.CloneSessionEntry(session_id=4, replicas=[p4r.Replica(port=b"\x00\x09", instance=0)])
    primary.write(update("INSERT", packet_replication_engine_entry=pre(multicast_group_entry=group)),
                  update("INSERT", packet_replication_engine_entry=pre(clone_session_entry=session)))
    [got] = primary.read(p4r.Entity(packet_replication_engine_entry=pre(
        multicast_group_entry=p4r.MulticastGroupEntry(multicast_group_id=3))))
    # in PI's order: instance 2's node before instance 1's (its std::unordered_map), ports sorted
    assert list(got.packet_replication_engine_entry.multicast_group_entry.replicas) == [
        group.replicas[2], group.replicas[1], group.replicas[0]]
    [got] = primary.read(p4r.Entity(packet_replication_engine_entry=pre(
        clone_session_entry=p4r.CloneSessionEntry(session_id=4))))
    assert got.packet_replication_engine_entry.clone_session_entry == session


@pytest.mark.parametrize("port, code", [
    (b"\x00", Code.INVALID_ARGUMENT),  # bytestring_to_pi_port: "Port must be non-negative." (0 included)
    (b"\x00\x00", Code.INVALID_ARGUMENT),
    (b"\x80\x00\x00\x00", Code.INVALID_ARGUMENT),  # negative as PI's int32 pi_port_t
    (b"\x00\x00\x00\x00\x05", Code.UNIMPLEMENTED),  # "only 4 bytes are supported"
])
def test_replica_port_checks(primary, port, code):
    group = p4r.MulticastGroupEntry(multicast_group_id=3, replicas=[p4r.Replica(port=port, instance=1)])
    session = p4r.CloneSessionEntry(session_id=4, replicas=[p4r.Replica(port=port, instance=0)])
    for entry in (pre(multicast_group_entry=group), pre(clone_session_entry=session)):
        assert failure_code(lambda: primary.write(update("INSERT", packet_replication_engine_entry=entry))) == code


def test_egress_port_zero_is_still_a_replica(primary):
    """GetReplicaPort takes the deprecated `egress_port` as it is (fabriclab's controller writes it)."""
    group = p4r.MulticastGroupEntry(multicast_group_id=3, replicas=[p4r.Replica(egress_port=0, instance=1)])
    primary.write(update("INSERT", packet_replication_engine_entry=pre(multicast_group_entry=group)))


def test_clone_session_class_of_service_is_unimplemented(primary):
    """PreCloneMgr::session_set: "COS for clone sessions not supported yet"."""
    session = p4r.CloneSessionEntry(session_id=4, replicas=[p4r.Replica(port=b"\x09", instance=0)])
    entry = pre(clone_session_entry=session)
    primary.write(update("INSERT", packet_replication_engine_entry=entry))
    with_cos = p4r.CloneSessionEntry(session_id=5, replicas=[p4r.Replica(port=b"\x09", instance=0)],
                                     class_of_service=1)
    assert failure_code(lambda: primary.write(update(
        "INSERT", packet_replication_engine_entry=pre(clone_session_entry=with_cos)))) == Code.UNIMPLEMENTED
    entry.clone_session_entry.class_of_service = 2
    assert failure_code(lambda: primary.write(update("MODIFY", packet_replication_engine_entry=entry))) == \
        Code.UNIMPLEMENTED
    [got] = primary.read(p4r.Entity(packet_replication_engine_entry=pre(clone_session_entry=p4r.CloneSessionEntry())))
    assert got.packet_replication_engine_entry.clone_session_entry.session_id == 4
    assert got.packet_replication_engine_entry.clone_session_entry.class_of_service == 0


# ---------------------------------------------------------------- 7. DigestEntry reads


def test_digest_entry_reads(primary, compiled):
    """DigestMgr::config_read: digest_id 0 is UNIMPLEMENTED, an unconfigured digest NOT_FOUND."""
    digest_id = pid(compiled.p4info, "digests", "learn_t")
    assert failure_code(lambda: primary.read(p4r.Entity(digest_entry=p4r.DigestEntry()))) == Code.UNIMPLEMENTED
    assert failure_code(lambda: primary.read(p4r.Entity(digest_entry=p4r.DigestEntry(digest_id=digest_id)))) == \
        Code.NOT_FOUND
    config = p4r.DigestEntry.Config(max_list_size=1)
    primary.write(update("INSERT", digest_entry=p4r.DigestEntry(digest_id=digest_id, config=config)))
    [got] = primary.read(p4r.Entity(digest_entry=p4r.DigestEntry(digest_id=digest_id)))
    assert got.digest_entry.config == config
    assert failure_code(lambda: primary.read(p4r.Entity(digest_entry=p4r.DigestEntry()))) == Code.UNIMPLEMENTED
