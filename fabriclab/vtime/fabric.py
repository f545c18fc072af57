"""Build a virtual-time fabric from a typed `Topology` and program it with the controller.

    fabric = Fabric(topo, FabricOptions(queue_bytes=512 << 10), seed=1)
    fabric.controller.set_mode("adaptive")          # now, or later:
    fabric.at(5_000_000, fabric.controller.set_mode, "ecmp")   # at t = 5 ms
    fabric.fail_link("l1", 3, at_ns=20_000_000, reroute_after_ns=100_000)
    fabric.watch_ports(on_change, data_plane=True)   # switches notice cuts (fast reroute)
    fabric.fail_switch("s1", at_ns=30_000_000, for_ns=5_000_000)
    fabric.endpoint("h1").attach(nic, app); fabric.run(until=..., stop=...)

Every switch is a `SwitchNode` running the compiled program in `SwitchCore` behind the
`TrafficManager`, configured from the links that leave it (rate, delay, queue depth in
packets, plus an optional byte limit); every host NIC is a `HostEndpoint`; every link
direction a `Wire`. Switch i (topology order) is P4Runtime device i, programmed through an
in-process client by the unchanged `controller.fabric.FabricController`: pipeline push,
then routes, groups, mode, ECN and INT as `fabriclab net` would install them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from controller.fabric import FabricController
from controller.fabric_plan import FabricConfig
from controller.tenants import TenantInstaller, plan_tenants
from fabriclab import paths
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import ForwardingConfig, compile_builtin
from fabriclab.switch.p4runtime.device import Device
from fabriclab.switch.pcap import PcapWriter
from fabriclab.switch.ports import PortSignal
from fabriclab.switch.tm import TrafficManager
from fabriclab.vtime.control import InProcessClient
from fabriclab.vtime.events import EventLoop, Progress
from fabriclab.vtime.host_node import HostEndpoint
from fabriclab.vtime.links import Impairments, Wire
from fabriclab.vtime.switch_node import SwitchNode
from topologies.addressing import Addressing
from topologies.graph import LinkParams, Topology

CPU_PORT = 255
DEEP_QUEUE = 1 << 20  # packets: with a byte limit set, the byte limit is what bounds a queue


@dataclass(frozen=True)
class FabricOptions:
    """How the simulated switches and links behave beyond what the topology says.

    `impairments` apply to every link direction that leaves a switch (as in a switch port
    that loses, duplicates or reorders what it sends). `queue_bytes` limits every switch
    egress queue in bytes (the packet limit then comes from the link's max_queue_size, if
    any). `config` is the controller's initial configuration (routing mode, ECN, ...).
    `install=False` leaves the switches empty after the pipeline push (another program, or
    entries written by the caller through `fabric.clients`).
    """

    program: Path | None = None  # default: p4src/fabric.p4
    priority_queues: int = 8  # as FabricNet: the controller uses 7 for CNPs, 6 for ACKs
    queue_bytes: int | None = None
    impairments: Impairments = field(default_factory=Impairments)
    pcap_dir: Path | None = None
    config: FabricConfig | None = None
    install: bool = True

    def __post_init__(self) -> None:
        if self.priority_queues < 1:
            raise FabricError(f"priority queues must be >= 1, got {self.priority_queues}")
        if self.queue_bytes is not None and self.queue_bytes < 1:
            raise FabricError(f"queue size must be >= 1 byte, got {self.queue_bytes}")


@lru_cache(maxsize=8)
def load_pipeline(source: Path) -> ForwardingConfig:
    """The built-in target's P4Info and device config of a P4 program, compiled once per
    process (the compiler caches on disk too)."""
    if not source.is_file():
        raise FabricError(f"no P4 program at {source}")
    return compile_builtin(source)


class Fabric:
    """Every switch, host NIC and link direction of `topo` on one event loop."""

    def __init__(self, topo: Topology, options: FabricOptions | None = None, seed: int = 0) -> None:
        topo.validate()
        self.topo, self.options, self.seed = topo, options or FabricOptions(), seed
        self.loop = EventLoop()
        self.addressing = Addressing(topo)
        self.switches: dict[str, SwitchNode] = {}
        self.devices: dict[str, Device] = {}
        self.endpoints: dict[tuple[str, int], HostEndpoint] = {}
        self.wires: dict[tuple[str, int], Wire] = {}  # keyed by the sending end
        self._captures: list[PcapWriter] = []
        self.port_signals: dict[str, PortSignal] = {}
        self.dead_switches: set[str] = set()
        self._on_port_change: Callable[[str, int, bool], None] | None = None
        self._detect_ns = 0
        for sw in topo.switches():
            index = topo.switch_index(sw.name)
            node = SwitchNode(self.loop, sw.name, index,
                              TrafficManager(self.options.priority_queues), cpu_port=CPU_PORT)
            self.switches[sw.name] = node
            self.devices[sw.name] = Device(node, index)
        for key, addr in self.addressing.nics.items():
            self.endpoints[key] = HostEndpoint(self.loop, addr)
        for link in topo.links:
            self._wire(link.a, link.a_port, link.b, link.b_port, link.ab)
            self._wire(link.b, link.b_port, link.a, link.a_port, link.ba)
        if self.options.pcap_dir is not None:
            self._open_captures(Path(self.options.pcap_dir))
        self.clients = {name: InProcessClient(dev, name) for name, dev in self.devices.items()}
        for client in self.clients.values():
            client.connect()
        self.controller = FabricController(topo, dict(self.clients),
                                           self.options.config or FabricConfig())
        pipeline = load_pipeline(Path(self.options.program or paths.p4src("fabric.p4")))
        self.controller.push_pipeline(pipeline.p4info, pipeline.device_config)
        if self.options.install:
            self.controller.install()
            if topo.tenants:  # the topology's tenants: meters and queues (docs/tenants.md)
                TenantInstaller(self.clients).install(plan_tenants(topo, topo.tenants.values()))

    # -- construction --
    def _receiver(self, node: str, port: int) -> Callable[[int, bytes], None]:
        if node in self.switches:
            return self.switches[node].receive
        endpoint = self.endpoints.get((node, port))
        if endpoint is None:
            raise FabricError(f"host {node!r} NIC {port} has no address (no access switch?)")
        return endpoint.receive

    def _wire(self, src: str, src_port: int, dst: str, dst_port: int, params: LinkParams) -> None:
        name = f"{src}:{src_port}->{dst}:{dst_port}"
        rate = params.bw * 1e6 if params.bw is not None else None
        delay = params.delay_us * 1000
        if src in self.switches:
            tm = self.switches[src].tm
            if rate is not None:
                tm.set_port_rate(src_port, bps=rate)
            tm.set_port_delay(src_port, delay)
            queue_bytes = self.options.queue_bytes
            if params.max_queue_size is not None:
                tm.set_queue_depth(params.max_queue_size, port=src_port)
            elif queue_bytes is not None:
                tm.set_queue_depth(DEEP_QUEUE, port=src_port)
            if queue_bytes is not None:
                tm.set_queue_bytes(queue_bytes, port=src_port)
            wire = Wire(self.loop, name, self._receiver(dst, dst_port), dst_port, None, 0,
                        self.options.impairments, self.seed)
            self.switches[src].wires[src_port] = wire
        else:
            wire = Wire(self.loop, name, self._receiver(dst, dst_port), dst_port, rate, delay,
                        Impairments(), self.seed)
            self.endpoints[(src, src_port)].wire = wire
        self.wires[(src, src_port)] = wire

    def _open_captures(self, directory: Path) -> None:
        """`<switch>-eth<port>_in.pcap` / `_out.pcap` per switch port, virtual timestamps."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise FabricError(f"pcap: cannot create {directory}: {err.strerror}") from None
        for name, node in self.switches.items():
            for port in self.topo.ports(name):
                pair = (PcapWriter(str(directory / f"{name}-eth{port}_in.pcap")),
                        PcapWriter(str(directory / f"{name}-eth{port}_out.pcap")))
                node.captures[port] = pair
                self._captures += pair

    # -- use --
    def endpoint(self, host: str, nic: int | None = None) -> HostEndpoint:
        """A host's interface: NIC `nic`, or its first one."""
        nics = [e for (h, p), e in self.endpoints.items() if h == host and (nic is None or p == nic)]
        if not nics:
            raise FabricError(f"no host interface {host}" + ("" if nic is None else f" NIC {nic}"))
        return nics[0]

    @property
    def now(self) -> int:
        return self.loop.now

    def at(self, when_ns: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run a control action (any callable) at virtual time `when_ns`."""
        if when_ns < 0:
            raise FabricError(f"cannot schedule at a negative time ({when_ns} ns)")
        self.loop.at(when_ns, fn, *args)

    def set_link(self, node: str, port: int, up: bool) -> None:
        """Cut (or restore) both directions of the link at node:port; the controller is
        not told (a real cut is only noticed when something reports it)."""
        link = self.topo.ports(node).get(port) if node in self.topo.nodes else None
        if link is None:
            raise FabricError(f"no link at {node}:{port}")
        self.wires[(link.a, link.a_port)].up = up
        self.wires[(link.b, link.b_port)].up = up
        if self._on_port_change is not None:
            for end, end_port in ((link.a, link.a_port), (link.b, link.b_port)):
                if end in self.port_signals:
                    self.loop.at(self.loop.now + self._detect_ns, self._carrier, end, end_port, up)

    def watch_ports(self, on_change: Callable[[str, int, bool], None], data_plane: bool = True,
                    detect_ns: int = 0) -> None:
        """From now on the switches at both ends of a cut (or restored) link notice it
        `detect_ns` later, as the real switch's carrier monitor does: with `data_plane`
        each writes its own port signal (fabric.p4's `port_down_signal`: fast reroute), and
        `on_change(switch, port, up)` hears it (what the P4Runtime stream tells the
        controller). A dead switch notices nothing."""
        self._on_port_change, self._detect_ns = on_change, detect_ns
        self.port_signals = {name: PortSignal(data_plane) for name in self.switches}

    def _carrier(self, switch: str, port: int, up: bool) -> None:
        if switch in self.dead_switches or not self.port_signals[switch].update(port, up):
            return
        node = self.switches[switch]
        with node.lock:
            self.port_signals[switch].write(node.core)
        if self._on_port_change is not None:
            self._on_port_change(switch, port, up)

    def fail_switch(self, switch: str, at_ns: int, for_ns: int | None = None) -> None:
        """A node event: at `at_ns` the switch dies (its queues are lost, every link to it
        goes dark) and, after `for_ns`, comes back with its links."""
        if switch not in self.switches:
            raise FabricError(f"no switch {switch!r}")
        if for_ns is not None and for_ns <= 0:
            raise FabricError(f"a switch failure lasts > 0 ns, got {for_ns}")
        ports = sorted(self.topo.ports(switch))

        def die(up: bool) -> None:
            if up:
                self.dead_switches.discard(switch)
            else:
                self.dead_switches.add(switch)
                self.switches[switch].tm.clear_queues()
            for port in ports:
                self.set_link(switch, port, up)

        self.at(at_ns, die, False)
        if for_ns is not None:
            self.at(at_ns + for_ns, die, True)

    def fail_link(self, switch: str, port: int, at_ns: int,
                  reroute_after_ns: int | None = None) -> None:
        """At `at_ns` the link at switch:port goes down; `reroute_after_ns` later (if
        given) the controller takes it out of every group, as its failure handler would."""
        self.set_link(switch, port, True)  # validates now, not at the failure instant
        self.at(at_ns, self.set_link, switch, port, False)
        if reroute_after_ns is not None:
            self.at(at_ns + reroute_after_ns, self.controller.link_down, switch, port)

    def run(self, until_ns: int | None = None, stop: Callable[[], bool] | None = None,
            progress: Progress | None = None) -> int:
        try:
            return self.loop.run(until_ns, stop, progress)
        finally:
            for writer in self._captures:
                writer.flush()

    def close(self) -> None:
        for writer in self._captures:
            writer.close()

    def __enter__(self) -> "Fabric":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def switch_tx_bytes(self, switch: str) -> dict[int, int]:
        """Bytes each port of `switch` put on its link (the traffic manager's count)."""
        tm = self.switches[switch].tm
        return {port: tm.ports[port].tx_bytes if port in tm.ports else 0
                for port in self.topo.ports(switch)}
