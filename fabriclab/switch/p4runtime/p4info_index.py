"""Id lookups over a P4Info message, with the spec's NOT_FOUND errors.

P4Runtime requests name everything by id; the switch core names everything by P4Info
name. This index is the one place ids are resolved. An id the P4Info does not define is
INVALID_ARGUMENT ("Invalid P4 id"), as PI answers for every entity (proto/frontend/src/
common.h make_invalid_p4_id_status): the spec keeps NOT_FOUND for absent entities, not ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finsy.proto import p4i

from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, P4RuntimeError

_KINDS = (
    "tables",
    "actions",
    "action_profiles",
    "counters",
    "direct_counters",
    "meters",
    "direct_meters",
    "registers",
    "digests",
    "controller_packet_metadata",
)


@dataclass
class P4InfoIndex:
    """`by_id[kind][id]` -> P4Info object, e.g. `by_id["tables"][37375156]`."""

    p4info: p4i.P4Info
    by_id: dict[str, dict[int, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind in _KINDS:
            self.by_id[kind] = {obj.preamble.id: obj for obj in getattr(self.p4info, kind)}
        self._actions_by_name = {a.preamble.name: a for a in self.p4info.actions}

    def get(self, kind: str, obj_id: int) -> Any:
        """The P4Info object of `kind` with `obj_id`, or INVALID_ARGUMENT."""
        obj = self.by_id[kind].get(obj_id)
        if obj is None:
            noun = kind.rstrip("s").replace("_", " ")
            raise P4RuntimeError(INVALID_ARGUMENT, f"invalid P4 id: no {noun} with id {obj_id} in the P4Info")
        return obj

    def all(self, kind: str) -> list[Any]:
        return list(getattr(self.p4info, kind))

    def action_named(self, name: str) -> Any | None:
        return self._actions_by_name.get(name)

    def packet_metadata(self, name: str) -> Any | None:
        """The @controller_header("packet_in"/"packet_out") header, if the program has one."""
        for obj in self.p4info.controller_packet_metadata:
            if obj.preamble.name == name:
                return obj
        return None

    def direct_resource(self, table: Any, kind: str) -> Any | None:
        """The direct counter or meter (kind "direct_counters"/"direct_meters") of a table."""
        for res_id in table.direct_resource_ids:
            if res_id in self.by_id[kind]:
                return self.by_id[kind][res_id]
        return None

    def action_profile_of(self, table: Any) -> Any | None:
        if table.implementation_id:
            return self.by_id["action_profiles"].get(table.implementation_id)
        return None
