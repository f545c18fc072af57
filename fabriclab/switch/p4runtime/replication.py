"""PacketReplicationEngineEntry: multicast groups and clone sessions (spec 9.11).

Replica ports come as `port` bytes (1.4+) or the deprecated `egress_port` number that
p4runtime-shell 0.0.6 still sends (and its p4runtime 1.4.1 protos know no other); both are
accepted, and reads answer each replica in the encoding it was written with: `port` bytes
with the byte count it was written with (PI's pi_port_to_bytestring(port, num_bytes), so
b"\x00\x02" reads back as b"\x00\x02"), or `egress_port`.

Id ranges and codes are PI's (proto/frontend/src/pre_mc_mgr.*, pre_clone_mgr.*, common.cpp
bytestring_to_pi_port, and DeviceMgr pre_mc_write/pre_mc_read): multicast group ids from
2**15 up are reserved for clone sessions (OUT_OF_RANGE), clone session ids are 1..32767
(INVALID_ARGUMENT), a `port` of more than 4 bytes is UNIMPLEMENTED and one that is 0 (or
negative as PI's int32 port) INVALID_ARGUMENT, a clone session class_of_service other than 0
is UNIMPLEMENTED and a packet_length_bytes other than 0 (in its low 16 bits, PI's cast) is
UNKNOWN, as simple_switch_grpc answers (BMv2 does not truncate clones), and reading one
group or session that does not exist is NOT_FOUND.
"""

from __future__ import annotations

from typing import Iterator

from finsy.proto import p4r

from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.context import RuntimeContext, core_errors
from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OUT_OF_RANGE,
    UNIMPLEMENTED,
    UNKNOWN,
    P4RuntimeError,
)
from fabriclab.switch.replication import MAX_CLONE_SESSION, CloneSession  # PI's kMaxCloneSessionId - 1 too

Update = p4r.Update
PORT_BYTES = 4  # PI's pi_port_t is an int32; v1model's 9-bit egress_spec is checked by the core
FIRST_RESERVED_GROUP = 1 << 15  # PI's PreMcMgr::first_reserved_group_id()
EGRESS_PORT = 0  # a replica's width in `RuntimeContext.replica_widths`: written as the deprecated `egress_port`


def _port(replica: p4r.Replica) -> tuple[int, int]:
    """(port, width) of a replica, checked as PI's GetReplicaPort / bytestring_to_pi_port."""
    kind = replica.WhichOneof("port_kind")
    if kind == "egress_port":
        return replica.egress_port, EGRESS_PORT
    if kind is None or not replica.port:
        raise P4RuntimeError(INVALID_ARGUMENT, "a replica needs a port (`port` bytes or `egress_port`)")
    if len(replica.port) > PORT_BYTES:
        raise P4RuntimeError(UNIMPLEMENTED, f"replica port of {len(replica.port)} bytes: only {PORT_BYTES} "
                             "bytes are supported")
    port = int.from_bytes(replica.port, "big")
    if port == 0 or port >> 31:  # PI reads the bytes as an int32 and wants it positive
        raise P4RuntimeError(INVALID_ARGUMENT, f"replica port 0x{replica.port.hex()} must be positive")
    return port, len(replica.port)


def _replicas(replicas: list[p4r.Replica]) -> dict[tuple[int, int], int]:
    """{(port, rid): width} in the order given."""
    out: dict[tuple[int, int], int] = {}
    for replica in replicas:
        port, width = _port(replica)
        if (port, replica.instance) in out:
            raise P4RuntimeError(INVALID_ARGUMENT, f"replica (port {port}, instance {replica.instance}) given twice")
        out[(port, replica.instance)] = width
    return out


def _encode_replicas(replicas: tuple, widths: dict[tuple[int, int], int]) -> list[p4r.Replica]:
    out = []
    for r in replicas:
        width = widths.get((r.port, r.rid))
        if width == EGRESS_PORT:
            out.append(p4r.Replica(egress_port=r.port, instance=r.rid))
        else:  # as written; canonical for what did not come through P4Runtime
            port = r.port.to_bytes(width, "big") if width else bytestrings.encode(r.port)
            out.append(p4r.Replica(port=port, instance=r.rid))
    return out


def _remember(ctx: RuntimeContext, key: tuple[str, int], kind: int, widths: dict[tuple[int, int], int]) -> None:
    if kind == Update.DELETE:
        ctx.replica_widths.pop(key, None)
    else:
        ctx.replica_widths[key] = widths


def _check_kind(kind: int, exists: bool, what: str) -> None:
    if kind == Update.INSERT and exists:
        raise P4RuntimeError(ALREADY_EXISTS, f"{what} exists")
    if kind in (Update.MODIFY, Update.DELETE) and not exists:
        raise P4RuntimeError(NOT_FOUND, f"{what} does not exist")
    if kind not in (Update.INSERT, Update.MODIFY, Update.DELETE):
        raise P4RuntimeError(INVALID_ARGUMENT, "update type must be INSERT, MODIFY or DELETE")


def write(ctx: RuntimeContext, kind: int, msg: p4r.PacketReplicationEngineEntry) -> None:
    pre = ctx.core.pre
    which = msg.WhichOneof("type")
    if which == "multicast_group_entry":
        group = msg.multicast_group_entry
        if group.multicast_group_id == 0:
            raise P4RuntimeError(INVALID_ARGUMENT, "multicast_group_id 0 is not a group")
        _check_group_id(group.multicast_group_id)
        _check_kind(kind, group.multicast_group_id in pre.groups, f"multicast group {group.multicast_group_id}")
        replicas = _replicas(group.replicas) if kind != Update.DELETE else {}
        with core_errors():
            if kind == Update.DELETE:
                pre.delete_group(group.multicast_group_id)
            else:
                pre.set_group(group.multicast_group_id, list(replicas))
        _remember(ctx, ("group", group.multicast_group_id), kind, replicas)
        return
    if which != "clone_session_entry":
        raise P4RuntimeError(INVALID_ARGUMENT, "the PacketReplicationEngineEntry is empty")
    session = msg.clone_session_entry
    if not 0 < session.session_id <= MAX_CLONE_SESSION:
        raise P4RuntimeError(INVALID_ARGUMENT, f"session_id {session.session_id} outside 1..{MAX_CLONE_SESSION}")
    _check_kind(kind, session.session_id in pre.clone_sessions, f"clone session {session.session_id}")
    replicas = _replicas(session.replicas) if kind != Update.DELETE else {}
    if kind != Update.DELETE and session.class_of_service != 0:  # PI PreCloneMgr::session_set
        raise P4RuntimeError(UNIMPLEMENTED, "class_of_service for clone sessions is not supported")
    if kind != Update.DELETE and session.packet_length_bytes & 0xFFFF:  # PI's uint16_t cast
        # simple_switch_grpc's pi_clone_session_set: "add support for truncation in bmv2"
        raise P4RuntimeError(UNKNOWN, "Error when creating clone session in target: "
                             "simple_switch cannot truncate clones (packet_length_bytes)")
    with core_errors():
        if kind == Update.DELETE:
            pre.delete_clone_session(session.session_id)
        else:
            pre.set_clone_session(session.session_id, CloneSession(replicas=tuple(replicas)))
    _remember(ctx, ("session", session.session_id), kind, replicas)


def _check_group_id(group_id: int) -> None:
    if group_id >= FIRST_RESERVED_GROUP:
        raise P4RuntimeError(OUT_OF_RANGE, f"multicast_group_id {group_id} is too high "
                             f"(ids from {FIRST_RESERVED_GROUP} up are reserved for clone sessions)")


def _check_present(wanted: int, present: dict, what: str) -> None:
    if wanted and wanted not in present:
        raise P4RuntimeError(NOT_FOUND, f"{what} {wanted} does not exist")


def read(ctx: RuntimeContext, msg: p4r.PacketReplicationEngineEntry) -> Iterator[p4r.Entity]:
    pre, widths = ctx.core.pre, ctx.replica_widths
    which = msg.WhichOneof("type")
    if which == "multicast_group_entry":
        wanted = msg.multicast_group_entry.multicast_group_id
        _check_group_id(wanted)
        _check_present(wanted, pre.groups, "multicast group")
        for gid, replicas in sorted(pre.groups.items()):
            if not wanted or gid == wanted:
                yield p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                    multicast_group_entry=p4r.MulticastGroupEntry(
                        multicast_group_id=gid, replicas=_encode_replicas(replicas, widths.get(("group", gid), {})))))
    elif which == "clone_session_entry":
        wanted = msg.clone_session_entry.session_id
        _check_present(wanted, pre.clone_sessions, "clone session")
        for sid, session in sorted(pre.clone_sessions.items()):
            if not wanted or sid == wanted:
                yield p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                    clone_session_entry=p4r.CloneSessionEntry(
                        session_id=sid,
                        replicas=_encode_replicas(session.replicas, widths.get(("session", sid), {})))))
    else:
        raise P4RuntimeError(INVALID_ARGUMENT, "read a multicast_group_entry or a clone_session_entry")
