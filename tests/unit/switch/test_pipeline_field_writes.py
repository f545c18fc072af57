"""Consecutive writes to one header's fields are merged into one store: same result as one
by one, including values that read the header (directly or beside an inout copy)."""

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header d_t { bit<8> a; bit<8> b; bit<16> c; bit<1> f; bit<7> g; }
struct metadata { }
struct headers { d_t d; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.d); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action through_alias(inout d_t h) { h.a = 7; h.b = hdr.d.a + 1; h.c = (bit<16>)h.b; }
    apply {
        sm.egress_spec = 1;
        if (hdr.d.g == 1) {
            hdr.d.a = 0x11; hdr.d.c = 0xBEEF; hdr.d.f = 1; hdr.d.b = 0x22;
        } else {
            through_alias(hdr.d);
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.d); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_merged_writes_keep_sequential_semantics():
    core = SwitchCore(compile_source(PROGRAM, "field_writes.p4"))
    ((_, out),) = core.process(0, bytes([1, 2, 0, 3, 0x01]), 0)
    assert out == bytes([0x11, 0x22, 0xBE, 0xEF, 0x81])  # f is the top bit of the last byte
    ((_, out),) = core.process(0, bytes([1, 2, 0, 3, 0x00]), 0)
    # inout is copy-in/copy-out (P4-16; p4c's gauntlet_indirect_hdr_assign_1 STF): hdr.d.a
    # still reads 1 while the action writes its copy h; c reads h.b just written
    assert out == bytes([7, 2, 0, 2, 0x00])


# Runs whose values read the header being written: each group once as consecutive writes
# (merged) and once with a metadata write between every two (never merged).
_GROUPS = [
    "hdr.d.a = hdr.d.b; hdr.d.b = hdr.d.a;",               # the second reads a field just written
    "hdr.d.c = hdr.d.c + 5; hdr.d.a = hdr.d.a - 3; hdr.d.f = 1;",
    "hdr.d.b = hdr.d.a; hdr.d.c = hdr.d.c + (bit<16>)hdr.d.g; hdr.d.g = hdr.d.g |+| 100;",
    "hdr.e.setValid(); hdr.e.x = 9; hdr.e.y = hdr.e.y + 1;",  # read after setValid: zero
    "hdr.d.c = hdr.d.a ++ hdr.d.b; hdr.d.a = hdr.d.b; hdr.d.b = 0;",
]


def _program(separated: bool) -> str:
    sep = " meta.n = meta.n + 1; " if separated else " "
    cases = "\n".join(f"        {'else ' if i else ''}if (hdr.d.f == {i & 1} && hdr.d.g[1:0] == {i >> 1}) "
                      f"{{ {sep.join(s.strip() + ';' for s in g.split(';') if s.strip())} }}"
                      for i, g in enumerate(_GROUPS[:4]))
    return PROGRAM.replace("struct metadata { }", "struct metadata { bit<8> n; }").replace(
        "struct headers { d_t d; }", "header e_t { bit<8> x; bit<8> y; }\nstruct headers { d_t d; e_t e; }"
    ).replace("pkt.emit(hdr.d);", "pkt.emit(hdr.d); pkt.emit(hdr.e);").replace(
        """        if (hdr.d.g == 1) {
            hdr.d.a = 0x11; hdr.d.c = 0xBEEF; hdr.d.f = 1; hdr.d.b = 0x22;
        } else {
            through_alias(hdr.d);
        }""", cases + f"\n        else {{ {sep.join(s.strip() + ';' for s in _GROUPS[4].split(';') if s.strip())} }}")


def test_writes_reading_their_own_header_match_one_by_one():
    merged = SwitchCore(compile_source(_program(False), "merged.p4"))
    apart = SwitchCore(compile_source(_program(True), "apart.p4"))
    for i in range(64):
        frame = bytes([(i * 37) & 255, (i * 91 + 5) & 255, 0xFF, 0xFB + (i & 3), i & 0xFF])
        assert merged.process(0, frame, 0) == apart.process(0, frame, 0), i
