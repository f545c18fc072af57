"""`fabriclab lab list | start N | check N`: the teaching labs in labs/.

`start` brings the lab's topology up with the student's program (or --solution) through
`fabriclab net`, with the Mininet CLI (or --no-cli: up until Ctrl-C, for `fabriclab ctl`
and collectors in another terminal). `check` grades: one PASS/FAIL/SKIP line per
criterion with a hint, then a score; exit 0 when every criterion that ran passed, 1 when
one failed, 2 for bad input (no such lab, a lab already running). SIGTERM and SIGHUP (a
closed terminal) end both like Ctrl-C: the lab's `fabriclab net` tears its run down first
(`check` then exits 130).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from fabriclab.errors import FabricError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labs", type=Path, metavar="DIR",
                        help="the labs folder (default ./labs if present, else the clone's labs/)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="one line per lab: number, name, goal")
    for name, help_text in (("start", "bring the lab's topology up with your program"),
                            ("check", "grade your program: compile, hidden STF tests, Mininet run")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("number", metavar="N", help="lab number")
        p.add_argument("--solution", action="store_true", help="use the lab's solution instead")
        p.add_argument("--target", choices=("builtin", "bmv2"), default="builtin")
        if name == "start":
            p.add_argument("--no-cli", action="store_true",
                           help="no Mininet CLI: stay up until Ctrl-C")
        else:
            p.add_argument("--no-run", action="store_true",
                           help="skip the Mininet run: compile and STF only (quick, no root)")


def _list(labs) -> int:
    for lab in labs:
        note = f" [needs {lab.needs}]" if lab.needs else ""
        print(f"{lab.number}  {lab.slug:<22} {lab.goal}{note}")
    return 0


def _ready(lab, solution: bool) -> Path:
    if lab.needs:
        raise FabricError(f"lab {lab.number} needs {lab.needs}, which fabriclab does not have "
                          f"yet; see {lab.folder / 'README.md'}")
    program = lab.program(solution)
    if not program.is_file():
        raise FabricError(f"lab {lab.number}: no program at {program}")
    return program


def _start(lab, program: Path, target: str, cli: bool) -> int:
    from fabriclab.labs import runs
    from fabriclab.labs.lock import one_lab
    from fabriclab.p4 import compile_file

    compile_file(program)  # a compile error is bad input: exit 2 before anything exists
    with one_lab(lab.number):
        cmd = runs.net_command(lab, program, target, *(["--cli"] if cli else []))
        print(f"fabriclab lab: lab {lab.number} ({lab.name}) with {program}", flush=True)
        proc = subprocess.Popen(cmd)
        # Ctrl-C is the network's: the Mininet CLI uses it to stop a command, and without
        # the CLI, net tears down on it. SIGTERM and SIGHUP (a closed terminal, a lost SSH
        # session) are passed on as SIGTERM: net tears down on it, and we return its status.
        previous = {sig: signal.signal(sig, handler) for sig, handler in (
            (signal.SIGINT, signal.SIG_IGN),
            (signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM)),
            (signal.SIGHUP, lambda *_: proc.send_signal(signal.SIGTERM)))}
        try:
            return proc.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


CHILDREN_WAIT_S = 30.0  # a network's tear-down under load


def _children() -> list[int]:
    me, out = os.getpid(), []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split() if stat else []
        if fields and int(fields[1]) == me and fields[0] != "Z":
            out.append(int(entry))
    return out


def _stop_children(*_: object) -> None:
    """SIGTERM or SIGHUP during `check`: the grader's `fabriclab net` gets SIGTERM and tears
    its run down (we wait for it, bounded), then the check ends as interrupted (exit 130)."""
    children = _children()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + CHILDREN_WAIT_S
    while set(children) & set(_children()) and time.monotonic() < deadline:
        time.sleep(0.1)
    raise KeyboardInterrupt


def _check(lab, program: Path, target: str, mininet: bool) -> int:
    from fabriclab.labs.grader import grade, score
    from fabriclab.labs.lock import one_lab

    root = os.geteuid() == 0
    print(f"lab {lab.number} ({lab.name}): {program} on {target}", flush=True)
    results = []
    previous = {sig: signal.signal(sig, _stop_children) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with one_lab(lab.number) if root and mininet and lab.run else contextlib.nullcontext():
            for result in grade(lab, program, target, mininet=mininet):
                print(result.line(), flush=True)
                results.append(result)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    total = score(results)
    print(total.line())
    return 0 if total.ok else 1


def main(args: argparse.Namespace) -> int:
    from fabriclab.labs.registry import all_labs, find

    if args.action == "list":
        return _list(all_labs(args.labs))
    lab = find(args.number, args.labs)
    program = _ready(lab, args.solution)
    if args.action == "start":
        return _start(lab, program, args.target, not args.no_cli)
    return _check(lab, program, args.target, not args.no_run)
