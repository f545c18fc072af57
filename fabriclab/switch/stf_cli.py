"""`fabriclab stf PROGRAM.p4 TEST.stf`: run p4c-style STF tests against the built-in switch.

Exit status 0 only if every expected packet arrived (and nothing unexpected did); on a
mismatch the first failure is printed: port, packet index, expected vs received bytes and
the first differing byte.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from fabriclab.errors import FabricError


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


def main(args: argparse.Namespace) -> int:
    from fabriclab.switch.core import SwitchCore
    from fabriclab.switch.stf import StfRunner, parse_stf

    program = load_program(args.program, args.include, args.defines)
    failed = 0
    for stf_path in args.stf:
        try:
            text = pathlib.Path(stf_path).read_text()
        except OSError as err:
            raise FabricError(f"{stf_path}: {err.strerror}") from None
        core = SwitchCore(program, drop_port=args.drop_port)
        runner = StfRunner(core)
        result = runner.run(parse_stf(text))
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
