"""The STF parser, key value forms, name matching and packet comparison."""

import pytest

from fabriclab.errors import FabricError
from fabriclab.switch.stf import (Expectation, StfSyntaxError, by_suffix, compare_packet,
                                  field_match, parse_stf, split_action)
from fabriclab.switch.tables import Exact, KeyField, Lpm, OptionalMatch, Range, Ternary


def test_parse_skips_comments_and_keeps_line_numbers():
    cmds = parse_stf("# header\n\nadd t a:1 act()  # trailing\npacket 0 00 01\n")
    assert [(c.line, c.keyword) for c in cmds] == [(3, "add"), (4, "packet")]
    assert cmds[1].words == ("0", "00", "01")


def test_unknown_command_is_an_error_with_line():
    with pytest.raises(StfSyntaxError, match="line 2: unknown STF command 'frobnicate'"):
        parse_stf("wait\nfrobnicate 1\n")


@pytest.mark.parametrize("kind,text,want", [
    ("lpm", "0x0a0001**", Lpm(0x0A000100, 24)),
    ("lpm", "0x0a000100/24", Lpm(0x0A000100, 24)),
    ("lpm", "0x0a000105", Lpm(0x0A000105, 32)),
    ("ternary", "0x0A**", Ternary(0x0A00, 0xFF00)),
    ("ternary", "0x0a000001&&&0xff0000ff", Ternary(0x0A000001, 0xFF0000FF)),
    ("ternary", "5", Ternary(5, 0xFFFFFFFF)),
    ("exact", "0x0a000001", Exact(0x0A000001)),
    ("exact", "167772161", Exact(167772161)),
    ("range", "10..20", Range(10, 20)),
    ("range", "7", Range(7, 7)),
    ("optional", "3", OptionalMatch(3)),
    ("optional", "*", None),
])
def test_field_match_forms(kind, text, want):
    assert field_match(KeyField("f", kind, 32), text, "x") == want


def test_field_match_errors():
    with pytest.raises(StfSyntaxError, match="does not fit"):
        field_match(KeyField("f", "exact", 8), "0x100", "x")
    with pytest.raises(StfSyntaxError, match="not a prefix"):
        field_match(KeyField("f", "lpm", 16), "0x*F**", "x")
    with pytest.raises(StfSyntaxError, match="must be one value"):
        field_match(KeyField("f", "exact", 16), "0x0A**", "x")


def test_names_match_by_suffix_and_ambiguity_is_reported():
    names = ["MyIngress.fwd", "MyEgress.rewrite", "MyIngress.acl.fwd2"]
    assert by_suffix(names, "fwd", "table", "x") == "MyIngress.fwd"
    assert by_suffix(names, "rewrite", "table", "x") == "MyEgress.rewrite"
    with pytest.raises(FabricError, match="ambiguous"):
        by_suffix(["a.t", "b.t"], "t", "table", "x")
    with pytest.raises(FabricError, match="no table named 'zz'"):
        by_suffix(names, "zz", "table", "x")


def test_split_action():
    assert split_action("fwd(port:1, mac: 0x0a)", "x") == ("fwd", [("port", "1"), ("mac", "0x0a")])
    assert split_action("NoAction()", "x") == ("NoAction", [])
    with pytest.raises(StfSyntaxError):
        split_action("fwd", "x")


def test_compare_packet_wildcards_length_and_diff():
    exp = Expectation(7, 2, "AB**CD", False)
    assert compare_packet(exp, bytes.fromhex("AB00CD"), 0) is None
    assert compare_packet(exp, bytes.fromhex("AB00CDEE"), 0) is None
    exact = Expectation(7, 2, "AB**CD", True)
    assert "exactly 3" in compare_packet(exact, bytes.fromhex("AB00CDEE"), 0)
    report = compare_packet(exp, bytes.fromhex("AB00CE"), 0)
    assert "line 7: packet 0 on port 2: byte 2 differs: expected CD, got CE" in report
    assert "too short" in compare_packet(exp, b"\xab", 0)


def test_add_accepts_bmv2_valid_and_stack_spellings():
    from types import SimpleNamespace

    from fabriclab.switch.stf import StfRunner
    from fabriclab.switch.tables import ActionCall, ActionSpec, Table

    table = Table("I.t", [KeyField("hdr.opt.isValid()", "exact", 1),
                          KeyField("hdr.s[1].v", "ternary", 8)],
                  [ActionSpec("I.a")], ActionCall("I.a"))
    runner = StfRunner(SimpleNamespace(tables={"I.t": table}))
    result = runner.run(parse_stf("add t 3 hdr.opt.$valid$:1 s$1.v:0x0* a()\n"))
    assert result.ok, result.failures
    (entry,) = table.entries()
    assert entry.match == {"hdr.opt.isValid()": Exact(1), "hdr.s[1].v": Ternary(0, 0xF0)}
    assert entry.priority == 3
