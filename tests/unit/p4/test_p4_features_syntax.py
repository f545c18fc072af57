"""P4-16 features of p4c's positive corpus: each compiles and runs on the switch (packets
out show it works), and a close variant p4c rejects is rejected."""

import pytest

from fabriclab.p4 import CompileError, compile_source
from fabriclab.switch.core import SwitchCore


def v1model(decls: str, ingress: str, locals_: str = "") -> str:
    """A v1model program around one header `h` of four bytes a..d (extracted, emitted);
    ingress sends every packet to port 2, declares `locals_` and runs `ingress`."""
    return f"""
#include <core.p4>
#include <v1model.p4>
header h_t {{ bit<8> a; bit<8> b; bit<8> c; bit<8> d; }}
struct metadata {{ }}
struct headers {{ h_t h; }}
{decls}
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {{
    state start {{ pkt.extract(hdr.h); transition accept; }}
}}
control V(inout headers hdr, inout metadata meta) {{ apply {{ }} }}
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {{
{locals_}
    apply {{
        sm.egress_spec = 2;
{ingress}
    }}
}}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {{ apply {{ }} }}
control C(inout headers hdr, inout metadata meta) {{ apply {{ }} }}
control D(packet_out pkt, in headers hdr) {{ apply {{ pkt.emit(hdr.h); }} }}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def run(text: str, data: bytes) -> bytes:
    """The packet the program sends out for `data` (on port 2)."""
    ((port, out),) = SwitchCore(compile_source(text, "t.p4")).process(1, data, 0)
    assert port == 2
    return out


def rejected(text: str, message: str, line: int | None = None) -> None:
    with pytest.raises(CompileError, match=message) as info:
        compile_source(text, "t.p4")
    if line is not None:  # (a type mismatch: its own line, under the node p4c quotes)
        first = info.value.diagnostics[0]
        assert (first.cause_pos or first.pos).line == line, str(info.value)


# -- @optional package parameters (p4c: issue1304, issue2492) --------------------------------
PACKAGE = """
#include <core.p4>
header d_t { bit<16> f; }
struct hs { d_t d; }
control ingress(inout hs hdr) { apply { hdr.d.f = 1; } }
control ctr<H>(inout H hdr);
package pipe<H>(ctr<H> c);
package top<H1, H2>(pipe<H1> p1, @optional pipe<H2> p2);
pipe(ingress()) p;
top(@ARGS@) main;
"""


def test_optional_package_parameters_may_be_left_out():
    compile_source(PACKAGE.replace("@ARGS@", "p"), "t.p4")  # a package instance as argument too
    compile_source(PACKAGE.replace("@ARGS@", "p1 = p"), "t.p4")
    rejected(PACKAGE.replace("@ARGS@", "").replace("@optional ", ""),
             "wrong number of arguments to package 'top'")
    compile_source(PACKAGE.replace("top(@ARGS@)", "top<hs, bit<8>>(p)"), "t.p4")
    rejected(PACKAGE.replace("top(@ARGS@)", "top<bit<8>, bit<8>>(p)"),  # p's H is hs
             "type of argument 'p' \\(package pipe\\) does not match type of parameter 'p1'", 10)
    rejected(PACKAGE.replace("@ARGS@", "p").replace("@optional ", ""),
             "wrong number of arguments to package 'top'", 10)
    rejected(PACKAGE.replace("control ctr", "control ingress2(inout hs hdr)(@optional bit<8> x) { apply { } }\ncontrol ctr")
             .replace("@ARGS@", "p"), "optional parameter not allowed here", 6)


# -- function calls in table keys and in the actions list's arguments (p4c: issue2258-bmv2,
# issue2266, issue2321) ---------------------------------------------------------------------
TABLE_CALLS = v1model("""
bit<8> bump(inout bit<8> x) { x = x + 1; return x + 10; }
bit<8> twice(in bit<8> x) { return x + x; }
""", """
        hdr.h.d = 0;
        t.apply();
""", """
    action set(in bit<8> v, inout bit<8> w, bit<8> p) { hdr.h.c = v; w = w + p; }
    action other() { hdr.h.c = 99; }
    table t {
        key = { twice(hdr.h.a): exact @name("twice_a"); }
        actions = { set(bump(hdr.h.b), hdr.h.d); other; }
        const entries = { 8: set(bump(hdr.h.b), hdr.h.d, 3); 6: other(); }
        default_action = other();
    }
""")


def test_function_calls_in_table_keys_and_action_arguments():
    # key twice(4) = 8 hits set: bump runs when set runs (b 1 -> 2, v = 12), d += 3
    assert run(TABLE_CALLS, bytes([4, 1, 0, 0])) == bytes([4, 2, 12, 3])
    # key 6 runs other: bump does not run
    assert run(TABLE_CALLS, bytes([3, 1, 0, 0])) == bytes([3, 1, 99, 0])
    assert run(TABLE_CALLS, bytes([1, 1, 0, 0])) == bytes([1, 1, 99, 0])


def test_a_function_call_key_needs_a_name():
    rejected(TABLE_CALLS.replace(' @name("twice_a")', ""), "Complex key expression requires a @name", 20)


# -- `{#}`: an invalid header or union (p4c: invalid-header, invalid-union, issue5653, issue3779,
# issue4625_remove_compile_time_bool_methodcall_of_mcs) ------------------------------------
INVALID = v1model("""
header e_t { bit<8> v; }
header_union u_t { e_t e; h_t h; }
""", """
        e_t e = { 7 };
        u_t u;
        u.e = e;
        bit<8> r = 0;
        if (e != {#}) { r = r | 1; }
        if (u.isValid()) { r = r | 2; }
        e = (e_t){#};
        u = {#};
        if (e == (e_t){#}) { r = r | 4; }
        if (!u.isValid() && !((e_t){#}).isValid()) { r = r | 8; }
        hdr.h.d = r;
        if (hdr.h.a == 1) { hdr.h = {#}; }
""")


def test_invalid_header_and_union_expressions():
    assert run(INVALID, bytes([0, 0, 0, 0])) == bytes([0, 0, 0, 15])
    assert run(INVALID, bytes([1, 0, 0, 0])) == b""  # hdr.h invalid: not emitted


def test_invalid_expression_needs_a_header_type():
    rejected(INVALID.replace("e = (e_t){#};", "e = (e_t){#}; bit<8> x = {#};"),
             r"of type \{#\} cannot be used as bit<8>", 26)
    rejected(INVALID.replace("e = (e_t){#};", "metadata m = (metadata){#};"),
             r"\{#\} of type \{#\} cannot be used as metadata", 26)


def test_an_unused_function_is_type_checked_as_declared():
    # p4c: expr-unary-minus-on-unsupported-type, expr-binary-bitwise-on-unsupported-types
    ok = "header e_t { bit<8> v; }\nbool f(in e_t e) { return e == {#} || !e.isValid(); }\n"
    compile_source(v1model(ok, ""), "t.p4")
    rejected(v1model(ok.replace("e == {#}", "-{#}"), ""), "Cannot apply - to value Invalid of type Unknown type", 8)
    rejected(v1model(ok.replace("e == {#} ||", "e.isValid() &"), ""), "&: cannot be applied to expression 'e.isValid..' with type 'bool'", 8)


# -- for-in loops over ranges and header stacks; compound assignments in a for's clauses and
# annotations on a for (p4c: forloop1, forloop3, forloop4, forloop7, issue5499, forloop8-11) --
LOOPS = v1model("""
header e_t { bit<8> v; }
struct stack_t { e_t[3] s; }
""", """
        stack_t st;
        st.s[0] = { 1 }; st.s[1] = { 2 }; st.s[2] = { 4 };
        bit<8> sum = 0;
        for (e_t e in st.s) { sum = sum + e.v; e.v = 0; }      // e is a copy
        for (e_t e in st.s) sum = sum + e.v;
        hdr.h.b = sum;                                         // 14
        bit<8> n = 0;
        for (bit<8> i in hdr.h.a .. hdr.h.a + 2) { n = n + i; }  // a + a+1 + a+2
        for (bit<8> i in 8w255 .. 255) { n = n + 1; }          // once: no wrap-around
        for (bit<8> i in 3 .. 1) { n = 0; }                   // empty
        hdr.h.c = n;
        bit<8> k = 0;
        @unroll
        for (bit<8> j = 10; j != 0; j -= 2) { if (j == 4) { continue; } k += 1; }
        hdr.h.d = k;                                           // 10, 8, 6, 2: 4
""")


def test_for_in_loops_and_compound_updates():
    assert run(LOOPS, bytes([5, 0, 0, 0])) == bytes([5, 14, 5 + 6 + 7 + 1, 4])
    assert run(LOOPS, bytes([254, 0, 0, 0])) == bytes([254, 14, 1, 4])  # a + 2 wraps to 0: empty


def test_for_in_loop_needs_a_stack_or_a_range():
    rejected(LOOPS.replace("for (e_t e in st.s) sum", "for (e_t e in sum) sum"), "Cannot extract field size from sum which has type bit<8>", 24)
    rejected(LOOPS.replace("8w255 .. 255", "16w255 .. 255"), "of type bit<16> cannot be used as bit<8>", 28)


# -- smaller syntax: `(x) = e`, expressions as widths, `tuple<>`, `typedef struct`, strings over
# lines, `@pragma` (p4c: lvalue-parens, cfoldBitTypedefs, emptyTuple, spec-ex12, string_anno,
# pragma-string, pragma-deprecated, pragma-pkginfo, pragma-action, pragmas) ----------------
SYNTAX = v1model("""
const bit<8> W = 4;
typedef bit<W + W> byte_t;
typedef struct pair_s { bit<W> hi; bit<W>lo; } pair_t;
typedef tuple<> nothing_t;
@pragma name "multi \\
line"
const bit<8> one = 1;
@name("two
lines") const bit<8> two = 2;
""", """
        pair_t p = { hdr.h.a[7:4], hdr.h.a[3:0] };
        (hdr.h.b) = (byte_t)(p.lo ++ p.hi);
        nothing_t n = {};
        ((hdr.h).c) = one + two;
""")


def test_small_syntax_forms():
    assert run(SYNTAX, bytes([0x12, 0, 0, 0])) == bytes([0x12, 0x21, 3, 0])


def test_small_syntax_forms_keep_their_rules():
    rejected(SYNTAX.replace("(hdr.h.b) =", "(hdr.h.b + 1) ="), "syntax error", 28)
    rejected(SYNTAX.replace("typedef bit<W + W>", "typedef bit<W - W>"), r"type bit<0> cannot be used as bit<8>", 28)
    rejected(SYNTAX.replace("nothing_t n = {};", "nothing_t n = {1};"), "list of 1 values used where tuple<> is needed", 29)


# -- match_kind as a type (p4c: issue3091, issue3091-1) -------------------------------------
MATCH_KINDS = v1model("""
const tuple<match_kind, match_kind> kinds = {exact, ternary};
typedef tuple<match_kind> mk_t;
""", """
        hdr.h.a = 7;
""")


def test_match_kind_values_and_types():
    assert run(MATCH_KINDS, bytes([0, 1, 2, 3])) == bytes([7, 1, 2, 3])
    rejected(MATCH_KINDS.replace("{exact, ternary}", "{exact, exactly}"), "exactly: declaration not found", 8)
    rejected(MATCH_KINDS.replace("hdr.h.a = 7;", "hdr.h.a = exact;"), "of type match_kind cannot be used as bit<8>", 20)


# -- `return` inside a function's for loop (p4c: forloop2) -----------------------------------
POPCOUNT = v1model("""
bit<8> popcount(in bit<8> val) {
    bit<8> n = 0;
    bit<8> v = val;
    for (bit<8> i in 1 .. 8) {
        for (bit<8> j = 0; j < 1; j = j + 1) {
            if (v == 0) { return n; }
        }
        n = n + 1;
        v = v & (v - 1);
    }
    return 99;
}
""", """
        hdr.h.b = popcount(hdr.h.a);
""")


def test_return_inside_a_loop_of_a_function():
    assert run(POPCOUNT, bytes([0b1011, 0, 0, 0])) == bytes([0b1011, 3, 0, 0])
    assert run(POPCOUNT, bytes([0, 0, 0, 0])) == bytes([0, 0, 0, 0])
    assert run(POPCOUNT, bytes([255, 0, 0, 0])) == bytes([255, 99, 0, 0])  # loops 8 times
    rejected(POPCOUNT.replace("return 99;", ""), "does not return a value on all paths", 8)
