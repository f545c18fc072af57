"""PACKET_MMAP rings on a switch port's AF_PACKET socket: frames in and out with no
syscall per frame (issue 24).

The kernel writes received frames into an RX ring shared through ``mmap``; the switch reads
them in place and hands each slot back by clearing its status word. Frames to send are
written into a TX ring and one ``send()`` per batch (``flush``) makes the kernel transmit
them all.

TPACKET_V2, not V3: a V3 block reaches user space only when it is full or its retire timer
(1 ms at the least) expires, so at a switch's rates every frame would wait up to a
millisecond before ingress; V2 hands over each frame as soon as it is written (epoll
reports the socket readable while the newest slot is ours), so the arrival instant, and
with it the traffic manager's queues, stay those of the plain socket.

The ring keeps what PACKET_AUXDATA gives the plain path: ``tp_status`` (with
TP_STATUS_CSUMNOTREADY and the VLAN bits) and the VLAN tag the kernel stripped.
"""

from __future__ import annotations

import mmap
import socket
import struct

SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_VERSION = 10
PACKET_TX_RING = 13
TPACKET_V2 = 1
TP_STATUS_KERNEL = 0  # RX: the slot is the kernel's; TX: TP_STATUS_AVAILABLE
TP_STATUS_USER = 0x1  # RX: a frame for us; TX: TP_STATUS_SEND_REQUEST
TP_STATUS_WRONG_FORMAT = 0x4  # TX: the kernel refused the frame (too long for the device)
PACKET_OUTGOING = 4
_HDR = struct.Struct("=IIIHHIIHH")  # struct tpacket2_hdr up to tp_vlan_tpid
_REQ = struct.Struct("=IIII")  # struct tpacket_req
_STATUS = struct.Struct("=I")
_LENGTHS = struct.Struct("=II")  # tp_len, tp_snaplen
HDR_LEN = 32  # TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
PKTTYPE = HDR_LEN + 10  # sockaddr_ll.sll_pkttype follows the header
TX_DATA = HDR_LEN  # tpacket_snd reads V2 frames at tp_hdrlen - sizeof(sockaddr_ll)
RING_BYTES = 1 << 20  # per direction: 512 slots of 2 KiB at a 1500-byte MTU (4 MiB at 9000)
PAGE = mmap.PAGESIZE


def slot_size(mtu: int) -> int:
    """The smallest power of two holding a frame of ``mtu`` (with a VLAN tag) after the
    headers and the alignment padding the kernel inserts before the MAC header."""
    need = HDR_LEN + 20 + 16 + 14 + 4 + mtu
    size = 256
    while size < need:
        size *= 2
    return size


class PacketRing:
    """An RX and a TX ring (TPACKET_V2) on ``sock``; raises OSError where the kernel has none
    (the caller then keeps the plain socket)."""

    def __init__(self, sock: socket.socket, mtu: int = 1500, ring_bytes: int = RING_BYTES):
        self.sock = sock
        self.frame = slot_size(mtu)
        block = max(self.frame, PAGE)
        blocks = max(ring_bytes, 256 * self.frame) // block  # 256 slots at the least
        self.slots = blocks * (block // self.frame)
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        req = _REQ.pack(block, blocks, self.frame, self.slots)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        sock.setsockopt(SOL_PACKET, PACKET_TX_RING, req)
        self.size = self.slots * self.frame
        self.map = mmap.mmap(sock.fileno(), 2 * self.size, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        self.rx = 0  # next RX slot to read
        self.tx = 0  # next TX slot to fill
        self.pending = 0  # TX slots filled since the last flush
        self.truncated = 0  # frames longer than a slot (cut by the kernel: dropped here)
        self.refused = 0  # TX frames the kernel marked as wrong

    def receive(self, limit: int) -> list[tuple[bytes, int, int, int]]:
        """Up to ``limit`` frames as (bytes, tp_status, vlan tci, vlan tpid), oldest first;
        our own transmissions (PACKET_OUTGOING) are skipped."""
        out = []
        ring, frame, slots, unpack = self.map, self.frame, self.slots, _HDR.unpack_from
        index = self.rx
        for _ in range(limit):
            offset = index * frame
            status, length, snap, mac, _, _, _, tci, tpid = unpack(ring, offset)
            if not status & TP_STATUS_USER:
                break
            if snap < length:
                self.truncated += 1
            elif ring[offset + PKTTYPE] != PACKET_OUTGOING:
                start = offset + mac
                out.append((ring[start:start + snap], status, tci, tpid))
            _STATUS.pack_into(ring, offset, TP_STATUS_KERNEL)
            index = index + 1 if index + 1 < slots else 0
        self.rx = index
        return out

    def send(self, data: bytes) -> bool:
        """Queue one frame for the next ``flush``; False when the ring is full or the frame
        does not fit a slot (the caller counts it lost, as on a wire)."""
        offset = self.size + self.tx * self.frame  # the TX ring follows the RX ring
        ring = self.map
        status = _STATUS.unpack_from(ring, offset)[0]
        if status & ~TP_STATUS_WRONG_FORMAT or len(data) > self.frame - TX_DATA:
            return False
        if status:
            self.refused += 1
        _LENGTHS.pack_into(ring, offset + 4, len(data), len(data))
        ring[offset + TX_DATA:offset + TX_DATA + len(data)] = data
        _STATUS.pack_into(ring, offset, TP_STATUS_USER)
        self.tx = self.tx + 1 if self.tx + 1 < self.slots else 0
        self.pending += 1
        return True

    def flush(self) -> None:
        """Have the kernel send every queued frame (one syscall); raises OSError like send."""
        if self.pending:
            self.pending = 0
            self.sock.send(b"")

    def close(self) -> None:
        self.map.close()
