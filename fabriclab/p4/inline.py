"""Lowering P4 functions by inlining, on the untyped IR, so later passes and the switch never see them.

Why inline: the switch's code generator runs controls, actions and parser states; a function
call becomes statements it already runs. For every statement that calls a function:

    x = f(a, g(b));   ->   { T1 r1; {copy-in; body with `return e` -> `r1 = e`; copy-out}
                              T2 r2; {... f's body with the argument r1 ...}  x = r2; }

Parameters become fresh locals (copy-in for in/inout, copy-out for out/inout, as P4's calling
convention); a `return` that is not the body's last statement sets a flag that guards the rest.
Calls are hoisted out of their statement in evaluation order: operands to the left of a
call that writes out/inout arguments are read into temporaries first (a temporary without a
written type takes its initializer's), and a call in an operand that `&&`, `||` or `?:` may
skip runs under an `if` on the condition, as P4's short-circuit evaluation does.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re

from fabriclab.p4 import ir
from fabriclab.p4.calls import call_fits
from fabriclab.p4.p4c_text import node_text
from fabriclab.p4.typecheck import InlinedNames, error, mismatch, unifying

_LINKS = {"decl", "param", "state_decl", "type", "resolved", "pos"}


def _children(node):
    """(field name, value) for each IR child of `node` (nodes and lists of nodes)."""
    for f in dataclasses.fields(node):
        if f.name not in _LINKS:
            yield f.name, getattr(node, f.name)


def map_exprs(node, fn):
    """Replace every expression under `node` bottom-up by fn(expr) (in place); returns node."""
    for name, value in _children(node):
        if isinstance(value, ir.Node):
            setattr(node, name, _map_one(value, fn))
        elif isinstance(value, list):
            value[:] = [_map_one(v, fn) if isinstance(v, ir.Node) else v for v in value]
    return node


def _map_one(value, fn):
    map_exprs(value, fn)
    return fn(value) if isinstance(value, ir.Expr) else value


class Inliner:
    def __init__(self, functions: dict[str, list[ir.FunctionDecl]], names: InlinedNames | None = None,
                 externs: frozenset[str] = frozenset()) -> None:
        self.functions = functions
        self.names = names if names is not None else InlinedNames()
        self.externs = externs  # the extern types' names: a parameter of one is an object, not a value
        self.objects: dict[str, ir.TypeRef] = {}  # the instances in scope (name -> type as written)
        self.counter = itertools.count()
        self.table_keys: dict[str, list[ir.Stmt]] = {}  # table name -> its keys' calls
        self.specialized = 0  # calls of generic functions inlined so far
        self.dead = 0  # > 0: inlining what p4c's constant folding removes first (a skipped operand, branch)

    def _specialize(self, fn: ir.FunctionDecl, call: ir.MethodCall) -> ir.FunctionDecl:
        if fn.type_params:
            self.specialized += 1
        return specialize_call(fn, call, self.objects)

    def _called(self, expr) -> ir.FunctionDecl | None:
        """The function `expr` calls, if it calls one: among overloads (functions of one name),
        the one its arguments fit by count and names, as p4c picks it (a lone function is
        picked anyway: its binding says why the call does not fit; two that fit are ambiguous)."""
        if not (isinstance(expr, ir.MethodCall) and isinstance(expr.target, ir.PathExpr)):
            return None
        overloads = self.functions.get(expr.target.name)
        if not overloads:
            return None
        fitting = [fn for fn in overloads if call_fits(fn, expr.args)]
        if len(fitting) > 1:
            raise error(expr.pos, f"{expr.target.name}: multiple matching declarations")
        if fitting or len(overloads) == 1:
            return (fitting or overloads)[0]
        raise error(expr.pos, f"no overload of function '{expr.target.name}' takes {len(expr.args)} arguments")

    # -- statement lists ------------------------------------------------------------
    def stmts(self, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for s in stmts:
            out.extend(self.stmt(s))
        return out

    def block(self, block: ir.Block) -> ir.Block:
        block.stmts = self.stmts(block.stmts)
        return block

    def stmt(self, s: ir.Stmt) -> list[ir.Stmt]:
        """The statements that replace `s`: hoisted calls first, then `s` itself."""
        keys = self._key_updates(s)
        return (self.stmts(keys) if keys else []) + self._stmt(s)

    def _key_updates(self, s: ir.Stmt) -> list[ir.Stmt]:
        """Before a statement that applies a table whose keys call functions: the
        assignments computing those calls (a table's key is evaluated when it is applied)."""
        if not self.table_keys or isinstance(s, ir.Block):
            return []
        out: list[ir.Stmt] = []
        for _name, sub in _children(s):
            for e in sub if isinstance(sub, list) else [sub]:
                if isinstance(e, ir.Expr):
                    for call in _applies(e):
                        out += copy.deepcopy(self.table_keys.get(call.target.expr.name, []))
        return out

    def table_calls(self, control: ir.ControlDecl, program: ir.Program) -> None:
        """Function calls where a table evaluates expressions itself, which p4c allows too:
        a call in a key becomes a control local, computed before each apply of the table
        (the key needs a @name then, as any complex key); a call in the argument of an
        action listed in `actions` is evaluated when that action runs, so the action is
        copied (keeping its control-plane name) with that parameter a local initialized by it."""
        self.table_keys = {}
        made: list[tuple[ir.ActionDecl, ir.ActionDecl]] = []
        for table in [t for t in control.locals if isinstance(t, ir.TableDecl)]:
            for key in table.keys:
                if self._calls_in(key.expr) is None:
                    continue
                if ir.find_annotation(key.annotations, "name") is None:
                    raise error(key.pos, f"{node_text(key.expr)}: Complex key expression requires a @name "
                                         f"annotation")
                key.expr = self._before_apply(key.expr, table, control)
            for ref in table.actions:
                if any(a.value is not None and self._calls_in(a.value) for a in ref.args):
                    made.append(self._bind_in_action(ref, table, control, program))
        for original, action in made:
            control.locals.insert(control.locals.index(original) + 1 if original in control.locals else 0, action)

    def _before_apply(self, expr: ir.Expr, table: ir.TableDecl, control: ir.ControlDecl) -> ir.Expr:
        """`expr` with each function call in it a control local, computed before each apply of
        `table` (in `table_keys`)."""
        updates = self.table_keys.setdefault(table.name, [])

        def to_local(e: ir.Expr) -> ir.Expr:
            fn = self._called(e)
            if fn is None:
                return e
            fn = specialize_call(fn, e, self.objects)  # a generic function's return type, for its call
            if fn.return_ref is None or fn.return_ref.kind == "void":
                raise error(e.pos, f"function '{fn.name}' returns no value")
            tmp = f"{table.name}_key__{next(self.counter)}"
            control.locals.insert(control.locals.index(table),
                                  ir.VarDecl(tmp, type_ref=copy.deepcopy(fn.return_ref), pos=e.pos))
            updates.append(ir.Assign(ir.PathExpr(tmp, pos=e.pos, text=tmp), e, pos=e.pos))
            return ir.PathExpr(tmp, pos=e.pos, text=tmp)
        return _map_one(expr, to_local) if not self._called(expr) else to_local(expr)

    def _bind_in_action(self, ref: ir.ActionRef, table: ir.TableDecl, control: ir.ControlDecl,
                        program: ir.Program) -> tuple[ir.ActionDecl, ir.ActionDecl]:
        scopes = [] if ref.absolute else control.locals
        action = next((d for d in list(scopes) + program.decls
                       if isinstance(d, ir.ActionDecl) and d.name == ref.name), None)
        if action is None:
            raise error(ref.pos, f"undeclared action '{ref.name}'")
        local = action in control.locals
        new = copy.deepcopy(action)
        new.name = f"{action.name}__{next(self.counter)}"
        if new.annotation("name") is None:
            cp_name = action.name if local else "." + action.name
            new.annotations.append(ir.Annotation("name", f'"{cp_name}"', [cp_name], pos=action.pos))
        params = list(new.params)
        if len(ref.args) > len(params):
            raise error(ref.pos, f"action '{ref.name}' takes {len(params)} arguments, {len(ref.args)} given")
        bound = [(next((p for p in params if p.name == a.name), None) if a.name else params[i], a)
                 for i, a in enumerate(ref.args)]
        inits: list[ir.Stmt] = []
        copy_out: list[ir.Stmt] = []
        kept: list[ir.Argument] = []
        for param, arg in bound:
            if param is not None and param.direction == "in" and arg.value is not None \
                    and self._calls_in(arg.value) is not None:
                new.params.remove(param)
                inits.append(ir.VarDecl(param.name, type_ref=copy.deepcopy(param.type_ref), init=arg.value,
                                        pos=arg.pos))
            elif param is not None and param.direction in ("out", "inout") and arg.value is not None \
                    and self._calls_in(arg.value) is not None:
                new.params.remove(param)
                copy_out.append(self._copy_in_out(new, param, arg.value, inits))
            else:
                if param is not None:
                    arg.name = param.name  # the rest by name: parameters before it may be gone
                kept.append(arg)
        new.body.stmts[:0] = inits
        new.body.stmts += copy_out
        gone = {p.name for p in params if p not in new.params}

        def without_bound(args: list[ir.Argument]) -> list[ir.Argument]:
            """An entry or default action repeats the listed arguments: those bound in the copy go."""
            return [a for i, a in enumerate(args)
                    if (a.name or (params[i].name if i < len(params) else None)) not in gone]

        for entry in table.entries:  # the table's entries and default action name the copy
            if entry.action.name == ref.name:
                entry.action.name, entry.action.absolute = new.name, False
                entry.action.args = without_bound(entry.action.args)
        for prop in table.properties:
            value = prop.value
            if prop.name == "default_action" and isinstance(value, ir.MethodCall) \
                    and isinstance(value.target, ir.PathExpr) and value.target.name == ref.name:
                value.target.name, value.target.absolute = new.name, False
                value.args = without_bound(value.args)
            elif prop.name == "default_action" and isinstance(value, ir.PathExpr) and value.name == ref.name:
                value.name, value.absolute = new.name, False
        ref.name, ref.args, ref.absolute = new.name, kept, False
        return action, new

    def _copy_in_out(self, action: ir.ActionDecl, param: ir.Param, lvalue: ir.Expr,
                     inits: list[ir.Stmt]) -> ir.Stmt:
        """An out/inout argument whose indices call functions (`a(h.s[f()].x)` in `actions`):
        the copy of the action evaluates the l-value's indices when it runs (into `inits`),
        copies it in to a local of the parameter's name and returns the copy-out statement."""
        if any(isinstance(n, (ir.Return, ir.Exit)) for n in ir.walk(action.body)):
            raise error(lvalue.pos, f"unsupported: a function call in the {param.direction} argument of "
                                    f"'{action.name}', an action that may return early")
        self.freeze_indices(lvalue, inits)
        init = copy.deepcopy(lvalue) if param.direction == "inout" else None
        inits.append(ir.VarDecl(param.name, type_ref=copy.deepcopy(param.type_ref), init=init, pos=lvalue.pos))
        return ir.Assign(lvalue, ir.PathExpr(param.name, pos=lvalue.pos, text=param.name), pos=lvalue.pos)

    def _stmt(self, s: ir.Stmt) -> list[ir.Stmt]:
        if isinstance(s, ir.Block):
            return [self.block(s)]
        if isinstance(s, ir.CallStmt) and (fn := self._called(s.call)):
            pre: list[ir.Stmt] = []
            self._lower_operands(s.call, fn, pre)
            return pre + [self._expand(self._specialize(fn, s.call), s.call, None)]
        if isinstance(s, ir.For):
            if s.cond is not None and self._calls_in(s.cond) is not None:
                raise error(s.cond.pos, "unsupported: a function call in a for condition")
            s.init = self.stmts(s.init)
            s.update = self.stmts(s.update)
        taken = _bool_constant(s.cond) if isinstance(s, ir.If) else None
        for name, sub in _children(s):  # nested statements first
            skipped = taken is not None and name == ("else_" if taken else "then")
            self.dead += skipped
            if isinstance(sub, ir.Block):
                self.block(sub)
            elif isinstance(sub, ir.Stmt):
                setattr(s, name, _as_stmt(self.stmt(sub), sub))
            elif isinstance(sub, list) and name == "cases":
                for case in sub:
                    if case.body is not None:
                        self.block(case.body)
            self.dead -= skipped
        pre = []
        if isinstance(s, ir.Assign):
            if self._writes_in(s.rhs.right if s.compound else s.rhs):
                self.freeze_indices(s.lhs, pre)
            s.lhs = self._hoist(s.lhs, pre)
            if s.compound:  # `x op= e`: the left operand is the l-value, evaluated once
                s.rhs.left = copy.deepcopy(s.lhs)
                s.rhs.right = self._hoist(s.rhs.right, pre)
            else:
                s.rhs = self._hoist(s.rhs, pre)
            return pre + [s]
        for name, sub in _children(s):
            if isinstance(sub, ir.Expr):
                setattr(s, name, self._hoist(sub, pre))
        return pre + [s]

    def _calls_in(self, node) -> ir.MethodCall | None:
        if self._called(node) is not None:
            return node
        for _, value in _children(node):
            for child in value if isinstance(value, list) else [value]:
                found = self._calls_in(child) if isinstance(child, ir.Node) else None
                if found is not None:
                    return found
        return None

    def _writes_in(self, node) -> bool:
        """Whether `node` calls a function that writes out/inout arguments."""
        fn = self._called(node)
        if fn is not None and any(p.direction in ("out", "inout") for p in fn.params):
            return True
        return any(self._writes_in(child) for _, value in _children(node)
                   for child in (value if isinstance(value, list) else [value])
                   if isinstance(child, ir.Node))

    def _temp(self, hint: str, pre: list[ir.Stmt], pos, type_ref=None, init=None) -> ir.PathExpr:
        """A fresh local declared in `pre`; without `type_ref` it takes its initializer's type."""
        tmp = f"{hint}__{next(self.counter)}"  # `__`: apart from the names users write
        pre.append(ir.VarDecl(tmp, type_ref=type_ref, init=init, pos=pos))
        return ir.PathExpr(tmp, pos=pos, text=tmp)

    def _hoist(self, expr: ir.Expr, pre: list[ir.Stmt]) -> ir.Expr:
        """Replace each function call in `expr` by a temporary computed by statements in `pre`,
        keeping P4's evaluation order (p4c's SideEffectOrdering does the same job): operands
        left of a call that writes its out/inout arguments are read into temporaries first,
        and an operand that `&&`, `||` or `?:` may skip runs under an `if`."""
        if self._calls_in(expr) is None:
            return expr
        return self._lower(expr, pre)

    def _lower(self, e: ir.Expr, pre: list[ir.Stmt]) -> ir.Expr:
        if self._calls_in(e) is None:
            return e
        if isinstance(e, ir.Binary) and e.op in ("&&", "||") and self._calls_in(e.right):
            tmp = self._temp("cond", pre, e.pos, ir.TypeRef("bool", pos=e.pos), self._lower(e.left, pre))
            inner: list[ir.Stmt] = []
            skipped = _bool_constant(e.left) is (e.op == "||")
            self.dead += skipped
            inner.append(ir.Assign(copy.deepcopy(tmp), self._lower(e.right, inner), pos=e.pos))
            self.dead -= skipped
            guard = copy.deepcopy(tmp) if e.op == "&&" else ir.Unary("!", copy.deepcopy(tmp), pos=e.pos)
            pre.append(ir.If(guard, ir.Block(stmts=inner, pos=e.pos), pos=e.pos))
            return tmp
        if isinstance(e, ir.Conditional) and (self._calls_in(e.then) or self._calls_in(e.else_)):
            cond = self._lower(e.cond, pre)
            call = e.then if self._called(e.then) else e.else_
            fn = self._called(call)
            if fn is not None:
                fn = self._specialize(fn, call)
            if fn is None or fn.return_ref is None:
                raise error(e.pos, "unsupported: a function call nested inside a branch of ?: "
                                   "(assign it to a variable under an if first)")
            tmp = self._temp("mux", pre, e.pos, copy.deepcopy(fn.return_ref))
            branches = []
            for branch in (e.then, e.else_):
                inner = []
                inner.append(ir.Assign(copy.deepcopy(tmp), self._lower(branch, inner), pos=e.pos))
                branches.append(ir.Block(stmts=inner, pos=e.pos))
            pre.append(ir.If(cond, branches[0], branches[1], pos=e.pos))
            return tmp
        fn = self._called(e)
        self._lower_operands(e, fn, pre)
        if fn is None:
            return e
        fn = self._specialize(fn, e)
        if fn.return_ref is None or fn.return_ref.kind == "void":
            raise error(e.pos, f"function '{fn.name}' returns no value")
        tmp = self._temp(f"{fn.name}_ret", pre, e.pos, copy.deepcopy(fn.return_ref))
        pre.append(self._expand(fn, e, tmp.name))
        return tmp

    def _lower_operands(self, e: ir.Expr, fn: ir.FunctionDecl | None, pre: list[ir.Stmt]) -> None:
        slots = _operands(e, fn)
        for i, (get, put, _value) in enumerate(slots):
            child = get()
            if self._writes_in(child):  # earlier operands are read before the call writes
                for get_j, put_j, value_j in slots[:i]:
                    earlier = get_j()
                    if value_j and not _stable(earlier):
                        put_j(self._temp("val", pre, earlier.pos, init=earlier))
            put(self._lower(child, pre))

    def initializers(self, local_decls: list) -> list[ir.Stmt]:
        """A block's local variables initialized by calls are initialized at the start of
        its body instead (`apply` or the start state), as are all after the first such
        (they may read it): in declaration order, as the block's locals would be."""
        moved: list[ir.Stmt] = []
        for local in local_decls:
            if isinstance(local, ir.VarDecl) and local.init is not None and (
                    moved or self._calls_in(local.init) is not None):
                moved.append(ir.Assign(ir.PathExpr(local.name, pos=local.pos, text=local.name),
                                       local.init, pos=local.pos))
                local.init = None
        return moved

    def freeze_indices(self, lhs: ir.Expr, pre: list[ir.Stmt]) -> None:
        """An l-value is evaluated before the right-hand side: its non-constant stack
        indices are read into temporaries when the right-hand side writes through a call."""
        parts = []
        while isinstance(lhs, (ir.Member, ir.Index, ir.Slice)):
            parts.append(lhs)
            lhs = lhs.expr
        for part in reversed(parts):  # left to right, as P4 evaluates
            if isinstance(part, ir.Index) and not _stable(part.index):
                part.index = self._temp("idx", pre, part.index.pos, init=self._lower(part.index, pre))

    # -- one call -------------------------------------------------------------------
    def _expand(self, fn: ir.FunctionDecl, call: ir.MethodCall, result: str | None) -> ir.Block:
        """The block that runs `fn`'s body for `call`, leaving the value in `result`."""
        n = next(self.counter)
        args = _bind(fn, call)
        # a directionless parameter of an extern type names the object the call passes (p4c
        # binds it so): the body uses the argument's name, no copy is made
        objects = {p.name: value.name for p in fn.params if p.direction is None and p.type_ref is not None
                   and p.type_ref.name in self.externs and isinstance(value := args.get(p.name), ir.PathExpr)
                   and not value.absolute}
        values = [p for p in fn.params if p.name not in objects]
        rename = {p.name: f"{fn.name}_{n}_{p.name}" for p in values}
        body = copy.deepcopy(fn.body)
        _collect_locals(body, fn.name, n, rename)
        written = self.names.written
        written.update({new: written.get(old, old) for old, new in rename.items()})
        self.names.params.update({rename[p.name]: call for p in values if p.direction != "out"})
        self.names.outs.update(rename[p.name] for p in values if p.direction == "out")
        self.names.calls.append(([(rename.get(p.name), p.name) for p in fn.params], self.dead > 0))
        map_exprs(body, lambda e: _renamed(e, rename | objects))
        _rename_decls(body, rename)
        stmts: list[ir.Stmt] = []
        for p in values:
            value = args.get(p.name)
            init = copy.deepcopy(value) if p.direction != "out" else None
            if value is None and p.default is not None and p.direction != "out":
                init = copy.deepcopy(p.default)
            stmts.append(ir.VarDecl(rename[p.name], type_ref=copy.deepcopy(p.type_ref), init=init,
                                    constant_param=p.direction is None, pos=call.pos))
        flag = None
        if _needs_flag(body.stmts):
            flag = f"{fn.name}_{n}_returned"
            self.names.flags.add(flag)
            stmts.append(ir.VarDecl(flag, type_ref=ir.TypeRef("bool", pos=call.pos),
                                    init=ir.BoolLiteral(False, pos=call.pos), pos=call.pos))
        stmts.extend(_lower_returns(body.stmts, result, flag))
        for p in values:
            value = args.get(p.name)
            if p.direction in ("out", "inout") and value is not None:
                stmts.append(ir.Assign(copy.deepcopy(value), ir.PathExpr(rename[p.name], pos=call.pos),
                                       pos=call.pos))
                self.names.copy_outs[id(stmts[-1])] = (call, p.name)
        return ir.Block(stmts=stmts, pos=call.pos)


def _bool_constant(e) -> bool | None:
    """The value of a boolean expression of literals (p4c folds it before inlining), else None."""
    if isinstance(e, ir.BoolLiteral):
        return e.value
    if isinstance(e, ir.Unary) and e.op == "!":
        inner = _bool_constant(e.expr)
        return None if inner is None else not inner
    if isinstance(e, ir.Binary) and e.op in ("&&", "||"):
        left, right = _bool_constant(e.left), _bool_constant(e.right)
        if left is not None and right is not None:
            return left and right if e.op == "&&" else left or right
        if left is (e.op == "||"):  # (`true || x`, `false && x`)
            return left
    return None


def specialize_call(fn: ir.FunctionDecl, call: ir.MethodCall,
                    objects: dict[str, ir.TypeRef] | None = None) -> ir.FunctionDecl:
    """A generic function's copy for one call, its type parameters replaced by the call's
    type arguments, or else inferred from the arguments (as p4c's SpecializeGenericFunctions
    makes one copy per type-argument tuple): a parameter of type `e<T>` passed an instance of
    `e<X>` (`objects`: the instances in scope) binds T to X, then one of type `T` binds T to
    its argument's type. The checker types the copy where the inlining puts it."""
    if not fn.type_params:
        return fn
    bindings: dict[str, ir.TypeRef] = {}
    explicit = [a for a in call.type_args]
    if explicit and len(explicit) != len(fn.type_params):
        with unifying(call):  # (p4c's words: it unifies the call with the declaration)
            raise mismatch(fn.pos, f"{fn.name}: {len(fn.type_params)} type parameters expected, "
                                   f"but {len(explicit)} type arguments supplied")
    for name, ref in zip(fn.type_params, explicit):
        if ref.kind != "dontcare":
            bindings[name] = ref
    args = _bind(fn, call)
    for p in fn.params:  # (p4c unifies the object's type with the parameter's)
        ref, arg = p.type_ref, args.get(p.name)
        have = (objects or {}).get(arg.name) if isinstance(arg, ir.PathExpr) else None
        if ref is not None and have is not None and ref.kind == have.kind == "specialized" and ref.name == have.name:
            for want, got in zip(ref.args, have.args):
                if want.kind == "name" and want.name in fn.type_params and want.name not in bindings:
                    bindings[want.name] = copy.deepcopy(got)
    for p in fn.params:
        ref = p.type_ref
        if ref is not None and ref.kind == "name" and ref.name in fn.type_params \
                and ref.name not in bindings and p.name in args:
            arg = args[p.name]
            if isinstance(arg, ir.Constant) and not re.match(r"\d+[ws]", arg.text or ""):
                # p4c: 'int' cannot be unified with a type variable (issue2260-1); the call is
                # quoted when that variable is what the function returns
                ret = fn.return_ref
                if ret is not None and ret.kind == "name" and ret.name == ref.name:
                    with unifying(call):
                        raise mismatch(None, "'int' type can only be unified with 'int', 'bit<>', or 'signed<>' "
                                             "types, not with '<returned type>'")
                raise error(arg.pos, f"{arg.text}: could not infer a width for type argument '{ref.name}' of "
                                     f"function '{fn.name}' (write the constant with a width, as 8w{arg.text}, "
                                     f"or give the type argument)")
            bindings[ref.name] = ir.TypeRef("typeof", of=copy.deepcopy(arg), pos=ref.pos)
    missing = [t for t in fn.type_params if t not in bindings]
    if missing:
        raise error(call.pos, f"unsupported: cannot infer type argument '{missing[0]}' of function "
                              f"'{fn.name}'; give it explicitly ({fn.name}<...>(...))")
    spec = copy.deepcopy(fn)
    spec.type_params = []
    _bind_type_vars(spec, bindings)
    return spec


def _bind_type_vars(node, bindings: dict[str, ir.TypeRef]) -> None:
    """Replace (in place) each type reference under `node` that names a bound type variable."""
    for _name, value in _children(node):
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ir.TypeRef) and child.kind == "name" and child.name in bindings:
                bound = copy.deepcopy(bindings[child.name])
                child.kind, child.name, child.width, child.args, child.of = \
                    bound.kind, bound.name, bound.width, bound.args, bound.of
                child.resolved = bound.resolved
            elif isinstance(child, ir.Node):
                _bind_type_vars(child, bindings)


def _stable(e: ir.Expr) -> bool:
    """Values no call can change (literals, enum/error members, temporaries we made)."""
    return isinstance(e, (ir.Constant, ir.BoolLiteral, ir.StringLiteral, ir.TypeMember)) or (
        isinstance(e, ir.Cast) and _stable(e.expr))


def _operands(e: ir.Expr, fn: ir.FunctionDecl | None):
    """(get, set, is a value read) for `e`'s sub-expressions in evaluation order. Bases of
    member/index/slice are locations, not values; so are a call's out/inout arguments
    (and, not knowing directions, any argument of an extern or method call)."""
    def slot(obj, attr, value=True):
        return (lambda: getattr(obj, attr), lambda v: setattr(obj, attr, v), value)
    if isinstance(e, ir.Binary):
        return [slot(e, "left"), slot(e, "right")]
    if isinstance(e, (ir.Unary, ir.Cast)):
        return [slot(e, "expr")]
    if isinstance(e, (ir.Member, ir.Slice)):
        return [slot(e, "expr", False)]
    if isinstance(e, ir.Index):
        return [slot(e, "expr", False), slot(e, "index")]
    if isinstance(e, ir.Conditional):
        return [slot(e, "cond"), slot(e, "then"), slot(e, "else_")]
    if isinstance(e, ir.ListExpr):
        return [(lambda i=i: e.items[i], lambda v, i=i: e.items.__setitem__(i, v), True)
                for i in range(len(e.items))]
    if isinstance(e, ir.StructExpr):
        return [(lambda i=i: e.fields[i][1],
                 lambda v, i=i: e.fields.__setitem__(i, (e.fields[i][0], v)), True)
                for i in range(len(e.fields))]
    if isinstance(e, ir.MethodCall):
        out = [] if fn is not None or e.target is None else [slot(e, "target", False)]
        directions = {p.name: p.direction for p in fn.params} if fn is not None else {}
        names = [p.name for p in fn.params] if fn is not None else []
        for i, arg in enumerate(e.args):
            if arg.value is None:
                continue
            name = arg.name or (names[i] if i < len(names) else None)
            value = fn is not None and directions.get(name) in (None, "in")
            out.append(slot(arg, "value", value))
        return out
    return []


def _applies(e: ir.Expr):
    """The `t.apply()` calls in `e`."""
    if isinstance(e, ir.MethodCall) and isinstance(e.target, ir.Member) and e.target.member == "apply" \
            and isinstance(e.target.expr, ir.PathExpr):
        yield e
    for _name, sub in _children(e):
        for x in sub if isinstance(sub, list) else [sub]:
            if isinstance(x, ir.Expr):
                yield from _applies(x)
            elif isinstance(x, ir.Argument) and x.value is not None:
                yield from _applies(x.value)


def _as_stmt(stmts: list[ir.Stmt], orig: ir.Stmt) -> ir.Stmt:
    return stmts[0] if len(stmts) == 1 else ir.Block(stmts=stmts, pos=orig.pos)


def _bind(fn: ir.FunctionDecl, call: ir.MethodCall) -> dict[str, ir.Expr]:
    """Parameter name -> argument expression (positional or named); `_` binds nothing."""
    bound: dict[str, ir.Expr] = {}
    if len(call.args) > len(fn.params):
        raise error(call.pos, f"function '{fn.name}' takes {len(fn.params)} arguments, "
                                            f"{len(call.args)} given")
    given: set[str] = set()
    for i, arg in enumerate(call.args):
        name = arg.name or fn.params[i].name
        if name not in {p.name for p in fn.params}:
            raise error(arg.pos, f"function '{fn.name}' has no parameter '{name}'")
        if name in given:
            raise error(arg.pos, f"parameter '{name}' is given twice")
        given.add(name)
        if arg.value is not None:
            bound[name] = arg.value
    for p in fn.params:
        if p.name not in bound and p.default is None and p.direction in (None, "in", "inout"):
            raise error(call.pos, f"function '{fn.name}': no argument for '{p.name}'")
    return bound


def _collect_locals(node, fname: str, n: int, rename: dict[str, str]) -> None:
    for _name, sub in _children(node):
        subs = sub if isinstance(sub, list) else [sub]
        for s in subs:
            if isinstance(s, (ir.VarDecl, ir.ConstDecl)):
                rename.setdefault(s.name, f"{fname}_{n}_{s.name}")
            if isinstance(s, ir.Node) and not isinstance(s, ir.Expr):
                _collect_locals(s, fname, n, rename)


def _rename_decls(node, rename: dict[str, str]) -> None:
    for _name, sub in _children(node):
        for s in sub if isinstance(sub, list) else [sub]:
            if isinstance(s, (ir.VarDecl, ir.ConstDecl)) and s.name in rename:
                s.name = rename[s.name]
            if isinstance(s, ir.Node) and not isinstance(s, ir.Expr):
                _rename_decls(s, rename)


def _renamed(e: ir.Expr, rename: dict[str, str]) -> ir.Expr:
    if isinstance(e, ir.PathExpr) and not e.absolute and e.name in rename:
        e.name = rename[e.name]
        e.text = e.name
    return e


def _returns(s: ir.Stmt) -> bool:
    """Whether `s` contains a `return`."""
    if isinstance(s, ir.Return):
        return True
    for _name, sub in _children(s):
        for x in sub if isinstance(sub, list) else [sub]:
            if isinstance(x, ir.SwitchCase) and x.body is not None and _returns(x.body):
                return True
            if isinstance(x, ir.Stmt) and _returns(x):
                return True
    return False


def _needs_flag(stmts: list[ir.Stmt]) -> bool:
    """A flag is needed unless the only `return` is the last top-level statement."""
    return any(_returns(s) for s in stmts[:-1]) or bool(
        stmts and not isinstance(stmts[-1], ir.Return) and _returns(stmts[-1]))


def _lower_returns(stmts: list[ir.Stmt], result: str | None, flag: str | None) -> list[ir.Stmt]:
    """Rewrite `return` into assignments; statements after a possible return run only if it did not."""
    out: list[ir.Stmt] = []
    for i, s in enumerate(stmts):
        if isinstance(s, ir.Return):
            if s.value is not None and result is not None:
                out.append(ir.Assign(ir.PathExpr(result, pos=s.pos), s.value, pos=s.pos))
            if flag is not None:
                out.append(ir.Assign(ir.PathExpr(flag, pos=s.pos), ir.BoolLiteral(True, pos=s.pos), pos=s.pos))
            return out  # the rest is dead code
        if not _returns(s):
            out.append(s)
            continue
        out.append(_lower_nested(s, result, flag))
        rest = stmts[i + 1:]
        if rest:
            guard = ir.Unary("!", ir.PathExpr(flag, pos=s.pos), pos=s.pos)
            out.append(ir.If(guard, ir.Block(stmts=_lower_returns(rest, result, flag), pos=s.pos), pos=s.pos))
        return out
    return out


def _lower_nested(s: ir.Stmt, result: str | None, flag: str | None) -> ir.Stmt:
    if isinstance(s, ir.Block):
        s.stmts = _lower_returns(s.stmts, result, flag)
    elif isinstance(s, ir.If):
        s.then = _lower_nested(s.then, result, flag)
        if s.else_ is not None:
            s.else_ = _lower_nested(s.else_, result, flag)
    elif isinstance(s, ir.Switch):
        for case in s.cases:
            if case.body is not None:
                _lower_nested(case.body, result, flag)
    elif isinstance(s, ir.For):  # a return leaves the loop: its flag breaks out at the body's end
        body = s.body.stmts if isinstance(s.body, ir.Block) else [s.body]
        stop = ir.If(ir.PathExpr(flag, pos=s.pos), ir.Break(pos=s.pos), pos=s.pos)
        s.body = ir.Block(stmts=_lower_returns(body, result, flag) + [stop], pos=s.body.pos)
    elif isinstance(s, ir.Return):
        return ir.Block(stmts=_lower_returns([s], result, flag), pos=s.pos)
    return s


def inline_functions(program: ir.Program, names: InlinedNames | None = None) -> list[tuple[int, ir.FunctionDecl]]:
    """Inline every function call in `program` and drop the function declarations; returns
    them, each with the number of declarations kept before it (the checker still checks
    them, used or not, as p4c does). `names` collects what the inlining named."""
    functions: dict[str, list[ir.FunctionDecl]] = {}
    dropped: list[tuple[int, ir.FunctionDecl]] = []
    inliner = Inliner(functions, names, frozenset(d.name for d in program.decls if isinstance(d, ir.ExternDecl)))
    kept: list[ir.Node] = []
    top: dict[str, ir.TypeRef] = {}  # the top-level instances so far
    for decl in program.decls:
        inliner.objects = top | {d.name: d.type_ref for d in getattr(decl, "locals", ())
                                 if isinstance(d, ir.Instance) and d.type_ref is not None}
        if isinstance(decl, ir.FunctionDecl):
            specialized = inliner.specialized
            inliner.block(decl.body)  # earlier functions into this one (no recursion in P4)
            decl.specializes = inliner.specialized != specialized
            functions.setdefault(decl.name, []).append(decl)
            dropped.append((len(kept), decl))
            continue
        kept.append(decl)
        if isinstance(decl, ir.Instance) and decl.type_ref is not None:
            top[decl.name] = decl.type_ref
        if not functions:
            continue
        if isinstance(decl, ir.ControlDecl):
            inliner.table_calls(decl, program)
            for local in decl.locals:
                if isinstance(local, ir.ActionDecl):
                    inliner.block(local.body)
            decl.body.stmts[:0] = inliner.initializers(decl.locals)
            inliner.block(decl.body)
            inliner.table_keys = {}
        elif isinstance(decl, ir.ParserDecl):
            start = decl.state("start")
            if start is not None:
                start.stmts[:0] = inliner.initializers(decl.locals)
            for state in decl.states:
                state.stmts = inliner.stmts(state.stmts)
                if state.transition is not None and state.transition.select is not None:
                    sel = state.transition.select
                    sel.keys = [inliner._hoist(k, state.stmts) for k in sel.keys]
        elif isinstance(decl, ir.ActionDecl):
            inliner.block(decl.body)
    program.decls = kept
    return dropped


class InlineFunctions:
    """Pass: lower every function call into statements (see the module docstring)."""

    name = "inline-functions"

    def run(self, ctx) -> None:
        ctx.functions = inline_functions(ctx.program, ctx.inlined)
