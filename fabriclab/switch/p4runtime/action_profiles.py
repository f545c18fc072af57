"""ActionProfileMember and ActionProfileGroup (spec 9.2).

Members and groups live in `core.action_profiles[name]`; ids >= 2**31 belong to one-shot
action sets (table_entries.py) and are invisible here. A member's action must be an action
of a table the profile implements.

As simple_switch_grpc (p4lang/PI proto/frontend/src/action_prof_mgr.cpp, device_mgr.cpp):
- one profile is programmed either by members/groups or by one-shot action sets, not both
  (ActionProfMgr::check_selector_usage): writing a member or group of a profile that
  one-shot sets use is INVALID_ARGUMENT, and so is a one-shot set for a profile with
  members or groups (table_entries.py). Once one side is empty the
  other may start.
- deleting a member or group still in use (by a table entry, or a member by a group) is
  UNKNOWN: PI's "Error when deleting member/group on target" for BMv2's MBR_STILL_USED /
  GRP_STILL_USED.
- a group member's `watch_port` (or deprecated `watch`) is kept and read back as written
  (action_profile_group_read_one), and, as PI's WatchPortEnforcer, a member whose watch port
  is down leaves the selection until it is up again (`apply_watch_ports`, on the switch's
  port events); reads still list it. A group whose watched members are all down keeps
  selecting among all of them (simple_switch_grpc's GroupSelection would take the hash
  modulo zero).
- a weighted member is several BMv2 members, which decides selection (core
  `ActionProfile`); reads list members and groups in the order of their BMv2 handles and a
  group's members by id with their weights (action_profile_group_read_one's std::map).
  Two PI slips are not copied: its wildcard member read lists a weighted member once per
  BMv2 copy, and its group read gives every member the watch port of the group's member
  with the highest handle.
"""

from __future__ import annotations

from typing import Any, Iterator

from finsy.proto import p4r

from fabriclab.switch.p4runtime import matches, selector_limits
from fabriclab.switch.p4runtime.context import HIDDEN_ID, RuntimeContext, WatchedGroup, core_errors
from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    RESOURCE_EXHAUSTED,
    UNKNOWN,
    P4RuntimeError,
)
from fabriclab.switch.p4runtime.table_entries import encode_call
from fabriclab.switch.tables import ActionCall, GroupRef, MemberRef

Update = p4r.Update
_HIDDEN = HIDDEN_ID
def _uses_one_shots(ctx: RuntimeContext, profile_name: str) -> bool:
    return any(shot.profile == profile_name for shot in ctx.one_shots.values())


def _check_manual(ctx: RuntimeContext, profile: Any) -> None:
    """Members and groups may not be written or read while one-shot sets use the profile
    (PI's ActionProfMgr::manual(): "Invalid attempt to mix action selector programming modes")."""
    if _uses_one_shots(ctx, profile.preamble.name):
        raise P4RuntimeError(INVALID_ARGUMENT, f"action profile '{profile.preamble.name}' is programmed with "
                             "one-shot action sets: members and groups cannot be mixed with them")


def _profiles(ctx: RuntimeContext, profile_id: int) -> list[Any]:
    return ctx.index.all("action_profiles") if profile_id == 0 else [ctx.index.get("action_profiles", profile_id)]


def _member_call(ctx: RuntimeContext, profile: Any, action: p4r.Action) -> ActionCall:
    tables = [ctx.index.get("tables", t) for t in profile.table_ids]
    for table in tables:
        if any(ref.id == action.action_id for ref in table.action_refs):
            call = matches.decode_action(ctx.index, action, table)
            return ActionCall(call.name, call.params)
    matches.decode_action(ctx.index, action, None)  # INVALID_ARGUMENT for an unknown action id
    raise P4RuntimeError(INVALID_ARGUMENT, f"the action is not an action of the tables of '{profile.preamble.name}'")


def _check_unused(ctx: RuntimeContext, core_profile: Any, ref: Any) -> None:
    """A member or group that a table entry (or group) points at cannot be deleted: UNKNOWN,
    as PI answers when BMv2 refuses (MBR_STILL_USED / GRP_STILL_USED). A member whose watch
    port is down is still in its group."""
    for table in ctx.core.tables.values():
        if table.profile is core_profile and any(e.action == ref for e in table.entries()):
            raise P4RuntimeError(UNKNOWN, f"{type(ref).__name__} {ref[0]} is used by an entry of '{table.name}'")
    if isinstance(ref, MemberRef) and any(ref.member_id == m for g in core_profile.groups.values() for m, _ in g):
        raise P4RuntimeError(UNKNOWN, f"member {ref.member_id} is in a group")


def _check_id(value: int, what: str) -> None:
    if value >= _HIDDEN:
        raise P4RuntimeError(INVALID_ARGUMENT, f"{what} {value} is reserved (must be < 2**31)")


def write_member(ctx: RuntimeContext, kind: int, msg: p4r.ActionProfileMember) -> None:
    profile = ctx.index.get("action_profiles", msg.action_profile_id)
    core_profile = ctx.core.action_profiles[profile.preamble.name]
    _check_manual(ctx, profile)
    _check_id(msg.member_id, "member_id")
    with core_errors():
        if kind == Update.DELETE:
            _check_unused(ctx, core_profile, MemberRef(msg.member_id))
            core_profile.delete_member(msg.member_id)
            return
        if not msg.HasField("action"):
            raise P4RuntimeError(INVALID_ARGUMENT, "the member has no action")
        call = _member_call(ctx, profile, msg.action)
        if kind == Update.INSERT:
            core_profile.add_member(msg.member_id, call)
        elif kind == Update.MODIFY:
            core_profile.modify_member(msg.member_id, call)
        else:
            raise P4RuntimeError(INVALID_ARGUMENT, "update type must be INSERT, MODIFY or DELETE")


def read_members(ctx: RuntimeContext, msg: p4r.ActionProfileMember) -> Iterator[p4r.Entity]:
    """Members in the order of their BMv2 handles. As PI, reading a profile that one-shot
    sets program (a wildcard read reaching one too) is INVALID_ARGUMENT."""
    for profile in _profiles(ctx, msg.action_profile_id):
        _check_manual(ctx, profile)
        core_profile = ctx.core.action_profiles[profile.preamble.name]
        handles = core_profile.member_handles
        for member_id in sorted(core_profile.members, key=lambda m: handles[m][0]):  # BMv2's order
            if member_id >= _HIDDEN or (msg.member_id and member_id != msg.member_id):
                continue
            yield p4r.Entity(action_profile_member=p4r.ActionProfileMember(
                action_profile_id=profile.preamble.id, member_id=member_id,
                action=encode_call(ctx, core_profile.members[member_id])))


def write_group(ctx: RuntimeContext, kind: int, msg: p4r.ActionProfileGroup) -> None:
    profile = ctx.index.get("action_profiles", msg.action_profile_id)
    core_profile = ctx.core.action_profiles[profile.preamble.name]
    _check_manual(ctx, profile)
    _check_id(msg.group_id, "group_id")
    if not profile.with_selector:
        raise P4RuntimeError(INVALID_ARGUMENT, f"action profile '{profile.preamble.name}' has no selector: no groups")
    exists = msg.group_id in core_profile.groups
    if kind == Update.DELETE:
        if exists:
            _check_unused(ctx, core_profile, GroupRef(msg.group_id))
        with core_errors():
            core_profile.delete_group(msg.group_id)
        ctx.group_max_size.pop((profile.preamble.id, msg.group_id), None)
        ctx.watched_groups.pop((profile.preamble.id, msg.group_id), None)
        return
    if kind == Update.INSERT and exists:
        raise P4RuntimeError(ALREADY_EXISTS, f"group {msg.group_id} exists")
    if kind == Update.MODIFY and not exists:
        raise P4RuntimeError(NOT_FOUND, f"group {msg.group_id} does not exist")
    if kind not in (Update.INSERT, Update.MODIFY):
        raise P4RuntimeError(INVALID_ARGUMENT, "update type must be INSERT, MODIFY or DELETE")
    what = f"group {msg.group_id}"
    members, seen, watches = [], set(), {}
    for m in msg.members:
        weight = selector_limits.member_weight(profile, m.weight, what)
        if m.member_id in seen:
            raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: member {m.member_id} listed twice (use its weight)")
        seen.add(m.member_id)
        if m.member_id not in core_profile.members or m.member_id >= _HIDDEN:
            raise P4RuntimeError(NOT_FOUND, f"{what}: member {m.member_id} does not exist")
        members.append((m.member_id, weight))
        watch = m.WhichOneof("watch_kind")
        if watch is not None:
            watches[m.member_id] = (watch, getattr(m, watch))
    if msg.max_size < 0 or (profile.max_group_size and msg.max_size > profile.max_group_size):
        raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: max_size {msg.max_size} outside "
                             f"0..{profile.max_group_size or 'unlimited'}")
    max_size = msg.max_size
    if kind == Update.MODIFY:
        inserted = ctx.group_max_size.get((profile.preamble.id, msg.group_id), 0)
        if max_size not in (0, inserted):  # PI: an unset (0) max_size in a MODIFY keeps the group's
            raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: max_size cannot change after the group is inserted")
        max_size = inserted
    if max_size > selector_limits.MAX_GROUP_WEIGHT:
        raise P4RuntimeError(RESOURCE_EXHAUSTED, f"{what}: max_size {max_size} exceeds this switch's "
                             f"maximum {selector_limits.MAX_GROUP_WEIGHT}")
    selector_limits.check_group(profile, [w for _, w in members], max_size, what)
    key = (profile.preamble.id, msg.group_id)
    watched = WatchedGroup(members, watches) if watches else None
    with core_errors():
        core_profile.set_group(msg.group_id, members)
        core_profile.set_inactive(msg.group_id, watched.down(ctx.ports_down) if watched else ())
    ctx.group_max_size[key] = max_size
    if watched:
        ctx.watched_groups[key] = watched
    else:
        ctx.watched_groups.pop(key, None)


def apply_watch_ports(ctx: RuntimeContext) -> None:
    """Select in each watched group among the members whose watch port is up (after a port
    event changed `ctx.ports_down`; under the switch lock)."""
    for (profile_id, group_id), watched in ctx.watched_groups.items():
        profile = ctx.index.get("action_profiles", profile_id)
        ctx.core.action_profiles[profile.preamble.name].set_inactive(group_id, watched.down(ctx.ports_down))


def _member_out(member_id: int, weight: int, watch: tuple[str, Any] | None) -> p4r.ActionProfileGroup.Member:
    out = p4r.ActionProfileGroup.Member(member_id=member_id, weight=weight)
    if watch is not None:
        setattr(out, *watch)
    return out


def read_groups(ctx: RuntimeContext, msg: p4r.ActionProfileGroup) -> Iterator[p4r.Entity]:
    """Groups in the order of their BMv2 handles, each one's members by id (PI's std::map),
    watch ports as written; INVALID_ARGUMENT for a profile one-shot sets program (PI)."""
    for profile in _profiles(ctx, msg.action_profile_id):
        _check_manual(ctx, profile)
        core_profile = ctx.core.action_profiles[profile.preamble.name]
        for group_id in sorted(core_profile.groups, key=core_profile.group_handle.__getitem__):
            if group_id >= _HIDDEN or (msg.group_id and group_id != msg.group_id):
                continue
            watched = ctx.watched_groups.get((profile.preamble.id, group_id))
            watches = watched.watches if watched is not None else {}
            yield p4r.Entity(action_profile_group=p4r.ActionProfileGroup(
                action_profile_id=profile.preamble.id,
                group_id=group_id,
                max_size=ctx.group_max_size.get((profile.preamble.id, group_id), 0),
                members=[_member_out(m, w, watches.get(m)) for m, w in sorted(core_profile.groups[group_id])],
            ))
