"""The leaf-spine as this experiment needs it, beyond what `fabriclab.net` sets up: jumbo
frames end to end, one traffic class, a host agent per host, and the leaves' counters.

The two adapters (`enable_jumbo_frames`, `single_traffic_class`) work around gaps between
other modules, each described where it is defined; they can go once those modules close them.
"""

from __future__ import annotations

import subprocess
import sys

from finsy.proto import p4r

from controller.fabric import FabricController
from experiments.launcher import Agents
from fabriclab.errors import FabricError
from fabriclab.net.network import FabricNet
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.placement import in_pid_netns
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


def start_agents(net: FabricNet, timeout: float) -> Agents:
    """One agent per host, entered with nsenter: a plain fork+exec, never Mininet's popen
    (whose pre-exec Python code crashes next to gRPC's threads)."""
    names = [h.name for h in net.topo.hosts()]
    addressing = Addressing(net.topo)
    peers = ",".join(f"{addressing.ip(n)}:{ROCE_PORT}" for n in names)
    argv = [sys.executable, "-m", "experiments.adaptive_routing.host", "--peers", peers]
    return Agents([in_pid_netns(net.host(n).pid) for n in names],
                  [[*argv, "--me", str(i)] for i in range(len(names))], timeout)


def enable_jumbo_frames(net: FabricNet, mtu: int) -> None:
    """Adapter for jumbo frames, which fabriclab.net does not fully set up: NetConfig.mtu
    sets only the host ends of the veths (a veth drops frames above its receiving end's
    MTU), and on the built-in target the hosts' tbf shapers get a 3000-byte burst (tbf
    drops any larger frame)."""
    for name in net.veth_names():
        _run(["ip", "link", "set", "dev", name, "mtu", str(mtu)])
    if net.config.target != "builtin":
        return  # BMv2: Mininet's TCIntf shapes the links
    for node in net.topo.hosts():
        for port, _, _, link in net.topo.neighbors(node.name):
            bw = link.params_from(node.name).bw
            if bw is not None:
                out = net.host(node.name).cmd(
                    f"tc qdisc replace dev eth{port} root tbf rate {bw:g}mbit burst {2 * mtu} "
                    f"latency 50ms 2>&1; echo rc=$?")
                if not out.strip().endswith("rc=0"):
                    raise FabricError(f"{node.name}: cannot reshape eth{port}: {out.strip()}")


def single_traffic_class(ctl: FabricController) -> None:
    """Adapter: the controller's default traffic classes put ACKs and CNPs in priorities 6
    and 7, but `fabriclab net` starts switches with one queue per port, and a priority
    without a queue is dropped (BMv2 semantics). Every packet shares queue 0 instead."""
    table = "FabricIngress.traffic_class"
    for client in ctl.clients.values():
        old = [p4r.Entity(table_entry=e) for e in client.read_table(table) if not e.is_default_action]
        client.write(old, "DELETE")


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise FabricError(f"`{' '.join(cmd)}` failed: {done.stderr.strip()}")
