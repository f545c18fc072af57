"""Fast paths of the generated pipeline that STF only sees indirectly: headers a packet never
touches share one ABSENT stand-in (replaced by a real header before any write), and
register/counter/table temporaries share one local name each. Behaviour, not timing."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch import codegen_runtime as rt
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.replication import Replica

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; bit<8> x; }
header b_t { bit<16> y; }
struct metadata { bit<8> seen; }
struct headers { a_t a; b_t b; b_t c; b_t d; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        transition select(hdr.a.op) { 1: parse_b; 3: parse_b; default: accept; }
    }
    state parse_b { pkt.extract(hdr.b); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control Stamp(inout b_t h, in bit<16> v) { apply { h.setValid(); h.y = v; } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    register<bit<16>>(4) r;
    counter(4, CounterType.packets) cnt;
    Stamp() stamp;
    apply {
        sm.egress_spec = 2;
        bit<16> old;
        bit<16> next;
        // reads and a write of one register, each index in the one shared temporary
        r.read(old, (bit<32>)hdr.a.x);
        r.read(next, (bit<32>)hdr.a.x + 1);
        r.write((bit<32>)hdr.a.x + 1, old + next + 1);
        cnt.count((bit<32>)hdr.a.x);
        if (hdr.a.op == 2) { stamp.apply(hdr.c, 0x0c0c); }  // by reference into an absent header
        if (hdr.a.op == 3 || hdr.a.op == 5) { hdr.d = hdr.b; }  // whole-header assignment
        if (hdr.a.op == 4) { sm.mcast_grp = 1; }
        if (hdr.a.op == 6) { hdr.d.y = 6; }                   // a field of an invalid header
        if (hdr.a.op == 7) { hdr.d.setValid(); hdr.d.y = 7; } // then known to be a real header
        if (hdr.b.isValid()) { hdr.b.y = hdr.b.y + 1; }       // known real inside the test
        if (!hdr.c.isValid()) { hdr.c.setInvalid(); }         // on ABSENT: nothing happens
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { if (sm.egress_rid == 7) { hdr.d.setValid(); hdr.d.y = 0x0d0d; } }
}
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) {
    apply { pkt.emit(hdr.a); pkt.emit(hdr.b); pkt.emit(hdr.c); pkt.emit(hdr.d); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "lazy_headers.p4")


def absent_untouched() -> bool:
    return rt.ABSENT.valid is False and rt.ABSENT.v == 0 and not rt.ABSENT.__dict__.keys() - {"valid", "v"}


def test_untouched_headers_are_the_shared_absent_one(program):
    core = SwitchCore(program)
    p = core.stages.new_packet()
    assert p.hdr.b is rt.ABSENT and p.hdr.c is rt.ABSENT
    assert core.process(1, bytes([0, 0]) + b"tail", 0) == [(2, bytes([0, 0]) + b"tail")]
    assert absent_untouched()


def test_absent_header_refuses_writes():
    with pytest.raises(AttributeError):
        rt.ABSENT.v = 1
    with pytest.raises(AttributeError):
        rt.ABSENT.set_valid()
    copy = rt.ABSENT.copy()
    copy.v = 5
    assert type(copy) is rt.Header and absent_untouched()


def test_sub_control_writes_an_absent_header_by_reference(program):
    core = SwitchCore(program)
    out = core.process(1, bytes([2, 0]) + b"tail", 0)
    assert out == [(2, bytes([2, 0]) + b"\x0c\x0c" + b"tail")]
    assert core.process(1, bytes([0, 0]) + b"tail", 0) == [(2, bytes([0, 0]) + b"tail")]
    assert absent_untouched()


def test_field_writes_into_absent_headers(program):
    core = SwitchCore(program)
    assert core.process(1, bytes([6, 0]) + b"tail", 0) == [(2, bytes([6, 0]) + b"tail")]
    assert core.process(1, bytes([7, 0]) + b"tail", 0) == [(2, bytes([7, 0, 0, 7]) + b"tail")]
    assert core.process(1, bytes([1, 0, 1, 2]) + b"tail", 0) == [(2, bytes([1, 0, 1, 3]) + b"tail")]
    assert absent_untouched()


def test_whole_header_assignment_into_an_absent_header(program):
    core = SwitchCore(program)
    out = core.process(1, bytes([3, 0]) + b"\xbe\xef" + b"tail", 0)
    assert out == [(2, bytes([3, 0]) + b"\xbe\xf0" + b"\xbe\xef" + b"tail")]
    # op 5 parses no b: d = an invalid b stays invalid
    assert core.process(1, bytes([5, 0]) + b"t", 0) == [(2, bytes([5, 0]) + b"t")]
    assert absent_untouched()


def test_multicast_copies_do_not_share_written_headers(program):
    core = SwitchCore(program)
    core.pre.set_group(1, [Replica(3, 7), Replica(4, 0)])
    out = sorted(core.process(1, bytes([4, 0]) + b"tail", 0))
    assert out == [(3, bytes([4, 0]) + b"\x0d\x0d" + b"tail"), (4, bytes([4, 0]) + b"tail")]
    assert absent_untouched()


def test_register_reads_and_writes_with_shared_index_names(program):
    core = SwitchCore(program)
    reg = core.registers["I.r"]
    for i in range(3):
        core.process(1, bytes([0, 1]) + b"t", i)  # r[2] = r[1] + r[2] + 1
    assert reg.read(2) == 3 and reg.read(1) == 0
    core.process(1, bytes([0, 2]) + b"t", 9)  # r[3] = r[2] + r[3] + 1
    assert reg.read(3) == 4
    core.process(1, bytes([0, 3]) + b"t", 9)  # index 4 is out of range: no write
    assert [reg.read(i) for i in range(4)] == [0, 0, 3, 4]
    assert core.counters["I.cnt"].read(1).packets == 3


STACKS = """
#include <core.p4>
#include <v1model.p4>
header op_t { bit<8> op; bit<8> n; }
header e_t { bit<8> v; }
struct metadata { bit<8> left; }
struct headers { op_t op; e_t[3] s; e_t[3] t; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.op); meta.left = hdr.op.n; transition more; }
    state more { transition select(meta.left) { 0: accept; default: elem; } }
    state elem { pkt.extract(hdr.s.next); meta.left = meta.left - 1; transition more; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        if (hdr.op.op == 1) { hdr.t.push_front(1); hdr.t[0].setValid(); hdr.t[0].v = 0x71; }
        if (hdr.op.op == 2) { hdr.t = hdr.s; }
        if (hdr.op.op == 3) { hdr.t[1].v = 9; }                // a field of an invalid element
        if (hdr.op.op == 4) { hdr.s.pop_front(1); }
        hdr.op.n = hdr.s[2].isValid() ? 8w2 : hdr.s[1].isValid() ? 8w1 : hdr.s[0].isValid() ? 8w0 : 8w0xFF;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("op, elems, out", [
    (0, b"", bytes([0, 0xFF])),                       # no element: no valid index
    (0, b"\x0a\x0b", bytes([0, 1, 0x0A, 0x0B])),
    (1, b"\x0a", bytes([1, 0, 0x0A, 0x71])),           # push_front on an absent stack
    (2, b"\x0a\x0b", bytes([2, 1, 0x0A, 0x0B, 0x0A, 0x0B])),
    (3, b"", bytes([3, 0xFF])),
    (4, b"\x0a\x0b\x0c", bytes([4, 1, 0x0B, 0x0C])),
])
def test_absent_header_stacks(op, elems, out):
    core = SwitchCore(compile_source(STACKS, "lazy_stacks.p4"))
    frame = bytes([op, len(elems)]) + elems
    assert core.process(1, frame + b"tail", 0) == [(2, out + b"tail")]
    assert absent_untouched()
    absent = rt.absent_stack(3)
    assert absent.nxt == 0 and all(h is rt.ABSENT for h in absent.hs)
