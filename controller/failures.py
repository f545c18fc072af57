"""Failures on purpose, and the data plane's fast reroute around them (docs/tenants.md).

`plan_link_failure` / `plan_switch_failure` are the sans-I/O core: they check a failure
against the topology (unknown node or link, negative times -> one-line FabricError) and
say which switch ports go down, when (seconds from now) and for how long.

`dead_port_masks` turns the set of down ports into fabric.p4's per-switch liveness masks
(liveness.p4: bit p = port p), and `set_dead_ports` writes them as the default action of
`port_liveness` over P4Runtime: every routing mode skips those ports at the next packet,
before (and independently of) the controller recomputing next-hop groups.

`apply_on_mininet` is the thin Mininet driver: the switch ends of the links' veths go
down (`ip link set`), which is what a cable pull looks like to the switch process (its
carrier monitor then tells the data plane and the controller). `stop_switch_on_mininet`
kills a switch's process (SIGKILL: a crash, no goodbye) and darkens its veths, which is
what its neighbours see of a dead switch; it does not come back (restart the net).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from controller.client import Entry, P4RuntimeClient
from fabriclab.errors import FabricError
from fabriclab.paths import RunDir, run_of, veth_name
from topologies.graph import Topology

IG = "FabricIngress"
LIVENESS_PORTS = 64  # liveness.p4: the mask is bit<64>
Port = tuple[str, int]


@dataclass(frozen=True)
class Failure:
    """`ports` (switch, port) go down `at_s` seconds from now, for `for_s` (None: for good)."""

    what: str
    ports: tuple[Port, ...]
    at_s: float = 0.0
    for_s: float | None = None


def _check_times(what: str, at_s: float, for_s: float | None) -> None:
    if at_s < 0:
        raise FabricError(f"fail {what}: --at {at_s:g} is negative")
    if for_s is not None and for_s <= 0:
        raise FabricError(f"fail {what}: --for {for_s:g} must be positive")


def plan_link_failure(topo: Topology, a: str, b: str, at_s: float = 0.0,
                      for_s: float | None = None) -> Failure:
    what = f"link {a} {b}"
    for name in (a, b):
        if name not in topo.nodes:
            raise FabricError(f"fail {what}: no node {name!r}")
    links = [link for link in topo.links if {link.a, link.b} == {a, b}]
    if not links:
        raise FabricError(f"fail {what}: {a} and {b} are not linked")
    _check_times(what, at_s, for_s)
    ports = tuple((end, link.port_of(end)) for link in links for end in (link.a, link.b)
                  if topo.nodes[end].is_switch)
    return Failure(what, ports, at_s, for_s)


def plan_switch_failure(topo: Topology, switch: str, at_s: float = 0.0,
                        for_s: float | None = None) -> Failure:
    """A dead switch, as its neighbours see it: every link to it goes down."""
    what = f"switch {switch}"
    node = topo.nodes.get(switch)
    if node is None or not node.is_switch:
        raise FabricError(f"fail {what}: no switch {switch!r}")
    _check_times(what, at_s, for_s)
    ports = [(switch, port) for port in sorted(topo.ports(switch))]
    ports += [(peer, peer_port) for _, peer, peer_port, _ in topo.neighbors(switch)
              if topo.nodes[peer].is_switch]
    return Failure(what, tuple(ports), at_s, for_s)


def dead_port_masks(topo: Topology, down: Iterable[Port]) -> dict[str, int]:
    """Every switch's liveness mask (0 when all its ports are up)."""
    masks = {sw.name: 0 for sw in topo.switches()}
    for switch, port in down:
        if switch in masks and 0 <= port < LIVENESS_PORTS:
            masks[switch] |= 1 << port
    return masks


def set_dead_ports(clients: Mapping[str, P4RuntimeClient], masks: Mapping[str, int]) -> list[str]:
    """Write every switch's mask; returns the switches that could not be written (a dead
    switch must not keep the others from getting theirs)."""
    failed = []
    for name, c in clients.items():
        entry = c.table_entry(Entry(f"{IG}.liveness.port_liveness", {},
                                    f"{IG}.liveness.set_dead_ports", {"mask": masks.get(name, 0)}))
        entry.table_entry.is_default_action = True
        try:
            c.write([entry], "MODIFY")
        except FabricError:
            failed.append(name)
    return failed


def run_failure(failure: Failure, set_ports: Callable[[Iterable[Port], bool], None],
                sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait, take the ports down, and (with a duration) bring them back: `set_ports(ports,
    up)` does the work (veths, a controller, a simulator)."""
    sleep(failure.at_s)
    set_ports(failure.ports, False)
    if failure.for_s is not None:
        sleep(failure.for_s)
        set_ports(failure.ports, True)


def apply_on_mininet(run: str) -> Callable[[Iterable[Port], bool], None]:
    """set_ports for a running `fabriclab net`: the switch ports' root-namespace veths."""
    def set_ports(ports: Iterable[Port], up: bool) -> None:
        for switch, port in ports:
            name = veth_name(switch, port, run)
            done = subprocess.run(["ip", "link", "set", name, "up" if up else "down"],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise FabricError(f"ip link set {name}: {done.stderr.strip() or 'failed'}")
    return set_ports


def switch_pids(run: str, switch: str) -> list[int]:
    """The `fabriclab switch` processes of `run` serving `switch` (found by the admin
    socket `fabriclab net` gives each switch)."""
    sock = str(RunDir(run).admin_socket(switch)).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or run_of(int(entry.name)) != run:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"switch" in argv and sock in argv:
            pids.append(int(entry.name))
    return pids


def stop_switch_on_mininet(run: str, switch: str) -> Callable[[Iterable[Port], bool], None]:
    """set_ports for `fail switch` on a running net: kill the switch's process, then take
    every port of the failure down (its own veths: neighbours lose carrier)."""
    links = apply_on_mininet(run)

    def set_ports(ports: Iterable[Port], up: bool) -> None:
        if up:
            raise FabricError(f"fail switch {switch}: a killed switch does not come back; "
                              "restart the net")
        pids = switch_pids(run, switch)
        if not pids:
            raise FabricError(f"fail switch {switch}: no switch process in run {run!r}")
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        links([p for p in ports if p[0] == switch], False)
    return set_ports
