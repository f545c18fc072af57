"""The generated parser: states inlined along transitions, dispatched where they must be."""

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.codegen_parser import MAX_COPIES
from fabriclab.switch.core import SwitchCore

# A chain of diamonds: every state has two ways to the next one, so inlining every state
# would copy the last one 2**5 times; a bounded number of copies must be dispatched instead.
# The tag stack loops (a cycle): those states stay in the dispatch loop.
DIAMONDS = """
#include <core.p4>
#include <v1model.p4>
header b_t { bit<8> v; }
struct metadata { }
struct headers { b_t[6] b; b_t[4] tags; b_t last; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { transition s0; }
    %s
    state s5 { transition select(pkt.lookahead<bit<8>>()) { 0xEE: tag; default: finish; } }
    state tag { pkt.extract(hdr.tags.next); transition s5; }
    state finish { pkt.extract(hdr.last); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
""" % "\n    ".join(
    f"state s{i} {{ pkt.extract(hdr.b[{i}]); transition select(hdr.b[{i}].v) {{ 1: s{i}a; default: s{i}b; }} }}\n"
    f"    state s{i}a {{ transition s{i + 1}; }}\n    state s{i}b {{ transition s{i + 1}; }}"
    for i in range(5))


def test_copies_are_bounded_and_cycles_dispatched():
    source = generate_pipeline(compile_source(DIAMONDS, "diamonds.p4")).source
    parse = source[source.index("def parse("):source.index("def run_ingress(")]
    for name in ("s1", "s2", "s3", "s4", "s5", "finish"):
        copies = parse.count(f"# {name}\n")
        assert copies <= MAX_COPIES, (name, copies)
    assert "# tag\n" in parse  # the loop's states keep their dispatch branch
    assert "_st == " in parse


def test_inlined_parser_parses_every_path():
    core = SwitchCore(compile_source(DIAMONDS, "diamonds.p4"))
    for bits in range(32):
        body = bytes((bits >> i) & 1 for i in range(5))
        frame = body + bytes([0xEE, 0xEE, 0x42]) + b"payload"
        ((port, out),) = core.process(0, frame, 0)
        assert (port, out) == (1, frame)  # 5 + 2 tags + last re-emitted, payload kept


# Offsets known at generation time: extracts at constant positions, `_off` stored only where
# it is read (an error's payload, a lookahead, the payload after accept). A Python model of
# the parser below gives each frame's output: headers re-emitted (a.t changed) + the rest.
OFFSETS = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<16> t; }
header b_t { bit<32> x; }
header c_t { bit<8> y; }
struct metadata { }
struct headers { a_t a; b_t b; c_t c; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition select(hdr.a.t) { 1: pb; 2: pl; default: accept; } }
    state pl { transition select(pkt.lookahead<bit<8>>()) { 7: pc; default: pb; } }
    state pb { pkt.extract(hdr.b); transition pc; }
    state pc { pkt.extract(hdr.c); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = sm.parser_error == error.PacketTooShort ? 9w2 : 9w1;
        if (hdr.a.isValid()) { hdr.a.t = hdr.a.t + 0x100; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def offsets_model(data: bytes) -> tuple[int, bytes]:
    """(port, frame) as the parser above should give them."""
    out, off = [], 0

    def finish(port: int) -> tuple[int, bytes]:
        return port, b"".join(out) + data[off:]

    if len(data) < 2:
        return finish(2)
    t = int.from_bytes(data[:2], "big")
    out.append(((t + 0x100) & 0xFFFF).to_bytes(2, "big"))
    off = 2
    state = {1: "pb", 2: "pl"}.get(t, "accept")
    if state == "pl":
        if len(data) < 3:
            return finish(2)
        state = "pc" if data[2] == 7 else "pb"
    if state == "pb":
        if len(data) < off + 4:
            return finish(2)
        out.append(data[off:off + 4])
        off += 4
        state = "pc"
    if state == "pc":
        if len(data) < off + 1:
            return finish(2)
        out.append(data[off:off + 1])
        off += 1
    return finish(1)


def test_constant_offsets_match_the_model_at_every_length():
    program = compile_source(OFFSETS, "offsets.p4")
    source = generate_pipeline(program).source
    assert "_data[_sl_2_6]" in source  # hdr.b after hdr.a: a constant slice (a module global)
    core = SwitchCore(program)
    for t in (0, 1, 2):
        for second in (7, 8):
            frame = bytes([0, t, second, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66])
            for n in range(len(frame) + 1):
                assert core.process(1, frame[:n], 0) == [offsets_model(frame[:n])], (t, second, n)


# Headers read through the local their extract made, only where that extract dominates:
# sibling branches extract different headers, a loop state (dispatched) reads a header
# extracted before the loop and one it extracts again on every turn.
LOCALS = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> op; }
header b_t { bit<8> v; }
struct metadata { bit<8> sum; bit<8> first; }
struct headers { a_t a; b_t b; b_t c; b_t loop; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition select(hdr.a.op) { 1: one; 2: two; default: again; } }
    state one { pkt.extract(hdr.b); meta.sum = hdr.a.op + hdr.b.v; transition accept; }
    state two { pkt.extract(hdr.c); meta.sum = hdr.a.op + hdr.c.v; transition accept; }
    state again {
        pkt.extract(hdr.loop);
        meta.sum = meta.sum + hdr.loop.v + hdr.a.op;
        transition select(hdr.loop.v) { 0: accept; default: again; }
    }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; hdr.a.op = meta.sum; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_extracted_headers_read_through_locals_where_they_dominate():
    core = SwitchCore(compile_source(LOCALS, "parser_locals.p4"))
    assert core.process(0, bytes([1, 5]) + b"p", 0) == [(1, bytes([6]) + b"p")]
    assert core.process(0, bytes([2, 7]) + b"p", 0) == [(1, bytes([9]) + b"p")]
    # op 3: turns read 4, 2, 0 (each + op 3): 4 + 2 + 0 + 9 = 15
    assert core.process(0, bytes([3, 4, 2, 0]) + b"p", 0) == [(1, bytes([15]) + b"p")]


# lookahead<T>() of a struct holding a header stack, a header and a bool (p4c: issue2465-bmv2,
# which p4c's midend expands into one bit<24> lookahead and valid headers)
PEEK = """
#include <core.p4>
#include <v1model.p4>
header b_t { bit<8> v; }
struct peek_t { b_t[2] two; bool flag; bit<7> low; b_t one; }
struct metadata { }
struct headers { b_t res; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        peek_t p = pkt.lookahead<peek_t>();
        hdr.res.setValid();
        hdr.res.v = p.two[0].v + p.two[1].v + (p.flag ? 8w100 : 8w0) + (bit<8>)p.low + p.one.v;
        transition select(p.two[1].isValid(), p.one.isValid()) {
            (true, true): accept;
            default: reject;
        }
    }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = (sm.parser_error == error.NoError) ? 9w1 : 9w2; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_lookahead_of_a_struct_holding_a_stack_peeks_valid_headers_without_consuming():
    core = SwitchCore(compile_source(PEEK, "peek.p4"))
    data = bytes([1, 2, 0x80 | 5, 30, 99])
    # the result header, then every byte peeked at (nothing was extracted)
    assert core.process(0, data, 0) == [(1, bytes([1 + 2 + 100 + 5 + 30]) + data)]
    # too short for the 32 bits: PacketTooShort
    assert core.process(0, bytes([1, 2, 3]), 0)[0][0] == 2
