"""Pass: p4c's mid-end warning for a loop annotated `@unroll` that its UnrollLoops cannot
unroll ("Can't unroll loop: ForStatement"); the loop stays a loop (the switch runs it so).

p4c unrolls `for (v in lo .. hi)` on constants, and a three-clause `for` whose condition is
`i RELOP constant` on a local variable `i` only two writes reach: one of a constant before
the loop and one in it (in its updates, or in its body nested in blocks only, not under an
`if` or `switch`), and whose values from that constant end the loop within 1000 steps.
This pass counts the writes of `i` in the whole declaration around the loop (p4c's def-use
of the condition sees the same two in the programs it can unroll), any argument naming `i`
as a write, and evaluates the steps with P4's widths.
"""

from __future__ import annotations

from fabriclab.p4 import consteval, ir
from fabriclab.p4.names import SYSTEM, kept_declarations
from fabriclab.p4.typecheck import CheckContext

_RELATIONS = ("==", "!=", "<", "<=", ">", ">=")
_MAX_STEPS = 1000


class UnrollLoops:
    """Pass: see the module docstring."""

    name = "unroll-loops"

    def run(self, ctx: CheckContext) -> None:
        kept = kept_declarations(ctx.program)
        for decl in ctx.program.decls:
            if decl.pos is None or decl.pos.file.startswith(SYSTEM) or id(decl) not in kept:
                continue
            for loop in (n for n in ir.walk(decl) if isinstance(n, ir.For)):
                if ir.find_annotation(loop.annotations, "unroll") and not _can_unroll(decl, loop):
                    ctx.warn(loop.pos, "Can't unroll loop: ForStatement")


def _can_unroll(decl: ir.Node, loop: ir.For) -> bool:
    if loop.for_in:  # (lowered: its first two declarations hold the range's ends)
        return len(loop.init) == 3 and all(isinstance(d, ir.VarDecl) and isinstance(d.init, ir.Constant)
                                           for d in loop.init[:2])
    cond = loop.cond
    if not (isinstance(cond, ir.Binary) and cond.op in _RELATIONS and isinstance(cond.right, ir.Constant)
            and isinstance(cond.left, ir.PathExpr) and isinstance(cond.left.decl, ir.VarDecl)):
        return False
    var = cond.left.decl
    inside = {id(n) for n in ir.walk(loop.body)} | {id(n) for s in loop.update for n in ir.walk(s)}
    writes = _writes(decl, var)
    before = [w for w in writes if id(w) not in inside]
    step = [w for w in writes if id(w) in inside]
    if len(before) != 1 or len(step) != 1 or not isinstance(step[0], ir.Assign) \
            or not _straight_line(loop, step[0]):
        return False
    start = before[0].init if isinstance(before[0], ir.VarDecl) else getattr(before[0], "rhs", None)
    return isinstance(start, ir.Constant) and _ends(cond, var, start.value, step[0].rhs)


def _writes(decl: ir.Node, var: ir.VarDecl) -> list[ir.Node]:
    """The nodes that may write `var`: its initializer, an assignment to it (or part of it),
    a call with an argument naming it."""
    found: list[ir.Node] = [var] if var.init is not None else []
    for n in ir.walk(decl):
        if isinstance(n, ir.Assign) and _names(n.lhs, var):
            found.append(n)
        elif isinstance(n, ir.MethodCall) and any(_names(a.value, var) for a in n.args):
            found.append(n)
    return found


def _names(e: ir.Expr | None, var: ir.VarDecl) -> bool:
    while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
        e = e.expr
    return isinstance(e, ir.PathExpr) and e.decl is var


def _straight_line(loop: ir.For, write: ir.Assign) -> bool:
    """Whether `write` is one of the loop's updates or in its body inside blocks only."""
    if any(s is write for s in loop.update):
        return True
    todo = [loop.body]
    while todo:
        s = todo.pop()
        if s is write:
            return True
        if isinstance(s, ir.Block):
            todo.extend(s.stmts)
    return False


def _ends(cond: ir.Binary, var: ir.VarDecl, value: int, step: ir.Expr) -> bool:
    """Whether the loop, from `value`, ends within p4c's limit of steps."""
    for _ in range(_MAX_STEPS + 2):
        holds = consteval.known_value(cond, {id(var): value})
        if holds is None:
            return False
        if not holds:
            return True
        nxt = consteval.known_value(step, {id(var): value})
        if nxt is None or isinstance(nxt, bool):
            return False
        value = nxt
    return False

