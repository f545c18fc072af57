"""Compile-time constants of p4c's positive corpus (cast_noop, constStruct, enum-folding,
issue3178, struct, struct1, tuple3): a member or element of a constant struct or tuple, a
cast of a constant to its own type or of a serializable enum member, and `==` on enum
members fold to constants, and the values reach the packets; close variants are rejected."""

from fabriclab.switch.core import SwitchCore
from tests.unit.p4.marked import build, compiles, rejected_at


def run(text: str, data: bytes) -> bytes:
    """The packet `text` sends out for `data` (ingress sets the egress port to 2)."""
    ((port, out),) = SwitchCore(compiles(text)).process(1, data, 0)
    assert port == 2
    return out


CONSTS = """
struct T { bit<8> lo; bit<8> hi; }
struct S { T t; bit<16> w; }
enum E { p, q }
enum bit<4> F { one = 1, two = 2 }
const T t = { 3, 4 };
const S s = { t, 0x1234 };
const tuple<bit<8>, bit<16>> tup = { 7, 0xabcd };
const bit<8> lo = s.t.lo;
const T t2 = s.t;
const bit<16> w = (bit<16>)s.w;
const bit<16> second = tup[1];
const bool same = E.p == E.q;
const bool other = (bool)(bool)true;
const bit<8> f = (bit<8>)(bit<4>)F.two;
"""


def test_members_and_elements_of_constants_fold():
    text = build(DECLS=CONSTS + "const bit<8> a = lo + t2.hi + f;\nconst bit<16> b = second ^ w;",
                 APPLY="sm.egress_spec = 2; hdr.h.a = same || !other ? 8w0 : a + s.t.hi; hdr.h.b = b + tup[1];")
    # a = 3 + 4 + 2 = 9, plus s.t.hi 4; b = (0xabcd ^ 0x1234) + 0xabcd
    assert run(text, bytes(3)) == bytes([13]) + ((0xabcd ^ 0x1234) + 0xabcd & 0xffff).to_bytes(2, "big")


def test_a_member_of_a_variable_is_not_a_constant():
    rejected_at(build(DECLS="struct T { bit<8> lo; }",
                      LOCALS="T v = { 1 };\n@@const bit<8> z = v.lo;"),
                "the initializer of constant 'z' is not a compile-time constant")


def test_an_element_beyond_a_constant_tuple_is_rejected():
    rejected_at(build(DECLS="const tuple<bit<8>, bit<8>> tup = { 1, 2 };\n@@const bit<8> z = tup[2];"),
                "Tuple index 2 larger than tuple size 2")


def test_members_of_different_enums_are_not_compared():
    rejected_at(build(DECLS="enum E { p }\nenum G { p }\n@@const bool z = E.p == G.p;"),
                "'E.p' with type 'E' cannot be compared to 'G.p' with type 'G'")  # (p4c's words)


# -- a table size given by a constructor parameter (p4c: issue3884, pipe) ----------------------
SIZED = """
control Sized(inout bit<8> v)(bit<32> size_) {
    action set(bit<8> x) { v = x; }
    table t { key = { v : exact; } actions = { set; NoAction; } size = @SIZE@; }
    apply { t.apply(); }
}
control Twice(inout bit<8> v)(int n) {
    Sized(n) inner;
    apply { inner.apply(v); }
}
"""


def test_a_table_size_from_a_constructor_argument_is_each_instance_s():
    text = build(DECLS=SIZED.replace("@SIZE@", "size_ * 2"),
                 LOCALS="Sized(32w100) small; Twice(300) big;",
                 APPLY="small.apply(hdr.h.a); big.apply(hdr.h.a);")
    sizes = {t.preamble.name: t.size for t in compiles(text).p4info.tables}
    assert sizes == {"C.small.t": 200, "C.big.inner.t": 600}


def test_a_table_size_from_a_control_parameter_is_rejected():
    rejected_at(build(DECLS=SIZED.replace("@SIZE@", "(bit<32>)v").replace("table t", "@@table t"),
                      LOCALS="Sized(32w100) small;", APPLY="small.apply(hdr.h.a);"),
                "size must be a constant numeric expression")


# -- `e[lo +: w]` with lo known only at run time (p4c: slice1, forloop5a, tuple5, tuple5a) -----
def test_a_slice_at_a_run_time_index_reads_the_bits_there():
    text = build(LOCALS="int<16> s;",
                 APPLY="sm.egress_spec = 2; s = (int<16>)hdr.h.b; bit<8> i = hdr.h.a;"
                       "hdr.h.a = hdr.h.b[i +: 8]; hdr.h.b = s[i +: 4] ++ s[i + 4 +: 12];")
    # i = 4, b = 0x8234: a = 0x23; b = s[7:4] ++ s[19:8] (bits above b read 0): 0x3 ++ 0x082
    assert run(text, bytes([4, 0x82, 0x34])) == bytes([0x23, 0x30, 0x82])
    # i = 12: a = b's top nibble (the bits above it read 0), b = 0x8 ++ 0x000
    assert run(text, bytes([12, 0x82, 0x34])) == bytes([0x08, 0x80, 0x00])


def test_a_run_time_slice_width_is_rejected():
    rejected_at(build(APPLY="\n@@hdr.h.a = hdr.h.b[hdr.h.a +: hdr.h.a];"),
                "a slice width must be a compile-time constant")


def test_writing_a_slice_at_a_run_time_index_is_unsupported():
    rejected_at(build(APPLY="\n@@hdr.h.b[hdr.h.a +: 8] = 1;"), "unsupported: assignment to")


# -- `==` of a struct or tuple with an initializer (p4c: tuple4, issue3057-2) -----------------
def test_an_initializer_compared_with_a_struct_or_tuple_takes_its_type():
    text = build(DECLS="struct S { bit<8> a; bit<16> b; }",
                 LOCALS="S s; tuple<bit<8>, bit<16>> t;",
                 APPLY="sm.egress_spec = 2; s = { hdr.h.a, hdr.h.b }; t = { hdr.h.a, hdr.h.b };"
                       "hdr.h.a = 0;"
                       "if (s == { a = 1, b = 2 }) { hdr.h.a = hdr.h.a | 1; }"
                       "if ({ 1, 2 } == t) { hdr.h.a = hdr.h.a | 2; }"
                       "if ((S){ a = 1, b = 2 } != { a = 1, b = 3 }) { hdr.h.a = hdr.h.a | 4; }")
    assert run(text, bytes([1, 0, 2])) == bytes([7, 0, 2])
    assert run(text, bytes([1, 0, 3])) == bytes([4, 0, 3])


def test_an_initializer_without_the_struct_s_fields_is_not_compared():
    rejected_at(build(DECLS="struct S { bit<8> a; bit<16> b; }", LOCALS="S s;",
                      APPLY="\n@@if (s == { a = 1, c = 2 }) { }"), "initializer for 'S'")


# -- a list among the select keys, matched element-wise (p4c: nested_select) -------------------
NESTED = """#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
struct hs_t { h_t h; }
struct m_t { }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.h);
        transition select(hdr.h.a, { hdr.h.b[15:8], hdr.h.b[7:0] }) {
@@          @CASES@
        }
    }
    state both { hdr.h.a = 0x11; transition accept; }
    state low { hdr.h.a = 0x22; transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { sm.egress_spec = 2; } }
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
"""


def test_a_list_select_key_is_matched_element_wise():
    text = NESTED.replace("@CASES@", "(1, { 2, 3 }): both; (2, default): low; (_, default): accept;")
    assert run(text, bytes([1, 2, 3])) == bytes([0x11, 2, 3])
    assert run(text, bytes([1, 2, 4])) == bytes([1, 2, 4])
    assert run(text, bytes([2, 9, 4])) == bytes([0x22, 9, 4])


def test_a_case_value_for_a_list_key_needs_as_many_values():
    rejected_at(NESTED.replace("@CASES@", "(1, { 2, 3, 4 }): both; default: accept;"),
                "does not match the key")
    rejected_at(NESTED.replace("@CASES@", "(1, 2, 3): both; default: accept;"), "3 values for 2 keys")


# -- a select case reading a local the state never writes after its constant initializer
# (p4c: select-struct; p4c-bm2-ss's mid end propagates the constant) -------------------------
def test_a_case_may_read_an_unwritten_local_of_the_state():
    text = NESTED.replace("struct m_t { }", "struct m_t { }\nstruct S { bit<8> f0; tuple<bit<8>> f1; }") \
        .replace("pkt.extract(hdr.h);", "pkt.extract(hdr.h); S s = { 2, { 3 } }; bit<8> v = 1;") \
        .replace("@CASES@", "(v, { s.f0, s.f1[0] }): both; (_, default): accept;")
    assert run(text, bytes([1, 2, 3])) == bytes([0x11, 2, 3])
    assert run(text, bytes([1, 2, 4])) == bytes([1, 2, 4])


def test_a_case_may_not_read_a_local_the_state_writes():
    rejected_at(NESTED.replace("pkt.extract(hdr.h);", "pkt.extract(hdr.h); bit<8> v = 2; v = hdr.h.a;")
                .replace("@CASES@", "(1, { v, 3 }): both; (_, default): accept;"),
                "select case 'v' is not a compile-time constant")
