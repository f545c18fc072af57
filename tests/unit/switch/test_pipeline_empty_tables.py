"""A table with no entries yields its default action: generated code skips its key build
(and the whole apply when that default does nothing) on flags the table keeps up to date.
Entries added and removed, defaults set and reset while empty, `.hit`, `action_run` and
direct counters must give what a lookup gives (issue 24)."""

import re

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import run_stf

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> k; bit<8> s; bit<8> d; bit<8> h; bit<8> r; bit<8> c; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets) dc;
    action put(bit<8> v) { hdr.a.s = v; }
    action set_d(bit<8> v) { hdr.a.d = v; }
    action mark() { hdr.a.h = 0xa0; }
    action run_mark() { hdr.a.r = 0xb0; }
    action count_it() { hdr.a.c = 1; }
    table stmt { key = { hdr.a.k: exact; } actions = { put; NoAction; } default_action = NoAction(); }
    table conf { key = { hdr.a.k ^ 1: exact @name("k1"); } actions = { set_d; } default_action = set_d(7); }
    table hits { key = { hdr.a.k: ternary; } actions = { mark; NoAction; } default_action = NoAction(); }
    table runs { key = { hdr.a.k: lpm; } actions = { run_mark; NoAction; } default_action = NoAction(); }
    table counted {
        key = { hdr.a.k: exact; }
        actions = { count_it; NoAction; }
        default_action = NoAction();
        counters = dc;
    }
    apply {
        sm.egress_spec = 2;
        stmt.apply();
        conf.apply();
        if (hits.apply().hit) { hdr.a.h = hdr.a.h | 1; } else { hdr.a.h = 2; }
        switch (runs.apply().action_run) {
            NoAction: { hdr.a.r = 3; }
            run_mark: { hdr.a.r = hdr.a.r | 4; }
        }
        counted.apply();
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""

EMPTY = bytes([5, 0, 0, 0, 0, 0])
# every table empty: stmt leaves s, conf's default sets d = 7, hits misses (h = 2),
# runs runs NoAction (r = 3), counted does nothing
MISSED = bytes([5, 0, 7, 2, 3, 0])


@pytest.fixture
def core():
    return SwitchCore(compile_source(PROGRAM, "empty_tables.p4"))


def out(core, data: bytes = EMPTY) -> bytes:
    (port, got), = core.process(1, data, 0)
    assert port == 2
    return got


def stf(core, text: str) -> None:
    result = run_stf(core, text)
    assert result.ok, result.failures


def test_generated_code_tests_the_flags():
    source = generate_pipeline(compile_source(PROGRAM, "empty_tables.p4")).source
    assert source.count("if not _noop_") == 2  # stmt and counted: skipped whole when empty
    assert "_empty_" in source  # conf: no key built while empty
    # conf's one action unpacks the found call's arguments straight (no `_call` local)
    assert ", = (_empty_" in source and ")[1]" in source


def test_empty_tables_give_their_defaults(core):
    assert out(core) == MISSED


def test_insert_then_delete_in_a_statement_table(core):
    stf(core, "add stmt hdr.a.k:5 put(v:0x42)")
    assert out(core) == bytes([5, 0x42, 7, 2, 3, 0])
    assert out(core, bytes([6, 0, 0, 0, 0, 0])) == bytes([6, 0, 7, 2, 3, 0])  # a miss
    stf(core, "remove stmt hdr.a.k:5")
    assert out(core) == MISSED
    stf(core, "add stmt hdr.a.k:5 put(v:0x43)\nremove all")
    assert out(core) == MISSED


def test_default_changed_while_empty(core):
    stf(core, "setdefault stmt put(v:9)")  # no entries, but a default that does something
    assert out(core) == bytes([5, 9, 7, 2, 3, 0])
    stf(core, "setdefault conf set_d(v:8)")
    assert out(core) == bytes([5, 9, 8, 2, 3, 0])
    stf(core, "setdefault stmt NoAction()")
    assert out(core) == bytes([5, 0, 8, 2, 3, 0])
    core.tables[next(n for n in core.tables if n.endswith("conf"))].reset_default()
    assert out(core) == MISSED


def test_key_built_once_the_table_has_an_entry(core):
    stf(core, "add conf k1:4 set_d(v:0x55)")  # the key is k ^ 1: 5 ^ 1 = 4
    assert out(core) == bytes([5, 0, 0x55, 2, 3, 0])
    assert out(core, bytes([4, 0, 0, 0, 0, 0])) == bytes([4, 0, 7, 2, 3, 0])
    stf(core, "remove conf k1:4")
    assert out(core) == MISSED


def test_hit_and_action_run_of_an_empty_table(core):
    stf(core, "add hits hdr.a.k:5&&&0xff mark()\nadd runs hdr.a.k:5/8 run_mark()")
    assert out(core) == bytes([5, 0, 7, 0xa1, 0xb4, 0])
    stf(core, "remove hits hdr.a.k:5&&&0xff\nremove runs hdr.a.k:5/8")
    assert out(core) == MISSED
    stf(core, "add hits hdr.a.k:5&&&0xff NoAction()")  # a hit on an entry that does nothing
    assert out(core) == bytes([5, 0, 7, 1, 3, 0])  # hit: h = 0 | 1


def test_direct_counter_counts_hits_only(core):
    table = core.tables[next(n for n in core.tables if n.endswith("counted"))]
    assert out(core) == MISSED
    stf(core, "add counted hdr.a.k:5 count_it()")
    assert out(core) == bytes([5, 0, 7, 2, 3, 1])
    assert out(core) == bytes([5, 0, 7, 2, 3, 1])
    (entry,) = table.entries()
    assert entry.direct.counter.packets == 2
    stf(core, "remove counted hdr.a.k:5")
    assert out(core) == MISSED


GATED = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> k; bit<8> r; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action mark() { hdr.a.r = hdr.a.r | 1; }
    table gate { key = { hdr.a.k: exact; } actions = { mark; NoAction; } default_action = NoAction(); }
    apply {
        sm.egress_spec = 2;
        if (gate.apply().hit && hdr.a.k != 7) { hdr.a.r = hdr.a.r | 0x10; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_if_hit_without_else_sits_under_the_skip_guard():
    program = compile_source(GATED, "gated.p4")
    source = generate_pipeline(program).source
    run = source[source.index("def run_ingress("):source.index("def egress(")]
    assert "if not _noop_" in run  # skipped whole, the `if` on its hit inside the guard
    assert not re.search(r"\n *_hit_[0-9]+ = False\n", run)  # no hit flag stored when skipped
    core = SwitchCore(program)
    assert out2(core, 5) == 0  # empty: no hit
    stf(core, "add gate hdr.a.k:5 mark()\nadd gate hdr.a.k:7 NoAction()")
    assert (out2(core, 5), out2(core, 7), out2(core, 6)) == (0x11, 0, 0)
    stf(core, "setdefault gate mark()")  # a default that does something: no skip, no hit
    assert out2(core, 6) == 1
    stf(core, "remove all")
    assert out2(core, 6) == 1


def out2(core, k: int) -> int:
    ((_, got),) = core.process(1, bytes([k, 0]), 0)
    return got[1]
