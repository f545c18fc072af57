"""Parser value sets: `value_set<T>(N) pvs;` members installed by the control plane.

Runtime API (P4Info names; P4Runtime ValueSetEntry / simple_switch_CLI `pvs_add`):

    vs = core.value_sets["MyParser.pvs"]
    vs.set_members([{"": Exact(0x88B5)}, ...])   # replaces all members (at most `size`)
    vs.members -> list of member matches
    vs.fields  -> KeyFields: one field "" for a bit<W> element, else the struct's fields

A select case naming the set matches when any member matches the select key(s).
"""

from __future__ import annotations

from fabriclab.errors import FabricError
from fabriclab.switch.tables import (Exact, FieldMatch, KeyField, Lpm, Range, Ternary,
                                     key_matches)


def _bounds(kf: KeyField, m: FieldMatch | None) -> tuple[bool, int, int]:
    """A member's field as `tables.key_matches` takes it: (is range, low/value, high/mask)."""
    full = (1 << kf.width) - 1
    if m is None:
        return (False, 0, 0)
    if isinstance(m, Range):
        return (True, m.low, m.high)
    if isinstance(m, Exact):
        value, mask = m.value, full
    elif isinstance(m, Lpm):
        value, mask = m.value, full ^ (full >> m.prefix_len)
    elif isinstance(m, Ternary):
        value, mask = m.value, m.mask
    else:
        raise FabricError(f"value set field '{kf.name}': unsupported match {type(m).__name__}")
    if not 0 <= value <= full:
        raise FabricError(f"value set field '{kf.name}': {value:#x} does not fit bit<{kf.width}>")
    return (False, value & mask, mask)


class ValueSet:
    def __init__(self, name: str, size: int, fields: tuple[KeyField, ...]) -> None:
        self.name, self.size, self.fields = name, size, fields
        self.members: list[dict[str, FieldMatch]] = []
        self._compiled: list[tuple[tuple[bool, int, int], ...]] = []

    def set_members(self, members: list[dict[str, FieldMatch]]) -> None:
        members = [dict(m) for m in members]
        if self.size and len(members) > self.size:
            raise FabricError(f"value set '{self.name}' holds at most {self.size} members")
        names = {f.name for f in self.fields}
        for m in members:
            unknown = set(m) - names
            if unknown:
                raise FabricError(f"value set '{self.name}': unknown field(s) {sorted(unknown)}")
        self._compiled = [tuple(_bounds(f, m.get(f.name)) for f in self.fields) for m in members]
        self.members = members

    def match(self, values: tuple) -> bool:
        return any(key_matches(member, values) for member in self._compiled)
