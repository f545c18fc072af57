"""The deparser's shape path: a packet whose headers are valid exactly as the parser's
straight path left them is deparsed by one generated function (no validity tests); a
control's setValid/setInvalid of one of the packet's plain headers steps to the shape
with or without it, any other code that may change validity sends the packet back to
the full deparser.
Each case gives bytes that would differ if the shape path were taken wrongly."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.replication import Replica
from fabriclab.switch.stf import run_stf

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; bit<8> x; }
header b_t { bit<16> y; }
header e_t { bit<8> v; }
header_union u_t { b_t b; e_t e; }
struct metadata { bit<8> seen; }
struct headers { a_t a; b_t b; b_t c; e_t[2] s; u_t u; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        meta.seen = hdr.a.x;  // a metadata store keeps the shape
        transition select(hdr.a.op) { 1: parse_b; 9: set_c; 0xff: reject; default: accept; }
    }
    state parse_b { pkt.extract(hdr.b); transition accept; }
    state set_c { hdr.c.setValid(); hdr.c.y = 0x0c0c; transition accept; }  // no shape
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control Drop(inout b_t h) { apply { h.setInvalid(); } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    Drop() drop;
    action push() { hdr.s.push_front(1); hdr.s[0].setValid(); hdr.s[0].v = 0x55; }
    table t { key = { hdr.a.x: exact; } actions = { push; NoAction; } default_action = NoAction(); }
    apply {
        sm.egress_spec = 2;
        if (hdr.a.op == 2) { hdr.a.setInvalid(); }
        if (hdr.a.op == 3) { hdr.c = hdr.b; }             // whole-header copy (b invalid here)
        if (hdr.a.op == 4) { hdr.b.setValid(); hdr.b.y = 0x0b0b; }
        if (hdr.a.op == 1 && hdr.a.x == 1) { drop.apply(hdr.b); }  // by reference
        if (hdr.a.op == 5) { hdr.u.e.setValid(); hdr.u.e.v = 0xee; }
        if (hdr.a.op == 6) { sm.mcast_grp = 1; }
        if (hdr.a.op == 7) { t.apply(); }                 // an action changes a stack
        if (hdr.a.op == 8) { hdr.b.y = 0x0808; }          // a field of an invalid header
        if (hdr.a.op == 1 && hdr.a.x == 2) { hdr.b.y = 0x0202; }  // of a valid one
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { if (sm.egress_rid == 7) { hdr.c.setValid(); hdr.c.y = 0x0d0d; } }
}
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) {
    apply { pkt.emit(hdr.a); pkt.emit(hdr.b); pkt.emit(hdr.c); pkt.emit(hdr.s); pkt.emit(hdr.u); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "shape_deparser.p4")


def run(core, data: bytes) -> list[tuple[int, bytes]]:
    return core.process(1, data, 0)


def test_unchanged_packets_take_the_shape_path(program):
    core = SwitchCore(program)
    p = core.stages.run_ingress(1, bytes([0, 3]) + b"tail", 0, 0, 0, None)
    assert p.dep is not None  # the parser's straight path set it, ingress kept it
    assert run(core, bytes([0, 3]) + b"tail") == [(2, bytes([0, 3]) + b"tail")]
    assert run(core, bytes([1, 0, 1, 2]) + b"t") == [(2, bytes([1, 0, 1, 2]) + b"t")]
    # field writes change no validity: the shape path sends the new bits
    assert run(core, bytes([1, 2, 1, 2]) + b"t") == [(2, bytes([1, 2, 2, 2]) + b"t")]
    assert run(core, bytes([8, 0]) + b"t") == [(2, bytes([8, 0]) + b"t")]


def test_validity_changes_in_controls_leave_the_shape_path(program):
    core = SwitchCore(program)
    assert run(core, bytes([2, 0]) + b"t") == [(2, b"t")]
    assert run(core, bytes([4, 0]) + b"t") == [(2, bytes([4, 0, 0x0b, 0x0b]) + b"t")]
    assert run(core, bytes([1, 1, 7, 7]) + b"t") == [(2, bytes([1, 1]) + b"t")]
    assert run(core, bytes([5, 0]) + b"t") == [(2, bytes([5, 0, 0xee]) + b"t")]
    # a plain header of the packet made invalid or valid: the shape steps, no full deparse
    p = core.stages.run_ingress(1, bytes([2, 0]) + b"t", 0, 0, 0, None)
    assert p.dep.shape == frozenset()
    p = core.stages.run_ingress(1, bytes([4, 0]) + b"t", 0, 0, 0, None)
    assert p.dep.shape == {"a", "b"}
    # through a sub-control's parameter or into a union: forgotten
    assert core.stages.run_ingress(1, bytes([1, 1, 7, 7]) + b"t", 0, 0, 0, None).dep is None
    assert core.stages.run_ingress(1, bytes([5, 0]) + b"t", 0, 0, 0, None).dep is None


def test_header_copy_and_stack_push_from_an_action(program):
    core = SwitchCore(program)
    assert run(core, bytes([3, 0]) + b"t") == [(2, bytes([3, 0]) + b"t")]
    assert run_stf(core, "add t hdr.a.x:4 push()\n").ok
    assert run(core, bytes([7, 4]) + b"t") == [(2, bytes([7, 4, 0x55]) + b"t")]
    assert run(core, bytes([7, 5]) + b"t") == [(2, bytes([7, 5]) + b"t")]


def test_parser_validity_change_has_no_shape(program):
    core = SwitchCore(program)
    p = core.stages.run_ingress(1, bytes([9, 0]) + b"t", 0, 0, 0, None)
    assert p.dep is None
    assert run(core, bytes([9, 0]) + b"t") == [(2, bytes([9, 0, 0x0c, 0x0c]) + b"t")]


def test_egress_change_on_one_multicast_copy(program):
    core = SwitchCore(program)
    core.pre.set_group(1, [Replica(3, 7), Replica(4, 0)])
    out = sorted(run(core, bytes([6, 0]) + b"tail"))
    assert out == [(3, bytes([6, 0, 0x0d, 0x0d]) + b"tail"), (4, bytes([6, 0]) + b"tail")]


# (a nested block: besides emits p4c-bm2-ss allows only blocks, constant assignments and
# extern calls in a deparser, no `if`)
NOT_ONLY_EMITS = PROGRAM.replace(
    "apply { pkt.emit(hdr.a); pkt.emit(hdr.b);",
    "apply { pkt.emit(hdr.a); { pkt.emit(hdr.c); } pkt.emit(hdr.b);")


def test_deparser_with_other_statements_keeps_the_full_path():
    core = SwitchCore(compile_source(NOT_ONLY_EMITS, "shape_deparser_if.p4"))
    p = core.stages.run_ingress(1, bytes([0, 3]) + b"t", 0, 0, 0, None)
    assert p.dep is None
    assert run(core, bytes([4, 3]) + b"t") == [(2, bytes([4, 3, 0x0b, 0x0b]) + b"t")]


# A header stack filled by a parser loop (dispatched states: the shape is carried in a local
# and stepped per extract) or by straight-line `next` extracts; controls then change it or
# not. Every frame is checked against the same program whose deparser takes the full path.
STACK_PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; bit<8> n; }
header e_t { bit<8> v; }
header b_t { bit<16> y; }
struct metadata { bit<8> left; }
struct headers { a_t a; e_t[3] s; b_t b; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.a);
        meta.left = hdr.a.n;
        transition select(hdr.a.op[3:0]) { 0: loop; 1: two; default: accept; }
    }
    state loop { transition select(meta.left) { 0: tail; default: one; } }
    state one { pkt.extract(hdr.s.next); meta.left = meta.left - 1; transition loop; }
    state tail { pkt.extract(hdr.b); transition accept; }
    state two { pkt.extract(hdr.s.next); pkt.extract(hdr.s.next); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        if (hdr.a.op[7:4] == 1) { hdr.s.pop_front(1); }
        if (hdr.a.op[7:4] == 2) { hdr.s[1].setInvalid(); }
        if (hdr.a.op[7:4] == 3) { hdr.s[2].setValid(); hdr.s[2].v = 0x33; }
        if (hdr.a.op[7:4] == 4) { hdr.s[0].v = 0x44; }
        if (hdr.a.op[7:4] == 5) { hdr.b.setInvalid(); }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) {
    apply { pkt.emit(hdr.a); pkt.emit(hdr.s); pkt.emit(hdr.b); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_stack_shapes_match_the_full_deparser():
    fast = SwitchCore(compile_source(STACK_PROGRAM, "stack_shapes.p4"))
    full = SwitchCore(compile_source(STACK_PROGRAM.replace(
        "apply { pkt.emit(hdr.a);", "apply { { pkt.emit(hdr.a); }"),
        "stack_shapes_full.p4"))
    body = bytes(range(0x10, 0x20))
    for op in [0x00, 0x01, 0x02, 0x10, 0x11, 0x20, 0x21, 0x30, 0x31, 0x40, 0x41, 0x50, 0x51]:
        for n in range(5):  # 4 elements overflow the stack: a parser error, no shape
            frame = bytes([op, n]) + body
            assert fast.process(1, frame, 0) == full.process(1, frame, 0), (hex(op), n)
    # the loop and the straight path leave a shape; a control's stack change forgets it
    p = fast.stages.run_ingress(1, bytes([0x00, 2]) + body, 0, 0, 0, None)
    assert p.dep.shape == {"a", "s[0]", "s[1]", "b"}
    assert fast.process(1, bytes([0x00, 2]) + body, 0) == [(2, bytes([0x00, 2]) + body)]
    assert fast.stages.run_ingress(1, bytes([0x01, 0]) + body, 0, 0, 0, None).dep.shape == {"a", "s[0]", "s[1]"}
    assert fast.stages.run_ingress(1, bytes([0x40, 1]) + body, 0, 0, 0, None).dep.shape == {"a", "s[0]", "b"}
    for op in (0x10, 0x20, 0x30):
        assert fast.stages.run_ingress(1, bytes([op, 1]) + body, 0, 0, 0, None).dep is None
    assert fast.stages.run_ingress(1, bytes([0x00, 4]) + body, 0, 0, 0, None).dep is None
