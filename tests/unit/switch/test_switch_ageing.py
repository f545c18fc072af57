"""Idle timeouts in the core: hits mark entries, sweeps report idle ones as BMv2's
AgeingMonitor does (every 1 s; an entry still idle is reported every second sweep)."""

import pytest

from fabriclab.errors import FabricError
from fabriclab.p4 import compile_source
from fabriclab.switch.ageing import AgeingMonitor
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.tables import ActionCall, Exact

PROGRAM = """#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct hs_t { eth_t eth; }
struct m_t { }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control V(inout hs_t hdr, inout m_t meta) { apply { } }
control I(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets) hits;
    action fwd(bit<9> port) { sm.egress_spec = port; }
    action fwd_counted(bit<9> port) { sm.egress_spec = port; }
    table smac {
        key = { hdr.eth.src: exact; }
        actions = { fwd; NoAction; }
        default_action = NoAction();
        support_timeout = true;
    }
    table dmac {
        key = { hdr.eth.dst: exact; }
        actions = { fwd_counted; NoAction; }
        default_action = NoAction();
        counters = hits;
    }
    apply { smac.apply(); dmac.apply(); }
}
control E(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control C(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""
S = 1_000_000  # microseconds
MS = 1_000


@pytest.fixture
def core():
    return SwitchCore(compile_source(PROGRAM, "ageing.p4"))


def frame(src: int, dst: int = 0xFF) -> bytes:
    return dst.to_bytes(6, "big") + src.to_bytes(6, "big") + b"\x88\xb5" + b"x" * 46


def reported(monitor, now_us):
    return [(t.name, [e.match["hdr.eth.src"].value for e in entries]) for t, entries in monitor.due(now_us)]


def test_an_idle_entry_is_reported_every_second_sweep_until_a_hit(core):
    smac = core.tables["I.smac"]
    a = smac.insert({"hdr.eth.src": Exact(0xA)}, ActionCall("I.fwd", (2,)))
    b = smac.insert({"hdr.eth.src": Exact(0xB)}, ActionCall("I.fwd", (3,)))
    smac.set_idle_timeout(a, 300 * MS * 1000, 0)
    smac.insert({"hdr.eth.src": Exact(0xC)}, ActionCall("I.fwd", (4,)))  # no TTL: never idle
    monitor = AgeingMonitor(core.tables.values())
    assert reported(monitor, 0) == []  # the first sweep: nothing idle yet
    assert reported(monitor, S // 2) == []  # between sweeps: no sweep at all
    assert reported(monitor, S) == [("I.smac", [0xA])]
    assert reported(monitor, 2 * S) == []  # reported by the previous sweep: skipped
    assert reported(monitor, 3 * S) == [("I.smac", [0xA])]
    smac.set_idle_timeout(b, 300 * MS * 1000, 3 * S)
    core.process(1, frame(0xA), 3 * S + 800 * MS)  # a hit restarts A's idle time
    assert reported(monitor, 4 * S) == [("I.smac", [0xB])]  # A idle 200 ms < 300 ms
    assert reported(monitor, 5 * S) == [("I.smac", [0xA])]  # B was reported last sweep
    assert reported(monitor, 6 * S) == [("I.smac", [0xB])]


def test_a_new_ttl_restarts_the_idle_time_and_ttl_0_stops_ageing(core):
    smac = core.tables["I.smac"]
    a = smac.insert({"hdr.eth.src": Exact(0xA)}, ActionCall("I.fwd", (2,)))
    smac.set_idle_timeout(a, 1_500 * MS * 1000, 0)
    monitor = AgeingMonitor(core.tables.values())
    assert reported(monitor, 0) == [] and reported(monitor, S) == []
    smac.set_idle_timeout(a, 1_500 * MS * 1000, S + 500 * MS)  # as BMv2's set_entry_ttl (a MODIFY)
    assert reported(monitor, 2 * S) == [] and reported(monitor, 3 * S) == [("I.smac", [0xA])]
    smac.set_idle_timeout(a, 0, 3 * S)
    assert reported(monitor, 5 * S) == [] and reported(monitor, 7 * S) == []
    smac.set_idle_timeout(a, MS * 1000, 7 * S)
    smac.delete({"hdr.eth.src": Exact(0xA)})
    assert reported(monitor, 9 * S) == []


def test_hits_mark_entries_of_ageing_tables_only_and_a_miss_counts_nothing(core):
    smac, dmac = core.tables["I.smac"], core.tables["I.dmac"]
    assert smac.hit_updates_entry and dmac.hit_updates_entry
    a = smac.insert({"hdr.eth.src": Exact(0xA)}, ActionCall("I.fwd", (2,)))
    d = dmac.insert({"hdr.eth.dst": Exact(0xD)}, ActionCall("I.fwd_counted", (5,)))
    assert core.process(1, frame(0xA, 0xD), 1234) == [(5, frame(0xA, 0xD))]
    assert a.last_hit_us == 1234 and d.last_hit_us == 0 and d.direct.counter.packets == 1
    core.process(1, frame(0xE, 0xE), 2000)  # misses both: BMv2 has no default-entry cell
    assert a.last_hit_us == 1234 and d.direct.counter.packets == 1


def test_only_tables_with_support_timeout_take_a_ttl(core):
    dmac = core.tables["I.dmac"]
    d = dmac.insert({"hdr.eth.dst": Exact(0xD)}, ActionCall("I.fwd_counted", (5,)))
    with pytest.raises(FabricError, match="does not support idle timeouts"):
        dmac.set_idle_timeout(d, 1000, 0)
    assert AgeingMonitor([dmac]).due(0) == []


def test_each_core_of_one_program_marks_its_own_entries():
    compiled = compile_source(PROGRAM, "ageing.p4")
    one, two = SwitchCore(compiled), SwitchCore(compiled)  # deep copies of one generated pipeline
    a = two.tables["I.smac"].insert({"hdr.eth.src": Exact(0xA)}, ActionCall("I.fwd", (2,)))
    one.tables["I.smac"].insert({"hdr.eth.src": Exact(0xA)}, ActionCall("I.fwd", (2,)))
    two.process(1, frame(0xA), 777)
    assert a.last_hit_us == 777 and one.tables["I.smac"].entries()[0].last_hit_us == 0
