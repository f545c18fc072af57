"""Client arbitration (P4Runtime spec 5): who is primary per (device, role).

Sans-I/O: streams are opaque hashable tokens; `update` and `remove` return the
`MasterArbitrationUpdate` advisories to send as (stream, message) pairs, and raise
`P4RuntimeError` when the spec says the offending stream must be terminated.

As spec 5.4 words it: a controller becomes primary when its election_id is at least the
highest the server has seen for the role (`election_id_past`); otherwise it is a backup.
When the primary's stream closes (or it downgrades itself) the role has no primary until a
controller sends an update with an id at least that high: backups are not promoted, and
every advisory carries the highest id seen so they know what to send. Once the last stream
of a role is gone the role starts afresh (as after a server restart), so a controller that
reconnects later with its usual id is not locked out by an id it never saw.
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
class _RoleState:
    primary: Hashable | None = None
    highest: int | None = None  # election_id_past: None until some controller was primary


@dataclass
class Arbitration:
    """Arbitration state of one device."""

    device_id: int
    _clients: dict[Hashable, _Client] = field(default_factory=dict)
    _roles: dict[str, _RoleState] = field(default_factory=dict)

    def primary(self, role: str) -> Hashable | None:
        """The primary stream of `role`, if any."""
        state = self._roles.get(role)
        return state.primary if state is not None else None

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
        if known is not None and known.role != role:
            raise P4RuntimeError(FAILED_PRECONDITION, f"this stream has role '{known.role or 'default'}': "
                                 "open a new stream to change role")
        if election_id is not None:
            for other, client in self._clients.items():
                if other is not stream and client.role == role and client.election_id == election_id:
                    raise P4RuntimeError(
                        INVALID_ARGUMENT,
                        f"election_id {election_id} is already used by another controller of this role",
                    )
        self._clients[stream] = _Client(role, msg.role if msg.HasField("role") else None, election_id)
        state = self._roles.setdefault(role, _RoleState())
        if election_id is not None and (state.highest is None or election_id >= state.highest):
            state.primary, state.highest = stream, election_id
            return self._notify_all(role)
        if state.primary is stream:  # the primary downgraded itself
            state.primary = None
            return self._notify_all(role)
        return [(stream, self._advisory(stream))]

    def remove(self, stream: Hashable) -> list[Advisory]:
        """Forget a closed stream; if it was primary, tell the rest of its role there is none."""
        client = self._clients.pop(stream, None)
        if client is None:
            return []
        state = self._roles[client.role]
        if not self.has_clients(client.role):
            del self._roles[client.role]
            return []
        if state.primary is not stream:
            return []
        state.primary = None
        return self._notify_all(client.role)

    def _notify_all(self, role: str) -> list[Advisory]:
        return [(s, self._advisory(s)) for s, c in self._clients.items() if c.role == role]

    def _advisory(self, stream: Hashable) -> p4r.MasterArbitrationUpdate:
        client = self._clients[stream]
        state = self._roles[client.role]
        if state.primary is stream:
            code, text = OK, "primary"
        elif state.primary is not None:
            code, text = ALREADY_EXISTS, "backup: another controller is primary"
        else:
            code, text = NOT_FOUND, "backup: no primary for this role (send an election_id >= the one shown)"
        msg = p4r.MasterArbitrationUpdate(
            device_id=self.device_id, status=rpc_status.Status(code=code, message=text)
        )
        if client.role_msg is not None and (client.role_msg.name or client.role_msg.id):
            msg.role.CopyFrom(client.role_msg)
        if state.highest is not None:
            msg.election_id.CopyFrom(U128.encode(state.highest))
        return msg
