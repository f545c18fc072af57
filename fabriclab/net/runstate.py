"""Where a run keeps its files, and how its kernel objects and processes are recognised.

Every run owns fabriclab.paths.run_dir(run) = /tmp/fabriclab-run/<run>/ (switch logs `<switch>.log`, pcaps, `topology.json`,
`links` listing the veths it creates, written *before* creating them, switch admin
sockets `<switch>.sock`). Every process a run
starts (Mininet node shells, switches, commands in hosts) inherits FABRICLAB_RUN=<run> in
its environment, so `fabriclab clean` finds them even after the parent was SIGKILLed.
Kernel objects carry the `fl` prefix: veths `flv<tag><node>-<port>` (tag: two characters
from the run name, so concurrent runs of the same topology do not collide), namespaces
`fl-...`.
"""

from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from fabriclab import paths
from fabriclab.errors import FabricError

ENV = "FABRICLAB_RUN"
VETH_PREFIX = "flv"
NETNS_PREFIX = "fl-"
RUN_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def run_tag(run: str) -> str:
    """Two base-36 characters derived from the run name."""
    n = zlib.crc32(run.encode()) % (36 * 36)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    return digits[n // 36] + digits[n % 36]


def veth_name(node: str, port: int, run: str | None = None) -> str:
    """Root-namespace name of a switch port's veth (<= 15 characters, IFNAMSIZ). `run`
    defaults to the current process's run (FABRICLAB_RUN, set while a FabricNet is up)."""
    run = run if run is not None else os.environ.get(ENV)
    name = f"{VETH_PREFIX}{run_tag(run) if run else ''}{node}-{port}"
    assert len(name) <= 15, name
    return name


@dataclass(frozen=True)
class RunDir:
    """The files of one run."""

    run: str

    def __post_init__(self) -> None:
        if not RUN_RE.match(self.run):
            raise FabricError(f"bad run name {self.run!r}: use letters, digits, '.', '_', '-'")

    @property
    def path(self) -> Path:
        return paths.run_dir(self.run)

    def create(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def log(self, switch: str) -> Path:
        return self.path / f"{switch}.log"

    def admin_socket(self, switch: str) -> Path:
        return paths.run_switch_socket(self.run, switch)

    def record_links(self, names: list[str]) -> None:
        (self.path / "links").write_text("".join(f"{n}\n" for n in names))

    def record_grpc_base_port(self, port: int) -> None:
        """So `fabriclab ctl --run` finds the switches without repeating --grpc-base-port."""
        (self.path / "grpc_base_port").write_text(f"{port}\n")

    def recorded_grpc_base_port(self) -> int | None:
        try:
            return int((self.path / "grpc_base_port").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def recorded_links(self) -> list[str]:
        try:
            return (self.path / "links").read_text().split()
        except FileNotFoundError:
            return []


def run_of(pid: int) -> str | None:
    """The FABRICLAB_RUN of a process, or None (not ours, gone, or unreadable)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in environ.split(b"\0"):
        if item.startswith(ENV.encode() + b"="):
            return item[len(ENV) + 1:].decode(errors="replace")
    return None


def live_runs() -> set[str]:
    """Runs that still have a process carrying their marker (a switch, a host shell)."""
    runs = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (run := run_of(int(entry.name))) is not None:
            runs.add(run)
    return runs
