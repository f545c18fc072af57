"""Pass: p4c's warning for reading a header stack's `next` ("hs.next: reading uninitialized
value", from its FindUninitialized): `next` names the element after the last one extracted,
which nothing has written yet.

Each `hs.next` in a parser or control warns where it is read: anywhere but as an argument
to an `out` parameter (`extract(hs.next)`, `extract(hs.next.union_member)`), or the target
of an assignment of a header value, whole or a field (`hs.next.f = ...`). Assigning a list or struct
expression to it reads it too (p4c first turns that into a setValid() and field writes).
"""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.p4.names import SYSTEM, kept_declarations
from fabriclab.p4.typecheck import CheckContext


class StackNextReads:
    """Pass: see the module docstring."""

    name = "stack-next-reads"

    def run(self, ctx: CheckContext) -> None:
        kept = kept_declarations(ctx.program)
        for decl in ctx.program.decls:
            if isinstance(decl, (ir.ParserDecl, ir.ControlDecl)) and id(decl) in kept \
                    and decl.pos is not None and not decl.pos.file.startswith(SYSTEM):
                written = _written(decl)
                for node in ir.walk(decl):
                    if _is_next(node) and id(node) not in written:
                        ctx.warn(node.pos, f"{' '.join(node.text.split())}: reading uninitialized value")


def _is_next(node) -> bool:
    return isinstance(node, ir.Member) and node.member == "next" and isinstance(node.expr.type, ir.StackType)


def _written(decl) -> set[int]:
    """The ids of the `hs.next` nodes only written."""
    out: set[int] = set()
    for n in ir.walk(decl):
        target = None
        if isinstance(n, ir.Assign) and not isinstance(n.rhs, (ir.ListExpr, ir.StructExpr)):
            target = n.lhs
        elif isinstance(n, ir.Argument) and n.param is not None and n.param.direction == "out":
            target = n.value
        while isinstance(target, ir.Member) and not _is_next(target):
            target = target.expr  # `hs.next.f = ...`, `extract(hs.next.u_member)`: a part written
        if _is_next(target):
            out.add(id(target))
    return out
