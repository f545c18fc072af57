"""P4Info of a control instantiated twice (here by direct invocation, as p4c's
dash-pipeline-v1model-bmv2): each instance's tables, actions and direct counters by its own
names, each table referring to its own; top-level actions listed first; a default action's
serializable-enum arguments (p4c: omec/up4)."""

from fabriclab.p4 import compile_source

PROGRAM = """#include <v1model.p4>
enum bit<8> Kind { A = 0, B = 7 }
struct hs_t { }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { state start { transition accept; } }
action top_set(inout m_t meta, bit<8> v) { meta.x = v; }
control A(inout m_t meta) {
    direct_counter(CounterType.packets) ctr;
    action a() { }
    table t { key = { meta.x: exact; } actions = { a; } counters = ctr; }
    apply { t.apply(); }
}
control B(inout m_t meta) {
    action k(Kind kind) { meta.x = (bit<8>)kind; }
    table u { key = { meta.x: exact; } actions = { k; top_set(meta); } default_action = k(Kind.B); }
    apply { A.apply(meta); u.apply(); }
}
control Cc(inout m_t meta) { apply { A.apply(meta); } }
control V(inout hs_t hdr, inout m_t meta) { apply { } }
control I(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    action own() { }
    table w { key = { meta.x: exact; } actions = { own; } }
    B() b; Cc() c;
    apply { w.apply(); b.apply(meta); c.apply(meta); }
}
control E(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control C(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_each_instance_of_a_control_has_its_own_names_and_references():
    compiled = compile_source(PROGRAM, "t.p4")
    info = compiled.checked_p4info()
    tables = {t.preamble.name: t for t in info.tables}
    actions = {a.preamble.id: a.preamble.name for a in info.actions}
    counters = {c.preamble.id: c for c in info.direct_counters}
    for inst in ("I.b.A", "I.c.A"):
        table = tables[f"{inst}.t"]
        assert [actions[r.id] for r in table.action_refs] == [f"{inst}.a", "NoAction"]
        [rid] = table.direct_resource_ids
        assert counters[rid].preamble.name == f"{inst}.ctr"
        assert counters[rid].direct_table_id == table.preamble.id
    # the stage's top-level actions first (top_set, used only inside b), then the actions
    # declared in it and inside it
    assert list(actions.values()) == ["NoAction", "top_set", "I.own", "I.b.k", "I.b.A.a", "I.c.A.a"]
    default = tables["I.b.u"].initial_default_action
    assert [a.value for a in default.arguments] == [b"\x07"]
