"""Externs the code generator inlines for speed (register cells, counters, random) keep the
runtime objects' semantics: out-of-range indexes ignored, values masked to the width, each
core's state its own, the same random sequence as the seeded generator."""

import random

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header data_t { bit<8> op; bit<8> idx; bit<32> val; bit<32> res; bit<32> r; }
struct metadata { }
struct headers { data_t data; }

register<bit<8>>(4) small;     // an 8-bit index can exceed its size: checked
register<bit<32>>(512) wide;   // a 9-bit port cannot: unchecked
counter(4, CounterType.packets_and_bytes) ctr;

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        ctr.count((bit<32>)hdr.data.idx);
        if (hdr.data.op == 1) { small.write((bit<32>)hdr.data.idx, (bit<8>)hdr.data.val); }
        if (hdr.data.op == 2) { bit<8> v; small.read(v, (bit<32>)hdr.data.idx); hdr.data.res = (bit<32>)v; }
        if (hdr.data.op == 3) { wide.write((bit<32>)sm.ingress_port, hdr.data.val); }
        if (hdr.data.op == 4) { wide.read(hdr.data.res, (bit<32>)sm.ingress_port); }
        bit<32> r1;
        random(r1, 0, 0xFFFFFFFF);
        bit<32> r2;
        random(r2, 10, 13);
        bit<32> r3;
        random(r3, 0, (bit<32>)hdr.data.idx + 5);  // not constant: the generator's randint
        hdr.data.r = r1 ^ r2 ^ r3;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "inlined_externs.p4")


def send(core: SwitchCore, op: int, idx: int, val: int = 0, port: int = 1) -> tuple[int, int]:
    data = bytes([op, idx]) + val.to_bytes(4, "big") + bytes(8)
    ((_, out),) = core.process(port, data, 0)
    return int.from_bytes(out[6:10], "big"), int.from_bytes(out[10:14], "big")


def test_register_cells_inline_keep_bounds_and_width(program):
    core = SwitchCore(program)
    send(core, 1, 3, 0x1FF)            # masked to bit<8>
    send(core, 1, 4, 7)                # out of range: ignored
    assert core.registers["small"].read(3) == 0xFF
    assert core.registers["small"].cells == [0, 0, 0, 0xFF]  # dense: nothing past its size
    assert send(core, 2, 3)[0] == 0xFF
    assert send(core, 2, 200)[0] == 0  # out of range reads 0
    send(core, 3, 0, 0xDEADBEEF, port=300)
    assert send(core, 4, 0, port=300)[0] == 0xDEADBEEF
    core.registers["wide"].reset()     # the control plane's reset is seen by the data plane
    assert send(core, 4, 0, port=300)[0] == 0


def test_each_core_has_its_own_cells_and_counters(program):
    a, b = SwitchCore(program), SwitchCore(program)
    send(a, 1, 1, 9)
    send(a, 0, 2)
    assert send(b, 2, 1)[0] == 0
    assert a.counters["ctr"].read(2).packets == 1 and b.counters["ctr"].read(2).packets == 0
    a.counters["ctr"].count(9, 1)      # data-plane out of range: ignored


def test_counter_inline_counts_and_ignores_out_of_range(program):
    core = SwitchCore(program)
    for _ in range(3):
        send(core, 0, 1)
    send(core, 0, 77)
    cell = core.counters["ctr"].read(1)
    assert (cell.packets, cell.bytes) == (3, 3 * 14)
    ctr = core.counters["ctr"]  # dense: every cell exists, none past the size was made
    assert len(ctr.cells) == ctr.size
    assert [i for i in range(ctr.size) if ctr.read(i).packets] == [1]


def test_random_is_the_seeded_generators_randint(program):
    """The generated code draws exactly what rng.randint(lo, hi) would, in order, inline
    (constant bounds) or not, from one generator per core."""
    core, other = SwitchCore(program), SwitchCore(program)
    send(other, 0, 0)
    rng = random.Random(0)
    for i in range(200):
        expected = rng.randint(0, 0xFFFFFFFF) ^ rng.randint(10, 13) ^ rng.randint(0, i % 3 + 5)
        assert send(core, 0, i % 3)[1] == expected


SHIFTS = """
#include <core.p4>
#include <v1model.p4>
header s_t { bit<8> amount; bit<2> small; bit<6> pad; bit<32> wide; bit<8> narrow; }
struct metadata { }
struct headers { s_t s; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.s); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        hdr.s.wide = hdr.s.wide << hdr.s.amount;      // amount may reach the width: guarded
        hdr.s.narrow = hdr.s.narrow << hdr.s.small;   // bit<2> amount < 8: no guard
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.s); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("amount", [0, 1, 31, 32, 33, 255])
@pytest.mark.parametrize("small", [0, 3])
def test_variable_shift_left_is_zero_from_the_width_on(amount, small):
    core = SwitchCore(compile_source(SHIFTS, "shifts.p4"))
    data = bytes([amount, small << 6]) + (0x80000001).to_bytes(4, "big") + b"\x81"
    ((_, out),) = core.process(1, data, 0)
    assert int.from_bytes(out[2:6], "big") == ((0x80000001 << amount) & 0xFFFFFFFF if amount < 32 else 0)
    assert out[6] == (0x81 << small) & 0xFF


CSUM_GAPS = """
#include <core.p4>
#include <v1model.p4>
header g_t { bit<16> x; bit<16> skip; bit<16> y; bit<8> z; bit<8> w; bit<16> s1; bit<16> s2; }
struct metadata { }
struct headers { g_t g; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.g); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) {
    apply {
        // aligned slices around a gap: the header's int masked
        update_checksum(hdr.g.isValid(), { hdr.g.x, hdr.g.y }, hdr.g.s1, HashAlgorithm.csum16);
        // a slice off its 16-bit place once packed: shifted as before
        update_checksum(hdr.g.isValid(), { hdr.g.x, hdr.g.w }, hdr.g.s2, HashAlgorithm.csum16);
    }
}
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.g); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def ones_complement(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def test_csum16_of_header_slices_equals_the_bytes_checksum():
    core = SwitchCore(compile_source(CSUM_GAPS, "csum_gaps.p4"))
    rng = random.Random(5)
    values = [(0, 0, 0, 0), (0xFFFF, 0, 0xFFFF, 0xFF), (0xFFFF, 1, 0, 0)]
    values += [(rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(8))
               for _ in range(50)]
    for x, skip, y, w in values:
        data = b"".join(v.to_bytes(n, "big") for v, n in ((x, 2), (skip, 2), (y, 2), (7, 1), (w, 1)))
        ((_, out),) = core.process(0, data + bytes(4), 0)
        xb, yb, wb = x.to_bytes(2, "big"), y.to_bytes(2, "big"), bytes([w])
        assert int.from_bytes(out[8:10], "big") == ones_complement(xb + yb)
        assert int.from_bytes(out[10:12], "big") == ones_complement(xb + wb)


def test_one_field_exact_and_lpm_tables_key_by_value_through_both_lookup_paths():
    from fabriclab.switch.tables import ActionCall, ActionSpec, Exact, KeyField, Lpm, Table

    for direct in (None, "ctr"):
        t = Table("t", [KeyField("k", "exact", 8)], [ActionSpec("a", (("x", 8),))],
                  ActionCall("NoAction"), direct_counter=direct)
        assert t.scalar_key
        t.insert({"k": Exact(5)}, ActionCall("a", (1,)))
        assert t.finder()(5).action == ActionCall("a", (1,))
        assert t.apply((5,), b"", 10, 0) == (True, ActionCall("a", (1,)))
        assert t.apply((6,), b"", 10, 0) == (False, ActionCall("NoAction"))
        t.delete({"k": Exact(5)})
        assert t.finder()(5) is None
    lpm = Table("l", [KeyField("k", "lpm", 8)], [ActionSpec("a")], ActionCall("NoAction"))
    assert lpm.scalar_key
    lpm.insert({"k": Lpm(0x80, 1)}, ActionCall("a"))
    assert lpm.finder()(0x81).action == ActionCall("a") and lpm.finder()(0x01) is None
    assert lpm.apply((0x81,), b"", 1, 0) == (True, ActionCall("a"))
    two = Table("t2", [KeyField("k", "exact", 8), KeyField("j", "exact", 8)], [ActionSpec("a")],
                ActionCall("NoAction"))
    assert not two.scalar_key
    two.insert({"k": Exact(1), "j": Exact(2)}, ActionCall("a"))
    assert two.finder()((1, 2)).action == ActionCall("a")


MERGED = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; bit<16> c; }
struct metadata { bit<8> m; }
struct headers { h_t h; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        meta.m = 0x5A;
        hdr.h.a = 1; hdr.h.b = meta.m; hdr.h.c = 7;   // one store
        hdr.h.a = 2;                                   // the same field again: a new store
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_consecutive_field_writes_are_one_store_and_a_rewrite_ends_the_run():
    from fabriclab.switch.codegen import generate_pipeline

    program = compile_source(MERGED, "merged.p4")
    source = generate_pipeline(program).source
    run = source[source.index("def run_ingress("):source.index("def egress(")]
    parse = source[source.index("def parse("):source.index("def run_ingress(")]
    assert run.count(".v = ") - parse.count(".v = ") == 2  # run_ingress: parser + ingress
    ((_, out),) = SwitchCore(program).process(0, bytes([9, 9, 9, 9]), 0)
    assert out == bytes([2, 0x5A, 0, 7])
