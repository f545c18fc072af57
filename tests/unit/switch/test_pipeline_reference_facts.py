"""v1model facts checked on BMv2 simple_switch (REFERENCE_FACTS.md, issue 3) that the STF corpus
does not pin down: the end-of-ingress order (clone, digest, resubmit, multicast, drop, unicast),
the end-of-egress order (E2E clone, drop, deparse, recirculate), an I2E clone's egress_rid,
hash() over a multi-field data list, and the default egress queue depth."""

import pathlib
import zlib

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.v1model import Digest
from fabriclab.switch.replication import CloneSession
from fabriclab.switch.tm import TrafficManager

INCLUDE = pathlib.Path(__file__).resolve().parents[2] / "stf" / "include"

# Ingress op = data.b1, egress op = data.f2. Egress reports instance_type in b2 and
# egress_rid in h1 so every output says how it was made.
ORDER = """
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"
struct learn_t { bit<32> f1; }
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<8> op = hdr.data.b1;
        if (sm.instance_type == 6) { sm.egress_spec = 2; return; }
        sm.egress_spec = 1;
        if (op == 1) { clone(CloneType.I2E, 32w7); sm.egress_rid = 9; hdr.data.f1 = 32w0xFFFFFFFF; }
        if (op == 2) { clone(CloneType.I2E, 32w7); mark_to_drop(sm); }
        if (op == 3) { mark_to_drop(sm); sm.mcast_grp = 1; }
        if (op == 4) { digest<learn_t>(1, { hdr.data.f1 }); mark_to_drop(sm); }
        if (op == 5) { resubmit_preserving_field_list(0); sm.mcast_grp = 1; }
        if (op == 6) { resubmit_preserving_field_list(0); clone(CloneType.I2E, 32w7); mark_to_drop(sm); }
        if (op == 7) { sm.egress_spec = 3; sm.mcast_grp = 1; }
    }
}
control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        if (sm.instance_type == 0 && hdr.data.f2 == 1) { clone(CloneType.E2E, 32w7); mark_to_drop(sm); }
        if (sm.instance_type == 0 && hdr.data.f2 == 2) { recirculate_preserving_field_list(0); mark_to_drop(sm); }
        hdr.data.b2 = (bit<8>)sm.instance_type;
        hdr.data.h1 = sm.egress_rid;
    }
}
V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
"""


@pytest.fixture(scope="module")
def order_program():
    return compile_source(ORDER, "ref_order.p4", include_dirs=(INCLUDE,))


@pytest.fixture
def core(order_program):
    core = SwitchCore(order_program)
    core.pre.set_clone_session(7, CloneSession(replicas=((4, 0),)))
    core.pre.set_group(1, [(5, 11), (6, 12)])  # mcast group 1: node rid 11 -> 5, rid 12 -> 6
    return core


def data(f1: int, op: int, f2: int = 0) -> bytes:
    return f1.to_bytes(4, "big") + f2.to_bytes(4, "big") + bytes(2) + bytes([op, 0]) + b"pl"


def outputs(core: SwitchCore, packet: bytes) -> list[tuple[int, int, int, int]]:
    """(port, f1, instance_type, egress_rid) of every transmitted packet, sorted."""
    return sorted((port, int.from_bytes(d[:4], "big"), d[11], int.from_bytes(d[8:10], "big"))
                  for port, d in core.process(0, packet, 0))


def test_i2e_clone_is_the_received_packet_with_instance_type_1_and_rid_0(core):
    # ingress wrote f1 and egress_rid before the end of ingress: neither reaches the clone
    got = outputs(core, data(0x01020304, 1))
    assert (4, 0x01020304, 1, 0) in got
    assert [o for o in got if o[0] == 1][0][1:3] == (0xFFFFFFFF, 0)
    # standard_metadata is zeroed per packet: the next packet does not inherit egress_rid 9
    assert outputs(core, data(5, 0)) == [(1, 5, 0, 0)]


def test_clone_happens_before_the_drop_check(core):
    assert outputs(core, data(5, 2)) == [(4, 5, 1, 0)]


def test_multicast_is_checked_before_drop_and_before_unicast(core):
    # mark_to_drop clears mcast_grp, but a later write wins and multicast precedes the drop check
    assert outputs(core, data(5, 3)) == [(5, 5, 5, 11), (6, 5, 5, 12)]
    # egress_spec 3 and mcast_grp 1: the copies only, no unicast to port 3
    assert outputs(core, data(5, 7)) == [(5, 5, 5, 11), (6, 5, 5, 12)]


def test_digest_is_sent_for_a_dropped_packet(core):
    assert outputs(core, data(0x0A000001, 4)) == []
    assert list(core.digests) == [Digest("learn_t", {"f1": 0x0A000001})]


def test_resubmit_precedes_multicast(core):
    # the resubmitted pass sends to port 2; no multicast copy of the first pass exists
    assert outputs(core, data(5, 5)) == [(2, 5, 0, 0)]


def test_clone_and_resubmit_both_happen_and_resubmit_precedes_drop(core):
    assert outputs(core, data(5, 6)) == [(2, 5, 0, 0), (4, 5, 1, 0)]


def test_e2e_clone_precedes_the_egress_drop(core):
    assert outputs(core, data(5, 0, f2=1)) == [(4, 5, 2, 0)]


def test_egress_drop_precedes_recirculation(core):
    # a recirculated packet would come back through ingress and leave on port 1
    assert outputs(core, data(5, 0, f2=2)) == []


HASH = """
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "data_common.p4"
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        bit<16> h16;
        bit<32> h32;
        bit<16> h0;
        hash(h16, HashAlgorithm.crc16, 16w100, { hdr.data.f1, hdr.data.h1, hdr.data.b1 }, 32w1000);
        hash(h32, HashAlgorithm.crc32, 32w0, { hdr.data.f1, hdr.data.h1, hdr.data.b1 }, 33w0x100000000);
        hash(h0, HashAlgorithm.crc16, 16w0, { hdr.data.f1, hdr.data.h1, hdr.data.b1 }, 32w0);
        hdr.data.f2 = h32;
        hdr.data.h1 = h16;
        hdr.data.b2 = h0[15:8];
        sm.egress_spec = 1;
    }
}
V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
"""


def crc16_arc(data: bytes) -> int:
    """Bitwise CRC-16/ARC (reflected poly 0x8005 = 0xA001, init 0), independent of fabriclab."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@pytest.mark.parametrize("f1, h1, b1", [(0x0A000001, 0x1234, 0x56), (0xDEADBEEF, 0, 0xFF)])
def test_hash_concatenates_the_data_list_big_endian(f1, h1, b1):
    core = SwitchCore(compile_source(HASH, "ref_hash.p4", include_dirs=(INCLUDE,)))
    key = f1.to_bytes(4, "big") + h1.to_bytes(2, "big") + bytes([b1])
    packet = f1.to_bytes(4, "big") + bytes(4) + h1.to_bytes(2, "big") + bytes([b1, 0])
    ((port, out),) = core.process(0, packet, 0)
    assert int.from_bytes(out[4:8], "big") == zlib.crc32(key)
    assert int.from_bytes(out[8:10], "big") == 100 + crc16_arc(key) % 1000
    assert out[11] == 0  # max 0 gives the base (p4c's v1model.p4; BMv2 counts max 0 as 1)


def test_default_egress_queue_holds_64_packets():
    tm = TrafficManager()
    tm.set_queue_rate(1, port=1)
    accepted = [tm.enqueue(_Item(1, 0, 100), 0) for _ in range(70)]
    assert accepted.count(True) == 64 and accepted[64:] == [False] * 6


class _Item:
    def __init__(self, port: int, qid: int, length: int) -> None:
        self.port, self.qid, self.length = port, qid, length
