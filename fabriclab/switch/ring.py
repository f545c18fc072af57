"""A PACKET_MMAP receive ring on a switch port's AF_PACKET socket: frames in with no
syscall per frame (issue 24).

The kernel writes received frames into an RX ring shared through ``mmap``; the switch reads
them in place and hands each slot back by clearing its status word. Measured on veths
(bench/switch_pps.py, part c), a frame costs 0.4 CPU us to read this way against 2.2 us
with recvmsg.

Sends stay plain ``send()`` calls: a TX ring measured 2.2-2.5 us per frame against 1.9-2.0
(0.65 us of Python to fill a slot, and the kernel's tpacket_snd costs more per frame than
packet_snd: 1.7 us on a veth), so the one syscall it saves per frame does not pay, and it
would add a flush's batching delay to every departure. sendmmsg through ctypes would spend
more in building its message array than the syscall entries it saves.

TPACKET_V2, not V3: a V3 block reaches user space only when it is full or its retire timer
(1 ms at the least) expires, so at a switch's rates every frame would wait up to a
millisecond before ingress; V2 hands over each frame as soon as it is written (epoll
reports the socket readable while the newest slot is ours), so the arrival instant, and
with it the traffic manager's queues, stay those of the plain socket.

Frames come out as they were on the wire: the VLAN tag the kernel stripped (``tp_status``'s
VLAN bits, what PACKET_AUXDATA gives the plain path) is put back (``with_vlan_tag``), and
frames whose sender left the L4 checksum to a NIC (TP_STATUS_CSUMNOTREADY) are counted
(``partial``). The loop touches only what a frame needs: at a switch's rates each bytecode
per frame counts (issue 24).

Holes: under overload (the ring full, the kernel dropping) a slot was seen to stay the
kernel's for good while the kernel went on filling the slots after it (its header written,
its status never handed over). A reader that only ever looks at its next slot then stops
for good, and epoll, which looks at the slot before the kernel's head, reports the socket
readable forever: the switch spun at 100% CPU and forwarded nothing more on that port.
So a slot that stays the kernel's for ``HOLE_NS`` while the next one is ours is skipped
and counted (``holes``); a kernel write in progress takes microseconds.
"""

from __future__ import annotations

import mmap
import socket
import struct
import time

SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_VERSION = 10
TPACKET_V2 = 1
TP_STATUS_KERNEL = 0  # the slot is the kernel's
TP_STATUS_USER = 0x1  # a frame for us
PACKET_OUTGOING = 4
TP_STATUS_CSUMNOTREADY = 0x8  # the sender left the L4 checksum to a NIC (TX offload on a veth)
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
_SPECIAL = TP_STATUS_CSUMNOTREADY | TP_STATUS_VLAN_VALID  # frames that need a second look
_HDR = struct.Struct("=IIIH")  # struct tpacket2_hdr: tp_status, tp_len, tp_snaplen, tp_mac
_VLAN = struct.Struct("=HH")  # its tp_vlan_tci, tp_vlan_tpid
_VLAN_AT = 24  # where tp_vlan_tci is in the header
_REQ = struct.Struct("=IIII")  # struct tpacket_req
_STATUS = struct.Struct("=I")
HDR_LEN = 32  # TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
PKTTYPE = HDR_LEN + 10  # sockaddr_ll.sll_pkttype follows the header
RING_BYTES = 2 << 20  # 1024 slots of 2 KiB at a 1500-byte MTU (memory the kernel pins)
PAGE = mmap.PAGESIZE
HOLE_NS = 2_000_000  # a slot the kernel holds this long while the next is ours is a hole


def with_vlan_tag(data: bytes, status: int, tci: int, tpid: int) -> bytes:
    """The frame as it was on the wire: the kernel strips 802.1Q tags into the ring's header
    or PACKET_AUXDATA (VLAN offload), so put the tag back where it was, as libpcap (and so
    BMv2) does."""
    if status & TP_STATUS_VLAN_VALID:
        tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
        return data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


def slot_size(mtu: int) -> int:
    """The smallest power of two holding a frame of ``mtu`` (with a VLAN tag) after the
    headers and the alignment padding the kernel inserts before the MAC header."""
    need = HDR_LEN + 20 + 16 + 14 + 4 + mtu
    size = 256
    while size < need:
        size *= 2
    return size


class PacketRing:
    """An RX ring (TPACKET_V2) on ``sock``; raises OSError where the kernel has none (the
    caller then keeps the plain socket)."""

    def __init__(self, sock: socket.socket, mtu: int = 1500, ring_bytes: int = RING_BYTES):
        self.sock = sock
        self.frame = slot_size(mtu)
        block = max(self.frame, PAGE)
        blocks = max(ring_bytes, 256 * self.frame) // block  # 256 slots at the least
        self.slots = blocks * (block // self.frame)
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        req = _REQ.pack(block, blocks, self.frame, self.slots)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self.map = mmap.mmap(sock.fileno(), self.slots * self.frame, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        self._start()

    @classmethod
    def on_buffer(cls, buffer: bytearray, frame: int, slots: int) -> PacketRing:
        """A reader over a ring laid out in ``buffer`` (tests play the kernel's part)."""
        ring = cls.__new__(cls)
        ring.map, ring.frame, ring.slots = buffer, frame, slots
        ring._start()
        return ring

    def _start(self) -> None:
        self.rx = 0  # next slot to read
        self.partial = 0  # frames with a partial L4 checksum (TP_STATUS_CSUMNOTREADY)
        self.truncated = 0  # frames longer than a slot (cut by the kernel: dropped here)
        self.holes = 0  # slots the kernel never handed over, skipped (see the module docstring)
        self._hole: tuple[int, int] | None = None  # (slot, first seen ns) of a possible hole

    def receive(self, limit: int) -> list[bytes]:
        """Up to ``limit`` frames as they were on the wire, oldest first; our own
        transmissions (PACKET_OUTGOING) are skipped."""
        out: list[bytes] = []
        append = out.append
        ring, frame, unpack, clear = self.map, self.frame, _HDR.unpack_from, _STATUS.pack_into
        end = self.slots * frame
        offset = start = self.rx * frame
        for _ in range(limit):
            status, length, snap, mac = unpack(ring, offset)
            if not status & TP_STATUS_USER:
                break
            if snap < length:
                self.truncated += 1
            elif ring[offset + PKTTYPE] != PACKET_OUTGOING:
                mac += offset
                data = ring[mac:mac + snap]
                if status & _SPECIAL:
                    if status & TP_STATUS_CSUMNOTREADY:
                        self.partial += 1
                    data = with_vlan_tag(data, status, *_VLAN.unpack_from(ring, offset + _VLAN_AT))
                append(data)
            clear(ring, offset, TP_STATUS_KERNEL)
            offset += frame
            if offset == end:
                offset = 0
        index = offset // frame
        if offset == start and self._skip_hole(index):
            return self.receive(limit)
        self.rx = index
        return out

    def _skip_hole(self, index: int) -> bool:
        """Nothing at ``index``: if the next slot is ours and ``index`` has stayed the
        kernel's for HOLE_NS, move past it (True)."""
        following = index + 1 if index + 1 < self.slots else 0
        if not _STATUS.unpack_from(self.map, following * self.frame)[0] & TP_STATUS_USER:
            self._hole = None
            return False
        now = time.monotonic_ns()
        if self._hole is None or self._hole[0] != index:
            self._hole = (index, now)
            return False
        if now - self._hole[1] < HOLE_NS:
            return False
        self._hole = None
        self.holes += 1
        self.rx = following
        return True

    def close(self) -> None:
        self.map.close()
