"""Start a `fabriclab switch` process and wait for its ready line.

For tools and tests that run a switch beside themselves (no Mininet): the CLI prints
`fabriclab switch: ready: ...` on stdout once its ports are open and its gRPC server is
bound, so that line, not a connect-retry loop, says when the switch can be used. A switch
that exits or stays silent is a `FabricError` carrying the tail of what it wrote.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
import tempfile
import time

from fabriclab.errors import FabricError

READY = "fabriclab switch: ready:"


def start_switch(args: list[str], timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """Run `python -m fabriclab switch ARGS`; return the process and its ready line.
    The caller owns the process (`stop_switch` ends it)."""
    log = tempfile.TemporaryFile("w+")  # stderr: a file never fills up and blocks the switch
    proc = subprocess.Popen([sys.executable, "-m", "fabriclab", "switch", *args],
                            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
    try:
        line = _ready_line(proc, time.monotonic() + timeout)
    except BaseException:
        stop_switch(proc)
        log.seek(0)
        tail = "\n".join(log.read().strip().splitlines()[-15:])
        log.close()
        raise FabricError(f"fabriclab switch {' '.join(args)} did not start within {timeout:g} s "
                          f"(exit status {proc.returncode})\n--- its last output ---\n{tail}") from None
    log.close()
    return proc, line


def _ready_line(proc: subprocess.Popen, deadline: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if sel.select(timeout=left):
                line = proc.stdout.readline()
                if not line:
                    break  # EOF: the switch exited
                if line.startswith(READY):
                    return line.strip()
    raise TimeoutError


def stop_switch(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it lingers; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()
