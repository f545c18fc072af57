"""P4Runtime service over real gRPC: capabilities, pipeline config, arbitration, errors."""

import json

import grpc
import pytest
from finsy.proto import U128, p4r

from p4rt_client import action, batch_errors, exact, failure_code, pid, update

SetReq = p4r.SetForwardingPipelineConfigRequest
GetReq = p4r.GetForwardingPipelineConfigRequest
MAC = b"\x00\x00\x00\x00\x00\x0b"


def dmac_entry(p4info, mac=MAC, port=b"\x01"):
    return p4r.TableEntry(table_id=pid(p4info, "tables", "dmac"), match=[exact(1, mac)],
                          action=action(p4info, "forward", port))


def test_capabilities_report_1_3_0(connect):
    ctl = connect(arbitrate=False)
    assert ctl.stub.Capabilities(p4r.CapabilitiesRequest()).p4runtime_api_version == "1.3.0"


def test_write_and_read_before_a_pipeline_fail_with_failed_precondition(connect, compiled):
    ctl = connect(1)
    entry = dmac_entry(compiled.p4info)
    assert failure_code(lambda: ctl.write(update("INSERT", table_entry=entry))) == grpc.StatusCode.FAILED_PRECONDITION
    assert failure_code(lambda: ctl.read(p4r.Entity(table_entry=p4r.TableEntry()))) == grpc.StatusCode.FAILED_PRECONDITION


def test_verify_does_not_commit_but_save_then_commit_does(connect, compiled):
    ctl = connect(1)
    entry = update("INSERT", table_entry=dmac_entry(compiled.p4info))
    ctl.set_pipeline(compiled, SetReq.VERIFY)
    assert failure_code(lambda: ctl.write(entry)) == grpc.StatusCode.FAILED_PRECONDITION
    assert failure_code(lambda: ctl.set_pipeline(None, SetReq.COMMIT)) == grpc.StatusCode.NOT_FOUND  # spec 14
    ctl.set_pipeline(compiled, SetReq.VERIFY_AND_SAVE)
    ctl.set_pipeline(None, SetReq.COMMIT)
    ctl.write(entry)
    assert len(ctl.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(compiled.p4info, "tables", "dmac"))))) == 1


def test_writes_after_verify_and_save_refer_to_the_saved_config_and_take_effect_at_commit(
        connect, compiled, switch_and_address):
    """Spec 14: after VERIFY_AND_SAVE "any subsequent Read / Write requests must refer to fields
    in the new config", and COMMIT realizes it with those writes. PI makes the saved config
    current at once (DeviceMgr::pipeline_config_set calls p4_change for VERIFY_AND_SAVE) and
    BMv2 swaps the data plane at COMMIT. We used to answer FAILED_PRECONDITION, or with an
    older config committed, write into the old pipeline that COMMIT then threw away."""
    switch, _ = switch_and_address
    ctl = connect(1)
    ctl.set_pipeline(compiled)
    old_core = switch.core
    ctl.set_pipeline(compiled, SetReq.VERIFY_AND_SAVE, cookie=9)
    ctl.write(update("INSERT", table_entry=dmac_entry(compiled.p4info, port=b"\x03")))
    dmac = p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(compiled.p4info, "tables", "dmac")))
    assert len(ctl.read(dmac)) == 1
    got = ctl.stub.GetForwardingPipelineConfig(GetReq(device_id=1, response_type=GetReq.COOKIE_ONLY))
    assert got.config.cookie.cookie == 9  # the saved config, as PI answers
    assert switch.core is old_core  # the data plane still runs the committed pipeline
    ctl.set_pipeline(None, SetReq.COMMIT)
    assert switch.core is not old_core and len(ctl.read(dmac)) == 1
    frame = b"\x00\x00\x00\x00\x00\x0b" + b"\x00\x00\x00\x00\x00\x0a" + b"\x88\xb5" + b"x" * 50
    assert [p for p, _ in switch.receive(1, frame)] == [3]
    assert failure_code(lambda: ctl.set_pipeline(None, SetReq.COMMIT)) == grpc.StatusCode.NOT_FOUND  # once


def test_reconcile_commits_the_new_pipeline_with_the_entries(primary, compiled, switch_and_address):
    """RECONCILE_AND_COMMIT, as simple_switch_grpc's PI: a new pipeline, the entries carried
    over (test_p4rt_reconcile.py has the rest). We used to answer UNIMPLEMENTED."""
    switch, _ = switch_and_address
    old_core = switch.core
    primary.write(update("INSERT", table_entry=dmac_entry(compiled.p4info, port=b"\x03")))
    primary.set_pipeline(compiled, SetReq.RECONCILE_AND_COMMIT)
    assert switch.core is not old_core
    dmac = p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(compiled.p4info, "tables", "dmac")))
    assert [e.table_entry for e in primary.read(dmac)] == [dmac_entry(compiled.p4info, mac=b"\x0b", port=b"\x03")]
    frame = b"\x00\x00\x00\x00\x00\x0b" + b"\x00\x00\x00\x00\x00\x0a" + b"\x88\xb5" + b"x" * 50
    assert [p for p, _ in switch.receive(1, frame)] == [3]


def test_p4_source_is_a_valid_device_config(connect, compiled):
    ctl = connect(1)
    ctl.set_pipeline(compiled, device_config=compiled.source.encode())
    ctl.write(update("INSERT", table_entry=dmac_entry(compiled.p4info)))


@pytest.mark.parametrize("config", [b"", b"not p4 at all {", b'{"format": "something-else"}',
                                    b'{"header_types": [], "pipelines": []}', b"\xff\xfe"])
def test_bad_device_config_is_invalid_argument(connect, compiled, config):
    ctl = connect(1)
    assert failure_code(lambda: ctl.set_pipeline(compiled, device_config=config)) == grpc.StatusCode.INVALID_ARGUMENT


def test_p4info_of_another_program_is_invalid_argument(connect, compiled):
    ctl = connect(1)
    other = p4r.ForwardingPipelineConfig().p4info.__class__()
    other.CopyFrom(compiled.p4info)
    other.tables[0].preamble.id += 1
    assert failure_code(lambda: ctl.set_pipeline(compiled, p4info=other)) == grpc.StatusCode.INVALID_ARGUMENT


def test_get_pipeline_config_response_types(primary, compiled):
    def get(kind):
        return primary.stub.GetForwardingPipelineConfig(GetReq(device_id=1, response_type=kind)).config

    full = get(GetReq.ALL)
    assert full.p4info == compiled.p4info and full.cookie.cookie == 7
    assert json.loads(full.p4_device_config)["format"] == "fabriclab-pipeline"
    cookie = get(GetReq.COOKIE_ONLY)
    assert cookie.cookie.cookie == 7 and not cookie.HasField("p4info") and not cookie.p4_device_config
    info = get(GetReq.P4INFO_AND_COOKIE)
    assert info.HasField("p4info") and not info.p4_device_config
    dev = get(GetReq.DEVICE_CONFIG_AND_COOKIE)
    assert dev.p4_device_config and not dev.HasField("p4info")


def test_wrong_device_id_is_not_found(primary, compiled):
    req = p4r.WriteRequest(device_id=99, election_id=U128.encode(1),
                           updates=[update("INSERT", table_entry=dmac_entry(compiled.p4info))])
    assert failure_code(lambda: primary.stub.Write(req)) == grpc.StatusCode.NOT_FOUND


def test_batch_errors_are_unknown_with_one_error_per_update(primary, compiled):
    p4info = compiled.p4info
    primary.write(update("INSERT", table_entry=dmac_entry(p4info)))
    with pytest.raises(grpc.RpcError) as err:
        primary.write(
            update("INSERT", table_entry=dmac_entry(p4info, mac=b"\x0c")),
            update("INSERT", table_entry=dmac_entry(p4info)),  # duplicate
            update("DELETE", table_entry=dmac_entry(p4info, mac=b"\x0d")),  # absent
            update("INSERT", table_entry=dmac_entry(p4info, mac=b"\x0e", port=b"\x02\x00")),  # > bit<9>
            update("INSERT", table_entry=p4r.TableEntry(table_id=12345)),  # unknown table
        )
    assert err.value.code() == grpc.StatusCode.UNKNOWN
    errors = batch_errors(err.value)
    codes = [e.canonical_code for e in errors]
    # PI's codes: a too-wide bytestring and an unknown id are INVALID_ARGUMENT (common.cpp, common.h)
    assert codes == [0, grpc.StatusCode.ALREADY_EXISTS.value[0], grpc.StatusCode.NOT_FOUND.value[0],
                     grpc.StatusCode.INVALID_ARGUMENT.value[0], grpc.StatusCode.INVALID_ARGUMENT.value[0]]
    # PI's P4ErrorReporter: failed updates carry space "ALL-sswitch-p4org"; successes only the code
    assert [e.space for e in errors] == [""] + ["ALL-sswitch-p4org"] * 4
    assert errors[0] == p4r.Error()
    dmac = p4r.TableEntry(table_id=pid(p4info, "tables", "dmac"))
    assert len(primary.read(p4r.Entity(table_entry=dmac))) == 2  # the good update applied


def test_only_continue_on_error_atomicity(primary, compiled):
    call = lambda: primary.write(update("INSERT", table_entry=dmac_entry(compiled.p4info)),  # noqa: E731
                                 atomicity=p4r.WriteRequest.DATAPLANE_ATOMIC)
    assert failure_code(call) == grpc.StatusCode.UNIMPLEMENTED


def test_two_controllers_compete_for_mastership(connect, compiled):
    first = connect(10)
    first.set_pipeline(compiled)
    second = connect(5, arbitrate=False)
    reply = second.arbitrate()
    assert reply.status.code == grpc.StatusCode.ALREADY_EXISTS.value[0]
    assert U128.decode(reply.election_id) == 10
    entry = update("INSERT", table_entry=dmac_entry(compiled.p4info))
    assert failure_code(lambda: second.write(entry)) == grpc.StatusCode.PERMISSION_DENIED
    assert failure_code(lambda: second.set_pipeline(compiled)) == grpc.StatusCode.PERMISSION_DENIED
    dmac = p4r.TableEntry(table_id=pid(compiled.p4info, "tables", "dmac"))
    assert second.read(p4r.Entity(table_entry=dmac)) == []  # backups may read

    third = connect(20, arbitrate=False)
    assert third.arbitrate().status.code == 0
    demoted = first.next("arbitration")
    assert demoted.status.code == grpc.StatusCode.ALREADY_EXISTS.value[0] and U128.decode(demoted.election_id) == 20
    assert failure_code(lambda: first.write(entry)) == grpc.StatusCode.PERMISSION_DENIED
    third.write(entry)

    third.close()  # the primary's stream closes: no primary until an id >= 20 arrives (spec 5.4)
    told = first.next("arbitration")
    assert told.status.code == grpc.StatusCode.NOT_FOUND.value[0] and U128.decode(told.election_id) == 20
    assert second.next("arbitration").status.code == grpc.StatusCode.ALREADY_EXISTS.value[0]  # third took over
    assert second.next("arbitration").status.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert first.arbitrate(20).status.code == 0
    first.election_id = 20
    first.write(update("DELETE", table_entry=dmac_entry(compiled.p4info)))


def test_with_no_controller_only_a_request_without_election_id_is_served(connect, compiled):
    """PI's debugging rule: no stream, no election_id -> served; any election_id, even 0, names
    a primary there is not -> PERMISSION_DENIED."""
    for election_id, code in ((0, grpc.StatusCode.PERMISSION_DENIED), (7, grpc.StatusCode.PERMISSION_DENIED)):
        assert failure_code(lambda: connect(election_id, arbitrate=False).set_pipeline(compiled)) == code
    connect(None, arbitrate=False).set_pipeline(compiled)


def test_reused_election_id_ends_the_stream_with_invalid_argument(connect):
    connect(3)
    dup = connect(3, arbitrate=False)
    dup.send(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
        device_id=1, election_id=U128.encode(3))))
    assert dup.messages.get(timeout=5) is None
    assert dup.stream_error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_read_errors(primary):
    unknown = p4r.Entity(table_entry=p4r.TableEntry(table_id=424242))
    assert failure_code(lambda: primary.read(unknown)) == grpc.StatusCode.INVALID_ARGUMENT  # PI: "Invalid P4 id"
    assert failure_code(lambda: primary.read(p4r.Entity())) == grpc.StatusCode.INVALID_ARGUMENT
    value_set = p4r.Entity(value_set_entry=p4r.ValueSetEntry())
    assert failure_code(lambda: primary.read(value_set)) == grpc.StatusCode.UNIMPLEMENTED
    assert failure_code(lambda: primary.write(update("INSERT", value_set_entry=p4r.ValueSetEntry()))) == \
        grpc.StatusCode.UNIMPLEMENTED


def test_a_new_commit_starts_from_a_clean_state(primary, compiled):
    dmac = p4r.TableEntry(table_id=pid(compiled.p4info, "tables", "dmac"))
    primary.write(update("INSERT", table_entry=dmac_entry(compiled.p4info)))
    primary.set_pipeline(compiled, cookie=8)
    assert primary.read(p4r.Entity(table_entry=dmac)) == []
    got = primary.stub.GetForwardingPipelineConfig(GetReq(device_id=1, response_type=GetReq.COOKIE_ONLY))
    assert got.config.cookie.cookie == 8
