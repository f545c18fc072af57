"""How large action selector groups may be on this target, with the spec's codes (spec 9.2.2-9.2.3).

The switch core hashes over a group in which each member appears `weight` times, so a group
costs memory and time in proportion to its total weight. MAX_GROUP_WEIGHT bounds that total
for every group: it is the target maximum the spec lets a target choose when the P4Info's
max_group_size is 0, and a P4Info asking for more cannot be realized (INVALID_ARGUMENT at
SetForwardingPipelineConfig). Checks run on the request's integers before anything is built,
so a weight of 2**31-1 costs nothing while the switch lock is held.
"""

from __future__ import annotations

from typing import Any, Sequence

from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, RESOURCE_EXHAUSTED, P4RuntimeError

MAX_GROUP_WEIGHT = 1 << 16  # sum of member weights of one group (BMv2 repeats members the same way)


def check_p4info(p4info: Any) -> None:
    """INVALID_ARGUMENT if a selector's declared max_group_size exceeds what we can realize."""
    for profile in p4info.action_profiles:
        if not profile.with_selector:
            continue
        largest = profile.max_group_size
        if profile.WhichOneof("selector_size_semantics") == "sum_of_members":
            largest *= profile.sum_of_members.max_member_weight or 1
        if largest > MAX_GROUP_WEIGHT:
            raise P4RuntimeError(INVALID_ARGUMENT, f"action selector '{profile.preamble.name}': groups of total "
                                 f"weight {largest} cannot be realized (this switch allows {MAX_GROUP_WEIGHT})")


def member_weight(profile: Any, weight: int, what: str) -> int:
    """The weight a group member counts for. Spec 9.2.2/9.2.3: 0 (unset) is INVALID_ARGUMENT,
    as PI checks ("Member weight must be a positive integer value"), unless the selector
    disallows weights (then it may be unset or 1)."""
    if profile.weights_disallowed:
        if weight not in (0, 1):
            raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: '{profile.preamble.name}' disallows weights (got {weight})")
        return 1
    if weight <= 0:
        raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: weight must be a positive integer (got {weight})")
    return weight


def check_group(profile: Any, weights: Sequence[int], max_size: int, what: str, one_shot: bool = False) -> None:
    """Check a group's (already validated) weights against max_size, max_group_size and the target.

    Exceeding the group's own limit is RESOURCE_EXHAUSTED for a group write and INVALID_ARGUMENT
    for a one-shot action set (as the spec words each); the target limit is RESOURCE_EXHAUSTED.
    """
    by_members = profile.WhichOneof("selector_size_semantics") == "sum_of_members"
    if by_members:
        heaviest = profile.sum_of_members.max_member_weight
        if heaviest and max(weights, default=0) > heaviest:
            raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: a weight exceeds max_member_weight {heaviest}")
    size = len(weights) if by_members else sum(weights)
    limit = max_size or profile.max_group_size
    if limit and size > limit:
        raise P4RuntimeError(INVALID_ARGUMENT if one_shot else RESOURCE_EXHAUSTED,
                             f"{what}: size {size} exceeds the maximum {limit}")
    total = sum(weights)
    if total > MAX_GROUP_WEIGHT:
        raise P4RuntimeError(RESOURCE_EXHAUSTED, f"{what}: total weight {total} exceeds this switch's "
                             f"maximum group size {MAX_GROUP_WEIGHT}")
