"""Route computation from the topology graph: pure, no switches involved.

For every switch, each destination prefix maps to the set of equal-cost next hops (hop
count over switch-to-switch links; hosts never transit). A subnet's own switch gets one
/32 per attached host NIC. Parallel links count as separate next hops, so ECMP groups and
single-path programs (basic.p4) read the same table.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import networkx as nx

from topologies.addressing import Addressing
from topologies.graph import Topology

Prefix = ipaddress.IPv4Network


@dataclass(frozen=True, order=True)
class NextHop:
    """Leave through `port`, rewriting the destination MAC to `mac` (the neighbour's)."""

    port: int
    mac: str
    node: str


RouteTable = dict[str, dict[Prefix, tuple[NextHop, ...]]]


def switch_graph(topo: Topology) -> nx.Graph:
    """Switches and the switch-to-switch links between them (hosts excluded)."""
    g = nx.Graph()
    g.add_nodes_from(n.name for n in topo.switches())
    for link in topo.links:
        if topo.nodes[link.a].is_switch and topo.nodes[link.b].is_switch:
            g.add_edge(link.a, link.b)
    return g


def compute_routes(topo: Topology, addressing: Addressing | None = None) -> RouteTable:
    """Per switch: prefix -> sorted equal-cost next hops. Unreachable prefixes are absent
    (e.g. a scale-up domain's subnet outside its own switch)."""
    addressing = addressing or Addressing(topo)
    graph = switch_graph(topo)
    table: RouteTable = {n.name: {} for n in topo.switches()}
    for dest, subnet in addressing.subnets.items():
        dist = nx.single_source_shortest_path_length(graph, dest)
        for sw, d in dist.items():
            if sw == dest:
                continue
            hops = sorted(NextHop(port, addressing.port_mac(peer, peer_port), peer)
                          for port, peer, peer_port, _ in topo.neighbors(sw)
                          if dist.get(peer) == d - 1 and topo.nodes[peer].is_switch)
            table[sw][subnet] = tuple(hops)
    for nic in addressing.nics.values():
        host_prefix = ipaddress.IPv4Network(f"{nic.ip.ip}/32")
        table[nic.switch][host_prefix] = (NextHop(nic.switch_port, nic.mac, nic.host),)
    return table
