"""Tenants: who shares the fabric, and what each is guaranteed (docs/tenants.md).

A tenant (`topologies.graph.Tenant`) is a named set of hosts, declared in the topology or
added to a running net with `fabriclab ctl tenant`. On the wire a tenant is its hosts' source addresses (one
/32 per NIC): addresses are fixed by the fabric's addressing, whereas a DSCP can be set by
any application, so a noisy tenant cannot escape its meter by re-marking.

Per tenant, every switch (p4src/fabric/tenants.p4) holds:
- `tenant_classify`: source /32 -> (tenant id, queue);
- the `tenant_bytes` meter at the tenant's id: trTCM with CIR = the guaranteed share and
  PIR = the cap (bytes/s), bursts of `burst_us` at those rates (at least one frame);
- `tenant_policy`: YELLOW (above the guarantee, below the cap) is remarked to the best-effort
  DSCP 0 but stays in the tenant's queue; RED (above the cap) is dropped. Moving YELLOW to a
  lower queue would let the same flow's GREEN packets overtake it, and a RoCE go-back-N
  receiver pays a retransmission for every such reordering (experiments/isolation measured
  3.6x less throughput for the metered tenant, thousands of retransmissions instead of 0).
Each switch meters the tenant's aggregate through it, so the cap holds on every link.

`plan_tenants` is the sans-I/O core (validation, entries, meter rates); `TenantInstaller`
writes a plan to P4Runtime clients and removes it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from finsy.proto import p4r

from controller.client import Entry, P4RuntimeClient
from fabriclab.errors import FabricError
from topologies.addressing import Addressing
from topologies.graph import Tenant, Topology
from topologies.graph import check_tenants as graph_check_tenants

IG = "FabricIngress"
TENANT_SLOTS = 64  # tenants.p4: meter and counter size (id 0 = no tenant)
BYTES_METER = f"{IG}.tenants.tenant_bytes"
COLORS_COUNTER = f"{IG}.tenants.tenant_colors"
YELLOW, RED = 1, 2
BEST_EFFORT_DSCP = 0
MIN_BURST_BYTES = 1500


def meter_rates(t: Tenant) -> tuple[int, int, int, int]:
    """(CIR, CBS, PIR, PBS) of a tenant's bytes meter, in bytes/s and bytes."""
    cir, pir = int(t.guaranteed_bps / 8), int(t.cap_bps / 8)
    burst = lambda rate: max(MIN_BURST_BYTES, rate * t.burst_us // 1_000_000)  # noqa: E731
    return cir, burst(cir), pir, burst(pir)


@dataclass(frozen=True)
class TenantPlan:
    """What every switch gets: ids by tenant name and the entries."""

    ids: dict[str, int]
    classify: list[Entry] = field(default_factory=list)
    policy: list[Entry] = field(default_factory=list)
    meters: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)


def check_tenants(topo: Topology, tenants: Iterable[Tenant]) -> list[Tenant]:
    """The tenants (topologies.graph.check_tenants), or a one-line FabricError; also no
    more than fabric.p4 has meter slots for."""
    tenants = graph_check_tenants(topo, tenants)
    if len(tenants) >= TENANT_SLOTS:
        raise FabricError(f"{len(tenants)} tenants: fabric.p4 holds {TENANT_SLOTS - 1}")
    return tenants


def effective_tenants(topo: Topology, added: Iterable[Tenant] = ()) -> list[Tenant]:
    """What the controller installs: the topology's tenants, then `added` (the ones
    `ctl tenant` keeps for a run), checked together (a host in both is an overlap)."""
    return check_tenants(topo, [*topo.tenants.values(), *added])


def plan_tenants(topo: Topology, tenants: Iterable[Tenant]) -> TenantPlan:
    tenants = check_tenants(topo, tenants)
    addressing = Addressing(topo)
    plan = TenantPlan(ids={t.name: i for i, t in enumerate(tenants, start=1)})
    for t in tenants:
        tid = plan.ids[t.name]
        for h in t.hosts:
            for nic in addressing.host_nics(h):
                plan.classify.append(Entry(f"{IG}.tenants.tenant_classify",
                                           {"hdr.ipv4.srcAddr": f"{nic.ip.ip}/32"},
                                           f"{IG}.tenants.set_tenant",
                                           {"tenant": tid, "priority": t.queue}))
        plan.policy.append(Entry(f"{IG}.tenants.tenant_policy",
                                 {"meta.tenant": tid, "meta.tenantColor": YELLOW},
                                 f"{IG}.tenants.tenant_remark",
                                 {"dscp": BEST_EFFORT_DSCP, "priority": t.queue}))
        plan.policy.append(Entry(f"{IG}.tenants.tenant_policy",
                                 {"meta.tenant": tid, "meta.tenantColor": RED},
                                 f"{IG}.tenants.tenant_drop", {}))
        plan.meters[tid] = meter_rates(t)
    return plan


def meter_entity(c: P4RuntimeClient, index: int,
                 rates: tuple[int, int, int, int] | None) -> p4r.Entity:
    """A MeterEntry for the tenant bytes meter; no rates = back to unconfigured (GREEN)."""
    entry = p4r.MeterEntry(meter_id=c._p4().id("meters", BYTES_METER), index=p4r.Index(index=index))
    if rates is not None:
        cir, cburst, pir, pburst = rates
        entry.config.CopyFrom(p4r.MeterConfig(cir=cir, cburst=cburst, pir=pir, pburst=pburst))
    return p4r.Entity(meter_entry=entry)


class TenantInstaller:
    """Writes a TenantPlan to every switch; `install` replaces whatever plan was there."""

    def __init__(self, clients: Mapping[str, P4RuntimeClient]) -> None:
        self.clients = clients

    def install(self, plan: TenantPlan) -> None:
        for c in self.clients.values():
            self._clear(c)
            c.insert(plan.classify + plan.policy)
            c.write([meter_entity(c, i, r) for i, r in plan.meters.items()], "MODIFY")

    def clear(self) -> None:
        for c in self.clients.values():
            self._clear(c)

    def _clear(self, c: P4RuntimeClient) -> None:
        used = set()
        for table in (f"{IG}.tenants.tenant_classify", f"{IG}.tenants.tenant_policy"):
            entries = [e for e in c.read_table(table) if not e.is_default_action]
            c.write([p4r.Entity(table_entry=e) for e in entries], "DELETE")
            for e in entries:
                if table.endswith("policy"):
                    used.add(int.from_bytes(e.match[0].exact.value, "big"))
        c.write([meter_entity(c, i, None) for i in sorted(used)], "MODIFY")

    def color_counts(self, switch: str, tenant_id: int) -> dict[str, tuple[int, int]]:
        """(bytes, packets) per colour of one tenant at one switch."""
        counts = self.clients[switch].read_counter(COLORS_COUNTER)
        return {name: counts.get(tenant_id * 4 + i, (0, 0))
                for i, name in enumerate(("green", "yellow", "red"))}


# ---- the tenant list a run keeps (names are not on the switches) -----------------------
def load_tenants(path: Path) -> list[Tenant]:
    try:
        data = json.loads(path.read_text())
        return [Tenant(d["name"], tuple(d["hosts"]), float(d["guaranteed_bps"]),
                       float(d["cap_bps"]), int(d["queue"]), int(d["burst_us"])) for d in data]
    except FileNotFoundError:
        return []
    except (ValueError, KeyError, TypeError):
        raise FabricError(f"{path} is corrupt; delete it") from None


def save_tenants(path: Path, tenants: Iterable[Tenant]) -> None:
    path.write_text(json.dumps([asdict(t) for t in tenants], indent=1))


def describe(tenants: Iterable[Tenant]) -> list[str]:
    return [f"{t.name}: hosts {','.join(t.hosts)} guaranteed {t.guaranteed_bps / 1e9:g} Gb/s "
            f"cap {t.cap_bps / 1e9:g} Gb/s queue {t.queue}" for t in tenants]
