"""Constructs the front end lowers into IR the switch already runs: each computes as P4 says.

Functions are inlined (P4's copy-in/copy-out calling convention), `x op= e` is `x = x op e`.
"""

import pathlib

import pytest

from fabriclab.p4 import CompileError, compile_file, compile_source
from fabriclab.switch.core import SwitchCore

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "p4"


@pytest.mark.parametrize("packet, expected", [
    # a > b: c = max = a; max3 == 5 -> split a into (hi, lo); c bumped; d = twice(d) from the parser
    (bytes([3, 2, 0, 7]), bytes([0, 3, 4, 14])),
    (bytes([0x12, 0x34, 0, 1]), bytes([0x12, 0x34, 0x35, 2])),
    (bytes([1, 2, 0, 3]), bytes([0, 1, 3, 6])),
])
def test_inlined_functions_compute_as_p4_says(packet, expected):
    core = SwitchCore(compile_file(DATA / "functions.p4"))
    assert core.process(0, packet, 0) == [(1, expected)]


def test_no_function_survives_the_front_end():
    program = compile_file(DATA / "functions.p4").program
    assert not any(type(d).__name__ == "FunctionDecl" for d in program.decls)


@pytest.mark.parametrize("body, message", [
    ("bit<8> f(bit<8> v) { return v; } control c() { apply { f(); } }", "no argument for 'v'"),
    ("void f() { } control c() { apply { bit<8> x = f(); } }", "returns no value"),
    ("bit<8> f(bit<8> v) { return v; } control c() { apply { f(1, 2); } }", "takes 1 arguments"),
    # a ?: branch whose call is nested: its temporary would have no known type
    ("bit<8> f(bit<8> v) { return v; } "
     "control c() { apply { bit<8> x = 0; x = x == 0 ? f(1) + 1 : 8w2; } }", "nested inside a branch of"),
])
def test_bad_function_calls_are_clear_errors(body, message):
    with pytest.raises(CompileError, match=message):
        compile_source(body, "t.p4")


def test_compound_assignments():
    core = SwitchCore(compile_file(DATA / "compound.p4"))
    # a += 3; b >>= 1; c |+|= 250 (saturates); d <<= 2; d ^= 1
    assert core.process(0, bytes([1, 8, 0x10, 3]), 0) == [(1, bytes([4, 4, 0xff, 13]))]


def test_direct_type_invocation_makes_an_instance_named_as_p4c_does():
    compiled = compile_file(DATA / "direct_calls.p4")
    assert sorted(t.preamble.name for t in compiled.p4info.tables) == ["C.Inner.t", "C.Inner2.Inner.t"]
    core = SwitchCore(compiled)
    assert core.process(0, bytes([1, 2]), 0) == [(1, bytes([2, 3]))]


def test_direct_parser_invocation_compiles():
    compiled = compile_file(DATA / "direct_calls.p4", defines={"SUBPARSER": None})
    assert any(type(d).__name__ == "Instance" and d.name == "Sub_inst"
               for d in next(d for d in compiled.program.decls if d.name == "P").locals)


def test_a_field_written_twice_keeps_the_last_value():
    # 0x5F | 0x0C would be 0x5F: the merged store must not or-together two writes of one field
    core = SwitchCore(compile_file(DATA / "same_field_twice.p4"))
    assert core.process(0, bytes([0, 0x5F]), 0) == [(1, bytes([0x0C, 0x01]))]
