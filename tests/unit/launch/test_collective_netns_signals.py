"""`fabriclab collective --netns` ends on SIGHUP (a closed terminal) and SIGTERM as on Ctrl-C:
exit 130, and the namespaces it made are gone (root)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

NETNS = Path("/run/netns")


def our_namespaces(pid: int) -> set[str]:
    """The named namespaces the descendants of `pid` run in (matched by inode)."""
    by_inode = {}
    for ns in NETNS.glob("fl-*"):
        try:
            by_inode[ns.stat().st_ino] = ns.name
        except OSError:
            pass
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            ppid = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("PPid:")))
            inode = os.stat(proc / "ns" / "net").st_ino
        except (OSError, StopIteration, ValueError):
            continue
        if ppid == pid and inode in by_inode:
            found.add(by_inode[inode])
    return found


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_ends_the_run_and_removes_its_namespaces(sig):
    proc = subprocess.Popen([sys.executable, "-m", "fabriclab", "collective", "allreduce", "--netns", "2",
                             "--size", "4M", "--rate", "10M", "--iters", "50", "--timeout", "300"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, seen = time.monotonic() + 60, set()
        while len(seen) < 2 and time.monotonic() < deadline and proc.poll() is None:
            # the agents: one per host namespace (a setup command in the bridge's is not one)
            seen |= {ns for ns in our_namespaces(proc.pid) if ns.rsplit("-", 1)[-1].startswith("h")}
            time.sleep(0.2)
        assert len(seen) == 2, f"agents never started in two namespaces ({proc.poll()})"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a failed assertion: end it through its own clean-up (SIGTERM)
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    tag = next(iter(seen)).split("-")[1]
    assert not [ns.name for ns in NETNS.glob(f"fl-{tag}-*")], "namespaces left behind"
