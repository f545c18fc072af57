"""The traffic of one case, the same in both modes: which host sends what to whom, when, and
the app that does it on a host's NIC (in virtual time, or in a Mininet host's agent).

Two workloads on the leaf-spine of `params.topology` (hosts numbered in topology order):
- `incast`: the 7:1 incast into the first host of leaf 2, plus a victim flow from the last
  host of leaf 1 to the second host of leaf 2 (it shares every upstream link, not the
  bottleneck). Every flow is long: it keeps RDMA WRITEs posted for the whole run.
- `mix`: `mix_long` long flows from the first hosts of leaf 1 into the same receiver, and
  short flows (sizes `short_sizes`, Poisson arrivals at `short_load` of the bottleneck)
  from the other hosts of leaf 1 to it: their flow completion times (FCT) measure what the
  queue the long flows leave costs a short message.

Each flow has a QP of its own (a short message does not wait behind a long one at its
sender). Times are ns on the NIC's clock, relative to the app's first service call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from experiments.congestion_control.params import Params
from fabriclab.errors import FabricError
from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.hpcc import HpccParams
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig, psn_diff

LONG_MESSAGE = 256 << 10  # bytes per RDMA WRITE of a long flow; the receiver's region is overwritten in turn
SRC_QPN, DST_QPN, RKEY_BASE = 0x1000, 0x2000, 0x100
DATA_PRIORITY = 0  # fabric.p4's traffic classes leave RoCE data in queue 0
CC_OF_SCHEME = {"none": "none", "pfc": "none", "dcqcn_pfc": "dcqcn", "dcqcn_pfc_ccm": "dcqcn", "hpcc": "hpcc"}


@dataclass(frozen=True)
class Flow:
    """Flow `index` from host `src` to host `dst`: long (size None) or one message of `size`
    bytes posted at `start_ns`."""

    index: int
    src: int
    dst: int
    size: int | None = None
    start_ns: int = 0

    @property
    def long(self) -> bool:
        return self.size is None


def roles(p: Params) -> tuple[list[int], int, int, int]:
    """(incast senders, receiver, victim source, victim receiver) as host indices."""
    per_leaf = p.senders + 1
    return list(range(p.senders)), per_leaf, per_leaf - 1, per_leaf + 1


def plan_flows(p: Params, workload: str, seed: int) -> list[Flow]:
    senders, receiver, victim_src, victim_dst = roles(p)
    if workload == "incast":
        return [Flow(i, s, receiver) for i, s in enumerate(senders)] + [Flow(len(senders), victim_src, victim_dst)]
    if workload != "mix":
        raise FabricError(f"unknown workload {workload!r}")
    hosts = [*senders, victim_src]
    flows = [Flow(i, s, receiver) for i, s in enumerate(hosts[:p.mix_long])]
    short = hosts[p.mix_long:]
    rng = random.Random(seed)
    mean = sum(p.short_sizes) / len(p.short_sizes)
    rate = p.short_load * p.link_gbps * 1e9 / 8 / mean / 1e9  # short flows per ns, all sources
    t = 0.0
    end = p.duration_us * 1000 - p.short_tail_us * 1000  # the last ones have time to finish
    while True:
        t += rng.expovariate(rate)
        if t >= end:
            return flows
        flows.append(Flow(len(flows), rng.choice(short), receiver, rng.choice(p.short_sizes), round(t)))


def nic_config(p: Params, scheme: str, ip: str) -> NicConfig:
    """The NIC of every host under `scheme`: its congestion control, and PFC honoured
    wherever the switches are lossless."""
    rate = p.link_gbps * 1e9
    ack_every = 1 if scheme == "hpcc" else 8  # HPCC reacts per ACK: the paper ACKs every packet
    qp = QpConfig(pmtu=p.pmtu, window=p.window, ack_every=ack_every, rto_ns=p.rto_ns, max_rto_ns=10 * p.rto_ns)
    dcqcn = DcqcnParams(rate, cnp_interval_ns=p.cnp_interval_ns, alpha_timer_ns=p.dcqcn_timer_ns,
                        increase_timer_ns=p.dcqcn_timer_ns, rate_ai=p.dcqcn_rate_ai, rate_hai=10 * p.dcqcn_rate_ai,
                        min_rate=rate / 1000)  # the default floor (40 Mb/s) is above an emulated link
    return NicConfig(ip, line_rate=rate, qp=qp, dcqcn=dcqcn, burst=p.burst_bytes,
                     hpcc=HpccParams(rate, p.base_rtt_ns, max_stage=p.hpcc_max_stage,
                                     expected_flows=p.hpcc_expected_flows,
                                     min_interval_ns=p.hpcc_min_interval_ns),
                     cc=CC_OF_SCHEME[scheme], pfc_priority=None if scheme == "none" else DATA_PRIORITY,
                     int_host_clock=p.hpcc_host_clock)


@dataclass
class FlowApp:
    """One host's part of a case: it sends its flows and receives the ones for it. Long
    flows keep two WRITEs posted until `end_ns`; their acknowledged bytes, and the NIC's
    counters, are read at the first service call after `warmup_ns` and after `end_ns`
    (goodput and counts over that window). A short flow's FCT runs from its post to its
    completion."""

    nic: RoceNic
    me: int
    peers: list[tuple[str, int]]
    flows: list[Flow]
    warmup_ns: int
    end_ns: int
    pmtu: int
    sport_seed: int = 0
    start: int | None = None
    marks: dict[str, tuple[int, list[int]]] = field(default_factory=dict)
    counts: dict[str, dict[str, float]] = field(default_factory=dict)  # mark -> the NIC's counters then
    posted: dict[int, int] = field(default_factory=dict)  # short flow -> post time
    fct_ns: dict[int, int] = field(default_factory=dict)
    error: str | None = None

    def __post_init__(self) -> None:
        self.sending = [f for f in self.flows if f.src == self.me]
        self.waiting = sorted((f for f in self.sending if not f.long), key=lambda f: f.start_ns)
        self.long = [f for f in self.sending if f.long]
        self._writes = dict.fromkeys((f.index for f in self.long), 0)
        self._open = dict.fromkeys((f.index for f in self.long), 0)  # posted, not yet completed
        for f in self.flows:
            if f.dst == self.me:
                self.nic.register(RKEY_BASE + f.index, f.size or LONG_MESSAGE)
                ip, port = self.peers[f.src]
                self.nic.connect(DST_QPN + f.index, ip, SRC_QPN + f.index, port)
            elif f.src == self.me:
                ip, port = self.peers[f.dst]
                sport = 49152 + (self.sport_seed * 7919 + f.index * 104729) % 16384
                self.nic.connect(SRC_QPN + f.index, ip, DST_QPN + f.index, port, sport=sport)

    @property
    def done(self) -> bool:
        return self.error is not None or "end" in self.marks

    def service(self, now: int) -> None:
        if self.start is None:
            self.start = now
        t = now - self.start
        while self.waiting and self.waiting[0].start_ns <= t:
            f = self.waiting.pop(0)
            self.nic.qp(SRC_QPN + f.index).post_write(f.index, bytes(f.size or 0), 0, RKEY_BASE + f.index)
            self.posted[f.index] = now
        if t < self.end_ns:
            for f in self.long:
                while self._open[f.index] < 2:
                    self._writes[f.index] += 1
                    self._open[f.index] += 1
                    self.nic.qp(SRC_QPN + f.index).post_write(self._writes[f.index], bytes(LONG_MESSAGE), 0,
                                                              RKEY_BASE + f.index)
        while self.nic.completions:
            qpn, c = self.nic.completions.popleft()
            index = qpn - SRC_QPN
            if c.error:
                self.error = self.error or f"host {self.me}: QP {qpn:#x}: {c.error}"
            elif index in self._open:
                self._open[index] -= 1
            elif index in self.posted and index not in self.fct_ns:
                self.fct_ns[index] = now - self.posted[index]
        for name, at in (("warmup", self.warmup_ns), ("end", self.end_ns)):
            if name not in self.marks and t >= at:
                self.marks[name] = (now, [self.nic.qp(SRC_QPN + f.index).una for f in self.long])
                self.counts[name] = self._counts(now)

    def _counts(self, now: int) -> dict[str, float]:
        """Retransmissions, the NIC's counters and the time PFC held it, as of `now`."""
        hold = self.nic.link_pause.holds.get(DATA_PRIORITY)
        return {"retransmissions": self.nic.qp_counters().get("retransmissions", 0), **vars(self.nic.counters),
                "host_paused_us": hold.total_ns(now) / 1000 if hold else 0.0}

    def summary(self) -> dict[str, Any]:
        """Goodput of each long flow over [warmup, end], each short flow's FCT (None if it
        did not finish), the NIC's counters and PFC holds over the whole run, and over
        [warmup, end] in `window` (None without both marks)."""
        goodput = {}
        if "warmup" in self.marks and "end" in self.marks:
            (t0, a), (t1, b) = self.marks["warmup"], self.marks["end"]
            goodput = {f.index: psn_diff(y, x) * self.pmtu * 8 / ((t1 - t0) / 1e9) for f, x, y in zip(self.long, a, b)}
        hold = self.nic.link_pause.holds.get(DATA_PRIORITY)
        return {"host": self.me, "error": self.error, "goodput_bps": {str(k): v for k, v in goodput.items()},
                "fct_ns": {str(f.index): self.fct_ns.get(f.index) for f in self.sending if not f.long},
                "retransmissions": self.nic.qp_counters().get("retransmissions", 0),
                "host_paused_us": hold.total_ns(self.start + self.end_ns if self.start is not None else 0) / 1000
                if hold else 0.0,
                "nic": dict(vars(self.nic.counters)),
                "window": {k: v - self.counts["warmup"].get(k, 0) for k, v in self.counts["end"].items()}
                if "warmup" in self.counts and "end" in self.counts else None}
