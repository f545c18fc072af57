"""IEEE 802.1Qbb priority-based flow control (PFC) frames: encode, decode, pause timing.

A PFC frame is a MAC control frame: destination 01:80:C2:00:00:01 (never forwarded by a
bridge), ethertype 0x8808, opcode 0x0101, a class-enable vector (bit p: the quanta of
priority p are valid) and eight 16-bit pause times, one per priority, in quanta of 512 bit
times at the link's rate. Quanta 0 for an enabled class means "resume now" (XON). The frame
is padded to Ethernet's 60-byte minimum (the FCS is not modelled, as elsewhere).

The receive side is the same for a switch port and a host NIC: ``LinkPause`` holds the
paused priorities of one link until XON or expiry; the traffic manager (tm.py) keeps one per
PFC port, and a host's RoCE driver can keep one for its interface.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from fabriclab.errors import FabricError

DST_MAC = bytes.fromhex("0180c2000001")
ETHERTYPE = 0x8808
OPCODE = 0x0101
PRIORITIES = 8
MAX_QUANTA = 0xFFFF
QUANTUM_BITS = 512
MIN_FRAME = 60  # bytes, without FCS
FOREVER_NS = 1 << 62  # a pause with no link rate to time it lasts until XON
_BODY = struct.Struct("!HH8H")  # opcode, class-enable vector, 8 pause times
_HEADER = 14


class PfcError(FabricError):
    """A frame that claims to be PFC but cannot be one (truncated, bad priority)."""


@dataclass(frozen=True)
class PfcFrame:
    """A decoded PFC frame: ``quanta[p]`` matters only where bit p of ``enabled`` is set."""

    src_mac: bytes
    enabled: int  # class-enable vector, bit p = priority p
    quanta: tuple[int, ...]  # 8 pause times

    def classes(self) -> dict[int, int]:
        """The enabled priorities and their pause times (0 = XON)."""
        return {p: self.quanta[p] for p in range(PRIORITIES) if self.enabled >> p & 1}


def pause_ns(quanta: int, rate_bps: float) -> int:
    """How long ``quanta`` pause a link of ``rate_bps``: 512 bit times each (5.12 ns at
    100 Gb/s), in integer ns rounded up."""
    return -(-quanta * QUANTUM_BITS * 1_000_000_000 // round(rate_bps))


def encode(src_mac: bytes, classes: dict[int, int]) -> bytes:
    """A PFC frame from ``src_mac`` pausing each priority in ``classes`` for its quanta."""
    if len(src_mac) != 6:
        raise PfcError("PFC source MAC must be 6 bytes")
    quanta = [0] * PRIORITIES
    enabled = 0
    for prio, q in classes.items():
        if not 0 <= prio < PRIORITIES:
            raise PfcError(f"PFC priority {prio} out of range 0..7")
        if not 0 <= q <= MAX_QUANTA:
            raise PfcError(f"PFC pause time {q} out of range 0..65535 quanta")
        quanta[prio] = q
        enabled |= 1 << prio
    frame = DST_MAC + src_mac + ETHERTYPE.to_bytes(2, "big") + _BODY.pack(OPCODE, enabled, *quanta)
    return frame + bytes(MIN_FRAME - len(frame))


def is_mac_control(frame: bytes) -> bool:
    """Whether ``frame`` is a MAC control frame (the MAC consumes it; no pipeline sees it)."""
    return len(frame) >= _HEADER and frame[12:14] == b"\x88\x08"


def decode(frame: bytes) -> PfcFrame | None:
    """The PFC frame in ``frame``; None for another MAC control opcode (e.g. 802.3x PAUSE).

    Raises PfcError for a MAC control frame too short to hold its opcode or a PFC body.
    """
    if not is_mac_control(frame):
        raise PfcError("not a MAC control frame (ethertype 0x8808)")
    if len(frame) < _HEADER + 2:
        raise PfcError(f"MAC control frame truncated at {len(frame)} bytes")
    if int.from_bytes(frame[_HEADER:_HEADER + 2], "big") != OPCODE:
        return None
    if len(frame) < _HEADER + _BODY.size:
        raise PfcError(f"PFC frame truncated at {len(frame)} bytes (needs {_HEADER + _BODY.size})")
    _, enabled, *quanta = _BODY.unpack_from(frame, _HEADER)
    return PfcFrame(frame[6:12], enabled & 0xFF, tuple(quanta))


@dataclass
class Hold:
    """One priority of one link as the receiver of pauses sees it: held until ``until_ns``."""

    until_ns: int = 0
    since_ns: int | None = None  # start of the pause still counted as running
    pauses: int = 0
    xons: int = 0
    paused_ns: int = 0  # closed intervals

    def apply(self, quanta: int, rate_bps: float | None, now_ns: int) -> None:
        """A pause of ``quanta`` (0: XON) received at ``now_ns`` on a link of ``rate_bps``
        (None: no rate to time it, so it holds until XON)."""
        self.paused_ns = self.total_ns(now_ns)
        if quanta == 0:
            self.xons += 1
            self.until_ns = min(self.until_ns, now_ns)
            self.since_ns = None
        else:
            self.pauses += 1
            self.until_ns = now_ns + pause_ns(quanta, rate_bps) if rate_bps else FOREVER_NS
            self.since_ns = now_ns

    def total_ns(self, now_ns: int) -> int:
        """Time held so far, including a pause still running at ``now_ns``."""
        if self.since_ns is None:
            return self.paused_ns
        return self.paused_ns + max(0, min(now_ns, self.until_ns) - self.since_ns)


@dataclass
class LinkPause:
    """The pauses a neighbour sent over one link, for the priorities this end honours."""

    holds: dict[int, Hold] = field(default_factory=dict)  # by priority
    errors: int = 0  # truncated MAC control frames
    ignored: int = 0  # other opcodes (802.3x PAUSE), or priorities not honoured

    def receive(self, frame: bytes, now_ns: int, rate_bps: float | None) -> bool:
        """Feed a received frame: True if it is MAC control (the MAC consumes it)."""
        if not is_mac_control(frame):
            return False
        try:
            decoded = decode(frame)
        except PfcError:
            self.errors += 1
            return True
        if decoded is None:
            self.ignored += 1
            return True
        for prio, quanta in decoded.classes().items():
            hold = self.holds.get(prio)
            if hold is None:
                self.ignored += 1
            else:
                hold.apply(quanta, rate_bps, now_ns)
        return True
