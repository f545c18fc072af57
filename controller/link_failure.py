"""Follow link failures: when a switch port goes down, take its link out of every next-hop
group (and put it back when it comes up), well within a second.

`LinkWatcher` is the sans-I/O core (port states in, up/down transitions out); `LinkMonitor`
is the driver: a thread that polls the ports' operstate in sysfs (switch ports are
root-namespace veths named by fabriclab.paths.veth_name) and calls the controller.
"""

from __future__ import annotations

import pathlib
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable

from fabriclab.paths import veth_name
from topologies.graph import Topology

Port = tuple[str, int]


@dataclass(frozen=True)
class LinkEvent:
    switch: str
    port: int
    up: bool


@dataclass
class LinkWatcher:
    """Turns repeated observations of port states into transitions; a port seen for the
    first time counts as a transition only when it is down."""

    states: dict[Port, bool] = field(default_factory=dict)

    def observe(self, observed: dict[Port, bool]) -> list[LinkEvent]:
        events = []
        for port, up in sorted(observed.items()):
            if self.states.get(port, True) != up:
                events.append(LinkEvent(port[0], port[1], up))
            self.states[port] = up
        return events


def switch_ports(topo: Topology) -> list[Port]:
    """Switch-to-switch ports: the ones whose failure changes routing."""
    return [(sw.name, port) for sw in topo.switches()
            for port, peer, _, _ in topo.neighbors(sw.name) if topo.nodes[peer].is_switch]


def sysfs_state(ifname: str, root: pathlib.Path = pathlib.Path("/sys/class/net")) -> bool:
    """Whether an interface is operationally up (a missing interface is down)."""
    try:
        return (root / ifname / "operstate").read_text().strip() == "up"
    except OSError:
        return False


class LinkMonitor:
    """Polls port states every `interval` seconds and reports transitions to `on_event`
    (usually `FabricController.link_down/link_up` via `controller_handler`)."""

    def __init__(self, ports: Iterable[Port], on_event: Callable[[LinkEvent], None],
                 read_state: Callable[[str, int], bool] | None = None, interval: float = 0.1,
                 run: str | None = None):
        """`run`: the fabriclab net run whose veths to watch (default: this process's)."""
        self.ports = list(ports)
        self.on_event = on_event
        self.read_state = read_state or (
            lambda sw, port: sysfs_state(veth_name(sw, port, run)))
        self.interval = interval
        self.watcher = LinkWatcher()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> list[LinkEvent]:
        events = self.watcher.observe({p: self.read_state(*p) for p in self.ports})
        for event in events:
            try:
                self.on_event(event)
            except Exception as err:  # keep watching; the caller reads .errors
                self.errors.append(f"{event}: {err}")
        return events

    def start(self) -> "LinkMonitor":
        self._thread = threading.Thread(target=self._run, name="link-monitor", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def wait(self, timeout: float | None = None) -> None:
        """Block until stop() (from another thread) or `timeout` seconds."""
        self._stop.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> "LinkMonitor":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def controller_handler(controller) -> Callable[[LinkEvent], None]:
    """An on_event that regroups the fabric through a FabricController."""
    def handle(event: LinkEvent) -> None:
        if event.up:
            controller.link_up(event.switch, event.port)
        else:
            controller.link_down(event.switch, event.port)
    return handle
