"""P4Info as p4c writes it for constructs p4c accepts (see tests/data/p4/parity.p4)."""

import pathlib

import pytest

from fabriclab.errors import FabricError
from fabriclab.p4 import CompileError, compile_file, compile_source
from fabriclab.switch.core import SwitchCore

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "p4"


def test_p4info_names_and_used_tables_follow_p4c():
    compiled = compile_file(DATA / "parity.p4")
    assert not compiled.p4info_errors
    tables = {t.preamble.name: t for t in compiled.p4info.tables}
    assert sorted(tables) == ["Ing.in_init", "Ing.in_key", "Ing.no_actions", "Ing.outer"]
    # a table without actions gets p4c's implicit NoAction, default only
    assert len(tables["Ing.no_actions"].action_refs) == 1


def test_named_package_arguments_bind_by_name():
    compiled = compile_file(DATA / "parity.p4")
    assert [a.param.name for a in compiled.program.main.args] == ["p", "vr", "ig", "eg", "ck", "dep"]
    core = SwitchCore(compiled)  # the switch names objects as P4Info does
    assert set(core.tables) == {t.preamble.name for t in compiled.p4info.tables}
    assert core.process(0, bytes([5, 6]), 0) == [(1, bytes([5, 6]))]


def test_varbit_compiles_and_runs():
    compiled = compile_file(DATA / "varbit.p4")
    hdr = next(d for d in compiled.program.decls if getattr(d, "name", "") == "opt_t")
    assert hdr.fields[0].type.display() == "varbit<32>"
    core = SwitchCore(compiled)  # more in tests/stf/parser_varbit.p4
    assert core.process(0, bytes([2, 0xAB, 0xCD, 0xEE]), 0) == [(0, bytes([2, 0xAB, 0xCD, 0xEE]))]


def test_tuple_types():
    compiled = compile_file(DATA / "tuples.p4")
    t = next(d for d in compiled.program.decls if getattr(d, "name", "") == "pair_t")
    assert t.type.display() == "tuple<bit<8>, bit<16>>"
    with pytest.raises(FabricError, match="tuple<bit<8>, bit<16>> has no fixed bit width"):
        SwitchCore(compiled)  # tuple-typed variables are not run by the switch yet: a clear error


def test_tuple_elements_by_constant_index():
    """`t[0]` of a tuple (p4c: issue4057) types as that element; the switch refuses it."""
    src = (DATA / "tuples.p4").read_text().replace(
        "hash(hdr.h.c, HashAlgorithm.csum16, 16w0, p, 17w65536);", "hdr.h.a = p[0]; hdr.h.b = p[1];")
    compiled = compile_source(src, "t.p4")
    with pytest.raises(FabricError, match="does not support|no fixed bit width"):
        SwitchCore(compiled)
    with pytest.raises(CompileError, match="larger than tuple size"):
        compile_source(src.replace("p[1];", "p[2];"), "t.p4")


def test_struct_fields_in_headers_compile_and_run():
    compiled = compile_file(DATA / "struct_in_header.p4")
    hdr = next(d for d in compiled.program.decls if getattr(d, "name", "") == "h_t")
    assert hdr.width == 24
    core = SwitchCore(compiled)  # a = p.x + p.y; p.x = 0 (the fields are bits of the header)
    assert core.process(0, bytes([9, 3, 4, 0xEE]), 0) == [(1, bytes([7, 0, 4, 0xEE]))]


def test_a_type_over_a_type_declares_the_bits_below():
    src = (DATA / "compound.p4").read_text().replace(
        "struct m_t { bit<8> x; }", "type bit<8> inner_t;\ntype inner_t outer_t;\nstruct m_t { outer_t x; }").replace(
        "apply { sm.egress_spec = 1;", "table t { key = { meta.x: exact; } actions = { NoAction; } }\n"
        "    apply { t.apply(); sm.egress_spec = 1;")
    compiled = compile_source(src, "t.p4")
    spec = compiled.p4info.type_info.new_types["outer_t"]
    assert spec.original_type.bitstring.bit.bitwidth == 8


def test_serializable_enum_members_as_select_cases():
    src = (DATA / "compound.p4").read_text().replace(
        "struct m_t { bit<8> x; }", "enum bit<8> kind_t { A = 1, B = 2 }\nstruct m_t { bit<8> x; }").replace(
        "state start { pkt.extract(hdr.h); transition accept; }",
        "state start { pkt.extract(hdr.h); transition select(hdr.h.a) { kind_t.B: mark; default: accept; } }\n"
        "    state mark { hdr.h.b = 0x76; transition accept; }")
    core = SwitchCore(compile_source(src, "t.p4"))
    assert core.process(0, bytes([1, 8, 0x10, 3]), 0) == [(1, bytes([4, 4, 0xff, 13]))]
    # a = kind_t.B: state mark sets b = 0x76, which the ingress halves
    assert core.process(0, bytes([2, 8, 0x10, 3]), 0) == [(1, bytes([5, 0x3b, 0xff, 13]))]


def test_actions_called_only_in_dead_code_are_not_in_p4info():
    src = (DATA / "compound.p4").read_text().replace(
        "    apply { sm.egress_spec = 1;",
        "    action dead() { hdr.h.a = 9; }\n    action live() { hdr.h.b = 9; }\n"
        "    apply { if (true) { live(); exit; } else { dead(); } sm.egress_spec = 1;")
    compiled = compile_source(src, "t.p4")
    assert [a.preamble.name for a in compiled.p4info.actions] == ["C.live"]
    kept = compile_source(src.replace("exit; }", "exit; dead(); }"), "t.p4")  # after exit: kept, as p4c
    assert sorted(a.preamble.name for a in kept.p4info.actions) == ["C.dead", "C.live"]


def test_controller_header_struct_fields_are_flattened_as_p4c():
    src = (DATA / "struct_in_header.p4").read_text().replace(
        "header h_t {", '@controller_header("packet_in") header h_t {')
    [meta] = compile_source(src, "t.p4").p4info.controller_packet_metadata
    assert [(m.name, m.bitwidth) for m in meta.metadata] == [("a", 8), ("p.x", 8), ("p.y", 8)]
