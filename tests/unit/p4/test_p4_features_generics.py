"""Generic P4 declarations that p4c's front end specializes (its positive corpus: issue2260-2,
issue1830, issue3324, type-spec-nested, ...): each feature runs in a small v1model program
on the switch, and a close variant p4c rejects is rejected at the line p4c names."""

import pytest

from fabriclab.p4 import CompileError, compile_source
from fabriclab.switch.core import SwitchCore

TEMPLATE = """#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> x; bit<8> y; bit<16> w; bit<16> v; }
struct metadata { }
struct headers { a_t a; }
{DECLS}
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    {LOCALS}
    apply {
        sm.egress_spec = 2;
        {APPLY}
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
{MAIN}
"""
MAIN = "V1Switch(P(), V(), I(), E(), C(), D()) main;"


def build(**slots: str) -> str:
    text = TEMPLATE
    for key in ("DECLS", "LOCALS", "APPLY"):
        text = text.replace("{" + key + "}", slots.get(key, ""))
    return text.replace("{MAIN}", slots.get("MAIN", MAIN))


def run(frame: bytes, **slots: str) -> bytes:
    core = SwitchCore(compile_source(build(**slots), "generics.p4"))
    [(port, out)] = core.process(1, frame, 0)
    assert port == 2
    return out


def rejected(message: str, **slots: str) -> None:
    """The program (its first `@@` marks the line p4c names) is rejected there with `message`."""
    text = build(**slots)
    line = text.count("\n", 0, text.index("@@")) + 1
    with pytest.raises(CompileError) as info:
        compile_source(text.replace("@@", ""), "generics.p4")
    first = info.value.diagnostics[0]
    assert message in first.message
    assert first.pos.line == line


# -- generic functions: one copy per call, its type arguments given or inferred ----------------
FUNCTIONS = """
T pick<T>(in bool c, in T a, in T b) {
    if (c) { return a; }
    return b;
}
void swap<T>(inout T a, inout T b) { T t = a; a = b; b = t; }
"""


@pytest.mark.parametrize("frame,expected", [
    (bytes([1, 9, 0, 3, 0, 4]), bytes([9, 1, 0, 4, 0, 3])),
    (bytes([1, 2, 0, 3, 0, 4]), bytes([7, 1, 0, 4, 0, 3])),
])
def test_generic_functions_inferred_and_explicit(frame, expected):
    out = run(frame, DECLS=FUNCTIONS, APPLY="""
        swap(hdr.a.x, hdr.a.y);              // T = bit<8>, from the arguments
        swap<bit<16>>(hdr.a.w, hdr.a.v);     // T given
        hdr.a.x = pick(hdr.a.x > 7, hdr.a.x, 8w7);""")
    assert out == expected


def test_generic_function_of_a_header():
    out = run(bytes([1, 2, 3, 4, 5, 6]), DECLS=FUNCTIONS, LOCALS="a_t b;", APPLY="""
        b.setValid(); b.x = 8; b.y = 9; b.w = 10; b.v = 11;
        swap(hdr.a, b);""")
    assert out == bytes([8, 9, 0, 10, 0, 11])


def test_generic_function_body_is_typed_unused():
    # p4c types a generic function's body though nothing calls it (call-inout-parameter-with-non-lvalue-2)
    rejected("cannot write to 'in' parameter", DECLS="""
void f<t>(inout t a) {}
void g<t>(in t b) {
    @@f(b);
}""")
    compile_source(build(DECLS="""
void f<t>(inout t a) {}
void g<t>(inout t b) {
    f(b);
}"""), "generics.p4")


def test_generic_function_specialization_is_typed():
    # a type argument the argument does not fit (call-on-function-illformed-after-specialization)
    rejected("cannot be used as", DECLS="void f<T>(in T x) {}", APPLY="@@f<bit<16>>(true);")
    rejected("return value", DECLS="tuple<bit<8>> f<T>(T x) {\n    @@return x;\n}")
