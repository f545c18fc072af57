"""Preprocessing with the system C preprocessor, as p4c does.

fabriclab's own core.p4/v1model.p4 come first on the include path so `#include <v1model.p4>`
resolves to them; `-I`/`-D`/`-U` work as in p4c, after p4c-bm2-ss's own `-D__TARGET_BMV2__`. The output keeps cpp's line markers, which
`SourceMap` uses to report errors against the user's original files.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping

from fabriclab.p4.diagnostics import CompileError, Diagnostic, SourcePos

INCLUDE_DIR = pathlib.Path(__file__).with_name("include")
# p4c-bm2-ss defines this before the command line's -D/-U (backends/bmv2/simple_switch/main.cpp),
# so `#ifdef __TARGET_BMV2__` code is compiled (p4c's fabric_20190420 clones INT reports with it)
TARGET_DEFINES = ("-D__TARGET_BMV2__",)


def preprocess(text: str, filename: str, include_dirs: Iterable[str] = (),
               defines: Mapping[str, str | None] | None = None, undefines: Iterable[str] = ()) -> str:
    """Run cpp over `text` (named `filename` in line markers and diagnostics); `undefines`
    come after `defines` (a name in both ends undefined: callers resolve order first)."""
    cpp = shutil.which("cpp")
    if cpp is None:
        raise CompileError([Diagnostic(None, "the C preprocessor 'cpp' is not installed "
                                             "(apt-get install cpp, or run `sudo make setup`)")])
    # p4c's own flags: comments kept (the lexer drops them; a string literal spanning lines
    # keeps its `//` text, pins_wbb's @entry_restriction), assembler mode (no C tokens)
    cmd = [cpp, "-C", "-undef", "-nostdinc", "-x", "assembler-with-cpp", "-w", "-I", str(INCLUDE_DIR),
           *TARGET_DEFINES]
    parent = pathlib.Path(filename).parent
    if filename and not filename.startswith("<"):
        cmd += ["-I", str(parent)]
    for inc in include_dirs:
        cmd += ["-I", str(inc)]
    for name, value in (defines or {}).items():
        cmd.append(f"-D{name}" if value is None else f"-D{name}={value}")
    cmd += [f"-U{name}" for name in undefines]
    cmd += ["-o", "-", "-"]
    # the text comes on stdin (in assembler mode cpp copies a `# 1 "name"` line through
    # rather than obey it): its line markers name `filename` instead of <stdin>
    marker = '"' + filename.replace("\\", "\\\\").replace('"', '\\"') + '"'
    proc = subprocess.run(cmd, input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError([_cpp_diagnostic(line.replace("<stdin>", filename), filename)
                            for line in proc.stderr.splitlines() if "error" in line]
                           or [Diagnostic(None, f"preprocessor failed: {proc.stderr.strip()}")])
    return _STDIN_MARKER.sub(lambda m: m.group(1) + marker, proc.stdout)


_STDIN_MARKER = re.compile(r'^(# \d+ )"<stdin>"', re.M)


def _cpp_diagnostic(line: str, filename: str) -> Diagnostic:
    """cpp reports `file:line:col: error: msg`; keep its position, drop its prefix."""
    parts = line.split(":", 4)
    if len(parts) == 5 and parts[1].strip().isdigit() and parts[2].strip().isdigit():
        return Diagnostic(SourcePos(parts[0], int(parts[1]), int(parts[2])),
                          parts[4].strip(), severity="error")
    return Diagnostic(None, line.strip())
