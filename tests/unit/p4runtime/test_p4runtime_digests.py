"""DigestEngine: batching by size and timeout, duplicate suppression until ack."""

import pytest
from finsy.proto import p4i, p4r
from google.protobuf import text_format

from fabriclab.switch.p4runtime.digests import DigestEngine
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.status import ALREADY_EXISTS, NOT_FOUND, P4RuntimeError

P4INFO = text_format.Parse(
    """
digests { preamble { id: 5 name: "learn_t" } type_spec { struct { name: "learn_t" } } }
type_info { structs { key: "learn_t" value {
  members { name: "mac" type_spec { bitstring { bit { bitwidth: 48 } } } }
  members { name: "port" type_spec { bitstring { bit { bitwidth: 9 } } } } } } }
""",
    p4i.P4Info(),
)
MS = 1_000_000


def engine(**config) -> DigestEngine:
    eng = DigestEngine(P4InfoIndex(P4INFO))
    eng.write(p4r.Update.INSERT, p4r.DigestEntry(digest_id=5, config=p4r.DigestEntry.Config(**config)))
    return eng


def values(lists):
    return [[tuple(int.from_bytes(m.bitstring, "big") for m in d.struct.members) for d in lst.data] for lst in lists]


def test_lists_fill_to_max_size_and_flush_on_timeout():
    eng = engine(max_list_size=2, max_timeout_ns=10 * MS, ack_timeout_ns=0)
    for mac in (1, 2, 3):
        eng.offer("learn_t", {"mac": mac, "port": 4}, 0)
    assert values(eng.due(0)) == [[(1, 4), (2, 4)]]
    assert eng.due(5 * MS) == []  # (3, 4) waits for the timeout
    assert values(eng.due(10 * MS)) == [[(3, 4)]]


def test_duplicates_wait_for_the_ack_or_its_timeout():
    eng = engine(max_list_size=1, ack_timeout_ns=100 * MS)
    eng.offer("learn_t", {"mac": 1, "port": 4}, 0)
    [first] = eng.due(0)
    eng.offer("learn_t", {"mac": 1, "port": 4}, 1)
    assert eng.due(1) == []  # suppressed: not acked yet
    eng.ack(p4r.DigestListAck(digest_id=5, list_id=first.list_id))
    eng.offer("learn_t", {"mac": 1, "port": 4}, 2)
    [second] = eng.due(2)
    eng.offer("learn_t", {"mac": 1, "port": 4}, 100 * MS + 2)
    assert len(eng.due(100 * MS + 2)) == 1  # the ack timed out: reported again
    assert second.list_id != first.list_id


def test_lists_are_numbered_per_digest_and_no_ack_timeout_keeps_no_memory():
    """PI's DigestData: a digest numbers its lists from 1, on across a DELETE; with
    ack_timeout_ns 0 it caches nothing, so a repeated value goes out again."""
    eng = engine(max_list_size=1, ack_timeout_ns=0)
    for _ in range(2):
        eng.offer("learn_t", {"mac": 1, "port": 4}, 0)
    lists = eng.due(0)
    assert values(lists) == [[(1, 4)], [(1, 4)]] and [d.list_id for d in lists] == [1, 2]
    eng.write(p4r.Update.DELETE, p4r.DigestEntry(digest_id=5))
    eng.write(p4r.Update.INSERT, p4r.DigestEntry(digest_id=5, config=p4r.DigestEntry.Config(max_list_size=1)))
    eng.offer("learn_t", {"mac": 1, "port": 4}, 0)
    assert [d.list_id for d in eng.due(0)] == [3]


def test_unconfigured_digests_are_dropped_and_config_errors():
    eng = DigestEngine(P4InfoIndex(P4INFO))
    eng.offer("learn_t", {"mac": 1, "port": 4}, 0)
    assert eng.due(0) == []
    with pytest.raises(P4RuntimeError) as err:  # PI DigestMgr::config_read: not configured
        eng.read(p4r.DigestEntry(digest_id=5))
    assert err.value.code == NOT_FOUND
    eng.write(p4r.Update.INSERT, p4r.DigestEntry(digest_id=5))
    for kind, entry, code in [(p4r.Update.INSERT, p4r.DigestEntry(digest_id=5), ALREADY_EXISTS),
                              (p4r.Update.INSERT, p4r.DigestEntry(digest_id=6), NOT_FOUND)]:
        with pytest.raises(P4RuntimeError) as err:
            eng.write(kind, entry)
        assert err.value.code == code


LIST_DIGEST = """#include <v1model.p4>
header h_t { bit<16> a; bit<8> b; }
struct hs_t { h_t h; }
struct m_t { }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout hs_t hdr, inout m_t meta) { apply { } }
control I(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    apply { digest(5, { hdr.h.a, hdr.h.b }); sm.egress_spec = 1; }
}
control E(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control C(inout hs_t hdr, inout m_t meta) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_a_digest_of_a_list_reaches_the_controller_as_p4infos_tuple():
    # p4c: issue430-1-bmv2 (`digest(5, { hdr.ethernet.srcAddr })`), P4Info's digest_0 a tuple
    from fabriclab.p4 import compile_source
    from fabriclab.switch.core import SwitchCore

    compiled = compile_source(LIST_DIGEST, "t.p4")
    [info] = compiled.p4info.digests
    assert info.preamble.name == "digest_0" and info.type_spec.WhichOneof("type_spec") == "tuple"
    core = SwitchCore(compiled)
    core.process(1, bytes([0x12, 0x34, 0x56]), 0)
    eng = DigestEngine(P4InfoIndex(compiled.p4info))
    eng.write(p4r.Update.INSERT, p4r.DigestEntry(digest_id=info.preamble.id,
                                                  config=p4r.DigestEntry.Config(max_list_size=1)))
    while core.digests:
        d = core.digests.popleft()
        eng.offer(d.name, d.fields, 0)
    [lst] = eng.due(0)
    assert [[int.from_bytes(m.bitstring, "big") for m in d.tuple.members] for d in lst.data] == [[0x1234, 0x56]]
