"""Pass: the warnings of p4c's mid-end SimplifySelectCases, on each select of the parsers p4c
keeps (one its front end did not fold away for constant keys):

- a case after `default` is unreachable ("SelectCase: unreachable");
- with every keyset constant, a repeated keyset and a case going where `default` goes are
  dropped; if only `default` is left, "'{ keys }': transition does not depend on select
  argument". (Warnings only: the switch runs the select as written, which goes to the same
  states.)

And the warnings of its mid end's constant folding once HandleNoMatch gave each select with no
`default` one (`default: noMatch`, with no position): a select whose keys the local variables
a state set to constants decide (LocalCopyPropagation, within the state) makes the cases after
the one it takes unreachable, the added `default` among them ("SelectCase: unreachable case").
The front end made each `if` and `?:` of a state such a select, `true` then `false` (neither
with a position), after the statements before it (RemoveParserControlFlow).

And those of its front end's constant folding once a parser main instantiates is inlined:
a select on the constant arguments of its constructor parameters makes the cases after the
one it takes unreachable.
"""

from __future__ import annotations

from fabriclab.p4 import consteval, ir, liveness
from fabriclab.p4.checker import constant_key, must_match, select_may_match_none
from fabriclab.p4.names import SYSTEM, kept_declarations
from fabriclab.p4.typecheck import CheckContext


class SimplifySelectCases:
    """Pass: see the module docstring."""

    name = "simplify-select-cases"

    def run(self, ctx: CheckContext) -> None:
        kept = kept_declarations(ctx.program)
        for decl in ctx.program.decls:
            if not isinstance(decl, ir.ParserDecl) or id(decl) not in kept or decl.pos is None \
                    or decl.pos.file.startswith(SYSTEM):
                continue
            for state in decl.states:
                sel = state.transition.select if state.transition is not None else None
                if sel is not None and any(constant_key(k) is None for k in sel.keys):
                    _simplify(ctx, sel)
            for state in decl.states:
                _fold_no_match(ctx, decl, state)
        _fold_constructor_arguments(ctx)


def _simplify(ctx: CheckContext, sel: ir.SelectExpr) -> None:
    cases: list[ir.SelectCase] = []
    changes = default = False
    for case in sel.cases:
        if default:
            ctx.warn(case.pos, "SelectCase: unreachable")
            changes = True
            continue
        cases.append(case)
        default = _is_default(case)
    keys = [None if _is_default(c) else _keyset(c.keysets) for c in cases]
    if all(k is not None or _is_default(c) for k, c in zip(keys, cases)):
        unique = [c for i, c in enumerate(cases) if keys[i] is None or keys[i] not in keys[:i]]
        if default:  # the cases before `default` that go where it goes
            unique = [c for c in unique[:-1] if c.state != unique[-1].state] + unique[-1:]
        changes |= len(unique) != len(cases)
        cases = unique
    if changes and len(cases) == 1:
        text = ", ".join(" ".join(k.text.split()) for k in sel.keys)
        ctx.warn(sel.keys[0].pos, f"'{{ {text} }}': transition does not depend on select argument")


def _is_default(case: ir.SelectCase) -> bool:
    return len(case.keysets) == 1 and isinstance(case.keysets[0], ir.DefaultExpr)


def _keyset(keysets: list[ir.Expr]) -> tuple | None:
    """A constant keyset as a comparable value, None if not constant (a value set, ...)."""
    out = []
    for k in keysets:
        if isinstance(k, (ir.Constant, ir.BoolLiteral)):
            out.append(("v", k.value))
        elif isinstance(k, ir.EnumMember):
            out.append(("e", k.member, k.value))
        elif isinstance(k, ir.DefaultExpr):
            out.append(("_",))
        elif isinstance(k, ir.Mask) and isinstance(k.value, ir.Constant) and isinstance(k.mask, ir.Constant):
            out.append(("m", k.value.value, k.mask.value))
        elif isinstance(k, ir.Range) and isinstance(k.lo, ir.Constant) and isinstance(k.hi, ir.Constant):
            out.append(("r", k.lo.value, k.hi.value))
        else:
            return None
    return tuple(out)


UNREACHABLE = "SelectCase: unreachable case"
Env = dict[int, int | bool]  # the constant each local variable or constructor parameter holds (by id)


def _fold_no_match(ctx: CheckContext, parser: ir.ParserDecl, state: ir.ParserState) -> None:
    """The mid end's folding of the select that ends `state` once p4c split it at its first
    branch (see the module docstring)."""
    env: Env = {}
    if state.name == "start":  # (MoveInitializers: the parser's locals are set there)
        for local in parser.locals:
            if isinstance(local, ir.VarDecl):
                _set(env, local, local.init)
    for stmt in state.stmts:
        cond = _branch(stmt)
        if cond is not None:
            value = consteval.known_value(cond, env)
            if isinstance(value, bool):  # true: `false` and `default` unreachable
                for _ in range(2 if value else 1):
                    ctx.warn(None, UNREACHABLE, once=False)
            return
        _step(env, stmt)
    sel = state.transition.select if state.transition is not None else None
    if sel is None or not select_may_match_none(sel):
        return
    if _fold(ctx, sel, env):  # the `default` it was given comes after the case it takes
        ctx.warn(None, UNREACHABLE, once=False)


def _fold(ctx: CheckContext, sel: ir.SelectExpr, env: Env) -> bool:
    """Warn of the cases after the one `sel` takes if `env` decides its keys; whether it does."""
    values = [consteval.known_value(k, env) for k in sel.keys]
    taken = None if None in values else next((i for i, c in enumerate(sel.cases) if must_match(c, values)), None)
    for case in sel.cases[taken + 1:] if taken is not None else ():
        ctx.warn(case.pos, UNREACHABLE)
    return taken is not None


def _branch(stmt: ir.Stmt) -> ir.Expr | None:
    """The condition of the branch the front end splits a state at: an `if` (on no literal:
    that one it folded) or a statement's first `?:`."""
    if isinstance(stmt, ir.If):
        return None if isinstance(stmt.cond, ir.BoolLiteral) else stmt.cond
    return next((n.cond for n in ir.walk(stmt) if isinstance(n, ir.Conditional)), None)


def _step(env: Env, stmt: ir.Stmt) -> None:
    """What a straight-line statement leaves in the local variables."""
    if isinstance(stmt, ir.VarDecl):
        _set(env, stmt, stmt.init)
    elif isinstance(stmt, ir.Assign) and isinstance(stmt.lhs, ir.PathExpr) and isinstance(stmt.lhs.decl, ir.VarDecl):
        _set(env, stmt.lhs.decl, stmt.rhs)
    else:  # in doubt, whatever it names is no longer known
        for n in ir.walk(stmt):
            if isinstance(n, ir.PathExpr):
                env.pop(id(n.decl), None)


def _set(env: Env, var: ir.VarDecl, value: ir.Expr | None) -> None:
    known = consteval.known_value(value, env) if value is not None else None
    if known is None:
        env.pop(id(var), None)
    else:
        env[id(var)] = known


def _fold_constructor_arguments(ctx: CheckContext) -> None:
    """The selects of each parser main gets with constant constructor arguments."""
    for instance, block in liveness.main_blocks(ctx.program.main):
        if isinstance(block, ir.ParserDecl):
            env = {id(a.param): a.value.value for a in instance.args
                   if a.param is not None and isinstance(a.value, (ir.Constant, ir.BoolLiteral))}
            for state in block.states if env else ():
                _fold_with(ctx, state.transition.select if state.transition is not None else None, env)


def _fold_with(ctx: CheckContext, sel: ir.SelectExpr | None, env: Env) -> None:
    """A select some of whose keys are constructor parameters `env` gives values to."""
    if sel is not None and any(isinstance(k, ir.PathExpr) and id(k.decl) in env for k in sel.keys):
        _fold(ctx, sel, env)
