"""Type fidelity with p4c's positive corpus: size queries (minSizeInBits & co.), empty stacks
and varbit<0>, serializable enums as bit operands, string ++, `int` taking any width, and
extern type arguments inferred from the constructor. Each feature compiles and, where it
affects packets, runs right on the switch; a close variant p4c rejects is rejected on the
marked line."""

import pytest

from fabriclab.switch.core import SwitchCore
from tests.unit.p4.marked import build, compiles, rejected_at


def run(text: str, data: bytes) -> bytes:
    """The packet the program (marked.V1MODEL: h_t {a: 8 bits, b: 16 bits}) sends out for `data`;
    its ingress sends to port 2."""
    ((port, out),) = SwitchCore(compiles(text)).process(1, data, 0)
    assert port == 2
    return out


def ingress(apply: str, **slots: str) -> str:
    return build(APPLY="sm.egress_spec = 2; " + apply, **slots)


# -- size queries (p4c: issue1717, issue4625, issue5237, minsize) -------------------------------
SIZES = """
header v_t { bit<4> f; bool g; varbit<16> v; }
struct s_t { bit<3> x; v_t vh; }
header_union u_t { h_t h; v_t v; }
typedef bit<12> t12;
"""


@pytest.mark.parametrize("query, value", [
    ("hdr.h.minSizeInBits()", 24), ("hdr.h.minSizeInBytes()", 3),
    ("meta.x.maxSizeInBits()", 8),
    ("v_t.minSizeInBits()", 5), ("v_t.maxSizeInBits()", 21), ("v_t.maxSizeInBytes()", 3),
    ("s_t.maxSizeInBits()", 24), ("u_t.minSizeInBits()", 24), ("u_t.maxSizeInBits()", 24),
    ("t12.minSizeInBytes()", 2), ("stk.maxSizeInBits()", 72), ("stk[7].minSizeInBits()", 24),
])
def test_size_queries_fold_to_constants(query, value):
    text = ingress(f"h_t[3] stk; hdr.h.b = (bit<16>)({query});", DECLS=SIZES)
    assert run(text, bytes([1, 0, 0, 9])) == bytes([1, 0, value, 9])


def test_size_query_as_a_constant_and_a_statement_and_a_field_name():
    decls = "header q_t { bit<8> minSizeInBits; }\nconst int w = q_t.minSizeInBits() * 2;"
    text = ingress("q_t q; q.minSizeInBits(); q.minSizeInBits = 1; hdr.h.b = w + (bit<16>)hdr.h.minSizeInBits();"
                   "if (hdr.h.a == 1) hdr.h.minSizeInBytes();", DECLS=decls)
    assert run(text, bytes([1, 0, 0])) == bytes([1, 0, 16 + 24])


@pytest.mark.parametrize("apply, message", [
    ("hdr.h.b = (bit<16>)@@hdr.h.minSizeInBits(1);", "minSizeInBits: 1 arguments supplied while 0 are expected"),
    ("hdr.h.b = (bit<16>)@@hdr.h.maxSizeInBits<bit<8>>();",
     "maxSizeInBits: 0 type parameters expected, but 1 type arguments supplied"),
    ("error e; hdr.h.b = (bit<16>)@@e.minSizeInBits();", "width not well-defined for values of type error"),
    ("h_t[2] s; hdr.h.b = (bit<16>)@@s[2].b;", "index 2 is out of bounds"),  # checked outside a size query
])
def test_size_query_errors(apply, message):
    rejected_at(ingress(apply), message)


def test_empty_stack_and_varbit_zero():
    decls = "header z_t { bit<8> f; varbit<0> none; }"
    text = ingress("h_t[0] none; z_t z; hdr.h.b = (bit<16>)(none.maxSizeInBits() + z.maxSizeInBits());",
                   DECLS=decls)
    assert run(text, bytes([1, 0, 0])) == bytes([1, 0, 8])
    rejected_at(build(LOCALS="@@h_t[-1] s;"), "Illegal array size: -1")


# -- serializable enums as bit<W> operands (p4c: enumCast, issue3056, issue3635) -----------------
ENUMS = "enum bit<8> E { one = 1, two = 2 }\nenum bit<4> N { a = 1, b = 2 }\nconst bit<8> c = N.a ++ N.b;"


@pytest.mark.parametrize("expr, value", [
    ("e + E.two", 3), ("E.one + E.two", 3), ("-e", 255), ("~e", 254), ("e << 3", 8), ("e & 3", 1),
    ("(bit<8>)(e[3:0] ++ N.b)", 0x12), ("(e < E.two ? 8w1 : 8w0)", 1), ("c", 0x12), ("(bit<8>)hdr.h.a[7:E.one]", 0),
    ("(bit<8>)((bit<4>)N.b ++ (bit<4>)N.a)", 0x21),
])
def test_serializable_enum_operands_are_their_bits(expr, value):
    text = ingress(f"E e = (E)hdr.h.a; hdr.h.a = {expr};", DECLS=ENUMS)
    assert run(text, bytes([1, 0, 0])) == bytes([value, 0, 0])


def test_plain_enum_operands_are_rejected():
    rejected_at(ingress("Q q = Q.x; hdr.h.a = @@-q;", DECLS="enum Q { x }"), "Cannot apply - to value q of type Q")
    rejected_at(ingress("Q q = Q.x; hdr.h.b = (bit<16>)(@@q ++ 8w1);", DECLS="enum Q { x }"),
                "q ++ 1: Concatenation not defined on Q and bit<8>")


# -- string concatenation (p4c: issue4932, spec-issue1297-string-cat) ---------------------------
def test_string_literals_concatenate():
    assert run(ingress('log_msg("a" ++ "b" ++ "c"); hdr.h.a = 7;'), bytes([1, 0, 0])) == bytes([7, 0, 0])
    rejected_at(ingress('hdr.h.b = @@"a" ++ 8w1;'), '"a" ++ 1: Concatenation not defined on string and bit<8>')


# -- `int` takes a value of any width (p4c: issue3283, extern-int-arg1) ---------------------------
TALLY = """#include <core.p4>
extern Tally { Tally(int size); void count(int idx); }
control c(inout bit<8> x) {
    Tally(8) t;
    action a(bit<8> v) { t.count(@@ARG); }
    table u { actions = { a; } }
    apply { u.apply(); }
}
control proto(inout bit<8> x);
package top(proto p);
top(c()) main;
"""


def test_int_parameter_takes_a_value_with_a_width():
    compiles(TALLY.replace("@@ARG", "v"))  # an action's data: a constant to the type checker
    compiles(TALLY.replace("@@ARG", "3"))
    rejected_at(TALLY.replace("@@ARG", "@@true"), "argument 'idx' of 'count' of type bool cannot be used as int")
    # a value known only at run time cannot be given to a directionless parameter
    rejected_at(TALLY.replace("@@ARG", "@@x"), "'t.count(x)'")


def test_constant_tuple_element_is_a_constant():
    decls = "const int a = {1w1, 1w0}[0];\nconst tuple<bit<4>, bit<4>> t = {4w3, 4w4};\nconst int b = t[1];"
    assert run(ingress("hdr.h.a = (bit<8>)(a + b);", DECLS=decls), bytes([0, 0, 0])) == bytes([5, 0, 0])
    rejected_at(ingress("tuple<bit<4>> v = {hdr.h.a[3:0]}; const int k = @@v[0];"),
                "the initializer of constant 'k' is not a compile-time constant")


# -- a generic extern's type arguments inferred from its constructor (p4c: methodArgs, issue2480,
# specIssue884) -----------------------------------------------------------------------------------
SOURCE = """#include <core.p4>
extern Source<T> { Source(T seed); T get(); }
extern Mixer<W> { Mixer(Source<_> src); W mix(); }
extern Box<T> { Box(); }
control c(inout bit<16> x) {
    @@DECL
    apply { @@APPLY }
}
control proto(inout bit<16> x);
package top(proto p);
top(c()) main;
"""


def source(decl: str, apply: str = "") -> str:
    return SOURCE.replace("@@DECL", decl).replace("@@APPLY", apply)


def test_extern_type_arguments_inferred_from_the_constructor():
    compiles(source("Source(16w7) s; Mixer<bit<8>>(src = Source(seed = 8w1)) m;", "x = s.get();"))
    rejected_at(source("Source(16w7) s;", "bit<8> y = @@s.get();"), "of type bit<16> cannot be used as bit<8>")
    rejected_at(source("Source(@@7) s;"), "could not infer a width")
    rejected_at(source("@@Box() b;"), "'Box' needs type arguments: Box<...>")
    rejected_at(source("Mixer<bit<8>>(src = @@x) m;"), "argument 'src' of constructor of 'Mixer'")


def test_empty_stack_runs_on_the_switch():
    """Extracting into an empty stack is StackOutOfBounds; emitting it emits nothing."""
    text = build(HEADERS="h_t h; h_t[0] s;", PARSER="pkt.extract(hdr.s.next);",
                 APPLY="sm.egress_spec = 2; if (sm.parser_error == error.StackOutOfBounds) { hdr.h.a = 0x55; }")
    text = text.replace("pkt.emit(hdr.h);", "pkt.emit(hdr.h); pkt.emit(hdr.s);")
    assert run(text, bytes([1, 2, 3, 4])) == bytes([0x55, 2, 3, 4])
