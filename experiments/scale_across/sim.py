"""One distance of scale_across in virtual time: a fresh fabric with the border role on, every
case in turn, and in each site a probe measuring intra-site latency while the collective runs.

A probe is a host on the site's first leaf sending a `probe_bytes` RDMA WRITE to the probe
host on the site's last leaf every `probe_interval_us`, `probe_count` times from the start
of each collective (through the spine, like the ring's intra-site hops); each WRITE's
completion time (post to ACK) is one sample, so the p99 says what cross-site traffic does
to a site while it starts (a far collective outlasts the probes: its first windows are the
burst).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from controller.fabric_plan import BorderPolicy, FabricConfig
from experiments.scale_across.params import Params, probe_hosts, rank_hosts, spec_for, stack_for, topology
from fabriclab.roce.nic import RoceNic
from fabriclab.vtime.fabric import Fabric, FabricOptions

PROBE_RKEY, PROBE_QPN = 0x7E, 0x7E00


@dataclass
class Probe:
    """One site's prober (an App on its host: `service` takes completions)."""

    fabric: Fabric
    host: str
    nic: RoceNic
    qpn: int
    size: int
    interval_ns: int
    limit: int  # WRITEs per case: the probe covers the collective's first limit x interval
    active: bool = False
    samples: list[int] = field(default_factory=list)
    _posted: dict[int, int] = field(default_factory=dict)
    _next_id: int = 0
    _left: int = 0
    done: bool = True  # never holds a run open

    def start(self) -> None:
        self.active = True
        self.samples = []
        self._left = self.limit
        self._post()

    def stop(self) -> None:
        self.active = False

    def _post(self) -> None:
        if not self.active or self._left <= 0:
            return
        self._left -= 1
        self._next_id += 1
        self._posted[self._next_id] = self.fabric.now
        self.nic.qp(self.qpn).post_write(self._next_id, bytes(self.size), 0, PROBE_RKEY)
        self.fabric.endpoint(self.host).kick()
        self.fabric.at(self.fabric.now + self.interval_ns, self._post)

    def service(self, now: int) -> None:
        completions: deque = self.nic.completions
        while completions:
            _, c = completions.popleft()
            sent = self._posted.pop(c.wr_id, None) if c.kind == "write" else None
            if sent is not None and c.error is None:
                self.samples.append(now - sent)


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
        probe = Probe(fabric, src, a, qpn, p.probe_bytes, round(p.probe_interval_us * 1000), p.probe_count)
        fabric.endpoint(src).attach(a, probe)
        fabric.endpoint(dst).attach(b)
        out.append(probe)
    return out


def percentile(values: list[int], q: float) -> float | None:
    """The q-th percentile (nearest rank) in us, None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] / 1000


def run_distance(p: Params, km: float, cases: list[dict[str, Any]], progress: Callable[[str], None]
                 ) -> list[dict[str, Any]]:
    """Every case at `km` on one fresh fabric: one record per case."""
    from fabriclab.vtime.runs import run_collective

    fabric = Fabric(topology(p, km), FabricOptions(config=FabricConfig(border=BorderPolicy(frame_bytes=p.pmtu + 100))))
    hosts = rank_hosts(p, fabric.topo)
    probers = probes(p, fabric) if p.probe else []
    idle = _idle_latency(fabric, probers)
    records = []
    for case in cases:
        started, packets, t0 = time.monotonic(), fabric.loop.packets, fabric.now
        cnps = fabric.controller.border_notifications()
        for probe in probers:
            probe.start()
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


def _idle_latency(fabric: Fabric, probers: list[Probe]) -> float | None:
    """The probes' p99 on the idle fabric (`probe_count` each): the reference for the loaded one."""
    if not probers:
        return None
    for probe in probers:
        probe.start()
    fabric.run(until_ns=fabric.now + probers[0].limit * probers[0].interval_ns)
    for probe in probers:
        probe.stop()
    fabric.run(until_ns=fabric.now + 10 * probers[0].interval_ns)  # the last ones complete
    return percentile([s for probe in probers for s in probe.samples], 99)
