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
    rejected("'f(b)'\n  ---- Actual error:\n  : Read-only value used for out/inout parameter 'a'", DECLS="""
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
    rejected("returned value", DECLS="tuple<bit<8>> f<T>(T x) {\n    @@return x;\n}")


def test_function_of_an_extern_object():
    # a directionless parameter of an extern type is the object itself: the counter counts, the
    # register holds what the function wrote (p4c: issue3045's program with matching types)
    program = compile_source(build(DECLS="""
void bump(counter c, in bit<32> i) { c.count(i); }
void put<T>(register<T> r, in T v) { r.write(0, v); }""", LOCALS="""
    counter(4, CounterType.packets) hits;
    register<bit<8>>(1) last;""", APPLY="bump(hits, 3); bump(hits, 3); put(last, hdr.a.x);"), "objects.p4")
    core = SwitchCore(program)
    core.process(1, bytes([5, 0, 0, 0, 0, 0]), 0)
    assert core.counters["I.hits"].read(3).packets == 2 and core.registers["I.last"].read(0) == 5
    # a value of another type than the object's: the call, as p4c unifies it (issue3045)
    rejected("'put(last, 16w1)'", DECLS="void put<T>(register<T> r, in T v) { r.write(0, v); }",
             LOCALS="register<bit<8>>(1) last;", APPLY="@@put(last, 16w1);")


# -- generic controls and parsers: one copy per instance's type arguments ------------------------
BLOCKS = """
control NoChecksum<H, M>(inout H hdr, inout M meta) { apply { } }
control Copy<T>(inout T dst, in T src) { apply { dst = src; } }
control Bump<T>(inout T x)(T unused) {
    action add() { x = x + 1; }
    table t { actions = { add; } default_action = add(); }
    apply { t.apply(); }
}
"""
BLOCK_MAIN = "V1Switch(P(), NoChecksum(), I(), E(), NoChecksum(), D()) main;"


def test_generic_controls():
    # NoChecksum's H and M from V1Switch's, which the parser gives; Copy's T written; Bump's
    # T from its constructor argument
    out = run(bytes([1, 9, 0, 3, 0, 4]), DECLS=BLOCKS, MAIN=BLOCK_MAIN, LOCALS="""
    Copy<bit<8>>() c8;
    Copy<bit<16>>() c16;
    Bump(8w0) b8;
    Bump(16w0) b16;""", APPLY="""
        c8.apply(hdr.a.x, hdr.a.y);
        c16.apply(hdr.a.w, hdr.a.v);
        b8.apply(hdr.a.x);
        b16.apply(hdr.a.v);""")
    assert out == bytes([10, 9, 0, 4, 0, 5])


def test_generic_control_tables_are_named_by_instance():
    program = compile_source(build(DECLS=BLOCKS, MAIN=BLOCK_MAIN, LOCALS="Bump(8w0) b8; Bump(16w0) b16;",
                                   APPLY="b8.apply(hdr.a.x); b16.apply(hdr.a.v);"), "generics.p4")
    assert {t.preamble.name for t in program.p4info.tables} == {"I.b8.t", "I.b16.t"}


def test_generic_parser():
    text = build(DECLS="""
parser Take<T>(packet_in pkt, out T h) {
    state start { pkt.extract(h); transition accept; }
}""").replace("state start { pkt.extract(hdr.a); transition accept; }",
              "Take<a_t>() take;\n    state start { take.apply(pkt, hdr.a); transition accept; }")
    core = SwitchCore(compile_source(text, "generics.p4"))
    assert core.process(1, bytes([1, 2, 0, 3, 0, 4]), 0) == [(2, bytes([1, 2, 0, 3, 0, 4]))]


def test_generic_control_nothing_instantiates_is_typed():
    # a type parameter is a type of its own: no constant initializes it (p4c: issue345)
    rejected("cannot initialize a variable of type H",
             DECLS="control G<H>() {\n    apply {\n        H @@h = 0;\n    }\n}")
    compile_source(build(DECLS="control G<H>(in H x) {\n    apply {\n        H h = x;\n    }\n}"), "generics.p4")


def test_generic_control_type_parameter_is_not_a_parameter():
    # p4c: dup-param1
    rejected("Re-declaration of p", DECLS="control G<p>(inout bit<32> @@p) { apply { } }")
    compile_source(build(DECLS="control G<q>(inout bit<32> p) { apply { } }"), "generics.p4")


def test_package_parameter_default():
    # `vr` takes its default, a generic control specialized with the package's type argument
    # (p4c: issue2019-1, issue1914)
    text = """#include <core.p4>
control C<H>(inout H hdr);
control V<H>(inout H hdr);
struct E { bit<8> x; }
control Some(inout E m) { apply { m.x = 1; } }
control EmptyV<H>(inout H hdr) { apply { } }
package S<H1>(C<H1> s, V<H1> vr = EmptyV<H1>());
S<E>(Some()) main;
"""
    program = compile_source(text, "generics.p4").program
    assert [d.name for d in program.decls if d.name.startswith("EmptyV")] == ["EmptyV"]
    with pytest.raises(CompileError):  # no default: the argument is needed
        compile_source(text.replace(" = EmptyV<H1>()", ""), "generics.p4")
    # nothing gives H1 a type: p4c names main (issue2441)
    with pytest.raises(CompileError) as info:
        compile_source(text.replace("S<E>(Some()) main;", "package T<H1>(V<H1> vr = EmptyV<H1>());\nT() main;"),
                       "generics.p4")
    assert (info.value.first.pos.line, info.value.first.message) == (
        text.count("\n") + 1, "main: could not infer a type for variable H1")


# -- abstract methods: front end only (the switch has no user-defined externs) -------------------
ABSTRACT = """#include <core.p4>
extern Virtual {
    Virtual();
    bit<16> total();
    abstract bit<16> f(in bit<16> ix);
    @optional abstract void g(inout bit<16> x);
}
control c(inout bit<16> p) {
    Virtual() cntr = {
        bit<16> f(in bit<16> ix) {
            {BODY}
        }
    };
    apply { p = cntr.f(6); }
}
control ctr(inout bit<16> x);
package top(ctr ctrl);
top(c()) main;
"""


def _abstract(body: str) -> str:
    return ABSTRACT.replace("{BODY}", body)


def test_abstract_method_implemented_in_the_initializer():
    compile_source(_abstract("return ix + this.total();"), "virtual.p4")


@pytest.mark.parametrize("program,message,line", [
    # p4c: virtual3
    (_abstract("return;"), "return with no expression in a function returning bit<16>", 11),
    # the body is checked before the signature (p4c: virtual1); the instance is quoted
    (_abstract("return ix;").replace("bit<16> f(in bit<16> ix) {", "bit<8> f(in bit<16> ix) {"),
     "'return ix'\n  ---- Actual error:\n  returned value of type bit<16> cannot be used as bit<8>", 11),
    (_abstract("return 1;").replace("bit<16> f(in bit<16> ix) {", "bit<8> f(in bit<16> ix) {"),
     "'cntr'\n  ---- Actual error:\n  f: the implementation does not match the abstract method", 9),
    (_abstract("return ix;").replace("abstract ", ""),
     "instance initializers for extern without abstract methods", 9),
    (_abstract("return ix;").replace("Virtual() cntr = {", "Virtual() cntr = {\n        void h() { }"),
     "no matching abstract method", 10),
    (_abstract("return ix;").replace("bit<16> f(in bit<16> ix) {\n            return ix;\n        }", ""),
     "cntr: f abstract method not implemented", 9),
    (_abstract("return ix;").replace("bit<16> total();", "int total();"), "illegal return type for method", 4),
])
def test_abstract_method_rules(program, message, line):
    with pytest.raises(CompileError) as info:
        compile_source(program, "virtual.p4")
    first = info.value.diagnostics[0]
    assert message in first.message and first.pos.line == line


# -- generic structs and header unions ---------------------------------------------------------
def test_generic_struct_with_two_argument_lists():
    # each use has its own field types (the second once took the first's: generic-struct)
    out = run(bytes([1, 2, 0, 3, 0, 4]), DECLS="struct Pair<T> { T a; T b; }", LOCALS="""
    Pair<bit<8>> p8;
    Pair<bit<16>> p16;""", APPLY="""
        p8 = (Pair<bit<8>>){ a = hdr.a.y, b = hdr.a.x };
        p16 = { a = hdr.a.v, b = 16w0x102 };
        hdr.a.x = p8.a; hdr.a.y = p8.b; hdr.a.w = p16.a; hdr.a.v = p16.b;""")
    assert out == bytes([2, 1, 0, 4, 1, 2])


def test_generic_header_union():
    compile_source(build(DECLS="header_union U<T> { a_t a; T other; }\nheader b_t { bit<8> z; }",
                         LOCALS="U<b_t> u;", APPLY="u.a = hdr.a;"), "generics.p4")
    # a union's field is a header whatever the type arguments (p4c: decl-union-of-unsupported-type)
    rejected("cannot have type", DECLS="header_union U<T> {\n    @@tuple<T, T> t;\n}")


def test_unused_generic_control_with_a_table():
    out = run(bytes([1, 2, 0, 3, 0, 4]), DECLS="""
control G<T>(inout T x) {
    action a(T v) { x = v; }
    table t { key = { x: exact; } actions = { a; } }
    apply { t.apply(); }
}""")
    assert out == bytes([1, 2, 0, 3, 0, 4])
