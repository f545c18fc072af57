"""p4c's negative corpus (p4_16_errors) where the first diagnostic must name p4c's line.

Each rule has a program p4c rejects (`@@` marks the line the first diagnostic must name) and
a close variant p4c accepts, which must still compile.
"""

import pytest

from marked import build, compiles, rejected_at

from fabriclab.p4 import CompileError, compile_source


def program(decls: str = "", locals_: str = "", apply: str = "") -> str:
    return build(DECLS=decls, LOCALS=locals_, APPLY=apply)


def rejects(message: str, text: str) -> None:
    rejected_at(text, message)


# -- a repeated member of an enum, error or match_kind: p4c names the repeat -----------------

@pytest.mark.parametrize("decl", [
    "enum E {\n  a,\n  b,\n  @@b\n}\n",
    "enum bit<8> E {\n  a = 1,\n  @@a = 2\n}\n",
    "error {\n  Oops,\n  @@Oops\n}\n",
    "match_kind {\n  fancy,\n  @@fancy\n}\n",
    "match_kind {\n  fancy\n}\nmatch_kind {\n  @@fancy\n}\n",
    "error {\n  @@NoError\n}\n",  # core.p4 declares it
])
def test_repeated_member_names_the_repeat(decl: str) -> None:
    rejects("Duplicates declaration", program(decl))


@pytest.mark.parametrize("decl", [
    "enum E {\n  a,\n  b\n}\n",
    "error {\n  Oops,\n  Oops2\n}\n",
    "match_kind {\n  fancy\n}\nmatch_kind {\n  fancier\n}\n",
])
def test_distinct_members_compile(decl: str) -> None:
    compiles(program(decl))


# -- entry priorities: p4c names the table's key (not needed) or the table (overflow) -------

def _table(key: str, entries: str, props: str = "", name: str = "t") -> str:
    return (f"    action set(bit<8> v) {{ meta.x = v; }}\n    table {name} {{\n        key = {{ {key} }}\n"
            f"        actions = {{ set; }}\n        {props}\n        entries = {{ {entries} }}\n    }}\n")


def test_priorities_on_exact_keys_name_the_key() -> None:
    locals_ = _table("hdr.h.a : exact;", "priority = 10 : 1 : set(1); 2 : set(2);").replace("key =", "@@key =")
    rejects("does not require priorities", program(locals_=locals_, apply="t.apply();"))
    compiles(program(locals_=_table("hdr.h.a : ternary;", "priority = 10 : 1 : set(1); 2 : set(2);"),
                     apply="t.apply();"))


def test_priority_overflow_names_the_table() -> None:
    locals_ = _table("hdr.h.a : ternary;", "priority = 0 : 1 : set(1); 2 : set(2);", name="@@t")
    rejects("t Overflow in priority computation", program(locals_=locals_, apply="t.apply();"))
    compiles(program(locals_=_table("hdr.h.a : ternary;", "priority = 2 : 1 : set(1); 2 : set(2);"),
                     apply="t.apply();"))


# -- tables: names resolve before entries are checked; NoAction; properties once ------------

def test_undeclared_entry_action_comes_before_key_errors() -> None:
    entries = "(1, 2) : set(1);\n @@1 : missing();"
    rejects("missing: declaration not found",
            program(locals_=_table("hdr.h.a : exact;", entries), apply="t.apply();"))
    compiles(program(locals_=_table("hdr.h.a : exact;", "1 : set(1);"), apply="t.apply();"))


@pytest.mark.parametrize("decl, message", [
    ("@@const bit<1> NoAction = 1;\n", "NoAction: expected to be an action"),
    ("@@action NoAction(bit<1> t) {}\n", "NoAction: Expected an action with no parameters"),
    ("@@action NoAction() { exit; }\n", "NoAction: Expected an action with no body"),
])
def test_a_table_without_default_action_names_a_wrong_noaction(decl: str, message: str) -> None:
    control = "control c() {\n    table t { actions = {} }\n    apply { t.apply(); }\n}\n"
    rejects(message, decl + control)
    compiles("action NoAction() {}\n" + control)


def test_a_table_without_default_action_needs_noaction_before_names_resolve() -> None:
    """p4c's CreateBuiltins runs before names resolve: its error comes first, positionless."""
    control = "control c() {\n    table t { actions = { missing; } }\n    apply { t.apply(); }\n}\n"
    with pytest.raises(CompileError) as info:
        compile_source(control)
    first = info.value.first
    assert first.pos is None
    assert first.message.splitlines() == ["Declaration of the action NoAction not found; did you include core.p4?",
                                          "(needed as the default action of table 't')"]
    rejects("missing: declaration not found", "action NoAction() {}\ncontrol c() {\n    table t { actions = { @@missing; } }\n"
                         "    apply { t.apply(); }\n}\n")


@pytest.mark.parametrize("text, name", [
    ("control c(inout bit<8> x, in bit<8> @@x) { apply {} }\n", "x"),  # parameters
    ("control c() {\n  action a() {}\n  action @@a() {}\n  apply {}\n}\n", "a"),  # locals
    ("parser p() {\n  state start { transition accept; }\n  state @@start { transition accept; }\n}\n",
     "start"),
    ("header h_t { bit<8> f; }\ncontrol c(inout h_t h) {\n  apply { h = { f = 1, @@f = 2 }; }\n}\n", "f"),
    ("#include <core.p4>\ncontrol c() {\n  action a() {}\n  table t {\n    actions = { a; @@a; }\n  }\n"
     "  apply { t.apply(); }\n}\n", "a"),
])
def test_a_name_repeated_in_one_list_is_a_duplicate_where_it_is_repeated(text: str, name: str) -> None:
    """p4c's parser, as it builds each such list (an IndexedVector), before anything else."""
    rejects(f"{name}: Duplicates declaration {name}", text)


def test_a_constructor_parameter_named_as_an_apply_parameter_is_a_duplicate() -> None:
    """p4c: dup-param (named where the apply parameter is)."""
    rejects("p duplicates p.", "control c(bit<32> @@p)(bool p) {\n  apply {}\n}\n")


def test_a_parser_implementing_accept_and_missing_start_is_told_both() -> None:
    """p4c: accept_e (ValidateParsedProgram)."""
    with pytest.raises(CompileError) as info:
        compile_source("parser p() {\n  state accept { transition reject; }\n}\n", "prog.p4")
    assert [(d.pos.line, d.message) for d in info.value.diagnostics] == [
        (2, "Invalid parser state: accept should not be implemented, it is built-in"),
        (1, "Parser p has no 'start' state")]


def test_a_table_property_is_declared_once() -> None:
    control = "control c() {\n    table t {\n        key = {}\n        @@key = {}\n        actions = {}\n    }\n" \
              "    apply { t.apply(); }\n}\n"
    rejects("key: Duplicates declaration key", "#include <core.p4>\n" + control)
    compiles("#include <core.p4>\n" + control.replace("@@key = {}", ""))


# -- declarations and types --------------------------------------------------------------------

def _vs_parser(elem: str, key: str = "bit<6>") -> str:
    return (f"#include <core.p4>\nparser Q(in {key} v) {{\n  value_set<{elem}>(4) vs;\n"
            "  state start { transition select(v) { vs: accept; _: reject; } }\n}\n")


@pytest.mark.parametrize("elem", ["int", "bit<6>[2]", "varbit<8>"])
def test_value_set_element_type(elem: str) -> None:
    rejects("Illegal type for value_set element type", _vs_parser("@@" + elem))


@pytest.mark.parametrize("elem", ["bit<6>", "int<6>"])
def test_value_set_of_fixed_width_compiles(elem: str) -> None:
    compiles(_vs_parser(elem, elem))


def test_const_int_from_a_sized_constant() -> None:
    """p4c unifies int with a sized constant: `const int a = 4w2` is 2, which is no bool."""
    rejects("(bool)2: Only 0 and 1 can be cast to booleans",
            program("const int a = 4w2;\n@@const bool b = (bool)a;\n"))
    compiles(program("const int a = 4w1;\nconst bool b = (bool)a;\n"))


def _varbit_parser(fields: str, extract: str = "p.extract(h, 8);") -> str:
    return (f"#include <core.p4>\nheader H {{\n{fields}}}\nparser Q(packet_in p) {{\n  H h;\n"
            f"  state start {{ {extract} transition accept; }}\n}}\n")


def test_an_extracted_header_has_one_varbit_field() -> None:
    rejects("x and u: multiple varbit fields in a header\n(header H)",
            _varbit_parser("  @@varbit<16> x;\n  varbit<16> u;\n"))
    compiles(_varbit_parser("  bit<8> n;\n  varbit<16> x;\n"))


def test_a_block_of_the_wrong_type_names_the_argument_of_main() -> None:
    text = ("#include <core.p4>\nparser Pr<H, M>(out H h, inout M m);\ncontrol In<H, M>(inout H h, inout M m);\n"
            "package Sw<H, M>(Pr<H, M> p, In<H, M> ig);\nstruct A {}\nstruct B {}\n"
            "parser p(out A h, inout B m) { state start { transition accept; } }\n"
            "control ig(inout B h, inout A m) { apply {} }\nSw(p(),\n   @@ig()) main;\n")
    rejects("parameter 'h' of 'ig' is inout B but 'In' needs inout A", text)
    compiles(text.replace("@@", "").replace("inout B h, inout A m", "inout A h, inout B m"))


def test_bit0_is_a_type_and_casts_as_p4c() -> None:
    """bit<0> is legal (p4c: bit0-bmv2); a cast from it to int<2> changes sign and width."""
    rejects("cannot cast bit<0> to int<2>", program(apply="bit<0> a = 0;\n int<2> b;\n @@b = (int<2>)a;"))
    compiles(program(apply="bit<0> a = 0;\n bit<1> b;\n b = (bit<1>)a;"))
    rejects("Width of signed type cannot be zero", program(apply="@@int<0> a;"))


# -- @length(e): its names are the fields declared before the varbit, or outer declarations --

@pytest.mark.parametrize("fields", [
    "varbit<256> d;\n  @@@length(size) varbit<64> e;\n  bit<32> size;",  # declared after
    "bit<32> len;\n  @@@length(lenn) varbit<64> e;",  # declared nowhere
])
def test_length_annotation_names_an_earlier_field(fields: str) -> None:
    rejects("declaration not found", program(f"header v_t {{\n  {fields}\n}}\n"))


@pytest.mark.parametrize("fields", [
    "bit<32> len;\n  @length((bit<32>)len * 8 - 16) varbit<64> e;",
    "@length(LEN) varbit<64> e;",  # a constant declared before the header
])
def test_length_annotation_with_earlier_names_compiles(fields: str) -> None:
    compiles(program(f"const bit<32> LEN = 8;\nheader v_t {{\n  {fields}\n}}\n"))


# -- the first error where p4c's parser and name resolution stop --------------------------

def test_a_structured_annotation_mixing_pairs_and_expressions_stops_at_the_mix() -> None:
    """p4c: structured-annotation-e; `key` is a keyword and still a key."""
    rejects("syntax error, unexpected INTEGER, expecting ]", program("@Mix[key=4,\n  @@5]\nconst bit<8> K = 1;\n"))
    rejects("syntax error, unexpected =", program("@Mix[4,\n  k@@=5]\nconst bit<8> K = 1;\n"))
    compiles(program("@Pairs[key=4, k=5]\n@Exprs[4, 5, \"s\"]\nconst bit<8> K = 1;\n"))


def test_a_statement_may_start_with_a_type_member() -> None:
    """p4c's lvalue takes `Type.member` (and `.Type.member`): a missing `;` after `c.c(_)`
    is reported at the `}` (expr-call-on-type-with-arguments), a type member is no l-value."""
    rejects("syntax error, unexpected }, expecting ;", "control c()() {\n  apply {\n    c.c(_)\n  @@}\n}\n")
    rejects("not an l-value", program("enum E { A }\n", apply="E e;\n @@.E.A = e;"))
    compiles(program("enum E { A }\n", apply="E e = .E.A;"))


def test_the_error_type_without_a_declaration_is_not_found_before_other_errors() -> None:
    """A program without core.p4 has no `error` type (expr-typeaccess-on-unsupported-type,
    decl-instantiation-init-non-extern: the name inside main's initializer comes first)."""
    rejects("declaration not found", "typedef @@error E_t;\nheader h_t { bit<16> t; }\n"
                                     "control c(inout h_t h)() {\n  apply { h.t = .E_t.x; }\n}\n")
    rejects("declaration not found", "extern packet_out {}\ncontrol ctr(packet_out p);\n"
                                     "control c(packet_out p)() { apply {} }\npackage top(ctr _c);\n"
                                     "top(c()) main = {\n  @@error a() {}\n};\n")


def test_repeated_type_parameters_of_an_initializer_function() -> None:
    """p4c: name-duplicate-type-parameter-names, before the initializer's own errors."""
    rejects("A: Duplicates declaration A",
            "typedef bit<1> t;\nextern e { e(); }\nparser MyParser()() {\n  e() ee = {\n"
            "    t @@f<A, A>(in t a) {}\n  };\n  state start {}\n}\n")
