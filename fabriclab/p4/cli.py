"""`fabriclab compile`: P4-16 -> P4Info (text format) and the pipeline artifact.

Takes p4c-bm2-ss's command lines for what it supports, with p4c's meaning (`-o FILE.json`,
`--p4runtime-files`, `--p4runtime-entries-files`, `--p4v`/`--std`, `--arch`, `--target`,
`-I`/`-D`/`-U`, `--Wdisable`/`--Winfo`/`--Wwarn`/`--Werror`), so a build script written for
p4c-bm2-ss needs only the command name changed; flags it does not support are refused in one
line, never ignored. Warnings are printed before an error, as p4c prints them as it goes.
`-o DIR` (fabriclab's own usage) writes PROG.p4info.txtpb and PROG.json into DIR.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Callable

from fabriclab.errors import FabricError
from fabriclab.p4.diagnostics import CompileError, Diagnostic, DiagnosticActions

_W_OPTIONS = {"--Wdisable": "silence diagnostic NAME, or every warning",
              "--Winfo": "report NAME as an info",
              "--Wwarn": "report NAME as a warning, or every info as one",
              "--Werror": "report NAME as an error (no output, exit 2), or every warning as one"}
_P4_16 = {"--p4v": ("16", "1.2"), "--std": ("16", "p4-16")}  # (p4c's spellings)
_P4_14 = ("14", "1.0", "p4-14")

OUTPUT_HELP = ("a FILE for the pipeline artifact if PATH ends in .json, or has a suffix and is no "
               "directory (as p4c-bm2-ss -o: P4Info only where --p4runtime-files says); else a DIR "
               "for PROG.p4info.txtpb and PROG.json (default: .)")
EPILOG = ("--Wdisable/--Winfo/--Wwarn/--Werror take NAME only after `=` and, as p4c, the last one "
          "naming a diagnostic wins. Names are p4c's, as its messages tag them ([--Wwarn=NAME]): "
          "unused, uninitialized-use, invalid-header, overflow, shadow, parser-transition, ... "
          "(`-`, not `_`; p4c checks no name).")


def _language(flag: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value in _P4_16[flag]:
            return value
        if value in _P4_14:
            raise argparse.ArgumentTypeError(f"{value}: fabriclab compiles P4-16 only (P4-14 is not supported)")
        raise argparse.ArgumentTypeError(f"illegal language version {value}: only P4-16 is supported")
    return check


def _only(kind: str, supported: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value != supported:
            raise argparse.ArgumentTypeError(f"{kind} {value!r} is not supported: fabriclab compiles "
                                             f"for {supported} only")
        return value
    return check


class _InOrder(argparse.Action):
    """(flag, value) of several flags in one list, in command-line order: cpp applies -D and
    -U in order, and p4c's last --W option naming a diagnostic wins."""

    def __call__(self, parser, namespace, value, option_string=None) -> None:
        setattr(namespace, self.dest, [*getattr(namespace, self.dest), (option_string, value)])


class _Unsupported(argparse.Action):
    def __call__(self, parser, namespace, value, option_string=None) -> None:
        parser.error(f"{option_string} is {self.help}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("program", help="P4-16 source file (v1model)")
    parser.add_argument("-o", "--outdir", default=".", metavar="PATH", help=OUTPUT_HELP)
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                        help="add DIR to the preprocessor include path")
    parser.add_argument("-D", dest="macros", action=_InOrder, default=[], metavar="NAME[=VALUE]",
                        help="define a preprocessor macro")
    parser.add_argument("-U", dest="macros", action=_InOrder, default=[], metavar="NAME",
                        help="undefine a preprocessor macro")
    parser.add_argument("--p4runtime-files", metavar="FILES",
                        help="comma-separated P4Info outputs; format by suffix: .txtpb or .txt (text), "
                             ".json, .bin (as p4c)")
    parser.add_argument("--p4runtime-file", metavar="FILE",
                        help="one P4Info output in --p4runtime-format (p4c's deprecated form)")
    parser.add_argument("--p4runtime-entries-files", metavar="FILES",
                        help="comma-separated outputs of the program's table entries as a P4Runtime "
                             "WriteRequest; format by suffix, as --p4runtime-files")
    parser.add_argument("--p4runtime-entries-file", metavar="FILE",
                        help="one table-entries output in --p4runtime-format (p4c's deprecated form)")
    parser.add_argument("--p4runtime-format", choices=("binary", "json", "text"), default="binary",
                        help="format of --p4runtime-file and --p4runtime-entries-file (default: binary, as p4c)")
    parser.add_argument("--emit-externs", action=_Unsupported, nargs=0,
                        help="not supported (the built-in switch runs v1model's externs only)")
    for flag, values in _P4_16.items():
        parser.add_argument(flag, type=_language(flag), metavar="VERSION",
                            help=f"language version: {' or '.join(values)} (as p4c; P4-16 only)")
    parser.add_argument("--arch", type=_only("architecture", "v1model"), help="v1model only")
    parser.add_argument("--target", type=_only("target", "bmv2"), help="bmv2 only")
    for flag, what in _W_OPTIONS.items():
        parser.add_argument(flag, dest="diagnostics", action=_InOrder, nargs="?", default=[],
                            metavar="=NAME", help=what)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    plain = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        # p4c takes NAME only after `=`: `--Werror prog.p4` compiles prog.p4 (argparse's
        # optional argument would take it as the name)
        args = sys.argv[1:] if args is None else list(args)
        return plain([f"{a}=" if a in _W_OPTIONS else a for a in args], namespace)

    parser.parse_known_args = parse_known_args


def _macros(items: list[tuple[str, str]]) -> tuple[dict[str, str | None], list[str]]:
    """(-D definitions, -U names) with the effect of cpp reading them in order."""
    defines: dict[str, str | None] = {}
    undefines: list[str] = []
    for flag, item in items:
        name, sep, value = item.partition("=")
        if not name.isidentifier() or (flag == "-U" and sep):
            form = "NAME or NAME=VALUE" if flag == "-D" else "NAME"
            raise FabricError(f"bad {flag} argument {item!r}: expected {form}")
        defines.pop(name, None)
        if name in undefines:
            undefines.remove(name)
        if flag == "-D":
            defines[name] = value if sep else None
        else:
            undefines.append(name)
    return defines, undefines


_SUFFIX_KINDS = {".json": "json", ".bin": "binary", ".txtpb": "text", ".txt": "txt"}  # (p4c's order)


def _p4runtime_outputs(one: str | None, many: str | None, fmt: str) -> list[tuple[pathlib.Path, str]]:
    """(file, format) of each output of one kind (P4Info or entries), in p4c's order: the
    deprecated single file first, then the comma-separated ones by suffix ("txt" is text
    that p4c warns about)."""
    outputs = [(pathlib.Path(one), fmt)] if one else []
    for name in filter(None, (many or "").split(",")):
        kind = next((k for suffix, k in _SUFFIX_KINDS.items() if name.endswith(suffix)), None)
        if kind is None:
            raise FabricError(f"{name}: unknown file kind; known suffixes are .bin, .txt, .json, and .txtpb")
        outputs.append((pathlib.Path(name), kind))
    return outputs


def _write_p4runtime(message, outputs: list[tuple[pathlib.Path, str]]) -> list[pathlib.Path]:
    from fabriclab.p4.compiler import p4runtime_bytes

    for path, kind in outputs:
        # as p4c: a missing folder is an error
        _write(path, p4runtime_bytes(message, "text" if kind == "txt" else kind), make_folder=False)
    return [path for path, _ in outputs]


def _write(path: pathlib.Path, data: bytes, make_folder: bool = True) -> None:
    try:
        if make_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as err:
        raise FabricError(f"cannot write {path}: {err.strerror or err}") from None


def output_file(path: pathlib.Path) -> bool:
    """Whether `-o PATH` names the artifact file (p4c's -o) rather than a directory."""
    return path.suffix == ".json" or (bool(path.suffix) and not path.is_dir())


def _pragma_options(program) -> list[tuple[str, str | None]]:
    """The diagnostic options of a program's `@command_line("--Werror=x", ...)` and
    `@diagnostic("x", "error")` annotations, which p4c-bm2-ss applies after the command
    line's (frontends/common/applyOptionsPragmas.cpp)."""
    from fabriclab.p4 import ir

    found = []
    for node in ir.walk(program):
        for anno in getattr(node, "annotations", ()):
            if anno.name == "command_line":
                for arg in (a for a in anno.args if isinstance(a, str)):
                    flag, sep, name = arg.partition("=")
                    if flag in _W_OPTIONS:
                        found.append((flag.removeprefix("--W"), name if sep else None))
            elif anno.name == "diagnostic" and len(anno.args) == 2 and \
                    anno.args[1] in ("disable", "warn", "error") and isinstance(anno.args[0], str):
                found.append((anno.args[1], anno.args[0]))
    return found


def _txt_warning(outputs: list[tuple[pathlib.Path, str]]) -> list[Diagnostic]:
    """p4c's P4Runtime serializer's warning for a .txt of --p4runtime-files (not of --p4runtime-file)."""
    if any(kind == "txt" for _, kind in outputs):
        return [Diagnostic(None, ".txt format is being deprecated; use .txtpb instead", severity="warning")]
    return []


def _report(compiled, outputs: list[tuple[pathlib.Path, str]], actions: DiagnosticActions) -> None:
    """Print the warnings and infos `actions` leave, raise the ones it makes errors (p4c's
    P4Runtime serializer warns that .txt is deprecated)."""
    shown, errors = actions.apply(compiled.warnings + compiled.infos + _txt_warning(outputs))
    for diag in shown:
        print(diag.format(), file=sys.stderr)
    if errors:
        raise CompileError(errors)


def main(args: argparse.Namespace) -> int:
    from fabriclab.p4 import compile_file

    actions = DiagnosticActions()
    for flag, name in args.diagnostics:
        actions.set(flag.removeprefix("--W"), name or None)
    defines, undefines = _macros(args.macros)
    outputs = _p4runtime_outputs(args.p4runtime_file, args.p4runtime_files, args.p4runtime_format)
    entries_outputs = _p4runtime_outputs(args.p4runtime_entries_file, args.p4runtime_entries_files,
                                         args.p4runtime_format)
    source = pathlib.Path(args.program)
    if not source.is_file():
        raise FabricError(f"{source}: no such file")
    try:
        compiled = compile_file(source, args.include_dirs, defines, undefines)
    except CompileError as err:  # p4c prints the warnings of the passes before the error
        txt = _txt_warning(outputs + entries_outputs) if err.p4runtime is not None else []
        shown, promoted = actions.apply(err.warnings + txt)
        for diag in shown + promoted:  # (--Werror: those are errors too)
            print(diag.format(), file=sys.stderr)
        if err.p4runtime is not None:  # p4c-bm2-ss wrote them before its mid end failed
            _write_p4runtime(err.p4runtime[0], outputs)
            _write_p4runtime(err.p4runtime[1], entries_outputs)
        raise
    for action, name in _pragma_options(compiled.program):
        actions.set(action, name)
    _report(compiled, outputs + entries_outputs, actions)
    compiled.checked_p4info()  # like p4c-bm2-ss --p4runtime-files: refuse what P4Info cannot express
    target = pathlib.Path(args.outdir)
    written = _write_p4runtime(compiled.p4info, outputs)
    written += _write_p4runtime(compiled.p4runtime_entries, entries_outputs)
    if output_file(target):
        _write(target, compiled.to_artifact(), make_folder=False)  # (p4c makes no folder either)
        written.append(target)
    else:
        stem = source.stem
        _write(target / f"{stem}.p4info.txtpb", compiled.p4info_text.encode())
        _write(target / f"{stem}.json", compiled.to_artifact())
        written = [target / f"{stem}.p4info.txtpb", target / f"{stem}.json", *written]
    if not args.quiet:
        info = compiled.p4info
        print(f"{source}: {len(info.tables)} tables, {len(info.actions)} actions -> "
              f"{', '.join(map(str, written))}", file=sys.stdout)
    return 0
