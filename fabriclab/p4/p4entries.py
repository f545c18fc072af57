"""A program's table entries as P4Runtime writes: what p4c-bm2-ss's
`--p4runtime-entries-files` holds (a `p4.v1.WriteRequest` of INSERTs).

As p4c's serializer (control-plane/p4RuntimeSerializer.cpp, read for its rules only), which
runs with P4Info generation, so its errors are P4Info errors here too:

- every table with `entries` (const or not), in P4Info's table order, hidden ones included;
- match fields numbered 1, 2, ... in key order (p4c ignores a key's `@id` here), values as
  padded big-endian byte strings of the key's width; a don't-care (`_`, a ternary or LPM mask
  of 0, a range over every value) is left out, and masked-off value bits are cleared;
- action parameters numbered 1, 2, ... in argument order, likewise;
- `is_const` for a const table or a const entry; where a key is ternary, range or optional, a
  priority: a const table's entries count down from their number to 1 (in program order,
  `@priority` ignored), other entries keep the front end's priorities.
"""

from __future__ import annotations

from collections.abc import Callable

from finsy.proto import p4r

from fabriclab.p4 import ir
from fabriclab.p4.fieldtypes import size_in_bits
from fabriclab.p4.p4c_text import node_text

Fail = Callable[[object, str], None]
_PRIORITY_KINDS = ("ternary", "range", "optional")


def bits(t: ir.Type | None) -> int:
    """The width p4c's type map gives (a `type`'s underlying bits, not its SDN width)."""
    return size_in_bits(t, largest=False) or 0


def add_table_entries(request, table: ir.TableDecl, table_id: int,
                      action_id: Callable[[ir.ActionRef], int], fail: Fail) -> None:
    """Append `table`'s entries to `request` (a p4.v1.WriteRequest)."""
    needs_priority = any(k.match_kind in _PRIORITY_KINDS for k in table.keys)
    countdown = len(table.entries)
    for entry in table.entries:
        te = request.updates.add(type=p4r.Update.INSERT).entity.table_entry
        te.table_id = table_id
        _match(te, table, entry, fail)
        _action(te, entry.action, action_id, fail)
        te.is_const = table.entries_const or entry.is_const
        if not needs_priority:
            continue
        if table.entries_const:
            te.priority = countdown
            countdown -= 1
        elif entry.priority is None:
            fail(entry, "Entry: entry should have priority")
            return
        else:
            te.priority = entry.priority


def _repr(node, value: int, width: int, fail: Fail) -> bytes | None:
    """p4c's byte string of a value: big-endian, padded to the width's whole bytes."""
    if value < 0:
        fail(node, f"{value}: Negative values not supported yet")
        return None
    return value.to_bytes(max((width + 7) // 8, 1), "big")


def _simple(e: ir.Expr, fail: Fail, what: str = "invalid key expression") -> int | None:
    """The value of a literal (through casts), a bool or a serializable enum's member."""
    while isinstance(e, ir.Cast):
        e = e.expr
    if isinstance(e, ir.Constant):
        return e.value
    if isinstance(e, ir.BoolLiteral):
        return int(e.value)
    if isinstance(e, ir.EnumMember):
        enum = e.enum
        if e.value is not None:
            return e.value
        if isinstance(enum, ir.EnumDecl) and enum.underlying is not None and e.member in enum.values:
            return enum.values[e.member]
        fail(e, f"{node_text(e)} invalid Member key expression")
        return None
    fail(e, f"{node_text(e)} {what}")
    return None


def _match(te, table: ir.TableDecl, entry: ir.Entry, fail: Fail) -> None:
    field_id = 1
    for key, ks in zip(table.keys, entry.keysets):
        kind, width = key.match_kind, bits(key.expr.type)
        dont_care = isinstance(ks, ir.DefaultExpr)
        if kind not in ("exact", "lpm", "ternary", "range", "optional"):
            if not dont_care:
                fail(ks, f"{kind}: match type not supported by P4Runtime serializer")
            continue
        fid, field_id = field_id, field_id + 1
        if dont_care and kind != "exact":
            continue
        if kind in ("exact", "optional"):
            value = _simple(ks, fail)
            match = te.match.add(field_id=fid)
            if value is not None and (data := _repr(ks, value, width, fail)) is not None:
                getattr(match, kind).value = data
        elif kind == "lpm":
            _lpm(te, fid, ks, width, fail)
        elif kind == "ternary":
            _ternary(te, fid, ks, width, fail)
        else:
            _range(te, fid, ks, width, fail)


def _lpm(te, fid: int, ks: ir.Expr, width: int, fail: Fail) -> None:
    if isinstance(ks, ir.Mask):
        value = _simple(ks.value, fail)
        if value is None or not isinstance(ks.mask, ir.Constant):
            return
        mask = ks.mask.value
        zeros = (mask & -mask).bit_length() - 1 if mask else width
        if zeros + bin(mask).count("1") != width:
            fail(ks, f"{node_text(ks)} invalid mask for LPM key")
            return
        if mask == 0:
            return
        value, prefix = value & mask, width - zeros
    else:
        value, prefix = _simple(ks, fail), width
        if value is None:
            return
    data = _repr(ks, value, width, fail)
    if data is not None:
        lpm = te.match.add(field_id=fid).lpm
        lpm.value, lpm.prefix_len = data, prefix


def _ternary(te, fid: int, ks: ir.Expr, width: int, fail: Fail) -> None:
    if isinstance(ks, ir.Mask):
        value, mask = _simple(ks.value, fail), _simple(ks.mask, fail)
        if value is None or mask is None:
            return
        if mask == 0:
            return
        value &= mask
    else:
        value, mask = _simple(ks, fail), (1 << width) - 1
        if value is None:
            return
    data, mask_data = _repr(ks, value, width, fail), _repr(ks, mask, width, fail)
    if data is not None and mask_data is not None:
        ternary = te.match.add(field_id=fid).ternary
        ternary.value, ternary.mask = data, mask_data


def _range(te, fid: int, ks: ir.Expr, width: int, fail: Fail) -> None:
    if isinstance(ks, ir.Range):
        lo, hi = _simple(ks.lo, fail), _simple(ks.hi, fail)
        if lo is None or hi is None:
            return
        if lo > hi:
            fail(ks, f"{node_text(ks)} Invalid range for table entry")
        if lo == 0 and hi == (1 << width) - 1:
            return
    else:
        lo = hi = _simple(ks, fail)
        if lo is None:
            return
    low, high = _repr(ks, lo, width, fail), _repr(ks, hi, width, fail)
    if low is not None and high is not None:
        r = te.match.add(field_id=fid).range
        r.low, r.high = low, high


def _action(te, ref: ir.ActionRef, action_id: Callable[[ir.ActionRef], int], fail: Fail) -> None:
    action = te.action.action
    action.action_id = action_id(ref)
    for pid, arg in enumerate(ref.args, start=1):
        param = action.params.add(param_id=pid)
        if arg.value is None:
            continue
        t = arg.param.type if arg.param is not None else arg.value.type
        value = _simple(arg.value, fail, f"unsupported argument expression of type {type(arg.value).__name__}")
        if value is not None and (data := _repr(arg.value, value, bits(t), fail)) is not None:
            param.value = data
