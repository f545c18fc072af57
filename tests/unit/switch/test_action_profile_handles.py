"""Action profile selection in BMv2's member-handle order (lowest free handle; a weight is
that many handles, copies made when a group needs them and given back when none does)."""

from fabriclab.switch.handles import Handles
from fabriclab.switch.tables import ActionCall, ActionProfile, GroupRef


def call(port: int) -> ActionCall:
    return ActionCall("forward", (port,))


def profile(*members: tuple[int, int]) -> ActionProfile:
    p = ActionProfile("sel", with_selector=True, algorithm=lambda data: data[0])
    for member_id, port in members:
        p.add_member(member_id, call(port))
    return p


def ports(p: ActionProfile, group_id: int, n: int) -> list[int]:
    """The port each hash 0..n-1 picks (the test algorithm: the selector's first byte)."""
    return [p.resolve(GroupRef(group_id), bytes([h])).args[0] for h in range(n)]


def test_handles_are_lowest_free():
    h = Handles()
    assert [h.take() for _ in range(3)] == [0, 1, 2]
    h.give_back(1)
    h.give_back(0)
    assert [h.take(), h.take(), h.take()] == [0, 1, 3]


def test_weight_copies_take_the_next_free_handles_and_interleave():
    p = profile((1, 10), (2, 20))
    p.set_group(7, [(1, 2), (2, 1)])
    assert p.member_handles == {1: [0, 2], 2: [1]}
    assert ports(p, 7, 3) == [10, 20, 10]


def test_copies_are_shared_and_given_back_when_no_group_needs_them():
    p = profile((1, 10), (2, 20))
    p.set_group(7, [(1, 3), (2, 1)])
    p.set_group(8, [(1, 2)])
    assert p.member_handles[1] == [0, 2, 3]
    p.set_group(7, [(2, 1)])  # group 8 still needs two handles of member 1
    assert p.member_handles[1] == [0, 2]
    p.delete_group(8)
    assert p.member_handles[1] == [0]
    p.add_member(3, call(30))  # the lowest free handle: 2
    p.set_group(9, [(3, 1), (1, 1), (2, 1)])
    assert ports(p, 9, 3) == [10, 20, 30]


def test_a_member_made_after_a_delete_takes_its_place():
    p = profile((1, 10), (2, 20), (3, 30))
    p.delete_member(1)
    p.add_member(4, call(40))
    p.set_group(7, [(2, 1), (3, 1), (4, 1)])
    assert ports(p, 7, 3) == [40, 20, 30]


def test_inactive_members_leave_the_selection_not_the_group():
    p = profile((1, 10), (2, 20))
    p.set_group(7, [(1, 2), (2, 1)])
    p.set_inactive(7, [2])
    assert ports(p, 7, 2) == [10, 10] and p.member_handles[1] == [0, 2]
    p.set_inactive(7, [1, 2])  # none active: all of them
    assert ports(p, 7, 3) == [10, 20, 10]
    p.set_inactive(7, [])
    assert ports(p, 7, 3) == [10, 20, 10]
