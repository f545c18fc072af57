"""Where a host agent runs: spawn functions for `lockstep.Lockstep` (and so `collective.launch`).

A spawn function takes an argv and returns a Popen with text-mode stdin/stdout/stderr
pipes, started in the right network namespace: this one, a named namespace, the namespace
of a process (a Mininet host's shell) or a Mininet host object. Every one is a plain
fork+exec of `ip netns exec` or `nsenter`: no preexec_fn and never Mininet's `popen`
(whose Python code between fork and exec crashed with SIGSEGV next to the gRPC client
threads a launcher holds), so spawning is safe from any process. Each is a `Place`, which
also names its namespace's file, so one shared agent can open every host's sockets itself.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any, Callable

from fabriclab.errors import FabricError
from fabriclab.roce.framing import ROCE_PORT

Spawn = Callable[[list[str]], subprocess.Popen]
PIPES: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE,
                         "text": True}


@dataclass(frozen=True)
class Place:
    """A spawn function that also names its network namespace: the command that enters it
    (`prefix`) and the namespace's file (`netns`, None: this one), which the shared agent
    enters itself to open that host's sockets (`setns.entered`)."""

    prefix: tuple[str, ...]
    netns: str | None

    def __call__(self, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen([*self.prefix, *argv], **PIPES)


here = Place((), None)


def in_netns(namespace: str) -> Place:
    return Place(("ip", "netns", "exec", namespace), f"/run/netns/{namespace}")


def in_pid_netns(pid: int) -> Place:
    """Enter the network namespace of process `pid` (e.g. a Mininet host's shell)."""
    return Place(("nsenter", "-t", str(pid), "-n"), f"/proc/{pid}/ns/net")


def in_mininet_host(host: Any) -> Place:
    """Run in a `mininet.node.Host`: enter its shell's network namespace with nsenter."""
    return in_pid_netns(host.pid)


def netns_of(spawn: Spawn) -> str | None:
    """The network namespace file a spawn function starts its process in (None: this one)."""
    if not isinstance(spawn, Place):
        raise FabricError("this host's network namespace is unknown (not a `placement.Place`): "
                          "run one agent per host")
    return spawn.netns


def parse_address(text: str) -> tuple[str, int]:
    """'IP' or 'IP:PORT' (the port defaults to 4791)."""
    ip, _, port = text.strip().partition(":")
    if not ip or (port and not port.isdigit()):
        raise FabricError(f"bad address {text!r} (expected IP or IP:PORT)")
    return ip, int(port) if port else ROCE_PORT


def parse_hosts(text: str) -> tuple[list[Spawn], list[tuple[str, int]]]:
    """'[NETNS/|pid:PID/]IP[:PORT],...' -> spawn functions and addresses, in rank order."""
    spawns, addrs = [], []
    for item in filter(None, (s.strip() for s in text.split(","))):
        where, _, addr = item.rpartition("/")
        addrs.append(parse_address(addr))
        if where.startswith("pid:"):
            if not where[4:].isdigit():
                raise FabricError(f"bad host {item!r}: expected pid:NUMBER/IP")
            spawns.append(in_pid_netns(int(where[4:])))
        else:
            spawns.append(in_netns(where) if where else here)
    if not addrs:
        raise FabricError("no hosts given")
    return spawns, addrs
