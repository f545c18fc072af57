"""`fabriclab stf PROGRAM.p4 TEST.stf`: run p4c-style STF tests against the built-in switch.

Exit status 0 only if every expected packet arrived (and nothing unexpected did) and every
check held; 1 for a packet mismatch or a failed check (the first failure is printed: port,
packet index, expected vs received bytes and the first differing byte); 2 when the program
is rejected, a file is malformed or the run breaks (one line, never a traceback).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from fabriclab.errors import FabricError
from fabriclab.switch.ports import parse_port_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("The switch is simple_switch as p4c's runner starts it: one queue per port, "
                     "so a packet whose priority is not 0 is dropped unless the file says "
                     "'priority_queues N'. Timestamps are microseconds of a virtual clock, "
                     "1 us per packet. The commands: docs/stf.md.")
    parser.add_argument("program", help="P4-16 v1model program (.p4) or pipeline artifact (.json)")
    parser.add_argument("stf", nargs="+", help="STF test file(s)")
    parser.add_argument("-I", dest="include", action="append", default=[],
                        help="add an include directory for the preprocessor")
    parser.add_argument("-D", dest="defines", action="append", default=[],
                        help="define a preprocessor macro NAME[=VALUE]")
    parser.add_argument("--drop-port", type=int, default=511, help="drop port (default 511)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every received packet and value read back")


def load_program(path: str, include: list[str], defines: list[str]):
    from fabriclab.p4 import compile_file, load_artifact

    p = pathlib.Path(path)
    if not p.is_file():
        raise FabricError(f"{path}: no such file")
    if p.suffix == ".json":
        return load_artifact(p)
    macros = dict((d.split("=", 1) + ["1"])[:2] for d in defines)
    return compile_file(p, include_dirs=tuple(include), defines=macros)


def _run(program, stf_path: str, drop_port: int):
    """Parse and run one STF file; every way it can break is a FabricError naming the file."""
    from fabriclab.switch.core import SwitchCore
    from fabriclab.switch.stf import StfRunner, decode_stf, parse_stf

    try:
        data = pathlib.Path(stf_path).read_bytes()
    except OSError as err:
        raise FabricError(f"{stf_path}: {err.strerror}") from None
    commands = parse_stf(decode_stf(data, stf_path))
    try:
        runner = StfRunner(SwitchCore(program, drop_port=drop_port))
        return runner, runner.run(commands)
    except FabricError as err:
        raise FabricError(f"{stf_path}: {err}") from None
    except Exception as err:  # a switch bug must still end in one line and exit 2
        raise FabricError(f"{stf_path}: the run broke: {type(err).__name__}: {err}") from None


def main(args: argparse.Namespace) -> int:
    parse_port_number(str(args.drop_port), "--drop-port")
    try:
        program = load_program(args.program, args.include, args.defines)
    except FabricError:
        raise
    except Exception as err:  # a compiler bug must still end in one line and exit 2
        raise FabricError(f"{args.program}: the compiler broke: {type(err).__name__}: {err}") from None
    failed = 0
    for stf_path in args.stf:
        runner, result = _run(program, stf_path, args.drop_port)
        if args.verbose:
            for line in runner.log:
                print(f"  {line}")
            for port, packets in sorted(result.outputs.items()):
                for i, data in enumerate(packets):
                    print(f"  port {port} packet {i}: {data.hex().upper()}")
        if result.ok:
            print(f"PASS {stf_path}: {result.packets_sent} packet(s) sent, "
                  f"{result.expects_checked} expected packet(s) matched")
        else:
            failed += 1
            print(f"FAIL {stf_path}: {result.failures[0]}", file=sys.stderr)
    return 1 if failed else 0
