"""Pass: p4c's warning for a call whose `out`/`inout` argument may share storage with another
location the call writes ("a: 'out' argument has fields in common with b", from its
SideEffectOrdering, which then copies that argument through a temporary).

As p4c, on the declarations its front end keeps, before functions are inlined: for each call
that may have side effects (any call but `isValid()` and a `@noSideEffects` extern), the
locations it writes are the arguments of out/inout parameters of it and of every call inside
its arguments; each out/inout argument (neither a slice nor holding a call itself) that may
overlap one of those other than itself is warned about. A table application inside the call
writes everything: p4c copies every argument then, silently. Two locations overlap when they
start at the same variable and one path is a prefix of the other, an unknown index matching
any (an index read counts as a location too: `s[a].z` overlaps `a`). `@noWarn("ordering")`
on a declaration or parser state silences it there.
"""

from __future__ import annotations

from dataclasses import fields

from fabriclab.p4 import ir
from fabriclab.p4.calls import call_fits
from fabriclab.p4.names import SYSTEM, NameUses, kept_declarations
from fabriclab.p4.typecheck import CheckContext

Location = tuple[str, ...]  # a variable's name, then members and indices ("*": unknown)


class SideEffectOrdering:
    """Pass: see the module docstring."""

    name = "side-effect-ordering"

    def run(self, ctx: CheckContext) -> None:
        kept = kept_declarations(ctx.program)
        calls = _Calls(ctx, NameUses(ctx.program))
        for decl in ctx.program.decls:
            if decl.pos is None or decl.pos.file.startswith(SYSTEM) or id(decl) not in kept:
                continue
            removed = {id(d) for d in getattr(decl, "locals", []) if isinstance(d, ir.ActionDecl) and id(d) not in kept}
            for mc in _calls_postorder(decl, removed):
                if calls.side_effect(mc):
                    calls.call(mc)


class _Calls:
    def __init__(self, ctx: CheckContext, names: NameUses) -> None:
        self.ctx = ctx
        self.decl_of = {id(node): decl for node, decl in names.refs}

    def call(self, mc: ir.MethodCall) -> None:
        written: list[ir.Expr] = []  # in p4c's order: the calls inside the arguments first
        bound = self.bound(mc)
        if not any(p.direction for p, _ in bound):
            return
        for inner in _calls_postorder(mc):
            if isinstance(self.callee(inner), ir.TableDecl):
                return  # writes everything: every argument is copied, nothing is warned about
            written += [a.value for p, a in self.bound(inner) if p.direction in ("out", "inout")]
        for param, arg in bound:
            value = arg.value
            if param.direction not in ("out", "inout") or isinstance(value, ir.Slice) or self.has_side_effect(value):
                continue
            mine = _locations(value)
            other = next((e for e in written if e is not value and _overlap(mine, _locations(e))), None)
            if other is not None:
                self.ctx.warn(value.pos, f"{_text(value)}: 'out' argument has fields in common with {_text(other)}")

    # -- what a call is --------------------------------------------------------------
    def callee(self, mc: ir.MethodCall):
        """The declaration a call runs (action, function, extern function or method, parser
        or control), a TableDecl for a table's apply, or None (a built-in or unknown)."""
        target = mc.target
        if isinstance(target, ir.PathExpr):
            return self.decl_of.get(id(target))
        if isinstance(target, ir.TypeMember):  # `Parser.apply(...)`: a direct application
            receiver, method = self.decl_of.get(id(target)), target.member
        elif isinstance(target, ir.Member) and isinstance(target.expr, ir.PathExpr):
            receiver, method = self.decl_of.get(id(target.expr)), target.member
            if isinstance(receiver, (ir.Instance, ir.Param)) and receiver.type_ref is not None:
                receiver = self.decl_of.get(id(receiver.type_ref))
        else:
            return None
        if isinstance(receiver, (ir.TableDecl, ir.ParserDecl, ir.ControlDecl)):
            return receiver if method == "apply" else None
        if isinstance(receiver, ir.ExternDecl):
            fitting = [m for m in receiver.methods if m.name == method and call_fits(m, mc.args)]
            return fitting[0] if len(fitting) == 1 else None
        return None

    def bound(self, mc: ir.MethodCall) -> list[tuple[ir.Param, ir.Argument]]:
        """(parameter, argument) in the arguments' order, `_` left out."""
        decl = self.callee(mc)
        params = [] if decl is None or isinstance(decl, ir.TableDecl) else decl.params
        by_name = {p.name: p for p in params}
        out = []
        for i, arg in enumerate(mc.args):
            param = by_name.get(arg.name) if arg.name is not None else params[i] if i < len(params) else None
            if param is not None and arg.value is not None:
                out.append((param, arg))
        return out

    def side_effect(self, mc: ir.MethodCall) -> bool:
        """p4c's SideEffects.mayHaveSideEffect: all calls but isValid() and @noSideEffects ones."""
        decl = self.callee(mc)
        if isinstance(decl, (ir.ExternFunction, ir.Method, ir.FunctionDecl)):
            return decl.annotation("noSideEffects") is None
        return not (decl is None and isinstance(mc.target, ir.Member) and mc.target.member == "isValid"
                    and not mc.args)

    def has_side_effect(self, e: ir.Expr) -> bool:
        return any(isinstance(n, ir.ConstructorCall) or isinstance(n, ir.MethodCall) and self.side_effect(n)
                   for n in ir.walk(e))


def _calls_postorder(node, skip: set[int] = frozenset()) -> list[ir.MethodCall]:
    """The calls in `node` (itself included; not in the nodes of ids `skip`), each after
    those inside it: p4c's order."""
    found: list[ir.MethodCall] = []

    def visit(value) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, ir.Node) and id(value) not in skip and not _silenced(value):
            for f in fields(value):
                if f.name not in ir.LINKS:
                    visit(getattr(value, f.name))
            if isinstance(value, ir.MethodCall):
                found.append(value)

    visit(node)
    return found


def _silenced(node: ir.Node) -> bool:
    """`@noWarn("ordering")` on a declaration or parser state: no such warning inside it."""
    return any(a.name == "noWarn" and a.args[:1] == ["ordering"] for a in getattr(node, "annotations", ()))


def _locations(e) -> set[Location]:
    """p4c's ReadsWrites: the locations an expression names (`s[i].f`: s.*.f and i's)."""
    if isinstance(e, ir.PathExpr):
        return {(e.name,)}
    if isinstance(e, ir.Member):
        return {loc + (e.member,) for loc in _locations(e.expr)}
    if isinstance(e, ir.Index):
        if isinstance(e.index, ir.Constant):
            return {loc + (str(e.index.value),) for loc in _locations(e.expr)}
        return {loc + ("*",) for loc in _locations(e.expr)} | _locations(e.index)
    if isinstance(e, (ir.Slice, ir.Unary, ir.Cast)):
        return _locations(e.expr)
    if isinstance(e, ir.MethodCall):
        found = _locations(e.target) if e.target is not None else set()
        return found.union(*(_locations(a.value) for a in e.args if a.value is not None))
    if isinstance(e, (ir.Binary, ir.Conditional, ir.ListExpr, ir.StructExpr)):
        return set().union(*(_locations(n) for n in _children(e)))
    return set()


def _children(e) -> list:
    if isinstance(e, ir.Binary):
        return [e.left, e.right]
    if isinstance(e, ir.Conditional):
        return [e.cond, e.then, e.else_]
    if isinstance(e, ir.ListExpr):
        return list(e.items)
    return [value for _, value in e.fields]


def _overlap(a: set[Location], b: set[Location]) -> bool:
    return any(x[0] == y[0] and all(p == q or "*" in (p, q) for p, q in zip(x[1:], y[1:]))
               for x in a for y in b)


def _text(e: ir.Expr) -> str:
    return " ".join(e.text.split()) if e.text else "?"
