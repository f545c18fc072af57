"""v1model's per-packet state, digest records and instance_type values.

Generated pipeline code reads and writes these objects directly. Header, metadata and
standard_metadata classes are generated from the program's own declarations; the core
implements the architecture around them (replication, clone, resubmit, recirculate, drop).
"""

from __future__ import annotations

from dataclasses import dataclass

NORMAL, INGRESS_CLONE, EGRESS_CLONE, COALESCED, RECIRC, REPLICATION, RESUBMIT = 0, 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class Digest:
    """One `digest(receiver, data)` call: the data's struct type name and its members."""

    name: str
    fields: dict[str, int]


class PacketState:
    """One packet inside the pipeline: headers, metadata, payload and pending v1model requests.

    `clone_session`/`clone_fl` record the last clone() call of the current pipeline;
    `resubmit_fl`/`recirc_fl` are None unless requested. A field list value is the
    @field_list index whose metadata survives, or -1 for none. `truncate` 0: no truncation.
    `digest`: the last digest() call's record (the core learns it at the end of ingress).
    `grow`: bytes setValid() added minus bytes setInvalid() removed since the packet was
    received: simple_switch's packet-length register, which egress reads as packet_length.
    """

    # zero values as class attributes: a new packet only stores its three structs
    payload = b""
    data = b""
    now = 0
    clone_session = None
    clone_fl = None
    resubmit_fl = None
    recirc_fl = None
    truncate = 0
    digest = None
    grow = 0
    depth = 0  # resubmits/recirculations/clones so far (bounded by the core)
    # the deparser of the headers' shape as the parser left them (a generated function of
    # the headers and payload), or None once anything may have changed a header's validity
    dep = None

    def __init__(self, hdr, meta, sm) -> None:
        self.hdr, self.meta, self.sm = hdr, meta, sm

    def copy(self) -> "PacketState":
        """A multicast/clone copy: own headers and metadata, no pending clone, resubmit,
        recirculate or truncate() (simple_switch's copies are new packets: their registers
        cleared, their buffer whole)."""
        new = PacketState(self.hdr.copy(), self.meta.copy(), self.sm.copy())
        new.payload, new.data, new.now = self.payload, self.data, self.now
        new.depth, new.dep, new.grow = self.depth, self.dep, self.grow
        return new
