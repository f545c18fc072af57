"""`fabriclab switch --group FILE`: several switches in one process, on one event loop.

Why: in a Mininet fabric at moderate rates every frame arrives alone, and with a process
per switch it pays a wake-up, a context switch and a loop turn on cold caches at every
hop. In one process, a frame a switch sends into a neighbour's veth is in the neighbour's
receive ring before the send returns (veth delivery runs in the sender's softirq), so the
same wake-up carries it on (docs/speed.md, "Process layout").

Each switch keeps what it has alone: its ports, P4Runtime server, admin socket and pcaps,
and its own log file, which gets its log lines and its `ready` and `stopped` lines just as
a switch process writing there would. FILE is JSON: ``{"switches": [{"name": NAME, "log":
PATH, "args": [flags of `fabriclab switch`]}]}``.

Each switch also gets a member process, ``fabriclab switch --member-of PID --admin-socket
PATH``, which only waits: killing it stops that one switch (what `fabriclab ctl fail
switch` does to the process holding a switch's admin socket), and it ends with the group.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from fabriclab import paths
from fabriclab.cpu_share import share_of, take_share
from fabriclab.errors import FabricError
from fabriclab.switch import admin, cli
from fabriclab.switch.process import SwitchProcess, run_switches

LOG_FORMAT = "%(asctime)s.%(msecs)03d [%(levelname)s] %(message)s"


@dataclass
class MemberSpec:
    """One switch of the group: its name (log prefix), its log file and its flags."""

    name: str
    log: str
    args: list[str] = field(default_factory=list)


@dataclass
class Member:
    """A running switch of the group and the process that stands for it."""

    spec: MemberSpec
    running: cli.RunningSwitch
    stand_in: subprocess.Popen


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise FabricError(f"{self.prog}: {message}")


def load_specs(path: str) -> list[MemberSpec]:
    """The switches of a group file; a FabricError saying what is wrong with it."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as err:
        raise FabricError(f"--group: cannot read {path}: {err.strerror}") from None
    except ValueError as err:
        raise FabricError(f"--group: {path} is not JSON: {err}") from None
    entries = doc.get("switches") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise FabricError(f'--group: {path}: expected {{"switches": [...]}} with one or more')
    specs = []
    for i, entry in enumerate(entries):
        ok = (isinstance(entry, dict) and isinstance(entry.get("name"), str)
              and isinstance(entry.get("log"), str) and isinstance(entry.get("args"), list)
              and all(isinstance(a, str) for a in entry["args"]))
        if not ok:
            raise FabricError(f"--group: {path}: switch {i}: expected name, log (strings) "
                              "and args (a list of strings)")
        specs.append(MemberSpec(entry["name"], entry["log"], entry["args"]))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise FabricError(f"--group: {path}: switch names repeat")
    return specs


def parse_member(spec: MemberSpec) -> argparse.Namespace:
    parser = _Parser(prog=f"switch {spec.name}", add_help=False)
    cli.add_arguments(parser)
    args = parser.parse_args(spec.args)
    if args.group is not None or args.member_of is not None:
        raise FabricError(f"switch {spec.name}: --group and --member-of do not nest")
    cli.check_arguments(args)
    return args


def member_logger(spec: MemberSpec, args: argparse.Namespace) -> tuple[logging.Logger, bool]:
    """A logger writing to the member's own log file (and stderr, prefixed, with
    --log-console); whether per-packet logging was asked for, as `configure_logging` says."""
    asked = args.log_console or args.log_file
    level = cli.LOG_LEVELS[args.log_level or ("debug" if asked else "warn")]
    logger = logging.getLogger(f"fabriclab.switch.{spec.name}")
    logger.setLevel(level)
    logger.propagate = False
    targets = [spec.log] + ([args.log_file] if args.log_file else [])
    handlers: list[logging.Handler] = []
    for path in targets:
        try:
            handlers.append(logging.FileHandler(path))
        except OSError as err:
            raise FabricError(f"switch {spec.name}: cannot write {path}: {err.strerror}") from None
    for handler in handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%H:%M:%S"))
    if args.log_console:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter(f"{spec.name}: {LOG_FORMAT}", "%H:%M:%S"))
        handlers.append(console)
    for handler in handlers:
        logger.addHandler(handler)
    return logger, bool(asked) and level <= logging.DEBUG


def append_line(path: str, line: str) -> None:
    """A line in a member's log as a switch process of its own prints it on stdout."""
    with open(path, "a") as f:
        f.write(line + "\n")


def start_stand_in(admin_socket: str) -> subprocess.Popen:
    """The member process of one switch: it waits on its stdin (our pipe) and exits at its
    end; its stdout reaching its end tells us it died."""
    return subprocess.Popen([sys.executable, "-m", "fabriclab", "switch", "--member-of",
                             str(os.getpid()), "--admin-socket", admin_socket],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)  # no preexec_fn: gRPC threads run here


def start_member(spec: MemberSpec) -> Member:
    args = parse_member(spec)
    logger, packet_log = member_logger(spec, args)
    try:
        running = cli.open_switch(args, packet_log, logger)
    except FabricError as err:
        append_line(spec.log, f"fabriclab switch: error: {err}")  # what the net looks for
        raise FabricError(f"switch {spec.name}: {err}") from None
    admin_socket = args.admin_socket or str(admin.default_socket_path(args.device_id))
    try:
        stand_in = start_stand_in(admin_socket)
    except BaseException:
        running.close()
        raise
    member = Member(spec, running, stand_in)
    assert stand_in.stdout is not None
    running.switch.add_reader(stand_in.stdout, lambda: _stand_in_output(member))
    append_line(spec.log, running.ready_line)
    print(f"{spec.name}: {running.ready_line}", flush=True)
    return member


def _stand_in_output(member: Member) -> None:
    """The member process wrote (it never does) or ended: stop its switch at its end."""
    if not os.read(member.stand_in.stdout.fileno(), 64):
        member.running.switch.log.warning("member process %d ended: stopping this switch",
                                          member.stand_in.pid)
        member.running.switch.stop()


def finish(member: Member) -> None:
    """Close one switch, end its member process, and write its `stopped` line."""
    try:
        stopped = member.running.close()
    finally:
        stand_in = member.stand_in
        for pipe in (stand_in.stdin, stand_in.stdout):
            if pipe is not None:
                pipe.close()  # the end of its stdin ends it
        try:
            stand_in.wait(5)
        except subprocess.TimeoutExpired:
            stand_in.kill()
            stand_in.wait()
    append_line(member.spec.log, stopped)
    print(f"{member.spec.name}: {stopped}", flush=True)


def wait_for_end_of_input() -> int:
    """``--member-of``: block until our stdin (the group's pipe) ends; signals end us too."""
    paths.die_with_parent()
    while os.read(0, 4096):
        pass
    return 0


def main(args: argparse.Namespace) -> int:
    if args.member_of is not None:
        return wait_for_end_of_input()
    defaults = _defaults()
    extra = sorted(k for k, v in vars(args).items()
                   if k != "group" and k in defaults and v != defaults[k])
    if extra:
        raise FabricError(f"--group takes no other flag (each switch's go in FILE): "
                          f"{', '.join('--' + k.replace('_', '-') for k in extra)}")
    specs = load_specs(args.group)
    logging.basicConfig(format=f"group: {LOG_FORMAT}", datefmt="%H:%M:%S", stream=sys.stderr)
    why = take_share(len(specs))  # the weight of the switches it runs
    if why is not None:
        logging.getLogger("fabriclab.switch").warning(
            "cannot take the CPU share of %d switches (nice %d): %s", len(specs), share_of(len(specs)), why)
    members: dict[SwitchProcess, Member] = {}
    stopping = False

    def stop_all(*_: Any) -> None:
        nonlocal stopping
        stopping = True
        for switch in members:
            switch.stop()

    previous = {sig: signal.signal(sig, stop_all)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        for spec in specs:
            if stopping:
                break
            member = start_member(spec)
            members[member.running.switch] = member
        if not stopping:
            print(f"fabriclab switch: group ready: {len(members)} switches in process "
                  f"{os.getpid()}", flush=True)
            run_switches(list(members), on_stop=lambda switch: finish(members.pop(switch)))
    finally:
        for member in list(members.values()):
            finish(member)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _defaults() -> dict[str, Any]:
    parser = argparse.ArgumentParser(add_help=False)
    cli.add_arguments(parser)
    return vars(parser.parse_args([]))
