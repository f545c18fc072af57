"""`fabriclab ctl routes [SWITCH]`: the IPv4 routes every switch holds, read back over P4Runtime.

What is printed is what the switches have, not what a plan says: every table whose key is
an LPM match on an IPv4 destination, each entry as prefix -> where it sends. fabric.p4's
`set_group(group)` is resolved through its action selector (a group's members are its
ports, member id = port number), so a route reads `10.0.3.0/24 -> group 5: ports 3, 4`;
basic.p4's `ipv4_forward(dstAddr, port)` reads `-> port 2`. Each next-hop port is named by
the neighbour behind it (from the run's topology), so a route through a scale-up switch or
a rail leaf shows as such.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from controller.client import P4RuntimeClient, decode
from fabriclab.errors import FabricError
from finsy.proto import p4i, p4r
from topologies.graph import Topology

PORT_PARAMS = ("port", "egress_port", "egress_spec")
GROUP_PARAMS = ("group", "gid")


@dataclass(frozen=True)
class Route:
    """One installed route: prefix -> ports (and the group that holds them, if any)."""

    prefix: ipaddress.IPv4Network
    table: str
    action: str
    ports: tuple[int, ...]
    group: int | None = None


def read_routes(client: P4RuntimeClient) -> list[Route]:
    """Every IPv4 LPM route on one switch, longest prefixes of a table last (sorted by prefix)."""
    p4info = client._p4().p4info
    actions = {a.preamble.id: a for a in p4info.actions}
    groups = _selector_groups(client)
    routes = []
    for table in p4info.tables:
        lpm = [f for f in table.match_fields if f.match_type == p4i.MatchField.LPM and f.bitwidth == 32]
        if len(table.match_fields) != 1 or not lpm:
            continue
        for entry in client.read_table(table.preamble.name):
            m = entry.match[0].lpm
            prefix = ipaddress.IPv4Network((decode(m.value), m.prefix_len))
            action = actions[entry.action.action.action_id]
            params = {p.id: p.name for p in action.params}
            values = {params[p.param_id]: decode(p.value) for p in entry.action.action.params}
            group = next((values[k] for k in GROUP_PARAMS if k in values), None)
            if group is not None:
                ports = groups.get(group, ())
            else:
                ports = tuple(values[k] for k in PORT_PARAMS if k in values)
            routes.append(Route(prefix, table.preamble.alias or table.preamble.name,
                                action.preamble.alias or action.preamble.name, ports, group))
    return sorted(routes, key=lambda r: (r.table, int(r.prefix.network_address), r.prefix.prefixlen))


def _selector_groups(client: P4RuntimeClient) -> dict[int, tuple[int, ...]]:
    """group id -> member ids (= ports) of every action-profile group on the switch."""
    out: dict[int, tuple[int, ...]] = {}
    for profile in client._p4().p4info.action_profiles:
        entity = p4r.Entity(action_profile_group=p4r.ActionProfileGroup(
            action_profile_id=profile.preamble.id))
        for e in client.read(entity):
            g = e.action_profile_group
            out[g.group_id] = tuple(sorted(m.member_id for m in g.members))
    return out


def format_routes(topo: Topology, switch: str, routes: list[Route]) -> str:
    """One line per route, next hops named by the neighbour behind each port."""
    peers = {port: peer for port, peer, _, _ in topo.neighbors(switch)}
    lines = [f"{switch}: {len(routes)} routes"]
    for r in routes:
        hops = ", ".join(f"{p} ({peers.get(p, '?')})" for p in r.ports) or "drop"
        via = f"group {r.group}: ports {hops}" if r.group is not None else f"port {hops}"
        lines.append(f"  {str(r.prefix):<18} -> {via}")
    return "\n".join(lines)


def print_routes(topo: Topology, clients: dict[str, P4RuntimeClient], switch: str | None) -> None:
    """`ctl routes [SWITCH]`: every switch's routes (or one switch's)."""
    if switch is not None and switch not in clients:
        raise FabricError(f"no switch {switch!r} in this run (switches: {', '.join(clients)})")
    for name in [switch] if switch else list(clients):
        print(format_routes(topo, name, read_routes(clients[name])), flush=True)
