"""The short Mininet runs that `lab check` uses, and the `lab start` command line.

Both go through the public `fabriclab net` command in a subprocess, so the lab never
depends on how the net driver is built inside. Checks return (passed, one-line detail).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable

from fabriclab.labs.registry import Lab

FABRICLAB = (sys.executable, "-m", "fabriclab")
#: `lab check` brings its topology up on these P4Runtime ports, away from a user's
#: `fabriclab net` on the default 9559..
CHECK_GRPC_BASE = 9760
RUN_TIMEOUT_S = 240


def net_command(lab: Lab, program: Path, target: str, *extra: str) -> list[str]:
    """`fabriclab net` for this lab's topology with `program`."""
    return [*FABRICLAB, "net", *lab.topology, "--program", str(program), "--target", target,
            "--run", lab.run_name, *extra]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def run_net(cmd: list[str], timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run a `fabriclab net` that ends by itself (--pingall); on timeout SIGTERM it (net
    tears its run down on SIGTERM) and report the timeout as a failed run."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate()
        return subprocess.CompletedProcess(cmd, 124, f"{out}\ntimed out after {timeout:.0f} s")
    return subprocess.CompletedProcess(cmd, proc.returncode, out)


def check_pingall(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """Every host reaches every other through the student's program on the lab topology."""
    done = run_net(net_command(lab, program, target, "--pingall",
                               "--grpc-base-port", str(CHECK_GRPC_BASE)))
    pings = [line.strip() for line in done.stdout.splitlines() if "Results:" in line]
    summary = pings[-1] if pings else _last_line(done.stdout)
    return done.returncode == 0, f"pingall on {' '.join(lab.topology)}: {summary}"


CHECKS: dict[str, Callable[[Lab, Path, str], tuple[bool, str]]] = {
    "pingall": check_pingall,
}
