"""A table's action dispatch tests only the actions that do something: NoAction (and any
empty action) has no branch, wherever it sits among the table's actions. Hits on every
action and the default give different bytes if a branch went to the wrong body."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import run_stf

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> k; bit<8> res; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action first(bit<8> v) { hdr.a.res = v; }
    action nothing() { }
    action last() { hdr.a.res = 0xee; }
    table t {
        key = { hdr.a.k: exact; }
        actions = { first; NoAction; nothing; last; }
        default_action = last();
    }
    action mark() { hdr.a.res = hdr.a.res | 0x10; }
    table u { key = { hdr.a.k: exact; } actions = { NoAction; mark; } default_action = NoAction(); }
    apply { sm.egress_spec = 2; hdr.a.res = 1; t.apply(); u.apply(); }  // u: one test only
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def core():
    core = SwitchCore(compile_source(PROGRAM, "action_dispatch.p4"))
    assert run_stf(core, "add t hdr.a.k:1 first(v:0x42)\nadd t hdr.a.k:2 NoAction()\n"
                         "add t hdr.a.k:3 nothing()\nadd t hdr.a.k:4 last()\n"
                         "add u hdr.a.k:3 mark()\nadd u hdr.a.k:4 NoAction()\n").ok
    return core


@pytest.mark.parametrize("k,res", [(1, 0x42), (2, 1), (3, 0x11), (4, 0xee), (9, 0xee)])
def test_each_action_and_the_default(core, k, res):
    assert core.process(1, bytes([k, 0]), 0) == [(2, bytes([k, res]))]


ONE_ACTION = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> k; bit<8> res; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action only(bit<8> v) {
        if (hdr.a.k > 5) { hdr.a.res = v; } else { hdr.a.res = v + 1; }
    }
    table t {
        key = { hdr.a.k: exact; }
        actions = { only; }
        default_action = only(0x40);
    }
    apply { sm.egress_spec = 2; t.apply(); hdr.a.res = hdr.a.res | 0x80; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.mark.parametrize("k,res", [(9, 0x80 | 0x20), (2, 0x80 | 0x41), (7, 0x80 | 0x40)])
def test_a_table_with_one_action_runs_its_body_unguarded(k, res):
    """The only action's body (with its own nested if) runs for hits and the default,
    and the statement after the apply still runs after it."""
    core = SwitchCore(compile_source(ONE_ACTION, "one_action.p4"))
    assert run_stf(core, "add t hdr.a.k:9 I.only(v:0x20)\n").ok
    assert core.process(1, bytes([k, 0]), 0) == [(2, bytes([k, res]))]
