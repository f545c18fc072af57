"""What p4c's BMv2 back end (p4c-bm2-ss) rejects in a V1Switch program (fabriclab/p4/bmv2_rules.py;
p4c's testdata/p4_16_bmv_errors): each rule rejects a small program at the line it names, and
a close variant compiles."""

import pytest

from fabriclab.p4 import CompileError, compile_source

TEMPLATE = """#include <v1model.p4>
header h_t { bit<8> a; {HFIELD} }
{EARLY}
struct hs_t { h_t h; {HSFIELD} }
struct m_t { bit<8> x; }
{DECLS}
parser P(packet_in pkt, out {HTYPE} hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { {PARSER} transition accept; }
}
control C(inout {HTYPE} hdr, inout m_t meta, inout standard_metadata_t sm) {
    {LOCALS}
    apply { {APPLY} }
}
control Nop(inout {HTYPE} hdr, inout m_t meta) { apply { } }
control Eg(inout {HTYPE} hdr, inout m_t meta, inout standard_metadata_t sm) { apply { {EGRESS} } }
control Ck(inout {HTYPE} hdr, inout m_t meta) { apply { {COMPUTE} } }
control D(packet_out pkt, in {HTYPE} hdr) { apply { {DEPARSER} } }
V1Switch(P(), Nop(), C(), Eg(), Ck(), D()) main;
"""
DEFAULTS = {"HFIELD": "", "EARLY": "", "HSFIELD": "", "DECLS": "", "HTYPE": "hs_t", "PARSER": "pkt.extract(hdr.h);",
            "LOCALS": "", "APPLY": "", "EGRESS": "", "COMPUTE": "", "DEPARSER": ""}
CKSUM = "update_checksum(hdr.h.isValid(), {DATA}, meta.x, HashAlgorithm.csum16);"

TABLE = """action nop() {{ }}
    table t {{ key = {{ {keys} }} actions = {{ nop; }} {props} }}"""
METER = "direct_meter<bit<2>>(MeterType.packets) dm;\n    bit<2> colour;\n    "


def build(**slots: str) -> str:
    text = TEMPLATE
    for key, default in DEFAULTS.items():
        text = text.replace("{" + key + "}", slots.get(key, default))
    return text


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


REJECTED = [
    # p4c-bm2-ss: "multiple LPM keys in table %1% not supported" (basic-bmv2, basic1-bmv2)
    ("two lpm keys", {"LOCALS": TABLE.format(keys="hdr.h.a: lpm; meta.x: lpm;", props=""),
                      "APPLY": "t.apply();"}, "table t", "multiple LPM keys in table 't'"),
    # header fields must total a multiple of 8 bits (header-not-multiple-of-bytes-bmv2)
    ("header of 9 bits", {"HFIELD": "bit<1> b;"}, "header h_t", "header 'h_t' has fields totaling 9 bits"),
    ("local header of 4 bits", {"DECLS": "header n_t { bit<4> n; }", "APPLY": "n_t n; n.setValid();"},
     "header n_t", "header 'n_t' has fields totaling 4 bits"),
    # the parser's headers type must be a struct of headers, stacks, unions (issue1672-bmv2)
    ("headers a header", {"HTYPE": "h_t", "PARSER": "pkt.extract(hdr);"}, "parser P",
     "the headers type of parser 'P' (parameter 'hdr') must be a struct"),
    ("bits in headers", {"HSFIELD": "bit<8> x;"}, "parser P", "the type should be a struct of headers, stacks, or unions"),
    # a table's direct meter must be read (issue1167-bmv2, issue1829-1-bmv2) ...
    ("meter never read", {"LOCALS": METER + TABLE.format(keys="hdr.h.a: exact;", props="meters = dm;"),
                          "APPLY": "t.apply();"}, "direct_meter", "dm: the direct meter of table 't' is never read"),
    # ... and a read meter must belong to a table (issue1829-3-bmv2)
    ("meter without table", {"LOCALS": METER + "action rd() { dm.read(colour); }\n    "
                             + TABLE.format(keys="hdr.h.a: exact;", props="").replace("nop;", "rd;"),
                             "APPLY": "t.apply();"}, "direct_meter",
     "dm: direct meter is not associated with any table via 'meters' table property"),
    # simple_switch has no user externs (no-externs-bmv2; p4c: only with --emit-externs)
    ("extern function", {"DECLS": "extern void ext(out bit<8> d);", "APPLY": "ext(meta.x);"}, "ext(meta.x)",
     "ext: unknown extern function"),
    ("extern instance", {"DECLS": "extern E { E(); void f(); }", "LOCALS": "E() e;", "APPLY": "e.f();"},
     "E() e", "E: unknown extern instance"),
    # v1model.p4's Checksum16: p4c-bm2-ss has no converter for it (issue841)
    ("Checksum16", {"LOCALS": "Checksum16() ck;", "APPLY": "meta.x = (bit<8>)ck.get(hdr.h.a);"},
     "Checksum16() ck", "Checksum16: unknown extern instance"),
    # a register's cells are bit strings (issue907-bmv2), and there are some
    ("register of structs", {"DECLS": "struct c_t { bit<8> f; }", "LOCALS": "register<c_t>(4) regs;",
                             "APPLY": "c_t c = { 1 }; regs.write(0, c);"}, "register<c_t>",
     "register: Only registers with bit or int types are currently supported"),
    ("register of bools", {"LOCALS": "register<bool>(4) regs;", "APPLY": "regs.write(0, true);"},
     "register<bool>", "register: Only registers with bit or int types"),
    ("register of no cells", {"LOCALS": "register<bit<8>>(0) regs;", "APPLY": "regs.write(0, 1);"},
     "register<bit<8>>", "regs: direct registers are not supported in bmv2"),
    # each block is converted by its kind: clone, resubmit and recirculate where they belong
    ("clone E2E in ingress", {"APPLY": "clone(CloneType.E2E, 1);"}, "clone(",
     "'clone(E2E, ...) not invoked in egress clone(CloneType.E2E, 32w1)"),
    ("clone I2E in egress", {"EGRESS": "clone(CloneType.I2E, 1);"}, "clone(",
     "'clone(I2E, ...) not invoked in ingress clone(CloneType.I2E, 32w1)"),
    ("clone I2E in an action egress uses", {"DECLS": "action c() { clone_preserving_field_list(CloneType.I2E, 1, 0); }",
                                            "EGRESS": "c();"}, "action c()",
     "'clone_preserving_field_list(I2E, ...) not invoked in ingress"),
    ("resubmit in egress", {"EGRESS": "resubmit_preserving_field_list(0);"}, "resubmit_",
     "'resubmit' can only be invoked in ingress resubmit_preserving_field_list(8w0)"),
    ("recirculate in ingress", {"APPLY": "recirculate_preserving_field_list(0);"}, "recirculate_",
     "'resubmit' can only be invoked in egress recirculate_preserving_field_list(8w0)"),  # (p4c's words)
    ("deprecated resubmit", {"APPLY": "resubmit(meta);"}, "resubmit(", "resubmit: unknown extern function"),
    ("checksum in ingress", {"APPLY": CKSUM.replace("{DATA}", "{ hdr.h.a }")}, "update_checksum",
     "update_checksum: unknown extern function"),
    ("deprecated mark_to_drop", {"APPLY": "mark_to_drop();"}, "mark_to_drop",
     "Expected 1 argument for mark_to_drop(). Are you using an up-to-date v1model.p4?"),
    ("hash of a single value", {"APPLY": "hash(meta.x, HashAlgorithm.crc16, 8w0, hdr.h.a, 8w255);"}, "hash(",
     "hdr.h.a: expected a struct"),
    # the checksum controls: checksum calls of plain fields only (issue1765-bmv2, -1-bmv2)
    ("assignment in a checksum control", {"COMPUTE": "meta.x = 1;"}, "control Ck",
     "meta.x = 8w1: Only calls to update_checksum or update_checksum_with_payload allowed"),
    ("if in a checksum control", {"COMPUTE": "if (hdr.h.a == 1) { " + CKSUM.replace("{DATA}", "{ hdr.h.a }") + " }"},
     "control Ck", "IfStatement: Only calls to update_checksum or update_checksum_with_payload allowed"),
    ("verify in the compute control", {"COMPUTE": CKSUM.replace("{DATA}", "{ hdr.h.a }").replace("update", "verify")},
     "control Ck", "Only calls to update_checksum or update_checksum_with_payload allowed"),
    ("computed checksum data", {"COMPUTE": CKSUM.replace("{DATA}", "{ hdr.h.a, hdr.h.a + 1 }")}, "control Ck",
     "hdr.h.a + 1: Computations are not supported in update_checksum"),
    ("cast checksum data", {"COMPUTE": CKSUM.replace("{DATA}", "{ (bit<16>)hdr.h.a }")}, "control Ck",
     "(bit<16>)hdr.h.a: Computations are not supported in update_checksum"),
    # a field of a stack's `next` has no BMv2 expression (issue692-bmv2)
    ("next field read", {"HSFIELD": "h_t[2] st;", "PARSER": "pkt.extract(hdr.st.next); meta.x = hdr.st.next.a;"},
     "pkt.extract(hdr.st.next)", "hdr.st.next uninitialized: next field read"),
    # ingress and egress as BMv2 control graphs (issue986-bmv2): a table once on each path, and
    # going on to the same nodes wherever it is applied
    ("a table twice on a path", {"LOCALS": TABLE.format(keys="hdr.h.a: exact;", props=""),
                                 "APPLY": "t.apply(); meta.x = 1; t.apply();"}, "table t",
     "Program can not be implemented on this target since it contains a path from table t back to itself"),
    ("a table with two successors", {"LOCALS": TABLE.format(keys="hdr.h.a: exact;", props=""),
                                     "EGRESS": "", "APPLY": "if (meta.x == 1) { t.apply(); meta.x = 2; } "
                                                            "else { t.apply(); }"}, "table t",
     "Program is not supported by this target, because table t has multiple successors"),
    # BMv2's shift amounts have at most 8 bits
    ("shift by a port", {"APPLY": "bit<64> m = (bit<64>)1 << sm.ingress_port;"}, "bit<64> m",
     "shift amount limited to 8 bits on this target"),
    ("shift by a 32-bit product", {"APPLY": "bit<32> k = 1; meta.x = meta.x >> (k * 2);"}, "bit<32> k",
     "meta.x >> k * 2: shift amount limited to 8 bits on this target"),
    # the deparser: emits, blocks, constant assignments and extern calls (issue887)
    ("if in the deparser", {"DEPARSER": "if (hdr.h.a == 1) { pkt.emit(hdr.h); }"}, "control D",
     "IfStatement: not supported within a deparser on this target"),
]


def test_template_compiles():
    compile_source(build(), "t.p4")


@pytest.mark.parametrize("slots, where, message", [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_rejected(slots, where, message):
    text = build(**slots)
    with pytest.raises(CompileError) as err:
        compile_source(text, "t.p4")
    diag = err.value.diagnostics[0]
    assert message in diag.message
    assert diag.pos is not None and diag.pos.line == line_of(text, where)


ACCEPTED = [
    ("lpm and ternary", {"LOCALS": TABLE.format(keys="hdr.h.a: lpm; meta.x: ternary;", props=""),
                         "APPLY": "t.apply();"}),
    ("unapplied table with two lpm keys", {"LOCALS": TABLE.format(keys="hdr.h.a: lpm; meta.x: lpm;", props="")}),
    ("header of 16 bits", {"HFIELD": "bit<1> b; bit<7> c;"}),
    ("odd header never instantiated", {"DECLS": "header n_t { bit<4> n; }"}),
    ("struct metadata may be odd", {"DECLS": "struct odd_t { bit<3> n; }", "APPLY": "odd_t o = { 1 };"}),
    ("nested struct of headers", {"EARLY": "struct in_t { h_t g; }", "HSFIELD": "in_t nested; h_t[2] st;"}),
    ("typedef of the headers struct", {"DECLS": "typedef hs_t hs2_t;", "HTYPE": "hs2_t"}),
    ("meter of a table, read", {"LOCALS": METER + "action rd() { dm.read(colour); }\n    "
                                + TABLE.format(keys="hdr.h.a: exact;", props="meters = dm;").replace("nop;", "rd;"),
                                "APPLY": "t.apply();"}),
    ("meter declared, unused", {"LOCALS": METER}),
    ("extern function never called", {"DECLS": "extern void ext(out bit<8> d);"}),
    ("registers of int, a serializable enum, a newtype", {
        "DECLS": "enum bit<8> e_t { A = 1 }\ntype bit<8> n_t;",
        "LOCALS": "register<int<8>>(4) r1; register<e_t>(4) r2; register<n_t>(4) r3;",
        "APPLY": "r1.write(0, -1); r2.write(0, e_t.A); r3.write(0, (n_t)1);"}),
    ("clone, resubmit and recirculate where they belong", {
        "APPLY": "clone(CloneType.I2E, 1); resubmit_preserving_field_list(0); mark_to_drop(sm);",
        "EGRESS": "clone(CloneType.E2E, 1); recirculate_preserving_field_list(0);"}),
    ("hash of a list, a header, a struct", {
        "DECLS": "struct two_t { bit<8> a; bit<8> b; }",
        "APPLY": "hash(meta.x, HashAlgorithm.crc16, 8w0, { hdr.h.a }, 8w255); "
                 "hash(meta.x, HashAlgorithm.crc16, 8w0, hdr.h, 8w255); "
                 "two_t t = { 1, 2 }; hash(meta.x, HashAlgorithm.crc16, 8w0, t, 8w255);"}),
    ("checksum controls of checksum calls, in blocks", {
        "COMPUTE": "{ " + CKSUM.replace("{DATA}", "{ hdr.h.a, 8w0, hdr.h }") + " } "
                   + CKSUM.replace("{DATA}", "hdr.h").replace("update_checksum", "update_checksum_with_payload")}),
    ("shifts by 8-bit amounts, constants, and ones folded away", {
        "APPLY": "bit<64> m = (bit<64>)1 << (bit<8>)sm.ingress_port; meta.x = meta.x >> 3; "
                 "meta.x = meta.x << 16w0; meta.x = 8w0 << sm.ingress_port; m = m << 8w2;"}),
    ("a table on two paths, each going on to the same node", {
        "LOCALS": TABLE.format(keys="hdr.h.a: exact;", props="") + " table u { actions = { nop; } }",
        "APPLY": "if (meta.x == 1) { t.apply(); } else if (u.apply().hit) { t.apply(); } meta.x = 3;"}),
    ("one control applied twice: two instances, two tables", {
        "DECLS": "control Sub(inout bit<8> v) { action nop() { } table t { key = { v: exact; } actions = { nop; } }"
                 " apply { t.apply(); } }",
        "LOCALS": "Sub() s1; Sub() s2;", "APPLY": "s1.apply(meta.x); meta.x = 1; s2.apply(meta.x);"}),
    ("a deparser of emits, a block, an extern call and a return", {
        "DEPARSER": "pkt.emit(hdr); { pkt.emit(hdr.h); } log_msg(\"out\"); return;"}),
]


@pytest.mark.parametrize("slots", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted(slots):
    compile_source(build(**slots), "t.p4")


def test_other_packages_are_not_bmv2():
    """The rules are simple_switch's: a program for another package keeps p4test's rules."""
    text = """#include <core.p4>
header n_t { bit<4> n; }
control c(inout n_t h) { apply { } }
control proto(inout n_t h);
package top(proto p);
top(c()) main;
"""
    compile_source(text, "t.p4")
