"""How many bits a struct field (user metadata) can hold, from every write in the program.

A register or counter index read from such a field needs no range check when no write can
put a value past the array's size (fabric.p4's flowlet and notify slots: a hash() with a
constant max). Conservative: a write whose value is not bounded (an extern's out argument,
an action's or function's copy-out, a whole struct from anything but a struct expression or
another struct of its type, a slice) makes the field unbounded. Fields of
`standard_metadata_t` are written by the target too: never bounded.
"""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.switch.codegen_expr import max_bits, resolve
from fabriclab.switch.codegen_stmt import ir_nodes

UNBOUNDED = None  # a field some write may fill to its full width


class FieldRanges:
    """Per (struct name, field name): the most bits any write gives it (absent: never
    written, always 0; UNBOUNDED: its width)."""

    def __init__(self, program: ir.Program, target_struct: str) -> None:
        self.target_struct = target_struct
        self.bits: dict[tuple[str, str], int | None] = {}
        self.copies: list[tuple[tuple[str, str], tuple[str, str]]] = []  # field <- field
        nodes = list(ir_nodes(program))
        calls = {id(a): n for n in nodes if isinstance(n, ir.MethodCall) for a in n.args}
        for n in nodes:
            if isinstance(n, ir.Assign):
                self.assigned(n.lhs, n.rhs)
            elif isinstance(n, ir.VarDecl) and n.init is not None:
                self.whole(resolve(n.type), n.init)
            elif isinstance(n, ir.Argument) and n.value is not None and (
                    n.param is None or n.param.direction in ("out", "inout")):
                self.out_argument(calls.get(id(n)), n)  # a call's, or a table's action list's
        changed = True
        while changed:  # a field copied from another holds what that one may hold
            before = dict(self.bits)
            for dst, src in self.copies:
                self.note(dst, self.bits.get(src, 0))
            changed = self.bits != before

    def field_bits(self, e) -> int | None:
        """The most bits the field `e` (a Member of a struct) can hold, or None when `e` is
        not such a field or any write may fill it."""
        key = self.key(e)
        if key is None:
            return None
        return self.bits.get(key, 0)

    def key(self, e) -> tuple[str, str] | None:
        """(struct, field) of a bit field of a tracked struct (a struct-typed field is a
        whole struct: see `whole`)."""
        if not isinstance(e, ir.Member) or not isinstance(resolve(e.type), ir.BitType):
            return None
        base = resolve(e.expr.type)
        if not isinstance(base, ir.StructLike) or base.kind != "struct" or base.name == self.target_struct:
            return None
        return base.name, e.member

    def note(self, key: tuple[str, str], bits: int | None) -> None:
        old = self.bits.get(key, 0)
        self.bits[key] = UNBOUNDED if old is UNBOUNDED or bits is UNBOUNDED else max(old, bits)

    def assigned(self, lhs, rhs) -> None:
        key = self.key(lhs)
        if key is not None and self.key(rhs) is not None:
            self.copies.append((key, self.key(rhs)))
        elif key is not None:
            self.note(key, None if rhs is None else max_bits(rhs))
        elif isinstance(lhs, ir.Slice):
            self.assigned(lhs.expr, None)  # part of a field: any value of its width
        else:
            self.whole(resolve(lhs.type), rhs)

    def whole(self, t, value) -> None:
        """A whole struct of type `t` written with `value` (None: any value)."""
        if not isinstance(t, ir.StructLike) or t.kind != "struct" or t.name == self.target_struct:
            return
        if isinstance(value, ir.StructExpr):
            given = dict(value.fields)
            for f in t.fields:
                if f.name in given:
                    self.field_value(t, f, given[f.name])
            return
        if isinstance(value, (ir.PathExpr, ir.Member, ir.Index)):
            return  # another struct of this type: its fields are bounded alike
        for f in t.fields:
            self.field_value(t, f, None)

    def field_value(self, t: ir.StructLike, f, value) -> None:
        if isinstance(resolve(f.type), ir.StructLike):
            self.whole(resolve(f.type), value)
        else:
            self.note((t.name, f.name), None if value is None else max_bits(value))

    def out_argument(self, call: ir.MethodCall | None, arg: ir.Argument) -> None:
        """`arg` given to an out/inout parameter of `call` (None: an action bound in a
        table's action list)."""
        key = self.key(arg.value)
        if key is None:
            if isinstance(arg.value, ir.Slice):
                self.assigned(arg.value, None)
            elif call is not None and call.kind not in (
                    ir.CallKind.CONTROL_APPLY, ir.CallKind.PARSER_APPLY, ir.CallKind.ACTION):
                self.whole(resolve(arg.value.type), None)  # an extern fills a whole struct
            return  # a control, parser or action writes its fields by their names
        self.note(key, UNBOUNDED if call is None else _result_bits(call, arg))


def _result_bits(call: ir.MethodCall, arg: ir.Argument) -> int | None:
    """The most bits v1model's hash() or random() with constant bounds puts in their
    result (hash: base + (h mod max); random: at most hi); None for any other writer."""
    if call.kind != ir.CallKind.EXTERN_FUNCTION or not call.args or call.args[0] is not arg:
        return UNBOUNDED
    values = [a.value for a in call.args]
    consts = [v.value if isinstance(v, ir.Constant) else None for v in values]
    if call.method == "hash" and len(values) == 5 and consts[2] is not None and consts[4]:
        return (consts[2] + consts[4] - 1).bit_length()
    if call.method == "random" and len(values) == 3 and None not in consts[1:]:
        return max(consts[1], consts[2]).bit_length()
    return UNBOUNDED
