"""P4Info: p4c's names, ids (Jenkins hash, collisions, @id), aliases and field ids."""

import pathlib

import pytest
from google.protobuf import text_format

from fabriclab.p4 import CompileError, compile_file, compile_source
from fabriclab.p4.p4info import SymbolTable, jenkins_hash

REPO = pathlib.Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "p4"
BASIC = (REPO / "p4src" / "basic.p4").read_text()


def _by_name(items):
    return {x.preamble.name: x for x in items}


def test_basic_known_ids():
    info = compile_file(REPO / "p4src" / "basic.p4").p4info
    assert {t.preamble.name: t.preamble.id for t in info.tables} == {"MyIngress.ipv4_lpm": 37375156}
    assert {a.preamble.name: a.preamble.id for a in info.actions} == {
        "NoAction": 21257015, "MyIngress.drop": 25652968, "MyIngress.ipv4_forward": 28792405}


BASIC_GOLDEN = """
pkg_info { arch: "v1model" }
tables {
  preamble { id: 37375156 name: "MyIngress.ipv4_lpm" alias: "ipv4_lpm" }
  match_fields { id: 1 name: "hdr.ipv4.dstAddr" bitwidth: 32 match_type: LPM }
  action_refs { id: 28792405 }
  action_refs { id: 25652968 }
  action_refs { id: 21257015 }
  initial_default_action { action_id: 25652968 }
  size: 1024
}
actions {
  preamble { id: 21257015 name: "NoAction" alias: "NoAction" annotations: "@noWarn(\\"unused\\")" }
}
actions { preamble { id: 25652968 name: "MyIngress.drop" alias: "drop" } }
actions {
  preamble { id: 28792405 name: "MyIngress.ipv4_forward" alias: "ipv4_forward" }
  params { id: 1 name: "dstAddr" bitwidth: 48 }
  params { id: 2 name: "port" bitwidth: 9 }
}
type_info { }
"""


def test_basic_golden_p4info():
    info = compile_file(REPO / "p4src" / "basic.p4").p4info
    expected = text_format.Parse(BASIC_GOLDEN, type(info)())
    assert info == expected


def test_jenkins_hash_matches_known_ids():
    assert (0x02 << 24) | (jenkins_hash("MyIngress.ipv4_lpm") & 0xFFFFFF) == 37375156
    assert (0x01 << 24) | (jenkins_hash("NoAction") & 0xFFFFFF) == 21257015
    assert jenkins_hash("") == 0


def test_collisions_probe_the_next_hash_in_name_order():
    symbols = SymbolTable()
    symbols.add("action", "b")
    symbols.add("action", "a")
    taken = (0x01 << 24) | (jenkins_hash("a") & 0xFFFFFF)
    symbols.assigned.add(taken)  # e.g. an @id elsewhere took a's natural id
    symbols.compute_ids()
    assert symbols.id("action", "a") == taken + 1
    assert symbols.id("action", "b") == (0x01 << 24) | (jenkins_hash("b") & 0xFFFFFF)


def test_aliases_are_shortest_unique_suffixes():
    symbols = SymbolTable()
    for name in ("I.x.t", "E.y.t", "I.a", "NoAction"):
        symbols.add("table", name)
    assert symbols.alias("I.x.t") == "x.t"
    assert symbols.alias("E.y.t") == "y.t"
    assert symbols.alias("I.a") == "a"
    assert symbols.alias("NoAction") == "NoAction"


def test_same_local_name_in_two_controls_gets_qualified_alias():
    text = BASIC.replace("control MyEgress(inout headers hdr,\n                 inout metadata meta,\n"
                         "                 inout standard_metadata_t standard_metadata) {\n    apply {  }",
                         "control MyEgress(inout headers hdr,\n                 inout metadata meta,\n"
                         "                 inout standard_metadata_t standard_metadata) {\n"
                         "    action drop() { mark_to_drop(standard_metadata); }\n"
                         "    apply { drop(); }")
    info = compile_source(text, "two.p4").p4info
    actions = _by_name(info.actions)
    assert actions["MyIngress.drop"].preamble.alias == "MyIngress.drop"
    assert actions["MyEgress.drop"].preamble.alias == "MyEgress.drop"


def test_name_and_id_annotations():
    info = compile_file(DATA / "tables.p4").p4info
    tables = _by_name(info.tables)
    assert tables["I.routes"].match_fields[0].name == "dst_addr"
    assert tables["I.acl"].preamble.id == 0x02000042
    assert "I.permit" in _by_name(info.actions)
    counters = _by_name(compile_file(DATA / "externs.p4").p4info.counters)
    assert "global_bytes" in counters  # @name(".global_bytes") is absolute


def test_tables_p4info_details():
    info = compile_file(DATA / "tables.p4").p4info
    tables = _by_name(info.tables)
    actions = _by_name(info.actions)
    routes = tables["I.routes"]
    assert routes.size == 4096
    assert routes.const_default_action_id == actions["I.drop"].preamble.id
    scopes = {r.id: r.scope for r in routes.action_refs}
    assert scopes[actions["I.drop"].preamble.id] == 2 and list(routes.action_refs[1].annotations) == ["@defaultonly"]
    ecmp = tables["I.ecmp"]
    assert [m.name for m in ecmp.match_fields] == ["meta.nhop"]  # selector keys are not match fields
    profiles = _by_name(info.action_profiles)
    assert profiles["I.ecmp_selector"].with_selector and profiles["I.ecmp_selector"].size == 1024
    assert list(profiles["I.ecmp_selector"].table_ids) == [ecmp.preamble.id]
    assert ecmp.implementation_id == profiles["I.ecmp_selector"].preamble.id
    assert profiles["I.nhop_profile"].preamble.id >> 24 == 0x11
    assert tables["I.nexthops"].size == 1024  # size = 0 means the default
    acl = tables["I.acl"]
    assert [m.match_type for m in acl.match_fields] == [4, 5, 6, 2]  # TERNARY RANGE OPTIONAL EXACT
    assert not acl.is_const_table and acl.has_initial_entries
    assert tables["I.fixed"].is_const_table
    dc = _by_name(info.direct_counters)["I.acl_counter"]
    dm = _by_name(info.direct_meters)["I.acl_meter"]
    assert dc.direct_table_id == acl.preamble.id and dm.direct_table_id == acl.preamble.id
    assert list(acl.direct_resource_ids) == [dc.preamble.id, dm.preamble.id]
    assert dc.preamble.id >> 24 == 0x13 and dm.preamble.id >> 24 == 0x15
    assert dm.spec.unit == 1  # BYTES


def test_externs_p4info_details():
    info = compile_file(DATA / "externs.p4").p4info
    counters = _by_name(info.counters)
    assert counters["I.port_counter"].spec.unit == 3 and counters["I.port_counter"].size == 1024
    meters = _by_name(info.meters)
    assert meters["I.port_meter"].spec.unit == 2 and meters["I.port_meter"].preamble.id >> 24 == 0x14
    registers = _by_name(info.registers)
    assert registers["I.flow_reg"].type_spec.bitstring.bit.bitwidth == 32
    assert registers["I.last_seen"].preamble.id == 0x16000001
    digest = _by_name(info.digests)["learn_t"]
    assert digest.preamble.id >> 24 == 0x17 and digest.type_spec.struct.name == "learn_t"
    members = info.type_info.structs["learn_t"].members
    assert [(m.name, m.type_spec.bitstring.bit.bitwidth) for m in members] == [("src", 48), ("port", 9)]
    cpm = _by_name(info.controller_packet_metadata)
    assert cpm["packet_in"].preamble.alias == "packet_in"
    # p4c hashes the header type name (packet_in_t), not the annotation's name
    assert cpm["packet_in"].preamble.id == (0x04 << 24) | (jenkins_hash("packet_in_t") & 0xFFFFFF)
    assert [(m.id, m.name) for m in cpm["packet_out"].metadata] == [(1, "egress_port"), (5, "_pad")]


def test_value_sets_and_newtypes():
    vs = _by_name(compile_file(DATA / "select.p4").p4info.value_sets)
    assert vs["P.tpids"].size == 4 and vs["P.tpids"].match[0].bitwidth == 16
    assert [m.name for m in vs["P.special"].match] == ["type", "vid"]
    info = compile_file(DATA / "types.p4").p4info
    param = _by_name(info.actions)["I.set_tenant"].params[0]
    assert param.type_name.name == "tenant_t" and param.bitwidth == 32
    assert info.type_info.new_types["tenant_t"].original_type.bitstring.bit.bitwidth == 32


def test_duplicate_user_ids_are_an_error():
    text = BASIC.replace("action drop()", "@id(7) action drop()").replace(
        "action ipv4_forward(", "@id(7) action ipv4_forward(")
    compiled = compile_source(text, "dup.p4")  # p4c only complains when asked for P4Info
    with pytest.raises(CompileError, match="@id 16777223 is assigned to multiple declarations"):
        compiled.checked_p4info()


def test_unused_actions_are_not_in_p4info():
    text = BASIC.replace("action drop() {", "action unused() { }\n    action drop() {")
    names = {a.preamble.name for a in compile_source(text, "unused.p4").p4info.actions}
    assert "MyIngress.unused" not in names


def test_nested_instances_are_named_by_instance_path_as_p4c():
    text = (DATA / "nested.p4").read_text()
    info = compile_source(text, "nested.p4").p4info
    assert [t.preamble.name for t in info.tables] == ["C.one.t"]
    assert [c.preamble.name for c in info.counters] == ["C.one.c"]
    # p4c's front end gives tables without default_action `@defaultonly NoAction` as default
    assert [a.preamble.name for a in info.actions] == ["NoAction", "C.one.set"]
    refs = info.tables[0].action_refs
    assert [(r.id, list(r.annotations), r.scope) for r in refs][1] == (21257015, ["@defaultonly"], 2)
    twice = text.replace("Inner(1) one;", "Inner(1) one;\n    Inner(2) two;").replace(
        "one.apply(hdr, meta);", "one.apply(hdr, meta); two.apply(hdr, meta);")
    info = compile_source(twice, "twice.p4").p4info
    assert [t.preamble.name for t in info.tables] == ["C.one.t", "C.two.t"]
    assert [t.preamble.alias for t in info.tables] == ["one.t", "two.t"]


def test_duplicate_names_are_p4info_errors_as_in_p4c():
    text = BASIC.replace("table ipv4_lpm {", '@name(".shared") table ipv4_lpm {').replace(
        "control MyEgress(inout headers hdr,\n                 inout metadata meta,\n"
        "                 inout standard_metadata_t standard_metadata) {\n    apply {  }",
        "control MyEgress(inout headers hdr,\n                 inout metadata meta,\n"
        "                 inout standard_metadata_t standard_metadata) {\n"
        '    @name(".shared") table t2 { key = { hdr.ipv4.srcAddr: exact; } actions = { NoAction; } }\n'
        "    apply { t2.apply(); }")
    compiled = compile_source(text, "dup_names.p4")  # the data plane is fine
    problem, count = compiled.p4info_errors  # (p4c names no position, then counts them)
    assert (problem.pos, problem.message) == (
        None, "Name 'shared' is used for multiple table objects in the P4Info message")
    assert (count.pos, count.message) == (None, "Found 1 duplicate name(s) in the P4Info")
    with pytest.raises(CompileError, match="Name 'shared' is used for multiple table objects"):
        compiled.checked_p4info()


def test_initial_default_action_arguments_are_padded_bytes():
    text = BASIC.replace("default_action = drop();", "default_action = ipv4_forward(0x0a0b0c0d0e0f, 3);")
    table = compile_source(text, "ida.p4").p4info.tables[0]
    ida = table.initial_default_action
    assert ida.action_id == 28792405 and table.const_default_action_id == 0
    assert [(a.param_id, a.value) for a in ida.arguments] == [(1, bytes.fromhex("0a0b0c0d0e0f")), (2, b"\x00\x03")]


def test_in_place_table_resources_are_named_by_property_annotation():
    named = BASIC.replace("size = 1024;", '@name("lpm_profile") implementation = action_profile(64);\n'
                                          '        size = 1024;')
    info = compile_source(named, "inplace.p4").p4info
    [profile] = info.action_profiles
    assert profile.preamble.name == "lpm_profile" and profile.size == 64 and not profile.with_selector
    assert list(profile.table_ids) == [37375156] and info.tables[0].implementation_id == profile.preamble.id
    anonymous = BASIC.replace("size = 1024;", "implementation = action_profile(64);")
    with pytest.raises(CompileError, match="anonymous 'implementation' without a @name"):
        compile_source(anonymous, "anon.p4").checked_p4info()


def test_digest_of_a_list_gets_p4c_auto_name():
    text = BASIC.replace("mark_to_drop(standard_metadata);",
                         "mark_to_drop(standard_metadata);\n"
                         "        digest(1, { hdr.ethernet.srcAddr, standard_metadata.ingress_port });")
    compiled = compile_source(text, "digest.p4")
    [digest] = compiled.p4info.digests
    assert digest.preamble.name == "digest_0"
    assert [w.message for w in compiled.warnings if "good name" in w.message] == [  # (p4c: issue430-1-bmv2)
        "Cannot find a good name for digest(32w1, { hdr.ethernet.srcAddr, standard_metadata.ingress_port }) "
        "method call, using auto-generated name 'digest_0'"]
    assert [m.bitstring.bit.bitwidth for m in digest.type_spec.tuple.members] == [48, 9]


def test_unused_tables_are_removed_with_an_info_as_in_p4c():
    text = BASIC.replace("    apply {\n        if (hdr.ipv4.isValid()) {",
                         "    action only_in_unused() { }\n"
                         "    table unused_t { key = { hdr.ipv4.srcAddr: exact; } actions = { only_in_unused; } }\n"
                         "    apply {\n        if (hdr.ipv4.isValid()) {")
    compiled = compile_source(text, "unused_table.p4")
    assert [t.preamble.name for t in compiled.p4info.tables] == ["MyIngress.ipv4_lpm"]
    assert "MyIngress.only_in_unused" not in {a.preamble.name for a in compiled.p4info.actions}
    assert [w for w in compiled.warnings if not w.message.endswith("is unused")] == []  # (unused.py's)
    [info] = compiled.infos  # p4c: "[--Winfo=removed] info: removing table 'unused_t'", no warning
    assert info.message == "removing table 'unused_t'" and info.severity == "info"
    assert (info.pos.line, info.pos.col) == (114, 11)
    assert compile_source(BASIC, "basic.p4").infos == []  # every table applied: none


def test_pkginfo_hidden_and_plain_enum_params():
    text = BASIC.replace("V1Switch(", '@pkginfo(name="basic", version="1.2") @brief("tutorial")\nV1Switch(')
    text = text.replace("action drop()", "@hidden action drop()").replace(
        "struct metadata {", "enum Mode { Fast, Slow }\nstruct metadata {").replace(
        "action ipv4_forward(macAddr_t dstAddr, egressSpec_t port)",
        "action ipv4_forward(macAddr_t dstAddr, egressSpec_t port, Mode mode)")
    info = compile_source(text, "pkg.p4").p4info
    assert (info.pkg_info.name, info.pkg_info.version, info.pkg_info.arch) == ("basic", "1.2", "v1model")
    assert info.pkg_info.doc.brief == "tutorial"
    actions = _by_name(info.actions)
    assert "MyIngress.drop" not in actions  # @hidden
    mode = actions["MyIngress.ipv4_forward"].params[2]
    assert mode.type_name.name == "Mode" and mode.bitwidth == 0
    assert [m.name for m in info.type_info.enums["Mode"].members] == ["Fast", "Slow"]


def test_annotations_are_printed_as_p4c_prints_them():
    text = BASIC.replace("action drop()", '@my_anno(1,2) @noWarn("x") action drop()')
    pre = _by_name(compile_source(text, "anno.p4").p4info.actions)["MyIngress.drop"].preamble
    assert list(pre.annotations) == ["@my_anno(1 , 2)", '@noWarn("x")']


@pytest.mark.parametrize("key, name", [
    ("hdr.ipv4.dstAddr", "hdr.ipv4.dstAddr"),
    ("hdr.ipv4.isValid()", "hdr.ipv4.$valid$"),
    ("hdr.ipv4.dstAddr[31:24]", "hdr.ipv4.dstAddr[31:24]"),
    ("hdr.ipv4.dstAddr & 0xFF00", "hdr.ipv4.dstAddr & 0xff00"),
    ("hdr.ipv4.dstAddr & MASK", "hdr.ipv4.dstAddr & MASK"),
    ("standard_metadata.ingress_port", "standard_metadata.ingress_port"),
])
def test_match_field_names_follow_p4c_table_key_names(key, name):
    text = BASIC.replace("hdr.ipv4.dstAddr: lpm;", f"{key}: exact;").replace(
        "const bit<16> TYPE_IPV4", "const bit<32> MASK = 0xFF;\nconst bit<16> TYPE_IPV4")
    assert compile_source(text, "keys.p4").p4info.tables[0].match_fields[0].name == name


def test_complex_key_needs_a_name():
    text = BASIC.replace("hdr.ipv4.dstAddr: lpm;", "hdr.ipv4.dstAddr + 1: exact;")
    with pytest.raises(CompileError, match="Complex key expression requires a @name annotation"):
        compile_source(text, "keys.p4")
    named = BASIC.replace("hdr.ipv4.dstAddr: lpm;", 'hdr.ipv4.dstAddr + 1: exact @name("plus_one");')
    assert compile_source(named, "keys.p4").p4info.tables[0].match_fields[0].name == "plus_one"


def test_digest_type_info_lists_error_members_and_enums():
    text = BASIC.replace("struct metadata {", "enum Kind { A, B }\nstruct note_t { error e; Kind k; }\nstruct metadata {\n"
                         "    note_t note;").replace(
        "mark_to_drop(standard_metadata);", "mark_to_drop(standard_metadata);\n        digest(1, meta.note);")
    info = compile_source(text, "digest_types.p4").p4info
    assert [d.preamble.name for d in info.digests] == ["note_t"]
    members = info.type_info.structs["note_t"].members
    assert members[0].type_spec.HasField("error") and members[1].type_spec.enum.name == "Kind"
    assert list(info.type_info.error.members)[:2] == ["NoError", "PacketTooShort"]
    assert [m.name for m in info.type_info.enums["Kind"].members] == ["A", "B"]


def test_actions_only_called_from_actions_are_inlined_away():
    text = BASIC.replace("action drop() {", "action helper() { }\n    action drop() {\n        helper();").replace(
        "            ipv4_lpm.apply();", "            ipv4_lpm.apply();\n            drop();")
    names = [a.preamble.name for a in compile_source(text, "inline_actions.p4").p4info.actions]
    assert "MyIngress.helper" not in names and "MyIngress.drop" in names


# p4c's output (p4c-bm2-ss --p4runtime-files x.txtpb) for a program whose only P4Info object
# is `register<bit<8>>(2) r;` declared at top level and read by ingress.
TOP_LEVEL_REGISTER_GOLDEN = """# proto-file: p4/config/v1/p4info.proto
# proto-message: p4.config.v1.P4Info

pkg_info {
  arch: "v1model"
}
registers {
  preamble {
    id: 369183714
    name: "r"
    alias: "r"
  }
  type_spec {
    bitstring {
      bit {
        bitwidth: 8
      }
    }
  }
  size: 2
}
type_info {
}
"""


def test_top_level_register_is_named_without_prefix_as_p4c():
    text = """#include <v1model.p4>
struct H {} struct M {}
parser p(packet_in b, out H h, inout M m, inout standard_metadata_t sm) { state start { transition accept; } }
register<bit<8>>(2) r;
control ingress(inout H h, inout M m, inout standard_metadata_t sm) { apply { bit<8> x; r.read(x, 0); } }
control vrfy(inout H h, inout M m) { apply {} }
control egress(inout H h, inout M m, inout standard_metadata_t sm) { apply {} }
control dep(packet_out b, in H h) { apply {} }
V1Switch(p(), vrfy(), ingress(), egress(), vrfy(), dep()) main;
"""
    assert compile_source(text, "toplevel.p4").p4info_text == TOP_LEVEL_REGISTER_GOLDEN


def test_top_level_instances_golden():
    """Top-level register/counter/meter/selector/direct counter: unprefixed names (`@name`
    honoured), listed before the controls' own instances; tables may share a top-level selector
    and name a top-level direct counter."""
    compiled = compile_file(DATA / "globals.p4")
    assert compiled.p4info_text == (DATA / "globals.p4info.txtpb").read_text()
    info = compiled.p4info
    assert [(r.preamble.name, r.preamble.alias) for r in info.registers] == [("r", "r"), ("I.r", "I.r")]
    [selector] = info.action_profiles
    assert list(selector.table_ids) == [pid for name, pid in sorted(
        (t.preamble.name, t.preamble.id) for t in info.tables if t.implementation_id == selector.preamble.id)]
    assert len(selector.table_ids) == 2 and not compiled.p4info_errors


def test_main_arguments_may_not_be_top_level_control_instances():
    """`MyIngress() ig; V1Switch(..., ig, ...)`: p4c instantiates controls only inside others or
    as a package's arguments (typeCheckDecl: "cannot instantiate at top-level")."""
    text = BASIC.replace("V1Switch(", "MyIngress() ig;\nV1Switch(").replace("MyIngress(),", "ig,")
    with pytest.raises(CompileError, match="ig: cannot instantiate at top-level"):
        compile_source(text, "instance_main.p4")


def test_unused_top_level_extern_instances_stay_in_p4info_as_in_p4c():
    """p4c's front end removes unused declarations but keeps extern instances."""
    text = BASIC.replace("control MyIngress(", "register<bit<32>>(8) spare;\ncontrol MyIngress(")
    [register] = compile_source(text, "spare.p4").p4info.registers
    assert (register.preamble.name, register.size) == ("spare", 8)
    assert register.preamble.id == (0x16 << 24) | (jenkins_hash("spare") & 0xFFFFFF)


# ------------------------------------------------- issue 19 item 1: P4Info exactly as p4c writes it
# Checked against p4c 34b86e9 (testdata/p4_16_samples_outputs and control-plane/ sources); the
# programs below are ours.

V1_SHELL = """
#include <core.p4>
#include <v1model.p4>
header e_t { bit<48> d; bit<48> s; bit<16> t; }
struct hs { e_t e; }
struct ms { bit<32> x; }
parser P(packet_in p, out hs h, inout ms m, inout standard_metadata_t sm) {
    state start { p.extract(h.e); transition accept; }
}
control V(inout hs h, inout ms m) { apply { } }
control I(inout hs h, inout ms m, inout standard_metadata_t sm) {
    BODY
}
control Eg(inout hs h, inout ms m, inout standard_metadata_t sm) { apply { } }
control C(inout hs h, inout ms m) { apply { } }
control D(packet_out p, in hs h) { apply { p.emit(h.e); } }
V1Switch(P(), V(), I(), Eg(), C(), D()) main;
"""


def _info(body: str):
    return compile_source(V1_SHELL.replace("BODY", body), name="t.p4").checked_p4info()


def test_noaction_has_no_corelib_annotation():
    info = _info("table t { key = { h.e.t: exact; } actions = { NoAction; } } apply { t.apply(); }")
    noaction = _by_name(info.actions)["NoAction"]
    assert list(noaction.preamble.annotations) == ['@noWarn("unused")']


@pytest.mark.parametrize("declared, use, listed", [
    ("R(16) r;", "bit<69> v; r.read(v, 0);", False),  # p4c: read of a dead v dropped, r unused
    ("R(16) r;", "", False),
    ("R(16) r;", "bit<69> v; r.read(v, 0); h.e.d = v[47:0];", True),  # v is read: r is used
    ("R(16) r;", "r.write(0, 1);", True),  # write has side effects
    ("register<bit<69>>(16) r;", "bit<69> v; r.read(v, 0);", True),  # an extern type: always kept
])
def test_unused_instance_of_a_typedef_of_an_extern_is_removed_as_in_p4c(declared, use, listed):
    """p4c keeps unused extern instances but finds the extern by the declaration the type
    names: through a typedef it removes the instance like any unused one (issue2735-bmv2)."""
    text = V1_SHELL.replace("control I(", "typedef register<bit<69>> R;\ncontrol I(").replace(
        "BODY", f"{declared} apply {{ {use} }}")
    registers = compile_source(text, name="t.p4").checked_p4info().registers
    assert [r.preamble.name for r in registers] == (["I.r"] if listed else [])


@pytest.mark.parametrize("body, printed", [
    ("action a() { h.e.t = 1; } apply { a(); }", False),  # nothing asks p4c's serializer for it
    ("table t { key = { h.e.t: exact; } actions = { NoAction; } } apply { t.apply(); }", True),
    ("apply { mark_to_drop(sm); }", True),  # an extern function call
    ("counter(4, CounterType.packets) c; apply { c.count(0); }", True),  # an extern instance
    # an action only called with arguments lists no parameters (p4c's issue323): nothing to print
    ("action a(bit<8> v) { h.e.t = (bit<16>)v; } apply { a(1); }", False),
])
def test_type_info_is_printed_when_p4c_prints_it(body, printed):
    info = _info(body)
    assert info.HasField("type_info") == printed
    assert info.type_info == type(info.type_info)()  # and it is empty here


def test_directional_action_params_are_not_control_plane_params():
    info = _info("action fwd(inout standard_metadata_t s, in bit<16> k, bit<9> port) { s.egress_spec = port; }"
                 "table t { key = { h.e.t: exact; } actions = { fwd(sm, h.e.t); } } apply { t.apply(); }")
    fwd = _by_name(info.actions)["I.fwd"]
    assert [(p.id, p.name, p.bitwidth) for p in fwd.params] == [(1, "port", 9)]


SELECTOR_GOLDEN = """
preamble { id: 285034004 name: "I.weighted" alias: "weighted" }
table_ids: 44506256
with_selector: true
size: 64
max_group_size: 16
sum_of_members { max_member_weight: 100 }
"""


def test_selector_size_annotations_fill_their_fields_and_are_not_listed():
    info = _info("""
        action go(bit<9> port) { sm.egress_spec = port; }
        @max_group_size(16) @selector_size_semantics("SUM_of_members") @max_member_weight(100) @my_note
        action_selector(HashAlgorithm.crc16, 64, 16) weighted;
        @max_group_size(8) @selector_size_semantics("sum_of_weights")
        action_selector(HashAlgorithm.crc16, 32, 16) plain;
        @max_group_size(9) @selector_size_semantics("sum_of_members") action_profile(8) no_selector;
        table ecmp { key = { h.e.t: exact; h.e.s: selector; } actions = { go; } implementation = weighted; }
        table ecmp2 { key = { h.e.t: exact; h.e.s: selector; } actions = { go; } implementation = plain; }
        table ind { key = { h.e.t: exact; } actions = { go; } implementation = no_selector; }
        apply { ecmp.apply(); ecmp2.apply(); ind.apply(); }""")
    profiles = _by_name(info.action_profiles)
    weighted = profiles["I.weighted"]
    expected = text_format.Parse(SELECTOR_GOLDEN, type(weighted)())
    expected.preamble.annotations.append("@my_note")
    expected.preamble.id, expected.table_ids[0] = weighted.preamble.id, weighted.table_ids[0]
    assert weighted == expected
    plain = profiles["I.plain"]
    assert plain.max_group_size == 8 and plain.HasField("sum_of_weights") and not plain.preamble.annotations
    no_selector = profiles["I.no_selector"]  # p4c ignores them without a selector (a warning)
    assert no_selector.max_group_size == 0 and no_selector.WhichOneof("selector_size_semantics") is None
    assert not no_selector.preamble.annotations


def test_p4runtime_translation_takes_a_width_a_bit_type_or_string():
    source = V1_SHELL.replace("struct ms", """
        @p4runtime_translation("example.org/a", 12) type bit<9> a_t;
        @p4runtime_translation("example.org/b", bit<20>) type bit<9> b_t;
        @p4runtime_translation("example.org/c", string) type bit<9> c_t;
        struct ms""", 1).replace("BODY", """
        action set(a_t a, b_t b, c_t c) { sm.egress_spec = (bit<9>)a; }
        table t { key = { h.e.t: exact; } actions = { set; } } apply { t.apply(); }""")
    info = compile_source(source, name="t.p4").checked_p4info()
    types = info.type_info.new_types
    assert types["a_t"].translated_type.sdn_bitwidth == 12
    assert types["b_t"].translated_type.sdn_bitwidth == 20
    assert types["c_t"].translated_type.HasField("sdn_string")
    params = _by_name(info.actions)["I.set"].params
    assert [p.bitwidth for p in params] == [12, 20, 0]


def test_empty_const_entries_make_a_const_table_without_initial_entries():
    info = _info("table t { key = { h.e.t: exact; } actions = { NoAction; } const entries = { } }"
                 "apply { t.apply(); }")
    table = _by_name(info.tables)["I.t"]
    assert table.is_const_table and not table.has_initial_entries


def test_extreme_sizes_are_diagnostics_not_tracebacks():
    """Issue 25: register size 2**31 raised protobuf's ValueError in P4Info generation."""
    for body, what in (("register<bit<32>>(2147483648) r; apply { r.write(0, 1); }", "register size 2147483648"),
                       ("@id(4294967296) counter(4, CounterType.packets) c; apply { c.count(0); }", "@id 4294967296")):
        with pytest.raises(CompileError) as err:
            _info(body)
        assert what in str(err.value)
    with pytest.raises(CompileError) as err:  # constant folding: no MemoryError
        compile_source(V1_SHELL.replace("struct ms", "const bit<32> K = (bit<32>)(1 << 1099511627776);\nstruct ms")
                       .replace("BODY", "apply { m.x = K; }"), name="t.p4")
    assert "1 << 1099511627776" in str(err.value)
    assert _info("counter(32w4294967295, CounterType.packets) c; apply { c.count(0); }").counters[0].size == 2**32 - 1


def test_an_action_only_called_directly_lists_no_params():
    info = _info("action a(bit<8> v) { h.e.t = (bit<16>)v; } action b(bit<8> w) { h.e.t = (bit<16>)w; }"
                 "table t { key = { h.e.t: exact; } actions = { b; } } apply { a(1); t.apply(); }")
    actions = _by_name(info.actions)
    assert list(actions["I.a"].params) == [] and [p.name for p in actions["I.b"].params] == ["w"]


def test_platform_property_fills_pkg_info():
    source = V1_SHELL.replace("V1Switch(", "@platform_property(multicast_group_table_size = 7, "
                              "multicast_group_table_max_replicas_per_entry = 3)\nV1Switch(", 1)
    info = compile_source(source.replace("BODY", "apply { }"), name="t.p4").checked_p4info()
    props = info.pkg_info.platform_properties
    assert (props.multicast_group_table_size, props.multicast_group_table_max_replicas_per_entry) == (7, 3)
    assert not info.pkg_info.annotations


GOLDEN = sorted(DATA.glob("*.p4info.txtpb"))


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.name.split(".")[0] for g in GOLDEN])
def test_golden_p4info(golden):
    """tests/data/p4/NAME.p4 gives exactly NAME.p4info.txtpb (each program says which p4c
    behaviour its P4Info follows)."""
    program = golden.with_name(golden.name.split(".")[0] + ".p4")
    assert compile_file(program).p4info_text == golden.read_text()


def test_program_without_main_warns_and_does_not_run():
    from fabriclab.errors import FabricError
    from fabriclab.switch.core import SwitchCore
    compiled = compile_file(DATA / "no_main.p4")
    assert any("no 'main'" in w.message for w in compiled.warnings)
    with pytest.raises(FabricError, match="no 'main' package instance"):
        SwitchCore(compiled)
