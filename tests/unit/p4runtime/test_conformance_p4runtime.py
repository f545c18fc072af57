"""P4Runtime conformance over the real gRPC server (127.0.0.1, in-process switch).

One test per status code the P4Runtime 1.3 spec names for Write, Read,
Set/GetForwardingPipelineConfig and StreamChannel, each from the spec's own example of when
the code applies (section in the comment). Also the issue-25 regressions that only show on
the wire: per-update errors of a 100-update batch, counters past 2**63, selector weights.
"""

from __future__ import annotations

import pathlib
import sys

import grpc
import pytest
from finsy.proto import U128, p4d, p4r

HERE = pathlib.Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2] / "integration" / "p4runtime"))

from p4rt_client import DEVICE_ID, Controller, action, batch_errors, exact, failure_code, pid, update  # noqa: E402

from fabriclab.switch.p4runtime.loopback import LoopbackSwitch  # noqa: E402
from fabriclab.switch.p4runtime.selector_limits import MAX_GROUP_WEIGHT  # noqa: E402
from fabriclab.switch.p4runtime.server import serve, shutdown  # noqa: E402

PROGRAM = HERE.parents[2] / "integration" / "p4runtime" / "p4rt_test.p4"
Code = grpc.StatusCode
SetReq = p4r.SetForwardingPipelineConfigRequest
GetReq = p4r.GetForwardingPipelineConfigRequest
MAC = b"\x00\x00\x00\x00\x00\x0b"


@pytest.fixture(scope="module")
def compiled():
    from fabriclab.p4 import compile_file

    return compile_file(str(PROGRAM))


@pytest.fixture
def server():
    switch = LoopbackSwitch(device_id=DEVICE_ID, cpu_port=255)
    srv = serve(switch, "127.0.0.1:0", DEVICE_ID)
    made: list[Controller] = []

    def connect(election_id: int | None = 1, arbitrate: bool = True) -> Controller:
        ctl = Controller(f"127.0.0.1:{srv.bound_port}", election_id)
        made.append(ctl)
        if arbitrate:
            ctl.arbitrate()
        return ctl

    try:
        yield switch, connect
    finally:
        for ctl in made:
            ctl.close()
        shutdown(srv)


@pytest.fixture
def primary(server, compiled):
    _, connect = server
    ctl = connect(1)
    ctl.set_pipeline(compiled)
    return ctl


def dmac(info, mac=MAC, act=None):
    return p4r.TableEntry(table_id=pid(info, "tables", "dmac"), match=[exact(1, mac)],
                          action=act or action(info, "forward", b"\x01"))


def code_of(call) -> Code:
    return failure_code(call)


# ---------------------------------------------------------------- Write (spec 12)


def test_write_codes_of_the_whole_request(server, compiled):
    _, connect = server
    ctl = connect(1)
    ins = update("INSERT", table_entry=dmac(compiled.p4info))
    assert code_of(lambda: ctl.write(ins)) == Code.FAILED_PRECONDITION  # no pipeline yet
    ctl.set_pipeline(compiled)
    wrong_device = p4r.WriteRequest(device_id=99, election_id=U128.encode(1), updates=[ins])
    assert code_of(lambda: ctl.stub.Write(wrong_device)) == Code.NOT_FOUND  # 12.1
    assert code_of(lambda: ctl.write(ins, election_id=U128.encode(7))) == Code.PERMISSION_DENIED  # 12.1
    atomic = p4r.WriteRequest.ROLLBACK_ON_ERROR
    assert code_of(lambda: ctl.write(ins, atomicity=atomic)) == Code.UNIMPLEMENTED  # 12.2, optional mode


def test_write_with_an_election_id_while_no_primary_is_denied(server, compiled):
    """Issue 25: after the primary left, a Write with (0,5) must not be accepted."""
    _, connect = server
    first = connect(9)
    first.set_pipeline(compiled)
    backup = connect(5)
    first.close()
    told = backup.next("arbitration")
    assert told.status.code == Code.NOT_FOUND.value[0] and U128.decode(told.election_id) == 9
    ins = update("INSERT", table_entry=dmac(compiled.p4info))
    assert code_of(lambda: backup.write(ins)) == Code.PERMISSION_DENIED
    assert backup.arbitrate(5).status.code == Code.NOT_FOUND.value[0]  # re-sent: still no primary
    assert backup.arbitrate(9).status.code == Code.OK.value[0]
    backup.election_id = 9
    backup.write(ins)


def _per_update(info):
    """(update, code) pairs: one for each per-update code the spec names (9.1, 9.2, 9.4, 12)."""
    table = pid(info, "tables", "dmac")
    acl = pid(info, "tables", "acl")
    ecmp_profile = pid(info, "action_profiles", "ecmp_selector")
    counter = pid(info, "counters", "port_counter")
    const_table = pid(info, "tables", "ethertype_filter")
    not_in_table = action(info, "acl_permit")
    return [
        (update("INSERT", table_entry=dmac(info, act=not_in_table)), Code.INVALID_ARGUMENT),  # 9.1.2
        (update("INSERT", table_entry=dmac(info, act=p4r.TableAction(action=p4r.Action(action_id=12345)))),
         Code.INVALID_ARGUMENT),  # an id that is no action of the table, known or not
        (update("DELETE", table_entry=dmac(info, mac=b"\x0c")), Code.NOT_FOUND),  # 9.1
        (update("INSERT", table_entry=p4r.TableEntry(table_id=424242)), Code.INVALID_ARGUMENT),  # PI: Invalid P4 id
        (update("INSERT", table_entry=dmac(info, mac=b"\x01" * 7)),
         Code.INVALID_ARGUMENT),  # too wide: PI's code (spec 8.4 says OUT_OF_RANGE)
        (update("INSERT", table_entry=p4r.TableEntry(table_id=acl, action=action(info, "acl_permit"))),
         Code.INVALID_ARGUMENT),  # ternary table entry without priority (9.1.1)
        (update("INSERT", table_entry=p4r.TableEntry(table_id=const_table, match=[exact(1, b"\x11")],
                                                      action=action(info, "drop"))), Code.PERMISSION_DENIED),
        (update("MODIFY", counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=64))),
         Code.OUT_OF_RANGE),  # 9.4
        (update("MODIFY", counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=-1))),
         Code.INVALID_ARGUMENT),  # 9.4: negative index
        (update("INSERT", counter_entry=p4r.CounterEntry(counter_id=counter)), Code.INVALID_ARGUMENT),
        (update("INSERT", action_profile_group=p4r.ActionProfileGroup(
            action_profile_id=ecmp_profile, group_id=1,
            members=[p4r.ActionProfileGroup.Member(member_id=77, weight=1)])),
         Code.NOT_FOUND),  # 9.2.2: a member that does not exist
        (update("INSERT", value_set_entry=p4r.ValueSetEntry()), Code.UNIMPLEMENTED),
        (p4r.Update(type=p4r.Update.INSERT), Code.INVALID_ARGUMENT),  # no entity
    ]


def test_per_update_codes_in_one_batch(primary, compiled):
    pairs = _per_update(compiled.p4info)
    ok = update("INSERT", table_entry=dmac(compiled.p4info))
    with pytest.raises(grpc.RpcError) as err:
        primary.write(ok, *(u for u, _ in pairs))
    assert err.value.code() == Code.UNKNOWN  # 12.3: a failed batch
    got = [e.canonical_code for e in batch_errors(err.value)]
    assert got == [Code.OK.value[0]] + [c.value[0] for _, c in pairs]


def test_already_exists_resource_exhausted_and_failed_precondition(primary, compiled):
    info = compiled.p4info
    entry = update("INSERT", table_entry=dmac(info))
    primary.write(entry)
    assert code_of(lambda: primary.write(entry)) == Code.ALREADY_EXISTS
    full = [update("INSERT", table_entry=dmac(info, mac=bytes([1, i]))) for i in range(63)]
    primary.write(*full)  # 64 entries: the table's size
    assert code_of(lambda: primary.write(update("INSERT", table_entry=dmac(info, mac=b"\x02\x00")))) == \
        Code.RESOURCE_EXHAUSTED
    profile = pid(info, "action_profiles", "ecmp_selector")
    member = p4r.ActionProfileMember(action_profile_id=profile, member_id=1, action=action(info, "forward", b"\x02").action)
    primary.write(update("INSERT", action_profile_member=member))
    group = p4r.ActionProfileGroup(action_profile_id=profile, group_id=1,
                                   members=[p4r.ActionProfileGroup.Member(member_id=1, weight=1)])
    primary.write(update("INSERT", action_profile_group=group))
    assert code_of(lambda: primary.write(update("DELETE", action_profile_member=member))) == \
        Code.UNKNOWN  # the member is in a group: BMv2's MBR_STILL_USED through PI (the spec, 9.2.1: FAILED_PRECONDITION)


def test_selector_weights_are_bounded_before_anything_is_built(primary, compiled):
    """Issue 25: weight 2**31-1 (and 6x10^7) used to build a tuple that large under the switch lock."""
    info = compiled.p4info
    profile = pid(info, "action_profiles", "ecmp_selector")
    primary.write(update("INSERT", action_profile_member=p4r.ActionProfileMember(
        action_profile_id=profile, member_id=1, action=action(info, "forward", b"\x02").action)))
    for weight in (2**31 - 1, 60_000_000, MAX_GROUP_WEIGHT + 1):
        group = p4r.ActionProfileGroup(action_profile_id=profile, group_id=5,
                                       members=[p4r.ActionProfileGroup.Member(member_id=1, weight=weight)])
        assert code_of(lambda: primary.write(update("INSERT", action_profile_group=group))) == \
            Code.RESOURCE_EXHAUSTED
    negative = p4r.ActionProfileGroup(action_profile_id=profile, group_id=5,
                                      members=[p4r.ActionProfileGroup.Member(member_id=1, weight=-3)])
    assert code_of(lambda: primary.write(update("INSERT", action_profile_group=negative))) == Code.INVALID_ARGUMENT
    heaviest = p4r.ActionProfileGroup(action_profile_id=profile, group_id=5,
                                      members=[p4r.ActionProfileGroup.Member(member_id=1, weight=MAX_GROUP_WEIGHT)])
    primary.write(update("INSERT", action_profile_group=heaviest))  # the documented maximum works
    assert primary.read(p4r.Entity(action_profile_group=p4r.ActionProfileGroup(
        action_profile_id=profile, group_id=5)))[0].action_profile_group.members[0].weight == MAX_GROUP_WEIGHT
    primary.write(update("DELETE", action_profile_group=heaviest))  # a profile takes one-shot sets only when
    primary.write(update("DELETE", action_profile_member=p4r.ActionProfileMember(  # it has no members (PI)
        action_profile_id=profile, member_id=1)))
    one_shot = p4r.TableEntry(
        table_id=pid(info, "tables", "ecmp"), match=[exact(1, b"\x0a\x00\x00\x01")],
        action=p4r.TableAction(action_profile_action_set=p4r.ActionProfileActionSet(action_profile_actions=[
            p4r.ActionProfileAction(action=action(info, "forward", b"\x01").action, weight=2**31 - 1)])))
    assert code_of(lambda: primary.write(update("INSERT", table_entry=one_shot))) == Code.RESOURCE_EXHAUSTED


def test_a_hundred_failing_updates_each_get_their_error(primary, compiled):
    """Issue 25: the details used to exceed the client's 8 KiB metadata limit (RESOURCE_EXHAUSTED)."""
    updates = [update("DELETE", table_entry=dmac(compiled.p4info, mac=bytes([2, i]))) for i in range(100)]
    with pytest.raises(grpc.RpcError) as err:
        primary.write(*updates)
    assert err.value.code() == Code.UNKNOWN
    errors = batch_errors(err.value)
    assert [e.canonical_code for e in errors] == [Code.NOT_FOUND.value[0]] * 100


def test_action_scope_violation_is_permission_denied(server):
    """Spec 9.1.2: a valid action of the table used against its @defaultonly scope."""
    from fabriclab.p4 import compile_source

    _, connect = server
    program = compile_source(HUGE, name="huge.p4")
    ctl = connect(1)
    ctl.set_pipeline(program, device_config=HUGE.encode())
    info = program.p4info
    entry = p4r.TableEntry(table_id=pid(info, "tables", "t"), match=[exact(1, b"\x08\x00")],
                           action=p4r.TableAction(action=p4r.Action(action_id=pid(info, "actions", "only_default"))))
    assert code_of(lambda: ctl.write(update("INSERT", table_entry=entry))) == Code.PERMISSION_DENIED
    entry.action.action.action_id = pid(info, "actions", "any_use")
    ctl.write(update("INSERT", table_entry=entry))


# ---------------------------------------------------------------- Read (spec 11)


def test_read_codes(server, compiled):
    _, connect = server
    ctl = connect(1)
    everything = p4r.Entity(table_entry=p4r.TableEntry())
    assert code_of(lambda: ctl.read(everything)) == Code.FAILED_PRECONDITION
    ctl.set_pipeline(compiled)
    counter = pid(compiled.p4info, "counters", "port_counter")
    cases = [
        (p4r.ReadRequest(device_id=99, entities=[everything]), Code.NOT_FOUND),  # 11
        (p4r.ReadRequest(device_id=DEVICE_ID, entities=[p4r.Entity()]), Code.INVALID_ARGUMENT),
        (p4r.ReadRequest(device_id=DEVICE_ID, entities=[p4r.Entity(table_entry=p4r.TableEntry(table_id=5))]),
         Code.INVALID_ARGUMENT),  # PI: "Invalid P4 id"
        (p4r.ReadRequest(device_id=DEVICE_ID, entities=[p4r.Entity(counter_entry=p4r.CounterEntry(
            counter_id=counter, index=p4r.Index(index=64)))]), Code.OUT_OF_RANGE),
        (p4r.ReadRequest(device_id=DEVICE_ID, entities=[p4r.Entity(counter_entry=p4r.CounterEntry(
            counter_id=counter, index=p4r.Index(index=-2)))]), Code.INVALID_ARGUMENT),
        (p4r.ReadRequest(device_id=DEVICE_ID, entities=[p4r.Entity(value_set_entry=p4r.ValueSetEntry())]),
         Code.UNIMPLEMENTED),
    ]
    for request, code in cases:
        assert code_of(lambda: list(ctl.stub.Read(request))) == code, request


def test_counters_wrap_and_reads_never_fail_after_overflow(primary, compiled, server):
    """Issue 25: a counter written near 2**63 overflowed after one packet and every Read failed.

    Cells are uint64 as in BMv2 (wrap at 2**64); the int64 field carries them as PI does.
    """
    switch, _ = server
    info = compiled.p4info
    counter = pid(info, "counters", "port_counter")
    near = 2**63 - 1
    primary.write(update("MODIFY", counter_entry=p4r.CounterEntry(
        counter_id=counter, index=p4r.Index(index=1), data=p4r.CounterData(packet_count=near, byte_count=near))))
    switch.receive(1, b"\x00" * 6 + b"\x00\x00\x00\x00\x00\x0a" + b"\x88\xb5" + b"x" * 50)
    cell = primary.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=1))))
    data = cell[0].counter_entry.data
    assert data.packet_count == -(2**63)  # 2**63 as int64
    assert data.byte_count == -(2**63) + 63
    assert len(primary.read(p4r.Entity(counter_entry=p4r.CounterEntry()))) == 64  # the wildcard read too
    primary.write(update("MODIFY", counter_entry=p4r.CounterEntry(
        counter_id=counter, index=p4r.Index(index=1), data=p4r.CounterData(packet_count=-1))))
    switch.receive(1, b"\x00" * 6 + b"\x00\x00\x00\x00\x00\x0a" + b"\x88\xb5" + b"x" * 50)
    cell = primary.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=1))))
    assert cell[0].counter_entry.data.packet_count == 0  # 2**64 - 1 + 1 wraps to 0


HUGE = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers { h_t eth; }
struct meta_t { }
parser P(packet_in pkt, out headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control VC(inout headers hdr, inout meta_t m) { apply { } }
control I(inout headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    counter(32w4294967295, CounterType.packets) c;
    action any_use() { }
    action only_default() { }
    table t { key = { hdr.eth.type: exact; } actions = { any_use; @defaultonly only_default; }
              default_action = only_default(); }
    apply { c.count(7); t.apply(); }
}
control E(inout headers hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout headers hdr, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""


def test_a_counter_of_2_32_cells_is_served_without_allocating_it(server):
    """Issue 25: SwitchCore used to allocate 2**32 cells; wildcards over it are RESOURCE_EXHAUSTED."""
    from fabriclab.p4 import compile_source

    switch, connect = server
    program = compile_source(HUGE, name="huge.p4")
    ctl = connect(1)
    ctl.set_pipeline(program, device_config=HUGE.encode())
    counter = program.p4info.counters[0].preamble.id
    assert program.p4info.counters[0].size == 2**32 - 1
    switch.receive(1, b"\x00" * 14)
    one = ctl.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=7))))
    assert one[0].counter_entry.data.packet_count == 1
    wildcard = p4r.ReadRequest(device_id=DEVICE_ID, entities=[p4r.Entity(counter_entry=p4r.CounterEntry())])
    assert code_of(lambda: list(ctl.stub.Read(wildcard))) == Code.RESOURCE_EXHAUSTED


# ---------------------------------------------------------------- Set/GetForwardingPipelineConfig (spec 14, 15)


def _p4info_with(compiled, edit):
    info = type(compiled.p4info)()
    info.CopyFrom(compiled.p4info)
    edit(info)
    return info


def _counter(info, name):
    return next(c for c in info.counters if c.preamble.name.endswith(name))


def _table(info, name):
    return next(t for t in info.tables if t.preamble.name.endswith(name))


def _action(info, name):
    return next(a for a in info.actions if a.preamble.name.endswith(name))


MISMATCHES = {
    "counter size": lambda i: setattr(_counter(i, "port_counter"), "size", 1024),
    "match width": lambda i: setattr(_table(i, "dmac").match_fields[0], "bitwidth", 8),
    "match kind": lambda i: setattr(_table(i, "dmac").match_fields[0], "match_type", 3),
    "param width": lambda i: setattr(_action(i, "forward").params[0], "bitwidth", 16),
    "param dropped": lambda i: _action(i, "forward").ClearField("params"),
    "table size": lambda i: setattr(_table(i, "dmac"), "size", 65536),
    "counter unit": lambda i: setattr(_counter(i, "port_counter").spec, "unit", 1),
    "object missing": lambda i: i.ClearField("registers"),
}


@pytest.mark.parametrize("what", sorted(MISMATCHES))
def test_set_pipeline_rejects_a_p4info_that_disagrees_with_the_program(server, compiled, what):
    """Issue 25: only ids and names were compared; a counter of 1024 for 512 was accepted."""
    _, connect = server
    ctl = connect(1)
    bad = _p4info_with(compiled, MISMATCHES[what])
    assert code_of(lambda: ctl.set_pipeline(compiled, p4info=bad)) == Code.INVALID_ARGUMENT


def test_docs_and_annotations_may_differ(server, compiled):
    _, connect = server
    ctl = connect(1)
    info = _p4info_with(compiled, lambda i: _table(i, "dmac").preamble.annotations.append("@my_note"))
    ctl.set_pipeline(compiled, p4info=info)


def test_set_pipeline_codes(server, compiled):
    _, connect = server
    ctl = connect(1)
    req = SetReq(device_id=99, election_id=U128.encode(1), action=SetReq.VERIFY_AND_COMMIT)
    req.config.p4info.CopyFrom(compiled.p4info)
    req.config.p4_device_config = compiled.to_artifact()
    assert code_of(lambda: ctl.stub.SetForwardingPipelineConfig(req)) == Code.NOT_FOUND  # 14: device
    backup = connect(0)
    assert code_of(lambda: backup.set_pipeline(compiled)) == Code.PERMISSION_DENIED  # 14: not primary
    assert code_of(lambda: ctl.set_pipeline(None)) == Code.INVALID_ARGUMENT  # VERIFY_AND_COMMIT without config
    assert code_of(lambda: ctl.set_pipeline(compiled, device_config=b"\xff")) == Code.INVALID_ARGUMENT
    assert code_of(lambda: ctl.set_pipeline(None, SetReq.COMMIT)) == Code.NOT_FOUND  # nothing saved
    ctl.set_pipeline(compiled, SetReq.VERIFY_AND_SAVE)
    assert code_of(lambda: ctl.set_pipeline(compiled, SetReq.COMMIT)) == Code.INVALID_ARGUMENT  # config given
    assert code_of(lambda: ctl.set_pipeline(None, SetReq.RECONCILE_AND_COMMIT)) == Code.INVALID_ARGUMENT  # 14: no config
    ctl.set_pipeline(None, SetReq.COMMIT)


def test_get_pipeline_codes(server, compiled):
    """Issue 25: Get before any Set answered an empty config; it must say none is set."""
    _, connect = server
    ctl = connect(1)
    get = GetReq(device_id=DEVICE_ID, response_type=GetReq.ALL)
    assert code_of(lambda: ctl.stub.GetForwardingPipelineConfig(get)) == Code.FAILED_PRECONDITION
    ctl.set_pipeline(compiled)
    assert ctl.stub.GetForwardingPipelineConfig(get).config.p4info == compiled.p4info
    assert code_of(lambda: ctl.stub.GetForwardingPipelineConfig(GetReq(device_id=99))) == Code.NOT_FOUND
    assert code_of(lambda: ctl.stub.GetForwardingPipelineConfig(
        GetReq(device_id=DEVICE_ID, response_type=17))) == Code.INVALID_ARGUMENT


# ---------------------------------------------------------------- StreamChannel (spec 5, 16)


def _stream_end(ctl) -> Code:
    assert ctl.messages.get(timeout=5) is None
    return ctl.stream_error.code()


def test_arbitration_codes(server):
    _, connect = server
    first = connect(5)
    assert first.arbitrate(5).status.code == Code.OK.value[0]
    backup = connect(3, arbitrate=False)
    reply = backup.arbitrate()
    assert reply.status.code == Code.ALREADY_EXISTS.value[0] and U128.decode(reply.election_id) == 5
    watcher = connect(None, arbitrate=False)
    assert watcher.arbitrate().status.code == Code.ALREADY_EXISTS.value[0]

    unknown = connect(7, arbitrate=False)
    unknown.send(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(device_id=99)))
    assert _stream_end(unknown) == Code.NOT_FOUND  # 5.3: unknown device on a new stream
    dup = connect(5, arbitrate=False)
    dup.send(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
        device_id=DEVICE_ID, election_id=U128.encode(5))))
    assert _stream_end(dup) == Code.INVALID_ARGUMENT  # 5.3: election id in use
    backup.send(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
        device_id=DEVICE_ID + 1, election_id=U128.encode(3))))
    assert _stream_end(backup) == Code.FAILED_PRECONDITION  # 5.3: device changed on a live stream
    first.send(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
        device_id=DEVICE_ID, election_id=U128.encode(5), role=p4r.Role(name="other"))))
    assert _stream_end(first) == Code.FAILED_PRECONDITION  # 5.3: role changed on a live stream
    told = watcher.next("arbitration")  # the primary's stream ended: no primary now
    assert told.status.code == Code.NOT_FOUND.value[0] and U128.decode(told.election_id) == 5


def test_stream_message_errors(server, compiled):
    _, connect = server
    ctl = connect(1)
    packet = p4r.StreamMessageRequest(packet=p4r.PacketOut(payload=b"\x00" * 20))
    ctl.send(packet)
    assert ctl.next("error").canonical_code == Code.FAILED_PRECONDITION.value[0]  # no pipeline
    ctl.set_pipeline(compiled)
    ctl.send(packet)  # no packet_out metadata: sent with zeros, as PI does, no error
    connect(0).send(packet)  # a backup's packet-out: ignored without an error, as PI
    ctl.send(p4r.StreamMessageRequest(digest_ack=p4r.DigestListAck(digest_id=424242, list_id=1)))  # ignored too
    unknown = p4r.PacketOut(payload=b"\x00" * 20, metadata=[p4r.PacketMetadata(metadata_id=99, value=b"\x01")])
    ctl.send(p4r.StreamMessageRequest(packet=unknown))
    error = ctl.next("error")  # the first error on the stream is this one's
    assert error.canonical_code == Code.INVALID_ARGUMENT.value[0] and "99" in error.message
    assert error.space == "ALL-sswitch-p4org"  # as PI's packet_io_mgr fills a StreamError
    ctl.send(p4r.StreamMessageRequest())  # no update at all
    assert ctl.next("error").canonical_code == Code.INVALID_ARGUMENT.value[0]


def test_register_reads_serve_bitstrings(primary, compiled):
    register = pid(compiled.p4info, "registers", "seen")
    primary.write(update("MODIFY", register_entry=p4r.RegisterEntry(
        register_id=register, index=p4r.Index(index=3), data=p4d.P4Data(bitstring=b"\x07"))))
    got = primary.read(p4r.Entity(register_entry=p4r.RegisterEntry(register_id=register, index=p4r.Index(index=3))))
    assert got[0].register_entry.data.bitstring == b"\x07"


def test_shutdown_ends_after_streams_of_unparsable_bytes():
    """Issue 25: after 20 StreamChannel calls with garbage, stop(grace).wait() never returned."""
    switch = LoopbackSwitch(device_id=DEVICE_ID, cpu_port=255)
    srv = serve(switch, "127.0.0.1:0", DEVICE_ID)
    address = f"127.0.0.1:{srv.bound_port}"
    channels = []
    try:
        for _ in range(20):
            channel = grpc.insecure_channel(address)
            channels.append(channel)
            call = channel.stream_stream("/p4.v1.P4Runtime/StreamChannel")(iter([b"\xff\xff\xff\x01garbage"]))
            with pytest.raises(grpc.RpcError):
                list(call)
        stub = Controller(address, None).stub
        assert stub.Capabilities(p4r.CapabilitiesRequest()).p4runtime_api_version == "1.3.0"  # still serving
    finally:
        shutdown(srv)  # returns within STOP_GRACE_S + STOP_WAIT_S whatever grpc does
        for channel in channels:
            channel.close()
    with pytest.raises(grpc.RpcError) as err:
        stub.Capabilities(p4r.CapabilitiesRequest(), timeout=2)
    assert err.value.code() in (Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED)
