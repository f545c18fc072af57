"""SwitchCore behaviour STF cannot observe: digests, queueing metadata, timestamps, bounds,
clone truncation, EgressItem fields and unsupported constructs."""

import pytest

from fabriclab.errors import FabricError
from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.v1model import Digest
from fabriclab.switch.replication import CloneSession
from fabriclab.switch.tm import QueueInfo

# the stages both programs here start and end with
PARSE = """parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
"""
TAIL = """control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header data_t { bit<32> a; bit<32> b; bit<48> ts; bit<8> op; }
struct metadata { }
struct headers { data_t data; }
struct learn_t { bit<32> a; bit<9> port; }

""" + PARSE + """control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        sm.priority = 3;
        hdr.data.ts = sm.ingress_global_timestamp;
        if (hdr.data.op == 1) { digest<learn_t>(1, { hdr.data.a, sm.ingress_port }); }
        if (hdr.data.op == 3) { clone(CloneType.I2E, 5); }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        hdr.data.a = (bit<32>)sm.enq_qdepth;
        hdr.data.b = sm.deq_timedelta;
        if (hdr.data.op == 4) { hdr.data.ts = sm.egress_global_timestamp; }
        if (hdr.data.op == 2) { recirculate_preserving_field_list(0); }
    }
}
""" + TAIL


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "core_test.p4")


def pkt(op: int) -> bytes:
    return bytes(4) + bytes(4) + bytes(6) + bytes([op]) + b"payload"


def test_digest_is_queued_with_field_values(program):
    core = SwitchCore(program)
    core.process(7, b"\x0a\x00\x00\x01" + pkt(1)[4:], 10)
    assert list(core.digests) == [Digest("learn_t", {"a": 0x0A000001, "port": 7})]


def test_egress_sees_queueing_metadata_and_timestamps(program):
    core = SwitchCore(program)
    items = core.ingress(1, pkt(4), 1000)
    assert [(i.port, i.qid, i.length) for i in items] == [(2, 3, len(pkt(4)))]
    sent, more = core.egress(items[0], 1500, QueueInfo(1000, 7, 3, 500))
    assert not more
    (port, data), = sent
    assert port == 2
    assert int.from_bytes(data[0:4], "big") == 7      # enq_qdepth
    assert int.from_bytes(data[4:8], "big") == 500    # deq_timedelta
    assert int.from_bytes(data[8:14], "big") == 1500  # egress_global_timestamp
    assert data.endswith(b"payload")


def test_ingress_timestamp_is_now(program):
    core = SwitchCore(program)
    (port, data), = core.process(1, pkt(0), 123456)
    assert int.from_bytes(data[8:14], "big") == 123456


def test_endless_recirculation_is_bounded(program):
    core = SwitchCore(program)
    assert core.process(1, pkt(2), 0) == []


def test_drop_port_is_configurable(program):
    src = PROGRAM.replace("sm.egress_spec = 2;", "sm.egress_spec = 100;")
    core = SwitchCore(compile_source(src, "drop.p4"), drop_port=100)
    assert core.process(1, pkt(0), 0) == []


def test_unsupported_extern_is_a_clear_error():
    src = PROGRAM.replace("apply {\n        sm.egress_spec = 2;",
                          "Checksum16() ck;\n    apply {\n        sm.egress_spec = 2;")
    # (p4c-bm2-ss has no converter for v1model.p4's Checksum16: the compiler refuses it first)
    with pytest.raises(FabricError, match=r"core_test.p4:\d+:\d+: .*Checksum16: unknown extern instance"):
        SwitchCore(compile_source(src, "core_test.p4"))


@pytest.mark.parametrize("use", [
    "hash(hdr.data.a, HashAlgorithm.random, 32w0, { hdr.data.b }, 32w16);",
    "action_selector(HashAlgorithm.random, 32w4, 32w16) sel;",
])
def test_the_random_hash_algorithm_is_refused_as_simple_switch_refuses_it(use):
    """p4c-bm2-ss emits "random" and BMv2 has no such hash: "Unknown hash algorithm"."""
    where = "sm.egress_spec = 2;" if use.startswith("hash") else "apply {\n        sm.egress_spec = 2;"
    src = PROGRAM.replace(where, f"{use}\n        {where}" if use.startswith("hash") else f"{use}\n    {where}")
    with pytest.raises(FabricError, match=r"core_test.p4:\d+:\d+: .*hash algorithm 'random' \(simple_switch refuses"):
        SwitchCore(compile_source(src, "core_test.p4"))


@pytest.mark.parametrize("cell, ok", [("learn_t", False), ("bool", False), ("bit<8>", True),
                                      ("int<8>", True)])
def test_registers_hold_bits_only(cell, ok):
    """As p4c-bm2-ss ("Only registers with bit or int types"): p4c's front end and P4Info take
    register<struct>, its back end does not, so the compiler refuses it before any switch."""
    src = PROGRAM.replace("apply {\n        sm.egress_spec = 2;",
                          f"register<{cell}>(4) r;\n    apply {{\n        sm.egress_spec = 2;")
    if ok:
        assert SwitchCore(compile_source(src, "core_test.p4")).process(1, pkt(0), 0)
    else:
        with pytest.raises(FabricError, match=r"core_test.p4:\d+:\d+: .*register: Only registers with bit or "
                                              r"int types are currently supported"):
            compile_source(src, "core_test.p4")


def test_huge_header_stack_is_a_clear_error():
    """p4c accepts `h[2147483648]`; allocating it per packet would exhaust memory."""
    src = PROGRAM.replace("struct headers { data_t data; }",
                          "struct headers { data_t data; data_t[2147483648] big; }")
    with pytest.raises(FabricError, match="header stack of 2147483648 elements"):
        SwitchCore(compile_source(src, "core_test.p4"))


def test_direct_counter_and_direct_meter_per_entry():
    import pathlib

    from fabriclab.p4 import compile_file
    from fabriclab.switch.externs import MeterConfig
    from fabriclab.switch.tables import Exact

    stf_dir = pathlib.Path(__file__).resolve().parents[2] / "stf"
    core = SwitchCore(compile_file(stf_dir / "extern_direct.p4", include_dirs=(stf_dir / "include",)))
    table = core.tables["MyIngress.t"]
    assert (table.direct_counter, table.direct_meter) == ("MyIngress.dc", "MyIngress.dm")
    entry = table.insert({"hdr.data.b1": Exact(1)}, table.action_call("MyIngress.fwd", {"port": 3}))
    entry.direct.meter.configure(MeterConfig(cir=0, cburst=1, pir=0, pburst=2))
    packet = bytes(10) + b"\x01\xff"
    colours = [core.process(0, packet, t)[0][1][-1] for t in range(3)]
    assert colours == [0, 1, 2]  # GREEN, YELLOW, RED written by dm.read()
    core.process(0, bytes(10) + b"\x02\xff", 4)  # a miss is not counted
    assert (entry.direct.counter.packets, entry.direct.counter.bytes) == (3, 36)


# simple_switch's new packets (resubmit, recirculate, clones, replicas) and its one digest
# per packet; the STF programs arch_reinject_metadata, arch_clone_metadata and
# packet_length_register hold what a packet's bytes can show.
NEW_PACKETS = """
#include <core.p4>
#include <v1model.p4>
header data_t { bit<32> a; bit<48> ts; bit<8> op; bit<8> port; }
struct metadata { @field_list(1) bit<8> x; }
struct headers { data_t data; }
struct learn_t { bit<32> a; }
struct learn2_t { bit<8> op; }

""" + PARSE + """control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        sm.priority = 3;
        if (hdr.data.op == 1) {
            digest<learn_t>(1, { hdr.data.a });
            hdr.data.a = 5;
            digest<learn_t>(1, { hdr.data.a });
        }
        if (hdr.data.op == 2) {
            digest<learn_t>(1, { hdr.data.a });
            digest<learn2_t>(2, { hdr.data.op });
        }
        if (hdr.data.op == 3) { clone(CloneType.I2E, 5); }
        if (hdr.data.op == 5 && sm.instance_type == 0) { resubmit_preserving_field_list(1); }
        if (sm.instance_type == 6) {
            hdr.data.ts = sm.ingress_global_timestamp;
            hdr.data.port = (bit<8>)sm.ingress_port;
            sm.priority = 1;
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (hdr.data.op == 4) { digest<learn_t>(1, { hdr.data.a }); }
        if (hdr.data.op == 3 && sm.instance_type == 0) { clone(CloneType.E2E, 5); }
        if (hdr.data.op == 7 && sm.instance_type == 0) {
            truncate(4);
            clone(CloneType.E2E, 5);
        }
        if (hdr.data.op == 6 && sm.instance_type == 0 && meta.x == 0) {
            meta.x = 1;
            recirculate_preserving_field_list(1);
            clone(CloneType.E2E, 5);
        }
    }
}
""" + TAIL


@pytest.fixture(scope="module")
def new_packets():
    return compile_source(NEW_PACKETS, "new_packets.p4")


def frame(op: int) -> bytes:
    return bytes([0, 0, 0, 9]) + bytes(6) + bytes([op, 0])


@pytest.mark.parametrize("op, learned", [
    (1, [Digest("learn_t", {"a": 5})]),         # the last call's values
    (2, [Digest("learn2_t", {"op": 2})]),       # the last call's list
    (4, []),                                    # egress: never learned
])
def test_one_digest_per_packet_the_last_ingress_call(new_packets, op, learned):
    core = SwitchCore(new_packets)
    assert len(core.process(1, frame(op), 0)) == 1
    assert list(core.digests) == learned


def test_clones_go_to_queue_zero(new_packets):
    core = SwitchCore(new_packets)
    core.pre.set_clone_session(5, CloneSession(replicas=((9, 0),)))
    clone, original = core.ingress(1, frame(3), 0)
    assert (clone.port, clone.qid, original.port, original.qid) == (9, 0, 2, 3)
    assert clone.state.sm.priority == 0 and clone.state.sm.ingress_port == 0
    _, more = core.egress(original, 0, QueueInfo(0, 0, 0, 0))
    assert [(i.port, i.qid, i.state.sm.priority) for i in more] == [(9, 0, 0)]


def test_a_resubmitted_packet_reads_port_and_timestamp_zero(new_packets):
    core = SwitchCore(new_packets)
    item, = core.ingress(7, frame(5), 1000)
    assert item.qid == 1  # its own priority, set in the second pass
    (port, data), = core.process(7, frame(5), 1000)
    assert int.from_bytes(data[4:10], "big") == 0 and data[11] == 0


def test_an_e2e_clone_does_not_recirculate_with_the_original(new_packets):
    core = SwitchCore(new_packets)
    core.pre.set_clone_session(5, CloneSession(replicas=((9, 0),)))
    assert sorted(port for port, _ in core.process(1, frame(6), 0)) == [2, 9]


def test_an_e2e_clone_is_not_cut_by_the_originals_truncate(new_packets):
    """simple_switch's clone is a new packet with the whole buffer (and its sessions cut
    nothing): only the original leaves truncated."""
    core = SwitchCore(new_packets)
    core.pre.set_clone_session(5, CloneSession(replicas=((9, 0),)))
    out = dict(core.process(1, frame(7), 0))
    assert out == {2: frame(7)[:4], 9: frame(7)}
