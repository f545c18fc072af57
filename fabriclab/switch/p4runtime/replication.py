"""PacketReplicationEngineEntry: multicast groups and clone sessions (spec 9.11).

Replica ports come as `port` bytes (1.4+) or the deprecated `egress_port` number that
p4runtime-shell 0.0.6 still sends (and its p4runtime 1.4.1 protos know no other); both are
accepted, and reads answer each replica in the encoding it was written with: `port` bytes
with the byte count it was written with (PI's pi_port_to_bytestring(port, num_bytes), so
b"\x00\x02" reads back as b"\x00\x02"), or `egress_port`.

Orders are simple_switch_grpc's (hash_map_order.py): PI makes a node per replica instance,
lists nodes in its std::unordered_map's order and a node's ports sorted; BMv2 replicates
node by node in the order the nodes were attached (a modify keeps the nodes of instances it
keeps, and attaches new ones after them), each node's ports ascending, a port once per node.
Wildcard reads list groups and sessions in the order of PI's tables of them.

Id ranges and codes are PI's (proto/frontend/src/pre_mc_mgr.*, pre_clone_mgr.*, common.cpp
bytestring_to_pi_port, and DeviceMgr pre_mc_write/pre_mc_read): multicast group ids from
2**15 up are reserved for clone sessions (OUT_OF_RANGE), clone session ids are 1..32767
(INVALID_ARGUMENT), a `port` of more than 4 bytes is UNIMPLEMENTED and one that is 0 (or
negative as PI's int32 port) INVALID_ARGUMENT, the same replica twice INVALID_ARGUMENT, a
clone session class_of_service other than 0 is UNIMPLEMENTED and a packet_length_bytes other
than 0 (in its low 16 bits, PI's cast) is UNKNOWN, as simple_switch_grpc answers (BMv2 does
not truncate clones), and reading one group or session that does not exist is NOT_FOUND.
"""

from __future__ import annotations

from typing import Callable, Iterator

from finsy.proto import p4r

from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.context import RuntimeContext, WrittenReplicas, core_errors
from fabriclab.switch.p4runtime.hash_map_order import HashMapOrder
from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OUT_OF_RANGE,
    UNIMPLEMENTED,
    UNKNOWN,
    P4RuntimeError,
)
from fabriclab.switch.replication import MAX_CLONE_SESSION, CloneSession, replicas_of  # PI's kMaxCloneSessionId - 1 too

Update = p4r.Update
PORT_BYTES = 4  # PI's pi_port_t is an int32; v1model's 9-bit egress_spec is checked by the core
FIRST_RESERVED_GROUP = 1 << 15  # PI's PreMcMgr::first_reserved_group_id()
EGRESS_PORT = 0  # a replica's width in `WrittenReplicas.nodes`: written as the deprecated `egress_port`


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


def _nodes(replicas: list[p4r.Replica]) -> list[tuple[int, list[tuple[int, int]]]]:
    """PI's group of these replicas (make_new_group): a node per instance in its
    std::unordered_map's order, each with its ports (port, width) in its std::set's order:
    `egress_port` ones first, then by port and byte count. One port written twice in two
    encodings (b"\\x02" and b"\\x00\\x02", or as `egress_port`) is two replicas to PI and one
    copy in BMv2's port map."""
    order, nodes = HashMapOrder(), {}
    for replica in replicas:
        port, width = _port(replica)
        with core_errors():  # checked first: egress_rid is bit<16>, so at most 2**16 nodes
            replicas_of([(port, replica.instance)])
        order.add(replica.instance)
        ports = nodes.setdefault(replica.instance, set())
        if (port, width) in ports:
            raise P4RuntimeError(INVALID_ARGUMENT, f"duplicate replica in multicast group "
                                 f"(port {port}, instance {replica.instance})")
        ports.add((port, width))
    return [(rid, sorted(nodes[rid], key=lambda pw: (pw[1] != EGRESS_PORT, *pw))) for rid in order]


def _written(old: WrittenReplicas | None, nodes: list[tuple[int, list[tuple[int, int]]]]) -> WrittenReplicas:
    """The group after a create (old None) or a modify: BMv2's nodes of instances kept keep
    their places, new ones follow in PI's order (group_modify_ attaches them at the end)."""
    rids = [rid for rid, _ in nodes]
    if old is None:
        return WrittenReplicas(nodes, rids)
    new, had = set(rids), set(old.switch_order)
    order = [rid for rid in old.switch_order if rid in new] + [rid for rid in rids if rid not in had]
    return WrittenReplicas(nodes, order, old.packet_length_bytes)


def _switch_replicas(written: WrittenReplicas) -> list[tuple[int, int]]:
    """(port, rid) in the order simple_switch replicates: node by node, ports ascending."""
    ports = dict(written.nodes)
    return [(port, rid) for rid in written.switch_order for port in sorted({p for p, _ in ports[rid]})]


def _encode(written: WrittenReplicas | None, replicas: tuple) -> list[p4r.Replica]:
    """A read's replicas: as PI lists what was written (read_group), or canonical and in the
    core's order for what did not come through P4Runtime."""
    if written is None:
        return [p4r.Replica(port=bytestrings.encode(r.port), instance=r.rid) for r in replicas]
    return [p4r.Replica(egress_port=port, instance=rid) if width == EGRESS_PORT else
            p4r.Replica(port=port.to_bytes(width, "big"), instance=rid)
            for rid, ports in written.nodes for port, width in ports]


def _check_kind(kind: int, exists: bool, what: str) -> None:
    if kind == Update.INSERT and exists:
        raise P4RuntimeError(ALREADY_EXISTS, f"{what} exists")
    if kind in (Update.MODIFY, Update.DELETE) and not exists:
        raise P4RuntimeError(NOT_FOUND, f"{what} does not exist")
    if kind not in (Update.INSERT, Update.MODIFY, Update.DELETE):
        raise P4RuntimeError(INVALID_ARGUMENT, "update type must be INSERT, MODIFY or DELETE")


def write(ctx: RuntimeContext, kind: int, msg: p4r.PacketReplicationEngineEntry) -> None:
    which = msg.WhichOneof("type")
    if which == "multicast_group_entry":
        _write_group(ctx, kind, msg.multicast_group_entry)
    elif which == "clone_session_entry":
        _write_session(ctx, kind, msg.clone_session_entry)
    else:
        raise P4RuntimeError(INVALID_ARGUMENT, "the PacketReplicationEngineEntry is empty")


def _write_group(ctx: RuntimeContext, kind: int, group: p4r.MulticastGroupEntry) -> None:
    pre, gid, key = ctx.core.pre, group.multicast_group_id, ("group", group.multicast_group_id)
    if gid == 0:
        raise P4RuntimeError(INVALID_ARGUMENT, "multicast_group_id 0 is not a group")
    _check_group_id(gid)
    _check_kind(kind, gid in pre.groups, f"multicast group {gid}")
    if kind == Update.DELETE:
        _delete(ctx, key, pre.delete_group, (ctx.group_order, gid))
        return
    written = _written(ctx.replicas.get(key) if kind == Update.MODIFY else None, _nodes(group.replicas))
    with core_errors():
        pre.set_group(gid, _switch_replicas(written))
    ctx.replicas[key] = written
    ctx.group_order.add(gid)


def _write_session(ctx: RuntimeContext, kind: int, session: p4r.CloneSessionEntry) -> None:
    """PI's PreCloneMgr: a session is a multicast group (id 2**15 + the session's) created or
    modified first, then the session's configuration set if it changed; the configuration
    it refuses (class_of_service, packet_length_bytes) leaves a new session undone but a
    modified one with its new replicas, as PI does not roll back."""
    pre, sid, key = ctx.core.pre, session.session_id, ("session", session.session_id)
    gid = FIRST_RESERVED_GROUP + sid
    if not 0 < sid <= MAX_CLONE_SESSION:
        raise P4RuntimeError(INVALID_ARGUMENT, f"session_id {sid} outside 1..{MAX_CLONE_SESSION}")
    _check_kind(kind, sid in pre.clone_sessions, f"clone session {sid}")
    if kind == Update.DELETE:
        _delete(ctx, key, pre.delete_clone_session, (ctx.session_order, sid), (ctx.group_order, gid))
        return
    old = ctx.replicas.get(key) if kind == Update.MODIFY else None
    written = _written(old, _nodes(session.replicas))
    refused = None
    if old is None or session.packet_length_bytes != old.packet_length_bytes or session.class_of_service:
        refused = _refused_config(session)
    if refused is not None and old is None:
        ctx.group_order.add(gid)  # PI created the session's group, then deleted it
        ctx.group_order.discard(gid)
        raise refused
    with core_errors():
        pre.set_clone_session(sid, CloneSession(replicas=tuple(_switch_replicas(written))))
    if refused is None:
        written.packet_length_bytes = session.packet_length_bytes
    ctx.replicas[key] = written
    ctx.group_order.add(gid)
    ctx.session_order.add(sid)
    if refused is not None:
        raise refused


def _delete(ctx: RuntimeContext, key: tuple[str, int], delete: Callable[[int], None],
            *orders: tuple[HashMapOrder, int]) -> None:
    """A DELETE: from the switch, from what PI keeps, and from the orders of its tables."""
    with core_errors():
        delete(key[1])
    ctx.replicas.pop(key, None)
    for order, item in orders:
        order.discard(item)


def _refused_config(session: p4r.CloneSessionEntry) -> P4RuntimeError | None:
    """What PreCloneMgr::session_set answers for a session's configuration."""
    if session.class_of_service != 0:
        return P4RuntimeError(UNIMPLEMENTED, "class_of_service for clone sessions is not supported")
    if session.packet_length_bytes & 0xFFFF:  # PI's uint16_t cast
        # simple_switch_grpc's pi_clone_session_set: "add support for truncation in bmv2"
        return P4RuntimeError(UNKNOWN, "Error when creating clone session in target: "
                              "simple_switch cannot truncate clones (packet_length_bytes)")
    return None


def _check_group_id(group_id: int) -> None:
    if group_id >= FIRST_RESERVED_GROUP:
        raise P4RuntimeError(OUT_OF_RANGE, f"multicast_group_id {group_id} is too high "
                             f"(ids from {FIRST_RESERVED_GROUP} up are reserved for clone sessions)")


def _check_present(wanted: int, present: dict, what: str) -> None:
    if wanted and wanted not in present:
        raise P4RuntimeError(NOT_FOUND, f"{what} {wanted} does not exist")


def read(ctx: RuntimeContext, msg: p4r.PacketReplicationEngineEntry) -> Iterator[p4r.Entity]:
    """One group or session, or all in PI's table order (then any set outside P4Runtime)."""
    pre = ctx.core.pre
    which = msg.WhichOneof("type")
    if which == "multicast_group_entry":
        wanted = msg.multicast_group_entry.multicast_group_id
        _check_group_id(wanted)
        _check_present(wanted, pre.groups, "multicast group")
        for gid in [wanted] if wanted else _in_order(ctx.group_order, pre.groups):
            yield p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=p4r.MulticastGroupEntry(
                    multicast_group_id=gid, replicas=_encode(ctx.replicas.get(("group", gid)), pre.groups[gid]))))
    elif which == "clone_session_entry":
        wanted = msg.clone_session_entry.session_id
        _check_present(wanted, pre.clone_sessions, "clone session")
        for sid in [wanted] if wanted else _in_order(ctx.session_order, pre.clone_sessions):
            written = ctx.replicas.get(("session", sid))
            yield p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                clone_session_entry=p4r.CloneSessionEntry(
                    session_id=sid, packet_length_bytes=written.packet_length_bytes if written else 0,
                    replicas=_encode(written, pre.clone_sessions[sid].replicas))))
    else:
        raise P4RuntimeError(INVALID_ARGUMENT, "read a multicast_group_entry or a clone_session_entry")


def _in_order(order: HashMapOrder, present: dict[int, object]) -> list[int]:
    ids = [i for i in order if i in present]
    return ids + sorted(set(present) - set(ids))
