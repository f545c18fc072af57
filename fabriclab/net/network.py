"""Bring a topology up in Mininet with P4 switches, program its routes, tear it down.

Order matters for "a bad input leaves nothing behind": every check that can fail on input
(topology, program, target, ports, names) runs before the first namespace or veth exists;
from the first kernel object on, `stop()` (also run on any error and by `with`) undoes
everything, and the run's environment marker lets `fabriclab clean` finish the job if this
process is killed.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mininet.link import Intf, Link, TCIntf
from mininet.net import Mininet

from fabriclab.errors import FabricError
from fabriclab.net import clean, linkparams
from fabriclab.net.host import FabricHost
from fabriclab.net.p4node import (DEFAULT_SWITCH_PROCS, SWITCH_PROCS, GrpcPortTaken, P4Switch, port_is_free,
                                  start_shared, target_command)
from fabriclab.net.program import load_program
from fabriclab.paths import ENV, RunDir, live_runs, veth_name
from fabriclab.switch.artifact import ForwardingConfig
from topologies.addressing import Addressing
from topologies.graph import Topology


class NetController(Protocol):
    """What FabricNet needs of the controller it is given (e.g. controller.route_installer.
    RouteInstaller): the net driver never imports controller modules."""

    clients: dict[str, Any]

    def check(self, program: ForwardingConfig) -> None:
        """Refuse a program it cannot drive (FabricError) before anything exists."""

    def start(self, topo: Topology, addressing: Addressing, addresses: dict[str, str],
              program: ForwardingConfig) -> None:
        """Program the running switches (`addresses`: switch -> P4Runtime host:port)."""

    def stop(self) -> None:
        """Close its connections."""


MIN_MTU, MAX_MTU = 68, 65535  # IPv4's minimum (RFC 791); a veth's maximum
PORT_RETRIES = 2  # starts after a gRPC port was taken under us


@dataclass
class NetConfig:
    """How to run a topology; the defaults suit `fabriclab net`."""

    target: str = "builtin"
    program: Path | str | None = None
    run: str = field(default_factory=lambda: f"net-{os.getpid()}")
    grpc_base_port: int = 9559
    cpu_port: int | None = 255
    pcap_dir: Path | str | None = None
    mtu: int = 1500
    ready_timeout: float = 60.0
    # simple_switch --priority-queues: fabric.p4's controller puts CNPs at priority 7, RoCE
    # ACKs at 6 and data at 0, and a priority without a queue is dropped
    priority_queues: int = 8
    switch_args: tuple[str, ...] = ()  # extra flags for every switch, e.g. --log-console
    # "shared": all built-in switches in one process on one event loop; "per-switch": one
    # process each (BMv2's only layout); None: the target's default
    switch_procs: str | None = None

    def __post_init__(self) -> None:
        # callers from Python pass plain strings: NetConfig(program="p4src/basic.p4")
        self.program = None if self.program is None else Path(self.program)
        self.pcap_dir = None if self.pcap_dir is None else Path(self.pcap_dir)
        if not MIN_MTU <= self.mtu <= MAX_MTU:  # checked before anything exists, not by `ip`
            raise FabricError(f"MTU {self.mtu} out of range: IPv4 hosts need {MIN_MTU}..{MAX_MTU}")
        if self.switch_procs not in (None, *SWITCH_PROCS):
            raise FabricError(f"switch processes {self.switch_procs!r}: one of "
                              f"{', '.join(SWITCH_PROCS)}")
        if self.switch_procs == "shared" and self.target != "builtin":
            raise FabricError(f"--switch-procs shared runs built-in switches only: "
                              f"{self.target} runs one process per switch")

    @property
    def shared_switches(self) -> bool:
        """Whether the switches run in one process (the built-in target's default or ask)."""
        if self.switch_procs is None:
            return self.target == "builtin" and DEFAULT_SWITCH_PROCS == "shared"
        return self.switch_procs == "shared"


class FabricNet:
    """A running topology: `with FabricNet(topo, config, controller=RouteInstaller()) as net:
    net.host("h1").cmd(...)`. Like Mininet's `controller=`, the caller chooses the controller;
    without one the switches come up with no program (for a controller started later)."""

    def __init__(self, topo: Topology, config: NetConfig | None = None,
                 controller: NetController | None = None):
        topo.validate()
        self.topo, self.config, self.controller = topo, config or NetConfig(), controller
        self.rundir = RunDir(self.config.run)
        self.addressing = Addressing(topo)
        self.mininet: Mininet | None = None
        # True from a passed preflight until stop(): only then is the run ours to tear down
        # (a second start of a running run fails preflight and must not kill the first)
        self.owns_run = False

    @property
    def clients(self) -> dict[str, Any]:
        """The controller's P4Runtime client per switch (empty without a controller)."""
        return self.controller.clients if self.controller is not None else {}

    # --- checks before anything exists ---------------------------------------------------
    def grpc_port(self, switch: str) -> int:
        return self.config.grpc_base_port + self.topo.switch_index(switch)

    def veth_names(self) -> list[str]:
        return [veth_name(sw.name, port, self.config.run) for sw in self.topo.switches()
                for port in self.topo.ports(sw.name)]

    def preflight(self) -> None:
        if os.geteuid() != 0:
            raise FabricError("Mininet needs root: run with sudo")
        target_command(self.config.target)
        if self.config.priority_queues < 1:
            raise FabricError("priority queues must be at least 1, got "
                              f"{self.config.priority_queues}")
        linkparams.check_target_supports(self.topo, self.config.target)
        if not 1024 <= self.config.grpc_base_port <= 65535 - len(self.topo.switches()):
            raise FabricError(f"gRPC base port {self.config.grpc_base_port} out of range")
        self._pick_grpc_ports()
        if clean.run_processes(self.config.run):
            raise FabricError(f"run {self.config.run!r} is already active (stop it, or "
                              f"`sudo fabriclab clean --run {self.config.run}`)")
        # what an earlier, killed run of the same name left (links, a stray marked process)
        clean.clean_run(self.config.run)
        existing = set(os.listdir("/sys/class/net"))
        clash = [n for n in self.veth_names() if n in existing]
        if clash:
            raise FabricError(f"interfaces already exist: {', '.join(clash[:5])} (left by "
                              f"another run; `sudo fabriclab clean --run NAME` for it, live "
                              f"runs: {', '.join(sorted(live_runs())) or 'none'})")

    def _pick_grpc_ports(self) -> None:
        """Keep the asked-for block of gRPC ports if every port is free, else move to the next
        free block of the same size and say so (a live network, or anything else, on them)."""
        count, base = len(self.topo.switches()), self.config.grpc_base_port
        for start in range(base, 65536 - count, count):
            busy = [p for p in range(start, start + count) if not port_is_free(p)]
            if not busy:
                break
            if start == base:
                first_busy = busy
        else:
            raise FabricError(f"no {count} free gRPC ports from {base} on")
        if start != base:
            print(f"fabriclab net: gRPC ports {', '.join(map(str, first_busy))} in use: using "
                  f"{start}-{start + count - 1} instead", flush=True)
            self.config.grpc_base_port = start

    # --- bring-up ------------------------------------------------------------------------
    def start(self) -> "FabricNet":
        """Bring the network up; if another run took a gRPC port between preflight and the
        switches binding it, tear down and come up again on the next free ports, saying so."""
        retries = PORT_RETRIES
        while True:
            try:
                return self._start_once()
            except GrpcPortTaken as err:
                if not retries:
                    raise
                retries -= 1
                print(f"fabriclab net: {err}: starting again on the next free ports", flush=True)

    def _start_once(self) -> "FabricNet":
        self.preflight()
        self.owns_run = True
        try:
            program = load_program(self.config.program, self.config.target,
                                   self.rundir.path / "build")
            if self.controller is not None:
                self.controller.check(program)
            self.rundir.create()
            for stale in self.rundir.path.glob("*.json"):  # an earlier run of this name's, e.g.
                stale.unlink()  # ctl's down links and tenants: not what these switches hold
            (self.rundir.path / "topology.json").write_text(self.topo.to_json())
            self.rundir.mark_starting()
            self.rundir.record_links(self.veth_names())
            self.rundir.record_grpc_base_port(self.config.grpc_base_port)
            os.environ[ENV] = self.config.run  # inherited by every shell and switch we start
            self._build()
            if self.controller is not None:
                self.controller.start(self.topo, self.addressing, self.grpc_addresses(), program)
            self.rundir.mark_ready()
        except FabricError:
            self.stop()
            raise
        except Exception as err:  # Mininet raises plain Exceptions (e.g. veth creation)
            self.stop()
            raise FabricError(f"bringing up {self.topo.name} failed: {err}") from err
        except BaseException:  # Ctrl-C: tear down, then let it through
            self.stop()
            raise
        return self

    def _build(self) -> None:
        self.mininet = net = Mininet(topo=None, build=False, controller=None,
                                     autoSetMacs=False, autoStaticArp=False)
        for node in self.topo.nodes.values():
            (self._add_switch if node.is_switch else self._add_host)(net, node.name)
        for link in self.topo.links:
            # the host end first: its NIC is created directly inside its namespace
            host_first = not self.topo.nodes[link.a].is_switch
            self._add_link(net, link, *((link.a, link.b) if host_first else (link.b, link.a)))
        net.build()
        net.start()
        if self.config.shared_switches:
            start_shared(net.switches, self.rundir.path)
        for switch in net.switches:
            switch.wait_ready(self.config.ready_timeout)

    def _add_switch(self, net: Mininet, name: str) -> None:
        index = self.topo.switch_index(name)
        net.addSwitch(name, cls=P4Switch, dpid=f"{index + 1:016x}", target=self.config.target,
                      device_id=index, grpc_port=self.grpc_port(name),
                      cpu_port=self.config.cpu_port, log=self.rundir.log(name),
                      pcap_dir=self.config.pcap_dir, options=self._switch_options(name),
                      mtu=self.config.mtu, priority_queues=self.config.priority_queues,
                      shared=self.config.shared_switches)

    def _add_host(self, net: Mininet, name: str) -> None:
        shaping = [] if self.config.target != "builtin" else [
            cmd for port, _, _, link in self.topo.neighbors(name)
            for cmd in linkparams.host_shaping_cmds(f"eth{port}", link.params_from(name),
                                                    self.config.mtu)]
        net.addHost(name, cls=FabricHost, ip=None, nics=self.addressing.host_nics(name),
                    peers=list(self.addressing.nics.values()), mtu=self.config.mtu,
                    shaping=shaping)

    def _intf_name(self, node: str, port: int) -> str:
        if self.topo.nodes[node].is_switch:
            return veth_name(node, port, self.config.run)
        return f"eth{port}"

    def _mac(self, node: str, port: int) -> str:
        if self.topo.nodes[node].is_switch:
            return self.addressing.port_mac(node, port)
        return self.addressing.nics[(node, port)].mac

    def _add_link(self, net: Mininet, link, a: str, b: str) -> None:
        pa, pb = link.port_of(a), link.port_of(b)
        bmv2 = self.config.target == "bmv2"
        net.addLink(a, b, port1=pa, port2=pb, cls=Link, intf=TCIntf if bmv2 else Intf,
                    intfName1=self._intf_name(a, pa), intfName2=self._intf_name(b, pb),
                    addr1=self._mac(a, pa), addr2=self._mac(b, pb),
                    params1=linkparams.tc_params(link.params_from(a)) if bmv2 else {},
                    params2=linkparams.tc_params(link.params_from(b)) if bmv2 else {})

    def _switch_options(self, switch: str) -> tuple[str, ...]:
        """The built-in target's admin socket and link model, then the user's extras."""
        flags: list[str] = []
        if self.config.target == "builtin":
            flags += ["--admin-socket", str(self.rundir.admin_socket(switch))]
            for port, _, _, link in self.topo.neighbors(switch):
                flags += linkparams.switch_port_flags(port, link.params_from(switch))
        return (*flags, *self.config.switch_args)

    def grpc_addresses(self) -> dict[str, str]:
        return {s.name: f"127.0.0.1:{self.grpc_port(s.name)}" for s in self.topo.switches()}

    # --- use -----------------------------------------------------------------------------
    def host(self, name: str) -> FabricHost:
        if self.mininet is None or name not in self.topo.nodes:
            raise FabricError(f"no running node named {name!r}")
        return self.mininet[name]

    def pingall(self, timeout: float = 1.0) -> float:
        """Mininet's pingall (one ping per host pair, first NICs); returns loss in %."""
        assert self.mininet is not None
        return self.mininet.pingAll(timeout=str(timeout))

    # --- tear-down -----------------------------------------------------------------------
    def stop(self) -> None:
        """Stop everything this run created; safe to call twice and after partial starts.
        Every step runs even if an earlier one fails (ExitStack), and the last one,
        clean_run, waits until the run's processes and links are really gone."""
        if not self.owns_run:
            return
        with ExitStack() as steps:  # callbacks run last-pushed first
            steps.callback(self._forget_run)
            steps.callback(clean.clean_run, self.config.run)
            if self.mininet is not None:
                steps.callback(self._stop_mininet)
            if self.controller is not None:
                steps.callback(self.controller.stop)

    def _stop_mininet(self) -> None:
        mininet, self.mininet = self.mininet, None
        mininet.stop()

    def _forget_run(self) -> None:
        if os.environ.get(ENV) == self.config.run:
            del os.environ[ENV]
        self.owns_run = False

    def __enter__(self) -> "FabricNet":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
