"""SwitchCore: the sans-I/O v1model switch (simple_switch semantics) around a compiled pipeline.

    core = SwitchCore(program, drop_port=511, cpu_port=None)
    core.ingress(port, data, now_us) -> list[EgressItem]          # parser .. end of ingress
    core.egress(item, now_us, queue) -> (transmit [(port, bytes)], new items to queue)
    core.process(port, data, now_us, queues) -> [(port, bytes)]    # both, empty queues (STF)
    core.digests                                                    # deque of Digest

Runtime state for the control plane, keyed by P4Info names: core.tables,
core.action_profiles, core.counters, core.meters, core.registers, core.value_sets (see
tables.py, externs.py, value_sets.py) and core.pre (replication.py).

End of ingress, as BMv2: I2E clone, digest (one per packet: the last digest() call's),
resubmit, multicast (mcast_grp != 0), drop (egress_spec == drop port), unicast. End of
egress: E2E clone, drop, checksum update + deparse, recirculate, transmit (truncated if
asked). A digest() in egress is never learned (simple_switch looks only after ingress).

What a new packet keeps, as simple_switch (which resets all metadata, standard metadata
included, then copies the field list in; behavioral-model #795): a resubmitted or
recirculated packet reads ingress_port 0 and timestamp 0 in its parser and ingress; a clone
keeps only its headers (an I2E clone's are parsed again with the ingress port known) and
its field list, and goes to queue 0 whatever the original's priority. Multicast replicas
keep everything but a truncate(). Egress reads packet_length from the packet-length register: the length
received, plus what setValid() added and minus what setInvalid() removed (`PacketState.grow`).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fabriclab.switch.codegen import generate_pipeline
from fabriclab.switch.replication import ReplicationEngine
from fabriclab.switch.tm import QueueInfo
from fabriclab.switch.v1model import (EGRESS_CLONE, INGRESS_CLONE, NORMAL, RECIRC, REPLICATION,
                                      RESUBMIT, Digest, PacketState)

# A packet may be resubmitted/recirculated this many times before it is dropped, so a
# program that always recirculates cannot hang the switch.
MAX_REINJECT = 16


_EMPTY_QUEUE = QueueInfo(0, 0, 0, 0)


@dataclass(slots=True)
class EgressItem:
    """A packet between ingress and egress; `state` is opaque to the traffic manager."""

    port: int
    qid: int
    length: int
    state: Any


class SwitchCore:
    """One v1model switch: compiled pipeline + runtime state + architecture semantics."""

    def __init__(self, program, drop_port: int = 511, cpu_port: int | None = None) -> None:
        self.drop_port = drop_port
        self._not_drop_port = (drop_port + 1) & 0x1FF  # egress_spec in egress (simple_switch)
        self.cpu_port = cpu_port
        self.digests: collections.deque[Digest] = collections.deque()
        self.pre = ReplicationEngine()
        code = generate_pipeline(program)
        self.stages = code.load(drop_port)
        self.tables = code.tables
        self.action_profiles = code.action_profiles
        self.counters = code.counters
        self.meters = code.meters
        self.registers = code.registers
        self.value_sets = code.value_sets

    # ------------------------------------------------------------------ ingress
    def ingress(self, port: int, data: bytes, now_us: int) -> list[EgressItem]:
        p = self.stages.run_ingress(port, data, now_us, NORMAL, 0, None)
        sm = p.sm
        if p.clone_session is None and p.resubmit_fl is None and p.digest is None and not sm.mcast_grp:
            # the usual case, unicast or drop, as _ingress has it (a frame costs less here)
            if sm.egress_spec == self.drop_port:
                return []
            sm.egress_port = sm.egress_spec
            return [EgressItem(sm.egress_spec, sm.priority, len(data), p)]
        items: list[EgressItem] = []
        self._end_ingress(p, port, data, now_us, items, 0)
        return items

    def _ingress(self, port: int, data: bytes, now_us: int, instance_type: int,
                 preserved: tuple[Any, int] | None, items: list[EgressItem], depth: int) -> None:
        # parser, metadata preserved by resubmit/recirculate, verifyChecksum, ingress: one call
        p = self.stages.run_ingress(port, data, now_us, instance_type, depth, preserved)
        self._end_ingress(p, port, data, now_us, items, depth)

    def _end_ingress(self, p: PacketState, port: int, data: bytes, now_us: int,
                     items: list[EgressItem], depth: int) -> None:
        """End of ingress (see the module docstring): what the packet turns into."""
        sm = p.sm
        if p.clone_session is not None:
            self._clone_i2e(p, port, data, now_us, items)
            p.clone_session = None
        if p.digest is not None:
            self.digests.append(p.digest)
        if p.resubmit_fl is not None:
            if depth < MAX_REINJECT:
                self._ingress(port, data, now_us, RESUBMIT, (p.meta, p.resubmit_fl), items,
                              depth + 1)
            return
        if sm.mcast_grp:
            replicas = self.pre.group_replicas(sm.mcast_grp)
            p.truncate = 0  # BMv2's replicas are new packets: an ingress truncate() is not theirs
            for i, (out_port, rid) in enumerate(replicas):
                copy = p if i == len(replicas) - 1 else p.copy()
                copy.sm.egress_port = out_port
                copy.sm.egress_rid = rid
                copy.sm.instance_type = REPLICATION
                items.append(EgressItem(out_port, copy.sm.priority, len(data), copy))
            return
        if sm.egress_spec == self.drop_port:
            return
        sm.egress_port = sm.egress_spec
        sm.instance_type = NORMAL  # as simple_switch: a resubmitted/recirculated packet too
        items.append(EgressItem(sm.egress_spec, sm.priority, len(data), p))

    def _clone_i2e(self, p: PacketState, port: int, data: bytes, now_us: int,
                   items: list[EgressItem]) -> None:
        """The clone is the packet as received, parsed again (its parser sees the ingress
        port), then given new metadata: zeros but the field list and its instance type."""
        stages = self.stages
        for out_port, rid in self.pre.clone_targets(p.clone_session):
            c = stages.new_packet()
            c.sm.ingress_port = port
            c.data = data
            c.now = now_us
            stages.parse(c, data)
            fresh = stages.new_packet()
            c.meta, c.sm = fresh.meta, fresh.sm
            if p.clone_fl is not None:
                stages.copy_field_list(p.clone_fl, p.meta, c.meta)
            c.sm.instance_type = INGRESS_CLONE
            c.sm.egress_port = out_port
            c.sm.egress_rid = rid
            items.append(EgressItem(out_port, 0, len(data), c))

    # ------------------------------------------------------------------ egress
    def egress(self, item: EgressItem, now_us: int, queue: QueueInfo
               ) -> tuple[list[tuple[int, bytes]], Sequence[EgressItem]]:
        stages = self.stages
        p: PacketState = item.state
        sm = p.sm
        sm.egress_port = item.port
        sm.egress_spec = self._not_drop_port
        sm.packet_length = item.length + p.grow
        # unpacked, not read by field: 3.11 specialises neither a NamedTuple's field getters
        sm.enq_timestamp, sm.enq_qdepth, sm.deq_qdepth, sm.deq_timedelta = queue
        sm.egress_global_timestamp = now_us
        p.now = now_us
        stages.egress(p)
        new_items: list[EgressItem] | tuple = ()  # a list only when there are some
        if p.clone_session is not None and p.depth < MAX_REINJECT:
            new_items = []
            self._clone_e2e(p, new_items)
        if sm.egress_spec == self.drop_port:
            return [], new_items
        data = stages.finish(p)  # computeChecksum, then deparser: headers + payload
        if p.recirc_fl is not None:
            if p.depth < MAX_REINJECT:
                new_items = list(new_items)
                self._ingress(0, data, now_us, RECIRC, (p.meta, p.recirc_fl),
                              new_items, p.depth + 1)
            return [], new_items
        if p.truncate and len(data) > p.truncate:
            data = data[:p.truncate]
        return [(sm.egress_port, data)], new_items

    def _clone_e2e(self, p: PacketState, items: list[EgressItem]) -> None:
        """The clone carries the egress-modified headers and the original's packet-length
        register; its metadata is new: zeros but the field list and its instance type."""
        for out_port, rid in self.pre.clone_targets(p.clone_session):
            c = p.copy()
            fresh = self.stages.new_packet()
            c.meta, c.sm = fresh.meta, fresh.sm
            if p.clone_fl is not None:
                self.stages.copy_field_list(p.clone_fl, p.meta, c.meta)
            c.sm.instance_type = EGRESS_CLONE
            c.sm.egress_rid = rid
            c.depth = p.depth + 1
            items.append(EgressItem(out_port, 0, len(p.data), c))

    # ------------------------------------------------------------------ both
    def process(self, port: int, data: bytes, now_us: int, queues: int | None = None
                ) -> list[tuple[int, bytes]]:
        """Ingress then egress with empty queues, following clones and recirculation. With
        `queues` per port, a packet whose priority has none is dropped, as simple_switch's
        traffic manager drops it; None: every priority has a queue."""
        pending = self.ingress(port, data, now_us)
        out: list[tuple[int, bytes]] = []
        i = 0
        while i < len(pending):  # FIFO: items made by an egress go after those already waiting
            item = pending[i]
            i += 1
            if queues is not None and item.qid >= queues:
                continue
            sent, more = self.egress(item, now_us, _EMPTY_QUEUE)
            out += sent
            if more:
                pending += more
        return out
