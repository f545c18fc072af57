"""Compiling the example programs: the typed IR that the switch and P4Runtime consume."""

import pathlib

import pytest

from fabriclab.p4 import CompileError, compile_file, compile_source, ir, load_artifact

REPO = pathlib.Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "p4"
PROGRAMS = sorted(DATA.glob("*.p4")) + [REPO / "p4src" / "basic.p4"]


def _walk(node, seen=None):
    """Every IR node reachable from `node` (depth first)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    for value in vars(node).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, tuple):
                item = item[1] if len(item) == 2 and isinstance(item[1], ir.Node) else None
            if isinstance(item, (ir.Stmt, ir.Expr, ir.Argument, ir.SwitchCase, ir.ParserState, ir.Transition,
                                 ir.SelectExpr, ir.SelectCase, ir.KeyElement, ir.ActionRef, ir.Entry,
                                 ir.TableProperty)) or isinstance(item, (ir.ControlDecl, ir.ParserDecl,
                                                                         ir.ActionDecl, ir.TableDecl)):
                yield from _walk(item, seen)


def _user_nodes(compiled):
    for decl in compiled.program.decls:
        if isinstance(decl, (ir.ControlDecl, ir.ParserDecl)):
            yield from _walk(decl)


@pytest.fixture(scope="module", params=PROGRAMS, ids=lambda p: p.name)
def compiled(request):
    return compile_file(request.param)


def test_every_expression_is_typed_and_every_call_classified(compiled):
    exprs = [n for n in _user_nodes(compiled) if isinstance(n, ir.Expr)]
    assert exprs
    for e in exprs:
        assert e.type is not None, f"untyped {e!r} ({e.text})"
        assert not isinstance(e, ir.TypeMember), "TypeMember must be resolved"
        if isinstance(e, ir.MethodCall):
            assert isinstance(e.kind, ir.CallKind)
            assert all(a.param is not None for a in e.args)
        if isinstance(e, ir.PathExpr):
            assert e.decl is not None


def test_basic_ir_shape():
    prog = compile_file(REPO / "p4src" / "basic.p4").program
    ingress = prog.pipeline()["ig"]
    assert isinstance(ingress, ir.ControlDecl) and ingress.name == "MyIngress"
    table = ingress.local("ipv4_lpm")
    assert [k.name for k in table.keys] == ["hdr.ipv4.dstAddr"]
    assert table.keys[0].expr.type == ir.BitType(32)
    assert [a.name for a in table.actions] == ["ipv4_forward", "drop", "NoAction"]
    assert table.default_action.decl is ingress.local("drop")
    fwd = ingress.local("ipv4_forward")
    assert [p.type for p in fwd.control_plane_params] == [ir.BitType(48), ir.BitType(9)]
    ttl = fwd.body.stmts[3]
    assert isinstance(ttl.rhs, ir.Binary) and ttl.rhs.op == "-"
    assert isinstance(ttl.rhs.right, ir.Constant) and ttl.rhs.right.type == ir.BitType(8)
    cond = ingress.body.stmts[0].cond
    assert cond.kind == ir.CallKind.IS_VALID and cond.type == ir.BoolType()
    apply = ingress.body.stmts[0].then.stmts[0].call
    assert apply.kind == ir.CallKind.TABLE_APPLY and apply.decl is table
    parser = prog.pipeline()["p"]
    start = parser.state("parse_ethernet")
    assert start.stmts[0].call.kind == ir.CallKind.EXTRACT
    case = start.transition.select.cases[0]
    assert isinstance(case.keysets[0], ir.Constant) and case.keysets[0].value == 0x800
    assert case.state_decl is parser.state("parse_ipv4")
    assert prog.pipeline()["dep"].body.stmts[0].call.kind == ir.CallKind.EMIT


def test_constants_are_folded():
    prog = compile_file(DATA / "expressions.p4").program
    body = prog.pipeline()["ig"].body.stmts
    last = body[-1]
    assert isinstance(last.rhs, ir.Constant) and last.rhs.value == 127 and last.rhs.type == ir.BitType(7)
    shifted = next(s for s in body if isinstance(s, ir.Assign) and s.rhs.text == "8w1<<7")
    assert isinstance(shifted.rhs, ir.Constant) and shifted.rhs.value == 128


def test_stacks_and_unions():
    prog = compile_file(DATA / "stacks.p4").program
    headers = prog.find("headers_t")
    mpls = headers.get_field("mpls").type
    assert isinstance(mpls, ir.StackType) and mpls.size == 4 and mpls.elem.name == "mpls_t"
    assert headers.get_field("ip").type.kind == "header_union"
    push = prog.pipeline()["ig"].local("push").body.stmts[0].call
    assert push.kind == ir.CallKind.PUSH_FRONT
    parse_mpls = prog.pipeline()["p"].state("parse_mpls")
    nxt = parse_mpls.stmts[0].call.args[0].value
    assert isinstance(nxt, ir.Member) and nxt.member == "next" and nxt.type.name == "mpls_t"
    inner = prog.pipeline()["p"].state("parse_inner").transition.select.keys[0]
    assert inner.kind == ir.CallKind.LOOKAHEAD and inner.type == ir.BitType(4)


def test_serializable_enum_values_and_newtypes():
    prog = compile_file(DATA / "types.p4").program
    proto = prog.find("Proto")
    assert proto.values == {"TCP": 6, "UDP": 17, "ICMP": 1} and proto.underlying == ir.BitType(8)
    assert "BadVersion" in prog.errors and prog.errors[0] == "NoError"
    switch = next(s for s in prog.pipeline()["ig"].body.stmts if isinstance(s, ir.Switch))
    assert not switch.is_action_run and switch.cases[1].body is None  # fall-through label


def test_select_keysets():
    parser = compile_file(DATA / "select.p4").program.pipeline()["p"]
    cases = parser.state("start").transition.select.cases
    assert isinstance(cases[0].keysets[0].decl, ir.ValueSetDecl)
    assert isinstance(cases[1].keysets[0], ir.Mask)
    assert isinstance(cases[2].keysets[0], ir.Range)
    vlan = parser.state("parse_vlan").transition.select.cases
    assert len(vlan[1].keysets) == 2 and isinstance(vlan[2].keysets[1], ir.DefaultExpr)


def test_tables_resources_and_entries():
    ingress = compile_file(DATA / "tables.p4").program.pipeline()["ig"]
    acl = ingress.local("acl")
    assert not acl.entries_const and [e.priority for e in acl.entries] == [30, 10, 9]
    assert acl.counters.name == "acl_counter" and acl.meters.name == "acl_meter"
    assert ingress.local("ecmp").implementation.name == "ecmp_selector"
    routes = ingress.local("ipv4_lpm")
    assert routes.default_action_const and routes.size == 4096
    fixed = ingress.local("fixed")
    assert [a.value.value for a in fixed.default_action.args] == [1, 2]
    switch = ingress.body.stmts[0]
    assert switch.is_action_run and switch.cases[0].label.decl is ingress.local("set_nhop")


def test_artifact_round_trip(tmp_path):
    compiled = compile_file(REPO / "p4src" / "basic.p4")
    path = tmp_path / "basic.json"
    path.write_bytes(compiled.to_artifact())
    loaded = load_artifact(path)
    assert loaded.p4info == compiled.p4info and loaded.name == "basic"
    assert load_artifact(compiled.to_artifact()).source == compiled.source


@pytest.mark.parametrize("data, message", [
    (b"not json", "invalid JSON"),
    (b'{"format": "other"}', "wrong 'format'"),
    (b'{"format": "fabriclab-pipeline", "version": 99}', "unsupported artifact version"),
])
def test_bad_artifacts_are_rejected(data, message):
    with pytest.raises(CompileError, match=message):
        load_artifact(data)


def test_compile_source_with_defines():
    text = "#include <v1model.p4>\nconst bit<8> X = VALUE;\n" + (REPO / "p4src" / "basic.p4").read_text()
    compiled = compile_source(text, "defs.p4", defines={"VALUE": "7"})
    assert compiled.program.find("X").value.value == 7
    with pytest.raises(CompileError, match="VALUE: declaration not found"):
        compile_source(text, "defs.p4")


def test_v1model_version_selects_the_generic_externs():
    text = (REPO / "p4src" / "basic.p4").read_text().replace(
        "    apply {\n        if (hdr.ipv4.isValid()) {",
        "    register<bit<32>, bit<8>>(256) r;\n"
        "    apply {\n        PortId_t p = standard_metadata.ingress_port;\n"
        "        r.write(hdr.ipv4.ttl, 1);\n        if (hdr.ipv4.isValid()) {")
    new = compile_source(text, "v2.p4", defines={"V1MODEL_VERSION": "20200408"})
    assert [r.preamble.name for r in new.p4info.registers] == ["MyIngress.r"]
    with pytest.raises(CompileError, match=r"unexpected IDENTIFIER\n.*\n *\^\n\(.PortId_t. is not a type"):
        compile_source(text, "v1.p4")
    with pytest.raises(CompileError, match="register<bit<32>, bit<8>>: Type register has 1 type parameter.s., but it is "
                                               "specialized with 2"):
        compile_source(text.replace("PortId_t p", "bit<9> p"), "v1.p4")


def test_serializable_enums_cast_implicitly_to_their_underlying_type():
    text = (DATA / "types.p4").read_text().replace(
        "bit<8> p = (bit<8>)meta.proto;",
        "bit<8> p = meta.proto; bit<8> q = Proto.UDP; bool z = hdr.ip.proto == 6;")
    stmts = compile_source(text, "enums.p4").program.pipeline()["ig"].body.stmts
    p, q, z = [s for s in stmts if isinstance(s, ir.VarDecl) and s.name in ("p", "q", "z")]
    assert isinstance(p.init, ir.Cast) and p.init.type == ir.BitType(8) and p.init.expr.type.name == "Proto"
    assert isinstance(q.init, ir.Constant) and q.init.value == 17
    assert isinstance(z.init.left, ir.Cast) and z.init.right.type == ir.BitType(8)
    with pytest.raises(CompileError, match="cannot be used as Proto"):
        compile_source(text.replace("meta.proto = hdr.ip.proto;", "meta.proto = 6;"), "enums.p4")


def test_serializable_enum_over_a_typedef():
    text = (REPO / "p4src" / "basic.p4").read_text().replace(
        "struct metadata {", "typedef bit<8> b8_t;\nenum b8_t Kind { A = 1, B = 2 }\nstruct metadata {\n    Kind k;")
    kind = compile_source(text, "enum_typedef.p4").program.find("Kind")
    assert kind.values == {"A": 1, "B": 2} and kind.underlying == ir.BitType(8)


def _entries_table(props: str, entries: str, const: bool = False) -> str:
    table = ("    table prio {\n        key = { hdr.ipv4.srcAddr: ternary; }\n        actions = { drop; NoAction; }\n"
             f"        {props}\n        {'const ' if const else ''}entries = {{ {entries} }}\n    }}\n")
    return (REPO / "p4src" / "basic.p4").read_text().replace(
        "    apply {\n        if (hdr.ipv4.isValid()) {",
        table + "    apply {\n        prio.apply();\n        if (hdr.ipv4.isValid()) {")


@pytest.mark.parametrize("props, entries, expected", [
    ("", "1 &&& 1 : drop(); 2 &&& 2 : drop(); 3 &&& 3 : drop();", [3, 2, 1]),
    ("largest_priority_wins = false; priority_delta = 5;", "1 : drop(); 2 : drop(); 3 : drop();", [1, 6, 11]),
    ("priority_delta = 100;", "priority = 1000 : 1 : drop(); 2 : drop(); priority = 901 : 4 : drop(); 5 : drop();",
     [1000, 901, 900, 801]),  # out of order: sorted, as p4c's front end does
])
def test_entry_priorities_follow_the_p4_spec(props, entries, expected):
    prog = compile_source(_entries_table(props, entries), "prio.p4").program
    assert [e.priority for e in prog.pipeline()["ig"].local("prio").entries] == expected


@pytest.mark.parametrize("props, entries, const, message", [
    ("", "priority = 3 : 1 : drop();", True, "Table with 'const' entries cannot have priorities"),
    ("", "1 : drop(); priority = 3 : 2 : drop();", False, "Entry entry must have a priority"),
    ("priority_delta = 10;", "priority = 12 : 1 : drop(); 2 : drop(); 3 : drop();", False,
     "Overflow in priority computation"),
])
def test_bad_entry_priorities(props, entries, const, message):
    with pytest.raises(CompileError, match=message):
        compile_source(_entries_table(props, entries, const), "prio.p4")


def test_out_of_order_priorities_warn_unless_silenced():
    entries = "priority = 10 : 1 : drop(); priority = 20 : 2 : drop();"
    warned = compile_source(_entries_table("", entries), "prio.p4").warnings
    assert any("Entry (priority 10) and Entry (priority 20) have priorities out of order" in w.message
               for w in warned)
    quiet = _entries_table("", entries).replace("entries = {", '@noWarn("entries-out-of-priority-order") entries = {')
    assert not compile_source(quiet, "prio.p4").warnings


def test_an_optional_extern_parameter_may_be_left_out():
    """`@optional` parameters of an extern method (p4c: issue2664-bmv2) need no argument (in a
    package of its own: simple_switch implements no user externs)."""
    src = """
#include <core.p4>
extern Summer { Summer(); bit<8> sum<T>(in T data, @optional in bool wide); }
struct m_t { bit<8> x; }
control C(inout m_t meta) {
    Summer() s;
    apply { meta.x = s.sum({ meta.x }); meta.x = s.sum({ meta.x }, true); }
}
control proto(inout m_t meta);
package top(proto p);
top(C()) main;
"""
    compile_source(src, "t.p4")
    with pytest.raises(CompileError, match="missing 'data'|expected 1 or 2|expected 2"):
        compile_source(src.replace("s.sum({ meta.x }, true)", "s.sum()"), "t.p4")


def test_an_action_may_call_the_extern_function_it_is_named_after():
    """`action hash() { hash(...); }`: the call is the extern, chosen by its arguments, as
    p4c resolves it (issue1541)."""
    src = (DATA / "compound.p4").read_text().replace(
        "    apply { sm.egress_spec = 1;",
        "    action hash() { hash(meta.x, HashAlgorithm.identity, 8w0, { 8w7 }, 16w256); }\n"
        "    apply { hash(); sm.egress_spec = 1;")
    program = compile_source(src, "t.p4").program
    action = program.pipeline()["ig"].local("hash")
    assert action.body.stmts[0].call.kind == ir.CallKind.EXTERN_FUNCTION


def test_a_generic_struct_in_an_extern_method_signature():
    """`Pair<V> get(in K k);` inside `extern Map<K, V>`: a specialization of a declared
    generic struct, not a method named Pair with type parameters (p4c: issue3091)."""
    src = (DATA / "compound.p4").read_text().replace(
        "struct m_t { bit<8> x; }",
        "struct m_t { bit<8> x; }\nstruct Pair<T> { T value; bool hit; }\n"
        "extern Map<K, V> { Map(); Pair<V> get(in K key); }")
    program = compile_source(src, "t.p4").program
    ext = next(d for d in program.decls if getattr(d, "name", "") == "Map")
    assert [m.name for m in ext.methods] == ["get"]
