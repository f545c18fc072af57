"""P4-16 `list<T>` types and list expressions (p4c: list*.p4, list-compare), and equality of
constant tuples and structs: each compiles (and, where packets see it, runs on the switch),
and a close variant p4c rejects is rejected on p4c's line."""

import pytest

from fabriclab.errors import FabricError
from fabriclab.p4 import TargetError, compile_source
from fabriclab.switch.core import SwitchCore
from marked import rejected_at
from test_p4_features_syntax import run, v1model

# An extern taking a list of constants, as p4c's list*.p4 (another architecture: no switch).
EXTERN = """#include <core.p4>
typedef bit<32> prio_t;
struct S<T> { T t; }
extern E<K, V> {
    E(list<tuple<prio_t, tuple<K, K>, V>> data);
    void run();
}
extern F { F(list<list<S<bit<32>>>> data); }
control c() {
    @@E<bit<32>, bit<16>>((list<tuple<{PRIO}, tuple<bit<32>, bit<32>>, bit<16>>>)
        {{10, {2, 0xf}, 3}, {5, {0xdeadbeef, 0xff00ffff}, 5}}) e;
    F((list<list<S<bit<32>>>>){(list<S<bit<32>>>){{1}, {2}}, (list<S<bit<32>>>){}}) f;
    bit<32> list;  // `list` is a keyword that may name a declaration
    apply { e.run(); }
}
control C();
package top(C _c);
top(c()) main;
"""


def test_list_constructor_arguments_compile():
    compile_source(EXTERN.replace("{PRIO}", "prio_t").replace("@@", ""), "t.p4")
    compile_source(EXTERN.replace("{PRIO}", "bit<32>").replace("@@", ""), "t.p4")


def test_a_list_of_another_element_type_is_rejected():
    # p4c (list-error): list<bit<16>> does not match list<bit<32>>, on the instance's line
    rejected_at(EXTERN.replace("{PRIO}", "bit<16>"), "cannot be used as list<tuple<bit<32>")


def test_a_tuple_initializer_is_not_a_list():
    # p4c: a list type unifies only with a list type (implicit-cast-to-list-from-tuple-expr...)
    rejected_at(EXTERN.replace("@@", "").replace("{PRIO}", "prio_t").replace("(list<list<S<bit<32>>>>){", "@@{"),
                "cannot be used as list<")
    text = v1model("", "    tuple<bit<8>> t = @@(list<bit<8>>){1};")
    rejected_at(text, "of type list<bit<8>> cannot be used as tuple<bit<8>>")


def test_run_time_lists_are_unsupported_on_the_switch():
    text = v1model("", "        list<bit<8>> @@l = (list<bit<8>>){1, 2};")
    with pytest.raises(TargetError, match="unsupported: list<bit<8>> values at run time"):
        compile_source(text.replace("@@", ""), "t.p4")


COMPARE = """typedef tuple<bit<8>, bit<8>> pair;
struct S { bit<8> l; bit<8> r; }
const pair x = {10, 20};
const pair y = {30, 40};
const bool z = x == y;
const bool w = x != y;
"""
APPLY = """
        pair p = {hdr.h.a, hdr.h.b};
        S q = {hdr.h.c, hdr.h.d};
        hdr.h.a = (bit<8>)(bit<1>)(p == {4, 5});
        hdr.h.b = (bit<8>)(bit<1>)(q == {2, 3});
        hdr.h.c = (bit<8>)(bit<1>)z;
        hdr.h.d = (bit<8>)(bit<1>)w;
"""


def test_tuple_and_struct_equality_with_initializers_and_constants():
    text = v1model(COMPARE, APPLY)
    assert run(text, bytes([4, 5, 2, 3])) == bytes([1, 1, 0, 1])
    assert run(text, bytes([4, 6, 2, 4])) == bytes([0, 0, 0, 1])


def test_comparing_with_an_initializer_of_another_length_is_rejected():
    rejected_at(v1model(COMPARE, "        pair p = {1, 2};\n        bool b = p == @@{4, 5, 6};"),
                "list of 3 values used where tuple<bit<8>, bit<8>> is needed")


# -- a header stack initialized from a list (p4c: stack-init, header-stack-cast-init) ----------
STACK = "header g_t { bit<8> x; bit<8> y; }\nbit<8> one() { return 1; }"
READ = "\n        hdr.h.a = s[2].x; hdr.h.b = s[0].y; hdr.h.c = (bit<8>)(bit<1>)s[1].isValid(); hdr.h.d = s[0].x;"


@pytest.mark.parametrize("init", [
    "g_t[3] s = { {hdr.h.a, one()}, (g_t){#}, (g_t){hdr.h.c, 2} };",
    "g_t[3] s; s[1].setValid(); s = (g_t[3]){ {hdr.h.a, one()}, {#}, {hdr.h.c, 2} };",
])
def test_stack_initializer_sets_each_element(init):
    assert run(v1model(STACK, "        " + init + READ), bytes([4, 5, 6, 7])) == bytes([6, 1, 0, 4])


def test_stack_initializer_of_another_length_is_rejected():
    # p4c: implicit-cast-to-stack-from-tuple-expr-with-different-length
    rejected_at(v1model(STACK, "        g_t[3] s;\n        s = @@{ {1, 2}, {3, 4} };"),
                "Number of components 2 in initializer is different than stack size 3")


# -- arrays of structs (p4c: non_header_array_access_in_parser) ---------------------------------
ARRAYS = """#include <v1model.p4>
struct S { bit<8> f1; bit<8> f2; }
header h_t { S[2] array; }
header o_t { bit<8> a; bit<8> b; }
struct m_t { S[2] array; }
struct hs_t { h_t h; o_t o; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.h);
        pkt.extract(hdr.o);
        meta.array[1].f1 = hdr.h.array[0].f2;
        @@transition accept;
    }
}
control V(inout hs_t hdr, inout m_t meta) { apply { } }
control I(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        S[2] local = {{1, 2}, {3, 4}};
        S[2] copy = local;
        copy[0].f1 = 7;
        hdr.o.a = meta.array[1].f1 + local[0].f1 + copy[1].f2;
        hdr.o.b = hdr.h.array[1].f1;
        hdr.h.array[0].f1 = copy[0].f1;
    }
}
control E(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control C(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); pkt.emit(hdr.o); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_arrays_of_structs_in_headers_metadata_and_locals_run():
    core = SwitchCore(compile_source(ARRAYS.replace("@@", ""), "t.p4"))
    ((port, out),) = core.process(1, bytes([1, 2, 3, 4, 5, 6, 9]), 0)
    assert (port, out) == (2, bytes([7, 2, 3, 4, 2 + 1 + 4, 3, 9]))


def test_stack_members_are_for_header_stacks_only():
    # p4c: stack_e (`stack1.next` on an array of structs)
    rejected_at(ARRAYS.replace("@@transition", "S s = @@meta.array.next; transition"),
                "meta.array.next: 'next' can only be used on header stacks")


def test_a_non_constant_index_into_an_array_of_structs_in_a_header_is_unsupported():
    rejected_at(ARRAYS.replace("@@", "").replace("hdr.h.array[1].f1;", "hdr.h.array[@@hdr.o.a[0:0]].f1;"),
                "unsupported: a non-constant index into an array of structs in a header")


def test_non_constant_indexes_into_arrays_of_structs_outside_headers_run():
    decls = "struct S { bit<8> f1; bit<8> f2; }\nstruct T { S[3] s; }"
    text = v1model(decls, """
        S[3] arr = {{1, 2}, {3, 4}, {5, 6}};
        T t = {arr};
        arr[hdr.h.a].f1 = 9;
        t.s[hdr.h.b].f2 = 8;
        hdr.h.a = arr[1].f1; hdr.h.b = arr[hdr.h.c].f2; hdr.h.c = t.s[2].f2; hdr.h.d = arr[hdr.h.d].f1;""")
    assert run(text, bytes([1, 2, 0, 2])) == bytes([9, 2, 8, 5])
    assert run(text, bytes([7, 7, 0, 1])) == bytes([3, 2, 6, 3])  # out of range: no write


# -- a function call in the index of an inout argument in `actions` (p4c:
# inline-function-to-array-index-chained): evaluated when the action runs, copied in and out
CALLED = "struct S { bit<8> f1; bit<8> f2; }\nbit<1> pick(in bit<8> v) { return v[0:0]; }"
TABLE = """
    S[2] arr;
    action bump(inout bit<8> v, bit<8> by) { v = v + by; }
    table t {
        actions = { bump(@@arr[pick(hdr.h.d)].f1); }
        default_action = bump(arr[pick(hdr.h.d)].f1, 5);
    }"""
USE = """
        arr = {{hdr.h.a, 0}, {hdr.h.b, 0}};
        t.apply();
        hdr.h.a = arr[0].f1; hdr.h.b = arr[1].f1;"""


def test_call_in_an_inout_argument_of_a_listed_action_runs_with_the_action():
    text = v1model(CALLED, USE, TABLE.replace("@@", ""))
    assert run(text, bytes([10, 20, 0, 1])) == bytes([10, 25, 0, 1])
    assert run(text, bytes([10, 20, 0, 2])) == bytes([15, 20, 0, 2])


def test_call_in_an_inout_argument_of_an_action_that_returns_early_is_unsupported():
    table = TABLE.replace("{ v = v + by; }", "{ if (by == 0) { return; } v = v + by; }")
    rejected_at(v1model(CALLED, USE, table), "unsupported: a function call in the inout argument of 'bump")


NESTED = """#include <v1model.p4>
struct S { bit<8> f1; bit<8>[2] n; }
header h_t { S[2] arr; }
struct m_t { }
struct hs_t { h_t h; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout hs_t hdr, inout m_t meta) { apply { } }
control I(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        hdr.h.arr[0].n[1] = hdr.h.arr[1].n[0];
        hdr.h.arr[1].f1 = hdr.h.arr[0].f1 + 1;
    }
}
control E(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control C(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_an_array_of_bits_in_an_array_of_structs_in_a_header_runs():
    # p4c: array3 (`hdr.data.arr[0].nested_arr[1] = hdr.data.arr[2].nested_arr[3];`)
    ((port, out),) = SwitchCore(compile_source(NESTED, "t.p4")).process(1, bytes([1, 2, 3, 4, 5, 6, 9]), 0)
    assert (port, out) == (2, bytes([1, 2, 5, 2, 5, 6, 9]))


def test_assigning_a_whole_struct_of_an_array_in_a_header_writes_its_bits():
    text = ARRAYS.replace("@@", "").replace("hdr.h.array[0].f1 = copy[0].f1;", "hdr.h.array[1] = copy[0];")
    ((port, out),) = SwitchCore(compile_source(text, "t.p4")).process(1, bytes([1, 2, 3, 4, 5, 6, 9]), 0)
    assert (port, out) == (2, bytes([1, 2, 7, 2, 2 + 1 + 4, 3, 9]))


# -- a struct held in a header, written whole (p4c: issue1670-bmv2, structure-valued-expr-ok-1-bmv2)
STRUCT_FIELD = """#include <v1model.p4>
struct in_t { bit<4> a; bool b; bit<3> c; }
struct s_t { bit<8> x; in_t n; }
struct e_t { }
header h_t { s_t s; e_t e; bit<8> tail; }
struct m_t { s_t saved; }
struct hs_t { h_t h; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout hs_t hdr, inout m_t meta) { apply { } }
control I(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        meta.saved = hdr.h.s;
        meta.saved.x = meta.saved.x + 1;
        if (hdr.h.tail == 1) {
            hdr.h.s = meta.saved;                         // a struct variable
        } else if (hdr.h.tail == 2) {
            hdr.h.s = { 0xAB, { 5, true, 2 } };           // a list
        } else if (hdr.h.tail == 3) {
            hdr.h.s.n = { c = 7, a = 1, b = false };      // a nested struct, by names
        }
        hdr.h.e = {};
    }
}
control E(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control C(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("tail, out", [
    (1, [0x11, 0x9E]),                  # x + 1; n as it came: a=9, b=1, c=6
    (2, [0xAB, 0b0101_1_010]),
    (3, [0x10, 0b0001_0_111]),
    (4, [0x10, 0x9E]),
])
def test_a_struct_in_a_header_written_whole_writes_its_fields_bits(tail, out):
    core = SwitchCore(compile_source(STRUCT_FIELD, "t.p4"))
    ((port, data),) = core.process(1, bytes([0x10, 0x9E, tail, 0xEE]), 0)
    assert (port, data) == (2, bytes([*out, tail, 0xEE]))


# -- arrays of arrays (p4c: array5): `T[2][3]` is 3 of T[2]; the switch refuses to run them ----
MATRIX = """#include <core.p4>
header d_t { bit<8>[2][3] m; bit<8> i; }
struct hs { d_t d; }
control c(inout hs h) {
    apply { h.d.m[2][1] = h.d.m[h.d.i][0] + h.d.m[@@{ROW}][1]; }
}
control proto(inout hs h);
package top(proto p);
top(c()) main;
"""


def test_arrays_of_arrays_compile():
    compile_source(MATRIX.replace("@@{ROW}", "1"), "t.p4")


def test_an_index_into_an_array_of_arrays_is_checked_against_the_outer_size():
    rejected_at(MATRIX.replace("{ROW}", "3"), "index 3 is out of bounds for a stack of size 3")
