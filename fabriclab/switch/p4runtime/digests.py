"""DigestEntry configuration and DigestList batching/acks on the stream (spec 9.10, 16.3).

Sans-I/O: `offer` takes digests the pipeline produced, `due` returns the lists to send
at time `now_ns`, `ack` releases a list (an ack of an unknown digest or list is ignored, as
PI's DigestMgr::ack does). As in PI, a digest value already sent and not yet acked (nor
timed out after ack_timeout_ns) or waiting in the list being built is not sent again; with
ack_timeout_ns 0 nothing is remembered and a repeated value is sent again. Each digest
numbers its lists from 1, on across a DELETE (PI's DigestData). Digests of instances the
controller has not configured are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from finsy.proto import p4d, p4r

from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    UNIMPLEMENTED,
    P4RuntimeError,
)

Update = p4r.Update
log = logging.getLogger("fabriclab.switch.p4runtime")


@dataclass
class _Instance:
    info: Any
    members: tuple[str | int, ...] | None  # struct member names, tuple positions; None for bit<W>
    config: p4r.DigestEntry.Config | None = None
    pending: list[tuple] = field(default_factory=list)
    first_pending_ns: int = 0
    unacked: dict[int, tuple[int, list[tuple]]] = field(default_factory=dict)  # list_id -> (sent_ns, values)
    next_list_id: int = 1


class DigestEngine:
    def __init__(self, index: P4InfoIndex) -> None:
        self._by_id: dict[int, _Instance] = {}
        self._by_name: dict[str, _Instance] = {}
        for info in index.all("digests"):
            inst = _Instance(info, _struct_members(index, info))
            self._by_id[info.preamble.id] = inst
            self._by_name[info.preamble.name] = inst

    # -------------------------------------------------------------- DigestEntry
    def _instance(self, digest_id: int) -> _Instance:
        inst = self._by_id.get(digest_id)
        if inst is None:
            raise P4RuntimeError(NOT_FOUND, f"no digest with id {digest_id} in the P4Info")
        return inst

    def write(self, kind: int, msg: p4r.DigestEntry) -> None:
        inst = self._instance(msg.digest_id)
        if kind == Update.DELETE:
            if inst.config is None:
                raise P4RuntimeError(NOT_FOUND, f"digest '{inst.info.preamble.name}' is not configured")
            inst.config = None
            inst.pending.clear()
            inst.unacked.clear()
            return
        if kind == Update.INSERT and inst.config is not None:
            raise P4RuntimeError(ALREADY_EXISTS, f"digest '{inst.info.preamble.name}' is already configured")
        if kind == Update.MODIFY and inst.config is None:
            raise P4RuntimeError(NOT_FOUND, f"digest '{inst.info.preamble.name}' is not configured")
        if kind not in (Update.INSERT, Update.MODIFY):
            raise P4RuntimeError(INVALID_ARGUMENT, "update type must be INSERT, MODIFY or DELETE")
        cfg = msg.config
        if cfg.max_timeout_ns < 0 or cfg.max_list_size < 0 or cfg.ack_timeout_ns < 0:
            raise P4RuntimeError(INVALID_ARGUMENT, "digest config values must not be negative")
        inst.config = p4r.DigestEntry.Config()
        inst.config.CopyFrom(cfg)

    def read(self, msg: p4r.DigestEntry) -> list[p4r.Entity]:
        """One digest's config. As PI's DigestMgr::config_read: no wildcard (digest_id 0) read,
        UNIMPLEMENTED; a digest that is not configured is NOT_FOUND."""
        if msg.digest_id == 0:
            raise P4RuntimeError(UNIMPLEMENTED, "digest_id must be set when reading DigestEntry")
        inst = self._instance(msg.digest_id)
        if inst.config is None:
            raise P4RuntimeError(NOT_FOUND, f"digest '{inst.info.preamble.name}' is not configured")
        return [p4r.Entity(digest_entry=p4r.DigestEntry(digest_id=inst.info.preamble.id, config=inst.config))]

    # -------------------------------------------------------------- data path
    def offer(self, name: str, fields: dict[str, int], now_ns: int) -> None:
        """A digest the pipeline produced (core.digests item)."""
        inst = self._by_name.get(name)
        if inst is None or inst.config is None:
            return
        _expire(inst, now_ns)
        value = tuple(fields.get(m, 0) for m in inst.members) if inst.members is not None else (next(iter(fields.values()), 0),)
        if inst.config.ack_timeout_ns and (
                value in inst.pending or any(value in vals for _, vals in inst.unacked.values())):
            return
        if not inst.pending:
            inst.first_pending_ns = now_ns
        inst.pending.append(value)

    def due(self, now_ns: int) -> list[p4r.DigestList]:
        """DigestLists to send now; also forgets unacked lists past their ack timeout."""
        out = []
        for inst in self._by_id.values():
            cfg = inst.config
            if cfg is None:
                continue
            _expire(inst, now_ns)
            while inst.pending:
                size = cfg.max_list_size or len(inst.pending)
                full = len(inst.pending) >= size
                if not full and now_ns - inst.first_pending_ns < cfg.max_timeout_ns:
                    break
                batch, inst.pending = inst.pending[:size], inst.pending[size:]
                inst.first_pending_ns = now_ns
                list_id = inst.next_list_id
                inst.next_list_id += 1
                if cfg.ack_timeout_ns:
                    inst.unacked[list_id] = (now_ns, batch)
                out.append(p4r.DigestList(
                    digest_id=inst.info.preamble.id, list_id=list_id, timestamp=now_ns,
                    data=[_p4data(inst, v) for v in batch]))
        return out

    def ack(self, msg: p4r.DigestListAck) -> bool:
        """Release an acked list; False (and nothing else: PI's DigestMgr::ack ignores it) for
        a digest or list that is not awaiting an ack."""
        inst = self._by_id.get(msg.digest_id)
        if inst is None or inst.unacked.pop(msg.list_id, None) is None:
            log.debug("ignoring an ack of digest %d list %d: not awaiting an ack", msg.digest_id, msg.list_id)
            return False
        return True


def _expire(inst: _Instance, now_ns: int) -> None:
    """Forget lists whose ack did not come within ack_timeout_ns."""
    for list_id, (sent, _) in list(inst.unacked.items()):
        if now_ns - sent >= inst.config.ack_timeout_ns:
            del inst.unacked[list_id]


def _struct_members(index: P4InfoIndex, info: Any) -> tuple[str | int, ...] | None:
    """How a digest's fields (core Digest.fields) make its value: by the P4Info struct's
    member names, by position for a tuple (a digest of a list), None for one bitstring."""
    spec = info.type_spec
    kind = spec.WhichOneof("type_spec")
    if kind == "struct":
        struct = index.p4info.type_info.structs[spec.struct.name]
        return tuple(m.name for m in struct.members)
    if kind == "tuple":
        return tuple(range(len(spec.tuple.members)))
    return None


def _p4data(inst: _Instance, value: tuple) -> p4d.P4Data:
    if inst.members is None:
        return p4d.P4Data(bitstring=bytestrings.encode(value[0]))
    data = p4d.P4Data()
    members = data.tuple.members if inst.info.type_spec.WhichOneof("type_spec") == "tuple" else data.struct.members
    members.extend(p4d.P4Data(bitstring=bytestrings.encode(v)) for v in value)
    return data
