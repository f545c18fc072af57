"""Checks on the annotations of one declaration, as p4c makes them while parsing.

p4c parses the bodies of the annotations it knows (its front end's, P4Runtime's and the
BMv2 back end's: frontends/p4/parseAnnotations, control-plane/p4RuntimeAnnotations,
backends/bmv2/common/annotations) with its grammar's fragments: a body that does not fit
its annotation's shape is a syntax error (`@pkginfo` needs `key = value` pairs, `@hidden`
no arguments, `@id` an integer). It also rejects a structured annotation (`@x[...]`)
whose name another annotation of the same declaration uses, and `@name`, `@deprecated` and
`@noWarn` whose value is not a string (string literals concatenated with `++` fold to one).
Other annotations' bodies are free token lists.
"""

from __future__ import annotations

import ast
import operator
import re

from fabriclab.p4 import ir
from fabriclab.p4.diagnostics import CompileError, Diagnostic
from fabriclab.p4.parser import token_name

_EMPTY = {"atomic", "defaultonly", "hidden", "likely", "noSideEffects", "optional", "pure", "tableonly",
          "unlikely", "disable_optimization", "unroll", "nounroll", "metadata"}
_EXPRESSION = {"name", "deprecated", "noWarn", "length", "match"}
_KV_LIST = {"pkginfo", "platform_property"}
_EXPRESSION_LIST = {"synchronous", "field_list", "p4runtime_translation_mappings"}
_STRING = {"alias", "controller_header", "brief", "description", "selector_size_semantics"}
_INTEGER = {"priority", "id", "max_group_size", "max_member_weight"}
_STRING_LIST = {"command_line"}
_STRING_VALUED = {"name", "deprecated", "noWarn"}

# p4c's diagnostic names (lib/error_catalog.cpp), which `@noWarn("name")` may silence
DIAGNOSTIC_NAMES = frozenset({
    "legacy", "unknown", "unsupported", "unexpected", "expected", "not-found", "invalid", "expr", "overlimit",
    "insufficient", "uninitialized", "type-error", "target-error", "duplicate", "unreachable", "I/O error",
    "Target model error", "keys", "reserved", "failed", "deprecated", "unused", "missing", "ordering",
    "mismatch", "overflow", "ignore-prop", "type-inference", "parser-transition", "shadow",
    "uninitialized-use", "uninitialized-out-param", "ignore", "invalid-header", "duplicate-priorities",
    "entries-out-of-priority-order", "multi-header-extract", "branch", "inferred", "progress", "removed"})

# ... those that name errors only (no warning or info message has the name): an option
# cannot make one a warning
ERROR_ONLY_NAMES = frozenset({"legacy", "unexpected", "expected", "not-found", "overlimit", "insufficient",
                              "type-error", "target-error", "I/O error", "Target model error", "reserved"})

_TOKEN = re.compile(r'\s*("(?:\\.|[^"\\])*"|\d+[ws]\d\w*|\d\w*|[A-Za-z_]\w*|\+\+|&&&|\.\.|==|!=|<=|>=|&&|\|\||'
                    r'<<|>>|\S)')
_INT = re.compile(r"^(\d+[ws])?\d\w*$")
_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _tokens(body: str | None) -> list[str]:
    return [m.group(1) for m in _TOKEN.finditer(body or "")]


def _items(toks: list[str]) -> list[list[str]]:
    """The body split at its top-level commas (an empty body has no items)."""
    if not toks:
        return []
    items: list[list[str]] = [[]]
    depth = 0
    for tok in toks:
        if tok in ("(", "[", "{"):
            depth += 1
        elif tok in (")", "]", "}"):
            depth -= 1
        if tok == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(tok)
    return items


def body_items(body: str | None) -> list[list[str]]:
    """An annotation body's tokens, split at its top-level commas."""
    return _items(_tokens(body))


def _is_string(tok: str) -> bool:
    return tok.startswith('"')


def _body_error(anno: ir.Annotation) -> str | None:
    """What is wrong with a known annotation's body, or None (unknown ones: nothing)."""
    if anno.structured is not None:
        return None
    name, toks = anno.name, _tokens(anno.body)
    items = _items(toks)
    if name in _EMPTY:
        return f"@{name} should not have any arguments" if toks else None
    if name in _EXPRESSION:
        if not items or any(not i for i in items):
            return f"syntax error: @{name} needs an expression"
        return f"syntax error: @{name} takes one expression" if len(items) > 1 else None
    if name in _KV_LIST:
        return _kv_list_error(name, toks)
    if name in _EXPRESSION_LIST:
        return f"syntax error: empty expression in @{name}" if len(items) > 1 and not all(items) else None
    if name in _STRING:
        return None if len(toks) == 1 and _is_string(toks[0]) else f"syntax error: @{name} needs a string literal"
    if name in _INTEGER:
        return None if len(toks) == 1 and _INT.match(toks[0]) else f"syntax error: @{name} needs an integer"
    if name in _STRING_LIST:
        if not items or not all(len(i) == 1 and _is_string(i[0]) for i in items):
            return f"syntax error: @{name} needs a list of string literals"
        return None
    if name == "p4runtime_translation":
        return _translation_error(toks)
    return None


def _unexpected(toks: list[str], at: int, *expected: str) -> str:
    """p4c's bison parser's words for token `at` of an annotation body (its end:
    END_ANNOTATION), which none of `expected` (its grammar's token names) is."""
    found = token_name(toks[at], "") if at < len(toks) else "END_ANNOTATION"
    return f"syntax error, unexpected {found}" + (f", expecting {' or '.join(expected)}" if expected else "")


def _kv_list_error(name: str, toks: list[str]) -> str | None:
    """`@pkginfo(k = e, ...)`: p4c's kvList, a name, `=` and an expression per pair."""
    hint = f"\n(@{name} needs a list of key = value pairs)"
    at = 0
    for item in _items(toks) or [[]]:
        if not item or not _is_name(item[0]):
            return _unexpected(toks, at) + hint
        if item[1:2] != ["="]:
            return _unexpected(toks, at + 1, "=") + hint
        if len(item) == 2:  # no expression
            return _unexpected(toks, at + 2) + hint
        at += len(item) + 1  # and the comma
    return None


def _is_name(tok: str) -> bool:
    """A token p4c's grammar takes as a `name` (an identifier, or a keyword it allows there)."""
    return token_name(tok, "") == "IDENTIFIER" or tok in _SOFT_KEYWORDS


_SOFT_KEYWORDS = {"apply", "key", "actions", "state", "entries", "type", "priority", "list"}


def _translation_error(toks: list[str]) -> str | None:
    """`@p4runtime_translation(uri, type)`: p4c's grammar takes a string literal, a comma and
    the controller's type: `string`, `bit<W>` (W an integer) or W (legacy)."""
    def is_int(tok: str) -> bool:
        return bool(_INT.match(tok))

    shape = [(_is_string, ("STRING_LITERAL",)), (lambda t: t == ",", ('","',))]
    if len(toks) > 2 and toks[2] == "bit":
        shape += [(lambda t: t == "bit", ()), (lambda t: t == "<", ("<", "L_ANGLE_ARGS")),
                  (is_int, ("INTEGER",)), (lambda t: t == ">", (">", "R_ANGLE_SHIFT"))]
    else:
        shape.append((lambda t: t == "string" or is_int(t), ("BIT", "STRING", "INTEGER")))
    for i, (fits, expected) in enumerate(shape):
        if i >= len(toks) or not fits(toks[i]):
            return _unexpected(toks, i, *expected) + _TRANSLATION_HINT
    return _unexpected(toks, len(shape), "END_ANNOTATION") + _TRANSLATION_HINT if len(toks) > len(shape) else None


_TRANSLATION_HINT = "\n(@p4runtime_translation needs a URI string and a controller type: string, bit<W> or W)"


def _string_error(anno: ir.Annotation) -> str | None:
    """`@name`, `@deprecated`, `@noWarn`: one string (literals joined by `++` fold to one)."""
    if anno.name not in _STRING_VALUED or anno.structured is not None:
        return None
    toks = _tokens(anno.body)
    if len(toks) % 2 == 1 and all(_is_string(t) if i % 2 == 0 else t == "++" for i, t in enumerate(toks)):
        return None
    if anno.name == "name":
        return "@name: should contain a string"
    return f"{expression_text(toks)}: @{anno.name} annotation's value must be a string"


def fold_literals(text: str):
    """The value of a constant expression of literals, as p4c folds an annotation's (`5+6` is
    11, `1==2` false); ValueError for anything else."""
    py = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", text))
    try:
        return _evaluate(ast.parse(py.strip(), mode="eval").body)
    except (SyntaxError, ZeroDivisionError) as err:
        raise ValueError(text) from err


def _evaluate(node):
    """Literals and + - * / % == != < > <= >= and unary - on them, nothing else."""
    binops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.FloorDiv: operator.floordiv, ast.Div: operator.floordiv, ast.Mod: operator.mod}
    cmps = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.Gt: operator.gt,
            ast.LtE: operator.le, ast.GtE: operator.ge}
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, bool, str)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in binops:
        return binops[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else not value
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in cmps:
        return cmps[type(node.ops[0])](_evaluate(node.left), _evaluate(node.comparators[0]))
    raise ValueError(node)


_BINARY_OPS = frozenset({"+", "-", "*", "/", "%", "|", "&", "^", "<<", ">>", "==", "!=", "<", ">", "<=", ">=",
                         "&&", "||", "++", "|+|", "|-|", "&&&", ".."})


def expression_text(toks: list[str]) -> str:
    """An annotation body's tokens as p4c prints the expression they make: a binary
    operator between spaces, a comma followed by one."""
    return "".join(f" {t} " if t in _BINARY_OPS else ", " if t == "," else t for t in toks)


def unknown_diagnostic(anno: ir.Annotation) -> str | None:
    """p4c's warning for `@noWarn("x")` with no diagnostic of that name, or None."""
    if anno.name == "noWarn" and anno.args and isinstance(anno.args[0], str) and anno.args[0] \
            and anno.args[0] not in DIAGNOSTIC_NAMES:
        return f"@noWarn: unknown diagnostic name '{anno.args[0]}' in @noWarn annotation"
    return None


def structured_values(anno: ir.Annotation) -> list:
    """A structured annotation's values (a key = value list's values), or none."""
    if anno.structured is None:
        return []
    kind, items = anno.structured
    return [v for _, v in items] if kind == "kv" else list(items)


def unfolded_error(expr: ir.AnnotationExpr, kind_of) -> tuple[object, str]:
    """Where and why p4c rejects a structured annotation's expression that is no constant of
    literals (its type checking first); `kind_of(name)` says what a name is: "type",
    "extern" (an extern instance), "constant" or None. A named constant is a compile-time
    constant to p4c, which it may take: fabriclab folds literals only."""
    kinds = [kind_of(name) for name, _ in expr.names]
    for (name, pos), kind in zip(expr.names, kinds):
        if kind == "type":
            return pos, f"{name}: Type cannot be used here, expecting an expression."
    if expr.compared and all(kind_of(n) == "extern" for n in expr.compared):
        return expr.pos, f"{expr.compared[0]} and {expr.compared[1]}: externs cannot be compared"
    if "constant" in kinds:
        return expr.pos, f"unsupported: structured annotation value '{expr.text}' (fabriclab folds literals only)"
    return expr.pos, f"{expr.text}: structured annotation must be compile-time constant values"


def check_annotations(annos: list[ir.Annotation]) -> None:
    """Raise the first error among the annotations of one declaration (see the module doc)."""
    seen: dict[str, bool] = {}  # name -> the first annotation of that name is structured
    for anno in annos:
        message = _body_error(anno) or _string_error(anno)
        structured = anno.structured is not None
        if message is None and anno.name in seen and (seen[anno.name] or structured):
            message = f"@{anno.name}: duplicate name for structured annotation"
        seen.setdefault(anno.name, structured)
        if message is not None:
            raise CompileError([Diagnostic(anno.pos, message)])
