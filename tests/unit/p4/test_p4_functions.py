"""Functions are inlined by the front end: the switch runs their bodies with P4's calling convention."""

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
])
def test_bad_function_calls_are_clear_errors(body, message):
    with pytest.raises(CompileError, match=message):
        compile_source(body, "t.p4")
