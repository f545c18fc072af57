"""p4c's rules on types, generics and annotations (its negative corpus: annotation,
issue1296, issue3170, string-e1, structured-annotation-e1, ...): each rule rejects a small
program at the line p4c names (marked `@@`), and a close variant still compiles."""

import pytest

from fabriclab.p4 import CompileError, compile_source

TEMPLATE = """#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
{DECLS}
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); {PARSER} transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    {LOCALS}
    apply { {APPLY} }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
"""


def build(**slots: str) -> str:
    text = TEMPLATE
    for key in ("DECLS", "PARSER", "LOCALS", "APPLY"):
        text = text.replace("{" + key + "}", slots.get(key, ""))
    return text


def rejected(message: str, **slots: str) -> None:
    text = build(**slots)
    marker = text.index("@@")
    line = text.count("\n", 0, marker) + 1
    with pytest.raises(CompileError) as info:
        compile_source(text.replace("@@", "", 1), "prog.p4")
    diag = info.value.first
    assert message in diag.message
    assert (diag.pos.file, diag.pos.line) == ("prog.p4", line)


def accepted(**slots: str) -> None:
    compile_source(build(**slots), "prog.p4")


def test_template_compiles():
    accepted()


# -- annotations -------------------------------------------------------------------------
@pytest.mark.parametrize("bad, good, message", [
    # a known annotation's body has its shape (p4c: annotation, issue2283_2-bmv2)
    ("@@@pkginfo const bit<8> K = 1;", '@pkginfo(version="1") const bit<8> K = 1;',
     "@pkginfo needs a list of key = value pairs"),
    ("@@@hidden(1) const bit<8> K = 1;", "@hidden const bit<8> K = 1;", "should not have any arguments"),
    ("@@@id(x) const bit<8> K = 1;", "@id(0x01000001) const bit<8> K = 1;", "@id needs an integer"),
    ('@@@p4runtime_translation("p4.org/t", bool) type bit<8> T_t;',
     '@p4runtime_translation("p4.org/t", bit<16>) type bit<8> T_t;', "controller type"),
    # @name/@deprecated need a string; "a" ++ "b" is one (p4c: spec-issue1297-string-cat-err-*-anno)
    ("@@@name(4) const bit<8> K = 1;", '@name("a" ++ "b") const bit<8> K = 1;', "@name: should contain a string"),
    ('@@@deprecated("a" | "b") const bit<8> K = 1;', '@deprecated("a" ++ "b") const bit<8> K = 1;',
     "@deprecated annotation's value must be a string"),
    # a structured annotation's name is not used twice on one declaration (p4c: structured-annotation-e1/e3)
    ("@x[]\n@@@x[] const bit<8> K = 1;", "@x[] @y[] const bit<8> K = 1;", "@x: duplicate name for structured"),
    ("@x(1) @x(2)\n@@@x[] const bit<8> K = 1;", "@x(1) @x(2) const bit<8> K = 1;", "duplicate name for structured"),
])
def test_annotations(bad, good, message):
    rejected(message, DECLS=bad)
    accepted(DECLS=good)


# -- functions are checked where declared, used or not ----------------------------------
@pytest.mark.parametrize("bad, good, message", [
    # a function cannot call itself: its name is declared after its body (p4c: issue3197-e)
    ("void f() {\n@@f();\n}", "void g() { }\nvoid f() { g(); }", "undeclared identifier 'f'"),
    ("void f() {\n@@later();\n}\nvoid later() { }", "void later() { }\nvoid f() { later(); }",
     "undeclared identifier 'later'"),
    # types in its signature and locals (p4c: type-int-with-non-natural-width, -non-lctk-width)
    ("bit<5> f(\n@@in int<0> a) { return 1; }", "bit<5> f(in int<1> a) { return 1; }",
     "Width of signed type cannot be zero"),
    ("bit<4> f(in bit<4> l) {\n@@const int<(l)> t = 1; return l; }",
     "const bit<4> W = 4;\nbit<4> f(in bit<4> l) { const int<(W)> t = 1; return l; }",
     "a width must be a compile-time constant"),
])
def test_unused_functions(bad, good, message):
    rejected(message, DECLS=bad)
    accepted(DECLS=good)
