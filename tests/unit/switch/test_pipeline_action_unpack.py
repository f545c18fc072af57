"""An action's leading `meta.f = param;` stores take the control-plane arguments straight
from the entry's argument tuple (no local per parameter); a parameter used elsewhere, a
second store to one field, a header field, a narrowing store keep the general path.
Behaviour, seen in the frames: every case gives the values P4 defines."""

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import run_stf

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> k; bit<8> a; bit<16> b; bit<8> c; }
struct inner_t { bit<8> x; }
struct metadata { bit<8> f; bit<16> g; bit<8> n; inner_t inner; }
struct headers { h_t h; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    // unpacked: both leading stores, then the body reads the fields they wrote
    action both(bit<8> x, bit<16> y) { meta.f = x; meta.g = y; meta.n = meta.f + meta.g[7:0]; }
    // stores in another order than the parameters'
    action swapped(bit<16> y, bit<8> x) { meta.f = x; meta.g = y; }
    // x is used twice: kept in its local
    action twice(bit<8> x) { meta.f = x; meta.g = (bit<16>)x + 1; }
    // the second store to meta.f must stay the last one
    action again(bit<8> x, bit<8> y) { meta.f = x; meta.f = y; }
    // a header field and a narrowing store are not plain struct stores
    action to_header(bit<8> x, bit<16> y) { hdr.h.c = x; meta.f = (bit<8>)y; }
    // a nested struct's field, then a statement that is not a store
    action nested(bit<8> x, bit<8> y) { meta.inner.x = x; meta.n = y; meta.f = meta.inner.x; }
    table t {
        key = { hdr.h.k: exact; }
        actions = { both; swapped; twice; again; to_header; nested; }
        default_action = both(0x11, 0x0102);
    }
    apply {
        sm.egress_spec = 1;
        meta.n = 0x77;
        t.apply();
        hdr.h.a = meta.f;
        hdr.h.b = meta.g;
        if (hdr.h.c == 0) { hdr.h.c = meta.n; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""

ENTRIES = """
add t hdr.h.k:1 both(x:0x05, y:0x0203)
add t hdr.h.k:2 swapped(y:0x0a0b, x:0x0c)
add t hdr.h.k:3 twice(x:0x30)
add t hdr.h.k:4 again(x:0x01, y:0x02)
add t hdr.h.k:5 to_header(x:0x44, y:0x1234)
add t hdr.h.k:6 nested(x:0x21, y:0x22)
"""


@pytest.mark.parametrize("key, out", [
    (1, "01 05 0203 08"),   # n = 5 + 3
    (2, "02 0c 0a0b 77"),
    (3, "03 30 0031 77"),
    (4, "04 02 0000 77"),
    (5, "05 34 0000 44"),
    (6, "06 21 0000 22"),
    (9, "09 11 0102 13"),   # the default action: n = 0x11 + 0x02
])
def test_action_stores_of_control_plane_arguments(key, out):
    core = SwitchCore(compile_source(PROGRAM, "action_unpack.p4"))
    result = run_stf(core, ENTRIES + f"packet 0 {key:02x} 00 0000 00\nexpect 1 {out}\n")
    assert result.ok, result.failures


def test_leading_stores_are_unpacked_into_the_fields():
    source = generate_pipeline(compile_source(PROGRAM, "action_unpack.p4")).source
    unpacked = [line.strip() for line in source.splitlines() if line.strip().endswith("= _call[1]")]
    assert any(line.startswith("_p_meta") and ".f, _p_meta" in line and ".g, =" in line
               for line in unpacked)  # both(): the two fields, no locals
    assert any(".g, _p_meta" in line and ".f, =" in line for line in unpacked)  # swapped()
