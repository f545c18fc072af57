"""Rules p4c applies to tables, actions, parsers and v1model that fabriclab enforces as well.

Each rule has a program p4c rejects (the message and the line are checked: `@@` marks the line
the first diagnostic must name) and a close variant p4c accepts, which must compile.
"""

import pytest

from fabriclab.p4 import CompileError, TargetError, compile_source
from marked import V1MODEL, compiles, rejected_at
from marked import build as fill

# the scaffold with three actions in the ingress control and three metadata fields
TEMPLATE = V1MODEL.replace("    {LOCALS}\n", "    action a0() { }\n    action a1(bit<8> p) { meta.x = p; }\n"
                           "    action a2(inout bit<32> v, bit<8> p) { v = v + (bit<32>)p; }\n    {LOCALS}\n", 1)
META = "bit<8> x; bit<16> y; bit<32> z;"


def build(template: str = TEMPLATE, **slots: str) -> str:
    return fill(template, **{"META": META, **slots})


def rejected(message: str, template: str = TEMPLATE, **slots: str) -> None:
    """The program must be rejected with `message`, its first diagnostic on the `@@` line."""
    rejected_at(build(template, **slots), message, "t.p4")


def accepted(template: str = TEMPLATE, **slots: str) -> None:
    compiles(build(template, **slots), "t.p4")


def table(body: str, name: str = "t") -> dict[str, str]:
    return {"LOCALS": f"table {name} {{ {body} }}", "APPLY": f"{name}.apply();"}


def test_template_compiles():
    accepted()


# -- a table's properties and their order (p4c: missing_actions, issue2033, entries-keyless,
# issue3442, table-entries-decl-order)
def test_table_needs_actions():
    rejected("t: expected 'actions' property", **table("@@key = { meta.x : exact; }"))
    accepted(**table("key = { meta.x : exact; } actions = { }"))


def test_default_action_before_actions():
    rejected("has no action list, so it cannot invoke 'a0()'",
             **table("@@default_action = a0;\n actions = { a0; }"))
    accepted(**table("actions = { a0; } default_action = a0;"))


def test_entries_need_a_key():
    rejected("Entries cannot be specified for a table with no key",
             **table("@@actions = { a0; } const entries = { _ : a0(); }"))
    rejected("Entries cannot be specified for a table with no key",
             **table("@@key = { } actions = { a0; } const entries = { _ : a0(); }"))
    accepted(**table("key = { } actions = { a0; } const entries = { }"))
    accepted(**table("key = { meta.x : exact; } actions = { a0; } const entries = { 1 : a0(); }"))


def test_entries_after_key():
    rejected("EntriesList: Entries list must be after table key Key",
             **table("actions = { a0; }\n @@const entries = { 1 : a0(); }\n key = { meta.x : exact; }"))


def test_entries_after_actions():
    rejected("has no action list before its entries",
             **table("@@key = { meta.x : exact; } const entries = { 1 : a0(); }\n actions = { a0; }"))


# -- default_action and entries invoke the listed action (p4c: default_action1, action-bind,
# issue1542, issue3671-2, issue473, issue1580)
def test_absolute_name_is_another_action():
    decls = {"DECLS": "action b() { }", "APPLY": "t.apply();"}
    local = "action b() {{ meta.x = 1; }}\n table t {{ {0} }}"
    rejected("refer to different actions",
             **decls, LOCALS=local.format("actions = { b; }\n @@default_action = .b();"))
    accepted(**decls, LOCALS=local.format("actions = { .b; } default_action = .b();"))
    accepted(**decls, LOCALS=local.format("actions = { b; } default_action = b();"))


def test_bound_arguments_must_match():
    rejected("argument does not match declaration in actions list: meta.z",
             **table("actions = { a2(meta.z); }\n @@default_action = a2(sm.enq_timestamp, 1);"))
    accepted(**table("actions = { a2(meta.z); } default_action = a2(meta.z, 1);"))


def test_bound_struct_arguments_compare_by_field():
    decls = {"DECLS": "struct s_t { bit<8> f0; bit<8> f1; }"}
    locals_ = ("action a3(in s_t v) { meta.x = v.f0; }\n"
               "table t { actions = { a3({f0 = 1, f1 = 2}); }\n {DEFAULT} }")
    rejected("argument does not match declaration in actions list", **decls, APPLY="t.apply();",
             LOCALS=locals_.replace("{DEFAULT}", "@@default_action = a3({f1 = 1, f0 = 2});"))
    accepted(**decls, APPLY="t.apply();", LOCALS=locals_.replace("{DEFAULT}", "default_action = a3({f1 = 2, f0 = 1});"))


def test_bound_arguments_must_be_repeated():
    rejected("a2(1): Parameter v must be bound", **table("actions = { a2(meta.z); }\n @@default_action = a2(1);"))


def test_an_action_listed_without_its_directional_arguments_is_unbound():
    """p4c: action-bind1, action-bind2 (printed as a call, with the arguments given)."""
    rejected("a2(): Parameter v must be bound", **table("actions = { @@a2; }"))
    rejected("a2(): Parameter v must be bound", **table("actions = { a2(meta.z); }\n @@default_action = a2();"))


def test_control_plane_arguments_are_constants():
    rejected("action argument must be a compile-time constant",
             **table("actions = { a2(meta.z); }\n @@default_action = a2(meta.z, meta.x);"))
    rejected("action argument must be a compile-time constant",
             **table("key = { meta.x : exact; } actions = { a1; }\n const entries = { 1 : a1(@@meta.x); }"))
    accepted(DECLS="const bit<8> K = 3;",
             **table("key = { meta.x : exact; } actions = { a1; } const entries = { 1 : a1(K); } "
                     "default_action = a1((bit<8>)4);"))


def test_defaultonly_and_tableonly():
    rejected("Entry: Action marked with defaultonly used in table",
             **table("key = { meta.x : exact; } actions = { @defaultonly a0; a1; }\n const entries = {\n @@1 : a0(); }"))
    rejected("default_action: Action marked with tableonly used as default action",
             **table("key = { meta.x : exact; } actions = { @tableonly a0; a1; }\n @@default_action = a0;"))
    # both: p4c checks the properties in their order, the entries' actions with the entries (issue1580)
    rejected("Entry: Action marked with defaultonly used in table",
             **table("key = { meta.x : exact; } actions = { @tableonly a0; @defaultonly a1; }\n"
                     " const entries = {\n @@1 : a1(2); } default_action = a0;"))
    rejected("default_action: Action marked with tableonly used as default action",
             **table("key = { meta.x : exact; } actions = { @tableonly a0; @defaultonly a1; }\n"
                     " @@default_action = a0; const entries = { 1 : a1(2); }"))
    accepted(**table("key = { meta.x : exact; } actions = { @tableonly a0; @defaultonly a1; }\n"
                     " const entries = { 1 : a0(); } default_action = a1(2);"))


# -- control-plane names of actions, reported with P4Info (p4c: issue1949-bmv2, multicast-bmv2,
# actions-with-duplicate-control-plane-names1)
def p4info_errors(**slots: str) -> list[str]:
    return [d.message for d in compile_source(build(**slots), "t.p4").p4info_errors]


def test_actions_with_the_same_control_plane_name():
    two = ('@name(".foo") action x() { meta.x = 1; }\n @name("{NAME}") action y() { meta.x = 2; }\n'
           'table t { actions = { x; y; } }')
    errors = p4info_errors(LOCALS=two.replace("{NAME}", ".foo"), APPLY="t.apply();")
    assert len(errors) == 1 and errors[0].startswith(".foo: conflicting control plane name: .foo\n")
    assert p4info_errors(LOCALS=two.replace("{NAME}", "foo"), APPLY="t.apply();") == []
    # a local @name(".foo") and a top-level action foo
    errors = p4info_errors(DECLS="action foo() { }", APPLY="t.apply();",
                           LOCALS='@name(".foo") action x() { } table t { actions = { x; foo; } }')
    assert len(errors) == 1 and errors[0].startswith(".foo: conflicting control plane name: foo\n")
    # unused actions are not checked
    assert p4info_errors(DECLS="action foo() { }", LOCALS='@name(".foo") action x() { }') == []


def test_control_instantiated_twice_repeats_absolute_action_names():
    sub = ('control S(inout m_t meta) {{ {ACTION} action z() {{ meta.x = 2; }} '
           'table s {{ actions = {{ y; z; }} }} apply {{ s.apply(); }} }}')
    locals_ = "S() s1; S() s2;"
    apply = "s1.apply(meta); s2.apply(meta);"
    errors = p4info_errors(DECLS=sub.format(ACTION='@name(".y") action y() { }'),
                           LOCALS=locals_, APPLY=apply)
    assert any(e.startswith(".y: conflicting control plane name: .y\n") for e in errors)
    errors = p4info_errors(DECLS=sub.format(ACTION="action y() { }"), LOCALS=locals_, APPLY=apply)
    assert not any("conflicting" in e for e in errors)


# -- what p4c's mid end cannot compile for BMv2 (p4c: issue3299, issue2545, issue1777-bmv2, issue532)
def test_switch_in_a_used_action():
    rejected("SwitchStatement: switch statements not supported in actions on this target",
             LOCALS="action s() {\n @@switch (meta.x) { 1: { meta.y = 1; } } }", APPLY="s();")
    accepted(LOCALS="action s() { switch (meta.x) { 1: { meta.y = 1; } } }")  # unused: p4c removes it
    accepted(APPLY="switch (meta.x) { 1: { meta.y = 1; } }")


def test_extern_with_an_inout_nested_struct():
    decls = "struct n_t { h_t h; }\n extern void ext(inout n_t v);\n extern void ext2(inout m_t v);"
    # (p4c quotes the call as its mid end made it: the local renamed and split into its fields)
    rejected("ext({ h = n_0_h }): extern functions with 'out' nested struct argument (v) not supported",
             DECLS=decls, LOCALS="n_t n;", APPLY="@@ext(n);")
    rejected("ext({ h = t_0_h }): extern functions with 'out' nested struct argument (v) not supported",
             DECLS=decls, APPLY="n_t t = { hdr.h };\n @@ext(t);")
    deeper = "struct i_t { h_t h; bit<8> b; }\n struct n_t { i_t i; bit<8> c; }\n extern void ext(inout n_t v);"
    rejected("ext({ i = { h = n_0_i_h, b = n_0_i_b }, c = n_0_c }): extern functions with 'out' nested struct "
             "argument (v) not supported", DECLS=deeper, LOCALS="n_t n;", APPLY="@@ext(n);")
    # (in a package of its own: simple_switch implements no user extern, p4c-bm2-ss rejects any)
    own = TEMPLATE.replace("V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;",
                           "control Ctl<H, M>(inout H h, inout M m, inout standard_metadata_t sm);\n"
                           "package Top<H, M>(Ctl<H, M> c);\nTop(C()) main;")
    accepted(own, DECLS=decls, APPLY="ext2(meta);")


NESTED = TEMPLATE.replace("struct m_t { {META} }", "struct r_t { bit<8> f; }\nstruct m_t { {META} r_t r; }")


def test_extern_writes_a_struct_field_of_a_package_struct():
    reg = "register<r_t>(4) regs;"
    rejected("meta.r: writing to a structure is not supported", NESTED, LOCALS=reg,
             APPLY="regs.read(@@meta.r, 0);")
    rejected("meta.r: writing to a structure is not supported", NESTED, DECLS="extern r_t make();",
             APPLY="@@meta.r = make();")
    # past the mid end, a register of structs is then refused by p4c-bm2-ss's back end
    cells = "register: Only registers with bit or int types are currently supported"
    with pytest.raises(TargetError, match=cells):
        compile_source(build(NESTED, LOCALS=reg + " r_t tmp;",
                             APPLY="regs.read(tmp, 0); meta.r = tmp; regs.write(0, meta.r);"), "t.p4")
    with pytest.raises(TargetError, match=cells):
        compile_source(build(DECLS="struct r_t { bit<8> f; }", LOCALS=reg + " r_t tmp;",
                             APPLY="regs.read(tmp, 0);"), "t.p4")


# -- action parameters (p4c: issue2354-1, param, issue532)
def test_action_parameter_types():
    rejected("x: actions cannot have parameters with type int", LOCALS="action w(@@int x) { }")
    rejected("E: Action parameters cannot have extern types", DECLS="extern E { E(); void f(); }",
             LOCALS="action w(@@E e) { e.f(); }")
    accepted(DECLS="type bit<8> T_t; enum bit<8> S_e { A = 1 }",
             LOCALS="action w(bit<8> a, bool b, T_t c, S_e d) { }")


def test_control_plane_parameter_of_a_struct_type_is_a_p4info_error():
    slots = {"DECLS": "struct s_t { bit<8> f; }", "APPLY": "t.apply();",
             "LOCALS": "action w(s_t v) { meta.x = v.f; } table t { actions = { w; } }"}
    errors = p4info_errors(**slots)
    assert len(errors) == 1 and errors[0].startswith(
        "Action parameter v has a type which is not bit<>, int<>, bool, type or serializable enum\n")
    slots["LOCALS"] = slots["LOCALS"].replace("s_t v", "bit<8> v").replace("v.f", "v")
    assert p4info_errors(**slots) == []


def test_a_p4info_error_comes_before_the_mid_end_s():
    """p4c writes P4Runtime files before its mid end and stops on their errors (issue532)."""
    p4info = "action w(@@r_t v) { meta.x = v.f; } table t { actions = { w; } }"
    rejected("Action parameter v has a type which is not bit<>, int<>, bool, type or serializable enum",
             NESTED, LOCALS=p4info + " register<r_t>(4) regs;", APPLY="regs.read(meta.r, 0); t.apply();")
    rejected("meta.r: writing to a structure is not supported", NESTED, LOCALS="register<r_t>(4) regs;",
             APPLY="regs.read(@@meta.r, 0);")


# -- parsers and @match (p4c: issue2373, issue413, issue1732)
def test_parser_must_reach_accept_or_reject():
    loop = "state s1 { transition s2; } state s2 { transition s1; }"
    text = build(PARSER_LOCALS=loop).replace("transition accept; }\n}", "transition s1; }\n}", 1)
    assert "transition s1; }" in text
    with pytest.raises(CompileError, match="Parser never reaches accept or reject state") as info:
        compile_source(text, "t.p4")
    assert info.value.first.pos.line == text.split("\n").index(next(l for l in text.split("\n")
                                                                   if l.startswith("parser P"))) + 1
    # a select without a default case may reject
    compile_source(build(PARSER_LOCALS="state s1 { transition select(hdr.h.a) { 1: s1; } }")
                   .replace("transition accept; }\n}", "transition s1; }\n}", 1), "t.p4")


def test_no_action_calls_in_parsers():
    decls = "action g(inout bit<8> v) { v = 1; }"
    rejected("Action calls are not allowed within parsers", DECLS=decls, PARSER="@@g(meta.x);")
    accepted(DECLS=decls, APPLY="g(meta.x);")


def test_match_annotation_names_a_match_kind():
    rejected("value must be a match_kind", DECLS="struct v_t {\n @@@match(1+1) bit<8> f; }")
    accepted(DECLS="struct v_t { @match(ternary) bit<8> f; }")


# -- the v1model version (p4c: issue5296_invalid_version, issue5296_unknown_version)
@pytest.mark.parametrize("version, message", [
    ("-6419018", "-6419018: expected v1model version to be a non-negative number"),
    ("20000101", "20000101: unknown v1model version; initial supported version is 20180101, latest is 20200408"),
    ("20200409", "unknown v1model version")])
def test_v1model_version_in_range(version, message):
    with pytest.raises(CompileError) as info:
        compile_source(f"#define V1MODEL_VERSION {version}\n" + build(), "t.p4")
    assert message in info.value.first.message and info.value.first.pos.file.endswith("v1model.p4")


@pytest.mark.parametrize("version", ["20180101", "20200408"])
def test_v1model_versions_p4c_knows(version):
    compile_source(f"#define V1MODEL_VERSION {version}\n" + build(), "t.p4")


# -- the keys of entries (p4c: table-entries-error, table-entries-lpm-2, table-entries-optional-2-bmv2)
def test_duplicate_entry_keys():
    rejected("Duplicate entry keys\n(table 't'",
             **table("key = { meta.x : exact; } actions = { a1; }\n const entries = { 0x01 : a1(1); 0x02 : a1(2);\n"
                     " @@0x01 : a1(3); }"))
    accepted(**table("key = { meta.x : exact; } actions = { a1; } const entries = { 0x01 : a1(1); 0x02 : a1(2); }"))


def test_ternary_entry_covered_by_a_previous_one_is_a_warning():
    text = build(**table("key = { meta.x : exact; meta.y : ternary; } actions = { a1; }\n"
                         " const entries = { (1, _) : a1(1);\n (1, 0x10) : a1(2); (2, 0x10) : a1(3); }"))
    compiled = compile_source(text, "t.p4")
    covered = [w for w in compiled.warnings if "Ternary entry covered by previous entry" in w.message]
    assert len(covered) == 1 and covered[0].pos.line == text.split("\n").index(
        next(l for l in text.split("\n") if "(1, 0x10)" in l)) + 1


def test_lpm_entry_mask_is_a_prefix():
    rejected("invalid mask for LPM key\n(not a prefix",
             **table("key = { meta.x : lpm; } actions = { a1; }\n const entries = {\n @@0x11 &&& 0xE1 : a1(1); }"))
    accepted(**table("key = { meta.x : lpm; } actions = { a1; }\n"
                     " const entries = { 0x10 &&& 0xF0 : a1(1); 0x11 &&& 0xFF : a1(2); 0 &&& 0 : a1(3); }"))


def test_optional_entry_key_takes_no_mask():
    rejected("170 &&& 240 invalid key expression",
             **table("key = { meta.x : optional; } actions = { a1; }\n const entries = {\n @@0xaa &&& 0xf0 : a1(1); }"))
    accepted(**table("key = { meta.x : optional; } actions = { a1; } const entries = { 0xaa : a1(1); _ : a1(2); }"))
