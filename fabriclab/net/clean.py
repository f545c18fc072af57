"""`fabriclab clean`: remove what crashed runs left behind, and only what is ours.

Ours means: processes carrying FABRICLAB_RUN in their environment (Mininet node shells,
switches, anything run inside our hosts), `fabriclab net` drivers, veths named `flv*`/`flq*`
and namespaces named `fl-*` (Mininet's `mn -c`, restricted to our names). A `fabriclab
switch` started by hand carries no marker: it belongs to no run and is left alone.
`--run NAME` limits it to one run's processes and recorded links, which is what the tests
and `fabriclab net`'s own tear-down use. Folders of finished runs under
fabriclab.paths.RUN_DIR are removed, except the newest `--keep` (their logs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from fabriclab.errors import FabricError
from fabriclab.paths import NETNS_PREFIX, RUN_DIR, VETH_PREFIX, RunDir, live_runs, run_name, run_of

LINK_PREFIXES = (VETH_PREFIX, "flq")  # flq: qdisc probes (linkparams.kernel_has_qdisc)
GRACE_S = 2.0       # SIGTERM -> SIGKILL
KILL_WAIT_S = 10.0  # SIGKILL -> gone; bounded so a stuck process cannot hang tear-down
LINK_WAIT_S = 10.0  # a veth whose peer's namespace is being destroyed goes away asynchronously
KEEP_RUNS = 5       # finished runs whose folders (logs) `clean` keeps
ROUNDS = 3          # a dying shell's child can show up marked after the first listing


@dataclass
class Cleaned:
    processes: list[int] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not (self.processes or self.links or self.namespaces or self.folders):
            return "nothing to clean"
        return (f"killed {len(self.processes)} processes, deleted {len(self.links)} links, "
                f"{len(self.namespaces)} namespaces and {len(self.folders)} run folders")


def _protected() -> set[int]:
    """This process and its ancestors (clean may itself run under a marked shell)."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return pids


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _fabriclab_command(pid: int) -> tuple[bytes, list[bytes]] | None:
    """(subcommand, its arguments) when `pid` runs `...fabriclab CMD ...`, else None."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for i, arg in enumerate(argv[:-1]):
        if arg.endswith(b"fabriclab"):
            return argv[i + 1], argv[i + 2:]
    return None


def is_switch_process(pid: int) -> bool:
    """argv has `...fabriclab switch` (the console script or `python -m fabriclab`)."""
    command = _fabriclab_command(pid)
    return command is not None and command[0] == b"switch"


def net_driver_run(pid: int) -> str | None:
    """The run of a `fabriclab net ... --run NAME` process (its marker is set after start-up,
    so /proc/PID/environ does not show it), else None."""
    command = _fabriclab_command(pid)
    if command is None or command[0] != b"net":
        return None
    args = command[1]
    for i, arg in enumerate(args):
        if arg == b"--run" and i + 1 < len(args):
            return args[i + 1].decode(errors="replace")
        if arg.startswith(b"--run="):
            return arg[len(b"--run="):].decode(errors="replace")
    return None


def run_processes(run: str | None) -> list[int]:
    """Live processes of `run` (any run when None), never this process or its ancestors."""
    protected = _protected()
    if run is not None:
        return [pid for pid in _all_pids() if pid not in protected
                and (run_of(pid) == run or net_driver_run(pid) == run)]
    return [pid for pid in _all_pids() if pid not in protected
            and (run_of(pid) is not None or (_fabriclab_command(pid) or (b"",))[0] == b"net")]


def kill(pids: list[int]) -> list[int]:
    """SIGTERM, a grace period, then SIGKILL, and wait (bounded) until every one is gone: a
    SIGKILLed process still shows in /proc until it has exited, which takes a while on a
    loaded machine. Returns the pids that were signalled."""
    signalled = _signal(pids, signal.SIGTERM)
    _wait_gone(signalled, GRACE_S)
    _signal([p for p in signalled if _alive(p)], signal.SIGKILL)
    _wait_gone(signalled, KILL_WAIT_S)
    return signalled


def _signal(pids: list[int], sig: int) -> list[int]:
    sent = []
    for pid in pids:
        try:
            os.kill(pid, sig)
            sent.append(pid)
        except ProcessLookupError:
            pass
    return sent


def _wait_gone(pids: list[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def existing_links() -> list[str]:
    return sorted(os.listdir("/sys/class/net"))


def delete_links(names: list[str]) -> list[str]:
    """Delete the links that exist among `names` and wait (bounded) until they are gone,
    retrying: the kernel removes a veth asynchronously when its peer's namespace dies, and
    `ip link del` can lose that race. Returns the names that existed."""
    present = [n for n in names if n in set(existing_links())]
    deadline = time.monotonic() + LINK_WAIT_S
    left = present
    while left:
        for name in left:  # deleting one end of a veth removes its peer too
            subprocess.run(["ip", "link", "del", name], capture_output=True)
        left = [n for n in left if n in set(existing_links())]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return present


def our_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines()
            if line.split() and line.split()[0].startswith(NETNS_PREFIX)]


def delete_namespaces(names: list[str]) -> list[str]:
    for name in names:
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True,
                              text=True).stdout.split()
        kill([int(p) for p in pids if int(p) not in _protected()])
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    return names


def clean_run(run: str) -> Cleaned:
    """Remove one run's processes and recorded links, and wait until they are gone."""
    done = Cleaned()
    for _ in range(ROUNDS):
        pids = run_processes(run)
        if not pids:
            break
        done.processes += kill(pids)
    done.links = delete_links(RunDir(run).recorded_links())
    return done


def clean_all(keep: int = KEEP_RUNS) -> Cleaned:
    """Remove every run's processes, every fl-prefixed link and namespace, and the folders
    of finished runs but the newest `keep`."""
    done = Cleaned(processes=kill(run_processes(None)))
    done.namespaces = delete_namespaces(our_namespaces())
    done.links = delete_links([n for n in existing_links() if n.startswith(LINK_PREFIXES)])
    done.folders = prune_run_folders(keep)
    return done


def prune_run_folders(keep: int) -> list[str]:
    """Delete the folders of runs with no live process, newest `keep` kept (their logs are
    what a user looks at after a failure); standalone switch sockets are not run folders."""
    live = live_runs()
    finished = sorted((d for d in RUN_DIR.glob("*") if d.is_dir() and d.name not in live),
                      key=lambda d: d.stat().st_mtime, reverse=True)
    for folder in finished[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return [d.name for d in finished[keep:]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="NAME", type=run_name,
                        help="clean only this run (default: everything of ours)")
    parser.add_argument("--keep", type=int, default=KEEP_RUNS, metavar="N",
                        help=f"keep the folders (logs) of the newest N finished runs "
                             f"(default {KEEP_RUNS}; without --run only)")


def main(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        raise FabricError("cleaning namespaces and links needs root: run with sudo")
    if args.keep < 0:
        raise FabricError(f"--keep: expected a count >= 0, got {args.keep}")
    print(clean_run(args.run) if args.run else clean_all(args.keep))
    return 0
