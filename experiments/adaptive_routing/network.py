"""The leaf-spine as this experiment needs it, on top of what `fabriclab.net` sets up
(jumbo frames end to end, priority queues for the controller's ACK/CNP classes): a host
agent per host, and the leaves' counters."""

from __future__ import annotations

import sys

from controller.fabric import FabricController
from fabriclab.net.network import FabricNet
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import in_mininet_host
from topologies.addressing import Addressing
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


def start_agents(net: FabricNet, timeout: float) -> Lockstep:
    """One `experiments.adaptive_routing.host` agent per host, in lock-step."""
    names = [h.name for h in net.topo.hosts()]
    addressing = Addressing(net.topo)
    peers = ",".join(f"{addressing.ip(n)}:{ROCE_PORT}" for n in names)
    argv = [sys.executable, "-m", "experiments.adaptive_routing.host", "--peers", peers]
    return Lockstep([in_mininet_host(net.host(n)) for n in names],
                    [[*argv, "--me", str(i)] for i in range(len(names))], timeout, what="agent")
