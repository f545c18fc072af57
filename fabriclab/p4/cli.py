"""`fabriclab compile`: P4-16 -> P4Info (text format) and the pipeline artifact.

Mirrors p4c's flags where they overlap (`-I`, `-D`, `--p4runtime-files`), so build
scripts written for `p4c-bm2-ss` need only the command name changed.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from fabriclab.errors import FabricError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", help="P4-16 source file (v1model)")
    parser.add_argument("-o", "--outdir", default=".",
                        help="directory for PROG.p4info.txtpb and PROG.json (default: .)")
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                        help="add DIR to the preprocessor include path")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                        help="define a preprocessor macro")
    parser.add_argument("--p4runtime-files", metavar="FILES",
                        help="comma-separated P4Info outputs; format by suffix: .txt/.txtpb (text), "
                             ".json, .bin (as p4c)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")


def _defines(items: list[str]) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name.isidentifier():
            raise FabricError(f"bad -D argument {item!r}: expected NAME or NAME=VALUE")
        result[name] = value if sep else None
    return result


def write_p4runtime_files(p4info, spec: str) -> list[pathlib.Path]:
    from google.protobuf import json_format, text_format

    from fabriclab.p4.compiler import P4INFO_TEXT_HEADER

    written = []
    for name in filter(None, spec.split(",")):
        path = pathlib.Path(name)
        suffix = path.suffix
        if suffix in (".txt", ".txtpb", ".pbtxt"):
            data = (P4INFO_TEXT_HEADER + text_format.MessageToString(p4info, as_utf8=False)).encode()
        elif suffix == ".json":
            data = json_format.MessageToJson(p4info).encode()
        elif suffix == ".bin":
            data = p4info.SerializeToString()
        else:
            raise FabricError(f"{name}: unknown P4Runtime file kind; known suffixes are .txt, .txtpb, .json, .bin")
        _write(path, data, make_folder=False)  # as p4c: a missing folder is an error
        written.append(path)
    return written


def _write(path: pathlib.Path, data: bytes, make_folder: bool = True) -> None:
    try:
        if make_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as err:
        raise FabricError(f"cannot write {path}: {err.strerror or err}") from None


def main(args: argparse.Namespace) -> int:
    from fabriclab.p4 import compile_file

    source = pathlib.Path(args.program)
    if not source.is_file():
        raise FabricError(f"{source}: no such file")
    compiled = compile_file(source, args.include_dirs, _defines(args.defines))
    for diag in compiled.warnings + compiled.infos:
        print(diag.format(), file=sys.stderr)
    compiled.checked_p4info()  # like p4c-bm2-ss --p4runtime-files: refuse what P4Info cannot express
    outdir = pathlib.Path(args.outdir)
    stem = source.stem
    _write(outdir / f"{stem}.p4info.txtpb", compiled.p4info_text.encode())
    _write(outdir / f"{stem}.json", compiled.to_artifact())
    written = [outdir / f"{stem}.p4info.txtpb", outdir / f"{stem}.json"]
    if args.p4runtime_files:
        written += write_p4runtime_files(compiled.p4info, args.p4runtime_files)
    if not args.quiet:
        info = compiled.p4info
        print(f"{source}: {len(info.tables)} tables, {len(info.actions)} actions -> "
              f"{', '.join(map(str, written))}", file=sys.stdout)
    return 0
