"""One lab at a time: `lab start` and the Mininet part of `lab check` hold a lock file.

The lock is an flock on RUN_DIR/lab.lock, so it is released even when its holder is
SIGKILLed; the file names the lab and pid that hold it, for the error a second start gets.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from typing import Iterator

from fabriclab.errors import FabricError
from fabriclab.paths import RUN_DIR


def lock_path():
    return RUN_DIR / "lab.lock"


@contextmanager
def one_lab(number: int) -> Iterator[None]:
    """Hold the lab lock while the body runs; FabricError (exit 2) if another lab holds it."""
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").split()
            lab, pid = (holder + ["?", "?"])[:2]
            raise FabricError(
                f"lab {lab} is already running (pid {pid}): stop it first (Ctrl-C or `exit` "
                f"in its terminal, or `sudo fabriclab clean --run lab{lab}`)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{number} {os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)
