"""One host's RoCEv2 NIC as a sans-I/O engine: queue pairs, DCQCN, pacing and framing.

Drivers feed it datagrams (`receive`) and the clock (`poll`), and send whatever `poll`
returns; `next_wakeup` says when to call `poll` again. The clock is integer nanoseconds
everywhere in the engines (`now` arguments, `next_wakeup`, timers), on whatever origin the
driver chooses: `time.monotonic_ns()` over real UDP sockets (`driver.py`), the event clock
in virtual time. Rates are bit/s, sizes bytes. A `next_wakeup` at or before `now` means
"poll at once".

On the wire it behaves like a RoCEv2 NIC: data and ACKs leave from a UDP source port chosen
per QP (the fabric's ECMP entropy) to port 4791 with ECT(0); a CE-marked request packet
makes the notification point send a CNP back to the sending QP; ACK/NAK/CNP go ahead of
data; every departure is paced at line rate and each QP's data also at its DCQCN rate.

Congestion control is chosen per QP (`NicConfig.cc`, or `connect(cc=...)`): none, DCQCN
(CNPs), or HPCC. A data packet that arrives with fabric.p4's INT-to-the-receiver stack (UDP
port 9099) has it split off, and the stack is echoed as the payload of the ACKs it causes;
an HPCC sender feeds each echoed stack to its `HpccReactionPoint`, keeps at most its window
in flight and paces at W/T.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from fabriclab.errors import FabricError
from fabriclab.roce import framing as f
from fabriclab.roce.dcqcn import DcqcnParams, NotificationPoint, ReactionPoint
from fabriclab.roce.hpcc import HopTelemetry, HpccParams, HpccReactionPoint
from fabriclab.roce.pacer import Pacer
from fabriclab.roce.qp import Completion, QpConfig, QueuePair, psn_diff
from fabriclab.switch.pfc import Hold, LinkPause

ETH_HEADER = 14
WIRE_OVERHEAD = f.IP_UDP_LEN + ETH_HEADER  # what a UDP payload grows by on the wire
CC_SCHEMES = ("none", "dcqcn", "hpcc")
US_TO_NS = 1000  # fabric.p4's INT timestamps are in us (v1model's clock)


class App(Protocol):
    """What runs on a host above its NIC: drivers call `service` after every event."""

    def service(self, now: int) -> None: ...


@dataclass(frozen=True)
class NicConfig:
    ip: str
    port: int = f.ROCE_PORT  # where this NIC listens (the RoCEv2 destination port)
    line_rate: float = 100e6  # bit/s, counted on Ethernet frames
    qp: QpConfig = QpConfig()
    dcqcn: DcqcnParams | None = None  # DCQCN's parameters (and the NP's CNP interval)
    verify_icrc: bool = True
    burst: int = 3000  # bytes a late driver may send back to back to catch up with its pacers
    hpcc: HpccParams | None = None
    cc: str | None = None  # none | dcqcn | hpcc; None: hpcc/dcqcn if their parameters are set
    pfc_priority: int | None = None  # honour PFC pauses for the priority our data travels in
    # HPCC: time INT samples by the ACK's arrival (ns) instead of the switches' timestamps,
    # which v1model gives in us (too coarse for rates measured over a us-scale RTT)
    int_host_clock: bool = False
    # distance-adaptive HPCC: each QP's least measured RTT (QpConfig.adaptive) becomes its T
    # (`HpccReactionPoint.adapt`); DCQCN's timers are absolute and need no adapting (dcqcn.py)
    adaptive_cc: bool = False

    def __post_init__(self) -> None:
        if self.cc is not None and self.cc not in CC_SCHEMES:
            raise FabricError(f"congestion control must be one of {', '.join(CC_SCHEMES)}, not {self.cc!r}")
        if self.cc == "hpcc" and self.hpcc is None:
            raise FabricError("--cc hpcc needs HPCC parameters (the fabric's base RTT)")

    @property
    def default_cc(self) -> str:
        if self.cc is not None:
            return self.cc
        return "hpcc" if self.hpcc else "dcqcn" if self.dcqcn else "none"


class Datagram(NamedTuple):
    """A UDP datagram to transmit (the driver adds IP/UDP headers). A named tuple: one is
    built per packet sent."""

    sport: int
    dst_ip: str
    dst_port: int
    payload: bytes


@dataclass
class NicCounters:
    rx_packets: int = 0
    tx_packets: int = 0
    icrc_errors: int = 0
    malformed: int = 0
    unknown_qp: int = 0
    ce_marked: int = 0
    cnps_sent: int = 0
    cnps_received: int = 0
    int_received: int = 0  # data packets that carried an INT-to-the-receiver stack
    int_malformed: int = 0  # stacks (arriving or echoed) that could not be used
    int_echoed: int = 0  # ACKs that carried a stack back
    switch_cnps: int = 0  # CNPs a switch generated (fabric.p4's switch notification)


@dataclass
class _Connection:
    qp: QueuePair
    peer_ip: str
    peer_port: int
    sport: int
    pacer: Pacer
    rp: ReactionPoint | HpccReactionPoint | None
    control: deque[f.RocePacket] = field(default_factory=deque)
    echo: bytes = b""  # the last INT stack received, echoed in our next ACKs
    acked: int = 0  # requester: PSNs acknowledged so far, unwrapped (HPCC's sequence)
    pos: int = 0  # position in the NIC's connection order
    windowed: bool = False  # HPCC: a window of bytes in flight (`RoceNic._window_open`)


def source_port(qpn: int, salt: int = 0) -> int:
    """A deterministic per-QP UDP source port in 49152-65535."""
    return 49152 + ((qpn * 2654435761 + salt * 40503) & 0x3FFF)


class RoceNic:
    def __init__(self, config: NicConfig) -> None:
        self.cfg = config
        self.counters = NicCounters()
        self.regions: dict[int, bytearray] = {}
        self.completions: deque[tuple[int, Completion]] = deque()
        self._conns: dict[int, _Connection] = {}
        self._order: list[int] = []
        self._at: list[_Connection] = []  # the connection at each position of `_order`
        self._rr = itertools.count()
        # Connections that may have work (control to send, data, a timer, completions), as
        # positions in `_order`, sorted: poll/next_wakeup cost O(active), not O(QPs). A
        # connection leaves when quiescent and comes back on a packet for it or a post on it.
        self._pos: dict[int, int] = {}
        self._active: list[int] = []
        self._active_set: set[int] = set()
        self._control = 0  # ACK/NAK/CNPs queued over all connections (0: no scan for them)
        # next_wakeup as poll's last pass found it; None when something may have changed since
        # (a packet, a post, a pause): most drivers ask right after poll, with nothing between
        self._wakeup: tuple[int | None] | None = None
        self._by_peer: dict[tuple[str, int], _Connection] = {}
        self._pacer = Pacer(config.line_rate, config.burst)
        self._pfc = config.pfc_priority
        self.np = NotificationPoint(config.dcqcn) if config.dcqcn else None
        self.link_pause = LinkPause()  # PFC pauses from the switch (priority of our data)
        if config.pfc_priority is not None:
            self.link_pause.holds[config.pfc_priority] = Hold()

    def receive_mac_control(self, frame: bytes, now: int) -> bool:
        """An Ethernet frame the driver received: True if it was MAC control (PFC), which
        the NIC consumes; a pause holds our data (not ACKs/CNPs) until XON or its quanta."""
        self._wakeup = None
        return self.link_pause.receive(frame, now, self.cfg.line_rate)

    def _data_held_until(self, now: int) -> int | None:
        prio = self.cfg.pfc_priority
        hold = self.link_pause.holds.get(prio) if prio is not None else None
        return hold.until_ns if hold is not None and hold.until_ns > now else None

    def register(self, rkey: int, size: int) -> bytearray:
        """Register `size` bytes of memory that peers may RDMA WRITE with `rkey`."""
        mem = self.regions[rkey] = bytearray(size)
        return mem

    def connect(self, qpn: int, peer_ip: str, peer_qpn: int, peer_port: int = f.ROCE_PORT,
                sport: int | None = None, sq_psn: int | None = None, rq_psn: int | None = None,
                cc: str | None = None) -> QueuePair:
        """`cc` overrides the NIC's congestion control for this QP (none|dcqcn|hpcc)."""
        if qpn in self._conns:
            raise FabricError(f"QP {qpn:#x} already exists")
        qp = QueuePair(qpn, peer_qpn, self.cfg.qp, self.regions, sq_psn, rq_psn)
        rp = self._reaction_point(cc or self.cfg.default_cc)
        conn = _Connection(qp, peer_ip, peer_port, sport if sport is not None else source_port(qpn),
                           Pacer(self.cfg.line_rate, self.cfg.burst), rp, pos=len(self._order),
                           windowed=isinstance(rp, HpccReactionPoint))
        self._conns[qpn] = conn
        self._pos[qpn] = conn.pos
        self._order.append(qpn)
        self._at.append(conn)
        self._by_peer.setdefault((peer_ip, peer_qpn), conn)
        for name in ("post_write", "post_send"):  # a post wakes the connection
            setattr(qp, name, self._waking(qpn, getattr(qp, name)))
        self._wake(qpn)
        return qp

    def _waking(self, qpn: int, post):
        def waking_post(*args, **kwargs) -> None:
            post(*args, **kwargs)
            self._wake(qpn)
        return waking_post

    def _wake(self, qpn: int) -> None:
        self._wake_at(self._pos[qpn])

    def _wake_at(self, pos: int) -> None:
        self._wakeup = None
        if pos not in self._active_set:
            self._active_set.add(pos)
            bisect.insort(self._active, pos)

    def _settle(self) -> None:
        """Drop the connections with nothing to do until a packet or a post arrives, and
        note when `poll` has something to do next (`next_wakeup`, in the same pass): the
        earliest timer, the NIC's pacer for queued ACK/NAK/CNPs, and for data the later of
        both pacers and a PFC hold."""
        keep = []
        at, active_set = self._at, self._active_set
        best = None
        nic_next = self._pacer.next_ns
        held = (self._data_held_until(nic_next) if self._pfc is not None else None) or 0
        for pos in self._active:
            conn = at[pos]
            qp, rp = conn.qp, conn.rp
            dl, sendable = qp.deadline_ns, qp.can_send()
            rdl = rp.deadline() if rp is not None else None
            if not (conn.control or qp.completions or dl is not None or sendable or rdl is not None):
                active_set.discard(pos)
                continue
            keep.append(pos)
            if dl is not None and (best is None or dl < best):
                best = dl
            if rdl is not None and (best is None or rdl < best):
                best = rdl
            if conn.control:
                t = nic_next
            elif sendable and (not conn.windowed or self._window_open(conn)):
                t = max(nic_next, conn.pacer.next_ns, held)
            else:
                continue
            if best is None or t < best:
                best = t
        if len(keep) != len(self._active):
            self._active = keep
        self._wakeup = (best,)

    def _reaction_point(self, cc: str) -> ReactionPoint | HpccReactionPoint | None:
        cfg = self.cfg
        if cc not in CC_SCHEMES:
            raise FabricError(f"congestion control must be one of {', '.join(CC_SCHEMES)}, not {cc!r}")
        if cc == "hpcc":
            if cfg.hpcc is None:
                raise FabricError("HPCC needs HpccParams in the NIC's configuration")
            return HpccReactionPoint(cfg.hpcc)
        if cc == "dcqcn":
            return ReactionPoint(cfg.dcqcn or DcqcnParams(cfg.line_rate))
        return None

    def qp(self, qpn: int) -> QueuePair:
        return self._conns[qpn].qp

    def rate(self, qpn: int) -> float:
        """The QP's current sending rate (its DCQCN R_C, or line rate)."""
        rp = self._conns[qpn].rp
        return rp.rate if rp else self.cfg.line_rate

    def reaction_point(self, qpn: int) -> ReactionPoint | HpccReactionPoint | None:
        return self._conns[qpn].rp

    def set_sport(self, qpn: int, sport: int) -> None:
        """Move a QP to another UDP source port (the driver found its port taken)."""
        self._conns[qpn].sport = sport

    @property
    def sports(self) -> dict[int, int]:
        return {qpn: c.sport for qpn, c in self._conns.items()}

    # ---- input -----------------------------------------------------------------------
    def receive(self, payload: bytes, src_ip: str, src_port: int, ce: bool, now: int,
                dst_port: int | None = None) -> None:
        """A datagram arrived on our RoCE port (or, `dst_port` INT_UDP_PORT, with an INT stack
        in front of the BTH); `ce` is whether its IP ECN field was CE."""
        self.counters.rx_packets += 1
        self._wakeup = None
        stack = None
        if dst_port == f.INT_UDP_PORT:
            try:
                stack, payload = f.split_int(payload)
            except FabricError:
                self.counters.int_malformed += 1
                return
        from_switch = f.is_switch_cnp(payload)
        cfg = self.cfg
        try:
            pkt = f.unframe(payload, src_ip, cfg.ip, src_port, stack.orig_port if stack else cfg.port,
                            cfg.verify_icrc and not from_switch)
        except FabricError as err:  # a host never dies on a packet
            bad_crc = "ICRC" in str(err)
            self.counters.icrc_errors += bad_crc
            self.counters.malformed += not bad_crc
            return
        conn = self._switch_cnp_target(pkt, src_ip) if from_switch else self._conns.get(pkt.dqpn)
        if conn is None:
            self.counters.unknown_qp += 1
            return
        op, counters = pkt.opcode, self.counters
        if op == f.CNP:
            self._wake_at(conn.pos)
            counters.cnps_received += 1
            if conn.rp:
                conn.rp.on_cnp(now)
            return
        qp = conn.qp
        request = op in f.REQUESTS
        if ce and request:
            counters.ce_marked += 1
            if self.np and self.np.on_ce(pkt.dqpn, now):
                counters.cnps_sent += 1
                conn.control.append(f.RocePacket(f.CNP, qp.peer_qpn, 0, becn=True))
                self._control += 1
        if stack is not None and request:
            counters.int_received += 1
            conn.echo = stack.raw
        una = qp.una if op == f.ACKNOWLEDGE else 0
        replies = qp.receive(pkt, now)
        if replies:
            if conn.echo:
                for reply in replies:
                    if reply.opcode == f.ACKNOWLEDGE:
                        reply.payload = conn.echo
                        counters.int_echoed += 1
            conn.control.extend(replies)
            self._control += len(replies)
        if op == f.ACKNOWLEDGE:
            conn.acked += max(0, psn_diff(qp.una, una))
            if conn.windowed:  # HPCC
                if self.cfg.adaptive_cc and qp.rtt.min_rtt_ns is not None:
                    conn.rp.adapt(qp.rtt.min_rtt_ns)  # T: the path's propagation RTT
                self._on_echo(conn, pkt.payload, now)
        # A request changes only the responder: the connection has work for poll if it now
        # owes an ACK/NAK/CNP or completed a message; otherwise it stays as it was (an idle
        # one stays out of poll's scans). Anything else (an ACK) may free the requester.
        if not request or conn.control or qp.completions:
            self._wake_at(conn.pos)
        if qp.completions:
            self._collect(pkt.dqpn, qp)

    def _switch_cnp_target(self, pkt: f.RocePacket, src_ip: str) -> _Connection | None:
        """A switch's CNP names the QP its data went to (the peer's): find ours."""
        self.counters.switch_cnps += 1
        return self._by_peer.get((src_ip, pkt.dqpn))

    def _on_echo(self, conn: _Connection, echo: bytes, now: int) -> None:
        """Feed the INT stack an ACK echoed to HPCC (an ACK without one counts as such there)."""
        hops: list[HopTelemetry] = []
        declared = None
        if echo:
            try:
                stack = f.parse_int(echo)
            except FabricError:
                self.counters.int_malformed += 1
                return
            declared = stack.declared
            host_ts = now & 0xFFFFFFFF if self.cfg.int_host_clock else None
            hops = [HopTelemetry(r["switchId"], r["egressPort"], r["qlenBytes"], r["txBytes"],
                                 host_ts if host_ts is not None else (r["egressTs"] * US_TO_NS) & 0xFFFFFFFF,
                                 r["rateMbps"] * 10**6)
                    for r in stack.records]
        conn.rp.on_ack(now, conn.acked, conn.acked + conn.qp.outstanding, hops, declared)

    def _collect(self, qpn: int, qp: QueuePair) -> None:
        while qp.completions:
            self.completions.append((qpn, qp.completions.popleft()))

    # ---- output ----------------------------------------------------------------------
    def poll(self, now: int) -> list[Datagram]:
        """Run due timers and return the datagrams the pacers allow at `now`."""
        at = self._at
        for pos in self._active:
            conn = at[pos]
            qp, rp = conn.qp, conn.rp
            if qp.completions:  # e.g. flushed at post time by a QP in the error state
                self._collect(qp.qpn, qp)
            dl = qp.deadline_ns
            if dl is not None and dl <= now:
                qp.on_timer(now)
            if rp:
                dl = rp.deadline()
                if dl is not None and dl <= now:
                    rp.on_timer(now)
        out: list[Datagram] = []
        pacer = self._pacer
        if now < pacer.next_ns:  # the NIC's pacer holds everything
            self._settle()
            return out
        ip, requests, frame_of = self.cfg.ip, f.REQUESTS, f.frame
        while now >= pacer.next_ns:
            item = (self._control and self._next_control()) or self._next_data(now)
            if item is None:
                break
            conn, pkt = item
            frame = frame_of(pkt, ip, conn.peer_ip, conn.sport, conn.peer_port)
            wire = len(frame) + WIRE_OVERHEAD
            pacer.sent(wire, now)
            if pkt.opcode in requests:
                rp = conn.rp
                conn.pacer.sent(wire, now, rp.rate if rp else None)
                if rp:
                    rp.on_sent(wire, now)
            out.append(Datagram(conn.sport, conn.peer_ip, conn.peer_port, frame))
        if out:
            self.counters.tx_packets += len(out)
        self._settle()
        return out

    def _next_control(self) -> tuple[_Connection, f.RocePacket] | None:
        at = self._at
        for pos in self._active:
            conn = at[pos]
            if conn.control:
                self._control -= 1
                return conn, conn.control.popleft()
        return None

    def _next_data(self, now: int) -> tuple[_Connection, f.RocePacket] | None:
        if self._pfc is not None and self._data_held_until(now) is not None:
            return None
        start = next(self._rr)
        active = self._active  # round robin from position start % n over the active ones
        if not active:
            return None
        at = self._at
        cut = bisect.bisect_left(active, start % len(self._order))
        for k in range(cut - len(active), cut):  # active[cut:] then active[:cut]
            conn = at[active[k]]
            if now >= conn.pacer.next_ns and (not conn.windowed or self._window_open(conn)):
                pkt = conn.qp.next_packet(now)  # None when the QP has nothing it may send
                if pkt is not None:
                    if conn.windowed and not conn.rp.can_send(conn.qp.in_flight * self.cfg.qp.pmtu):
                        conn.qp.request_ack(pkt, now)  # the window is full: its ACK reopens it
                    return conn, pkt
        return None

    def _window_open(self, conn: _Connection) -> bool:
        """HPCC's window: bytes in flight (packets in flight at the path MTU) below W; or no
        packet in flight asked for an ACK. An ACK may shrink W below what is in flight when
        the newest packets asked for none (AckReq every Nth): no ACK would come and no timer
        run. One packet then goes, asking for the ACK that reopens the window."""
        if not conn.windowed:
            return True
        qp = conn.qp
        return conn.rp.can_send(qp.in_flight * self.cfg.qp.pmtu) or not qp.awaiting_ack()

    def next_wakeup(self) -> int | None:
        """The earliest time `poll` has something to do (a timer or a paced departure): as
        poll's last pass noted it, or from a new pass when something happened since."""
        if self._wakeup is None:
            self._settle()  # dropping quiescent connections changes no answer of poll's
        return self._wakeup[0]

    def dcqcn_summary(self) -> dict[str, float]:
        """CNPs received and the lowest/current rates over this NIC's QPs (empty without DCQCN)."""
        rps = [c.rp for c in self._conns.values() if isinstance(c.rp, ReactionPoint)]
        if not rps:
            return {}
        return {"cnps_received": sum(rp.cnps for rp in rps), "lowest_rate": min(rp.lowest for rp in rps),
                "rate": min(rp.rate for rp in rps)}

    def qp_counters(self) -> dict[str, int]:
        """Counters summed over this NIC's queue pairs."""
        total: dict[str, int] = {}
        for conn in self._conns.values():
            for k, v in vars(conn.qp.counters).items():
                total[k] = total.get(k, 0) + v
        return total
