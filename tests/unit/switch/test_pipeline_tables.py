"""Table match engines, priorities, defaults and action profiles/selectors."""

import pytest

from fabriclab.errors import FabricError
from fabriclab.switch.hashing import crc16, pack_fields
from fabriclab.switch.tables import (ActionCall, ActionProfile, ActionSpec, EntryExistsError,
                                     EntryNotFoundError, Exact, GroupRef, KeyField, Lpm,
                                     MemberRef, OptionalMatch, Range, Table, Ternary)

FWD = ActionSpec("fwd", (("port", 9),))
DROP = ActionSpec("drop")
NOP = ActionCall("NoAction")


def table(*keys, **kw):
    return Table("t", [KeyField(n, k, w) for n, k, w in keys], [FWD, DROP, ActionSpec("NoAction")],
                 NOP, **kw)


def fwd(p):
    return ActionCall("fwd", (p,))


def test_exact_hit_miss_and_default():
    t = table(("a", "exact", 16), ("b", "exact", 8))
    t.insert({"a": Exact(1), "b": Exact(2)}, fwd(3))
    assert t.apply((1, 2), b"", 64, 0) == (True, fwd(3))
    assert t.apply((1, 3), b"", 64, 0) == (False, NOP)
    t.set_default(ActionCall("drop"))
    assert t.apply((9, 9), b"", 64, 0) == (False, ActionCall("drop"))
    with pytest.raises(EntryExistsError):
        t.insert({"a": Exact(1), "b": Exact(2)}, fwd(4))
    t.modify({"a": Exact(1), "b": Exact(2)}, fwd(5))
    assert t.apply((1, 2), b"", 64, 0)[1] == fwd(5)
    t.delete({"a": Exact(1), "b": Exact(2)})
    assert t.apply((1, 2), b"", 64, 0)[0] is False
    with pytest.raises(EntryNotFoundError):
        t.delete({"a": Exact(1), "b": Exact(2)})


def test_lpm_longest_prefix_wins_with_exact_fields():
    t = table(("vrf", "exact", 8), ("dst", "lpm", 32))
    t.insert({"vrf": Exact(1), "dst": Lpm(0x0A000000, 8)}, fwd(1))
    t.insert({"vrf": Exact(1), "dst": Lpm(0x0A000100, 24)}, fwd(2))
    t.insert({"vrf": Exact(1), "dst": Lpm(0, 0)}, fwd(9))
    assert t.apply((1, 0x0A000105), b"", 1, 0)[1] == fwd(2)
    assert t.apply((1, 0x0A020105), b"", 1, 0)[1] == fwd(1)
    assert t.apply((1, 0x0B000000), b"", 1, 0)[1] == fwd(9)
    assert t.apply((2, 0x0A000105), b"", 1, 0)[0] is False
    t.delete({"vrf": Exact(1), "dst": Lpm(0x0A000100, 24)})
    assert t.apply((1, 0x0A000105), b"", 1, 0)[1] == fwd(1)


def test_lpm_rejects_host_bits():
    t = table(("dst", "lpm", 32))
    with pytest.raises(FabricError, match="outside its mask"):
        t.insert({"dst": Lpm(0x0A000001, 24)}, fwd(1))


def test_ternary_higher_priority_wins_then_insertion_order():
    t = table(("a", "ternary", 16))
    t.insert({"a": Ternary(0x0A00, 0xFF00)}, fwd(1), priority=10)
    t.insert({"a": Ternary(0x0A0B, 0xFFFF)}, fwd(2), priority=20)
    t.insert({}, fwd(3), priority=1)  # all wildcard
    assert t.apply((0x0A0B,), b"", 1, 0)[1] == fwd(2)
    assert t.apply((0x0A0C,), b"", 1, 0)[1] == fwd(1)
    assert t.apply((0x0B0C,), b"", 1, 0)[1] == fwd(3)


def test_range_and_optional_keys():
    t = table(("p", "range", 16), ("o", "optional", 8))
    t.insert({"p": Range(100, 200), "o": OptionalMatch(6)}, fwd(1), priority=5)
    t.insert({"p": Range(150, 300)}, fwd(2), priority=1)
    assert t.apply((150, 6), b"", 1, 0)[1] == fwd(1)
    assert t.apply((150, 17), b"", 1, 0)[1] == fwd(2)
    assert t.apply((301, 6), b"", 1, 0)[0] is False
    with pytest.raises(FabricError, match="bad range"):
        t.insert({"p": Range(5, 4)}, fwd(1), priority=2)


def test_action_call_validates_params():
    t = table(("a", "exact", 8))
    assert t.action_call("fwd", {"port": 3}) == fwd(3)
    with pytest.raises(FabricError, match="does not fit"):
        t.action_call("fwd", {"port": 512})
    with pytest.raises(FabricError, match="missing parameter"):
        t.action_call("fwd", {})
    with pytest.raises(FabricError, match="not one of"):
        t.action_call("nope")


def test_const_entries_and_const_default_are_immutable():
    t = table(("a", "exact", 8), const_entries=True, const_default=True)
    t.insert({"a": Exact(1)}, fwd(1), _const=True)
    with pytest.raises(FabricError, match="const"):
        t.insert({"a": Exact(2)}, fwd(1))
    with pytest.raises(FabricError, match="const"):
        t.set_default(fwd(1))


def test_direct_counter_counts_hits_only():
    t = table(("a", "exact", 8), direct_counter="c")
    entry = t.insert({"a": Exact(1)}, fwd(1))
    t.apply((1,), b"", 100, 0)
    t.apply((2,), b"", 100, 0)
    assert (entry.direct.counter.packets, entry.direct.counter.bytes) == (1, 100)


def test_selector_picks_member_by_crc16_of_selector_fields():
    prof = ActionProfile("sel", with_selector=True, algorithm=crc16)
    t = Table("t", [KeyField("a", "exact", 8), KeyField("h", "selector", 32)], [FWD], NOP,
              profile=prof)
    for mid in (1, 2, 3):
        prof.add_member(mid, fwd(mid * 10))
    prof.set_group(7, [(3, 1), (1, 1), (2, 1)])  # order of creation decides, not listing
    t.insert({"a": Exact(1)}, GroupRef(7))
    for value in range(50):
        idx = crc16(pack_fields([value], [32])) % 3
        assert t.apply((1,), pack_fields([value], [32]), 1, 0) == (True, fwd((idx + 1) * 10))
    t.insert({"a": Exact(2)}, MemberRef(2))
    assert t.apply((2,), pack_fields([0], [32]), 1, 0) == (True, fwd(20))
    with pytest.raises(FabricError, match="member or group"):
        t.insert({"a": Exact(3)}, fwd(1))
    with pytest.raises(FabricError, match="in a group"):
        prof.delete_member(1)


def test_value_set_members_with_struct_fields_and_ranges():
    from fabriclab.switch.value_sets import ValueSet

    vs = ValueSet("p.vs", 2, (KeyField("a", "exact", 8), KeyField("b", "range", 16)))
    assert not vs.match((1, 5))
    vs.set_members([{"a": Exact(1), "b": Range(0, 10)}, {"b": Range(100, 200)}])
    assert vs.match((1, 5)) and vs.match((9, 150))
    assert not vs.match((2, 5)) and not vs.match((1, 11))
    with pytest.raises(FabricError, match="at most 2"):
        vs.set_members([{}, {}, {}])
    with pytest.raises(FabricError, match="unknown field"):
        vs.set_members([{"zz": Exact(1)}])
