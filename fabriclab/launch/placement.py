"""Where a host agent runs: spawn functions for `lockstep.Lockstep` (and so `collective.launch`).

A spawn function takes an argv and returns a Popen with text-mode stdin/stdout/stderr
pipes, started in the right network namespace: this one, a named namespace, the namespace
of a process (a Mininet host's shell) or a Mininet host object. Every one is a plain
fork+exec of `ip netns exec` or `nsenter`: no preexec_fn and never Mininet's `popen`
(whose Python code between fork and exec crashed with SIGSEGV next to the gRPC client
threads a launcher holds), so spawning is safe from any process.
"""

from __future__ import annotations

import subprocess
from typing import Any, Callable

from fabriclab.errors import FabricError
from fabriclab.roce.framing import ROCE_PORT

Spawn = Callable[[list[str]], subprocess.Popen]
PIPES: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE,
                         "text": True}


def here(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, **PIPES)


def in_netns(namespace: str) -> Spawn:
    return lambda argv: subprocess.Popen(["ip", "netns", "exec", namespace, *argv], **PIPES)


def in_pid_netns(pid: int) -> Spawn:
    """Enter the network namespace of process `pid` (e.g. a Mininet host's shell)."""
    return lambda argv: subprocess.Popen(["nsenter", "-t", str(pid), "-n", *argv], **PIPES)


def in_mininet_host(host: Any) -> Spawn:
    """Run in a `mininet.node.Host`: enter its shell's network namespace with nsenter."""
    return in_pid_netns(host.pid)


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
