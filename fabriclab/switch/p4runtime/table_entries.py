"""TableEntry, DirectCounterEntry and DirectMeterEntry (spec 9.1, 9.5, 9.7).

Writes are checked against the P4Info here (ids, match kinds, priorities, default-entry
rules, const tables) and applied to `core.tables[name]`; reads are encoded back from the
core's entries, so what a client reads is what the data plane runs.
"""

from __future__ import annotations

from typing import Any, Iterator

from finsy.proto import p4r

from fabriclab.switch import externs
from fabriclab.switch.p4runtime import matches, selector_limits
from fabriclab.switch.p4runtime.context import HIDDEN_ID, OneShot, RuntimeContext, core_errors
from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    PERMISSION_DENIED,
    UNIMPLEMENTED,
    UNKNOWN,
    P4RuntimeError,
)
from fabriclab.switch.tables import (
    ActionCall,
    EntryNotFoundError,
    Exact,
    GroupRef,
    Lpm,
    MemberRef,
    OptionalMatch,
    Range,
    Ternary,
)

MatchType = matches.MatchType
Update = p4r.Update

# ------------------------------------------------------------------ key conversions


def to_core_match(table: Any, key: tuple) -> dict:
    """A decoded key as the core's match dict (don't-care fields left out)."""
    out = {}
    for field, item in zip(table.match_fields, key):
        kind = field.match_type
        if kind == MatchType.EXACT:
            out[field.name] = Exact(item)
        elif item == matches.dont_care(field):
            continue
        elif kind == MatchType.OPTIONAL:
            out[field.name] = OptionalMatch(item)
        elif kind == MatchType.LPM:
            out[field.name] = Lpm(*item)
        elif kind == MatchType.TERNARY:
            out[field.name] = Ternary(*item)
        else:
            out[field.name] = Range(*item)
    return out


def from_core_match(table: Any, match: dict) -> tuple:
    """The decoded key of a core entry's match dict."""
    key = []
    for field in table.match_fields:
        m = match.get(field.name)
        kind = field.match_type
        if m is None:
            key.append(matches.dont_care(field))
        elif kind in (MatchType.EXACT, MatchType.OPTIONAL):
            key.append(m.value)
        elif kind == MatchType.LPM:
            key.append((m.value, m.prefix_len))
        elif kind == MatchType.TERNARY:
            key.append((m.value, m.mask))
        else:
            key.append((m.low, m.high))
    return tuple(key)


def _priority(table: Any, entry: p4r.TableEntry) -> int:
    if matches.needs_priority(table):
        if entry.priority <= 0:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"table '{table.preamble.name}' has ternary/range/optional fields: priority must be > 0"
            )
        return entry.priority
    if entry.priority > 0:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' takes no priority (got {entry.priority})")
    return 0  # PI construct_match_key refuses only a positive one: a negative priority is ignored


def locate(ctx: RuntimeContext, entry: p4r.TableEntry) -> tuple[Any, Any, dict, int, tuple]:
    """(P4Info table, core table, core match, priority, key) named by a non-default entry."""
    table = ctx.index.get("tables", entry.table_id)
    key = matches.decode_key(table, entry.match)
    return table, ctx.core.tables[table.preamble.name], to_core_match(table, key), _priority(table, entry), key


# ------------------------------------------------------------------ actions


def _core_action(ctx: RuntimeContext, table: Any, core_table: Any, action: p4r.TableAction) -> tuple[Any, OneShot | None]:
    which = action.WhichOneof("type")
    profile = ctx.index.action_profile_of(table)
    if which is None:
        raise P4RuntimeError(INVALID_ARGUMENT, "the entry has no action")
    if which == "action":
        if profile is not None:  # PI validate_action: "Cannot provide direct action for indirect table"
            raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' is implemented by "
                                 f"'{profile.preamble.name}': give a member, a group or an action set")
        call = matches.decode_action(ctx.index, action.action, table)
        with core_errors():
            return core_table.action_call(call.name, matches.param_dict(ctx.index, call)), None
    if profile is None:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' has no action profile: give an action")
    if which == "action_profile_action_set":
        return _one_shot(ctx, table, core_table, profile, action.action_profile_action_set)
    core_profile = ctx.core.action_profiles[profile.preamble.name]
    if which == "action_profile_member_id":
        ref, known, noun = MemberRef(action.action_profile_member_id), core_profile.members, "member"
    else:
        ref, known, noun = GroupRef(action.action_profile_group_id), core_profile.groups, "group"
    if ref[0] not in known or ref[0] >= HIDDEN_ID:  # PI: INVALID_ARGUMENT "Invalid member / group id"
        raise P4RuntimeError(INVALID_ARGUMENT, f"'{profile.preamble.name}' has no {noun} {ref[0]}")
    return ref, None


def _one_shot(ctx: RuntimeContext, table: Any, core_table: Any, profile: Any, action_set: Any) -> tuple[Any, OneShot]:
    """Program a one-shot action set as hidden members and (for selectors) a hidden group.
    Codes as PI's ActionProfAccessOneshot::group_create: an empty set is UNIMPLEMENTED, one
    over the selector's max_group_size RESOURCE_EXHAUSTED."""
    actions = list(action_set.action_profile_actions)
    if not actions:
        raise P4RuntimeError(UNIMPLEMENTED, "action_profile_action_set is empty: empty action profile groups "
                             "are not supported (as simple_switch_grpc)")
    core_profile = ctx.core.action_profiles[profile.preamble.name]
    if any(i < HIDDEN_ID for i in core_profile.members) or any(i < HIDDEN_ID for i in core_profile.groups):
        raise P4RuntimeError(INVALID_ARGUMENT, f"action profile '{profile.preamble.name}' is programmed with "
                             "members and groups: one-shot action sets cannot be mixed with them "
                             "(as PI's ActionProfMgr::check_selector_usage)")
    if not profile.with_selector and len(actions) != 1:
        raise P4RuntimeError(INVALID_ARGUMENT, f"action profile '{profile.preamble.name}' has no selector: give one action")
    weights = [selector_limits.member_weight(profile, item.weight, "one-shot action set") for item in actions]
    selector_limits.check_group(profile, weights, 0, "one-shot action set")  # over max_group_size: RESOURCE_EXHAUSTED
    calls = []
    for item, weight in zip(actions, weights):
        call = matches.decode_action(ctx.index, item.action, table)
        with core_errors():
            calls.append((core_table.action_call(call.name, matches.param_dict(ctx.index, call)), weight))
    # a BMv2 member per unit of weight, made in the set's order (PI's one-shot group_create)
    copies = [call for call, weight in calls for _ in range(weight)] if profile.with_selector else [calls[0][0]]
    shot = OneShot(profile.preamble.name, ctx.hidden_id() if profile.with_selector else 0,
                   tuple(ctx.hidden_id() for _ in copies), action_set)
    try:
        with core_errors():
            for member_id, call in zip(shot.member_ids, copies):
                core_profile.add_member(member_id, call)
            if not profile.with_selector:
                return MemberRef(shot.member_ids[0]), shot
            core_profile.set_group(shot.group_id, [(m, 1) for m in shot.member_ids])
    except P4RuntimeError:
        _release(ctx, shot)  # the members added before the failure
        raise
    return GroupRef(shot.group_id), shot


def _release(ctx: RuntimeContext, shot: OneShot | None) -> None:
    if shot is None:
        return
    core_profile = ctx.core.action_profiles[shot.profile]
    if shot.group_id in core_profile.groups:
        core_profile.delete_group(shot.group_id)
    for member_id in shot.member_ids:
        if member_id in core_profile.members:
            core_profile.delete_member(member_id)


# ------------------------------------------------------------------ writes


def write(ctx: RuntimeContext, kind: int, entry: p4r.TableEntry) -> None:
    """INSERT/MODIFY/DELETE of a table entry, in the order of PI's table_insert/table_modify/
    table_delete: the key, the action (one-shot sets built), the direct data and the TTL are
    checked before the entry is looked up, so a MODIFY of a missing entry with a bad action is
    INVALID_ARGUMENT, not NOT_FOUND."""
    table = ctx.index.get("tables", entry.table_id)
    if entry.HasField("time_since_last_hit"):  # PI table_write, before anything else
        raise P4RuntimeError(INVALID_ARGUMENT, "time_since_last_hit must not be set in a WriteRequest")
    if entry.is_default_action:
        _write_default(ctx, kind, entry)
        return
    if kind == Update.INSERT and table.is_const_table:
        raise P4RuntimeError(PERMISSION_DENIED, f"table '{table.preamble.name}' has const entries: it cannot be written")
    table, core_table, match, priority, key = locate(ctx, entry)
    ident = (table.preamble.id, key, priority)
    if kind == Update.DELETE:
        _stored_entry(table, core_table, match, priority)
        with core_errors():
            core_table.delete(match, priority)
        ctx.entry_metadata.pop(ident, None)
        _release(ctx, ctx.one_shots.pop(ident, None))
        return
    if kind not in (Update.INSERT, Update.MODIFY):
        raise P4RuntimeError(INVALID_ARGUMENT, "update type must be INSERT, MODIFY or DELETE")
    action, shot = _core_action(ctx, table, core_table, entry.action)
    try:
        _check_direct_fields(table, core_table, entry)
        direct_meter = meter_config(entry.meter_config) if entry.HasField("meter_config") else None
        _check_idle_timeout(table, entry)
        now_us = ctx.now_us(needed=entry.idle_timeout_ns > 0)
        if kind == Update.MODIFY:
            _stored_entry(table, core_table, match, priority)  # NOT_FOUND before any side effect
        elif _exists(core_table, match, priority):
            raise P4RuntimeError(ALREADY_EXISTS, f"table '{table.preamble.name}': entry already exists")
        if direct_meter is not None:
            target_accepts(direct_meter)
        with core_errors():
            installed = (core_table.insert if kind == Update.INSERT else core_table.modify)(match, action, priority)
    except P4RuntimeError:
        _release(ctx, shot)
        raise
    if kind == Update.MODIFY:
        _release(ctx, ctx.one_shots.pop(ident, None))
    if shot is not None:
        ctx.one_shots[ident] = shot
    ctx.entry_metadata[ident] = (entry.metadata, entry.controller_metadata)  # PI keeps both
    if entry.HasField("counter_data"):  # _check_direct_fields: the table has the resource
        installed.direct.counter = externs.CounterData(entry.counter_data.packet_count, entry.counter_data.byte_count)
    if entry.HasField("meter_config"):
        installed.direct.meter.configure(direct_meter)  # None (all -1): unconfigured, every packet GREEN
    if core_table.support_timeout:  # PI sets the TTL at every INSERT and MODIFY: its idle time restarts
        core_table.set_idle_timeout(installed, entry.idle_timeout_ns, now_us)


def _exists(core_table: Any, match: dict, priority: int) -> bool:
    try:
        core_table.get(match, priority)
    except EntryNotFoundError:
        return False
    return True


def _stored_entry(table: Any, core_table: Any, match: dict, priority: int) -> Any:
    """The entry a MODIFY or DELETE names, else NOT_FOUND. PI's table store, where it looks
    them up, holds no const entries (they come with the program), so those are NOT_FOUND too:
    PI's behaviour is followed (the spec asks for PERMISSION_DENIED)."""
    if table.is_const_table:
        raise P4RuntimeError(NOT_FOUND, f"table '{table.preamble.name}' has const entries: "
                             "they cannot be modified or deleted (no such entry to write)")
    with core_errors():
        return core_table.get(match, priority)


def _check_idle_timeout(table: Any, entry: p4r.TableEntry) -> None:
    """PI validate_entry_ttl: a TTL must not be negative, and only a table with
    support_timeout (idle_timeout_behavior NOTIFY_CONTROL) takes one."""
    if entry.idle_timeout_ns < 0:
        raise P4RuntimeError(INVALID_ARGUMENT, f"idle_timeout_ns must not be negative (got {entry.idle_timeout_ns})")
    if entry.idle_timeout_ns and not table.idle_timeout_behavior:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' does not support idle timeouts "
                             "(no support_timeout = true): idle_timeout_ns must be 0")


def _check_direct_fields(table: Any, core_table: Any, entry: p4r.TableEntry) -> None:
    """PI construct_direct_resources: direct data for a resource the table lacks is INVALID_ARGUMENT."""
    if entry.HasField("meter_config") and not core_table.direct_meter:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' has no direct meter: omit meter_config")
    if entry.HasField("counter_data") and not core_table.direct_counter:
        raise P4RuntimeError(INVALID_ARGUMENT,
                             f"table '{table.preamble.name}' has no direct counter: omit counter_data")


def _write_default(ctx: RuntimeContext, kind: int, entry: p4r.TableEntry) -> None:
    """The default entry: MODIFY only, no key or priority, not for indirect tables or a const
    default action (the order and codes of PI's table_write/construct_match_key/validate_action)."""
    table = ctx.index.get("tables", entry.table_id)
    name = table.preamble.name
    if kind != Update.MODIFY:
        raise P4RuntimeError(INVALID_ARGUMENT, "the default entry can only be modified (INSERT/DELETE are invalid)")
    if entry.match:
        raise P4RuntimeError(INVALID_ARGUMENT, "a default entry (is_default_action) must have no match fields")
    if entry.priority:
        raise P4RuntimeError(INVALID_ARGUMENT, f"a default entry takes no priority (got {entry.priority})")
    if ctx.index.action_profile_of(table) is not None:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table '{name}' is implemented by an action profile: "
                             "its default action cannot be set")
    core_table = ctx.core.tables[name]
    _check_direct_fields(table, core_table, entry)  # then ignored: BMv2 has no default-entry cell
    if entry.idle_timeout_ns:  # spec 9.1.3; PI rejects it only for tables without support_timeout
        raise P4RuntimeError(INVALID_ARGUMENT, "a default entry does not age: idle_timeout_ns must be 0")
    if table.const_default_action_id:
        raise P4RuntimeError(PERMISSION_DENIED, f"table '{name}' has a const default action")
    ident = _default_ident(table)
    if not entry.HasField("action"):
        core_table.reset_default()
        ctx.entry_metadata.pop(ident, None)  # PI table_modify: a reset clears both
        return
    if entry.action.WhichOneof("type") != "action":
        raise P4RuntimeError(INVALID_ARGUMENT, "the default entry takes a direct action")
    call = matches.decode_action(ctx.index, entry.action.action, table, default=True)
    with core_errors():
        core_table.set_default(core_table.action_call(call.name, matches.param_dict(ctx.index, call)))
    ctx.entry_metadata[ident] = (entry.metadata, entry.controller_metadata)  # PI keeps both, as for entries


def _default_ident(table: Any) -> tuple:
    """Where the default entry's metadata is kept in ctx.entry_metadata (no entry has key None)."""
    return (table.preamble.id, None, 0)


# ------------------------------------------------------------------ reads


def _tables(ctx: RuntimeContext, table_id: int) -> list[Any]:
    return ctx.index.all("tables") if table_id == 0 else [ctx.index.get("tables", table_id)]


def selected(ctx: RuntimeContext, query: p4r.TableEntry) -> Iterator[tuple[Any, Any]]:
    """(P4Info table, core entry) pairs a read's TableEntry selects (spec 11.1 wildcards)."""
    for table in _tables(ctx, query.table_id):
        core_table = ctx.core.tables[table.preamble.name]
        if query.match:
            _, _, match, priority, _ = locate(ctx, query)
            try:
                yield table, core_table.get(match, priority)
            except EntryNotFoundError:
                pass  # reading an absent entry gives nothing
            continue
        for core_entry in core_table.entries():
            if query.priority and core_entry.priority != query.priority:
                continue
            yield table, core_entry


def read(ctx: RuntimeContext, query: p4r.TableEntry) -> Iterator[p4r.Entity]:
    since_hit = query.HasField("time_since_last_hit")
    if since_hit:
        _check_time_since_last_hit(ctx, query)
    if query.is_default_action:
        for table in _tables(ctx, query.table_id):
            yield p4r.Entity(table_entry=_default_entry(ctx, table))
        return
    now_us = ctx.now_us() if since_hit else 0
    for table, core_entry in selected(ctx, query):
        out = encode_entry(ctx, table, core_entry)
        core_table = ctx.core.tables[table.preamble.name]
        out.idle_timeout_ns = core_entry.idle_timeout_ns
        if since_hit and not table.is_const_table:  # PI: static entries do not age
            out.time_since_last_hit.elapsed_ns = max(now_us - core_entry.last_hit_us, 0) * 1000
        if query.HasField("counter_data") and core_table.direct_counter:
            out.counter_data.CopyFrom(counter_data(table, ctx, core_entry.direct.counter))
        if query.HasField("meter_config") and core_table.direct_meter and core_entry.direct.meter.config:
            out.meter_config.CopyFrom(meter_config_msg(core_entry.direct.meter.config))
        yield p4r.Entity(table_entry=out)


def _check_time_since_last_hit(ctx: RuntimeContext, query: p4r.TableEntry) -> None:
    """PI table_read_one: time_since_last_hit is for tables that support idle timeouts,
    every table a wildcard read covers included, and never for default entries."""
    if query.is_default_action:
        raise P4RuntimeError(INVALID_ARGUMENT, "default entries do not age: do not ask for their time_since_last_hit")
    for table in _tables(ctx, query.table_id):
        if not table.idle_timeout_behavior:
            raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' does not support idle timeouts: "
                                 "do not ask for time_since_last_hit (wildcard reads included)")


def encode_key(ctx: RuntimeContext, table: Any, core_entry: Any) -> p4r.TableEntry:
    """The entry as what identifies it (table id, match, priority) and its metadata: as an
    IdleTimeoutNotification names it (spec 16.4)."""
    return _keyed(ctx, table, core_entry, from_core_match(table, core_entry.match))


def _keyed(ctx: RuntimeContext, table: Any, core_entry: Any, key: tuple) -> p4r.TableEntry:
    metadata, controller_metadata = ctx.entry_metadata.get((table.preamble.id, key, core_entry.priority), (b"", 0))
    return p4r.TableEntry(
        table_id=table.preamble.id,
        match=matches.encode_key(table, key),
        priority=core_entry.priority,
        metadata=metadata,
        controller_metadata=controller_metadata,
    )


def encode_entry(ctx: RuntimeContext, table: Any, core_entry: Any) -> p4r.TableEntry:
    key = from_core_match(table, core_entry.match)
    out = _keyed(ctx, table, core_entry, key)
    # PI never sets is_const on reads; we keep it (spec 9.1) because reconcile.py relies on it
    # to leave const entries out of RECONCILE_AND_COMMIT.
    out.is_const = table.is_const_table
    ident = (table.preamble.id, key, core_entry.priority)
    shot = ctx.one_shots.get(ident)
    action = core_entry.action
    if shot is not None:
        out.action.action_profile_action_set.CopyFrom(shot.action_set)
    elif isinstance(action, MemberRef):
        out.action.action_profile_member_id = action.member_id
    elif isinstance(action, GroupRef):
        out.action.action_profile_group_id = action.group_id
    else:
        out.action.action.CopyFrom(encode_call(ctx, action))
    return out


def encode_call(ctx: RuntimeContext, call: ActionCall) -> p4r.Action:
    action_id = ctx.action_id(call.name)
    return matches.encode_action(ctx.index, matches.ActionCall(call.name, action_id, tuple(call.args)))


def _default_entry(ctx: RuntimeContext, table: Any) -> p4r.TableEntry:
    """As PI's table_read_default: the action, and the metadata the last MODIFY gave."""
    metadata, controller_metadata = ctx.entry_metadata.get(_default_ident(table), (b"", 0))
    out = p4r.TableEntry(table_id=table.preamble.id, is_default_action=True, metadata=metadata,
                         controller_metadata=controller_metadata)
    default = ctx.core.tables[table.preamble.name].default_action
    if isinstance(default, ActionCall) and ctx.index.action_named(default.name) is not None:
        out.action.action.CopyFrom(encode_call(ctx, default))
    return out


# ------------------------------------------------------------------ direct resources


# PI (validate_meter_spec) accepts -1 in any MeterConfig field, a legacy spelling kept for old
# clients, and hands it to BMv2 cast to unsigned: a rate of 2**64-1 per second, a burst of
# 2**32-1. All four -1 is BMv2's reset (the meter is unconfigured: every packet GREEN, and a
# read shows no config); otherwise a -1 rate never runs its bucket dry (GREEN for that rate)
# and a -1 burst is as deep as BMv2's. Reads give such values back as -1, as PI does.
UNLIMITED_RATE = (1 << 64) - 1
MAX_BURST = (1 << 32) - 1


def meter_config(msg: p4r.MeterConfig) -> externs.MeterConfig | None:
    """The config a MeterConfig asks for (None: unconfigured), checked as PI's
    validate_meter_spec: below -1 is INVALID_ARGUMENT. See target_accepts for PIR < CIR."""
    values = (msg.cir, msg.cburst, msg.pir, msg.pburst)
    if min(values) < -1:
        raise P4RuntimeError(INVALID_ARGUMENT, "meter rates and bursts must not be negative "
                             "(-1, PI's legacy 'always GREEN', is accepted)")
    if values == (-1, -1, -1, -1):
        return None
    rate = lambda v: UNLIMITED_RATE if v == -1 else v  # noqa: E731
    burst = lambda v: MAX_BURST if v == -1 else v  # noqa: E731
    return externs.MeterConfig(rate(msg.cir), burst(msg.cburst), rate(msg.pir), burst(msg.pburst))


def target_accepts(cfg: externs.MeterConfig | None) -> None:
    """BMv2 refuses a PIR below the CIR (meters.cpp: INVALID_INFO_RATE_VALUE), and PI answers
    that target error UNKNOWN. Checked where PI reaches the target: after the other checks."""
    if cfg is not None and cfg.pir < cfg.cir:
        raise P4RuntimeError(UNKNOWN, f"error when writing meter config: the target refuses PIR "
                             f"{_signed_rate(cfg.pir)} below CIR {_signed_rate(cfg.cir)}")


def _signed_rate(rate: int) -> int:
    return -1 if rate == UNLIMITED_RATE else rate


def _signed_burst(burst: int) -> int:
    return -1 if burst == MAX_BURST else burst


def meter_config_msg(cfg: externs.MeterConfig) -> p4r.MeterConfig:
    return p4r.MeterConfig(cir=_signed_rate(cfg.cir), cburst=_signed_burst(cfg.cburst),
                           pir=_signed_rate(cfg.pir), pburst=_signed_burst(cfg.pburst))


def _direct_counter_unit(ctx: RuntimeContext, table: Any) -> int:
    """The table's direct counter's CounterSpec.Unit (BOTH, 3, when the P4Info has none)."""
    spec = ctx.index.direct_resource(table, "direct_counters")
    return spec.spec.unit if spec is not None else 3


def counter_data(table: Any, ctx: RuntimeContext, data: externs.CounterData) -> p4r.CounterData:
    """CounterData with only the fields the (direct) counter's unit counts."""
    return unit_filtered(_direct_counter_unit(ctx, table), data)


def counter_write_data(unit: int, data: p4r.CounterData, current: externs.CounterData) -> externs.CounterData:
    """What a counter cell holds after a write of `data` (PI counter_data_proto_to_pi, and
    BMv2's PI target merge_current_value): the fields of the counter's unit are written (an
    unset `data` writes zeros), the other one keeps its value. CounterSpec.Unit as unit_filtered."""
    packets = data.packet_count if unit in (0, 2, 3) else current.packets
    count = data.byte_count if unit in (0, 1, 3) else current.bytes
    return externs.CounterData(packets, count)  # int64 -> uint64 as PI


def as_int64(value: int) -> int:
    """A uint64 counter cell in CounterData's int64 field, as PI stores it (two's complement):
    a counter past 2**63 reads negative and then wraps to 0, and a Read never fails."""
    value %= externs.COUNTER_MODULUS
    return value - externs.COUNTER_MODULUS if value >> 63 else value


def unit_filtered(unit: int, data: externs.CounterData) -> p4r.CounterData:
    # p4.config.v1.CounterSpec.Unit: UNSPECIFIED 0, BYTES 1, PACKETS 2, BOTH 3
    return p4r.CounterData(
        byte_count=as_int64(data.bytes) if unit in (0, 1, 3) else 0,
        packet_count=as_int64(data.packets) if unit in (0, 2, 3) else 0,
    )


def _direct_entries(ctx: RuntimeContext, query: p4r.TableEntry, attr: str) -> Iterator[tuple[Any, Any]]:
    """Entries a DirectCounterEntry/DirectMeterEntry read names. Naming a table without the
    resource, or a key no entry has, is INVALID_ARGUMENT (PI entry_handle_from_table_entry:
    "Cannot map table entry to handle"; spec 9.5/9.7 would say NOT_FOUND)."""
    what = attr.replace("_", " ")
    if query.table_id:
        table = ctx.index.get("tables", query.table_id)
        if not getattr(ctx.core.tables[table.preamble.name], attr):
            raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' has no {what}")
    if query.is_default_action:
        _no_default_cell(query, what)
    found = False
    for table, core_entry in selected(ctx, query):
        if getattr(ctx.core.tables[table.preamble.name], attr):
            found = True
            yield table, core_entry
    if query.match and not found:
        raise P4RuntimeError(INVALID_ARGUMENT, f"cannot map table entry to handle: no entry with this key "
                             f"in table id {query.table_id}")


def _no_default_cell(entry: p4r.TableEntry, what: str) -> None:
    """A table's default entry has no direct counter/meter cell in BMv2 (a miss counts and
    meters nothing): PI passes such a request to BMv2's PI target, which refuses it
    (PI_STATUS_NOT_IMPLEMENTED_BY_TARGET), and answers UNKNOWN. Ill-formed default keys
    first, as PI's construct_match_key."""
    if entry.match:
        raise P4RuntimeError(INVALID_ARGUMENT, "a default entry (is_default_action) must have no match fields")
    if entry.priority:
        raise P4RuntimeError(INVALID_ARGUMENT, f"a default entry takes no priority (got {entry.priority})")
    raise P4RuntimeError(UNKNOWN, f"the default entry has no {what}: simple_switch_grpc (BMv2) keeps none "
                         "for a table's default entry, and a miss counts and meters nothing")


def _direct_target(ctx: RuntimeContext, kind: int, entry: p4r.TableEntry, attr: str,
                   kinds: tuple[int, ...] = (Update.MODIFY,), validate: Any = None) -> Any:
    """The core entry a DirectCounterEntry/DirectMeterEntry write names, in the order of PI's
    direct_counter_write/direct_meter_write: the key (a key no entry has is INVALID_ARGUMENT,
    "Cannot map table entry to handle"), the resource, the update type (`kinds`), `validate`
    (the data), then the target: BMv2 keeps no cell for the default entry (UNKNOWN)."""
    what = attr.replace("_", " ")
    table = ctx.index.get("tables", entry.table_id)
    core_table = ctx.core.tables[table.preamble.name]
    target = None
    if entry.is_default_action:
        if entry.match:
            raise P4RuntimeError(INVALID_ARGUMENT, "a default entry (is_default_action) must have no match fields")
        if entry.priority:
            raise P4RuntimeError(INVALID_ARGUMENT, f"a default entry takes no priority (got {entry.priority})")
    else:
        _, _, match, priority, _ = locate(ctx, entry)
        try:
            target = core_table.get(match, priority)
        except EntryNotFoundError:
            raise P4RuntimeError(INVALID_ARGUMENT, f"cannot map table entry to handle: table "
                                 f"'{table.preamble.name}' has no entry with this key") from None
    if not getattr(core_table, attr):
        raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' has no {what}")
    if kind not in kinds:
        allowed = " or ".join(Update.Type.Name(k) for k in kinds)
        raise P4RuntimeError(INVALID_ARGUMENT, f"a {what} entry takes {allowed} only")
    if validate is not None:
        validate()
    if target is None:
        _no_default_cell(entry, what)
    return target


def write_direct_counter(ctx: RuntimeContext, kind: int, msg: p4r.DirectCounterEntry) -> None:
    """MODIFY writes `data` (unset: zeros) to the fields of the counter's unit; DELETE resets the
    cell to zero and is OK, as PI's direct_counter_write."""
    target = _direct_target(ctx, kind, msg.table_entry, "direct_counter", (Update.MODIFY, Update.DELETE))
    if kind == Update.DELETE:
        target.direct.counter = externs.CounterData(0, 0)
        return
    unit = _direct_counter_unit(ctx, ctx.index.get("tables", msg.table_entry.table_id))
    target.direct.counter = counter_write_data(unit, msg.data, target.direct.counter)


def read_direct_counter(ctx: RuntimeContext, msg: p4r.DirectCounterEntry) -> Iterator[p4r.Entity]:
    for table, core_entry in _direct_entries(ctx, msg.table_entry, "direct_counter"):
        yield p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(
            table_entry=encode_entry(ctx, table, core_entry),
            data=counter_data(table, ctx, core_entry.direct.counter),
        ))


def write_direct_meter(ctx: RuntimeContext, kind: int, msg: p4r.DirectMeterEntry) -> None:
    config: list[externs.MeterConfig | None] = [None]

    def validate() -> None:
        if msg.HasField("config"):
            config[0] = meter_config(msg.config)

    target = _direct_target(ctx, kind, msg.table_entry, "direct_meter", validate=validate)
    target_accepts(config[0])
    target.direct.meter.configure(config[0])


def read_direct_meter(ctx: RuntimeContext, msg: p4r.DirectMeterEntry) -> Iterator[p4r.Entity]:
    for table, core_entry in _direct_entries(ctx, msg.table_entry, "direct_meter"):
        out = p4r.DirectMeterEntry(table_entry=encode_entry(ctx, table, core_entry))
        if core_entry.direct.meter.config is not None:
            out.config.CopyFrom(meter_config_msg(core_entry.direct.meter.config))
        yield p4r.Entity(direct_meter_entry=out)
