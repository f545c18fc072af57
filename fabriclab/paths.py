"""Where fabriclab keeps its files, and how a run's files, kernel objects and processes are named.

- P4 programs: `p4src("fabric.p4")` finds the copy shipped inside the installed package, or
  the clone's p4src/ when running from a checkout. Nothing else walks up from `__file__`.
- Run-time files: not /tmp/fabriclab: a directory there named like the package shadows it
  for anyone who runs `python -m fabriclab` with cwd=/tmp (Python puts the cwd first on
  sys.path). FABRICLAB_RUN_ROOT overrides the location (tests point it at a temporary
  directory). Every run owns run_dir(run) = /tmp/fabriclab-run/<run>/ (switch logs
  `<switch>.log`, pcaps, `topology.json`, `links` listing the veths it creates, written
  *before* creating them, switch admin sockets `<switch>.sock`).
- Every process a run starts (Mininet node shells, switches, commands in hosts) inherits
  FABRICLAB_RUN=<run> in its environment, so `fabriclab clean` finds them even after the
  parent was SIGKILLed. Kernel objects carry the `fl` prefix: veths `flv<tag><node>-<port>`
  (tag: two characters from the run name, so concurrent runs of the same topology do not
  collide), namespaces `fl-...`.

These names sit at the ground layer because the net driver, the controller (link states,
`fabriclab ctl --run`) and the launchers all read them.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import signal
import socket
import zlib
from dataclasses import dataclass
from pathlib import Path

from fabriclab.errors import FabricError

RUN_DIR = Path(os.environ.get("FABRICLAB_RUN_ROOT", "/tmp/fabriclab-run"))
PACKAGE = Path(__file__).resolve().parent


def p4src(name: str = "") -> Path:
    """A shipped P4 program (or the p4src folder itself): the package's copy once installed,
    the clone's p4src/ in a checkout."""
    for folder in (PACKAGE / "p4src", PACKAGE.parent / "p4src"):
        if folder.is_dir():
            folder = folder.resolve()  # the clone's p4src/ through the package's link
            return folder / name if name else folder
    raise FabricError(f"no p4src folder next to {PACKAGE} (a broken install?)")


def run_dir(run: str) -> Path:
    """The files of one `fabriclab net` run: switch logs, topology.json, links, sockets."""
    return RUN_DIR / run


def run_switch_socket(run: str, switch: str) -> Path:
    """The admin socket of switch node `switch` in run `run`."""
    return run_dir(run) / f"{switch}.sock"


def switch_socket(device_id: int) -> Path:
    """A standalone `fabriclab switch`'s default admin socket (`switch-cli --device-id`)."""
    return RUN_DIR / f"switch-{device_id}.sock"


ENV = "FABRICLAB_RUN"
VETH_PREFIX = "flv"
NETNS_PREFIX = "fl-"
RUN_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
RUN_NAME_RULE = "use 1-64 letters, digits, '.', '_', '-'"


def run_name(value: str) -> str:
    """argparse type of every `--run NAME`: a bad name (an empty one included, which would
    otherwise read as "no run given") is a usage error, before anything starts."""
    if not RUN_RE.match(value):
        raise argparse.ArgumentTypeError(f"bad run name {value!r}: {RUN_NAME_RULE}")
    return value


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
            raise FabricError(f"bad run name {self.run!r}: {RUN_NAME_RULE}")

    @property
    def path(self) -> Path:
        return run_dir(self.run)

    def create(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def log(self, switch: str) -> Path:
        return self.path / f"{switch}.log"

    def admin_socket(self, switch: str) -> Path:
        return run_switch_socket(self.run, switch)

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

    def mark_starting(self) -> None:
        """While it exists, `fabriclab net` is still programming its switches: `ctl` waits
        (taking primary then would make the net's own writes fail)."""
        (self.path / "starting").touch()

    def mark_ready(self) -> None:
        (self.path / "starting").unlink(missing_ok=True)

    @property
    def starting(self) -> bool:
        return (self.path / "starting").exists()

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


def port_bindable(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a TCP server could listen on host:port now. The one port check: the switch's
    own start-up check and `net`/`doctor` preflight all use it, and it binds as gRPC's
    server does (SO_REUSEADDR), so a TIME_WAIT left by an earlier run counts as free while a
    live listener counts as busy. Lives here because every layer that picks ports uses it.
    A port outside 0..65535 is bad input, not a busy port."""
    if not 0 <= port <= 65535:
        raise FabricError(f"port {port} out of range: a TCP port is 0..65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies, so a switch or an
    agent never outlives a SIGKILLed launcher holding ports and veths. Call it in the child
    (as Popen's preexec_fn, or first thing in a program its launcher execs). The signal
    follows the parent *thread*: start such children from a thread that outlives them."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != parent or parent == 1:  # the parent died before we got here
        os._exit(1)
