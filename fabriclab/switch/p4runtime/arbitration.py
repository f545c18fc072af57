"""Client arbitration (P4Runtime spec 5): who is primary per (device, role).

Sans-I/O: streams are opaque hashable tokens; `update` and `remove` return the
`MasterArbitrationUpdate` advisories to send as (stream, message) pairs, and raise
`P4RuntimeError` when the spec says the offending stream must be terminated.
The primary of a role is the connected stream with the highest election_id; a stream
without an election_id is a backup that can never be primary. When the primary changes
(a higher id arrives, or the primary's stream closes) every stream of the role is told;
otherwise only the stream that sent the update is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

from finsy.proto import U128, p4r, rpc_status

from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OK,
    P4RuntimeError,
)

Advisory = tuple[Hashable, p4r.MasterArbitrationUpdate]


def role_key(name: str, deprecated_id: int = 0) -> str:
    """One key for a role whether named (1.3+) or numbered (deprecated role_id)."""
    return name if name else (f"#{deprecated_id}" if deprecated_id else "")


@dataclass
class _Client:
    role: str
    role_msg: p4r.Role | None
    election_id: int | None


@dataclass
class Arbitration:
    """Arbitration state of one device."""

    device_id: int
    _clients: dict[Hashable, _Client] = field(default_factory=dict)

    def primary(self, role: str) -> Hashable | None:
        """The primary stream of `role`, if any."""
        best, best_id = None, -1
        for stream, client in self._clients.items():
            if client.role == role and client.election_id is not None and client.election_id > best_id:
                best, best_id = stream, client.election_id
        return best

    def primary_election_id(self, role: str) -> int | None:
        stream = self.primary(role)
        return None if stream is None else self._clients[stream].election_id

    def has_clients(self, role: str) -> bool:
        return any(c.role == role for c in self._clients.values())

    def is_primary(self, stream: Hashable) -> bool:
        client = self._clients.get(stream)
        return client is not None and self.primary(client.role) is stream

    def update(self, stream: Hashable, msg: p4r.MasterArbitrationUpdate) -> list[Advisory]:
        """Apply a client's MasterArbitrationUpdate; return the advisories to send."""
        role = role_key(msg.role.name, msg.role.id) if msg.HasField("role") else ""
        election_id = U128.decode(msg.election_id) if msg.HasField("election_id") else None
        known = self._clients.get(stream)
        if msg.device_id != self.device_id:
            if known is not None:
                raise P4RuntimeError(
                    FAILED_PRECONDITION,
                    f"device_id {msg.device_id} differs from this stream's device_id {self.device_id}",
                )
            raise P4RuntimeError(NOT_FOUND, f"no device with device_id {msg.device_id} (this switch is {self.device_id})")
        if election_id is not None:
            for other, client in self._clients.items():
                if other is not stream and client.role == role and client.election_id == election_id:
                    raise P4RuntimeError(
                        INVALID_ARGUMENT,
                        f"election_id {election_id} is already used by another controller of this role",
                    )
        old_role = known.role if known else None
        before = {r: self.primary(r) for r in {role, old_role} if r is not None}
        self._clients[stream] = _Client(role, msg.role if msg.HasField("role") else None, election_id)
        advisories: list[Advisory] = []
        for r, old_primary in before.items():
            if self.primary(r) != old_primary:
                advisories += self._notify_all(r)
        if not any(s is stream for s, _ in advisories):
            advisories.append((stream, self._advisory(stream)))
        return advisories

    def remove(self, stream: Hashable) -> list[Advisory]:
        """Forget a closed stream; if it was primary, tell the rest of its role."""
        client = self._clients.get(stream)
        if client is None:
            return []
        was_primary = self.primary(client.role) is stream
        del self._clients[stream]
        return self._notify_all(client.role) if was_primary else []

    def _notify_all(self, role: str) -> list[Advisory]:
        return [(s, self._advisory(s)) for s, c in self._clients.items() if c.role == role]

    def _advisory(self, stream: Hashable) -> p4r.MasterArbitrationUpdate:
        client = self._clients[stream]
        primary = self.primary(client.role)
        if primary is stream:
            code, text = OK, "primary"
        elif primary is not None:
            code, text = ALREADY_EXISTS, "backup: another controller is primary"
        else:
            code, text = NOT_FOUND, "backup: no primary for this role"
        msg = p4r.MasterArbitrationUpdate(
            device_id=self.device_id, status=rpc_status.Status(code=code, message=text)
        )
        if client.role_msg is not None and (client.role_msg.name or client.role_msg.id):
            msg.role.CopyFrom(client.role_msg)
        shown = self.primary_election_id(client.role)
        if shown is None:
            shown = self._highest_election_id(client.role)
        if shown is not None:
            msg.election_id.CopyFrom(U128.encode(shown))
        return msg

    def _highest_election_id(self, role: str) -> int | None:
        ids = [c.election_id for c in self._clients.values() if c.role == role and c.election_id is not None]
        return max(ids) if ids else None
