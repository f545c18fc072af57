"""Syntax and names p4c's front end accepts where fabriclab used to stop (its positive corpus:
shadow3, shadow-after-use, shadow1, pr1363, issue3274(-2), bitexpr1, issue4775-2, factory2,
hashext, spec-issue1068, externArray1, generic-extern-inference, default-initializer,
issue1334): each runs in a small v1model program on the switch where the switch can run it
(else it is refused as unsupported, or compiled for another architecture), and a close
variant p4c rejects is rejected at the line p4c names."""

from marked import build, compiles, rejected_at

from fabriclab.switch.core import SwitchCore

FRAME = bytes([1, 0, 0]) + b"xyz"


def run(**slots: str) -> bytes:
    """The program's output on port 2 for FRAME (h.a = 1, h.b = 0)."""
    core = SwitchCore(compiles(build(**slots)))
    [(port, out)] = core.process(1, FRAME, 0)
    assert port == 2
    return out


# -- shadowing: a warning where p4c warns, an error where p4c errors ---------------------------
def test_control_local_shadowing_a_parameter_is_a_warning_and_hides_it_from_then_on():
    # the action before the local reads the parameter `meta`; the apply block, the local
    slots = {"LOCALS": "action a() { hdr.h.a = meta.x; }\n bit<16> meta = 0x1234;\n"
                       "table t { actions = { a; } default_action = a(); }",
             "APPLY": "sm.egress_spec = 2; t.apply(); hdr.h.b = meta;", "PARSER": "meta.x = 9;"}
    assert run(**slots) == bytes([9, 0x12, 0x34]) + b"xyz"
    [warning] = [w for w in compiles(build(**slots)).warnings if "shadows" in w.message]
    assert warning.message == "'meta' shadows 'meta'"


def test_table_named_like_a_control_parameter_is_accepted():
    compiles(build(LOCALS="table hdr { actions = { NoAction; } }", APPLY="hdr.apply();"))


def test_block_local_shadowing_a_parameter_is_still_an_error():
    rejected_at(build(APPLY="bit<8> @@meta = 1;"), "declaration of 'meta' shadows a parameter 'meta'")


def test_local_variable_named_like_an_extern_type_is_a_value_in_its_block():
    out = run(DECLS="extern widget { widget(); }",
              APPLY="sm.egress_spec = 2; bit<8> widget; widget = 7; hdr.h.a = widget;")
    assert out[0] == 7


def test_type_named_like_a_local_is_a_type_again_after_its_block():
    compiles(build(DECLS="typedef bit<8> byte_t;",
                   APPLY="sm.egress_spec = 2; if (true) { bit<8> byte_t = 1; hdr.h.a = byte_t; } "
                         "byte_t b = 2; hdr.h.a = hdr.h.a + b;"))


def test_struct_field_named_like_a_type_does_not_hide_it():
    compiles(build(DECLS="typedef bit<8> byte_t; struct s_t { byte_t byte_t; byte_t other; }"))


# -- a table property named like a type --------------------------------------------------------
def test_table_property_named_like_a_type_without_v1model_externs():
    compiles("#include <core.p4>\ntypedef bit implementation;\nextern Profile { Profile(bit<32> size); }\n"
             "control c() { table t { actions = { NoAction; } implementation = Profile(32); } apply { } }\n")


def test_v1model_table_implementation_must_still_be_an_action_profile():
    rejected_at(build(LOCALS="counter(4, CounterType.packets) c;\n"
                             "table t { actions = { NoAction; } implementation = @@c; }", APPLY="t.apply();"),
                "table property 'implementation' must be action_profile or action_selector")


# -- `name = _`: a named don't-care argument ---------------------------------------------------
NAMED_DONTCARE = {"DECLS": "void g(in bit<8> a, out bit<8> b) { b = a; }",
                  "LOCALS": "action s(in bit<8> a, out bit<8> b) { b = a; hdr.h.a = a + 1; }"}


def test_named_dontcare_argument_to_an_out_parameter():
    out = run(**NAMED_DONTCARE, APPLY="sm.egress_spec = 2; s(b = _, a = hdr.h.a); g(a = 1, b = _);")
    assert out[0] == 2


def test_named_dontcare_argument_to_an_in_parameter_is_rejected():
    rejected_at(build(**NAMED_DONTCARE, APPLY="@@s(b = _, a = _);"), "'_' can only be passed to an out parameter")


def test_function_argument_named_twice_is_rejected():
    rejected_at(build(**NAMED_DONTCARE, APPLY="g(a = 1, @@a = _);"), "parameter 'a' is given twice")


# -- widths: any expression without '>' (p4c's nonGrtExpression; bitexpr1) ----------------------
WIDTHS = {"DECLS": "const bit<8> W = 4;\nT id<T>(in T v) { return v; }"}


def test_width_is_an_expression_without_greater_than():
    out = run(**WIDTHS, APPLY="sm.egress_spec = 2; bit<W < 8 ? W : 16> low = hdr.h.a[3:0] + 0xF;\n"
                              "bit<W ^ 12> a = id<bit<W ^ 12>>(8w0x20); hdr.h.a = a + (bit<8>)low;")
    assert out[0] == 0x20


def test_width_with_greater_than_outside_parentheses_is_a_syntax_error():
    rejected_at(build(**WIDTHS, APPLY="bit<W @@> 3 ? 8 : 4> v = 0;"), "syntax error")


# -- overloads told apart by the names of the arguments (issue4775-2, issue1334) ----------------
OVERLOADS = {"DECLS": "bit<8> pick(in bit<8> a, in bit<8> b) { return a; }\n"
                      "bit<8> pick(in bit<8> c, in bit<8> d) { return d; }\n"
                      "extern void mark(in bit<8> a);\nextern void mark(in bit<16> b);"}


def test_function_overloads_with_as_many_parameters_are_told_apart_by_argument_names():
    out = run(**OVERLOADS, APPLY="sm.egress_spec = 2; hdr.h.a = pick(b = 5, a = 6) + pick(c = 1, d = 0x10);")
    assert out[0] == 0x16


def test_function_call_matching_no_overload_by_names_is_rejected():
    rejected_at(build(**OVERLOADS, APPLY="hdr.h.a = @@pick(a = 5, d = 6);"), "no overload of function 'pick'")


def test_extern_function_overloads_with_the_same_parameter_names_are_duplicates():
    rejected_at(build(DECLS="extern void mark(in bit<8> a);\n@@extern void mark(in bit<16> a);"),
                "duplicate declaration of 'mark'")


# -- an extern function whose return type uses its own type parameters (factory2, hashext) -----
FACTORY = """#include <core.p4>
extern widget<T> { T get(); }
extern widget<T> make_widget<T, U>(U a, T b);
parser P();
parser p1()(widget<bit<W>> w) { state start { transition accept; } }
package top(P p);
@@top(p1(make_widget(16w0, 8w0))) main;
"""


def test_return_type_of_an_extern_function_may_use_its_type_parameters():
    compiles(FACTORY.replace("<W>", "<8>"))


def test_return_type_so_inferred_must_fit_the_parameter():
    rejected_at(FACTORY.replace("<W>", "<16>"), "of type widget<bit<8>> cannot be used as widget<bit<16>>")


def test_object_an_extern_function_returns_is_typed_but_simple_switch_has_no_such_extern():
    decls = "extern hash_fn<O, T> { O hash(in T data); }\nextern hash_fn<O, T> crc_poly<O, T>(O poly);"
    rejected_at(build(DECLS=decls, APPLY="hdr.h.b = crc_poly<bit<16>, h_t>(16w0x801a).hash(@@hdr.h.a);"),
                "cannot be used as h_t")
    rejected_at(build(DECLS=decls, APPLY="hdr.h.b = @@crc_poly<bit<16>, h_t>(16w0x801a).hash(hdr.h);"),
                "unknown extern function")


# -- `Ctl<T>.apply(...)`: a direct apply of a generic control or parser (spec-issue1068) ---------
ADD = {"DECLS": "control Add<T>(inout T v) { apply { v = v + 1; } }"}


def test_direct_apply_of_a_generic_control_with_type_arguments():
    out = run(**ADD, APPLY="sm.egress_spec = 2; Add<bit<8>>.apply(hdr.h.a); Add<bit<16>>.apply(hdr.h.b);\n"
                           "Add<bit<8>>.apply(hdr.h.a);")
    assert out[:3] == bytes([3, 0, 1])


def test_direct_apply_with_type_arguments_binds_its_arguments_as_the_types_say():
    rejected_at(build(**ADD, APPLY="Add<bit<16>>.apply(@@hdr.h.a);"), "cannot be used as bit<16>")
    rejected_at(build(**ADD, APPLY="@@Add<bit<8>, bit<8>>.apply(hdr.h.a);"), "'Add' takes 1 type arguments, got 2")


# -- arrays of extern instances and inferred extern type arguments (externArray1, -------------
# -- generic-extern-inference): typed as p4c types them; simple_switch runs neither array ------
OTHER_ARCH = """#include <core.p4>
extern box<T> { box(T init); T read(); void write(in T value); }
control c(inout bit<32> v, inout bit<8> i) {
    {LOCALS}
    apply { {APPLY} }
}
control ct(inout bit<32> v, inout bit<8> i);
package top(ct c);
top(c()) main;
"""


def other_arch(locals_: str, apply: str) -> str:
    return OTHER_ARCH.replace("{LOCALS}", locals_).replace("{APPLY}", apply)


def test_array_of_instances_indexed_by_a_run_time_value():
    compiles(other_arch("box<bit<32>>(0) data[16];", "data[i].write(v); v = data[i + 1].read();"))


def test_array_of_instances_elements_are_typed():
    rejected_at(other_arch("box<bit<32>>(0) data[16];", "data[i].write(@@i);"), "cannot be used as bit<32>")
    rejected_at(other_arch("box<bit<32>>(0) data[@@0];", ""), "data: an array of instances needs a positive size")


def test_type_arguments_of_a_generic_extern_inferred_from_its_constructor():
    compiles(other_arch("box(32w7) b; box(8w1) bytes[2];", "v = b.read(); i = bytes[1].read();"))
    rejected_at(other_arch("box(8w7) b;", "v = @@b.read();"), "cannot be used as bit<32>")
    rejected_at(other_arch("box(7) @@b;", ""), "could not infer a width")


def test_v1model_array_of_extern_instances_is_unsupported():
    rejected_at(build(LOCALS="register<bit<8>>(4) @@regs[2];", APPLY="regs[1].write(0, hdr.h.a);"),
                "unsupported: regs: arrays of extern instances are not supported on this target")
    rejected_at(build(DECLS="counter(4, CounterType.packets) @@cs[2];"), "unsupported: cs: arrays of extern")


# -- `...`: default values (default-initializer) -----------------------------------------------
DEFAULTS = {"DECLS": "enum E { A, B }\nenum bit<8> Z { P = 1, Q = 2 }\nheader v_t { bit<8> a; varbit<8> v; }\n"
                     "struct s_t { bit<8> x; bool y; h_t h; E e; Z z; error r; }"}


def run_defaults(apply: str) -> bytes:
    return run(**DEFAULTS, APPLY="sm.egress_spec = 2; " + apply)[:3]


def test_dots_alone_is_the_default_value_of_the_type_the_context_needs():
    assert run_defaults("bit<8> v = 7; v = ...; hdr.h.a = v + 1;") == bytes([1, 0, 0])
    assert run_defaults("h_t h0 = ...; if (!h0.isValid()) { hdr.h.a = 0x11; }") == bytes([0x11, 0, 0])
    assert run_defaults("s_t s = ...; if (s.x == 0 && !s.y && !s.h.isValid() && s.e == E.A && s.z == (Z)0 "
                        "&& s.r == error.NoError) { hdr.h.a = 2; }") == bytes([2, 0, 0])


def test_dots_last_in_a_list_or_struct_expression_stands_for_the_fields_not_given():
    assert run_defaults("h_t h2 = { 5, ... }; hdr.h = h2;") == bytes([5, 0, 0])  # a valid header
    assert run_defaults("h_t h2 = { b = 9, ... }; hdr.h = h2;") == bytes([0, 0, 9])
    assert run_defaults("s_t s = (s_t){ 4, true, ... }; hdr.h.a = s.x;\n"
                        "if (s.y && s.e == E.A) { hdr.h.b = 2; }") == bytes([4, 0, 2])


def test_dots_as_a_default_action_argument():
    out = run(LOCALS="action a(bit<8> v) { hdr.h.a = v + 3; }\n"
                     "table t { actions = { a; } default_action = a(...); }", APPLY="sm.egress_spec = 2; t.apply();")
    assert out[0] == 3


def test_dots_must_be_the_last_element():
    rejected_at(build(APPLY="h_t h2 = { 5, @@..., 1 };"), "... must be the last element")
    # a select's keys too, found before any type (p4c: expr-select-with-expression-list-and-...)
    rejected_at(build(PARSER="transition select(meta.x, @@..., meta.x) { default: accept; } } state s2 {"),
                "... must be the last element")


def test_dots_do_not_make_room_for_more_values():
    rejected_at(build(APPLY="h_t h2 = @@{ 5, 6, 7, ... };"), "'h_t' has 2 fields, the initializer has 3")


def test_varbit_has_no_default_value():
    rejected_at(build(**DEFAULTS, APPLY="v_t v = { 1, @@... };"), "...: could not find default value\n(no default value for type varbit<8>)")


def test_dots_fill_a_header_stack_with_invalid_headers():
    assert run_defaults("h_t[2] st = ...; hdr.h.a = st[0].isValid() ? 8w1 : 8w2;") == bytes([2, 0, 0])
    assert run_defaults("h_t[2] st; st = { hdr.h, ... };\n"
                        "hdr.h.b = (st[0].isValid() ? 16w1 : 0) + (st[1].isValid() ? 16w2 : 0);") == bytes([1, 0, 1])
    rejected_at(build(APPLY="h_t[2] st = @@{ hdr.h, hdr.h, hdr.h, ... };"),
                "Number of components 3 in initializer is different than stack size 2")


def test_other_architectures_may_give_a_header_stack_as_a_list():
    compiles(other_arch("", "bit<32>[2] a = { 1, ... }; v = a[1]; bit<32>[2] b = ...;"))


# -- parsers, controls and packages overloaded by their constructors (issue1334, issue3379) -----
BLOCK_OVERLOADS = {"DECLS": "control Add(inout bit<8> v)(bit<8> a) { apply { v = v + a; } }\n"
                            "control Add(inout bit<8> v) { apply { v = v - 1; } }"}


def test_instantiation_picks_the_control_its_arguments_fit():
    out = run(**BLOCK_OVERLOADS, LOCALS="Add() minus;", APPLY="sm.egress_spec = 2; minus.apply(hdr.h.a);")
    assert out[0] == 0


def test_instantiation_fitting_no_overload_or_several_is_rejected():
    rejected_at(build(**BLOCK_OVERLOADS, LOCALS="Add(c = 5) @@plus;"), "Add: no matching declaration")
    twice = "control Twice(inout bit<8> v)(bit<8> a) { apply { } }\n"
    rejected_at(build(DECLS=twice + twice, LOCALS="Twice(5) @@t;"), "Twice: multiple matching declarations")


def test_package_overloaded_by_its_parameters():
    compiles(other_arch("", "").replace("package top(ct c);", "package top(ct c);\npackage top(ct c1, ct c2);")
             .replace("top(c()) main;", "top(c = c()) main;"))


def test_an_action_is_not_overloaded():
    rejected_at(build(DECLS="action a() { }\n@@action a(bit<8> x) { }"), "a duplicates a.")
