"""random() with constant bounds draws inline from the core's seeded generator: a range
of 2^k values takes getrandbits(k) as it comes (no rejection loop), one value draws
nothing, any other range draws as randint does. Values stay uniform over [lo, hi]."""

import collections
import random

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header r_t { bit<32> full; bit<8> four; bit<64> wide; bit<8> one; bit<8> six; bit<8> byte; }
struct metadata { }
struct headers { r_t r; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.r); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        random(hdr.r.full, 0, 0xFFFFFFFF);
        random(hdr.r.four, 8, 11);
        random(hdr.r.wide, 0, 0xFFFFFFFFFFFFFFFF);
        random(hdr.r.one, 5, 5);
        random(hdr.r.six, 0, 5);
        random(hdr.r.byte, 0x80, 0xFF);
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.r); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "random_ranges.p4")


def draw(core: SwitchCore) -> tuple[int, ...]:
    ((_, out),) = core.process(1, bytes(16), 0)
    return (int.from_bytes(out[0:4], "big"), out[4], int.from_bytes(out[5:13], "big"),
            out[13], out[14], out[15])


def test_only_ranges_not_a_power_of_two_loop(program):
    source = generate_pipeline(program).source
    assert source.count("while _rr") == 1  # random(six, 0, 5)'s rejection loop only


def test_draws_are_the_seeded_generators_in_order(program):
    core = SwitchCore(program)
    rng = random.Random(0)
    for _ in range(300):
        expected = (rng.getrandbits(32), 8 + rng.getrandbits(2), rng.getrandbits(64), 5,
                    rng.randint(0, 5), 0x80 + rng.getrandbits(7))
        assert draw(core) == expected


def test_values_are_uniform_over_the_range(program):
    core = SwitchCore(program)
    n = 4000
    draws = [draw(core) for _ in range(n)]
    four = collections.Counter(d[1] for d in draws)
    assert set(four) == {8, 9, 10, 11}
    assert all(abs(c - n / 4) < n / 20 for c in four.values())  # 5 sigma is about n/28
    for i, bits in ((0, 32), (2, 64), (5, 8)):  # each bit of the power-of-two ranges: 1/2
        values = [d[i] for d in draws]
        for b in (0, bits // 2, bits - 2):
            ones = sum(v >> b & 1 for v in values)
            assert abs(ones - n / 2) < n / 10
    assert {d[5] >> 7 for d in draws} == {1}  # byte: 0x80..0xFF
    assert {d[3] for d in draws} == {5}
    assert set(collections.Counter(d[4] for d in draws)) == set(range(6))
