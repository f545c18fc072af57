"""p4c's warnings other than unused declarations, on p4c's line and in its words (checked
against p4c 34b86e9's sample outputs: bench/p4c_corpus.py --samples); the programs are ours."""

import pytest

from fabriclab.p4 import TargetError, compile_source
from marked import build


def warnings(text: str) -> list[tuple[int, str]]:
    """(line, message) of each warning but the unused-declaration ones (test_p4_warnings_unused);
    of a program p4c-bm2-ss's back end rejects, those of the passes before (p4c prints them)."""
    try:
        found = compile_source(text, "prog.p4").warnings
    except TargetError as err:
        found = err.warnings
    return [(w.pos.line if w.pos else 0, w.message) for w in found if not w.message.endswith("is unused")]


def line_of(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize("apply, message", [
    ("meta.x = 8w1 << 9;", "1 << 9: Shifting 8-bit value with 9"),
    ("meta.x = 0 - 128;", "-8w128: negative value with unsigned type"),
    ("meta.x = 300;", "8w300: value does not fit in 8 bits"),
    ("meta.x = (bit<8>)(4w4 << 8w2);", "4w16: value does not fit in 4 bits"),  # a folded shift
    ("int<8> s = 8s128; meta.x = (bit<8>)s;", "8s128: signed value does not fit in 8 bits"),
])
def test_constants_that_do_not_fit_are_warnings_where_they_are(apply, message):
    text = build(APPLY=apply)
    assert warnings(text) == [(line_of(text, "apply {"), message)]


def test_a_constant_table_key_gives_p4c_two_warnings():
    text = build(LOCALS="table t {\n key = { 48w1: exact @name(\"k\"); }\n actions = { NoAction; } }",
                 APPLY="t.apply();")
    line = line_of(text, "48w1")
    assert warnings(text) == [(line, "KeyElement: constant key element"), (line, "48w1: Constant key field")]


ENTRIES = """table t {
 key = { hdr.h.a: ternary; }
 actions = { NoAction; }
 largest_priority_wins = false;
 entries = {
  priority = 10: 0x11 &&& 0xF0 : NoAction();
  priority = 12: 0x22 &&& 0xF0 : NoAction();
  priority = 11: 0x33 &&& 0xF0 : NoAction();
  priority = 12: 0x44 &&& 0xF0 : NoAction();
 }
}"""


def test_entry_priorities_are_warned_about_at_the_earlier_entry_once():
    text = build(LOCALS=ENTRIES, APPLY="t.apply();")
    second, third, fourth = (line_of(text, f"0x{d}{d}") for d in (2, 3, 4))
    found = [(line, message.splitlines()[0]) for line, message in warnings(text)
             if "priorit" in message]
    assert found == [(second, "Entry (priority 12) and Entry (priority 11) have priorities out of order"),
                     (second, "Entry and Entry have the same priority 12")]
    assert third and fourth  # (the later entries are named on the message's second line)


def test_an_entry_several_later_ones_share_the_priority_of_is_warned_about_once():
    """p4c: init-entries-bmv2's t4 (its reporter drops a repeat of a warning on the same entry)."""
    text = build(LOCALS=ENTRIES.replace("priority = 10", "priority = 12"), APPLY="t.apply();")
    found = [(line, message.splitlines()[0]) for line, message in warnings(text) if "same" in message]
    assert found == [(line_of(text, "0x11"), "Entry and Entry have the same priority 12")]


def test_a_ternary_value_with_bits_outside_its_mask_is_warned_about_for_p4runtime():
    text = build(LOCALS=ENTRIES.replace("0x11 &&& 0xF0", "0x1F &&& 0xF0"), APPLY="t.apply();")
    assert (line_of(text, "0x1F"), "P4Runtime requires that Ternary matches have masked-off bits set to 0, "
            "updating value 8w0x1f to conform to the P4Runtime specification") in warnings(text)


def test_an_lpm_value_with_bits_outside_its_prefix_is_warned_about_for_p4runtime():
    table = ("table t {\n key = { hdr.h.a: lpm; }\n actions = { NoAction; }\n const entries = {\n"
             "  0x11 &&& 0xF0 : NoAction();\n  0x20 &&& 0xF0 : NoAction();\n }\n}")
    text = build(LOCALS=table, APPLY="t.apply();")
    assert [w for w in warnings(text) if "P4Runtime" in w[1]] == [
        (line_of(text, "0x11"), "P4Runtime requires that LPM matches have masked-off bits set to 0, "
                                "updating value 8w0x11 to conform to the P4Runtime specification")]


def test_a_switch_ending_with_a_label_and_no_statement_is_warned_about():
    text = build(LOCALS="action a() { } action b() { }\n"
                        "table t { key = { hdr.h.a: exact; } actions = { a; b; } }",
                 APPLY="switch (t.apply().action_run) {\n a: { }\n b:\n }")
    assert warnings(text) == [(line_of(text, " b:\n"), "SwitchCase: fallthrough with no statement")]


def test_a_program_without_main_is_warned_about_in_p4c_words():
    text = build().replace("V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;", "")
    messages = [message for _, message in warnings(text)]
    assert any(message.startswith("Program does not contain a `main' module") for message in messages)
    assert "Program does not contain a main module, so P4Info's 'pkg_info' field will not be set" in messages


def test_a_warning_is_given_once_where_it_is():
    text = build(DECLS="bit<8> f() { return 8w1 << 9; }", APPLY="meta.x = f(); meta.x = f();")
    assert warnings(text).count((line_of(text, "8w1 << 9"), "1 << 9: Shifting 8-bit value with 9")) == 1


def parser_with(transition: str) -> str:
    return build().replace("transition accept; }", transition + " }", 1)


def test_cases_after_one_a_constant_select_always_takes_are_unreachable():
    text = parser_with("transition select(8w2) {\n 1: reject;\n 2: accept;\n 3: reject;\n default: reject;\n }")
    assert warnings(text) == [(line_of(text, " 3: reject"), "SelectCase: unreachable case"),
                              (line_of(text, " default: reject"), "SelectCase: unreachable case")]


def test_a_constant_select_no_case_matches_is_warned_about_and_rejects():
    text = parser_with("transition select(8w2) {\n 1: accept;\n }")
    assert warnings(text) == [(line_of(text, "transition select"), "SelectExpression: no case matches"),
                              (line_of(text, "parser P"), "accept state in parser P is unreachable"),
                              (line_of(text, "parser P"), "accept state in parser P is unreachable")]


@pytest.mark.parametrize("transition", [
    "transition select(hdr.h.a) {\n 1: reject;\n 2: accept;\n }",  # run-time keys: every case may be taken
    "transition select(8w2) {\n 1: reject;\n default: accept;\n }",
])
def test_selects_that_may_reach_accept_give_no_warning(transition):
    assert warnings(parser_with(transition)) == []


@pytest.mark.parametrize("slots, fragment, message", [
    ({"DECLS": "@deprecated(\"Use g.\") bit<8> f() { return 1; }", "APPLY": "meta.x = f();"},
     "f();", "f: Using deprecated feature f. Use g."),
    ({"LOCALS": "Checksum16() ck;", "APPLY": "meta.x = (bit<8>)ck.get(hdr.h.a);"},
     "Checksum16()", "Checksum16: Using deprecated feature Checksum16. "
                     "Please use verify_checksum/update_checksum instead."),
    ({"DECLS": "@noWarn(\"no-such-thing\") const bit<8> K = 1;", "APPLY": "meta.x = K;"},
     "@noWarn", "@noWarn: unknown diagnostic name 'no-such-thing' in @noWarn annotation"),
])
def test_deprecated_uses_and_unknown_diagnostic_names_are_warned_about(slots, fragment, message):
    text = build(**slots)
    assert warnings(text) == [(line_of(text, fragment), message)]


def test_an_inverted_select_range_is_warned_about_as_empty():
    text = parser_with("transition select(hdr.h.a) {\n 10 .. 0: reject;\n default: accept;\n }")
    assert warnings(text) == [(line_of(text, "10 .. 0"),
                               "8w10-8w0: Range with end less than start is treated as an empty range")]


@pytest.mark.parametrize("decls, apply, warned", [
    ("bit<8> f(out bit<8> v) { if (true) { v = 1; } return 2; }", "bit<8> r; meta.x = f(r);", False),
    ("bit<8> f(out bit<8> v, in bool c) { if (c) { v = 1; } return 2; }", "bit<8> r; meta.x = f(r, true);", True),
    ("bit<8> f(out bit<8> v, in bool c) { if (c) { return 3; } v = 1; return 2; }",
     "bit<8> r; meta.x = f(r, true);", True),  # the early return leaves v unwritten
    ("bit<8> f(out bit<8> v, in bool c) { if (c) { v = 0; } else { v = 1; } return 2; }",
     "bit<8> r; meta.x = f(r, true);", False),
    ("bit<8> f(out bit<8> v) { return 2; }", "", False),  # unused: p4c removed it first
])
def test_an_out_parameter_some_path_leaves_unwritten_is_warned_about(decls, apply, warned):
    text = build(DECLS=decls, APPLY=apply)
    expected = [(line_of(text, "out bit<8> v"), "out parameter 'v' may be uninitialized when 'f' terminates")]
    assert [w for w in warnings(text) if "out parameter" in w[1]] == (expected if warned else [])


def test_an_out_parameter_written_by_the_action_a_table_runs_is_written():
    text = build(DECLS="control Sub(out bit<8> v) {\n action a2(bit<8> x) { v = x; }\n action a() { a2(1); }\n"
                       " table t { actions = { a; } default_action = a; }\n apply { t.apply(); } }",
                 LOCALS="Sub() sub;", APPLY="sub.apply(meta.x);")
    assert [w for w in warnings(text) if "out parameter" in w[1]] == []


# -- ordering: an out/inout argument that may share storage with another one the call writes --

ORDERING_DECLS = """bit<8> g(inout bit<8> v) { v = v + 1; return v; }
bit<8> f(inout bit<8> x, in bit<8> y) { x = x + y; return x; }
action both(inout bit<8> a, out bit<8> b) { b = a; }
"""


def ordering(text: str) -> list[tuple[int, str]]:
    return [w for w in warnings(text) if "in common" in w[1]]


@pytest.mark.parametrize("apply, expected", [
    ("both(meta.x,\n meta.x);", [(0, "meta.x: 'out' argument has fields in common with meta.x"),
                                   (1, "meta.x: 'out' argument has fields in common with meta.x")]),
    # g's argument is written first (p4c's order), f's then warned about; g(...) itself is copied
    ("meta.x = f(meta.x,\n g(meta.x));", [(0, "meta.x: 'out' argument has fields in common with meta.x")]),
])
def test_aliased_out_arguments_are_ordering_warnings(apply, expected):
    text = build(DECLS=ORDERING_DECLS, APPLY=apply)
    line = line_of(text, apply.split("\n")[0])
    assert ordering(text) == [(line + d, m) for d, m in expected]


@pytest.mark.parametrize("apply", [
    "both(meta.x, hdr.h.a);",          # distinct locations
    "meta.x = f(meta.x, meta.x);",     # the second is only read: no other location is written
    "meta.x = f(meta.x, t.apply().hit ? 8w1 : 8w2);",  # a table writes everything: copied, silently
])
def test_distinct_or_copied_arguments_give_no_ordering_warning(apply):
    locals_ = "table t { actions = { NoAction; } }" if "t.apply" in apply else ""
    assert not ordering(build(DECLS=ORDERING_DECLS, LOCALS=locals_, APPLY=apply))


def test_an_unknown_index_overlaps_every_element_and_its_own_index():
    text = build(DECLS=ORDERING_DECLS, HEADERS="h_t h; h_t[2] s;", META="bit<8> x; bit<8> i;",
                 APPLY="meta.x = f(hdr.s[meta.i].a, g(hdr.s[0].a));\n meta.x = f(hdr.s[meta.i].a, g(meta.i));")
    line = line_of(text, "apply {")
    assert ordering(text) == [
        (line, "hdr.s[meta.i].a: 'out' argument has fields in common with hdr.s[0].a"),
        (line + 1, "hdr.s[meta.i].a: 'out' argument has fields in common with meta.i")]


def test_no_warn_ordering_silences_it():
    text = build(DECLS=ORDERING_DECLS, APPLY="both(meta.x, meta.x);").replace(
        "control C(", "@noWarn(\"ordering\")\ncontrol C(")
    assert not ordering(text)


# -- shadow: a declaration hiding another of its name declared before it -------------------

def shadows(text: str) -> list[tuple[int, str]]:
    return [w for w in warnings(text) if "shadows" in w[1]]


@pytest.mark.parametrize("decls, expected", [
    ("header padding_t { bit<8> p; }\nstruct wrap_t<T> { T f; }\nstruct T { bit<8> a; }\n"
     "extern void f<T>(in T data);\n", [("extern void f<T>", "'T' shadows 'struct T'")]),
    ("extern X<D> {\n  X();\n  void f<D>(in D d);\n}\n", [("void f<D>", "'D' shadows 'D'")]),
    ("bit<8> bound(in bit<8> v, in bit<8> bound) { return v; }\n",
     [("bit<8> bound(", "'bound' shadows 'bound'")]),
    ("parser q(packet_in q) { state start { transition accept; } }\n",
     [("parser q(", "'q' shadows 'parser q'")]),
])
def test_a_declaration_hiding_an_earlier_one_is_a_shadow_warning(decls, expected):
    text = build(DECLS=decls)
    assert shadows(text) == [(line_of(text, where), message) for where, message in expected]


def test_shadowing_in_controls_actions_blocks_and_tables():
    text = build(DECLS="typedef bit<8> implementation;\nbit<8> helper() { return 1; }\n",
                 LOCALS="action helper() { }\n action a(bit<8> sm) { meta.x = sm; }\n"
                        "table t { actions = { a; }\n implementation = action_profile(2); }",
                 APPLY="bit<8> y = 1;\n if (y == 1) { bit<8> y = 2; meta.x = y; }\n t.apply(); helper();")
    assert shadows(text) == [
        (line_of(text, "action helper"), "'helper' shadows 'helper'"),
        (line_of(text, "action a("), "'sm' shadows 'sm'"),
        (line_of(text, "implementation = "), "'implementation' shadows 'implementation'"),
        (line_of(text, "bit<8> y = 2"), "'y' shadows 'y'")]


@pytest.mark.parametrize("decls, apply", [
    ("const bit<8> z = 1;\ncontrol ctl_t(out bit<8> z);\n", ""),   # a control type's parameters
    ("", "bit<8> i = 1;\n for (bit<8> i in 1 .. 3) { meta.x = i; }"),  # a for-in loop's variable
    ("", "if (true) { bit<8> later = 1; meta.x = later; }\n bit<8> later = 2;"),  # declared after
    ("extern E { E(); void m(); void m(in bit<8> a); }\n", ""),  # overloads, a constructor
])
def test_what_p4c_does_not_call_shadowing(decls, apply):
    assert not shadows(build(DECLS=decls, APPLY=apply))


def test_branch_hints_on_a_branch_a_constant_condition_decides():
    """p4c's constant folding (after its strength reduction folds `e != e`) ignores them."""
    text = build(APPLY="if (true) @likely { meta.x = 1; }\n if (true) @unlikely { meta.x = 2; }\n"
                       " if (hdr.h.a != hdr.h.a) @likely { meta.x = 3; }\n"
                       " if (hdr.h.a == 1) @unlikely { meta.x = 4; }\n"
                       " if (false) { meta.x = 5; } else @unlikely { meta.x = 6; }")
    assert [w for w in warnings(text) if w[1].startswith("ignoring")] == [
        (line_of(text, "if (true) @unlikely"), "ignoring @unlikely on always taken statement"),
        (line_of(text, "hdr.h.a != hdr.h.a"), "ignoring @likely on never taken statement"),
        (line_of(text, "if (false)"), "ignoring @unlikely on always taken statement")]


@pytest.mark.parametrize("annotations, kind, message", [
    ("@max_group_size(200) @max_member_weight(40)", "action_profile(32w128)",
     "Ignoring annotation @max_group_size on action profile 'C.ap', which does not have a selector"),
    ("@selector_size_semantics(\"sum_of_weights\")", "action_profile(32w128)",
     "Ignoring annotation @selector_size_semantics on action profile 'C.ap', which does not have a selector "),
    ("@max_member_weight(40)", "action_selector(HashAlgorithm.identity, 32w1024, 32w10)",
     "Ignoring annotation @max_member_weight on action profile 'C.ap', which does not use "
     "'sum_of_members' as its SelectorSizeSemantics"),
    ("@selector_size_semantics(\"sum_of_members\") @max_member_weight(40)",
     "action_selector(HashAlgorithm.identity, 32w1024, 32w10)", None),
])
def test_selector_annotations_p4c_ignores_are_warnings(annotations, kind, message):
    key = "hdr.h.a: exact; hdr.h.b: selector;" if "selector" in kind else "hdr.h.a: exact;"
    text = build(LOCALS=f"@name(\"ap\") {annotations} {kind} ap;\n"
                        f"table t {{ key = {{ {key} }} actions = {{ NoAction; }} implementation = ap; }}",
                 APPLY="t.apply();")
    found = [w for w in warnings(text) if w[1].startswith("Ignoring annotation")]
    assert found == ([(line_of(text, "@name(\"ap\")"), message)] if message else [])


def test_a_shift_past_the_width_of_a_run_time_value():
    text = build(APPLY="meta.x = meta.x << 8;\n meta.x = meta.x >> 7;")
    assert warnings(text) == [(line_of(text, "apply {"), "meta.x << 8: shifting value with 8 bits by 8")]


PARSER_TEMPLATE = """#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.h);
        transition select(hdr.h.a, hdr.h.b) {
CASES
        }
    }
    state next { transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), C(), Nop(), D()) main;
"""


@pytest.mark.parametrize("cases, expected", [
    ("(1, 2): accept;\n(1, 2): next;\ndefault: accept;", ["depend"]),  # the repeat never matches
    ("(1, 2): next;\n(1, 2): accept;\ndefault: accept;", []),
    ("(1, 2): accept;\n(1, 3 &&& 3): accept;\ndefault: accept;", ["depend"]),
    ("default: next;\n(1, 2): accept;", ["unreachable", "depend"]),
    ("(1, 2): next;\ndefault: accept;", []),
    ("(1, 2): next;\n(_, 1 .. 3): next;\ndefault: next;", ["depend"]),
])
def test_select_cases_p4c_simplifies(cases, expected):
    text = PARSER_TEMPLATE.replace("CASES", cases)
    messages = {"unreachable": lambda: (line_of(text, "(1, 2): accept;"), "SelectCase: unreachable"),
                "depend": lambda: (line_of(text, "transition select"),
                                   "'{ hdr.h.a, hdr.h.b }': transition does not depend on select argument")}
    assert sorted(w for w in warnings(text) if "select" in w[1] or "Select" in w[1]) == \
        sorted(messages[k]() for k in expected)


STRUCT_OUT = """struct pair_t { bit<8> a; bit<8> b; }
typedef pair_t pair_alias_t;
struct outer_t { pair_alias_t p; error e; h_t h; }
"""


@pytest.mark.parametrize("body, warned", [
    ("o.p.a = 1; o.p.b = 2; o.e = error.NoError;", False),  # every scalar field (the header: silent)
    ("o.p.a = 1; o.e = error.NoError;", True),               # o.p.b never written
    ("o.p = { 1, 2 }; if (meta.x == 0) { o.e = error.NoError; }", True),  # o.e on one path only
    ("o.p = { 1, 2 }; o.e = error.NoError; if (meta.x == 0) { return; }", False),
])
def test_out_struct_parameters_field_by_field(body, warned):
    text = build(DECLS=STRUCT_OUT + f"void f(out outer_t o, in bit<8> x) {{ {body} }}\n",
                 APPLY="outer_t v; f(v, meta.x);").replace("meta.x == 0", "x == 0")
    expected = [(line_of(text, "void f("), "out parameter 'o' may be uninitialized when 'f' terminates")]
    assert [w for w in warnings(text) if w[1].startswith("out parameter")] == (expected if warned else [])


def test_a_select_on_constant_enum_members_is_folded():
    """p4c: issue2617, a select on (X.A, E.A, 32w0) takes its third case: the first two and
    accept (reached only through them) are unreachable."""
    text = """#include <core.p4>
enum X { A, B }
enum bit<8> E { A = 1, B = 2 }
parser p1(out bit<32> v) {
    state start {
        transition select (X.A, E.A, 32w0) {
            (X.A, E.B, _): zero;
            (X.A, E.A, 1): zero;
            (X.A, _,   _): two;
            (_, _, _): zero;
        }
    }
    state zero { v = 0; transition accept; }
    state two { v = 2; transition reject; }
}
parser proto(out bit<32> v);
package top(proto _p);
top(p1()) main;
"""
    assert [w for w in warnings(text) if "unreachable" in w[1]] == [
        (line_of(text, "(_, _, _)"), "SelectCase: unreachable case"),
        *[(line_of(text, "parser p1"), "accept state in parser p1 is unreachable")] * 2]


def test_a_key_on_a_directionless_apply_parameter_is_constant():
    """p4c: spec-ex25, issue2542 (the parameter is bound to a value where it is applied)."""
    text = ("#include <core.p4>\ncontrol c(bit<32> x, inout bit<32> y) {\n  action a() { }\n"
            "  table t {\n    key = { x : exact; y : exact; }\n    actions = { a; }\n  }\n"
            "  apply { t.apply(); }\n}\ncontrol proto(inout bit<32> y);\npackage top(proto p);\n"
            "control w(inout bit<32> y) { c() sub; apply { sub.apply(7, y); } }\ntop(w()) main;\n")
    assert [w for w in warnings(text) if "key" in w[1]] == [
        (line_of(text, "key = {"), "KeyElement: constant key element"),
        (line_of(text, "sub.apply"), "32w7: Constant key field")]  # (where the constant is, typed)
    assert [w for w in warnings(text.replace("apply(7, y)", "apply(y, y)")) if "key" in w[1]] == [
        (line_of(text, "key = {"), "KeyElement: constant key element")]  # (a variable: no constant key)


def test_reading_a_stack_next_element_is_reading_an_uninitialized_value():
    """p4c: stack.p4, issue692-bmv2, next-def-use (a list assigned to it reads it first)."""
    text = build(HEADERS="h_t h; h_t[3] s;",
                 PARSER="pkt.extract(hdr.s.next);\n hdr.s.next.a = 1;\n hdr.h = hdr.s.next;\n"
                        " hdr.s.next = { 1, 2 };\n")
    line = line_of(text, "pkt.extract(hdr.s.next)")
    assert [w for w in warnings(text) if "uninitialized value" in w[1]] == [
        (line + 2, "hdr.s.next: reading uninitialized value"),
        (line + 3, "hdr.s.next: reading uninitialized value")]


def test_a_parser_applying_one_that_never_accepts_never_accepts():
    """p4c: issue823, once the sub-parser is inlined: the sub-parser warned about by the front
    end, main's parser by the mid end (a parser main gets that never accepts by itself: by both,
    reject.p4)."""
    text = ("#include <core.p4>\nparser Sub(packet_in pkt) {\n  state start { transition reject; }\n}\n"
            "parser Top(packet_in pkt) {\n  Sub() sub;\n  state start { sub.apply(pkt); transition accept; }\n}\n"
            "parser proto(packet_in pkt);\npackage top(proto p);\ntop(Top()) main;\n")
    assert [w for w in warnings(text) if "unreachable" in w[1]] == [
        (line_of(text, "parser Sub("), "accept state in parser Sub is unreachable"),
        (line_of(text, "parser Top("), "accept state in parser Top is unreachable")]


# -- def-use: reads of what some path leaves unwritten (p4c's FindUninitialized) -------------

def uninitialized(text: str) -> list[tuple[int, str]]:
    return [w for w in warnings(text) if "initialized" in w[1] and "out parameter" not in w[1]]


def marked_lines(text: str) -> tuple[str, list[int]]:
    """`text` without its `@@` markers, and the lines they were on."""
    lines = [i + 1 for i, line in enumerate(text.split("\n")) if "@@" in line]
    return text.replace("@@", ""), lines


@pytest.mark.parametrize("locals_, apply, expected", [
    ("", "bit<8> z;\n if (meta.x == 1) { z = 1; }\n meta.x = z; @@", ["z may be uninitialized"]),
    ("", "bit<8> z;\n if (meta.x == 1) { z = 1; } else { z = 2; }\n meta.x = z;", []),
    ("", "bit<8> z;\n if (meta.x == 1) { z = 1; } else { exit; }\n meta.x = z;", []),  # exit ends the path
    ("", "h_t lh;\n meta.x = lh.a; @@", ["lh.a may be uninitialized"]),
    ("", "m_t s;\n s.x = 1;\n hdr.h.a = s.x;", []),
    ("", "h_t lh;\n lh.a = 1;\n hdr.h = lh; @@", ["lh.b may be uninitialized"]),  # read whole: per field
    # ... but p4c's reporter gives one warning of a kind at a position: the first field's (issue1717)
    ("", "h_t lh;\n hdr.h = lh; @@", ["lh.a may be uninitialized"]),
    ("bit<8> y;\n action a1() { meta.x = y; @@ }\n table t { key = { meta.x: exact; } actions = { a1; } }",
     "t.apply();", ["y may be uninitialized"]),  # an action a table runs, from what its key read
    ("bit<8> y;\n action a1() { y = 1; }\n action a2() { y = 2; }\n"
     " table t { key = { meta.x: exact; } actions = { a1; a2; } default_action = a1; }",
     "t.apply();\n meta.x = y;", []),  # every action writes it
    ("", "bit<8> z;\n switch (8w1) { 1: { z = 1; } default: { } }\n meta.x = z;", []),  # the case a constant takes
    ("", "@noWarn(\"uninitialized-use\") { bit<8> z;\n meta.x = z; }", []),
])
def test_a_read_some_path_leaves_unwritten_is_warned_about_where_it_is(locals_, apply, expected):
    text, lines = marked_lines(build(LOCALS=locals_, APPLY=apply))
    assert uninitialized(text) == [(line, message) for line, message in zip(lines, expected)]


def test_a_parser_out_parameter_is_unwritten_until_extracted_on_every_path_into_a_state():
    text, lines = marked_lines(build(
        HEADERS="h_t h; h_t h2;",
        PARSER="transition select(hdr.h.a) { 1: one; default: two; } }\n"
               " state one { pkt.extract(hdr.h2); transition two; }\n"
               " state two { meta.x = hdr.h2.a; @@ transition done; }\n"
               " state done {"))  # (the scaffold closes the last state)
    assert uninitialized(text) == [(lines[0], "hdr.h2.a may be uninitialized")]


@pytest.mark.parametrize("locals_, apply, expected", [
    ("", "h_t lh;\n lh.a = 1; @@", ["accessing a field of an invalid header lh"]),  # a write too
    ("", "h_t lh;\n lh.setValid();\n lh.a = 1;", []),
    ("", "hdr.h.setInvalid();\n meta.x = hdr.h.a; @@", ["accessing a field of an invalid header hdr.h"]),
    ("", "if (meta.x == 1) { hdr.h.setInvalid(); }\n meta.x = hdr.h.a; @@",
     ["accessing a field of a potentially invalid header hdr.h"]),
    ("", "hdr.h.setInvalid();\n if (hdr.h.isValid()) { meta.x = hdr.h.a; }", []),  # asked: not warned
    ("action inv() { hdr.h.setInvalid(); }\n table t { key = { meta.x: exact; } actions = { inv; } }",
     "t.apply();\n meta.x = hdr.h.a;", []),  # (p4c: a table's actions do not change the caller's)
    # a list assigned to a stack: element by element ({#}: invalid)
    ("", "h_t[3] s = { {1, 2}, {3, 4}, {#} };\n meta.x = s[1].a;\n meta.x = s[2].a; @@",
     ["accessing a field of an invalid header s[2]"]),
    # a header copied from a run-time index: invalid if every element is
    ("", "h_t[2] s;\n h_t lh = s[(bit<1>)meta.x];\n lh.a = 1; @@", ["accessing a field of an invalid header lh"]),
    ("", "h_t[2] s;\n s[1].setValid();\n h_t lh = s[(bit<1>)meta.x];\n lh.a = 1;", []),
])
def test_a_field_of_a_header_that_may_be_invalid_is_warned_about_where_it_is(locals_, apply, expected):
    text, lines = marked_lines(build(LOCALS=locals_, APPLY=apply))
    found = [w for w in warnings(text) if "header" in w[1]]
    assert found == [(line, message) for line, message in zip(lines, expected)]


def test_an_out_argument_of_an_invalid_header_is_accessed_where_the_call_writes_it():
    """p4c: issue1937 (visited again after the call, as written; a field written leaves its
    header invalid)."""
    text, lines = marked_lines(build(APPLY="h_t lh;\n random(lh.a, 0, 7); @@\n random(lh.a, 0, 7); @@"))
    assert [w for w in warnings(text) if "header" in w[1]] == [
        (line, "accessing a field of an invalid header lh") for line in lines]


def test_setting_a_union_member_valid_makes_the_others_invalid():
    text, lines = marked_lines(build(DECLS="header_union u_t { h_t h1; h_t h2; }", APPLY=(
        "u_t u;\n u.h1.setValid();\n u.h1.a = 1;\n u.h2.setValid();\n meta.x = u.h1.a; @@")))
    assert [w for w in warnings(text) if "header" in w[1]] == [
        (lines[0], "accessing a field of an invalid header u.h1")]


def test_a_function_is_checked_where_it_is_inlined_under_the_names_it_was_written_with():
    text, lines = marked_lines(build(
        DECLS="bit<8> f(in bit<8> a) {\n bit<8> t;\n if (a == 1) { t = 2; }\n return t; @@\n}\n"
              "bit<8> g(in bit<8> a) {\n if (a == 1) { return 1; }\n bit<8> u;\n u = 3;\n return u;\n}",
        APPLY="meta.x = f(meta.x);\n meta.x = g(meta.x);"))
    assert uninitialized(text) == [(lines[0], "t may be uninitialized")]  # g's early return: none


SUB = "control Sub(inout hs_t hdr, inout m_t meta) {\n apply { meta.x = hdr.h.a; @@ }\n}"


@pytest.mark.parametrize("apply, expected", [
    # p4c's second def-use run: the control inlined where it is applied, its parameters the
    # arguments (dash-pipeline's controls)
    ("if (meta.x == 1) { hdr.h.setInvalid(); }\n sub.apply(hdr, meta);",
     ["accessing a field of a potentially invalid header hdr.h"]),
    ("hdr.h.setInvalid();\n sub.apply(hdr, meta);", ["accessing a field of an invalid header hdr.h"]),
    ("if (meta.x == 1) { hdr.h.setInvalid(); }\n hdr.h.setValid();\n sub.apply(hdr, meta);", []),
    ("sub.apply(hdr, meta);", []),
    # applied with other arguments elsewhere: p4c copies them into fresh variables (silent here)
    ("hs_t c = hdr;\n if (meta.x == 1) { hdr.h.setInvalid(); }\n sub.apply(hdr, meta);\n sub.apply(c, meta);", []),
])
def test_a_control_is_checked_again_where_it_is_applied_with_the_callers_headers(apply, expected):
    text, lines = marked_lines(build(DECLS=SUB, LOCALS="Sub() sub;", APPLY=apply))
    found = [w for w in warnings(text) if "header" in w[1]]
    assert found == [(line, message) for line, message in zip(lines, expected)]


@pytest.mark.parametrize("control, warned", [
    # a return in the inlined control: what it did to validity joins what the rest did
    ("if (meta.x == 1) { return; }\n hdr.h.setInvalid();", True),
    ("if (meta.x == 1) { hdr.h.setInvalid(); return; }\n hdr.h.setValid();", True),
    ("if (meta.x == 1) { return; }\n hdr.h.setValid();", False),
])
def test_an_inlined_controls_returns_join_its_header_validity(control, warned):
    text, lines = marked_lines(build(
        DECLS=f"control Sub(inout hs_t hdr, in m_t meta) {{\n apply {{ {control} }}\n}}", LOCALS="Sub() sub;",
        APPLY="sub.apply(hdr, meta);\n meta.x = hdr.h.a; @@"))
    found = [w for w in warnings(text) if "header" in w[1]]
    assert found == ([(lines[0], "accessing a field of a potentially invalid header hdr.h")] if warned else [])


def test_an_inlined_controls_header_parameter_is_warned_about_at_the_argument():
    """p4c substitutes the argument for the parameter: the header accessed is the argument
    where the control is applied (fabric.p4's spgw_ingress)."""
    text, lines = marked_lines(build(
        DECLS="control Sub(inout h_t h, inout m_t meta) {\n apply { meta.x = h.a; }\n}",
        LOCALS="Sub() sub;",
        APPLY="if (meta.x == 1) { hdr.h.setInvalid(); }\n sub.apply(hdr.h, @@ meta);"))
    assert [w for w in warnings(text) if "header" in w[1]] == [
        (lines[0], "accessing a field of a potentially invalid header hdr.h")]
    clean, _ = marked_lines(build(
        DECLS="control Sub(inout h_t h, inout m_t meta) {\n apply { meta.x = h.a; }\n}",
        LOCALS="Sub() sub;", APPLY="sub.apply(hdr.h, meta);"))
    assert [w for w in warnings(clean) if "header" in w[1]] == []


INV = "action inv() { if (meta.x == 1) { meta.x = 2; }\n hdr.h.setInvalid(); }\n"


@pytest.mark.parametrize("locals_, apply, warned", [
    # called in an action, the action is inlined in p4c's second run (its InlineActions): what
    # it does to validity after its `if` reaches the calling action
    (INV + " action o() { inv();\n meta.x = hdr.h.a; @@ }", "o();", True),
    # called in the control's body it stays a call (p4c inlines only calls in actions)
    (INV, "inv();\n meta.x = hdr.h.a;", False),
    # run by a table, it stays an action: the caller's validity is what the key left
    (INV + " table t { key = { meta.x: exact; } actions = { inv; } }", "t.apply();\n meta.x = hdr.h.a;", False),
])
def test_an_action_called_in_an_action_changes_its_headers_in_the_second_run(locals_, apply, warned):
    text, lines = marked_lines(build(LOCALS=locals_, APPLY=apply))
    found = [w for w in warnings(text) if "header" in w[1]]
    assert found == ([(lines[0], "accessing a field of an invalid header hdr.h")] if warned else [])


@pytest.mark.parametrize("locals_, expected", [
    # p4c's InlineActions copies an out parameter out at no position, under its name for the
    # copy (UniqueParameters renamed the parameter first: `v` is free again; issue2393)
    ("action a(out bit<8> v) { }\n action o() { a(meta.x); }", ["v may be uninitialized"]),
    ("action a(out bit<8> v) { v = 1; }\n action o() { a(meta.x); }", []),
])
def test_an_action_inlined_in_an_action_copies_its_out_parameters_out_at_no_position(locals_, expected):
    assert positionless(build(LOCALS=locals_, APPLY="o();")) == expected


SUB_PARSER = ("struct s_t { h_t a; }\n"
              "parser Sub(packet_in pkt, in bit<8> k,\n out s_t s @@) {\n"
              " state start { transition select(k) { 1: one; default: accept; } }\n"
              " state one { pkt.extract(s.a); transition accept; }\n}")


@pytest.mark.parametrize("calls, warned", [
    # applied with other arguments elsewhere: p4c's Inline copies the parameters into fresh
    # variables (`s_0`), copied out where the sub-parser accepts (issue1897)
    ("sub.apply(pkt, hdr.h.a, v1);\n sub.apply(pkt, 8w2, v2);", True),
    # applied once: the arguments themselves, nothing copied out
    ("sub.apply(pkt, hdr.h.a, v1);", False),
])
def test_a_sub_parser_applied_with_other_arguments_copies_its_out_parameters_out(calls, warned):
    text, lines = marked_lines(build(DECLS=SUB_PARSER, PARSER_LOCALS="Sub() sub; s_t v1; s_t v2;", PARSER=calls))
    assert uninitialized(text) == ([(lines[0], "s_0.a may be uninitialized")] if warned else [])


OVERLAP_PARSER = ("struct s_t { h_t a; h_t b; }\n"
                  "parser Sub(packet_in pkt, out s_t s, out h_t x) { state start { transition accept; } }")


@pytest.mark.parametrize("parser, expected", [
    # overlapping out arguments: p4c's SideEffectOrdering copies them into `tmp`, `tmp_0`,
    # copied back after the inlined sub-parser at no position (gauntlet_infinite_loop)
    ("sub.apply(pkt, v, v.b);", ["tmp.a may be uninitialized", "tmp.b may be uninitialized",
                                 "tmp_0.a may be uninitialized", "tmp_0.b may be uninitialized"]),
    ("sub.apply(pkt, v, hdr.h);", []),  # apart: the arguments themselves
    # a call in an expression: SideEffectOrdering's other temporaries would change the numbering
    ("bit<8> k = pkt.lookahead<bit<8>>();\n sub.apply(pkt, v, v.b);", []),
])
def test_overlapping_arguments_of_a_sub_parser_are_copied_back_at_no_position(parser, expected):
    text = build(DECLS=OVERLAP_PARSER, PARSER_LOCALS="Sub() sub; s_t v;", PARSER=parser)
    assert [m for m in positionless(text) if "initialized" in m] == expected


def test_a_callers_unwritten_variable_is_read_where_the_inlined_control_reads_it():
    """p4c: issue4883 (the caller's struct, unwritten, read in the applied control's action)."""
    decls = ("control Sub(inout m_t s) {\n action a1() { if (s.x == 0) { return; } }\n"
             " table t { actions = { a1; } }\n apply { t.apply(); }\n}")
    text, _ = marked_lines(build(DECLS=decls, LOCALS="Sub() sub;", APPLY="m_t s;\n sub.apply(s);"))
    line = line_of(text, "if (s.x == 0)")
    assert (line, "s.x may be uninitialized") in uninitialized(text)
    clean, _ = marked_lines(build(DECLS=decls, LOCALS="Sub() sub;", APPLY="m_t s = { 1 };\n sub.apply(s);"))
    assert uninitialized(clean) == []


def positionless(text: str) -> list[str]:
    return [w.message for w in compile_source(text, "prog.p4").warnings if w.pos is None]


@pytest.mark.parametrize("decls, apply, expected", [
    # p4c's second run: the inlined call copies `val_0` out, at no position (gauntlet_short_circuit)
    ("bit<8> f(out bit<8> val) { return 1; }", "meta.x = f(hdr.h.a);", ["val_0 may be uninitialized"]),
    ("bit<8> f(out bit<8> val) { val = 2; return 1; }", "meta.x = f(hdr.h.a);", []),
    # each call's copy named on from the last (gauntlet_side_effects_in_mux)
    ("bit<8> f(out bit<8> val) { return 1; }", "meta.x = f(hdr.h.a);\n meta.x = f(hdr.h.a);",
     ["val_0 may be uninitialized", "val_1 may be uninitialized"]),
    # a header copied out whole: each field (gauntlet_invalid_hdr_assign)
    ("void f(out h_t tmp) { }", "f(hdr.h);", ["tmp_0.a may be uninitialized", "tmp_0.b may be uninitialized"]),
    # a call p4c's constant folding removes first is not inlined: it names nothing
    ("bool g(inout bit<8> val) { val = 1; return true; }\n bit<8> f(out bit<8> val) { return 1; }",
     "bool b = true || g(hdr.h.a);\n meta.x = f(hdr.h.a);", ["val_0 may be uninitialized"]),
    # an action's own variable is passed in place, with no copy
    ("bit<8> f(out bit<8> val) { return 1; }", "", []),
])
def test_an_inlined_functions_unwritten_out_copy_is_read_where_p4c_copies_it_out(decls, apply, expected):
    locals_ = "action a() { bit<8> v; meta.x = f(v); }" if not apply else ""
    text = build(DECLS=decls, LOCALS=locals_, APPLY=apply or "a();")
    assert positionless(text) == expected


def test_an_inlined_functions_parameter_copies_the_arguments_header_validity():
    """p4c: issue1717 (the copy of `h` is `h_0`, invalid as the argument)."""
    decls = "bit<8> f(in h_t h) {\n return h.a; @@\n}"
    text, lines = marked_lines(build(DECLS=decls, APPLY="h_t l;\n meta.x = f(l);"))
    assert [w for w in warnings(text) if "header" in w[1]] == [
        (lines[0], "accessing a field of an invalid header h_0")]
    clean, _ = marked_lines(build(DECLS=decls, APPLY="h_t l;\n l.setValid();\n meta.x = f(l);"))
    assert [w for w in warnings(clean) if "header" in w[1]] == []


@pytest.mark.parametrize("apply, expected", [
    # an index of operators printed as p4c's dbprint prints it, a local by the name p4c's
    # UniqueNames gave it, then its own (array_field: `s[a_0/a + 1]`)
    ("h_t[2] s;\n bit<1> i = (bit<1>)meta.x;\n meta.x = s[i + 1].a; @@", ["s[i_0/i + 1]"]),
    ("h_t[2] s;\n bit<1> i = (bit<1>)meta.x;\n meta.x = s[i].a; @@", ["s[i]"]),  # a path: as written
    ("h_t[2] s;\n s[0].setValid();\n s[1].setValid();\n bit<1> i = (bit<1>)meta.x;\n meta.x = s[i + 1].a;", []),
])
def test_a_run_time_index_of_operators_is_printed_as_p4c_prints_it(apply, expected):
    text, lines = marked_lines(build(APPLY=apply))
    assert [w for w in warnings(text) if "header" in w[1]] == [
        (line, f"accessing a field of an invalid header {h}") for line, h in zip(lines, expected)]


def test_a_field_of_a_stack_element_by_a_run_time_index_is_valid_if_any_element_may_be():
    text, lines = marked_lines(build(APPLY=(
        "h_t[2] s;\n bit<1> i = (bit<1>)meta.x;\n meta.x = s[i].a; @@\n s[i].setValid();\n meta.x = s[i].a;")))
    assert [w for w in warnings(text) if "header" in w[1]] == [
        (lines[0], "accessing a field of an invalid header s[i]")]


def test_an_action_out_parameter_left_unwritten_is_read_where_it_is_declared_to_copy_it_out():
    text, lines = marked_lines(build(LOCALS="action a(out bit<8> v @@, in bool c) { if (c) { v = 1; } }",
                                     APPLY="a(meta.x, true);"))
    assert uninitialized(text) == [(lines[0], "v may be uninitialized")]


OUT_PARSER = """#include <core.p4>
enum E { A, B }
parser p(out bit<32> z) {
    state start { STATE }
    state one { z = 1; transition accept; }
    state two { z = 2; transition accept; }
}
parser proto(out bit<32> z);
package top(proto _p);
top(p()) main;
"""


@pytest.mark.parametrize("state, warned", [
    ("bool b = true; if (b) { z = 1; } else { z = 2; } transition accept;", True),  # p4c: issue2409
    ("bit<32> a = 1; z = a == 0 ? 32w2 : 3; transition accept;", True),  # p4c: parser-conditional
    ("z = 0; if (z == 0) { z = 1; } transition accept;", False),  # written before the branch
    ("bit<32> a = 1; transition select(a) { 0: one; 1: two; }", True),  # no case may match: reject
    ("bit<32> a = 1; transition select(a) { 0: one; default: two; }", False),
    ("transition select(32w1) { 0: one; 1: two; }", False),  # folded: always `two`
    ("transition select(E.A) { E.B: reject; E.A: two; }", False),
    ("transition reject;", True),
])
def test_a_parser_out_parameter_is_checked_where_paths_end_at_accept_or_reject(state, warned):
    """p4c checks a parser's out parameters where accept and reject join; a select with no
    `default` may go to reject, and its front end makes each `if` or `?:` of a state one."""
    text = OUT_PARSER.replace("STATE", state)
    expected = [(3, "out parameter 'z' may be uninitialized when 'p' terminates")]
    assert [w for w in warnings(text) if w[1].startswith("out parameter")] == (expected if warned else [])


def test_an_abstract_method_an_instance_implements_has_its_out_parameters_checked():
    """p4c: issue3417, checked with the parser that declares the instance, used or not."""
    text = """#include <core.p4>
extern Acc<T> {
    Acc();
    abstract void apply(inout T value, out T rv);
}
parser p() {
    Acc<bit<8>>() acc = {
        void apply(inout bit<8> value, out bit<8> rv) { return; }
    };
    state start { transition accept; }
}
parser proto();
package top(proto _p);
top(p()) main;
"""
    assert [w for w in warnings(text) if w[1].startswith("out parameter")] == [
        (line_of(text, "out bit<8> rv"), "out parameter 'rv' may be uninitialized when 'apply' terminates")]


@pytest.mark.parametrize("locals_, state, expected", [
    ("bool bv = true;", "transition select(bv) {\n false: reject;\n true: accept;\n }", 1),  # p4c: issue361
    ("", "bool b = true;\n if (b) { meta.x = 1; } else { meta.x = 2; }\n transition accept;", 2),  # issue2409
    ("bit<8> a = 1;", "meta.x = a == 0 ? 8w2 : 3;\n transition accept;", 1),  # parser-conditional
    ("bool bv = true;", "transition select(bv) {\n false: reject;\n default: accept;\n }", 0),
    ("bool bv = true;", "bv = hdr.h.a == 0;\n transition select(bv) {\n false: reject;\n true: accept;\n }", 0),
    ("", "if (hdr.h.a == 0) { meta.x = 1; }\n transition accept;", 0),
])
def test_a_select_the_mid_end_decides_from_local_constants_has_its_added_default_unreachable(
        locals_, state, expected):
    """p4c's mid end gives each select with no `default` one (HandleNoMatch), then folds what
    the locals a state set to constants decide: the cases after the one taken, the added
    `default` among them, are unreachable (the cases the front end made of an `if`: no line)."""
    text = build(PARSER_LOCALS=locals_).replace("transition accept; }", state + " }", 1)
    assert [w for w in warnings(text) if "SelectCase" in w[1]] == [(0, "SelectCase: unreachable case")] * expected


def test_an_original_case_after_the_one_a_local_constant_takes_is_unreachable_where_it_is():
    text = build(PARSER_LOCALS="bit<8> k = 2;").replace(
        "transition accept; }", "transition select(k) {\n 2: accept;\n 3: reject;\n }\n }", 1)
    assert [w for w in warnings(text) if "SelectCase" in w[1]] == [
        (line_of(text, " 3: reject"), "SelectCase: unreachable case"), (0, "SelectCase: unreachable case")]


@pytest.mark.parametrize("loop, warned", [
    ("@unroll for (bit<8> i = 0; i < 4; i = i + 1) { meta.x = meta.x + 1; }", False),
    ("@unroll for (bit<8> i = 20; i != 0; i = i - 2) { meta.x = meta.x + 1; }", False),
    ("@unroll for (bit<8> i = 0; i < 4; i = i + 1) { if (meta.x == 0) { i = i + 1; } }", True),  # forloop8
    ("@unroll for (bit<8> i = 5; i != 0; ) { if (meta.x == 0) { i = i - 1; } }", True),  # forloop10
    ("@unroll for (bit<8> i = 0; i < meta.x; i = i + 1) { meta.x = meta.x - 1; }", True),
    ("@unroll for (bit<8> i = 0; i != 1; i = i + 2) { meta.x = meta.x + 1; }", True),  # never ends
    ("for (bit<8> i = 0; i < meta.x; i = i + 1) { meta.x = meta.x - 1; }", False),  # not asked to
    ("@unroll for (bit<8> v in 1 .. 3) { meta.x = meta.x + v; }", False),
    ("@unroll for (bit<8> v in 1 .. meta.x) { meta.x = meta.x + v; }", True),
])
def test_a_loop_annotated_unroll_that_p4c_cannot_unroll_is_warned_about(loop, warned):
    text = build(APPLY=loop)
    expected = [(line_of(text, "apply {"), "Can't unroll loop: ForStatement")]
    assert [w for w in warnings(text) if "unroll" in w[1]] == (expected if warned else [])


def test_a_loop_index_another_loop_writes_too_cannot_be_unrolled():
    """p4c: forloop9, two writes reach the condition before the loop: neither is the step."""
    text = build(APPLY="bit<8> i = 0;\n @no_unroll for (bit<8> j = 0; j < 10; j = j + 1) { i = i + 1; }\n"
                       " @unroll for (; i < 20; ) { meta.x = meta.x + 1; }")
    assert [w for w in warnings(text) if "unroll" in w[1]] == [
        (line_of(text, "for (; i"), "Can't unroll loop: ForStatement")]


SUB_CONTROL = """#include <core.p4>
control c(out bit<32> x, in bool k) {
    apply { BODY }
}
control d(out bit<32> x) {
    c() cinst;
    apply { CALLS }
}
control proto(out bit<32> x);
package top(proto _d);
top(d()) main;
"""


@pytest.mark.parametrize("body, calls, warned", [
    ("if (k) { return; } x = 1;", "cinst.apply(x, true);", True),  # p4c: inline-switch
    ("if (k) { x = 2; } else { x = 1; }", "cinst.apply(x, true);", False),
    ("if (k) { return; } x = 1;", "if (x == 0) { cinst.apply(x, true); } else { cinst.apply(x, false); }",
     False),  # applied twice: through temporaries, copied out
    ("if (k) { return; } x = 1;", "cinst.apply(x = x, k = true);", True),
])
def test_an_out_argument_of_a_control_applied_once_is_written_as_its_body_writes_it(body, calls, warned):
    """p4c's inliner puts the arguments of a control applied once in place of its parameters,
    so its def-use run after inlining sees the caller's out parameter as the callee leaves it."""
    text = SUB_CONTROL.replace("BODY", body).replace("CALLS", calls)
    found = [w for w in warnings(text) if w[1].startswith("out parameter") and "'d'" in w[1]]
    assert found == ([(line_of(text, "control d(out bit<32> x"), "out parameter 'x' may be uninitialized "
                       "when 'd' terminates")] if warned else [])


@pytest.mark.parametrize("apply, warned", [
    ("if (true) { meta.x = 1; } else { meta.x = -1; }", False),  # p4c: gauntlet_nested_ifs_in_function
    ("if (false) { meta.x = -1; }", False),
    ("if (false) { meta.x = 1; } else { meta.x = -1; }", True),
    ("if (meta.x == 0) { meta.x = -1; }", True),
])
def test_a_branch_a_literal_condition_never_takes_gives_no_warnings(apply, warned):
    """p4c's constant folding drops it before its type checker could warn about it."""
    text = build(APPLY=apply)
    expected = [(line_of(text, "apply {"), "-8w1: negative value with unsigned type")]
    assert warnings(text) == (expected if warned else [])


@pytest.mark.parametrize("arg, unreachable", [("false", " true: reject"), ("true", None)])
def test_a_select_on_a_constructor_parameter_main_gives_a_constant_is_folded(arg, unreachable):
    """p4c: parser-unroll-t1-cond, folded once the front end inlined the parser into main."""
    text = build().replace("parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm)",
                           "parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm)"
                           "(bool test)", 1).replace(
        "transition accept; }", "transition select(test) {\n false: accept;\n true: reject;\n }\n }", 1).replace(
        "V1Switch(P(),", f"V1Switch(P({arg}),", 1)
    found = [w for w in warnings(text) if "SelectCase" in w[1]]
    assert found == ([(line_of(text, unreachable), "SelectCase: unreachable case")] if unreachable else [])


@pytest.mark.parametrize("asks, warned", [
    ("bool b = lh.isValid();\n b = b || lh.isValid();", True),  # p4c: issue561, b is dead
    ("bool b = lh.isValid();\n meta.x = (bit<8>)(bit<1>)b;", False),  # b is read: the ask holds
])
def test_an_isvalid_in_a_dead_assignment_silences_no_invalid_header_warning(asks, warned):
    """p4c repeats its def-use pass, which removes dead assignments: the later rounds warn."""
    text, lines = marked_lines(build(APPLY=f"h_t lh;\n {asks}\n meta.x = lh.a; @@"))
    assert [w for w in warnings(text) if "header" in w[1]] == (
        [(lines[0], "accessing a field of an invalid header lh")] if warned else [])
