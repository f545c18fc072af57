"""The leaf-spine as this experiment reads it, on top of what `fabriclab.net` sets up
(jumbo frames end to end, priority queues for the controller's ACK/CNP classes): the
leaves' counters and uplinks."""

from __future__ import annotations

from controller.fabric import FabricController
from topologies.graph import NodeKind, Topology


def leaf_port_bytes(ctl: FabricController, topo: Topology) -> dict[str, dict[int, int]]:
    """tx bytes of every leaf port (uplinks and host ports)."""
    return {leaf.name: {port: s.tx_bytes for port, s in ctl.port_stats(leaf.name).items()}
            for leaf in topo.switches() if leaf.kind is NodeKind.LEAF}


def uplinks(topo: Topology) -> dict[str, dict[int, str]]:
    """leaf -> {port: spine} for every leaf-to-spine port."""
    return {leaf.name: {port: peer for port, peer, _, _ in topo.neighbors(leaf.name)
                        if topo.nodes[peer].kind is NodeKind.SPINE}
            for leaf in topo.switches() if leaf.kind is NodeKind.LEAF}
