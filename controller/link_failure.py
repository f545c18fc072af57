"""Follow link failures, event-driven: the switches say when a port's carrier changes, the
controller marks the port dead and regroups (docs/resiliency.md).

The switch reports a carrier change on its P4Runtime stream (fabriclab.switch.p4runtime.
port_status: a gNMI oper-status notification in `StreamMessageResponse.other`), right
after its own data plane stopped using the port. `PortStatusFollower` is the driver: one
thread per switch blocks on that client's stream (no polling) and hands each switch-to-
switch port event to `on_event`, usually `controller_handler`: the liveness masks of every
switch first (one table write each: the ports are skipped at once even where the switch's
own signal is off), then the recomputed next-hop groups. In virtual time the fabric calls
the same handler (`fabriclab.vtime.fabric.Fabric.watch_ports`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from controller.failures import dead_port_masks, set_dead_ports
from fabriclab.switch.p4runtime import port_status
from topologies.graph import Topology

Port = tuple[str, int]


@dataclass(frozen=True)
class LinkEvent:
    switch: str
    port: int
    up: bool


def switch_ports(topo: Topology) -> list[Port]:
    """Switch-to-switch ports: the ones whose failure changes routing."""
    return [(sw.name, port) for sw in topo.switches()
            for port, peer, _, _ in topo.neighbors(sw.name) if topo.nodes[peer].is_switch]


def controller_handler(controller) -> Callable[[LinkEvent], list[str]]:
    """An on_event for a FabricController: liveness masks, then regroup; returns the
    switches whose groups changed. A switch that cannot be written (killed: `ctl fail
    switch`) is marked unreachable and left alone from then on."""
    def handle(event: LinkEvent) -> list[str]:
        link = controller.topo.ports(event.switch).get(event.port)
        ends = {(link.a, link.a_port), (link.b, link.b_port)} if link else set()
        down = (controller.down | ends) if not event.up else (controller.down - ends)
        live = {n: c for n, c in controller.clients.items() if n not in controller.unreachable}
        controller.unreachable |= set(set_dead_ports(live, dead_port_masks(controller.topo, down)))
        if event.up:
            return controller.link_up(event.switch, event.port)
        return controller.link_down(event.switch, event.port)
    return handle


@dataclass
class PortStatusFollower:
    """Reads every switch's stream for port-status messages and calls `on_event` (one at
    a time, in arrival order) for those of `ports`; other stream messages are dropped, so
    give it clients nobody else reads. `events` keeps (monotonic s, event) for reports."""

    clients: Mapping[str, object]
    ports: Iterable[Port]
    on_event: Callable[[LinkEvent], object]
    errors: list[str] = field(default_factory=list)
    events: list[tuple[float, LinkEvent]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ports = set(self.ports)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []

    def _follow(self, switch: str, client) -> None:
        while True:
            msg = client.stream_messages.get()
            if msg is None:
                return
            status = port_status.parse(msg)
            if status is None or (switch, status[0]) not in self.ports:
                continue
            event = LinkEvent(switch, *status)
            with self._lock:
                self.events.append((time.monotonic(), event))
                try:
                    self.on_event(event)
                except Exception as err:  # noqa: BLE001 - keep following; the caller reads .errors
                    self.errors.append(f"{event}: {err}")

    def start(self) -> "PortStatusFollower":
        for name, client in self.clients.items():
            thread = threading.Thread(target=self._follow, args=(name, client), daemon=True,
                                      name=f"port-status-{name}")
            thread.start()
            self._threads.append(thread)
        return self

    def wait(self, timeout: float | None = None) -> None:
        """Block until stop() (from another thread) or `timeout` seconds."""
        self._done.wait(timeout)

    def stop(self) -> None:
        self._done.set()
        for client in self.clients.values():
            client.stream_messages.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> "PortStatusFollower":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
