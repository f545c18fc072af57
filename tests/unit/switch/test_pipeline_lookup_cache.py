"""LPM and ternary/range tables answer generated code from a per-key cache of their search:
every change of entries must show in the next lookup, misses included. Behaviour only."""

from fabriclab.switch.tables import (ActionCall, ActionSpec, KeyField, Lpm, Table, Ternary,
                                     _LookupCache)


def test_lpm_cache_follows_inserts_and_deletes():
    t = Table("l", [KeyField("k", "lpm", 32)], [ActionSpec("a", (("x", 8),))], ActionCall("NoAction"))
    find = t.finder()
    assert find(0x0A000105) is None  # a cached miss...
    t.insert({"k": Lpm(0x0A000100, 24)}, ActionCall("a", (24,)))
    assert find(0x0A000105).action.args == (24,)  # ...is not kept after an insert
    t.insert({"k": Lpm(0x0A000105, 32)}, ActionCall("a", (32,)))
    assert find(0x0A000105).action.args == (32,)  # the longer prefix wins at once
    assert find(0x0A000106).action.args == (24,)
    t.modify({"k": Lpm(0x0A000100, 24)}, ActionCall("a", (7,)))
    assert find(0x0A000106).action.args == (7,)  # the entry itself changed
    t.delete({"k": Lpm(0x0A000105, 32)})
    assert find(0x0A000105).action.args == (7,)
    t.clear()
    assert find(0x0A000105) is None and find(0x0A000106) is None


def test_ternary_cache_follows_priorities_and_deletes():
    t = Table("t", [KeyField("a", "ternary", 8), KeyField("b", "ternary", 8)],
              [ActionSpec("x", (("v", 8),))], ActionCall("NoAction"))
    find = t.finder()
    assert find((1, 2)) is None
    t.insert({"a": Ternary(1, 0xFF)}, ActionCall("x", (1,)), priority=1)
    assert find((1, 2)).action.args == (1,) and find((3, 2)) is None
    t.insert({"b": Ternary(2, 0xFF)}, ActionCall("x", (2,)), priority=5)
    assert find((1, 2)).action.args == (2,) and find((3, 2)).action.args == (2,)
    t.delete({"b": Ternary(2, 0xFF)}, priority=5)
    assert find((1, 2)).action.args == (1,) and find((3, 2)) is None


def test_cache_is_bounded():
    calls = []
    cache = _LookupCache(lambda k: calls.append(k) or k * 2)
    for k in range(_LookupCache.LIMIT + 10):
        assert cache[k] == 2 * k
    assert len(cache) <= _LookupCache.LIMIT and cache[5] == 10


def test_selector_cache_follows_groups_and_members():
    from fabriclab.switch.hashing import algorithm
    from fabriclab.switch.tables import ActionProfile, GroupRef, MemberRef

    prof = ActionProfile("p", with_selector=True, algorithm=algorithm("crc16"))
    for m in (1, 2, 3):
        prof.add_member(m, ActionCall("set", (m,)))
    prof.set_group(10, [(1, 1), (2, 1)])
    pick = prof.cached()
    selectors = [bytes([i, 7]) for i in range(16)]
    before = [pick((GroupRef(10), s)) for s in selectors]
    assert before == [prof.resolve(GroupRef(10), s) for s in selectors]
    assert {c.args for c in before} == {(1,), (2,)}
    prof.set_group(10, [(3, 1)])
    assert {pick((GroupRef(10), s)).args for s in selectors} == {(3,)}
    prof.modify_member(3, ActionCall("set", (9,)))
    assert pick((GroupRef(10), selectors[0])).args == (9,)
    assert pick((MemberRef(2), b"")).args == (2,)
    prof.delete_group(10)
    assert pick((GroupRef(10), selectors[0])) is None


def test_copied_pipeline_has_its_own_caches():
    from fabriclab.p4 import compile_source
    from fabriclab.switch.core import SwitchCore
    from fabriclab.switch.tables import Lpm

    source = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> k; }
struct metadata { }
struct headers { h_t h; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table t { key = { hdr.h.k: lpm; } actions = { fwd; NoAction; } default_action = fwd(9); }
    apply { t.apply(); }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""
    program = compile_source(source, "cache_copies.p4")
    one, two = SwitchCore(program), SwitchCore(program)  # the second: a copy of the first's code
    one.tables["I.t"].insert({"hdr.h.k": Lpm(0x80, 1)},
                             one.tables["I.t"].action_call("I.fwd", {"port": 1}))
    assert one.process(0, b"\x81", 0) == [(1, b"\x81")]
    assert two.process(0, b"\x81", 0) == [(9, b"\x81")]
    two.tables["I.t"].insert({"hdr.h.k": Lpm(0x81, 8)},
                             two.tables["I.t"].action_call("I.fwd", {"port": 2}))
    assert two.process(0, b"\x81", 0) == [(2, b"\x81")]
    assert one.process(0, b"\x81", 0) == [(1, b"\x81")]


def test_call_finders_follow_every_change():
    """Table.call_finder (a table applied as a statement: key -> action call or None)."""
    from fabriclab.switch.tables import Exact
    spec = [ActionSpec("a", (("x", 8),))]
    exact = Table("e", [KeyField("k", "exact", 8)], spec, ActionCall("NoAction"))
    lpm = Table("l", [KeyField("k", "lpm", 8)], spec, ActionCall("NoAction"))
    tern = Table("t", [KeyField("k", "ternary", 8)], spec, ActionCall("NoAction"))
    for t, match in ((exact, Exact(5)), (lpm, Lpm(5, 8)), (tern, Ternary(5, 0xFF))):
        find = t.call_finder()
        def calls(v, find=find, t=t):  # the key as generated code passes it
            return find(v if t.scalar_key else (v,))
        assert calls(5) is None  # a cached miss...
        t.insert({"k": match}, ActionCall("a", (1,)), priority=1)
        assert calls(5) == ActionCall("a", (1,))  # ...not kept after an insert
        t.modify({"k": match}, ActionCall("a", (2,)), priority=1)
        assert calls(5) == ActionCall("a", (2,))  # the entry's action changed
        t.delete({"k": match}, priority=1)
        assert calls(5) is None and calls(6) is None


def test_selector_by_field_values_follows_groups_and_members():
    """ActionProfile.cached_fields: (reference, variant, values...) keys, the bytes packed
    with the variant's widths only on a miss; the same choices as the bytes' resolve."""
    from fabriclab.switch.hashing import algorithm, pack_fields
    from fabriclab.switch.tables import ActionProfile, GroupRef, MemberRef

    prof = ActionProfile("p", with_selector=True, algorithm=algorithm("crc32"))
    for m in (1, 2, 3):
        prof.add_member(m, ActionCall("set", (m,)))
    prof.set_group(10, [(1, 1), (2, 1), (3, 1)])
    variants = ((12, 8, 4), (8,))  # all present; the always-present field alone
    pick = prof.cached_fields(variants)
    for a, b, c in ((1, 2, 3), (0xABC, 0xFF, 0xF), (7, 0, 1)):
        want = prof.resolve(GroupRef(10), pack_fields((a, b, c), variants[0]))
        assert pick((GroupRef(10), 0, a, b, c)) == want
        assert pick((GroupRef(10), 1, b)) == prof.resolve(GroupRef(10), bytes([b]))
    choices = {pick((GroupRef(10), 0, i, 7, 1)).args for i in range(64)}
    assert choices == {(1,), (2,), (3,)}
    prof.set_group(10, [(3, 1)])  # the cached choices are forgotten
    assert {pick((GroupRef(10), 0, i, 7, 1)).args for i in range(64)} == {(3,)}
    prof.modify_member(3, ActionCall("set", (9,)))
    assert pick((GroupRef(10), 0, 1, 7, 1)).args == (9,)
    assert pick((MemberRef(2), 1, 0)).args == (2,)
    prof.delete_group(10)
    assert pick((GroupRef(10), 0, 1, 7, 1)) is None
