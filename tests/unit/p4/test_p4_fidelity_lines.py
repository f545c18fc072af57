"""p4c's negative corpus (p4_16_errors) where the first diagnostic must name p4c's line.

Each rule has a program p4c rejects (`@@` marks the line the first diagnostic must name) and
a close variant p4c accepts, which must still compile.
"""

import pytest

from fabriclab.p4 import CompileError, compile_source

MAIN = """
header h_t { bit<8> a; bit<16> b; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
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


def program(decls: str = "", locals_: str = "", apply: str = "", include: str = "#include <v1model.p4>\n") -> str:
    return include + decls + MAIN.replace("{LOCALS}", locals_).replace("{APPLY}", apply)


def rejects(message: str, text: str) -> None:
    marker = text.index("@@")
    line = text.count("\n", 0, marker) + 1
    with pytest.raises(CompileError) as info:
        compile_source(text.replace("@@", ""), "prog.p4")
    diag = info.value.first
    assert message in diag.message, diag.format()
    assert diag.pos is not None and diag.pos.line == line, diag.format()


def compiles(text: str) -> None:
    compile_source(text, "prog.p4")


# -- a repeated member of an enum, error or match_kind: p4c names the repeat -----------------

@pytest.mark.parametrize("decl", [
    "enum E {\n  a,\n  b,\n  @@b\n}\n",
    "enum bit<8> E {\n  a = 1,\n  @@a = 2\n}\n",
    "error {\n  Oops,\n  @@Oops\n}\n",
    "match_kind {\n  fancy,\n  @@fancy\n}\n",
    "match_kind {\n  fancy\n}\nmatch_kind {\n  @@fancy\n}\n",
    "error {\n  @@NoError\n}\n",  # core.p4 declares it
])
def test_repeated_member_names_the_repeat(decl: str) -> None:
    rejects("duplicate", program(decl))


@pytest.mark.parametrize("decl", [
    "enum E {\n  a,\n  b\n}\n",
    "error {\n  Oops,\n  Oops2\n}\n",
    "match_kind {\n  fancy\n}\nmatch_kind {\n  fancier\n}\n",
])
def test_distinct_members_compile(decl: str) -> None:
    compiles(program(decl))
