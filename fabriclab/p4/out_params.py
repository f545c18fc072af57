"""Pass: p4c's warning for an `out` parameter that some way through its function, action,
control or parser leaves unwritten ("out parameter 'p' may be uninitialized when 'f'
terminates", from its FindUninitialized).

p4c tracks every storage location; this pass follows only what it can be sure of, on the IR
as written (before functions are inlined), and stays silent in doubt: of what the program
uses (p4c removes the rest first), it checks parameters of a scalar type (bit, int, bool,
error, a serializable enum or `type` by name) and the scalar fields of struct parameters,
through nested structs and typedefs (not headers, stacks or unions), each on its own; a
write is an assignment to the location or what holds it, or any out/inout argument naming
either (one naming a part of it too; an `out` one of a control applied once only as that
control's body writes it, as p4c inlines it in place), a call of an action (directly or
through a table) whose body writes it counts as a write, a `return` ends a path where it is
checked, an `exit` ends one unchecked, a loop counts as writing, and a name a local
redeclares is left alone. The abstract methods a block's extern instances implement are checked with it. A
parser is checked once typed (ParserOutParams): where its paths end at accept or reject, as
p4c checks both.
"""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.p4.checker import fold_select, select_may_match_none
from fabriclab.p4.names import SYSTEM, kept_declarations
from fabriclab.p4.typecheck import CheckContext

_SCALARS = ("bit", "int", "bool", "varbit", "error")


class OutParams:
    """Pass: see the module docstring."""

    name = "out-params"

    def run(self, ctx: CheckContext) -> None:
        used = kept_declarations(ctx.program)
        for decl in ctx.program.decls:
            if decl.pos is None or decl.pos.file.startswith(SYSTEM) or id(decl) not in used:
                continue
            if isinstance(decl, (ir.FunctionDecl, ir.ActionDecl)):
                self.check(ctx, decl, decl.params, lambda path: _Paths(path, {}).ends_unwritten(decl.body.stmts))
            if isinstance(decl, (ir.ControlDecl, ir.ParserDecl)):
                self.check_virtual_methods(ctx, decl)
            if isinstance(decl, ir.ControlDecl):
                actions = {d.name: d for d in decl.locals if isinstance(d, ir.ActionDecl)}
                tables = {d.name: d for d in decl.locals if isinstance(d, ir.TableDecl)}
                for action in (a for a in actions.values() if id(a) in used):
                    self.check(ctx, action, action.params,
                               lambda path, a=action: _Paths(path, actions, tables).ends_unwritten(a.body.stmts))
                blocks = _applied_once(ctx.program, decl)
                self.check(ctx, decl, decl.params,
                           lambda path: _control_leaves_unwritten(decl, path, blocks))

    def check_virtual_methods(self, ctx: CheckContext, decl: ir.ControlDecl | ir.ParserDecl) -> None:
        """The abstract methods its extern instances implement (`= { ... }`): p4c checks them
        with the block that declares them, used or not (its visitVirtualMethods)."""
        for inst in decl.locals:
            for method in getattr(inst, "initializer", None) or ():
                if isinstance(method, ir.FunctionDecl):
                    self.check(ctx, method, method.params,
                               lambda path, m=method: _Paths(path, {}).ends_unwritten(m.body.stmts))

    @staticmethod
    def check(ctx: CheckContext, decl: ir.Decl, params: list[ir.Param], unwritten) -> None:
        for param in params:
            if param.direction != "out" or param.type_ref is None or _redeclared(decl, param.name):
                continue
            if any(unwritten(path) for path in _leaves(ctx.program, param.type_ref, (param.name,))):
                ctx.warn(param.pos, f"out parameter '{param.name}' may be uninitialized when "
                                    f"'{decl.name}' terminates")


class ParserOutParams:
    """Pass: the same warning for a parser's out parameters, on the checked IR (where p4c
    folded a select on constants, which then cannot go to reject)."""

    name = "parser-out-params"

    def run(self, ctx: CheckContext) -> None:
        used = kept_declarations(ctx.program)
        for decl in ctx.program.decls:
            if isinstance(decl, ir.ParserDecl) and decl.pos is not None and \
                    not decl.pos.file.startswith(SYSTEM) and id(decl) in used:
                OutParams.check(ctx, decl, decl.params, lambda path, p=decl: _parser_leaves_unwritten(p, path))


def _leaves(program: ir.Program, ref: ir.TypeRef, path: Location, depth: int = 0) -> list[Location]:
    """The scalar locations under a parameter of type `ref` (a struct's fields, through
    nested structs and typedefs; not headers, stacks or unions)."""
    if ref.kind in _SCALARS or ref.kind == "name" and _scalar_name(program, ref.name):
        return [path]
    decl = next((d for d in program.decls if getattr(d, "name", None) == ref.name), None) \
        if ref.kind == "name" and depth <= 8 else None
    if isinstance(decl, ir.TypedefDecl) and decl.type_ref is not None:
        return _leaves(program, decl.type_ref, path, depth + 1)
    struct = decl if isinstance(decl, ir.StructLike) and decl.kind == "struct" and not decl.type_params else None
    if struct is None:
        return []
    return [leaf for f in struct.fields if f.type_ref is not None
            for leaf in _leaves(program, f.type_ref, (*path, f.name), depth + 1)]


def _scalar_name(program: ir.Program, name: str) -> bool:
    """A typedef or `type` of a scalar, or a serializable enum (p4c tracks them whole)."""
    for d in program.decls:
        if getattr(d, "name", None) == name:
            if isinstance(d, ir.EnumDecl):
                return d.underlying_ref is not None
            if isinstance(d, (ir.TypedefDecl, ir.NewTypeDecl)) and d.type_ref is not None:
                return d.type_ref.kind in _SCALARS or d.type_ref.kind == "name" and _scalar_name(program, d.type_ref.name)
            return False
    return False


def _redeclared(decl: ir.Decl, name: str) -> bool:
    return any(isinstance(n, (ir.VarDecl, ir.ConstDecl, ir.Instance)) and n.name == name for n in ir.walk(decl))


Location = tuple[str, ...]  # a parameter's name, then field names


def _location(e: ir.Expr | None) -> Location | None:
    """The variable and fields an expression writes (an index or slice: all of what it is in)."""
    path: list[str] = []
    while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
        if isinstance(e, ir.Member):
            path.append(e.member)
        else:
            path.clear()
        e = e.expr
    return (e.name, *reversed(path)) if isinstance(e, ir.PathExpr) else None


def _covers(written: Location | None, path: Location) -> bool:
    """A write of `written` writes `path` (or part of it: in doubt, written)."""
    return written is not None and written[:len(path)] == path[:len(written)]


class _Paths:
    """Whether some path through statements ends with the location `path` unwritten."""

    def __init__(self, path: Location, actions: dict, tables: dict | None = None,
                 blocks: dict[str, ir.ControlDecl] | None = None) -> None:
        self.path, self.actions, self.tables = path, actions, tables or {}
        self.blocks = blocks or {}  # the control instances whose apply p4c inlines in place
        # a parser state's `if` or `?:` reached with `path` unwritten: p4c's front end makes
        # each a select with no `default` (RemoveParserControlFlow), which may go to reject
        self.branches_unwritten = False

    def ends_unwritten(self, stmts: list[ir.Stmt]) -> bool:
        self.returns_unwritten = False
        return self.block(stmts, False) is False or self.returns_unwritten

    def block(self, stmts: list[ir.Stmt], written: bool | None) -> bool | None:
        """Whether `path` is written after `stmts`; None: every path left early (nothing to check)."""
        for stmt in stmts:
            if written is None:
                return None
            written = self.stmt(stmt, written)
        return written

    def stmt(self, s: ir.Stmt, written: bool) -> bool | None:
        if isinstance(s, ir.Block):
            return self.block(s.stmts, written)
        if isinstance(s, ir.If) and isinstance(s.cond, ir.BoolLiteral):  # (p4c folds `if (true)` first)
            taken = s.then if s.cond.value else s.else_
            return self.stmt(taken, written) if taken is not None else written
        if isinstance(s, ir.If):
            self.branches_unwritten |= not written
            written = written or self.writes(s.cond)
            then = self.stmt(s.then, written)
            other = self.stmt(s.else_, written) if s.else_ is not None else written
            return then if other is None else other if then is None else then and other
        if isinstance(s, ir.Switch):
            written = written or self.writes(s.expr)
            ends = [self.block(c.body.stmts, written) for c in s.cases if c.body is not None]
            if not any(c.label is None for c in s.cases):
                ends.append(written)
            ends = [e for e in ends if e is not None]
            return all(ends) if ends else None
        if isinstance(s, ir.Return):  # the path ends here: checked here
            if not (written or self.writes(s.value)):
                self.returns_unwritten = True
            return None
        if isinstance(s, ir.Exit):
            return None
        if isinstance(s, ir.For):
            return True  # (loops: in doubt, written)
        self.branches_unwritten |= not written and any(isinstance(n, ir.Conditional) for n in ir.walk(s))
        return written or self.writes(s)

    def writes(self, node: ir.Node | None) -> bool:
        """Whether evaluating `node` may write `path`: an assignment to it or what holds it,
        an out/inout argument naming either (any argument of a call not yet resolved), or an
        action run."""
        if node is None:
            return False
        for n in ir.walk(node):
            if isinstance(n, ir.Assign) and _covers(_location(n.lhs), self.path):
                return True
            if isinstance(n, ir.MethodCall):
                if any(self.argument_writes(n, a) for a in n.args):
                    return True
                if any(self.action_writes(a) for a in self.called_actions(n)):
                    return True
        return False

    def argument_writes(self, call: ir.MethodCall, arg: ir.Argument) -> bool:
        """Whether an argument naming `path` or what holds it may write it: an `out` argument
        of a control p4c inlines with its arguments in place of its parameters (applied once,
        the arguments apart) writes it only if the control's body writes it on every path."""
        loc = _location(arg.value)
        if not _covers(loc, self.path):
            return False
        callee = self.applied_block(call)
        if callee is None or len(loc) > len(self.path):
            return True
        params = _bound_params(callee.params, call.args)
        param = params[call.args.index(arg)] if params is not None else None
        if param is None or param.direction != "out" or _redeclared(callee, param.name):
            return True
        return not _control_leaves_unwritten(callee, (param.name, *self.path[len(loc):]))

    def applied_block(self, call: ir.MethodCall) -> ir.ControlDecl | None:
        """The control `call` applies, if one of `blocks` with its arguments apart."""
        target = call.target
        if not (isinstance(target, ir.Member) and target.member == "apply" and isinstance(target.expr, ir.PathExpr)):
            return None
        locs = [_location(a.value) for a in call.args]
        if any(_covers(a, b) for i, a in enumerate(locs) for b in locs[i + 1:] if a is not None and b is not None):
            return None
        return self.blocks.get(target.expr.name)

    def called_actions(self, call: ir.MethodCall) -> list[ir.ActionDecl]:
        target = call.target
        if isinstance(target, ir.PathExpr) and target.name in self.actions:
            return [self.actions[target.name]]
        if isinstance(target, ir.Member) and isinstance(target.expr, ir.PathExpr) and \
                target.expr.name in self.tables:
            table = self.tables[target.expr.name]
            refs = list(table.actions) + ([table.default_action] if table.default_action else [])
            return [self.actions[r.name] for r in refs if r.name in self.actions]
        return []

    def action_writes(self, action: ir.ActionDecl) -> bool:
        """(an action calls only actions declared before it: no cycle)"""
        return _Paths(self.path, self.actions).writes(action.body)


def _control_leaves_unwritten(control: ir.ControlDecl, path: Location,
                              blocks: dict[str, ir.ControlDecl] | None = None) -> bool:
    actions = {d.name: d for d in control.locals if isinstance(d, ir.ActionDecl)}
    tables = {d.name: d for d in control.locals if isinstance(d, ir.TableDecl)}
    return _Paths(path, actions, tables, blocks).ends_unwritten(control.body.stmts)


def _applied_once(program: ir.Program, control: ir.ControlDecl) -> dict[str, ir.ControlDecl]:
    """The control instances `control` applies once (by name): p4c's inliner puts their
    arguments in place of their parameters (several calls: through temporaries)."""
    calls = [n.target.expr.name for n in ir.walk(control.body) if isinstance(n, ir.MethodCall)
             and isinstance(n.target, ir.Member) and n.target.member == "apply" and isinstance(n.target.expr, ir.PathExpr)]
    found = {}
    for inst in control.locals:
        decl = next((d for d in program.decls if isinstance(d, ir.ControlDecl) and inst.type_ref is not None
                     and d.name == inst.type_ref.name), None) if isinstance(inst, ir.Instance) else None
        if decl is not None and not decl.type_params and calls.count(inst.name) == 1:
            found[inst.name] = decl
    return found


def _bound_params(params: list[ir.Param], args: list[ir.Argument]) -> list[ir.Param | None] | None:
    """The parameter each argument is bound to (by name or position), None if not all known."""
    by_name = {p.name: p for p in params}
    bound = [by_name.get(a.name) if a.name else params[i] if i < len(params) else None for i, a in enumerate(args)]
    return None if None in bound else bound


def _parser_leaves_unwritten(parser: ir.ParserDecl, path: Location) -> bool:
    """Whether some path of states from start leaves `path` unwritten where p4c checks it:
    at accept or at reject (a state writes it if every path through its statements does). A
    select with no `default` may go to reject (p4c's ComputeParserCG), and so may a state's
    `if` or `?:` once the front end made it such a select."""
    states = {s.name: s for s in parser.states}
    walks = {s.name: _Paths(path, {}) for s in parser.states}
    written_in = {s.name: walks[s.name].block(s.stmts, False) is not False for s in parser.states}
    reach_unwritten: set[str] = set()
    todo = ["start"]
    while todo:
        state = states.get(todo.pop())
        if state is None or state.name in reach_unwritten:
            continue
        reach_unwritten.add(state.name)
        if walks[state.name].branches_unwritten:
            return True
        if written_in[state.name]:
            continue
        for nxt in _next_states(state.transition):
            if nxt in ("accept", "reject"):
                return True
            todo.append(nxt)
    return False


def _next_states(tr: ir.Transition | None) -> list[str]:
    """The states a transition may go to (reject too if a select may take no case)."""
    if tr is None:
        return []
    if tr.select is None:
        return [tr.state]
    kept, _ = fold_select(tr.select)
    return [c.state for c in kept] + (["reject"] if select_may_match_none(tr.select) else [])
