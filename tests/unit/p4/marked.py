"""One scaffold for the front-end fidelity tests: a small v1model program with slots, and the
check that a program is rejected with a message on the line its `@@` marker is on (p4c's
negative corpus names a line; the tests ask for that line)."""

import pytest

from fabriclab.p4 import CompileError, compile_source

# A V1Switch program with slots: {DECLS} before the parser, {PARSER_LOCALS} and {PARSER} in
# it, {LOCALS} and {APPLY} in the ingress control; {HEADERS} and {META} are the fields of
# hs_t and m_t.
V1MODEL = """#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
struct hs_t { {HEADERS} }
struct m_t { {META} }
{DECLS}
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    {PARSER_LOCALS}
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
DEFAULTS = {"HEADERS": "h_t h;", "META": "bit<8> x;", "DECLS": "", "PARSER_LOCALS": "", "PARSER": "",
            "LOCALS": "", "APPLY": ""}


def build(template: str = V1MODEL, **slots: str) -> str:
    """`template` with each slot filled (empty, or the default fields, unless given)."""
    unknown = set(slots) - set(DEFAULTS)
    assert not unknown, f"no such slot: {unknown}"
    text = template
    for key, default in DEFAULTS.items():
        text = text.replace("{" + key + "}", slots.get(key, default))
    return text


def rejected_at(text: str, message: str, name: str = "prog.p4") -> None:
    """`text` (with one `@@` marker) is rejected: its first diagnostic says `message` (a
    substring) on the marker's line of the program itself (a type mismatch p4c reports under
    the node it was checking: the mismatch's own line)."""
    marker = text.index("@@")
    line = text.count("\n", 0, marker) + 1
    with pytest.raises(CompileError) as info:
        compile_source(text.replace("@@", "", 1), name)
    diag = info.value.first
    assert message in diag.message, diag.format()
    pos = diag.cause_pos or diag.pos  # (a type mismatch: where it is, under the node p4c quotes)
    assert pos is not None and (pos.file, pos.line) == (name, line), diag.format()


def compiles(text: str, name: str = "prog.p4"):
    """`text` compiles (a `@@` marker, if any, removed)."""
    return compile_source(text.replace("@@", "", 1), name)
