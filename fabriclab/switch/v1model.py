"""v1model's per-packet state: standard_metadata and the packet being processed.

Generated pipeline code reads and writes these objects directly (attribute access on
__slots__ classes is the cheapest state Python offers); the core implements the
architecture around them (replication, clone, resubmit, recirculate, drop).
"""

from __future__ import annotations

NORMAL, INGRESS_CLONE, EGRESS_CLONE, COALESCED, RECIRC, REPLICATION, RESUBMIT = 0, 1, 2, 3, 4, 5, 6

SM_FIELDS: tuple[tuple[str, int], ...] = (
    ("ingress_port", 9), ("egress_spec", 9), ("egress_port", 9), ("instance_type", 32),
    ("packet_length", 32), ("enq_timestamp", 32), ("enq_qdepth", 19), ("deq_timedelta", 32),
    ("deq_qdepth", 19), ("ingress_global_timestamp", 48), ("egress_global_timestamp", 48),
    ("mcast_grp", 16), ("egress_rid", 16), ("checksum_error", 1), ("parser_error", 0),
    ("priority", 3),
)


class StandardMetadata:
    """standard_metadata_t; every field starts at 0 (parser_error 0 is error.NoError)."""

    __slots__ = tuple(name for name, _ in SM_FIELDS)

    def __init__(self) -> None:
        for name, _ in SM_FIELDS:
            setattr(self, name, 0)

    def copy(self) -> "StandardMetadata":
        new = StandardMetadata.__new__(StandardMetadata)
        for name in StandardMetadata.__slots__:
            setattr(new, name, getattr(self, name))
        return new


class PacketState:
    """One packet inside the pipeline: headers, metadata, payload and pending v1model requests.

    `clone_session`/`clone_fl` record the last clone() call of the current pipeline (fl is a
    field list index, or None to preserve nothing); `resubmit_fl`/`recirc_fl` are None
    unless requested; `truncate` 0 means no truncation.
    """

    __slots__ = ("hdr", "meta", "sm", "payload", "data", "now", "clone_session", "clone_fl",
                 "resubmit_fl", "recirc_fl", "truncate", "depth")

    def __init__(self, hdr, meta, sm: StandardMetadata) -> None:
        self.hdr, self.meta, self.sm = hdr, meta, sm
        self.payload = b""
        self.data = b""
        self.now = 0
        self.clone_session = None
        self.clone_fl = None
        self.resubmit_fl = None
        self.recirc_fl = None
        self.truncate = 0
        self.depth = 0  # resubmits/recirculations/clones so far (bounded by the core)

    def copy(self) -> "PacketState":
        new = PacketState(self.hdr.copy(), self.meta.copy(), self.sm.copy())
        new.payload, new.data, new.now, new.truncate = self.payload, self.data, self.now, self.truncate
        new.depth = self.depth
        return new

    def clear_requests(self) -> None:
        self.clone_session = self.clone_fl = self.resubmit_fl = self.recirc_fl = None
