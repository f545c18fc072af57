"""One distance of scale_across in virtual time: a fresh fabric with the border role on, every
case in turn, and in each site a probe measuring intra-site latency while the collective runs.

A probe is a host on the site's first leaf sending a `probe_bytes` RDMA WRITE to the probe
host on the site's last leaf every `probe_interval_us` from the start of each collective to
its end (through the spine, like the ring's intra-site hops; at most `probe_max_ms`, which
only a hung collective reaches); each WRITE's completion time (post to ACK) is one sample,
so the p99 says what cross-site traffic does to a site over the whole collective. WRITEs
still in flight when the collective ends are not counted (nor in the next case). The idle
reference is `probe_count` WRITEs per site on the fabric before the first case.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from controller.fabric_plan import BorderPolicy, FabricConfig
from experiments.report import nearest_rank
from experiments.scale_across.params import Params, probe_hosts, rank_hosts, spec_for, stack_for, topology
from fabriclab.roce.nic import RoceNic
from fabriclab.vtime.fabric import Fabric, FabricOptions

PROBE_RKEY, PROBE_QPN = 0x7E, 0x7E00


@dataclass
class Probe:
    """One site's prober (an App on its host: `service` takes completions).

    Each `start()` begins a new generation: the previous generation's pending post (an event
    still in the fabric's heap) does nothing when it fires, and a WRITE of an older
    generation that completes later is not a sample, so a case measures one stream, its own.
    After `stop()` the current generation's WRITEs in flight still count when they complete
    (`_idle_latency` runs the fabric on for them); a case's end stops the posts at once."""

    fabric: Fabric
    host: str
    nic: RoceNic
    qpn: int
    size: int
    interval_ns: int
    active: bool = False
    samples: list[int] = field(default_factory=list)
    _posted: dict[int, tuple[int, int]] = field(default_factory=dict)  # wr_id -> (generation, posted at)
    _next_id: int = 0
    _left: int = 0
    generation: int = 0
    done: bool = True  # never holds a run open

    def start(self, limit: int) -> None:
        """Post a WRITE now and every interval after, `limit` in all or until `stop()`."""
        self.generation += 1
        self.active = True
        self.samples = []
        self._left = limit
        self._post(self.generation)

    def stop(self) -> None:
        self.active = False

    def _post(self, generation: int) -> None:
        if generation != self.generation or not self.active or self._left <= 0:
            return
        self._left -= 1
        self._next_id += 1
        self._posted[self._next_id] = (generation, self.fabric.now)
        self.nic.qp(self.qpn).post_write(self._next_id, bytes(self.size), 0, PROBE_RKEY)
        self.fabric.endpoint(self.host).kick()
        self.fabric.at(self.fabric.now + self.interval_ns, self._post, generation)

    def service(self, now: int) -> None:
        completions: deque = self.nic.completions
        while completions:
            _, c = completions.popleft()
            posted = self._posted.pop(c.wr_id, None) if c.kind == "write" else None
            if posted is not None and posted[0] == self.generation and c.error is None:
                self.samples.append(now - posted[1])


def probes(p: Params, fabric: Fabric) -> list[Probe]:
    """Attach a prober and its target in every site (none without probe hosts)."""
    out = []
    stack = stack_for(p, "baseline")
    for i, (src, dst) in enumerate(probe_hosts(p, fabric.topo)):
        a = RoceNic(stack.nic_config(fabric.endpoint(src).ip))
        b = RoceNic(stack.nic_config(fabric.endpoint(dst).ip))
        b.register(PROBE_RKEY, p.probe_bytes)
        qpn = PROBE_QPN + i
        a.connect(qpn, b.cfg.ip, qpn + 0x80)
        b.connect(qpn + 0x80, a.cfg.ip, qpn)
        probe = Probe(fabric, src, a, qpn, p.probe_bytes, round(p.probe_interval_us * 1000))
        fabric.endpoint(src).attach(a, probe)
        fabric.endpoint(dst).attach(b)
        out.append(probe)
    return out


def percentile(values: list[int], q: float) -> float | None:
    """The q-th percentile (nearest rank) of samples in ns, in us; None without samples."""
    v = nearest_rank(values, q)
    return None if v is None else v / 1000


def run_distance(p: Params, km: float, cases: list[dict[str, Any]], progress: Callable[[str], None]
                 ) -> list[dict[str, Any]]:
    """Every case at `km` on one fresh fabric: one record per case."""
    from fabriclab.vtime.runs import run_collective

    fabric = Fabric(topology(p, km), FabricOptions(config=FabricConfig(border=BorderPolicy(frame_bytes=p.pmtu + 100))))
    hosts = rank_hosts(p, fabric.topo)
    probers = probes(p, fabric) if p.probe else []
    idle = _idle_latency(fabric, probers, p.probe_count)
    longest = max(1, round(p.probe_max_ms * 1000 / p.probe_interval_us))
    records = []
    for case in cases:
        started, packets, t0 = time.monotonic(), fabric.loop.packets, fabric.now
        cnps = fabric.controller.border_notifications()
        for probe in probers:
            probe.start(longest)
        ranks = run_collective(fabric.topo, spec_for(p, case["kind"], case["scheme"]),
                               stack_for(p, case["scheme"]), case["seed"], fabric=fabric, hosts=hosts,
                               limit_ns=round(p.timeout_s * 1e9))
        for probe in probers:
            probe.stop()
        samples = [s for probe in probers for s in probe.samples]
        records.append({"case": case, "ranks": ranks, "wall_s": time.monotonic() - started,
                        "sim_ms": (fabric.now - t0) / 1e6, "packets": fabric.loop.packets - packets,
                        "probe_p50_us": percentile(samples, 50), "probe_p99_us": percentile(samples, 99),
                        "probe_idle_p99_us": idle, "probes": len(samples),
                        "border_cnps": fabric.controller.border_notifications() - cnps})
    return records


def _idle_latency(fabric: Fabric, probers: list[Probe], count: int) -> float | None:
    """The probes' p99 on the idle fabric (`count` each): the reference for the loaded one."""
    if not probers:
        return None
    for probe in probers:
        probe.start(count)
    fabric.run(until_ns=fabric.now + count * probers[0].interval_ns)
    for probe in probers:
        probe.stop()
    fabric.run(until_ns=fabric.now + 10 * probers[0].interval_ns)  # the last ones complete
    return percentile([s for probe in probers for s in probe.samples], 99)
