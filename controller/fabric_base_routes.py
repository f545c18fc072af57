"""Base routes for p4src/fabric.p4, written by `fabriclab net` (through controller.route_installer):
routes, ECMP groups, port MACs, INT sink ports and traffic classes; then what the topology
declares beyond routes (`install_declared`): border switches' DCI role and tenants.
Mode, ECN and INT stay at FabricConfig's defaults (ECMP, off, off) until `fabriclab ctl`
or an experiment's fabric controller changes them.
"""

from __future__ import annotations

from typing import Mapping

from finsy.proto import p4i

from controller.client import P4RuntimeClient
from controller.fabric import IG, FabricController, write_base
from controller.fabric_plan import FabricConfig, plan_from_routes
from controller.routes import NextHop, Prefix
from controller.tenants import TenantInstaller, effective_tenants, plan_tenants
from topologies.graph import NodeKind, Topology

TABLE = f"{IG}.ipv4_routes"


def supports(p4info: p4i.P4Info) -> bool:
    return any(t.preamble.name == TABLE for t in p4info.tables)


def install(client: P4RuntimeClient, routes: dict[Prefix, tuple[NextHop, ...]]) -> int:
    """One switch's routing state. `fabriclab net` numbers devices by switch index, which
    is also what our port MACs derive from."""
    plan = plan_from_routes(f"device{client.device_id}", client.device_id, routes)
    write_base(client, plan, FabricConfig().priorities)
    return len(plan.routes)


def install_declared(topo: Topology, clients: Mapping[str, P4RuntimeClient]) -> list[str]:
    """After the base routes: what the topology declares, written by the same code and from
    the same starting config (FabricConfig()) as `fabriclab ctl`, so what ctl computes is
    what the switches hold. Border switches get their DCI role (FabricController.apply_config:
    BorderPolicy's thresholds, notification, clone sessions); the topology's tenants their
    meters and queues (controller.tenants; `ctl tenant` later reinstalls them with its own).
    A topology without borders or tenants costs nothing here. Returns what was installed."""
    done = []
    if any(node.kind is NodeKind.BORDER for node in topo.switches()):
        fabric = FabricController(topo, dict(clients))
        fabric.apply_config()
        borders = [name for name, plan in fabric.plans.items() if plan.dci_ports]
        if borders:
            done.append(f"border role on {', '.join(borders)}")
    tenants = effective_tenants(topo)
    if tenants:
        TenantInstaller(clients).install(plan_tenants(topo, tenants))
        done.append(f"tenants {', '.join(t.name for t in tenants)}")
    return done
