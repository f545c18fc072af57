"""The `fabriclab` command: a thin dispatcher over subcommand modules.

Each subcommand lives in its own module exposing `add_arguments(parser)` and
`main(args) -> int`. Modules are imported only when their command runs, so `fabriclab
compile` does not pay for gRPC or Mininet imports.
"""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import importlib.util
import signal
import sys

from fabriclab import __version__
from fabriclab.errors import FabricError

# name -> (module, one-line help). Order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "compile": ("fabriclab.p4.cli", "compile a P4-16 program to P4Info and a pipeline artifact"),
    "stf": ("fabriclab.switch.stf_cli", "run a p4c-style STF test against the built-in switch"),
    "switch": ("fabriclab.switch.cli", "run a v1model switch (drop-in for simple_switch_grpc)"),
    "switch-cli": ("fabriclab.switch.admin_cli", "change a running switch's queues (rate, depth, delay)"),
    "net": ("fabriclab.net.cli", "bring up a topology in Mininet with P4 switches"),
    "collective": ("fabriclab.launch.cli", "run a RoCEv2 collective (all-reduce, all-to-all, ...)"),
    "ctl": ("controller.cli", "change routing mode, ECN and INT on running switches"),
    "int": ("controller.int_cli", "INT reports: `int plot RUN|CSV` draws queue depth per hop"),
    "run": ("experiments.cli", "run an experiment and write its CSV, JSON and figure"),
    "demo": ("fabriclab.demo", "the headline job that `make demo` runs"),
    "clean": ("fabriclab.net.clean", "remove namespaces, links and processes left by crashed runs"),
    "doctor": ("fabriclab.net.doctor", "check this machine and say what to fix"),
    "lab": ("fabriclab.labs.cli", "teaching labs: list, start one, check (grade) your program"),
    "view": ("fabriclab.view.cli", "the live fabric view in the browser (or a sim replay)"),
}


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fabriclab",
        description="fabriclab: P4-16 switches, a P4Runtime controller and RoCEv2 collectives "
        "for AI data-center networking experiments.",
    )
    parser.add_argument("--version", action="version", version=f"fabriclab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if _available(module):
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `kill -USR1 PID` prints every thread's stack to stderr: where a command that hangs is
    # (the process's own stderr: sys.stderr may be a capture without a file descriptor)
    if sys.__stderr__ is not None:
        try:
            faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
        except (OSError, ValueError):  # no file descriptor behind it (an embedding host)
            pass
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        args = parser.parse_args(argv)  # prints help/version/error and exits
        parser.print_help()
        return 2
    name = argv[0]
    module_name, help_text = COMMANDS[name]
    if not _available(module_name):
        print(f"fabriclab: '{name}' is not available in this version", file=sys.stderr)
        return 2
    module = importlib.import_module(module_name)
    sub = argparse.ArgumentParser(prog=f"fabriclab {name}", description=help_text)
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    try:
        return int(module.main(args) or 0)
    except FabricError as err:
        print(err if err.self_describing else f"fabriclab {name}: error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # a file or device the command could not use: say which, no traceback
        where = f"{err.filename}: " if err.filename else ""
        print(f"fabriclab {name}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fabriclab {name}: interrupted", file=sys.stderr)
        return 130
