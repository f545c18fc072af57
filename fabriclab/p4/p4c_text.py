"""IR nodes as p4c's error messages print them (its IR `toString`, and the debug printer
`dbprint` it uses inside an operator), so a quoted node reads as p4c quotes it.

    node_text(node) -> str          # 'f(b)', 'h = { f = 10 }', 'return x', '(bit<16>)a', ...

p4c quotes the node whose type unification failed, then its explanation (see
`typecheck.unifying`). The two printers differ: `toString` writes a sized
constant with its width (`32w2`) and a conditional as `?:`; `dbprint`, which prints an
operator's operands, writes every constant as its decimal value and parenthesises by
precedence. Nodes p4c does not print quote their IR class's name (`SelectExpression`).
"""

from __future__ import annotations

import contextvars
import re

from fabriclab.p4 import ir

# p4c's DBPrint precedences (ir/dbprint.h)
_POSTFIX, _PREFIX, _COND, _LOW = 15, 14, 3, 1
_BINARY = {"*": 13, "/": 13, "%": 13, "+": 12, "-": 12, "|+|": 12, "|-|": 12, "++": 12, "<<": 11, ">>": 11,
           "&": 10, "^": 9, "|": 8, "<": 7, "<=": 7, ">": 7, ">=": 7, "==": 6, "!=": 6, "&&": 5, "||": 4}
_PREFIXES = {2: "0b", 8: "0o", 16: "0x"}


def node_text(node: ir.Node | None) -> str:
    """`node` as p4c's `toString` prints it."""
    return _text(node, top=True)


def folded_text(node: ir.Node | None) -> str:
    """`node` as p4c's back end prints it, after the mid end folded constants: a literal given
    a parameter's type is a sized constant (`32w1`), not a cast."""
    token = _folded.set(True)
    try:
        return node_text(node)
    finally:
        _folded.reset(token)


_folded: contextvars.ContextVar[bool] = contextvars.ContextVar("folded", default=False)


def _text(node: ir.Node | None, top: bool = False) -> str:
    """`top`: the node quoted itself, not a part of it (a cast to a stack type is printed
    only then: inside another node p4c has made it a typed initializer by then)."""
    if node is None:
        return "DefaultExpression"  # an argument `_`
    if isinstance(node, ir.Constant):
        return _constant(node)
    if isinstance(node, ir.BoolLiteral):
        return "true" if node.value else "false"
    if isinstance(node, ir.StringLiteral):
        return f'"{node.value}"'
    if isinstance(node, ir.PathExpr):
        return ("." if node.absolute else "") + node.name
    if isinstance(node, ir.Member):
        return f"{_text(node.expr)}.{node.member}"
    if isinstance(node, ir.TypeMember):
        return f"{node.type_name}.{node.member}"
    if isinstance(node, ir.EnumMember):
        return f"{getattr(node.enum, 'name', 'error')}.{node.member}"
    if isinstance(node, ir.Index):
        return f"{_text(node.expr)}[{_text(node.index)}]"
    if isinstance(node, ir.Slice):
        if node.width is not None:
            return f"{_text(node.expr)}[{_text(node.lo)}+:{_text(node.width)}]"
        return f"{_text(node.expr)}[{_text(node.hi)}:{_text(node.lo)}]"
    if isinstance(node, ir.Unary):
        return node.op + _text(node.expr)
    if isinstance(node, (ir.Binary, ir.Mask, ir.Range)):
        return _db(node, _LOW)
    if isinstance(node, ir.Conditional):
        return "?:"
    if isinstance(node, ir.Cast):
        if node.target is None:  # a conversion the checker inserted: p4c quotes what was written
            return _text(node.expr)
        if isinstance(node.expr, (ir.ListExpr, ir.StructExpr, ir.InvalidHeader)) and \
                (isinstance(node.type, ir.StructLike) or isinstance(node.type, ir.StackType) and not top):
            return _text(node.expr)  # p4c has made it a typed initializer by then
        return f"({type_text(node.target)}){_text(node.expr)}"
    if isinstance(node, ir.ListExpr):
        return _braces(_text(i) for i in node.items)
    if isinstance(node, ir.StructExpr):
        return _braces(f"{name} = {_text(value)}" for name, value in node.fields)
    if isinstance(node, ir.Dots):
        return "..."
    if isinstance(node, ir.InvalidHeader):
        kind = getattr(node.type, "kind", None)
        return {"header": "InvalidHeader", "header_union": "InvalidHeaderUnion"}.get(kind, "Invalid")
    if isinstance(node, ir.DefaultExpr):
        return "DefaultExpression"
    if isinstance(node, ir.MethodCall):
        return f"{_callee(node)}({', '.join(_argument(a) for a in node.args)})"
    if isinstance(node, ir.ConstructorCall):
        return type_text(node.target)
    if isinstance(node, ir.Argument):
        return _argument(node)
    if isinstance(node, ir.CallStmt):
        return _text(node.call)
    if isinstance(node, ir.Assign):
        if node.compound and isinstance(node.rhs, ir.Binary):
            return f"{_text(node.lhs)} {node.rhs.op}= {_text(node.rhs.right)}"
        return f"{_text(node.lhs)} = {_text(node.rhs)}"
    if isinstance(node, ir.Return):
        return "return " + (_text(node.value) if node.value is not None else "")
    if isinstance(node, ir.BlockTypeDecl):
        return f"{node.kind} {node.name}"
    if isinstance(node, ir.For):
        return "ForInStatement" if node.for_in else "ForStatement"
    if isinstance(node, ir.Decl):
        return node.name
    return _CLASS_NAMES.get(type(node), type(node).__name__)


_CLASS_NAMES: dict[type, str] = {ir.SelectExpr: "SelectExpression", ir.Entry: "Entry", ir.If: "IfStatement",
                                 ir.Switch: "SwitchStatement", ir.Exit: "exit"}


def type_text(ref: ir.TypeRef | None) -> str:
    """A type as written, as p4c prints a type (`bit<16>`, `H<bit<32>>[3]`, `tuple<>`)."""
    if ref is None:
        return "?"
    width = _text(ref.width) if ref.width is not None else ""
    args = ", ".join(type_text(a) for a in ref.args)
    if ref.kind in ("bit", "int", "varbit"):
        return f"{ref.kind}<{width or 1}>" if ref.kind != "int" or width else "int"
    if ref.kind == "infint":
        return "int"
    if ref.kind == "stack":
        return f"{type_text(ref.args[0]) if ref.args else ref.name}[{width}]"
    if ref.kind == "specialized":
        return f"{ref.name}<{args}>"
    if ref.kind in ("tuple", "list"):
        return f"{ref.kind}<{args}>"
    if ref.kind == "dontcare":
        return "_"
    return ref.name or ref.kind


def checked_type_text(t: ir.Type | None) -> str:
    """A checked type as p4c prints one: structs, headers and blocks with their kind
    (`header H`), `{#}` before context types it as `Unknown type`."""
    if isinstance(t, (ir.StructLike, ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl)):
        kind = t.kind if isinstance(t, (ir.StructLike, ir.BlockTypeDecl)) else \
            "parser" if isinstance(t, ir.ParserDecl) else "control"
        return f"{kind} {external_name(t)}"
    if isinstance(t, ir.InvalidInitType):
        return "Unknown type"
    if isinstance(t, ir.DefaultValueType):
        return "ANYTYPE"
    if isinstance(t, ir.StackType):
        return f"{checked_type_text(t.elem)}[{t.size}]"
    if isinstance(t, ir.TupleType):
        return f"tuple<{', '.join(checked_type_text(e) for e in t.elems)}>"
    return t.display() if t is not None else "?"


def external_name(decl: ir.Decl) -> str:
    """p4c's externalName: a declaration's `@name`, else its name."""
    anno = decl.annotation("name")
    return anno.args[0] if anno and anno.args and isinstance(anno.args[0], str) else decl.name


def _constant(c: ir.Constant, sized: bool = True) -> str:
    """p4c's Util::toString: a sign, the width and `w`/`s` for a sized constant, the radix."""
    t = c.type.type if isinstance(c.type, ir.NewTypeDecl) else c.type
    width = f"{t.width}{'s' if t.signed else 'w'}" if isinstance(t, ir.BitType) and sized else ""
    value = c.value
    base = c.base if c.base in _PREFIXES else 10
    digits = format(abs(value), {2: "b", 8: "o", 16: "x", 10: "d"}[base])
    return f"{'-' if value < 0 else ''}{width}{_PREFIXES.get(base, '')}{digits}"


def _braces(items) -> str:
    items = list(items)
    return "{ " + ", ".join(items) + " }" if items else "{}"


def _callee(call: ir.MethodCall) -> str:
    target, method = call.target, call.method
    if target is None:
        return method
    if call.kind is None and (not method or isinstance(target, ir.Member) and target.member == method
                              or isinstance(target, ir.PathExpr) and target.name == method):
        return _text(target)  # not resolved yet: the callee expression as written
    return f"{_text(target)}.{method}"


def _argument(arg: ir.Argument) -> str:
    """An argument; an unsized literal given a parameter's type shows the cast p4c's type
    checker put around it (`f((bit<32>)2)`)."""
    value = arg.value
    text = _text(value)
    if isinstance(value, ir.Constant) and isinstance(value.type, ir.BitType) and written_unsized(value) \
            and not _folded.get():
        text = f"({checked_type_text(value.type)}){_constant(value, sized=False)}"
    return (f"{arg.name} = " if arg.name else "") + text


def written_unsized(e: ir.Expr | None) -> bool:
    """A constant written without a width (`2`, `0xFF`), whatever type it has been given."""
    return isinstance(e, ir.Constant) and _UNSIZED.fullmatch(e.text or "") is not None


_UNSIZED = re.compile(r"-?(0[xXbBoOdD])?[0-9a-fA-F_]+")


def _db(e: ir.Node | None, prec: int) -> str:
    """p4c's `dbprint` at precedence `prec`: how an operator prints its operands."""
    if isinstance(e, ir.Constant):
        return str(e.value)
    if isinstance(e, (ir.Binary, ir.Mask, ir.Range)):
        op, left, right = (e.op, e.left, e.right) if isinstance(e, ir.Binary) else \
            ("&&&", e.value, e.mask) if isinstance(e, ir.Mask) else ("..", e.lo, e.hi)
        own = _BINARY.get(op, _LOW)
        text = f"{_db(left, own)} {op} {_db(right, own + 1)}"
        return f"({text})" if prec > own else text
    if isinstance(e, ir.Unary):
        text = e.op + _db(e.expr, _PREFIX)
        return f"({text})" if prec > _PREFIX else text
    if isinstance(e, ir.Conditional):
        text = f"{_db(e.cond, _COND + 1)} ? {_db(e.then, _LOW)} : {_db(e.else_, _COND)}"
        return f"({text})" if prec > _COND else text
    if isinstance(e, ir.Member):
        return f"{_db(e.expr, _POSTFIX)}.{e.member}"
    if isinstance(e, ir.Index):
        return f"{_db(e.expr, _POSTFIX)}[{_db(e.index, _LOW)}]"
    if isinstance(e, ir.ListExpr):
        return "{" + ", ".join(_db(i, _LOW) for i in e.items) + "}"
    if isinstance(e, ir.StructExpr):  # one field per line (p4c's indented log lines)
        return "{" + "".join(f"\n  {name}:{_db(value, _LOW)};" for name, value in e.fields) + " }"
    if isinstance(e, ir.Cast) and (e.target is None or isinstance(e.expr, (ir.ListExpr, ir.StructExpr))
                                   and isinstance(e.type, ir.StructLike)):
        return _db(e.expr, prec)  # inserted, or made a typed initializer by then
    if isinstance(e, ir.DefaultExpr):
        return "default"
    if isinstance(e, ir.InvalidHeader):
        return "{#}" if not isinstance(e.type, ir.StructLike) else f"({checked_type_text(e.type)}){{#}}"
    return _text(e)
