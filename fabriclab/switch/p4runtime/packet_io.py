"""PacketOut/PacketIn <-> CPU-port bytes via the @controller_header headers (spec 16.1).

A packet-out's metadata become the `packet_out` header prepended to the payload, fields
packed big-endian bit after bit in P4Info order (the program's parser extracts it on the
CPU port); a packet from the CPU port starts with the `packet_in` header, which is split
off into PacketIn metadata. Without such a header the bytes pass unchanged.

As simple_switch_grpc (PI packet_io_mgr.cpp, PacketOutMutate), a metadata field the
PacketOut leaves out is sent as zeros; an id the header does not have, or a value wider
than its field, is INVALID_ARGUMENT and the packet is not sent.
"""

from __future__ import annotations

from typing import Any

from finsy.proto import p4r

from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, P4RuntimeError


def _fields(header: Any | None) -> list[tuple[int, str, int]]:
    return [(m.id, m.name, m.bitwidth) for m in header.metadata] if header is not None else []


class PacketIO:
    def __init__(self, index: P4InfoIndex) -> None:
        self.out_fields = _fields(index.packet_metadata("packet_out"))
        self.in_fields = _fields(index.packet_metadata("packet_in"))
        self.in_bytes = (sum(w for _, _, w in self.in_fields) + 7) // 8

    def packet_out_bytes(self, msg: p4r.PacketOut) -> bytes:
        """The CPU-port packet for a PacketOut: packet_out header, then the payload."""
        given = {}
        for md in msg.metadata:
            if md.metadata_id in given:
                raise P4RuntimeError(INVALID_ARGUMENT, f"packet-out metadata id {md.metadata_id} given twice")
            given[md.metadata_id] = md.value
        known = {fid for fid, _, _ in self.out_fields}
        if set(given) - known:
            raise P4RuntimeError(INVALID_ARGUMENT, f"packet-out metadata id {min(set(given) - known)} is not in the P4Info")
        value, bits = 0, 0
        for fid, name, width in self.out_fields:
            field = bytestrings.decode(given[fid], width, f"packet-out metadata '{name}'") if fid in given else 0
            value = value << width | field
            bits += width
        pad = -bits % 8
        header = (value << pad).to_bytes((bits + pad) // 8, "big") if bits else b""
        return header + msg.payload

    def packet_in(self, data: bytes) -> p4r.PacketIn:
        """The PacketIn for a packet the pipeline sent to the CPU port."""
        if not self.in_fields or len(data) < self.in_bytes:
            return p4r.PacketIn(payload=data)
        total = self.in_bytes * 8
        value = int.from_bytes(data[: self.in_bytes], "big")
        shift = total
        metadata = []
        for fid, _, width in self.in_fields:
            shift -= width
            field = value >> shift & ((1 << width) - 1)
            metadata.append(p4r.PacketMetadata(metadata_id=fid, value=bytestrings.encode(field)))
        return p4r.PacketIn(payload=data[self.in_bytes:], metadata=metadata)
