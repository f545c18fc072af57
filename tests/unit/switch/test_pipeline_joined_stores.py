"""Consecutive conditional stores `x = c ? v : x` under the same test share one `if` when
the first store cannot change what the test reads (fabric.p4's best port then best key).
Stores in the other order (the key first: the port's test then sees the new key) must
keep two tests; each row gives other bytes if they were joined wrongly."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header a_t { bit<8> k; bit<8> p; bit<8> best_key; bit<8> best_port;
             bit<8> key2; bit<8> port2; bit<8> lkey; bit<8> lport; }
struct metadata { bit<8> best_key; bit<8> best_port; bit<8> key2; bit<8> port2; }
struct headers { a_t a; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.a); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        meta.best_key = 100; meta.best_port = 0; meta.key2 = 100; meta.port2 = 0;
        bit<8> lkey = 100;
        bit<8> lport = 0;
        // joined: the port's store leaves the key the test reads as it is
        meta.best_port = hdr.a.k < meta.best_key ? hdr.a.p : meta.best_port;
        meta.best_key = hdr.a.k < meta.best_key ? hdr.a.k : meta.best_key;
        // not joined: the key changes first, the port's test sees the new key
        meta.key2 = hdr.a.k < meta.key2 ? hdr.a.k : meta.key2;
        meta.port2 = hdr.a.k < meta.key2 ? hdr.a.p : meta.port2;
        // locals, not joined for the same reason
        lkey = hdr.a.k < lkey ? hdr.a.k : lkey;
        lport = hdr.a.k < lkey ? hdr.a.p : lport;
        hdr.a.best_key = meta.best_key; hdr.a.best_port = meta.best_port;
        hdr.a.key2 = meta.key2; hdr.a.port2 = meta.port2;
        hdr.a.lkey = lkey; hdr.a.lport = lport;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.a); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def core():
    return SwitchCore(compile_source(PROGRAM, "joined_stores.p4"))


@pytest.mark.parametrize("k,p", [(5, 7), (99, 3), (100, 9), (200, 1)])
def test_stores(core, k, p):
    less = k < 100
    want = [k, p, k if less else 100, p if less else 0, k if less else 100, 0,
            k if less else 100, 0]
    assert core.process(1, bytes([k, p] + [0] * 6), 0) == [(2, bytes(want))]


def test_one_test_joined():
    from fabriclab.switch.codegen import generate_pipeline
    src = generate_pipeline(compile_source(PROGRAM, "joined_stores.p4")).source
    assert src.count("best_key):") == 1  # the port's and the key's stores: one `if`
