"""A table without keys, applied as a statement, takes its call from Table.keyless_call,
which every change keeps equal to what a lookup would find: the default action (set,
reset), or an entry with the empty key (inserted, modified, deleted, cleared)."""

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> x; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action put(bit<8> v) { hdr.a.x = v; }
    table conf {
        key = { }
        actions = { put; NoAction; }
        default_action = put(1);
    }
    apply { sm.egress_spec = 2; conf.apply(); }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_keyless_call_follows_changes():
    core = SwitchCore(compile_source(PROGRAM, "keyless.p4"))
    (name,) = [n for n in core.tables if n.endswith("conf")]
    table = core.tables[name]
    qname = [a for a in table.actions if a.endswith("put")][0]

    def out() -> int:
        (port, data), = core.process(1, b"\x00", 0)
        return data[0]

    assert out() == 1
    table.set_default(table.action_call(qname, {"v": 2}))
    assert out() == 2
    table.insert({}, table.action_call(qname, {"v": 3}))
    assert out() == 3
    table.modify({}, table.action_call(qname, {"v": 4}))
    assert out() == 4
    table.set_default(table.action_call(qname, {"v": 5}))
    assert out() == 4  # the entry still wins
    table.delete({})
    assert out() == 5
    table.insert({}, table.action_call(qname, {"v": 6}))
    table.clear()
    assert out() == 5
    table.reset_default()
    assert out() == 1
