"""Programs of p4c's positive corpus that its front end accepts (issue4775,
issue5211_simplify_parsers_dup_state_local_var_decl, gauntlet_infinite_loop, ...): each
feature in a small v1model program that runs on the switch, and where fabriclab checks a
rule, a close variant that is rejected at the line p4c names."""

from fabriclab.switch.core import SwitchCore

from tests.unit.p4.marked import build, compiles, rejected_at


def run(frame: bytes, **slots: str) -> bytes:
    """The frame out of port 2 of the program `build(**slots)` (its ingress sets the port)."""
    slots["APPLY"] = slots.get("APPLY", "") + " sm.egress_spec = 2;"
    [(port, out)] = SwitchCore(compiles(build(**slots))).process(1, frame, 0)
    assert port == 2
    return out


# -- functions overload one another by their number of arguments (p4c: issue4775) ------------
OVERLOADS = """
bit<8> f(in bit<8> x) { return x + 1; }
bit<8> f(in bit<8> x, in bit<8> y) { return x + y; }
"""


def test_a_call_picks_the_function_overload_its_arguments_fit():
    out = run(bytes([10, 0, 0]), DECLS=OVERLOADS,
              APPLY="hdr.h.b = (bit<16>)f(hdr.h.a, 8w5); hdr.h.a = f(hdr.h.a);")
    assert out == bytes([11, 0, 15])


def test_a_call_that_fits_no_overload_is_rejected():
    rejected_at(build(DECLS=OVERLOADS, APPLY="@@hdr.h.a = f(hdr.h.a, 8w1, 8w2);"),
                "no overload of function 'f' takes 3 arguments")


def test_a_call_two_function_overloads_fit_is_ambiguous():
    twice = OVERLOADS + "bit<8> f(in bit<8> y) { return y; }"
    rejected_at(build(DECLS=twice, APPLY="@@hdr.h.a = f(hdr.h.a);"), "f: multiple matching declarations")


# -- a parser's parameter hides a type of its name in the parser (p4c's lexer declares it) ----
SHADOWING_PARSER = """
parser Sub(packet_in pkt, out h_t h_t) {
    state start { pkt.extract(h_t); h_t.a = h_t.a + 1; transition accept; }
}
"""


def test_a_parser_parameter_named_like_a_type_is_a_value_in_its_body():
    out = run(bytes([1, 0, 0, 7, 0, 0]), HEADERS="h_t h; h_t h2;", DECLS=SHADOWING_PARSER,
              PARSER_LOCALS="Sub() sub;", PARSER="sub.apply(pkt, hdr.h2);",
              LOCALS="h_t copy;", APPLY="copy = hdr.h2; hdr.h.a = copy.a;")
    assert out == bytes([8, 0, 0])


# -- an enum member's value may name the members before it (p4c: issue3616) -------------------
def test_an_enum_member_value_names_an_earlier_member():
    out = run(bytes([0, 0, 0]), DECLS="enum bit<8> E { a = 5, b = (bit<8>)a + 1, c = b }",
              APPLY="hdr.h.a = (bit<8>)E.c;")
    assert out == bytes([6, 0, 0])


def test_an_enum_member_value_cannot_name_a_later_member():
    rejected_at(build(DECLS="enum bit<8> E { a = @@b, b = 1 }"), "b: declaration not found")


# -- package arguments (p4c: package, default-control-argument, unused) -----------------------
PACKAGE = """control proto<T>(inout T v, in bit<8> extra = 0);
package top(PROTO _c, bool flag);
control c(inout bit<8> v) { apply { v = 1; } }
@@top(c(), FLAG) main;
"""


def package(proto: str = "proto<bit<8>>", flag: str = "true") -> str:
    return PACKAGE.replace("PROTO", proto).replace("FLAG", flag)


def test_a_package_takes_a_constant_for_a_value_parameter():
    compiles(package())


def test_a_package_value_argument_has_the_parameter_type():
    rejected_at(package(flag="8w1"), "argument 'flag' of package 'top' of type bit<8> cannot be used as bool")


def test_a_block_may_leave_out_prototype_parameters_with_a_default_value():
    compiles(package())
    rejected_at(package().replace("in bit<8> extra = 0", "in bit<8> extra"), "'c' has 1 parameters, 'proto' needs 2")


def test_a_dont_care_type_argument_of_a_package_parameter_takes_any_type():
    compiles(package(proto="proto<_>"))
    rejected_at(package(proto="proto<bit<16>>"), "parameter 'v' of 'c' is inout bit<8> but 'proto' needs inout bit<16>")


# -- an extern constructor parameter `E<_, _>` takes any E (p4c: issue3417) ---------------------
REGISTERS = """extern Reg<T, I> { Reg(bit<32> size); }
extern RegAction<T> { RegAction(Reg<T, _> reg); }
control c() {
    Reg<bit<16>, bit<8>>(32) reg;
    @@RegAction<WIDTH>(reg) act;
    apply { }
}
control proto();
package top(proto _c);
top(c()) main;
"""


def test_a_dont_care_type_argument_of_a_constructor_parameter_takes_any_type():
    compiles(REGISTERS.replace("WIDTH", "bit<16>"))
    rejected_at(REGISTERS.replace("WIDTH", "bit<32>"), "of type Reg<bit<16>, bit<8>> cannot be used as Reg<bit<32>, bit<8>>")


# -- table properties of a program's own architecture (p4c: spec-ex25, invalid_header_default_action_arg) --
OWN_ARCH_TABLE = """extern profile { profile(); }
header h_t { bit<8> f; }
control c() {
    action a(h_t h) { }
    table t {
        actions = { a; }
        default_action = a((h_t){#});
        implementation = profile();
    }
    apply { t.apply(); }
}
control proto();
package top(proto _c);
top(c()) main;
"""


def test_a_program_extern_implements_a_table_and_an_invalid_header_is_a_constant_argument():
    compiles(OWN_ARCH_TABLE)


def test_simple_switch_has_no_table_implementation_of_a_program_extern():
    rejected_at(build(DECLS="extern profile { profile(); }",
                      LOCALS="action a() { } table t { actions = { a; } @@implementation = profile(); }",
                      APPLY="t.apply();"), "profile: unknown extern instance")


def test_a_table_implementation_is_still_an_extern_instance():
    rejected_at(build(DECLS="const bit<8> profile = 1;",
                      LOCALS="action a() { } table t { actions = { a; } implementation = @@profile; }",
                      APPLY="t.apply();"), "table property 'implementation' must be action_profile or action_selector")


def test_simple_switch_has_no_invalid_header_action_data():
    rejected_at(build(LOCALS="action a(h_t h) { } table t { actions = { a; } default_action = a((h_t)@@{#}); }",
                      APPLY="t.apply();"), "unsupported: {#}: an invalid header as an action argument")


# -- packages overload one another by their number of parameters (p4c: issue3379) --------------
OVERLOADED_PACKAGES = """control proto();
control c() { apply { } }
package pkg(proto c1);
@@package pkg(proto c1, proto SECOND);
pkg(ARGS) main;
"""


def packages(args: str = "c(), c()", second: str = "c2") -> str:
    return OVERLOADED_PACKAGES.replace("ARGS", args).replace("SECOND", second)


def test_an_instantiation_picks_the_package_overload_its_arguments_fit():
    assert len(compiles(packages()).program.main.type.params) == 2
    assert len(compiles(packages("c()")).program.main.type.params) == 1


def test_package_overloads_differ_in_their_number_of_parameters():
    rejected_at(packages().replace("proto c1, proto c2", "proto c2"), "duplicate declaration of 'pkg'")


def test_an_instantiation_no_package_overload_fits_is_rejected():
    text = packages("c(), c(), c()").replace("@@", "").replace("pkg(c(), c(), c())", "@@pkg(c(), c(), c())")
    rejected_at(text, "pkg: no package declarations take these 3 arguments")


# -- a call in an out/inout argument bound in a table's actions (p4c: inline-function-to-array-index) --
PICK = "bit<1> pick(in bit<8> v) { return v == 0 ? 1w0 : 1w1; }"
BOUND = """action a(inout h_t x) { hdr.h.b = (bit<16>)x.a; x.a = x.a + 1; }
table t { actions = { a(hdr.arr[@@CALL]); } default_action = a(hdr.arr[CALL]); }"""


def test_a_call_in_an_inout_argument_bound_in_actions_picks_the_element_when_the_action_runs():
    out = run(bytes([1, 0, 0, 10, 0, 0, 20, 0, 0]), HEADERS="h_t h; h_t[2] arr;", DECLS=PICK,
              PARSER="pkt.extract(hdr.arr[0]); pkt.extract(hdr.arr[1]);",
              LOCALS=BOUND.replace("CALL", "pick(hdr.h.a)").replace("@@", ""),
              APPLY="t.apply(); hdr.h.a = hdr.arr[1].a;")
    assert out == bytes([21, 0, 20])


# -- an extern with abstract methods is instantiated by a declaration only (p4c: issue3282) ----
def test_a_package_argument_is_no_constructor_call_of_an_extern_with_abstract_methods():
    text = """extern e { e(); abstract void run(); }
package pkg(e x);
pkg(@@e()) main;
"""
    rejected_at(text, "e: extern type e with abstract methods cannot be instantiated using a constructor call")
