"""Open sockets in another network namespace from this process (the shared agent's way).

A socket belongs to the network namespace it was created in, for good: a process may step
into a host's namespace, create and bind that host's sockets, step back, and keep using
them. Python 3.11 has no `os.setns`, so this calls libc's `setns(2)` through ctypes, on
the namespace's file (/run/netns/NAME for `ip netns`, /proc/PID/ns/net for a process's).
"""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from typing import Iterator

from fabriclab.errors import FabricError

CLONE_NEWNET = 0x40000000  # linux/sched.h
SELF = "/proc/thread-self/ns/net"
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int, what: str) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise FabricError(f"cannot enter the network namespace {what}: {os.strerror(err)}")


@contextmanager
def entered(netns: str | None) -> Iterator[None]:
    """Run the block in network namespace file `netns` (None: stay here), and come back
    whatever happens (failing to come back is an error: later sockets would land there)."""
    if not netns:
        yield
        return
    try:
        target = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise FabricError(f"no network namespace {netns}: {err.strerror}") from None
    try:
        home = os.open(SELF, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target, netns)
            try:
                yield
            finally:
                _setns(home, "this process started in")
        finally:
            os.close(home)
    finally:
        os.close(target)

