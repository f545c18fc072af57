"""Reliable-connection queue pair: requester and responder as one sans-I/O state machine.

Events go in (`post_write`, `post_send`, `receive(pkt, now)`, `on_timer(now)`), packets come
out (`next_packet(now)` for requests, the return value of `receive` for ACK/NAKs), and
`deadline()` says when the retransmission timer wants `on_timer`. Times are integer
nanoseconds on the driver's clock. No clock or socket here: the NIC engine (`nic.py`) owns
pacing and addressing.

Reliability follows the InfiniBand RC rules that RoCE NICs implement: 24-bit PSNs that wrap,
cumulative ACKs requested by the AckReq bit (coalesced: one ACK covers every packet up to
its PSN), one NAK "PSN sequence error" per gap, go-back-N from the NAKed PSN or from the
oldest unacknowledged PSN on timeout, and at most `window` packets outstanding. The
responder has two modes that decide what reordering costs:

- ``gbn``: a classic RoCE NIC. An out-of-order packet is dropped and NAKed, so reordering
  in the fabric (adaptive routing, spraying) turns into retransmissions.
- ``ooo``: a NIC with direct data placement. Out-of-order packets are kept and placed by
  PSN and the cumulative ACK covers what is complete. Reordering is never NAKed; a hole
  that packets `ooo_nak_gap` PSNs later have overtaken is taken for a loss and NAKed once,
  and the requester (same mode) resends just that packet: selective repair.

Nothing a peer (or a forger) sends can wedge a QP. A NAK counts only if its PSN is one of
our unacknowledged packets and an ACK only if it acknowledges no more than we sent; others
are ignored and counted. A request more than `window` PSNs ahead of the expected one cannot
come from a well-behaved requester (both ends use the same attributes): it is dropped and
counted, never stashed. A valid fatal NAK puts the QP in the error state, where every posted
and later request completes with an error, as with ibv_poll_cq's flush errors.

Distance-adaptive (opt-in, `QpConfig.adaptive`): the requester times one AckReq'd packet at a
time (Karn: never a retransmitted one) into an `RttEstimator`; the RTO becomes SRTT + 4 RTTVAR,
never below the configured `rto_ns` (a queue's worth of delay the SRTT may not have seen), a
backed-off RTO holds until a packet sent once is timed (else a path longer than the first RTO
times out forever and never gets a sample) and, with `bdp_rate` set, the window follows the
path's BDP at that rate, between `window` and `max_window` (the responder accepts up to
`max_window` ahead, so both ends agree). Defaults keep the fixed window and RTO of a
single-site configuration.

The retransmission timer runs only while a packet that asked for an ACK is unacknowledged:
a sender paced far below line rate (DCQCN) between AckReqs has lost nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from fabriclab.errors import FabricError
from fabriclab.roce import framing as f
from fabriclab.roce.rtt import RttEstimator, bdp_window

PSN_MASK = 0xFFFFFF
PSN_HALF = 1 << 23  # (a - b) & PSN_MASK at or above this: a is before b on the circle
MSN_MASK = 0xFFFFFF
PMTUS = (256, 512, 1024, 2048, 4096)
MODES = ("gbn", "ooo")
NAK_ERRORS = {0x61: "invalid request", 0x62: "remote access error", 0x63: "remote operational error"}


def psn_add(psn: int, n: int) -> int:
    return (psn + n) & PSN_MASK


def psn_diff(a: int, b: int) -> int:
    """a - b on the 24-bit PSN circle, in [-2**23, 2**23)."""
    d = (a - b) & PSN_MASK
    return d - (1 << 24) if d >= 1 << 23 else d


@dataclass(frozen=True)
class QpConfig:
    """Queue pair attributes (as `ibv_modify_qp` would set them)."""

    pmtu: int = 1024
    window: int = 64  # outstanding request packets
    ack_every: int = 8  # AckReq on every Nth packet and on each message's last packet
    rto_ns: int = 5_000_000  # silence before the first go-back-N; doubles per timeout
    max_rto_ns: int = 500_000_000
    mode: str = "gbn"
    ooo_nak_gap: int = 16  # ooo: NAK a hole once packets this far past it arrive (a loss, not reordering)
    start_psn: int = 0
    adaptive: bool = False  # RTO from the smoothed RTT (and, with bdp_rate, a BDP window)
    bdp_rate: float | None = None  # bit/s the window is sized for (adaptive only)
    max_window: int | None = None  # the adaptive window's ceiling; default: window

    @property
    def accept_window(self) -> int:
        """How far ahead of the expected PSN a responder accepts a request."""
        return max(self.window, self.max_window or 0)

    def __post_init__(self) -> None:
        if self.pmtu not in PMTUS:
            raise FabricError(f"path MTU must be one of {PMTUS}, not {self.pmtu}")
        if self.mode not in MODES:
            raise FabricError(f"receiver mode must be one of {MODES}, not {self.mode!r}")
        if not 1 <= self.ack_every <= self.window:
            raise FabricError("ack_every must be between 1 and the window")
        if not all(isinstance(t, int) and t > 0 for t in (self.rto_ns, self.max_rto_ns)):
            raise FabricError(f"retransmission timeouts must be positive integer ns, not {self.rto_ns!r}, "
                              f"{self.max_rto_ns!r}")
        if self.ooo_nak_gap < 1:
            raise FabricError("ooo_nak_gap must be at least 1")
        if self.bdp_rate is not None and not self.bdp_rate > 0:
            raise FabricError(f"BDP rate must be > 0 bit/s, got {self.bdp_rate}")
        if self.max_window is not None and self.max_window < self.window:
            raise FabricError(f"max_window {self.max_window} is below the window {self.window}")


@dataclass
class QpCounters:
    packets_sent: int = 0
    bytes_sent: int = 0
    retransmissions: int = 0
    timeouts: int = 0
    naks_sent: int = 0
    naks_received: int = 0
    acks_sent: int = 0
    out_of_order: int = 0
    duplicates: int = 0
    access_errors: int = 0
    beyond_window: int = 0  # requests too far ahead of the expected PSN: dropped, never stashed
    naks_ignored: int = 0  # NAKs whose PSN is no unacknowledged packet of ours (stale or stray)
    acks_ignored: int = 0  # ACKs of PSNs never sent, and RNR/reserved syndromes


@dataclass
class Completion:
    """A finished work request (`kind` "send"/"write", requester side) or an arrival
    (`kind` "recv" for a SEND, "write_imm" for an RDMA WRITE with immediate)."""

    kind: str
    wr_id: int | None = None
    data: bytes = b""
    imm: int | None = None
    va: int = 0
    error: str | None = None


@dataclass
class _WorkRequest:
    wr_id: int
    write: bool
    data: bytes
    va: int
    rkey: int
    imm: int | None
    first_psn: int
    npkts: int
    last_psn: int = 0  # first_psn + npkts - 1 on the PSN circle, set with them at post time

    @property
    def kind(self) -> str:
        return "write" if self.write else "send"


@dataclass
class _Inbound:
    """The responder's current message: where a WRITE lands or where a SEND accumulates."""

    rkey: int = 0
    va: int = 0
    length: int = 0
    written: int = 0
    parts: list[bytes] = field(default_factory=list)


class QueuePair:
    """One RC queue pair. `regions` maps rkey -> registered memory (shared with the NIC)."""

    def __init__(self, qpn: int, peer_qpn: int, config: QpConfig | None = None,
                 regions: dict[int, bytearray] | None = None, sq_psn: int | None = None,
                 rq_psn: int | None = None) -> None:
        """`sq_psn`/`rq_psn`: first PSN sent / expected (default: the config's start_psn); the
        peer's rq_psn must equal our sq_psn, as when a connection manager exchanges them."""
        self.qpn, self.peer_qpn = qpn, peer_qpn
        self.cfg = config or QpConfig()
        self.regions = regions if regions is not None else {}
        self.counters = QpCounters()
        self.completions: deque[Completion] = deque()
        self.error: str | None = None
        # requester
        start = (self.cfg.start_psn if sq_psn is None else sq_psn) & PSN_MASK
        self._wrs: deque[_WorkRequest] = deque()
        self._end_psn = start  # PSN after the last posted packet
        self._una = start  # oldest unacknowledged
        self._tx = start  # next to transmit (moves back on go-back-N)
        self._max_sent = start  # highest PSN sent + 1
        self._last_ackreq: int | None = None  # newest PSN sent with AckReq
        self._tx_wr = 0  # index in _wrs of the WR holding _tx
        self._repair: deque[int] = deque()  # ooo: NAKed PSNs to resend before new data
        self.deadline_ns: int | None = None  # the retransmission timer (`deadline()`), read per poll
        self._backoff = 1
        self.window = self.cfg.window  # packets outstanding at most (adaptive: the path's BDP)
        # the configured RTO is the floor: it covers a queue's worth of delay the SRTT has not seen
        self.rtt = RttEstimator(self.cfg.rto_ns, min_rto_ns=self.cfg.rto_ns, max_rto_ns=self.cfg.max_rto_ns)
        self._timed: tuple[int, int] | None = None  # (PSN, send time) of the packet being timed
        # responder
        self._epsn = (self.cfg.start_psn if rq_psn is None else rq_psn) & PSN_MASK
        self._msn = 0
        self._nak_sent = False
        self._stash: dict[int, f.RocePacket] = {}
        self._inbound = _Inbound()

    # ---- requester -------------------------------------------------------------------
    def post_write(self, wr_id: int, data: bytes, va: int, rkey: int, imm: int | None = None) -> None:
        """Queue an RDMA WRITE of `data` to the peer's memory at (rkey, va)."""
        self._post(_WorkRequest(wr_id, True, bytes(data), va, rkey, imm, 0, 0))

    def post_send(self, wr_id: int, data: bytes, imm: int | None = None) -> None:
        """Queue a SEND (the peer gets a "recv" completion with the data)."""
        self._post(_WorkRequest(wr_id, False, bytes(data), 0, 0, imm, 0, 0))

    def _post(self, wr: _WorkRequest) -> None:
        if self.error is not None:  # an errored QP completes every request at once, flushed
            self.completions.append(Completion(wr.kind, wr.wr_id, error=f"flushed: {self.error}"))
            return
        wr.first_psn = self._end_psn
        wr.npkts = max(1, -(-len(wr.data) // self.cfg.pmtu))
        if wr.npkts >= 1 << 22:
            raise FabricError(f"message of {len(wr.data)} bytes needs too many packets")
        wr.last_psn = psn_add(wr.first_psn, wr.npkts - 1)
        self._end_psn = psn_add(self._end_psn, wr.npkts)
        self._wrs.append(wr)

    @property
    def outstanding(self) -> int:
        return psn_diff(self._max_sent, self._una)

    @property
    def in_flight(self) -> int:
        """Packets sent since the oldest unacknowledged one that are not being sent again:
        after a go-back-N the ones from the resend point on count as lost (what a
        window of bytes in flight, HPCC's, must count or it never lets the resend leave)."""
        return psn_diff(self._tx, self._una)

    @property
    def una(self) -> int:
        """The oldest unacknowledged PSN (requester)."""
        return self._una

    @property
    def epsn(self) -> int:
        """The next PSN the responder expects."""
        return self._epsn

    @property
    def busy(self) -> bool:
        """Work is posted and not yet acknowledged."""
        return bool(self._wrs)

    def can_send(self) -> bool:
        """A repair is queued, or a posted packet is unsent and the window allows it (the PSN
        arithmetic of psn_diff written out: this runs several times per packet)."""
        if self.error is not None:
            return False
        if self._repair:
            return True
        tx = self._tx
        if (tx - self._end_psn) & PSN_MASK < PSN_HALF:  # psn_diff(tx, end) >= 0: nothing unsent
            return False
        d = (tx - self._una) & PSN_MASK
        return d >= PSN_HALF or d < self.window  # psn_diff(tx, una) < window

    def next_packet(self, now: int) -> f.RocePacket | None:
        """The next request packet (a repair, or what the window allows), or None."""
        if not self.can_send():
            return None
        if self._repair:
            while self._repair:
                psn = self._repair.popleft()
                if psn_diff(psn, self._una) >= 0:
                    wr = next(w for w in self._wrs if psn_diff(psn, w.first_psn) < w.npkts)
                    return self._packet(wr, psn, now)
            if not self.can_send():  # the stale repairs are gone: is there new data?
                return None
        tx, wrs = self._tx, self._wrs
        while 0 < (tx - wrs[self._tx_wr].last_psn) & PSN_MASK < PSN_HALF:  # psn_diff(tx, last) > 0
            self._tx_wr += 1  # tx is past this WR
        pkt = self._packet(wrs[self._tx_wr], tx, now)
        self._tx = (tx + 1) & PSN_MASK
        return pkt

    def _packet(self, wr: _WorkRequest, psn: int, now: int) -> f.RocePacket:
        """Build (or rebuild) the packet carrying `psn` of `wr` and account for it."""
        i = (psn - wr.first_psn) & PSN_MASK  # psn_diff: psn is one of wr's, at most 2**22 on
        cfg = self.cfg
        pmtu = cfg.pmtu
        first, last = i == 0, i == wr.npkts - 1
        payload = wr.data[i * pmtu:(i + 1) * pmtu]
        retransmit = (psn - self._max_sent) & PSN_MASK >= PSN_HALF  # psn_diff(psn, max_sent) < 0
        ackreq = last or psn % cfg.ack_every == 0 or (retransmit and psn == self._una)
        imm = wr.imm if last else None
        op = _opcode(wr.write, first, last, wr.imm is not None)
        if wr.write and first:
            pkt = f.RocePacket(op, self.peer_qpn, psn, payload, ackreq, False, False, f.DEFAULT_PKEY,
                               wr.va, wr.rkey, len(wr.data), 0, 0, imm)
        else:
            pkt = f.RocePacket(op, self.peer_qpn, psn, payload, ackreq, False, False, f.DEFAULT_PKEY,
                               0, 0, 0, 0, 0, imm)
        if retransmit:
            self.counters.retransmissions += 1
        else:
            self._max_sent = (psn + 1) & PSN_MASK
        if ackreq:
            self._asked(psn, now, timed=not retransmit)
        counters = self.counters
        counters.packets_sent += 1
        counters.bytes_sent += len(payload)
        return pkt

    def request_ack(self, pkt: f.RocePacket, now: int) -> None:
        """Make `pkt`, just built by next_packet, ask for an ACK (the caller's window is full
        after it: its ACK is what reopens it); the retransmission timer then covers it as any
        AckReq packet, else a lost one would leave the QP waiting with no timer. Not timed
        for the RTT (it may be a resend: Karn)."""
        if not pkt.ackreq:
            pkt.ackreq = True
            self._asked(pkt.psn, now, timed=False)

    def _asked(self, psn: int, now: int, timed: bool) -> None:
        """Packet `psn` asks for an ACK: time it (a first transmission, adaptive), note it
        as the newest AckReq and start the timer if it is not running."""
        if timed and self.cfg.adaptive and self._timed is None:
            self._timed = (psn, now)
        if self._last_ackreq is None or psn_diff(psn, self._last_ackreq) > 0:
            self._last_ackreq = psn
        if self.deadline_ns is None:
            self.deadline_ns = now + self._rto()

    def awaiting_ack(self) -> bool:
        """A packet that asked for an ACK is unacknowledged (only then may the timer run: a
        slowly paced sender between AckReqs is not a lost packet)."""
        return self._last_ackreq is not None and psn_diff(self._last_ackreq, self._una) >= 0

    def _rto(self) -> int:
        base = self.rtt.rto_ns if self.cfg.adaptive else self.cfg.rto_ns
        return min(base * self._backoff, self.cfg.max_rto_ns)

    def _sample_rtt(self, acked: int, now: int) -> None:
        """The timed packet is acknowledged: one RTT sample, then the window from the BDP."""
        if self._timed is None or psn_diff(acked, self._timed[0]) < 0:
            return
        self.rtt.sample(now - self._timed[1])
        self._timed = None
        self._backoff = 1  # Karn: a backed-off RTO holds until a packet sent once is timed
        if self.cfg.bdp_rate is not None:
            self.window = bdp_window(self.cfg.bdp_rate, self.rtt.srtt_ns or 0, self.cfg.pmtu,
                                     floor=self.cfg.window, ceiling=self.cfg.accept_window)

    def deadline(self) -> int | None:
        return self.deadline_ns

    def on_timer(self, now: int) -> None:
        """Retransmission timeout: go back to the oldest unacknowledged packet."""
        if self.deadline_ns is None or now < self.deadline_ns:
            return
        if not self.awaiting_ack():
            self.deadline_ns = None
            return
        self.counters.timeouts += 1
        self._backoff = min(self._backoff * 2, 1 << 10)
        self._go_back(self._una)
        self.deadline_ns = now + self._rto()

    def _go_back(self, psn: int) -> None:
        self._tx = psn
        self._tx_wr = 0
        self._timed = None  # Karn: what is resent now cannot be timed

    def _on_ack(self, pkt: f.RocePacket, now: int) -> None:
        """An ACK/NAK. Its PSN must name a packet we sent: a NAK's (the responder's expected PSN)
        an unacknowledged one, an ACK's one not after the last sent. Anything else is stale or
        forged and is ignored (counted), so no stray packet can wedge or fail the QP."""
        kind = pkt.syndrome >> 5
        if kind not in (0b000, 0b011):  # RNR NAK or reserved: never asked for by this responder
            self.counters.acks_ignored += 1
            return
        nak = kind == 0b011
        ahead, outstanding = psn_diff(pkt.psn, self._una), self.outstanding
        if nak and not 0 <= ahead < outstanding:
            self.counters.naks_ignored += 1
            return
        if not nak and ahead >= outstanding:
            self.counters.acks_ignored += 1
            return
        acked = psn_add(pkt.psn, -1) if nak else pkt.psn  # a NAK acknowledges what precedes it
        if 0 <= psn_diff(acked, self._una) < outstanding:
            self._una = psn_add(acked, 1)
            if self.cfg.adaptive:
                self._sample_rtt(acked, now)
            while self._wrs and psn_diff(self._wrs[0].last_psn, acked) <= 0:
                wr = self._wrs.popleft()
                self.completions.append(Completion(wr.kind, wr.wr_id))
                self._tx_wr = max(0, self._tx_wr - 1)
            if psn_diff(self._tx, self._una) < 0:
                self._go_back(self._una)
            if not self.cfg.adaptive:
                self._backoff = 1
            self.deadline_ns = now + self._rto() if self.awaiting_ack() else None
        if not nak:
            return
        self.counters.naks_received += 1
        if pkt.syndrome != f.AETH_NAK_PSN_SEQ:
            what = NAK_ERRORS.get(pkt.syndrome, "remote error")
            self._fail(f"{what} (NAK syndrome {pkt.syndrome:#x} at PSN {pkt.psn:#x})")
        elif psn_diff(self._tx, pkt.psn) > 0:
            if self.cfg.mode == "ooo":
                self._repair.append(pkt.psn)  # the responder kept everything after the hole
                self._timed = None  # Karn, as on go-back-N
            else:
                self._go_back(pkt.psn)

    def _fail(self, error: str) -> None:
        """Enter the error state as an RC QP does: the NAKed request completes with the error,
        every later one is flushed (IBV_WC_WR_FLUSH_ERR), and so is anything posted later."""
        self.error = error
        for i, wr in enumerate(self._wrs):
            self.completions.append(Completion(wr.kind, wr.wr_id, error=error if i == 0 else f"flushed: {error}"))
        self._wrs.clear()
        self._repair.clear()
        self._tx_wr = 0
        self.deadline_ns = None

    # ---- responder -------------------------------------------------------------------
    def receive(self, pkt: f.RocePacket, now: int) -> list[f.RocePacket]:
        """Handle a packet for this QP; return the ACK/NAKs to send back."""
        op = pkt.opcode
        if op == f.ACKNOWLEDGE:
            self._on_ack(pkt, now)
            return []
        if op not in f.REQUESTS:
            return []
        d = (pkt.psn - self._epsn) & PSN_MASK  # psn_diff(pkt.psn, epsn), written out
        if d >= PSN_HALF:
            d -= 1 << 24
        if d == 0:  # the expected packet (and whatever it completes from the stash)
            return self._in_order(pkt)
        if d < 0:
            self.counters.duplicates += 1
            return [self._ack()] if pkt.ackreq else []
        if d >= self.cfg.accept_window:  # the requester never sends this far ahead: forged or corrupt
            self.counters.beyond_window += 1
            return []
        self.counters.out_of_order += 1  # ahead of the expected PSN, within the window
        if self.cfg.mode == "ooo":
            if pkt.psn in self._stash:
                self.counters.duplicates += 1
            else:
                self._stash[pkt.psn] = pkt
            if d < self.cfg.ooo_nak_gap or self._nak_sent:
                return []
        elif self._nak_sent:
            return []
        self._nak_sent = True
        self.counters.naks_sent += 1
        return [f.RocePacket(f.ACKNOWLEDGE, self.peer_qpn, self._epsn, syndrome=f.AETH_NAK_PSN_SEQ,
                             msn=self._msn)]

    def _in_order(self, pkt: f.RocePacket) -> list[f.RocePacket]:
        """Place the expected packet and every stashed one it makes in order; ACK if asked."""
        want_ack = False
        stash = self._stash
        while pkt is not None:
            if not self._place(pkt):
                self.counters.access_errors += 1
                stash.clear()
                return [f.RocePacket(f.ACKNOWLEDGE, self.peer_qpn, self._epsn,
                                     syndrome=f.AETH_NAK_REMOTE_ACCESS, msn=self._msn)]
            want_ack |= pkt.ackreq
            self._epsn = (self._epsn + 1) & PSN_MASK
            pkt = stash.pop(self._epsn, None) if stash else None
        self._nak_sent = False
        return [self._ack()] if want_ack else []

    def _ack(self) -> f.RocePacket:
        self.counters.acks_sent += 1
        return f.RocePacket(f.ACKNOWLEDGE, self.peer_qpn, (self._epsn - 1) & PSN_MASK, b"", False, False, False,
                            f.DEFAULT_PKEY, 0, 0, 0, f.AETH_ACK, self._msn)

    def _place(self, pkt: f.RocePacket) -> bool:
        """Deliver an in-order request packet to memory or the receive queue."""
        op, inb, payload = pkt.opcode, self._inbound, pkt.payload
        if op in f.FIRST_OR_ONLY:
            inb = self._inbound = _Inbound(pkt.rkey, pkt.va, pkt.dma_len)
        if op in f.SENDS:
            inb.parts.append(payload)
        else:
            mem = self.regions.get(inb.rkey)
            n = len(payload)
            written = inb.written
            start = inb.va + written
            end = start + n
            if mem is None or end > len(mem) or written + n > inb.length:
                return False
            mem[start:end] = payload
            inb.written = written + n
        if op in f.LAST_OR_ONLY:
            self._msn = (self._msn + 1) & MSN_MASK
            if op in f.SENDS:
                self.completions.append(Completion("recv", data=b"".join(inb.parts), imm=pkt.imm))
            elif pkt.imm is not None:
                mem = self.regions[inb.rkey]
                self.completions.append(Completion("write_imm", data=bytes(mem[inb.va:inb.va + inb.written]),
                                                   imm=pkt.imm, va=inb.va))
        return True


def _opcode(write: bool, first: bool, last: bool, imm: bool) -> int:
    if write:
        if first and last:
            return f.WRITE_ONLY_IMM if imm else f.WRITE_ONLY
        if first:
            return f.WRITE_FIRST
        return (f.WRITE_LAST_IMM if imm else f.WRITE_LAST) if last else f.WRITE_MIDDLE
    if first and last:
        return f.SEND_ONLY_IMM if imm else f.SEND_ONLY
    if first:
        return f.SEND_FIRST
    return (f.SEND_LAST_IMM if imm else f.SEND_LAST) if last else f.SEND_MIDDLE
