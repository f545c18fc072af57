"""Match keys and action calls: P4Runtime protobuf <-> plain ints, with the spec's checks.

A decoded key is a tuple with one item per P4Info match field, in P4Info order:
exact -> value; lpm -> (value, prefix_len); ternary -> (value, mask); range -> (low, high);
optional -> value or None. Don't-care fields (omitted in P4Runtime) decode to the
all-matching item ((0, 0) for lpm/ternary, (0, max) for range, None for optional), so two
spellings of the same entry always have the same key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from finsy.proto import p4i, p4r

from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, PERMISSION_DENIED, P4RuntimeError

MatchType = p4i.MatchField.MatchType
Scope = p4i.ActionRef.Scope
KIND_NAMES = {
    MatchType.EXACT: "exact",
    MatchType.LPM: "lpm",
    MatchType.TERNARY: "ternary",
    MatchType.RANGE: "range",
    MatchType.OPTIONAL: "optional",
}
_NEEDS_PRIORITY = (MatchType.TERNARY, MatchType.RANGE, MatchType.OPTIONAL)


def needs_priority(table: Any) -> bool:
    """Tables with ternary, range or optional fields order their entries by priority."""
    return any(f.match_type in _NEEDS_PRIORITY for f in table.match_fields)


def dont_care(field: Any) -> Any:
    """The key item of an omitted (don't-care) non-exact field."""
    kind = field.match_type
    if kind == MatchType.RANGE:
        return (0, (1 << field.bitwidth) - 1)
    if kind == MatchType.OPTIONAL:
        return None
    return (0, 0)


def _omitted(field: Any) -> Any:
    if field.match_type == MatchType.EXACT:
        raise P4RuntimeError(INVALID_ARGUMENT, f"exact match field '{field.name}' is missing")
    return dont_care(field)


def _decode_field(field: Any, fm: p4r.FieldMatch) -> Any:
    kind, width, name = field.match_type, field.bitwidth, field.name
    which = fm.WhichOneof("field_match_type")
    if which != KIND_NAMES.get(kind):
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"match field '{name}' is {KIND_NAMES.get(kind, kind)}, got a {which} match"
        )
    if kind == MatchType.EXACT:
        return bytestrings.decode(fm.exact.value, width, f"match field '{name}'")
    if kind == MatchType.OPTIONAL:
        return bytestrings.decode(fm.optional.value, width, f"match field '{name}'")
    if kind == MatchType.LPM:
        value = bytestrings.decode(fm.lpm.value, width, f"match field '{name}'")
        plen = fm.lpm.prefix_len
        if not 0 < plen <= width:
            raise P4RuntimeError(
                INVALID_ARGUMENT,
                f"match field '{name}': prefix_len {plen} outside 1..{width} (omit the field for a /0 wildcard)",
            )
        if value & ((1 << (width - plen)) - 1):
            raise P4RuntimeError(INVALID_ARGUMENT, f"match field '{name}': value has bits set past the /{plen} prefix")
        return (value, plen)
    if kind == MatchType.TERNARY:
        value = bytestrings.decode(fm.ternary.value, width, f"match field '{name}'")
        mask = bytestrings.decode(fm.ternary.mask, width, f"match field '{name}' mask")
        if mask == 0:
            raise P4RuntimeError(INVALID_ARGUMENT, f"match field '{name}': a zero mask must be omitted (don't care)")
        if value & ~mask:
            raise P4RuntimeError(INVALID_ARGUMENT, f"match field '{name}': value has bits set outside the mask")
        return (value, mask)
    low = bytestrings.decode(fm.range.low, width, f"match field '{name}' low")
    high = bytestrings.decode(fm.range.high, width, f"match field '{name}' high")
    if low > high:
        raise P4RuntimeError(INVALID_ARGUMENT, f"match field '{name}': range low {low} > high {high}")
    if (low, high) == (0, (1 << width) - 1):
        raise P4RuntimeError(INVALID_ARGUMENT, f"match field '{name}': a full range must be omitted (don't care)")
    return (low, high)


def decode_key(table: Any, matches: Any) -> tuple:
    """The decoded key of `matches` (repeated FieldMatch) for a P4Info table."""
    fields = {f.id: f for f in table.match_fields}
    given: dict[int, p4r.FieldMatch] = {}
    for fm in matches:
        if fm.field_id not in fields:
            raise P4RuntimeError(INVALID_ARGUMENT, f"table '{table.preamble.name}' has no match field id {fm.field_id}")
        if fm.field_id in given:
            raise P4RuntimeError(INVALID_ARGUMENT, f"match field id {fm.field_id} given twice")
        given[fm.field_id] = fm
    return tuple(
        _decode_field(f, given[f.id]) if f.id in given else _omitted(f) for f in table.match_fields
    )


def encode_key(table: Any, key: tuple) -> list[p4r.FieldMatch]:
    """Canonical FieldMatch list of a decoded key: don't-care fields omitted."""
    out = []
    for field, item in zip(table.match_fields, key):
        if field.match_type != MatchType.EXACT and item == dont_care(field):
            continue
        fm = p4r.FieldMatch(field_id=field.id)
        kind = field.match_type
        if kind == MatchType.EXACT:
            fm.exact.value = bytestrings.encode(item)
        elif kind == MatchType.OPTIONAL:
            fm.optional.value = bytestrings.encode(item)
        elif kind == MatchType.LPM:
            fm.lpm.value, fm.lpm.prefix_len = bytestrings.encode(item[0]), item[1]
        elif kind == MatchType.TERNARY:
            fm.ternary.value, fm.ternary.mask = bytestrings.encode(item[0]), bytestrings.encode(item[1])
        else:
            fm.range.low, fm.range.high = bytestrings.encode(item[0]), bytestrings.encode(item[1])
        out.append(fm)
    return out


@dataclass(frozen=True)
class ActionCall:
    """An action with its parameters as ints, in P4Info parameter order."""

    name: str
    action_id: int
    params: tuple[int, ...]


def decode_action(index: Any, action: p4r.Action, table: Any | None, default: bool = False) -> ActionCall:
    """Check an Action against the P4Info (and the table's action list, if given)."""
    info = index.by_id["actions"].get(action.action_id)
    if table is not None:  # spec 9.1.2: not one of the table's actions is INVALID_ARGUMENT, known or not
        ref = next((r for r in table.action_refs if r.id == action.action_id), None)
        if ref is None or info is None:
            shown = f"'{info.preamble.name}'" if info is not None else f"id {action.action_id}"
            raise P4RuntimeError(INVALID_ARGUMENT, f"action {shown} is not an action of table '{table.preamble.name}'")
        name = info.preamble.name
        if default and ref.scope == Scope.TABLE_ONLY:  # a scope violation is PERMISSION_DENIED (spec 9.1.2)
            raise P4RuntimeError(PERMISSION_DENIED, f"action '{name}' is @tableonly: it cannot be the default action")
        if not default and ref.scope == Scope.DEFAULT_ONLY:
            raise P4RuntimeError(PERMISSION_DENIED, f"action '{name}' is @defaultonly: it cannot be in an entry")
    if info is None:  # PI: "Invalid P4 id" (p4info_index.py)
        raise P4RuntimeError(INVALID_ARGUMENT, f"invalid P4 id: no action with id {action.action_id} in the P4Info")
    name = info.preamble.name
    given: dict[int, bytes] = {}
    for param in action.params:
        if param.param_id in given:
            raise P4RuntimeError(INVALID_ARGUMENT, f"action '{name}': parameter id {param.param_id} given twice")
        given[param.param_id] = param.value
    known = {p.id for p in info.params}
    extra = set(given) - known
    if extra:
        raise P4RuntimeError(INVALID_ARGUMENT, f"action '{name}' has no parameter id {min(extra)}")
    values = []
    for p in info.params:
        if p.id not in given:
            raise P4RuntimeError(INVALID_ARGUMENT, f"action '{name}': parameter '{p.name}' is missing")
        values.append(bytestrings.decode(given[p.id], p.bitwidth, f"action '{name}' parameter '{p.name}'"))
    return ActionCall(name, action.action_id, tuple(values))


def encode_action(index: Any, call: ActionCall) -> p4r.Action:
    info = index.by_id["actions"][call.action_id]
    return p4r.Action(
        action_id=call.action_id,
        params=[p4r.Action.Param(param_id=p.id, value=bytestrings.encode(v)) for p, v in zip(info.params, call.params)],
    )


def param_dict(index: Any, call: ActionCall) -> dict[str, int]:
    """Parameters by name (how the switch core takes them)."""
    info = index.by_id["actions"][call.action_id]
    return {p.name: v for p, v in zip(info.params, call.params)}
