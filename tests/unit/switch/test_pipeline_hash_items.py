"""hash() and action selectors key their per-values caches with one masked int for a run
of fields of one header, fields not adjacent or out of bit order included; the bytes
hashed on a miss are the data list's fields packed in the list's order, as before."""

import random

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.hashing import algorithm, pack_fields
from fabriclab.switch.tables import Exact, GroupRef, MemberRef

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header g_t { bit<8> with_h; bit<16> m; bit<32> hashed; bit<16> port; }
header h_t { bit<8> a; bit<16> b; bit<8> c; bit<32> d; }
struct metadata { bit<16> m; }
struct headers { g_t g; h_t h; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.g);
        transition select(hdr.g.with_h) { 1: with_h; default: accept; }
    }
    state with_h { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action fwd(bit<9> p) { sm.egress_spec = p; hdr.g.port = (bit<16>)p; }
    action_selector(HashAlgorithm.crc16, 32w64, 32w16) sel;
    table pick {
        key = { hdr.g.with_h: exact; hdr.h.d: selector; hdr.h.a: selector; meta.m: selector;
                hdr.h.c: selector; hdr.h.b: selector; }
        actions = { fwd; }
        implementation = sel;
    }
    apply {
        meta.m = hdr.g.m;
        hash(hdr.g.hashed, HashAlgorithm.crc32, 32w0, { hdr.h.d, hdr.h.a, meta.m, hdr.h.c, hdr.h.b },
             64w4294967296);
        pick.apply();
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.g); pkt.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_source(PROGRAM, "hash_items.p4")


def test_a_header_run_is_one_masked_value(program):
    source = generate_pipeline(program).source
    line = next(x for x in source.splitlines() if "_hashed_" in x)
    assert line.count("_p_hdr") <= 3  # the two runs of h and its validity: no value per field


def test_hash_and_selector_by_values_match_the_packed_bytes(program):
    core = SwitchCore(program)
    (name,) = [n for n in core.tables if n.endswith("pick")]
    table = core.tables[name]
    prof = table.profile
    call = table.action_call
    fwd = next(a for a in table.actions if a.endswith("fwd"))
    for m in range(4):
        prof.add_member(m, call(fwd, {"p": 10 + m}))
    prof.set_group(1, [(m, 1) for m in range(4)])
    table.insert({"hdr.g.with_h": Exact(1)}, GroupRef(1))
    table.insert({"hdr.g.with_h": Exact(0)}, GroupRef(1))
    crc32 = algorithm("crc32")
    rng = random.Random(3)
    ports = set()
    for i in range(300):
        with_h = i % 3 != 0
        a, b, c, d, m = (rng.getrandbits(w) for w in (8, 16, 8, 32, 16))
        data = bytes([1 if with_h else 0]) + m.to_bytes(2, "big") + bytes(6)
        if with_h:
            data += bytes([a]) + b.to_bytes(2, "big") + bytes([c]) + d.to_bytes(4, "big")
        ((port, out),) = core.process(1, data, 0)
        fields, widths = ([d, a, m, c, b], [32, 8, 16, 8, 16]) if with_h else ([m], [16])
        packed = pack_fields(fields, widths)
        assert int.from_bytes(out[3:7], "big") == crc32(packed)
        assert port == prof.resolve(GroupRef(1), packed).args[0]
        ports.add(port)
    assert ports == {10, 11, 12, 13}
    prof.set_group(1, [])  # an empty group: the table's default (NoAction), port 0
    assert core.process(1, bytes([1]) + bytes(16), 0)[0][0] == 0
    table.modify({"hdr.g.with_h": Exact(1)}, MemberRef(2))
    assert core.process(1, bytes([1]) + bytes(16), 0)[0][0] == 12


def test_each_core_resolves_with_its_own_groups(program):
    """The per-(key, values) selection caches are copied with each core's tables and
    profile: a core never sees another's members, groups or entries."""
    cores = [SwitchCore(program) for _ in range(2)]
    for n, core in enumerate(cores):
        (name,) = [t for t in core.tables if t.endswith("pick")]
        table = core.tables[name]
        fwd = next(a for a in table.actions if a.endswith("fwd"))
        table.profile.add_member(1, table.action_call(fwd, {"p": 20 + n}))
        table.profile.set_group(5, [(1, 1)])
        table.insert({"hdr.g.with_h": Exact(0)}, GroupRef(5))
    data = bytes(16)
    assert [core.process(1, data, 0)[0][0] for core in cores] == [20, 21]
    (name,) = [t for t in cores[0].tables if t.endswith("pick")]
    cores[0].tables[name].delete({"hdr.g.with_h": Exact(0)})  # an entry change: cache emptied
    assert [core.process(1, data, 0)[0][0] for core in cores] == [0, 21]
