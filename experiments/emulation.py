"""What every emulate-mode trial process sets up on Mininet, one way for all experiments:
the fabric (fabric.p4 on the run's target, routes from the controller's RouteInstaller) and
one agent per host, started together and driven in lock-step. Imported by trial processes
only: Mininet's modules are not loaded in sim mode."""

from __future__ import annotations

from typing import Any

from controller.fabric import FABRIC_P4
from controller.route_installer import RouteInstaller
from fabriclab.launch.agent import Stack, agent_argv, collective_job
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import in_mininet_host
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from topologies.graph import Topology


def fabric_net(topo: Topology, run: str, target: str, grpc_base_port: int, **config: Any) -> FabricNet:
    """`topo` on Mininet under the run name `run` (what `fabriclab clean --run` removes), its
    switches on `target` from `grpc_base_port`; `config`: the rest of NetConfig (mtu, ...)."""
    return FabricNet(topo, NetConfig(target=target, program=FABRIC_P4, run=run, grpc_base_port=grpc_base_port,
                                     **config), controller=RouteInstaller())


def start_agents(net: FabricNet, module: str, timeout: float, hosts: list[str] | None = None,
                 what: str = "agent") -> Lockstep:
    """`python -m module --me I --peers ...` on each of `hosts` (default: every host), agent I
    the I-th, peers at their first NIC's address; `with` it to stop them whatever happens."""
    names = [h.name for h in net.topo.hosts()] if hosts is None else hosts
    addrs = [(str(net.addressing.ip(n)), ROCE_PORT) for n in names]
    return Lockstep([in_mininet_host(net.host(n)) for n in names],
                    [agent_argv(module, i, addrs) for i in range(len(names))], timeout, what=what)


def warm_up(ranks: Lockstep, nranks: int, stack: Stack, timeout_s: float) -> None:
    """One small untimed all-reduce over every rank first: the first case should not pay for
    cold caches and ARP."""
    warm = CollectiveSpec("allreduce", nranks, 4 * nranks * 64)
    ranks.round([collective_job(warm, stack, timeout_s)] * nranks, timeout_s + 30)
