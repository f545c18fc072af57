"""Counter cells add without a mask per packet; Counter.read takes them modulo 2**64, so a
cell written near 2**64 (P4Runtime, STF counter_write) reads wrapped as BMv2's uint64_t
does, through the generated count (dense and sparse cells) and Counter.count."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.externs import Counter, CounterData

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<32> i; }
struct metadata { }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    counter(8, CounterType.packets_and_bytes) small;
    counter(32w1 << 20, CounterType.packets_and_bytes) big;
    apply {
        sm.egress_spec = 2;
        small.count((bit<32>)hdr.a.i[2:0]);
        big.count(hdr.a.i);
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""
TOP = 1 << 64


@pytest.mark.parametrize("name", ["I.small", "I.big"])
def test_counts_wrap_at_read(name):
    core = SwitchCore(compile_source(PROGRAM, "counter_wrap.p4"))
    ctr = core.counters[name]
    assert ctr.dense == (name == "I.small")
    ctr.write(3, CounterData(TOP - 1, TOP - 10))
    frame = (3).to_bytes(4, "big") + bytes(20)
    for n in range(1, 4):
        assert core.process(1, frame, 0) == [(2, frame)]
        assert ctr.read(3) == CounterData(n - 1, (TOP - 10 + n * len(frame)) % TOP)
    assert ctr.read(4) == CounterData(0, 0)


def test_count_method_wraps_at_read():
    ctr = Counter("c", 4)
    ctr.write(1, CounterData(TOP - 2, 5))
    for _ in range(3):
        ctr.count(1, 100)
    assert ctr.read(1) == CounterData(1, 305)
