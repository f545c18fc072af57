"""Pass: p4c's warnings for reading storage that some path from its declaration leaves
unwritten ("x may be uninitialized", "s.f may be uninitialized" for each such field of a
struct or header read whole, "a may not be completely initialized" for a stack; from its
FindUninitialized, the front end's def-use analysis).

p4c tracks every storage location through the whole program; this pass follows what it can
be sure of and stays silent in doubt. It tracks, in each parser and control as written:
local variables declared without an initializer (a header's fields; its validity p4c resets
first, so is never uninitialized) and the `out` parameters, field by field and element by
element (constant indexes). Along each path a read of what is still unwritten warns where it
is read; paths join at the end of an `if`, a `switch`, a table's actions and a parser's
states (a state's input is what every transition into it may bring, to a fixed point);
`exit` and `return` end a path. A call reads its `in`/`inout` arguments and writes its
`out`/`inout` ones; an action runs its body where it is called (a table: each of its
actions, from what its key read). Silent: loops, a stack element by a run-time index,
header unions, functions (the front end inlined them), enums, errors and `type`s, and any
variable the front end made rather than the program.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fabriclab.p4 import ir
from fabriclab.p4.names import SYSTEM, kept_declarations
from fabriclab.p4.p4types import BitType, BoolType, ErrorType, IntType, StackType, StringType, VarbitType
from fabriclab.p4.typecheck import CheckContext

KIND = "uninitialized-use"
Location = tuple  # (id of the variable or parameter, then field names and element indexes)
State = frozenset  # the locations that may still be unwritten; None: no path reaches here
_BASE = (BitType, IntType, BoolType, VarbitType, StringType)  # p4c's Type_Base
_WHOLE = (ErrorType, ir.EnumDecl, ir.NewTypeDecl)  # tracked whole, not Type_Base


class RecordVariables:
    """Pass (before functions are inlined): which variables the program itself declares."""

    name = "record-variables"

    def run(self, ctx: CheckContext) -> None:
        ctx.declared_variables = {id(n) for d in ctx.program.decls
                                  if isinstance(d, (ir.ParserDecl, ir.ControlDecl, ir.ActionDecl))
                                  for n in ir.walk(d) if isinstance(n, ir.VarDecl)}


class DefUse:
    """Pass: see the module docstring."""

    name = "def-use"

    def run(self, ctx: CheckContext) -> None:
        kept = kept_declarations(ctx.program)
        if any(arg in ("--Wdisable", f"--Wdisable={KIND}") for d in ctx.program.decls if isinstance(d, ir.Decl)
               for anno in d.annotations if anno.name == "command_line" for arg in anno.args):
            return
        for decl in ctx.program.decls:
            if decl.pos is None or decl.pos.file.startswith(SYSTEM) or id(decl) not in kept or _quiet(decl):
                continue
            if isinstance(decl, (ir.ControlDecl, ir.ParserDecl)) and not any(
                    isinstance(n, ir.For) for n in ir.walk(decl)):
                _Block(ctx, decl).run()


def _quiet(node) -> bool:
    """`@noWarn("uninitialized-use")` on a declaration, parser state or block: none inside."""
    return any(a.name == "noWarn" and a.args[:1] == [KIND] for a in getattr(node, "annotations", ()))


def _leaves(t, path: Location, generic: dict, depth: int = 0) -> list[Location]:
    """The locations p4c tracks under storage of type `t` (none: not tracked; in a header, only
    its fields of a base type; nothing in a specialized generic struct or header)."""
    if id(t) in generic:
        return []
    if isinstance(t, _BASE + _WHOLE):
        return [path]
    if isinstance(t, ir.StructLike) and t.kind == "header":
        return [(*path, f.name) for f in t.fields if isinstance(f.type, _BASE)]
    if isinstance(t, ir.StructLike) and t.kind == "struct" and depth < 16:
        return [leaf for f in t.fields for leaf in _leaves(f.type, (*path, f.name), generic, depth + 1)]
    if isinstance(t, StackType) and isinstance(t.elem, ir.StructLike) and t.elem.kind == "header":
        return [leaf for i in range(t.size) for leaf in _leaves(t.elem, (*path, i), generic, depth + 1)]
    return []


@dataclass
class _Ref:
    """A read or written expression as a location: its storage, the path under it, its text."""

    location: Location
    text: str


def _ref(e: ir.Expr | None, tracked: dict[int, ir.Node]) -> _Ref | None | bool:
    """The location `e` names (a tracked variable, then fields and constant indexes); None if
    it names no tracked storage, False if it names one imprecisely (a run-time index)."""
    parts: list[str | int] = []
    text: list[str] = []
    while isinstance(e, (ir.Member, ir.Index)):
        if isinstance(e, ir.Member):
            if e.member in ("next", "last", "lastIndex", "size", "$valid"):
                return False if _root(e, tracked) else None
            parts.append(e.member)
            text.append(f".{e.member}")
        else:
            if not isinstance(e.index, ir.Constant):
                return False if _root(e, tracked) else None
            parts.append(e.index.value)
            text.append(f"[{e.index.value}]")
        e = e.expr
    if not isinstance(e, ir.PathExpr) or id(e.decl) not in tracked:
        return None
    return _Ref((id(e.decl), *reversed(parts)), e.name + "".join(reversed(text)))


def _root(e: ir.Expr, tracked: dict[int, ir.Node]) -> bool:
    while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
        e = e.expr
    return isinstance(e, ir.PathExpr) and id(e.decl) in tracked


def _under(leaf: Location, loc: Location) -> bool:
    return leaf[:len(loc)] == loc


@dataclass
class _Block:
    """The def-use walk of one parser or control."""

    ctx: CheckContext
    decl: ir.ControlDecl | ir.ParserDecl
    tracked: dict[int, ir.Node] = field(default_factory=dict)
    report: bool = True
    quiet: int = 0  # inside how many `@noWarn("uninitialized-use")` blocks, states or actions
    calls: int = 0
    returned: list = field(default_factory=list)  # the states at each `return` of the action running

    def run(self) -> None:
        declared = self.ctx.declared_variables
        for n in ir.walk(self.decl):
            if isinstance(n, ir.VarDecl) and n.init is None and id(n) in declared:
                self.tracked[id(n)] = n
        state = frozenset(leaf for p in self.decl.params if p.direction == "out"
                          for leaf in self.declare(p))
        for local in self.decl.locals:
            if isinstance(local, ir.VarDecl):
                state = self.stmt(local, state)
        if isinstance(self.decl, ir.ControlDecl):
            self.stmt(self.decl.body, state)
        else:
            self.parser(state)

    def declare(self, d: ir.VarDecl | ir.Param) -> list[Location]:
        self.tracked[id(d)] = d
        return _leaves(d.type, (id(d),), self.ctx.generic_origin)

    # -- parsers ------------------------------------------------------------------------------
    def parser(self, start: State) -> None:
        """Each state's input is the join of what every transition into it brings (first to a
        fixed point, silent; then once more, reporting)."""
        states = {s.name: s for s in self.decl.states}
        inputs: dict[str, State] = {"start": start}
        self.report = False
        changed = True
        while changed:
            changed = False
            for name, state in list(inputs.items()):
                for nxt, out in self.state(states[name], state):
                    if nxt in states and (nxt not in inputs or not out <= inputs[nxt]):
                        inputs[nxt] = inputs.get(nxt, frozenset()) | out
                        changed = True
        self.report = True
        for name, state in inputs.items():
            self.state(states[name], state)

    def state(self, s: ir.ParserState, state: State) -> list[tuple[str, State]]:
        return self.quietly(s, lambda: self.transitions(s, state))

    def transitions(self, s: ir.ParserState, state: State) -> list[tuple[str, State]]:
        out = self.stmts(s.stmts, state)
        tr = s.transition
        if out is None or tr is None:
            return []
        if tr.select is None:
            return [(tr.state, out)]
        for key in tr.select.keys:
            self.read(key, out)
        return [(c.state, out) for c in tr.select.cases]

    # -- statements ---------------------------------------------------------------------------
    def stmts(self, stmts: list[ir.Stmt], state: State | None) -> State | None:
        for s in stmts:
            if state is None:
                return None
            state = self.stmt(s, state)
        return state

    def quietly(self, node, run):
        """run() silenced inside `@noWarn("uninitialized-use")` on `node`."""
        quiet = _quiet(node)
        self.quiet += quiet
        try:
            return run()
        finally:
            self.quiet -= quiet

    def stmt(self, s: ir.Stmt, state: State) -> State | None:
        if isinstance(s, ir.VarDecl):
            if s.init is not None:
                self.read(s.init, state)
                return state
            if id(s) not in self.tracked:
                return state
            return state | frozenset(self.declare(s))
        if isinstance(s, ir.Assign):
            self.read(s.rhs, state)
            return self.write(s.lhs, state)
        if isinstance(s, ir.CallStmt):
            return self.call(s.call, state)
        if isinstance(s, ir.Block):
            return self.quietly(s, lambda: self.stmts(s.stmts, state))
        if isinstance(s, ir.If):
            if isinstance(s.cond, ir.BoolLiteral):  # (p4c folds `if (true)` first)
                taken = s.then if s.cond.value else s.else_
                return self.stmt(taken, state) if taken is not None else state
            state = self.expr(s.cond, state)
            then = self.stmt(s.then, state)
            other = self.stmt(s.else_, state) if s.else_ is not None else state
            return _join(then, other)
        if isinstance(s, ir.Switch):
            return self.switch(s, state)
        if isinstance(s, ir.Return):  # ends the action (its state goes on) or the apply block
            self.returned.append(state)
            return None
        if isinstance(s, ir.Exit):
            return None
        return state

    def switch(self, s: ir.Switch, state: State) -> State | None:
        state = self.expr(s.expr, state)
        taken = _constant_case(s)
        if taken is not None:  # (p4c's front end keeps only the case a constant takes)
            return self.stmts(taken.body.stmts, state) if taken.body is not None else state
        ends: list[State | None] = []
        pending = False  # labels without a body fall through to the next one's
        for case in s.cases:
            if case.body is None:
                pending = True
                continue
            ends.append(self.stmts(case.body.stmts, state))
            pending = False
        if pending or not any(c.label is None for c in s.cases):
            ends.append(state)
        out: State | None = None
        for e in ends:
            out = _join(out, e)
        return out

    def write(self, lhs: ir.Expr, state: State) -> State:
        """`lhs = ...`: what it names is written (a slice: read first, as p4c reads the rest)."""
        if isinstance(lhs, ir.Slice):
            self.read(lhs.expr, state)
            lhs = lhs.expr
        for e in ir.walk(lhs):
            if isinstance(e, ir.Index):
                self.read(e.index, state)
        ref = _ref(lhs, self.tracked)
        if ref is False:  # a run-time index: in doubt, all of the stack written
            e = lhs
            while not isinstance(e, ir.PathExpr):
                e = e.expr
            return frozenset(leaf for leaf in state if leaf[0] != id(e.decl))
        if ref is None:
            return state
        return frozenset(leaf for leaf in state if not _under(leaf, ref.location))

    # -- expressions ----------------------------------------------------------------------------
    def expr(self, e: ir.Expr, state: State) -> State:
        """Evaluate `e` (reads, and the calls in it); the state after it."""
        self.read(e, state)
        for call in ir.iter_calls(e):
            state = self.call(call, state, args_read=True) or state
        return state

    def read(self, e: ir.Expr | None, state: State) -> None:
        """Warn for each read in `e` of what may still be unwritten (calls: their arguments)."""
        if e is None or not state or not self.report or self.quiet:
            return
        if isinstance(e, ir.MethodCall):
            self.read_args(e, state)
            return
        if isinstance(e, ir.Slice):
            self.read(e.expr, state)
            return
        ref = _ref(e, self.tracked)
        if ref is False:
            return
        if ref is not None:
            self.warn(e, ref, state)
            return
        if isinstance(e, (ir.Member, ir.Index)):
            self.read(e.expr, state)
            if isinstance(e, ir.Index):
                self.read(e.index, state)
            return
        for name in ("expr", "left", "right", "cond", "then", "else_", "value", "mask", "lo", "hi"):
            child = getattr(e, name, None)
            if isinstance(child, ir.Expr):
                self.read(child, state)
        for item in getattr(e, "items", None) or []:
            self.read(item, state)
        for _, item in getattr(e, "fields", None) or []:
            self.read(item, state)

    def warn(self, e: ir.Expr, ref: _Ref, state: State) -> None:
        unwritten = [leaf for leaf in state if _under(leaf, ref.location)]
        if not unwritten:
            return
        t = e.type
        if isinstance(t, _BASE):
            self.ctx.warn(e.pos, f"{ref.text} may be uninitialized")
        elif isinstance(t, ir.StructLike) and t.kind in ("struct", "header"):
            for f in t.fields:
                if any(_under(leaf, (*ref.location, f.name)) for leaf in unwritten):
                    self.ctx.warn(e.pos, f"{ref.text}.{f.name} may be uninitialized")
        elif isinstance(t, (StackType,) + _WHOLE):
            self.ctx.warn(e.pos, f"{ref.text} may not be completely initialized")

    # -- calls ------------------------------------------------------------------------------------
    def read_args(self, call: ir.MethodCall, state: State) -> None:
        if call.kind in (ir.CallKind.IS_VALID, ir.CallKind.SET_VALID, ir.CallKind.SET_INVALID,
                         ir.CallKind.PUSH_FRONT, ir.CallKind.POP_FRONT):
            return
        for arg in call.args:
            direction = arg.param.direction if arg.param is not None else None
            if arg.param is None and call.kind is not ir.CallKind.ACTION:
                continue  # (unresolved: in doubt, not read)
            if direction != "out":
                self.read(arg.value, state)

    def call(self, call: ir.MethodCall, state: State, args_read: bool = False) -> State | None:
        """Run `call` from `state`: its in arguments read, its body (an action's, a table's
        actions'), then its out arguments written."""
        if not args_read:
            self.read_args(call, state)
        if call.kind in (ir.CallKind.PUSH_FRONT, ir.CallKind.POP_FRONT):
            return self.write(call.target.expr, state) if isinstance(call.target, ir.Member) else state
        if call.kind is ir.CallKind.ACTION and isinstance(call.decl, ir.ActionDecl):
            state = self.action(call.decl, state)
        elif call.kind is ir.CallKind.TABLE_APPLY:
            state = self.table(call, state)
        if state is None:
            return None
        for arg in call.args:
            if arg.param is not None and arg.param.direction in ("out", "inout") and arg.value is not None:
                state = self.write(arg.value, state)
        return state

    def action(self, action: ir.ActionDecl, state: State) -> State | None:
        """An action's body from `state`; None if every path through it exits."""
        self.calls += 1
        if self.calls > 2000:  # (a pathological program: stop following actions, in doubt silent)
            self.report = False
            return state
        outer, self.returned = self.returned, []
        out = self.quietly(action, lambda: self.stmts(action.body.stmts, state))
        for r in self.returned:
            out = _join(out, r)
        self.returned = outer
        return out

    def table(self, call: ir.MethodCall, state: State) -> State | None:
        table = call.decl
        if not isinstance(table, ir.TableDecl):
            return state
        for key in table.keys:
            self.read(key.expr, state)
        refs = list(table.actions) + ([table.default_action] if table.default_action else [])
        out: State | None = None
        for ref in refs:
            if isinstance(ref.decl, ir.ActionDecl):
                out = _join(out, self.action(ref.decl, state))
        return state if out is None else out


def _constant_case(s: ir.Switch) -> ir.SwitchCase | None:
    """The case (with the body it falls through to) a constant `switch` expression takes; an
    empty case if none does; None if the expression or a label is not constant."""
    value = _constant(s.expr)
    if value is None:
        return None
    labels = [_constant(c.label) if c.label is not None else None for c in s.cases]
    if any(v is None and c.label is not None for v, c in zip(labels, s.cases)):
        return None
    hit = next((i for i, (v, c) in enumerate(zip(labels, s.cases)) if c.label is not None and v == value),
               next((i for i, c in enumerate(s.cases) if c.label is None), None))
    taken = next((c for c in s.cases[hit:] if c.body is not None), None) if hit is not None else None
    return taken or ir.SwitchCase(label=None, body=None)


def _constant(e: ir.Expr | None):
    if isinstance(e, (ir.Constant, ir.BoolLiteral)):
        return e.value
    if isinstance(e, ir.EnumMember):
        return e.value if e.value is not None else (id(e.enum), e.member)
    return None


def _join(a: State | None, b: State | None) -> State | None:
    if a is None:
        return b
    if b is None:
        return a
    return a | b
