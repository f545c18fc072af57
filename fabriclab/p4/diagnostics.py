"""Source positions and compiler diagnostics.

Every user error in a P4 program becomes a `Diagnostic` printed the way p4c and gcc print
them (`file:line:col: error: message`, the source line, a caret), positioned in the user's
original file thanks to cpp's line markers. `CompileError` is a `FabricError`, so the CLI
prints it and exits non-zero instead of showing a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fabriclab.errors import FabricError

_LINE_MARKER = re.compile(r'^#\s*(?:line\s+)?(\d+)\s+"((?:\\.|[^"\\])*)"')


@dataclass(frozen=True)
class SourcePos:
    """A position in an original source file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


CAUSE = "  ---- Actual error:"  # (p4c's line before the reason for a quoted node's error)


@dataclass
class Diagnostic:
    pos: SourcePos | None
    message: str
    source_line: str = ""
    severity: str = "error"
    # a type mismatch p4c finds by unification, so reports under the node it was checking
    # (typecheck.unifying quotes that node) ...
    mismatch: bool = False
    # ... and then the mismatch, under "---- Actual error:", with its own position; or, when
    # p4c reports it after unifying, these words after the quoted node, at the node
    after_quote: str = ""
    cause_pos: SourcePos | None = None

    def format(self) -> str:
        """The message's first line, the source line and a caret, then the message's other
        lines (as p4c prints an error with an explanation after it)."""
        where = f"{self.pos}: " if self.pos else ""
        lines = self.message.split("\n")
        n = 1  # a quoted node p4c prints on several (indented) lines is its first line still
        while n < len(lines) and lines[n].startswith("  ") and not lines[n].startswith(CAUSE):
            n += 1
        first, rest = "\n".join(lines[:n]), "\n".join(lines[n:])
        newline = "\n" if n < len(lines) else ""
        text = f"{where}{self.severity}: {first}"
        if self.pos and self.source_line:
            line = self.source_line.expandtabs(1).rstrip("\n")
            text += f"\n{line}\n{' ' * (self.pos.col - 1)}^"
        if self.cause_pos is not None:
            rest = rest.replace(f"{CAUSE}\n  ", f"{CAUSE}\n  {self.cause_pos}: ", 1)
        return text + newline + rest


class CompileError(FabricError):
    """A P4 program was rejected; carries one or more diagnostics."""

    in_mid_end = False  # raised by what p4c's mid end does (passes.PassManager)
    # (P4Info, WriteRequest) of a program p4c's front end accepted: p4c-bm2-ss writes its
    # P4Runtime files before the mid end, so they are left behind by an error raised there
    p4runtime: tuple | None = None

    def __init__(self, diagnostics: list[Diagnostic], warnings: list[Diagnostic] | None = None):
        self.diagnostics = diagnostics
        # what the passes before the error warned about: p4c prints those before the error
        self.warnings = warnings or []
        self.self_describing = any(d.pos for d in diagnostics)
        super().__init__("\n".join(d.format() if self.self_describing else d.message
                                   for d in diagnostics))

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]


class TargetError(CompileError):
    """A program p4c's front end accepts but its BMv2 back end (p4c-bm2-ss) rejects: a rule
    of the simple_switch target, not of the language (p4info/corpus figures tell them apart)."""


# a comment or a string literal, which may span lines (an unterminated one runs to the end)
_SPANS = re.compile(r'//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|[^"\\])*(?:"|\Z)', re.S)


def _lines_inside_literals(text: str) -> set[int]:
    """The (0-based) lines that start inside a string or a comment: a `# 369 "f"` there is
    text, not a line marker (p4c's lexer reads it in the string: pins_middleblock's
    multi-line @entry_restriction)."""
    inside: set[int] = set()
    for m in _SPANS.finditer(text):
        if "\n" in m.group(0):
            first = text.count("\n", 0, m.start()) + 1
            inside.update(range(first, first + m.group(0).count("\n")))
    return inside


@dataclass
class SourceMap:
    """Maps positions in cpp's output back to the original files via its line markers."""

    text: str
    default_file: str = "<string>"
    _origin: list[tuple[str, int]] = field(default_factory=list, repr=False)
    _lines: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._lines = self.text.split("\n")
        quoted = _lines_inside_literals(self.text)
        current_file, current_line = self.default_file, 1
        for i, raw in enumerate(self._lines):
            match = _LINE_MARKER.match(raw) if i not in quoted else None
            if match:
                self._origin.append((current_file, 0))
                current_line = int(match.group(1))
                current_file = re.sub(r"\\(.)", r"\1", match.group(2))
                continue
            self._origin.append((current_file, current_line))
            current_line += 1

    def pos(self, line: int, col: int) -> SourcePos:
        """Original position of a (1-based) line/column in the preprocessed text."""
        if 1 <= line <= len(self._origin):
            file, orig = self._origin[line - 1]
            return SourcePos(file, orig, col)
        return SourcePos(self.default_file, line, col)

    def line_text(self, line: int) -> str:
        return self._lines[line - 1] if 1 <= line <= len(self._lines) else ""

    def diagnostic(self, line: int, col: int, message: str) -> Diagnostic:
        return Diagnostic(self.pos(line, col), message, self.line_text(line))



def refine(diagnostics: list[Diagnostic], smap: SourceMap, originals: dict[str, str] | None = None) -> list[Diagnostic]:
    """Point diagnostics at the user's original text.

    cpp may change runs of whitespace and comments (a macro's expansion drops them), so a
    column in its output can be left of the same token in the file; the original line (from
    `originals` or disk) is aligned with cpp's line to recover the true column and shown
    instead of cpp's line.
    """
    index: dict[tuple[str, int], int] = {}
    for i, origin in enumerate(smap._origin):
        index.setdefault(origin, i + 1)
    originals = {} if originals is None else originals

    def refined(pos: SourcePos, source_line: str) -> tuple[SourcePos, str]:
        pre_line = index.get((pos.file, pos.line))
        pre_text = smap.line_text(pre_line) if pre_line else source_line
        orig_text = _original_line(pos.file, pos.line, originals)
        if orig_text is None:
            return pos, source_line or pre_text
        return SourcePos(pos.file, pos.line, _align(pre_text, orig_text, pos.col)), orig_text

    for diag in diagnostics:
        if diag.pos is not None:
            diag.pos, diag.source_line = refined(diag.pos, diag.source_line)
        if diag.cause_pos is not None:
            diag.cause_pos = refined(diag.cause_pos, "")[0]
    return diagnostics


def _original_line(file: str, line: int, originals: dict[str, str]) -> str | None:
    text = originals.get(file)
    if text is None:
        try:
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            return None
        originals[file] = text
    lines = text.split("\n")
    return lines[line - 1] if 1 <= line <= len(lines) else None


def _skip_blank(text: str, j: int) -> int:
    """Skip whitespace and comments in an original line."""
    while j < len(text):
        if text[j].isspace():
            j += 1
        elif text.startswith("/*", j):
            end = text.find("*/", j + 2)
            j = len(text) if end < 0 else end + 2
        elif text.startswith("//", j):
            return len(text)
        else:
            break
    return j


def _align(pre: str, orig: str, col: int) -> int:
    """Column in `orig` of the character at `col` in `pre` (unchanged if they diverge)."""
    target = col - 1
    i = j = 0
    while i < target and i < len(pre):
        if pre[i].isspace() or pre.startswith(("/*", "//"), i):
            i = _skip_blank(pre, i)
            j = _skip_blank(orig, j)
            continue
        if j >= len(orig) or orig[j] != pre[i]:
            return col
        i += 1
        j += 1
    if i != target:
        return col
    if target < len(pre) and not pre[target].isspace():
        j = _skip_blank(orig, j)
        if j >= len(orig) or orig[j] != pre[target]:
            return col
    return j + 1


# p4c's diagnostic name (lib/error_catalog.cpp) of each warning and info fabriclab gives, told
# by its words: the ErrorType p4c reports it under, as its stderr files tag it (`[--Wwarn=NAME]`)
_NAMED: list[tuple[str, str]] = [
    (r"^out parameter '.*' may be uninitialized when", "uninitialized-out-param"),
    (r" may (be uninitialized|not be completely initialized)$", "uninitialized-use"),
    (r"^accessing a field of (an|a potentially) invalid header ", "invalid-header"),
    (r": reading uninitialized value$", "uninitialized"),
    (r"is unused$", "unused"),
    (r": Using deprecated feature |^The @priority annotation on Entry |format is being deprecated", "deprecated"),
    (r": 'out' argument has fields in common with ", "ordering"),
    (r"^'.*' shadows '", "shadow"),
    (r"^Entry and Entry have the same priority ", "duplicate-priorities"),
    (r"have priorities out of order", "entries-out-of-priority-order"),
    (r"^Ternary entry covered by previous entry", "keys"),
    (r"^KeyElement: constant key element", "ignore-prop"),
    (r": Constant key field$|^P4Runtime requires that \w+ matches have masked-off bits|"
     r": negative value with unsigned type$|^Cannot find a good name for ", "mismatch"),
    (r"does not fit in \d+ bits$|zero-width integer cannot have |: [Ss]hifting (\d+-bit )?value with ", "overflow"),
    (r"Range with end less than start", "invalid"),
    (r"implicit transition to `reject'|^SelectCase: unreachable|^SelectExpression: no case matches|"
     r": transition does not depend on select argument", "parser-transition"),
    (r"^accept state in parser .* is unreachable$", "unreachable"),
    (r"^SwitchCase: fallthrough with no statement|^Program does not contain a (`main'|main) module", "missing"),
    (r"^ignoring @(likely|unlikely) on ", "branch"),
    (r"^Ignoring annotation @", "ignore"),
    (r"^@noWarn: unknown diagnostic name ", "unknown"),
    (r"^Can't unroll loop", "unsupported"),
    (r"^removing (table|control|parser) '", "removed"),
]
_NAMED_RE = [(re.compile(pattern), name) for pattern, name in _NAMED]


def diagnostic_name(diag: Diagnostic) -> str | None:
    """p4c's name for a warning or info (what `--Wdisable=NAME` etc. select), None if unknown."""
    first = diag.message.split("\n", 1)[0]
    for text in dict.fromkeys((first, diag.message)):  # (a quoted string literal spans lines)
        name = next((name for pattern, name in _NAMED_RE if pattern.search(text)), None)
        if name is not None:
            return name
    return None


@dataclass
class DiagnosticActions:
    """p4c's `--Wdisable`, `--Winfo`, `--Wwarn`, `--Werror` (lib/error_reporter.h): an action
    per name (the last option naming it wins) before the defaults; without a name, `--Wdisable`
    and `--Werror` set every warning's, `--Wwarn` makes every info a warning. p4c ignores
    `branch` unless told otherwise (ErrorCatalog::initReporter)."""

    named: dict[str, str] = field(default_factory=lambda: {"branch": "ignore"})
    warning: str = "warn"
    info: str = "info"

    def set(self, action: str, name: str | None) -> None:
        """Apply one option; `action` is disable, info, warn or error (FabricError as p4c's)."""
        from fabriclab.p4.annotations import ERROR_ONLY_NAMES
        action = "ignore" if action == "disable" else action
        if name is not None:
            if action != "error" and name in ERROR_ONLY_NAMES:
                raise FabricError(f"Error {name} cannot be demoted.")  # (p4c's words)
            self.named[name] = action
        elif action in ("ignore", "error"):
            self.warning = action
        elif action == "warn":
            self.info = "warn"

    def action(self, diag: Diagnostic) -> str:
        default = self.warning if diag.severity == "warning" else self.info
        name = diagnostic_name(diag)
        if name in self.named:
            return self.named[name]
        return self.warning if default == "warn" else default

    def apply(self, diags: list[Diagnostic]) -> tuple[list[Diagnostic], list[Diagnostic]]:
        """(the warnings and infos to show, the errors), each a copy with its new severity; as
        p4c's reporter, none after the first error (errors bury nothing)."""
        from dataclasses import replace
        shown: list[Diagnostic] = []
        errors: list[Diagnostic] = []
        for diag in diags:
            action = self.action(diag)
            if action == "error":
                errors.append(replace(diag, severity="error"))
            elif action != "ignore" and not errors:
                shown.append(replace(diag, severity="warning" if action == "warn" else "info"))
        return shown, errors
