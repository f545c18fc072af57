"""Pass: what p4c's mid end needs known at compile time and a program leaves for run time:
`/` and `%` must divide by a constant power of 2; and, with p4test's `--loopsUnroll`, an
index into a stack of header unions must be a constant.

BMv2 (simple_switch) has no division: p4c's mid end replaces `x / 2^k` by a shift and
`x % 2^k` by a mask (its strength reduction, after local copy propagation and constant
folding) and then rejects every division left ("could not evaluate expression at
compilation time", its CompileTimeOperations pass). This pass checks the same on the code
p4c keeps: the parsers and controls `main` instantiates and the actions they use.

What p4c's local copy propagation can know is modelled per region (an action body, a
control's apply block, a parser state): a local variable assigned a constant is that
constant until written again (both branches of an `if` must agree); a run-time division
assigned to a local is only an error once that local is read (p4c propagates the quotient
into the read, or drops the dead assignment). A compound `x /= e` becomes `x = x / e`
without a position of its own: p4c reports it where the quotient is propagated, the next
read of `x`. Values this model cannot be sure of (a control's locals inside its actions, a
local struct's fields, constructor parameters) count as possibly constant: in doubt the
program is accepted.

With `--loopsUnroll` (a program's `@command_line`), p4c's FlattenHeaderUnion replaces each
element of a header union stack by a variable of its own, so an index it cannot fold is an
error (issue5703_header_union_stack); without the option the stack stays as it is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from fabriclab.p4 import consteval, ir, liveness
from fabriclab.p4.diagnostics import CompileError, Diagnostic, SourcePos
from fabriclab.p4.p4c_text import node_text
from fabriclab.p4.typecheck import CheckContext


class _Unknown:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RUNTIME = _Unknown("RUNTIME")  # certainly not a compile-time constant
MAYBE = _Unknown("MAYBE")  # a constant p4c may know and this model does not


@dataclass
class _Pending:
    """A local holding a run-time quotient: an error once read. `pos` None: a compound
    assignment's, reported at the read."""

    message: str
    pos: SourcePos | None


class _Found(Exception):
    def __init__(self, diag: Diagnostic) -> None:
        self.diag = diag


def _is_power_of_2(v: int) -> bool:
    return v > 0 and v & (v - 1) == 0


def _children(e: ir.Expr):
    """The sub-expressions of `e` (not through links to declarations or types)."""
    for name, value in vars(e).items():
        if name in ("decl", "type", "pos", "text"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ir.Argument):
                item = item.value
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], ir.Expr):  # StructExpr fields
                item = item[1]
            if isinstance(item, ir.Expr):
                yield item


_COPY = "copy"  # env key (_COPY, id(VarDecl)): the expression a local holds a copy of


def _mentioned(e: ir.Expr) -> set[int]:
    """ids of the variables and parameters `e` reads."""
    return {id(n.decl) for n in ir.walk(e) if isinstance(n, ir.PathExpr)}


def _root(e: ir.Expr) -> ir.Expr:
    while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
        e = e.expr
    return e


def _calls(e: ir.Expr):
    if isinstance(e, ir.MethodCall):
        yield e
    for child in _children(e):
        yield from _calls(child)


def _accessed(body: ir.Node) -> set[int]:
    """ids of the variables a body reads or writes (any mention)."""
    return {id(n.decl) for n in ir.walk(body) if isinstance(n, ir.PathExpr) and isinstance(n.decl, ir.VarDecl)}


class _Region:
    """The walk over one region (action body, apply block, parser state) with what is known
    of its local variables: id(VarDecl) -> int | RUNTIME | _Pending."""

    def __init__(self, runtime_params: set[int], actions_of, keep_opassign: bool = False,
                 union_stacks_flattened: bool = False) -> None:
        self.runtime_params = runtime_params  # ids of parameters whose values come at run time
        self.actions_of = actions_of  # call -> the actions it may run
        self.keep_opassign = keep_opassign  # `x op= e` stays as is (p4test's @test_keep_opassign)
        self.union_stacks_flattened = union_stacks_flattened  # p4test's --loopsUnroll

    # -- values ------------------------------------------------------------------------
    def value(self, e: ir.Expr, env: dict):
        if isinstance(e, ir.Constant):
            return e.value
        if isinstance(e, ir.PathExpr):
            decl = e.decl
            if isinstance(decl, ir.VarDecl):
                v = env.get(id(decl), MAYBE)
                return RUNTIME if isinstance(v, _Pending) else v
            if isinstance(decl, ir.Param):
                return RUNTIME if id(decl) in self.runtime_params else MAYBE
            return MAYBE
        if isinstance(e, (ir.Cast, ir.Unary)):
            v = self.value(e.expr, env)
            if isinstance(v, int) and isinstance(e.type, ir.BitType):
                try:
                    return consteval.cast(v, e.type) if isinstance(e, ir.Cast) else consteval.unary(e.op, v, e.type)
                except consteval.FoldError:
                    return MAYBE
            return v if isinstance(v, _Unknown) else MAYBE
        if isinstance(e, ir.Binary):
            left, right = self.value(e.left, env), self.value(e.right, env)
            if isinstance(left, int) and isinstance(right, int):
                try:
                    v = consteval.binary(e.op, left, right, e.type, e.right.type)
                except consteval.FoldError:
                    return MAYBE
                return MAYBE if isinstance(v, bool) else v
            return MAYBE if MAYBE in (left, right) else RUNTIME
        if isinstance(e, ir.Conditional):
            then, else_ = self.value(e.then, env), self.value(e.else_, env)
            if isinstance(then, int) and then == else_:
                return then
            return MAYBE if MAYBE in (then, else_) or not isinstance(then, _Unknown) \
                and not isinstance(else_, _Unknown) else RUNTIME
        if isinstance(e, (ir.Member, ir.Index, ir.Slice)):
            root = _root(e)
            if isinstance(root, ir.PathExpr) and isinstance(root.decl, ir.VarDecl):
                return MAYBE  # a field of a local: p4c propagates those too
            return RUNTIME if isinstance(root, (ir.PathExpr, ir.MethodCall)) else MAYBE
        if isinstance(e, ir.MethodCall):
            return RUNTIME
        return MAYBE

    # -- expressions ---------------------------------------------------------------------
    def scan(self, e: ir.Expr | None, env: dict, compound: bool = False) -> list[_Pending]:
        """Run-time divisions in `e` and reads of locals holding one, in evaluation order."""
        found: list[_Pending] = []
        if e is None:
            return found

        def visit(node: ir.Expr, top: bool) -> None:
            if isinstance(node, ir.PathExpr) and isinstance(node.decl, ir.VarDecl):
                held = env.get(id(node.decl))
                if isinstance(held, _Pending):
                    found.append(_Pending(held.message, held.pos or node.pos))
                return
            for child in _children(node):
                visit(child, False)
            if isinstance(node, ir.Binary) and node.op in ("/", "%") and not (top and compound and self.keep_opassign):
                problem = self._division(node, env)
                if problem is not None:
                    text = node_text(self._propagated(node, env))
                    found.append(_Pending(f"{text}: {problem}", None if top and compound else node.pos))
            if isinstance(node, ir.Index) and self._runtime_union_index(node, env):
                found.append(_Pending("Target expects constant array indices for accessing header union stack "
                                      f"elements, {node.index.text} is not a constant", node.pos))

        visit(e, True)
        return found

    def _runtime_union_index(self, e: ir.Index, env: dict) -> bool:
        stack = e.expr.type
        return self.union_stacks_flattened and isinstance(stack, ir.StackType) \
            and isinstance(stack.elem, ir.StructLike) and stack.elem.kind == "header_union" \
            and self.value(e.index, env) is RUNTIME

    def _division(self, e: ir.Binary, env: dict) -> str | None:
        left, right = self.value(e.left, env), self.value(e.right, env)
        if left == 0 and isinstance(left, int) or right is MAYBE or isinstance(right, int) and _is_power_of_2(right):
            return None  # p4c: 0 / x is 0, x / 2^k a shift, x % 2^k a mask
        if right == 0 and isinstance(right, int):
            return f"{'division' if e.op == '/' else 'modulo'} by zero"
        return ("could not evaluate expression at compilation time\n(simple_switch divides only by a "
                "constant power of 2)")

    @staticmethod
    def fail(found: list[_Pending], pos: SourcePos | None) -> None:
        if found:
            first = found[0]
            raise _Found(Diagnostic(first.pos or pos, first.message))

    # -- statements ----------------------------------------------------------------------
    def block(self, stmts: list[ir.Stmt], env: dict) -> None:
        for s in stmts:
            self.stmt(s, env)

    def stmt(self, s: ir.Stmt, env: dict) -> None:
        if isinstance(s, ir.Assign):
            lhs = s.lhs
            self.fail([p for child in _children(lhs) for p in self.scan(child, env)]
                      if not isinstance(lhs, ir.PathExpr) else [], s.pos)
            found = self.scan(s.rhs, env, s.compound)
            self._assign(lhs, s.rhs, found, env, s.pos)
            self._effects(s.rhs, env, s.pos)
        elif isinstance(s, ir.VarDecl):
            found = self.scan(s.init, env)
            target = ir.PathExpr(s.name, decl=s, pos=s.pos)
            self._written(env, id(s), RUNTIME)  # a local of this region: tracked from here
            if s.init is not None:
                self._assign(target, s.init, found, env, s.pos)
                self._effects(s.init, env, s.pos)
        elif isinstance(s, ir.CallStmt):
            self.fail(self.scan(s.call, env), s.pos)
            self._effects(s.call, env, s.pos)
        elif isinstance(s, ir.If):
            self.fail(self.scan(s.cond, env), s.pos)
            self._effects(s.cond, env, s.pos)
            then = dict(env)
            self.stmt(s.then, then)
            other = dict(env)
            if s.else_ is not None:
                self.stmt(s.else_, other)
            self._merge(env, [then, other])
        elif isinstance(s, ir.Block):
            self.block(s.stmts, env)
        elif isinstance(s, ir.Switch):
            self.fail(self.scan(s.expr, env), s.pos)
            self._effects(s.expr, env, s.pos)
            branches = []
            for case in s.cases:
                if case.body is not None:
                    branch = dict(env)
                    self.block(case.body.stmts, branch)
                    branches.append(branch)
            self._merge(env, branches + [dict(env)])
        elif isinstance(s, ir.For):
            for init in s.init:
                self.stmt(init, env)
            for key in _accessed(s):  # anything the loop touches may change each round
                if key in env and not isinstance(env[key], _Pending):
                    self._written(env, key, RUNTIME)
            self.fail(self.scan(s.cond, env), s.pos)
            self.stmt(s.body, env)
            for update in s.update:
                self.stmt(update, env)
        elif isinstance(s, ir.Return):
            self.fail(self.scan(s.value, env), s.pos)
        elif isinstance(s, ir.ConstDecl):
            pass  # folded by the type check

    def _assign(self, lhs: ir.Expr, rhs: ir.Expr, found: list[_Pending], env: dict, pos) -> None:
        if isinstance(lhs, ir.PathExpr) and isinstance(lhs.decl, ir.VarDecl) and id(lhs.decl) in env:
            copied = self._propagated(rhs, env) if not found and not any(_calls(rhs)) else None
            self._written(env, id(lhs.decl), found[0] if found else self.value(rhs, env))
            if copied is not None:
                env[(_COPY, id(lhs.decl))] = copied
            return
        self.fail(found, pos)
        root = _root(lhs)
        if isinstance(root, ir.PathExpr) and isinstance(root.decl, (ir.VarDecl, ir.Param)):
            self._written(env, id(root.decl), RUNTIME if id(root.decl) in env else None)

    def _effects(self, e: ir.Expr, env: dict, pos) -> None:
        """What the calls in `e` do to the locals: out/inout arguments and the actions a call
        runs (a table's, an action's) write what they mention; they read a held quotient."""
        for call in _calls(e):
            for arg in call.args:
                if arg.value is not None and arg.param is not None and arg.param.direction in ("out", "inout"):
                    root = _root(arg.value)
                    if isinstance(root, ir.PathExpr) and isinstance(root.decl, (ir.VarDecl, ir.Param)):
                        self._written(env, id(root.decl), RUNTIME if id(root.decl) in env else None)
            for action in self.actions_of(call):
                touched = _accessed(action.body)
                for key in touched & env.keys():
                    held = env[key]
                    if isinstance(held, _Pending):
                        raise _Found(Diagnostic(held.pos or pos, held.message))
                    self._written(env, key, RUNTIME)

    @staticmethod
    def _written(env: dict, key: int, value) -> None:
        """Variable `key` gets `value` (None: not a tracked local): the copies of it and those
        that read it are forgotten."""
        if value is not None:
            env[key] = value
        env.pop((_COPY, key), None)
        for k in [k for k, v in env.items() if isinstance(k, tuple) and key in _mentioned(v)]:
            del env[k]

    def _propagated(self, e: ir.Expr, env: dict) -> ir.Expr:
        """`e` as p4c's local copy propagation makes it: a local's known constant or copied
        expression in its place (only printed, in a message)."""
        if isinstance(e, ir.PathExpr) and isinstance(e.decl, ir.VarDecl):
            held = env.get(id(e.decl))
            if isinstance(held, int) and not isinstance(held, bool):
                return ir.Constant(held, type=e.type, text=str(held), pos=e.pos)
            return env.get((_COPY, id(e.decl)), e)
        if not any(True for _ in _children(e)):
            return e
        e = copy.copy(e)
        for name, value in vars(e).items():
            if isinstance(value, ir.Expr) and name not in ("decl", "type"):
                setattr(e, name, self._propagated(value, env))
        return e

    @staticmethod
    def _merge(env: dict, branches: list[dict]) -> None:
        for key in set().union(*branches):
            if isinstance(key, tuple):  # a copy: kept where every branch keeps the same one
                copies = [b.get(key) for b in branches]
                if copies[0] is not None and all(c is copies[0] for c in copies):
                    env[key] = copies[0]
                else:
                    env.pop(key, None)
                continue
            values = [b.get(key, RUNTIME) for b in branches]
            pending = next((v for v in values if isinstance(v, _Pending)), None)
            if pending is not None:
                env[key] = pending
            elif all(isinstance(v, int) for v in values) and len(set(values)) == 1:
                env[key] = values[0]
            elif key in env:
                env[key] = RUNTIME


def _actions_of(call: ir.MethodCall) -> list[ir.ActionDecl]:
    if call.kind == ir.CallKind.ACTION and isinstance(call.decl, ir.ActionDecl):
        return [call.decl]
    if call.kind == ir.CallKind.TABLE_APPLY and isinstance(call.decl, ir.TableDecl):
        table = call.decl
        refs = list(table.actions) + ([table.default_action] if table.default_action else [])
        return [r.decl for r in refs if isinstance(r.decl, ir.ActionDecl)]
    return []


class RuntimeDivision:
    """Pass: see the module docstring."""

    name = "runtime-division"
    keep_opassign = False
    union_stacks_flattened = False

    def run(self, ctx: CheckContext) -> None:
        main = ctx.program.main
        if main is None:
            return  # p4c keeps nothing of a program without main
        # p4test's option pragma: compound assignments are not lowered, so not checked (opassign1)
        self.keep_opassign = any(d.annotation("test_keep_opassign") is not None
                                 for d in ctx.program.decls if isinstance(d, ir.Decl))
        self.union_stacks_flattened = any(
            "--loopsUnroll" in anno.args for d in ctx.program.decls if isinstance(d, ir.Decl)
            for anno in d.annotations if anno.name == "command_line")
        blocks = liveness.pipeline_blocks(main, follow_args=True)
        controls = [b for b in blocks if isinstance(b, ir.ControlDecl)]
        used = {id(a): a for a in liveness.used_actions(controls, live_only=True, entries=False)}
        diags: list[Diagnostic] = []

        def check(walk) -> None:
            try:
                walk()
            except _Found as found:
                diags.append(found.diag)

        for decl in ctx.program.decls:  # in program order, as p4c reports
            if isinstance(decl, ir.ActionDecl) and id(decl) in used:
                check(lambda a=decl: self._action(a, set()))
            elif decl in blocks:
                runtime = {id(p) for p in decl.params}
                if isinstance(decl, ir.ControlDecl):
                    for local in decl.locals:
                        if isinstance(local, ir.ActionDecl) and id(local) in used:
                            check(lambda a=local: self._action(a, runtime))
                    check(lambda c=decl: self._apply(c, runtime))
                else:
                    for state in decl.states:
                        check(lambda s=state: self._state(s, runtime))
        if diags:
            raise CompileError(diags)

    def _region(self, runtime: set[int]) -> _Region:
        return _Region(runtime, _actions_of, self.keep_opassign, self.union_stacks_flattened)

    def _action(self, action: ir.ActionDecl, block_params: set[int]) -> None:
        runtime = block_params | {id(p) for p in action.params}
        self._region(runtime).block(action.body.stmts, {})

    def _apply(self, control: ir.ControlDecl, runtime: set[int]) -> None:
        region = self._region(runtime)
        env: dict = {}
        for local in control.locals:  # p4c moves their initializers to the start of apply
            if isinstance(local, ir.VarDecl):
                region.stmt(local, env)
        for table in ir.applied_tables(control):
            for key in table.keys:
                region.fail(region.scan(key.expr, {}), key.pos)
        region.block(control.body.stmts, env)

    def _state(self, state: ir.ParserState, runtime: set[int]) -> None:
        region = self._region(runtime)
        env: dict = {}
        region.block(state.stmts, env)
        select = state.transition.select if state.transition is not None else None
        for key in select.keys if select is not None else []:
            region.fail(region.scan(key, env), key.pos)
