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
