"""Base routes for p4src/fabric.p4, written by `fabriclab net` (through controller.route_installer):
routes, ECMP groups, port MACs, INT sink ports and traffic classes.
Mode, ECN and INT stay at the program's defaults (ECMP, off, off) until the fabric
controller changes them.
"""

from __future__ import annotations

from finsy.proto import p4i

from controller.client import P4RuntimeClient
from controller.fabric import IG, write_base
from controller.fabric_plan import FabricConfig, plan_from_routes
from controller.routes import NextHop, Prefix

TABLE = f"{IG}.ipv4_routes"


def supports(p4info: p4i.P4Info) -> bool:
    return any(t.preamble.name == TABLE for t in p4info.tables)


def install(client: P4RuntimeClient, routes: dict[Prefix, tuple[NextHop, ...]]) -> int:
    """One switch's routing state. `fabriclab net` numbers devices by switch index, which
    is also what our port MACs derive from."""
    plan = plan_from_routes(f"device{client.device_id}", client.device_id, routes)
    write_base(client, plan, FabricConfig().priorities)
    return len(plan.routes)
