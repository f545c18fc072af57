"""The packet replication engine (PRE): multicast groups and clone sessions.

Runtime API (`core.pre`, used by the P4Runtime server and the STF runner):

    pre.set_group(group_id, [(port, rid), ...])   # create or replace (MulticastGroupEntry)
    pre.delete_group(group_id);  pre.groups -> dict[int, tuple[Replica, ...]]
    pre.set_clone_session(session_id, CloneSession(replicas=((port, rid), ...),
                          mcast_group=0))   # (CloneSessionEntry / mirroring_add)
    pre.delete_clone_session(session_id);  pre.clone_sessions -> dict[int, CloneSession]

A clone session sends to its replicas and, if `mcast_group` is set, to that group's
replicas too (BMv2's `mirroring_add_mc`). It cuts nothing: simple_switch's sessions have no
truncation (simple_switch_grpc refuses a CloneSessionEntry's packet_length_bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple

from fabriclab.errors import FabricError
from fabriclab.switch.ports import MAX_PORT

MAX_RID = (1 << 16) - 1  # egress_rid is bit<16>
MAX_CLONE_SESSION = (1 << 15) - 1  # simple_switch's MAX_MIRROR_SESSION_ID


class Replica(NamedTuple):
    port: int
    rid: int


def replicas_of(pairs: Iterable[tuple[int, int]]) -> tuple[Replica, ...]:
    """Checked replicas: a copy's port becomes its egress_port (bit<9>) and its rid its
    egress_rid (bit<16>); a wider value would be cut in the metadata but still index
    per-port state (registers, counters, queues) past its size, so it is refused here."""
    replicas = tuple(Replica(int(p), int(r)) for p, r in pairs)
    for port, rid in replicas:
        if not 0 <= port <= MAX_PORT:
            raise FabricError(f"replica port {port} out of range 0..{MAX_PORT} (v1model ports are bit<9>)")
        if not 0 <= rid <= MAX_RID:
            raise FabricError(f"replica instance {rid} out of range 0..{MAX_RID} (egress_rid is bit<16>)")
    return replicas


@dataclass(frozen=True)
class CloneSession:
    replicas: tuple[Replica, ...] = ()
    mcast_group: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "replicas", replicas_of(self.replicas))


class ReplicationEngine:
    """Holds groups and sessions; answers which (port, rid) copies a packet becomes."""

    def __init__(self) -> None:
        self.groups: dict[int, tuple[Replica, ...]] = {}
        self.clone_sessions: dict[int, CloneSession] = {}

    def set_group(self, group_id: int, replicas: Iterable[tuple[int, int]]) -> None:
        if not 0 < group_id < 1 << 16:
            raise FabricError(f"multicast group id {group_id} out of range (1..65535)")
        self.groups[group_id] = replicas_of(replicas)

    def delete_group(self, group_id: int) -> None:
        if self.groups.pop(group_id, None) is None:
            raise FabricError(f"multicast group {group_id} does not exist")

    def group_replicas(self, group_id: int) -> tuple[Replica, ...]:
        """The copies for mcast_grp; an unknown group replicates to nothing (as BMv2)."""
        return self.groups.get(group_id, ())

    def set_clone_session(self, session_id: int, session: CloneSession) -> None:
        if not 0 <= session_id <= MAX_CLONE_SESSION:
            raise FabricError(f"clone session id {session_id} out of range 0..{MAX_CLONE_SESSION}")
        self.clone_sessions[session_id] = session

    def delete_clone_session(self, session_id: int) -> None:
        if self.clone_sessions.pop(session_id, None) is None:
            raise FabricError(f"clone session {session_id} does not exist")

    def clone_targets(self, session_id: int) -> tuple[Replica, ...]:
        """The copies a clone() call makes; an unknown session clones nothing. simple_switch
        keeps the low 15 bits of the id the program gives (0x8005 is session 5)."""
        session = self.clone_sessions.get(session_id & MAX_CLONE_SESSION)
        if session is None:
            return ()
        replicas = session.replicas
        if session.mcast_group:
            replicas = replicas + self.group_replicas(session.mcast_group)
        return replicas
