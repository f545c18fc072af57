"""p4c's rules on expressions, casts, operators and calls (its negative corpus, p4_16_errors).

Each rule has a snippet p4c rejects (`@@` marks the line the first diagnostic must name) and
a close variant p4c accepts, which must still compile.
"""

import pytest

from fabriclab.p4 import CompileError, compile_source
from marked import build as fill
from marked import compiles, rejected_at

TEMPLATE = """#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
header v_t { bit<8> len; varbit<32> opts; }
struct hs_t { h_t h; h_t[2] st; v_t v; }
struct m_t { bit<8> x; bit<16> y; bit<32> z; }
enum bit<8> E { A = 5 }
{DECLS}
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); {PARSER} transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    action a1(bit<8> p) { meta.x = p; }
    {LOCALS}
    apply { {APPLY} }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
// V1Switch's blocks in a package of the test's own: the BMv2 back end's rules (which refuse
// the program-declared externs these tests use) apply to V1Switch programs only
package Pipe<H, M>(Parser<H, M> p, VerifyChecksum<H, M> vr, Ingress<H, M> ig, Egress<H, M> eg,
                   ComputeChecksum<H, M> ck, Deparser<H> dep);
Pipe(P(), Nop(), C(), Eg(), Nop(), D()) main;
"""


def build(**slots: str) -> str:
    return fill(TEMPLATE, **slots)


def rejects(message: str, **slots: str) -> None:
    rejected_at(build(**slots), message)


def accepts(**slots: str) -> None:
    compiles(build(**slots))


def test_template_compiles():
    accepts()


# -- every function body is type-checked, called or not (p4c: function_e2, issue3534, ...)
FUNCTION_CASES = [
    ("bad operand", "bool f(in bool c) {\n @@return c || \"s\"; }", "c || \"s\": not defined on bool and string"),
    ("return type", "E f(in bool c, in bit<8> v) {\n @@return c ? v : v; }", "returned value of type bit<8>"),
    ("action call", "action act() { }\nvoid f() {\n @@act(); }", "act(): Functions cannot call actions"),
    ("directionless write", "void f(m_t m) {\n @@m.x = 1; }", "cannot write to directionless parameter"),
    ("string +", "extern void lg(string s);\nvoid f() {\n @@lg(\"a\" + \"b\"); }", "+: cannot be applied to expression '\"b\"' with type 'string', did you mean to use '++'?"),
    ("missing return value", "bit<8> f() {\n @@return; }", "return with no expression"),
    ("void returns a value", "void f() {\n @@return 1; }", "return 1: return expression in function with void return"),
    ("non-constant default", "bit<8> g(in bit<8> a) { return a; }\n"
                             "bit<8> f(in bit<8> a = @@g(1), in bit<8> b) { return b; }",
     "g((bit<8>)1): expression must be a compile-time constant"),
]


@pytest.mark.parametrize("decls, message", [c[1:] for c in FUNCTION_CASES], ids=[c[0] for c in FUNCTION_CASES])
def test_an_uncalled_function_is_checked(decls, message):
    rejects(message, DECLS=decls)


def test_functions_p4c_accepts_still_compile():
    accepts(DECLS="bit<8> twice(in bit<8> v) { return v + v; }\n"
                  "void nothing() { return; }\n"
                  "bit<8> dflt(in bit<8> a = 3, in bit<8> b) { return a + b; }\n"
                  "void shadow() { bit<8> foo = 4; { bit<8> foo = foo; } }\n"
                  "bit<16> shift(in bit<4> l) { return 16w11 << E.A; }\n"
                  "bit<1> tup(bit<1> t1) { tuple<int> t = {t1}; return t[0]; }\n"
                  "void pick(inout hs_t h) { h.h = h.h.a == 1 ? {1, 2} : {3, 4}; }\n",
            APPLY="meta.x = twice(meta.x); meta.x = dflt(b = meta.x);")


def test_a_local_may_not_shadow_a_parameter():
    rejects("declaration of 'hdr' shadows a parameter 'hdr'", APPLY="\n@@hs_t hdr = hdr;")
    accepts(APPLY="hs_t hdr2 = hdr;")


# -- `/` and `%`: unsigned operands (p4c: neg, div1), no division by zero (div0) -----------
DIVISION_CASES = [
    ("signed", {"LOCALS": "action s() { int<8> a = 1; int<8> b = 2;\n @@a = a / b; }"}, "Cannot operate on signed values"),
    ("negative", {"APPLY": "\n@@meta.x = meta.x % -1;"}, "meta.x % -1: not defined on negative numbers"),
    ("negative left", {"DECLS": "action n(inout bit<8> a) {\n @@a = -5 / a; }"}, "-5 / a: not defined on negative numbers"),
    ("by zero", {"DECLS": "action z(inout bit<8> a) {\n @@a = a / 0; }"}, "a / 0: Division by zero"),
    ("modulo by zero", {"DECLS": "action z(inout bit<8> a) {\n @@a = a % 8w0; }"}, "a % 0: Modulo by zero"),
    # both constants: p4c's constant folding reports it, in its own words (p4c: div)
    ("constants", {"APPLY": "\n@@meta.x = (bit<8>)(-8 / -2);"}, "-8 / -2: Division is not defined for negative numbers"),
]


@pytest.mark.parametrize("slots, message", [c[1:] for c in DIVISION_CASES], ids=[c[0] for c in DIVISION_CASES])
def test_division_operands(slots, message):
    rejects(message, **slots)


# -- run-time `/` and `%` only by a constant power of 2 (p4c's mid end for BMv2: div3,
#    compound-assignment)
RUNTIME = "could not evaluate expression at compilation time"
RUNTIME_CASES = [
    ("field divisor", {"APPLY": "\n@@meta.x = meta.x / hdr.h.a;"}),
    ("constant 3", {"APPLY": "\n@@meta.x = meta.x % 3;"}),
    ("local constant 3", {"LOCALS": "bit<8> d = 3;", "APPLY": "\n@@meta.x = meta.x / d;"}),
    ("quotient read later", {"APPLY": "\n@@bit<8> q = meta.x / hdr.h.a;\n meta.y = 1;\n meta.x = q;"}),
    ("compound, reported where read", {"LOCALS": "action dv() { bit<8> r = meta.x; r /= hdr.h.a;\n @@meta.x = r; }",
                                       "APPLY": "dv();"}),
    ("in a parser", {"PARSER": "\n@@meta.x = hdr.h.a % hdr.h.a;"}),
]


@pytest.mark.parametrize("slots", [c[1] for c in RUNTIME_CASES], ids=[c[0] for c in RUNTIME_CASES])
def test_runtime_division_needs_a_power_of_2(slots):
    rejects(RUNTIME, **slots)


def test_divisions_p4c_reduces_or_drops_still_compile():
    accepts(LOCALS="bit<8> d = 4;\n"
                   "action used() { meta.x = meta.x / 8; }\n"
                   "action unused() { meta.x = meta.x / hdr.h.a; }\n"
                   "table t { key = { meta.x: exact; } actions = { used; } }",
            APPLY="meta.x = meta.x / d; meta.x = meta.x % 16; meta.x = 0 / hdr.h.a; meta.x = meta.x / 1;\n"
                  "bit<8> dead = meta.x / hdr.h.a;\n"  # never read: p4c drops it
                  "bit<8> r = meta.x; r %= 4; meta.y = (bit<16>)r;\n"
                  "t.apply();")
    accepts(DECLS="action toplevel_unused(inout bit<8> a) { a = a / a; }")


# -- type variables: an unsized constant gives no width, `_` no type (p4c: issue764,
#    issue584, equate-type-dont-care-and-non-dont-care, methodArgDontcare, issue3808-1)
GENERIC = ("extern void take<T>(in T x);\nextern void pick<T>(out T r, in T lo);\n"
           "extern Box<T> { Box(); void put(in T v); }")
TYPEVAR_CASES = [
    ("unsized constant", {"APPLY": "\n@@take(5);"}, "5: could not infer a width"),
    ("dont care and constant", {"APPLY": "\n@@pick(_, 0);"}, "0: could not infer a width"),
    ("hash max", {"APPLY": "\n@@hash(meta.y, HashAlgorithm.crc16, 16w0, {meta.x}, 0xFFFF);"},
     "could not infer a width"),
    ("dont care type argument", {"LOCALS": "Box<_>() b;", "APPLY": "\n@@b.put(8w1);"},
     "Could not infer a type for parameter v"),
]


@pytest.mark.parametrize("slots, message", [c[1:] for c in TYPEVAR_CASES], ids=[c[0] for c in TYPEVAR_CASES])
def test_type_variables_need_a_type(slots, message):
    rejects(message, DECLS=GENERIC, **slots)


def test_type_variables_p4c_binds_still_compile():
    accepts(DECLS=GENERIC, LOCALS="Box<bit<8>>() b;",
            APPLY="take(8w5); pick(meta.x, 0); b.put(1); take<bit<4>>(3);\n"
                  "hash(meta.y, HashAlgorithm.crc16, 16w0, {meta.x}, 16w0xFFFF);")


# -- what cannot be compared (p4c: issue2317, issue3589)
COMPARE_CASES = [
    ("action calls", {"DECLS": "action f(inout bit<8> t) { t = t - 1; }",
                      "APPLY": "\nif (@@f(meta.x) == f(meta.x)) { }"}, "cannot be compared"),
    ("tables", {"LOCALS": "table t { actions = { NoAction; } }", "APPLY": "\nbool b = @@t == t;"},
     "tables cannot be compared"),
    ("externs", {"LOCALS": "counter(1, CounterType.packets) k;", "APPLY": "\nbool b = @@k != k;"},
     "externs cannot be compared"),
]


@pytest.mark.parametrize("slots, message", [c[1:] for c in COMPARE_CASES], ids=[c[0] for c in COMPARE_CASES])
def test_uncomparable_values(slots, message):
    rejects(message, **slots)


def test_comparable_values_still_compile():
    accepts(LOCALS="table t { actions = { NoAction; } }",
            APPLY="if (t.apply().hit == true) { } bool b = hdr.h == hdr.h || meta == meta;")


# -- only parsers may verify() or use a stack's next/last/lastIndex (p4c: control-verify,
#    next, issue3522)
PARSER_ONLY_CASES = [
    ("verify", {"APPLY": "\n@@verify(meta.x == 1, error.NoError);"}, "may only be invoked in parsers"),
    ("last", {"APPLY": "\n@@hdr.st.last.a = 1;"}, "'last', and 'next' for stacks can only be used in a parser"),
    ("next", {"APPLY": "\n@@hdr.st.next = { 1, 2 };"}, "can only be used in a parser"),
    ("lastIndex", {"DECLS": "action a(in hs_t v) {\n bit<32> t = @@v.st.lastIndex; }"},
     "'lastIndex' for stacks can only be used in a parser"),
    ("function", {"DECLS": "bit<32> f(in hs_t v) {\n @@return v.st.lastIndex; }"}, "can only be used in a parser"),
]


@pytest.mark.parametrize("slots, message", [c[1:] for c in PARSER_ONLY_CASES], ids=[c[0] for c in PARSER_ONLY_CASES])
def test_parser_only(slots, message):
    rejects(message, **slots)


def test_parser_only_in_a_parser_still_compiles():
    accepts(PARSER="verify(hdr.h.a == 1, error.NoError); pkt.extract(hdr.st.next); "
                   "meta.z = hdr.st.lastIndex; hdr.st.last.a = 1;")


# -- casts, calls and constructor arguments (p4c: explicit-cast-to-header-from-kvlist-expr-
#    with-unmatched-field, issue3221, extern-method-overload-resolution-fails, issue3656,
#    issue4146, issue478, persistent_e)
CALL_CASES = [
    ("cast of a list to a header with other fields", {"APPLY": "\nhdr.h = @@(h_t) { a = 1, c = 2 };"},
     "missing field 'b'"),
    ("cast to a type over another width", {"DECLS": "type bit<1> t1;\nt1 f(in bit<2> a) {\n @@return (t1)a; }"},
     "cannot cast bit<2> to t1"),
    ("ambiguous extern method", {"DECLS": "extern X { X(); void m(in bit<8> a); void m(in bit<8> b); }",
                                 "LOCALS": "X() x;", "APPLY": "\n@@x.m(meta.x);"}, "Ambiguous method m"),
    ("type arguments to an action", {"APPLY": "\na1<@@bit<8>>(1);"},
     "Cannot supply type parameters for an action invocation"),
    ("lookahead of void", {"PARSER": "\npkt.lookahead<@@void>();"}, "void: illegal type argument for 'lookahead'"),
    ("extract of a varbit header without length", {"PARSER": "\npkt.extract(@@hdr.v);"},
     "argument cannot contain varbit fields"),
    ("constructor argument from an apply parameter",
     {"DECLS": "control Sub(inout m_t m)(bit<8> k) { apply { m.x = k; } }\n"
               "control Outer(inout m_t m, in bit<8> z) {\n Sub(@@z) s; apply { s.apply(m); } }",
      "LOCALS": "Outer() o;", "APPLY": "o.apply(meta, meta.x);"},
     "z: cannot evaluate to a compile-time constant"),
]


@pytest.mark.parametrize("slots, message", [c[1:] for c in CALL_CASES], ids=[c[0] for c in CALL_CASES])
def test_casts_and_calls(slots, message):
    rejects(message, **slots)


def test_casts_and_calls_p4c_accepts_still_compile():
    accepts(DECLS="type bit<1> t1;\nt1 f(in bit<1> a) { return (t1)a; }\n"
                  "extern X { X(); void m(in bit<8> a); void m(in bit<8> a, in bit<8> b); }\n"
                  "control Sub(inout m_t m)(bit<8> k) { apply { m.x = k; } }\n"
                  "control Outer(inout m_t m, in bit<8> z)(bit<8> c) { Sub(c + 1) s; apply { s.apply(m); } }",
            LOCALS="X() x; Outer(3) o;",
            PARSER="pkt.extract(hdr.v, 8); bit<8> l = pkt.lookahead<bit<8>>();",
            APPLY="hdr.h = (h_t) { a = 1, b = 2 }; x.m(meta.x); x.m(a = meta.x); x.m(meta.x, 1);"
                  "o.apply(meta, meta.x); bit<1> t = (bit<1>)(t1)1w1;")


def test_the_error_type_needs_an_error_declaration():
    program = "struct S {\n  error b;\n}\ncontrol C()() { apply { } }\n"
    with pytest.raises(CompileError) as info:
        compile_source(program, "prog.p4")
    assert "error: declaration not found" in info.value.first.message and info.value.first.pos.line == 2
    compile_source("error { Oops }\n" + program, "prog.p4")


def test_a_switch_needs_the_exact_match_kind():
    """p4c's mid end implements a switch with labels as a table with an exact key (issue3613)."""
    program = ("control c(in bit<4> a) {\n  apply {\n    switch (a) {\n      4w0: {}\n    }\n  }\n}\n"
               "control ct(in bit<4> a);\npackage pt(ct t);\n{MAIN}")
    with pytest.raises(CompileError) as info:
        compile_source(program.replace("{MAIN}", "pt(c()) main;\n"), "prog.p4")
    assert "match_kind.exact" in info.value.first.message and info.value.first.pos.line == 3
    compile_source("match_kind { exact }\n" + program.replace("{MAIN}", "pt(c()) main;\n"), "prog.p4")
    compile_source(program.replace("{MAIN}", ""), "prog.p4")  # no main: p4c keeps nothing (issue3623)


# -- with p4test's --loopsUnroll, p4c flattens header union stacks: an index it cannot fold
#    is an error (issue5703_header_union_stack); without the option the stack stays
UNION_STACK = """#include <v1model.p4>
{OPTION}
header a_t { bit<8> a; }
header b_t { bit<16> b; }
header_union u_t { a_t a; b_t b; }
struct hs_t { u_t[4] us; }
struct m_t { bit<8> i; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start {
        {EXTRACT}
        transition accept;
    }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.us); } }
V1Switch(P(), Nop(), C(), C(), Nop(), D()) main;
"""
UNROLL = '@command_line("--loopsUnroll")'


def test_a_run_time_union_stack_index_is_an_error_when_loops_are_unrolled():
    rejected_at(UNION_STACK.replace("{OPTION}", UNROLL).replace("{EXTRACT}", "@@pkt.extract(hdr.us[meta.i].a);"),
                "Target expects constant array indices for accessing header union stack elements, meta.i")


@pytest.mark.parametrize("option, extract", [
    (UNROLL, "pkt.extract(hdr.us[1].a);"),
    (UNROLL, "bit<8> k = 2; pkt.extract(hdr.us[k].b);"),  # folded by copy propagation
    ("", "pkt.extract(hdr.us[meta.i].a);"),  # the stack is not flattened
])
def test_union_stack_indices_p4c_folds_or_keeps_compile(option, extract):
    compiles(UNION_STACK.replace("{OPTION}", option).replace("{EXTRACT}", extract))
