"""PacketReplicationEngineEntry: multicast groups and clone sessions (spec 9.11).

Replica ports come as `port` bytes (1.4+) or the deprecated `egress_port` number that
p4runtime-shell 0.0.6 still sends (and its p4runtime 1.4.1 protos know no other); both are
accepted, and reads answer in the encoding the group or session was written with.

Id ranges and read codes are PI's (proto/frontend/src/pre_mc_mgr.*, pre_clone_mgr.*, and
DeviceMgr pre_mc_write/pre_mc_read): multicast group ids from 2**15 up are reserved for clone
sessions (OUT_OF_RANGE), clone session ids are 1..32767 (INVALID_ARGUMENT), and reading one
group or session that does not exist is NOT_FOUND.
"""

from __future__ import annotations

from typing import Iterator

from finsy.proto import p4r

from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.context import RuntimeContext, core_errors
from fabriclab.switch.p4runtime.status import ALREADY_EXISTS, INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE, P4RuntimeError
from fabriclab.switch.replication import CloneSession

Update = p4r.Update
PORT_BITS = 32  # PI takes 32-bit ports; v1model's 9-bit egress_spec truncates in the data plane
FIRST_RESERVED_GROUP = 1 << 15  # PI's PreMcMgr::first_reserved_group_id()
MAX_CLONE_SESSION = 32767  # PI's kMaxCloneSessionId - 1


def _replicas(replicas: list[p4r.Replica]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for replica in replicas:
        kind = replica.WhichOneof("port_kind")
        if kind is None or (kind == "port" and not replica.port):  # PI GetReplicaPort / bytestring_to_pi_port
            raise P4RuntimeError(INVALID_ARGUMENT, "a replica needs a port (`port` bytes or `egress_port`)")
        if kind == "port":
            port = bytestrings.decode(replica.port, PORT_BITS, "replica port")
        else:
            port = replica.egress_port
        if (port, replica.instance) in out:
            raise P4RuntimeError(INVALID_ARGUMENT, f"replica (port {port}, instance {replica.instance}) given twice")
        out.append((port, replica.instance))
    return out


def _legacy(replicas: list[p4r.Replica]) -> bool:
    return any(r.WhichOneof("port_kind") == "egress_port" for r in replicas)


def _encode_replicas(replicas: tuple, legacy: bool) -> list[p4r.Replica]:
    if legacy:
        return [p4r.Replica(egress_port=r.port, instance=r.rid) for r in replicas]
    return [p4r.Replica(port=bytestrings.encode(r.port), instance=r.rid) for r in replicas]


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
        with core_errors():
            if kind == Update.DELETE:
                pre.delete_group(group.multicast_group_id)
            else:
                pre.set_group(group.multicast_group_id, _replicas(group.replicas))
        _remember(ctx.legacy_ports, ("group", group.multicast_group_id), kind, _legacy(group.replicas))
        return
    if which != "clone_session_entry":
        raise P4RuntimeError(INVALID_ARGUMENT, "the PacketReplicationEngineEntry is empty")
    session = msg.clone_session_entry
    if not 0 < session.session_id <= MAX_CLONE_SESSION:
        raise P4RuntimeError(INVALID_ARGUMENT, f"session_id {session.session_id} outside 1..{MAX_CLONE_SESSION}")
    if session.packet_length_bytes < 0:
        raise P4RuntimeError(INVALID_ARGUMENT, "packet_length_bytes must not be negative")
    _check_kind(kind, session.session_id in pre.clone_sessions, f"clone session {session.session_id}")
    with core_errors():
        if kind == Update.DELETE:
            pre.delete_clone_session(session.session_id)
        else:
            pre.set_clone_session(session.session_id, CloneSession(
                replicas=tuple(_replicas(session.replicas)), truncate=session.packet_length_bytes))
    _remember(ctx.legacy_ports, ("session", session.session_id), kind, _legacy(session.replicas))
    if kind == Update.DELETE:
        ctx.clone_cos.pop(session.session_id, None)
    else:
        ctx.clone_cos[session.session_id] = session.class_of_service


def _check_group_id(group_id: int) -> None:
    if group_id >= FIRST_RESERVED_GROUP:
        raise P4RuntimeError(OUT_OF_RANGE, f"multicast_group_id {group_id} is too high "
                             f"(ids from {FIRST_RESERVED_GROUP} up are reserved for clone sessions)")


def _remember(legacy_ports: set, key: tuple, kind: int, legacy: bool) -> None:
    if legacy and kind != Update.DELETE:
        legacy_ports.add(key)
    else:
        legacy_ports.discard(key)


def _check_present(wanted: int, present: dict, what: str) -> None:
    if wanted and wanted not in present:
        raise P4RuntimeError(NOT_FOUND, f"{what} {wanted} does not exist")


def read(ctx: RuntimeContext, msg: p4r.PacketReplicationEngineEntry) -> Iterator[p4r.Entity]:
    pre = ctx.core.pre
    which = msg.WhichOneof("type")
    if which == "multicast_group_entry":
        wanted = msg.multicast_group_entry.multicast_group_id
        _check_group_id(wanted)
        _check_present(wanted, pre.groups, "multicast group")
        for gid, replicas in sorted(pre.groups.items()):
            if not wanted or gid == wanted:
                yield p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                    multicast_group_entry=p4r.MulticastGroupEntry(
                        multicast_group_id=gid, replicas=_encode_replicas(replicas, ("group", gid) in ctx.legacy_ports))))
    elif which == "clone_session_entry":
        wanted = msg.clone_session_entry.session_id
        _check_present(wanted, pre.clone_sessions, "clone session")
        for sid, session in sorted(pre.clone_sessions.items()):
            if not wanted or sid == wanted:
                yield p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                    clone_session_entry=p4r.CloneSessionEntry(
                        session_id=sid,
                        replicas=_encode_replicas(session.replicas, ("session", sid) in ctx.legacy_ports),
                        class_of_service=ctx.clone_cos.get(sid, 0), packet_length_bytes=session.truncate)))
    else:
        raise P4RuntimeError(INVALID_ARGUMENT, "read a multicast_group_entry or a clone_session_entry")
