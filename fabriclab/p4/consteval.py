"""Compile-time evaluation of operators on constants, with P4's width semantics.

Sized values wrap to their width (unsigned modulo 2^W; signed as two's complement, stored as
the signed Python value); `IntType` values are exact. Used by the type checker to fold
constant subexpressions, and usable by the switch for the same arithmetic at run time.
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from fabriclab.p4 import ir


def literal_text(value: int, width: int | None = None, signed: bool = False, base: int = 10) -> str:
    """A constant as p4c prints it (Util::toString): sign, `8w`/`8s` (no width: none, nor for
    width 0), `0x`/`0o`/`0b` by its base, lowercase digits, no `_`."""
    digits = {2: f"0b{abs(value):b}", 8: f"0o{abs(value):o}", 16: f"0x{abs(value):x}"}.get(base, str(abs(value)))
    size = f"{width}{'s' if signed else 'w'}" if width else ""
    return f"{'-' if value < 0 else ''}{size}{digits}"


def wrap(value: int, typ: ir.Type) -> int:
    """Reduce `value` to the representable range of `typ` (bit<W> / int<W>); ints unchanged."""
    if isinstance(typ, ir.BitType):
        value &= (1 << typ.width) - 1
        if typ.signed and value >> (typ.width - 1):
            value -= 1 << typ.width
    elif isinstance(typ, ir.EnumDecl) and typ.underlying is not None:
        return wrap(value, typ.underlying)
    return value


def saturate(value: int, typ: ir.BitType) -> int:
    if typ.signed:
        low, high = -(1 << (typ.width - 1)), (1 << (typ.width - 1)) - 1
    else:
        low, high = 0, (1 << typ.width) - 1
    return max(low, min(high, value))


class FoldError(ValueError):
    """An operator cannot be evaluated on these constants (e.g. division by zero)."""


MAX_WIDTH = 2048  # p4c's maximumWidthSupported
MAX_INT_BITS = 1 << 16  # arbitrary-precision `int` constants: a larger result is a diagnostic, not a MemoryError


def shift(op: str, a: int, b: int, typ: ir.Type) -> int:
    """`a << b` / `a >> b` without building numbers wider than the result needs.

    bit<W>/int<W>: shifting left by >= W gives 0 (the bits fall off), right by >= W gives 0 or
    -1 (sign). An `int` result wider than MAX_INT_BITS cannot be a useful constant: FoldError.
    """
    if b < 0:
        raise FoldError("shift by a negative amount")
    if b > MAX_WIDTH:  # (p4c's constant folding refuses it whatever the operand)
        raise FoldError(f"Compiler only supports widths up to {MAX_WIDTH}")
    if op == ">>":
        return wrap(a >> min(b, max(a.bit_length(), 1) + 1), typ)
    width = typ.width if isinstance(typ, ir.BitType) else None
    if width is not None:
        return wrap(a << b, typ) if b < width else 0
    if a and a.bit_length() + b > MAX_INT_BITS:
        raise FoldError(f"'{a} << {b}' needs more than {MAX_INT_BITS} bits; shift a sized (bit<W>) value instead")
    return wrap(a << b, typ)


def binary(op: str, a: int, b: int, typ: ir.Type, right_type: ir.Type | None = None) -> int | bool:
    """Evaluate `a op b` where the result type is `typ` (bool for comparisons)."""
    if op in ("==", "!="):
        return (a == b) == (op == "==")
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == ">=":
        return a >= b
    if op in ("/", "%"):  # (p4c's constant folding's words)
        name = "Division" if op == "/" else "Modulo"
        if a < 0 or b < 0:
            raise FoldError(f"{name} is not defined for negative numbers")
        if b == 0:
            raise FoldError(f"{name} by zero")
        return wrap(a // b if op == "/" else a % b, typ)
    if op == "|+|" and isinstance(typ, ir.BitType):
        return saturate(a + b, typ)
    if op == "|-|" and isinstance(typ, ir.BitType):
        return saturate(a - b, typ)
    if op == "++":
        width = right_type.width if isinstance(right_type, ir.BitType) else 0
        return wrap((a << width) | (b & ((1 << width) - 1)), typ)
    if op in ("<<", ">>"):
        return shift(op, a, b, typ)
    ops = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
           "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
           "|+|": lambda: a + b, "|-|": lambda: a - b}
    if op in ops:
        return wrap(ops[op](), typ)
    raise FoldError(f"cannot evaluate operator '{op}' at compile time")


def unary(op: str, a: int, typ: ir.Type) -> int:
    if op == "-":
        return wrap(-a, typ)
    if op == "~":
        if isinstance(typ, ir.BitType):
            return wrap(~a, typ)
        raise FoldError("'~' needs a sized operand")
    return a


def cast(value: int, typ: ir.Type) -> int:
    return wrap(value, typ)


INSTANCE_OPS = ("+", "-", "*")  # what a value known per block instance may be computed with


def known_value(e: ir.Expr, env: Mapping[int, int | bool], ops: Container[str] | None = None
                ) -> int | bool | None:
    """`e`'s value, with P4's widths, where the constants `env` holds (by id of the declaration
    a name refers to) decide it; None where anything else does, or where it cannot be folded.
    `ops`: the binary operators it may be computed with (any if None). One evaluator for a
    block instance's constructor arguments, a state's local constants and a loop's steps."""
    if isinstance(e, (ir.Constant, ir.BoolLiteral)):
        return e.value
    if isinstance(e, ir.PathExpr):
        return env.get(id(e.decl))
    if isinstance(e, ir.Cast):
        inner = known_value(e.expr, env, ops)
        return None if inner is None or isinstance(inner, bool) else cast(inner, e.type)
    if isinstance(e, ir.Unary) and e.op == "!":
        inner = known_value(e.expr, env, ops)
        return None if inner is None else not inner
    if isinstance(e, ir.Binary) and (ops is None or e.op in ops):
        left, right = known_value(e.left, env, ops), known_value(e.right, env, ops)
        if left is None or right is None:
            return None
        try:
            return binary(e.op, left, right, e.type, e.right.type)
        except FoldError:
            return None
    return None


def instance_value(e: ir.Expr, args: dict[int, int]) -> int | None:
    """The value of `e` in one instance of its block, whose numeric constructor parameters
    have the values `args` (by id of the parameter); None if it is not known there."""
    value = known_value(e, args, INSTANCE_OPS)
    return None if isinstance(value, bool) else value
