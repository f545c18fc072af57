"""Calls: classify each call (`ir.CallKind`), pick the overload, bind arguments to
parameters (positional, named, defaults), infer type arguments and check directions
(`out`/`inout` arguments must be writable l-values)."""

from __future__ import annotations

from typing import Callable

from fabriclab.p4 import ir
from fabriclab.p4.diagnostics import CompileError, SourcePos
from fabriclab.p4.fieldtypes import has_varbits_or_unions, size_in_bits
from fabriclab.p4.p4c_text import checked_type_text, node_text, type_text
from fabriclab.p4.typecheck import (BOOL, INT, VOID, CheckContext, ExprChecker, Scope, error,
                                   header_stack_only, mismatch, no_member, same_type, substitute, unifying)

_PACKET_METHODS = {"extract": ir.CallKind.EXTRACT, "lookahead": ir.CallKind.LOOKAHEAD,
                   "advance": ir.CallKind.ADVANCE, "length": ir.CallKind.LENGTH, "emit": ir.CallKind.EMIT}


# Methods every type has (P4-16 spec 8.23, p4c extends them beyond headers); they fold to an int.
_SIZE_METHODS = ("minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes")

# The implicit parameter of push_front/pop_front (they are built-in methods, not declared).
_COUNT_PARAM = ir.Param("count", direction="in", type=INT)


class CallChecker:
    """Checks calls and constructor/package arguments; expressions go to `types`."""

    def __init__(self, ctx: CheckContext, types: ExprChecker) -> None:
        self.ctx = ctx
        self.types = types

    def check_call(self, e: ir.MethodCall, scope: Scope) -> ir.Expr:
        target = e.target
        if isinstance(target, ir.PathExpr):
            return self._call_path(e, target, scope)
        if isinstance(target, ir.Member):
            return self._call_member(e, target, scope)
        if isinstance(target, ir.TypeMember) and target.member in _SIZE_METHODS:  # `T.minSizeInBits()`
            ref = ir.TypeRef("name", name=target.type_name, pos=target.pos)
            return self._size_query(e, target.member, self.types.resolve_type(ref, scope))
        if isinstance(target, ir.TypeMember):
            self.types.expr(target, scope)  # (a member of a type that has none: p4c's words)
        if isinstance(target, (ir.MethodCall, ir.ConstructorCall)):  # `C()()` (p4c: issue5437)
            callee = node_text(target) if isinstance(target, ir.MethodCall) else \
                f"{type_text(target.target)}({', '.join(node_text(a) for a in target.args)})"
            raise error(e.pos, f"{callee} is not a method")
        raise error(e.pos, f"'{target.text if target else e.text}' is not callable")

    # -- functions and actions -----------------------------------------------------------
    def _call_path(self, e: ir.MethodCall, target: ir.PathExpr, scope: Scope) -> ir.Expr:
        decl = (self.ctx.global_scope if target.absolute else scope).lookup(target.name)
        if decl is None:
            raise error(target.pos, f"{target.name}: declaration not found")
        e.method = target.name
        if isinstance(decl, ir.ActionDecl) and not target.absolute:
            # an action named like an extern function it calls (`action hash() { hash(..); }`):
            # p4c resolves the call by its arguments (issue1541)
            externs = self.ctx.global_scope.lookup(target.name)
            if isinstance(externs, list) and len(e.args) > len(decl.params) and any(
                    sum(1 for p in f.params if p.default is None) <= len(e.args) <= len(f.params)
                    for f in externs):
                decl = externs
        if isinstance(decl, ir.ActionDecl):
            if e.type_args:  # actions are not generic (p4c: issue3656)
                raise error(e.type_args[0].pos, "Vector<Type>: Cannot supply type parameters for an action "
                                                "invocation")  # (p4c prints the IR vector so)
            e.kind, e.decl, e.target = ir.CallKind.ACTION, decl, None
            e.args = self.bind_args(e, decl.params, e.args, scope, {}, f"action '{decl.name}'")
            e.type = VOID
            return e
        if isinstance(decl, list):  # extern function overloads
            fn = self._overload(e, decl, e.args, f"{e.method}: multiple matching declarations")
            e.decl, e.target = fn, None
            e.kind = ir.CallKind.VERIFY if fn.name == "verify" else ir.CallKind.EXTERN_FUNCTION
            result = self._finish_generic(e, fn, {}, scope)
            if e.kind == ir.CallKind.VERIFY and not self.types.in_parser:  # (quoted as typed, folded)
                raise error(e.pos, f"{node_text(e)}: may only be invoked in parsers")
            if fn.name == "static_assert" and decl is self.ctx.global_scope.lookup("static_assert"):
                return self._static_assert(e)
            return result
        raise error(target.pos, f"'{target.name}' is not a function or action")

    def _static_assert(self, e: ir.MethodCall) -> ir.Expr:
        """core.p4's static_assert(check[, message]): an error unless `check` is a true
        compile-time constant; its value is `true` (so it can initialize a constant)."""
        check = e.args[0].value
        if not isinstance(check, ir.BoolLiteral):
            raise error(check.pos, "static_assert needs a compile-time constant condition")
        if not check.value:
            message = e.args[1].value if len(e.args) > 1 else None
            text = message.value if isinstance(message, ir.StringLiteral) else "condition is false"
            raise error(e.pos, f"{node_text(e)}: {text}")
        return ir.BoolLiteral(True, type=ir.BoolType(), text=e.text, pos=e.pos)

    def _overload(self, e: ir.MethodCall, candidates: list[ir.Method], args: list[ir.Argument],
                  ambiguous: str | None = None) -> ir.Method:
        """The overload a call names. With `ambiguous` (the message), two overloads the
        arguments both fit (by count and names, as p4c matches them) are an error."""
        matching = [c for c in candidates if call_fits(c, args)]
        if ambiguous is not None and len(matching) > 1:
            raise error(e.pos, ambiguous)
        if matching:
            return matching[0]
        for cand in candidates:
            required = sum(1 for p in cand.params if p.default is None and p.annotation("optional") is None)
            if required <= len(args) <= len(cand.params):
                return cand
        counts = sorted({len(c.params) for c in candidates})
        expected = " or ".join(str(c) for c in counts)
        message = f"wrong number of arguments to '{candidates[0].name}': expected {expected}, got {len(args)}"
        if len(candidates) > 1:
            raise error(e.pos, message)
        with unifying(e):  # (one declaration: p4c unifies the call with it)
            raise mismatch(e.pos, message)

    def _finish_generic(self, e: ir.MethodCall, fn: ir.Method, bindings: dict, scope: Scope) -> ir.Expr:
        bindings = dict(bindings)
        if e.type_args:
            if len(e.type_args) != len(fn.type_params):
                with unifying(e):  # (p4c's words: it unifies the call with the declaration)
                    raise mismatch(fn.pos, f"{fn.name}: {len(fn.type_params)} type parameters expected, "
                                           f"but {len(e.type_args)} type arguments supplied")
            for name, ref in zip(fn.type_params, e.type_args):
                bindings[name] = self.types.resolve_type(ref, scope)
        e.args = self.bind_args(e, fn.params, e.args, scope, bindings, f"'{fn.name}'")
        e.type_bindings = bindings
        ret = substitute(fn.return_type, bindings)
        if ir.block_kind(ret) is not None:  # parsers, controls and packages are only instantiated
            raise error(e.pos, f"{e.text.rstrip(';')}: illegal return type {ir.block_kind(ret)} {self.types.show(ret)}")
        if isinstance(ret, ir.TypeVar) and ret is fn.return_type:  # (not one bound to a generic block's type parameter)
            raise error(e.pos, f"cannot infer the type of '{fn.name}'(); give it explicitly: "
                               f"{fn.name}<T>(...)")
        e.type = ret
        return e

    # -- methods -----------------------------------------------------------------------------
    def _call_member(self, e: ir.MethodCall, target: ir.Member, scope: Scope) -> ir.Expr:
        method = target.member
        e.method = method
        obj_expr = target.expr
        if isinstance(obj_expr, ir.PathExpr):
            decl = scope.lookup(obj_expr.name)
            if isinstance(decl, ir.TableDecl):
                if method != "apply":
                    raise error(target.pos, f"tables have no method '{method}'")
                if e.args:
                    raise error(e.pos, "a table's apply() takes no arguments")
                obj_expr.decl, obj_expr.type = decl, VOID
                e.kind, e.decl, e.target = ir.CallKind.TABLE_APPLY, decl, obj_expr
                e.type = ir.ApplyResultType(decl)
                return e
        obj = self._operand(obj_expr, scope, sizing=method in _SIZE_METHODS)
        e.target = obj
        t = obj.type
        if method in _SIZE_METHODS and not isinstance(t.base if isinstance(t, ir.SpecializedType) else t,
                                                      ir.ExternDecl):  # (an extern's own method)
            return self._size_query(e, method, t)
        if isinstance(t, ir.StructLike) and t.kind in ("header", "header_union"):
            kinds = {"isValid": (ir.CallKind.IS_VALID, BOOL), "setValid": (ir.CallKind.SET_VALID, VOID),
                     "setInvalid": (ir.CallKind.SET_INVALID, VOID)}
            if method not in kinds or t.kind == "header_union" and method != "isValid":
                raise no_member(target.pos, obj, method)
            if e.args:
                raise error(e.pos, f"{method}() takes no arguments")
            value = obj.expr if isinstance(obj, ir.Cast) else obj
            if method == "isValid" and isinstance(value, (ir.StructExpr, ir.ListExpr, ir.InvalidHeader)):
                # a header built here is valid, `{#}` is not: p4c folds the call (before any check
                # of what uses it)
                return ir.BoolLiteral(not isinstance(value, ir.InvalidHeader), type=BOOL, text=e.text, pos=e.pos)
            if method != "isValid":
                self.check_writable(obj, scope)
            e.kind, e.type = kinds[method]
            return e
        if isinstance(t, ir.StackType):
            header_stack_only(t, target)
            if method not in ("push_front", "pop_front"):
                raise error(target.pos, f"header stacks have no method '{method}'")
            if len(e.args) != 1:
                raise error(e.pos, f"{method}() takes one argument (the count)")
            count = self.types.expr(e.args[0].value, scope)
            if not isinstance(count, ir.Constant) or count.value < 0:
                with unifying(e):  # (p4c: its type's argument must be a constant)
                    raise mismatch(e.args[0].pos, f"the count of {method}() must be a non-negative constant")
            e.args[0].value = count
            e.args[0].param = _COUNT_PARAM
            self.check_writable(obj, scope)
            e.kind = ir.CallKind.PUSH_FRONT if method == "push_front" else ir.CallKind.POP_FRONT
            e.type = VOID
            return e
        base, bindings = t, {}
        if isinstance(t, ir.SpecializedType):
            base = t.base
            bindings = dict(zip(getattr(base, "type_params", []), t.args))
        if isinstance(base, ir.ExternDecl):
            candidates = [m for m in base.methods if m.name == method]
            if not candidates:
                raise error(target.pos, f"{node_text(target)}: extern {base.name} does not have method matching "
                                        f"this call")
            fn = self._overload(e, candidates, e.args, f"Ambiguous method {method}")
            e.decl = fn
            e.kind = _PACKET_METHODS.get(method, ir.CallKind.EXTERN_METHOD) \
                if base.name in ("packet_in", "packet_out") else ir.CallKind.EXTERN_METHOD
            result = self._finish_generic(e, fn, bindings, scope)
            if e.kind == ir.CallKind.LOOKAHEAD:
                where = e.type_args[0].pos if e.type_args else e.pos
                if isinstance(e.type, ir.VoidType):  # p4c: issue4146
                    raise error(where, "void: illegal type argument for 'lookahead'")
                _single_varbit(e.type)
                if has_varbits_or_unions(e.type):
                    raise error(where, f"{self.types.show(e.type)}: type argument must be a fixed-width type")
            if e.kind in (ir.CallKind.EXTRACT, ir.CallKind.EMIT):
                self._check_packet_arg(e)
                if e.kind == ir.CallKind.EXTRACT and e.args[0].value is not None:
                    _single_varbit(e.args[0].value.type)
                if len(e.args) > 1:
                    self._check_varbit_extract(e)
                elif e.kind == ir.CallKind.EXTRACT and e.args[0].value is not None and \
                        has_varbits_or_unions(e.args[0].value.type):
                    # a varbit field's length comes from extract's second argument (p4c: issue478)
                    arg = e.args[0].value
                    raise error(arg.pos, f"{node_text(arg)}: argument cannot contain varbit fields\n(extract it "
                                         f"with its length: extract(hdr, bits))")
            return result
        if (isinstance(base, (ir.ControlDecl, ir.ParserDecl)) or isinstance(base, ir.BlockTypeDecl)
                and base.kind in ("control", "parser")) and method == "apply":
            # a BlockTypeDecl: a constructor parameter of control/parser type (`C2(ctl_t c)`)
            e.decl = base
            control = isinstance(base, ir.ControlDecl) or getattr(base, "kind", "") == "control"
            e.kind = ir.CallKind.CONTROL_APPLY if control else ir.CallKind.PARSER_APPLY
            e.args = self.bind_args(e, base.params, e.args, scope, {}, f"'{base.name}.apply'")
            e.type = VOID
            if isinstance(base, ir.ControlDecl):
                _constant_keys(self.ctx, base, e.args)
            return e
        raise no_member(target.pos, obj, method)

    def _operand(self, obj: ir.Expr, scope: Scope, sizing: bool) -> ir.Expr:
        """The typed object of a method call; `sizing`: of a size query (`types.sizing`)."""
        outer, self.types.sizing = self.types.sizing, self.types.sizing or sizing
        try:
            return self.types.expr(obj, scope)
        finally:
            self.types.sizing = outer

    def _size_query(self, e: ir.MethodCall, method: str, t: ir.Type) -> ir.Constant:
        """`x.minSizeInBits()` and the like: p4c folds them to an int constant while it types
        the program (a call statement of one then does nothing)."""
        with unifying(e):  # (p4c: the call's type against the method's, which names no position)
            if e.args:
                raise mismatch(None, f"{method}: {len(e.args)} arguments supplied while 0 are expected")
            if e.type_args:
                raise mismatch(None, f"{method}: 0 type parameters expected, but {len(e.type_args)} type "
                                     f"arguments supplied")
        bits = size_in_bits(t, method.startswith("max"))
        if bits is None:
            raise error(e.pos, f"{e.text}: width not well-defined for values of type {self.types.show(t)}")
        value = (bits + 7) // 8 if method.endswith("Bytes") else bits
        return ir.Constant(value, type=INT, text=e.text, pos=e.pos)

    def _check_varbit_extract(self, e: ir.MethodCall) -> None:
        """`extract(hdr, len)`: `hdr` has exactly one varbit field, `len` (bits) is a bit<32>."""
        hdr = e.args[0].value.type
        if sum(isinstance(f.type, ir.VarbitType) for f in hdr.fields) != 1:
            arg = e.args[0].value
            raise error(arg.pos, f"{node_text(arg)}: argument should contain a varbit field\n(extract(hdr, len) "
                                 f"needs a header with one varbit field, not {hdr.name})")

    def _check_packet_arg(self, e: ir.MethodCall) -> None:
        arg = e.args[0].value if e.args else None
        t = arg.type if arg is not None else None
        if arg is None and e.args and e.kind == ir.CallKind.EXTRACT:  # extract<H>(_): skip an H
            t = next(iter(getattr(e, "type_bindings", {}).values()), None)
            if t is None:  # (nothing gives extract's type parameter a type)
                raise error(e.pos, f"{node_text(e)}: could not infer a type for variable T")
        ok = isinstance(t, ir.StructLike) and (t.kind == "header" or e.kind == ir.CallKind.EMIT) or \
            isinstance(t, ir.StackType) and e.kind == ir.CallKind.EMIT
        if not ok:  # (p4c's words)
            what = "must be a header" if e.kind == ir.CallKind.EXTRACT else \
                "must be a header, stack or union, or a struct or tuple of such types"
            raise error(arg.pos if arg else e.pos, f"{node_text(arg)}: argument {what}\n({e.method}() needs a "
                                                   f"header, not {self.types.show(t)})")

    # -- arguments -----------------------------------------------------------------------------
    def bind_args(self, call: ir.Node, params: list[ir.Param], args: list[ir.Argument], scope: Scope,
                  bindings: dict, what: str) -> list[ir.Argument]:
        """Match `args` to `params`; returns arguments in parameter order. A mismatch quotes
        the call (p4c unifies its type with the callee's), or the argument of an action a table
        names."""
        pos = call.pos
        origin = call if isinstance(call, (ir.MethodCall, ir.Instance, ir.ConstructorCall)) else None
        by_param: dict[str, ir.Argument] = {}
        named = [a for a in args if a.name is not None]
        if named and len(named) != len(args):
            odd = next(a for a in args if (a.name is None) != (args[0].name is None))
            raise error(odd.pos or pos, f"{node_text(odd)}: either all or none of the arguments of a call "
                                        f"must be named\n(call to {what})")
        with unifying(origin):
            if len(args) > len(params):
                raise mismatch(pos, f"wrong number of arguments to {what}: expected {len(params)}, "
                                    f"got {len(args)}")
            for i, arg in enumerate(args):
                if arg.name is not None:
                    param = next((p for p in params if p.name == arg.name), None)
                    if param is None:
                        raise mismatch(arg.pos, f"{what} has no parameter '{arg.name}'")
                    if param.name in by_param:
                        raise error(arg.pos, f"parameter '{arg.name}' is given twice")
                else:
                    param = params[i]
                by_param[param.name] = arg
        result = []
        given: list[ir.Argument] = []  # (p4c types every argument, then unifies the call)
        for param in params:
            arg = by_param.get(param.name)
            if arg is None:
                if param.annotation("optional") is not None or param.default is None:
                    continue  # `@optional`: may be left out (a missing one is reported below)
                arg = ir.Argument(self.types.expr(param.default, scope), pos=pos)
            elif arg.value is not None:
                arg.value = self.types.expr(arg.value, scope)
                if isinstance(call, ir.MethodCall):
                    # (`_` of a function's own type arguments is inferred; an extern type's stays)
                    bound = substitute(param.type, bindings) if call.kind == ir.CallKind.EXTERN_METHOD else None
                    _value_argument(arg.value, param, bound)
                given.append(arg)
            elif param.direction not in ("out", "inout"):
                with unifying(origin):
                    raise mismatch(arg.pos, f"'_' can only be passed to an out parameter ({param.name} of "
                                            f"{what})")
            arg.param = param
            result.append(arg)
        bound: dict[int, ir.Expr] = {}  # (set once all are: a mismatch quotes the call as typed)
        unsized: list[ir.Argument] = []  # unsized constants for type variables, bound last
        with unifying(origin):
            missing = next((p for p in params if p.name not in by_param and p.default is None
                            and p.annotation("optional") is None), None)
            if missing is not None and missing.direction is None and isinstance(call, ir.MethodCall) and \
                    call.kind == ir.CallKind.ACTION:  # (p4c finds it after type checking)
                if not self._in_a_table(call.decl):  # (its RemoveActionParameters, before inlining)
                    raise error(pos, f"action {node_text(call)}: parameter {missing.name} must be bound")
                raise error(pos, f"{node_text(call)}: No argument supplied for {missing.name}")
            if missing is not None:
                raise mismatch(pos, f"wrong number of arguments to {what}: missing '{missing.name}'")
            for arg in given:
                if arg.param.direction is None and isinstance(call, ir.MethodCall) and \
                        call.kind in (ir.CallKind.EXTERN_FUNCTION, ir.CallKind.EXTERN_METHOD) and \
                        _runtime_part(arg.value) is not None:
                    raise mismatch(arg.value.pos, f"{node_text(arg.value)}: argument used for directionless "
                                                  f"parameter '{arg.param.name}' must be a compile-time constant")
                if isinstance(substitute(arg.param.type, bindings), ir.TypeVar) and \
                        isinstance(arg.value.type, ir.IntType):
                    unsized.append(arg)
                    continue
                with unifying(arg.value if origin is None else None):
                    bound[id(arg)] = self._bind_one(arg.value, arg.param, scope, bindings, what)
            for arg in unsized:
                # a type variable takes its width from the other arguments; an unsized constant
                # alone gives it none (p4c: "could not infer a width", issue764, issue584)
                ptype = substitute(arg.param.type, bindings)
                if isinstance(ptype, ir.TypeVar):
                    raise error(arg.value.pos, f"{node_text(arg.value)}: could not infer a width\n(for "
                                               f"'{arg.param.name}' of {what}: write the constant with a width, "
                                               f"as 32w5, or cast it)")
                bound[id(arg)] = self._bind_one(arg.value, arg.param, scope, bindings, what)
        for arg in given:
            arg.value = bound[id(arg)]
        return result

    def _in_a_table(self, action: ir.ActionDecl) -> bool:
        """Whether a table lists `action` (by its name: p4c keeps the control-plane parameters
        of such an action, and binds those of one only called)."""
        return any(ref.name.lstrip(".") == action.name for node in ir.walk(self.ctx.program)
                   if isinstance(node, ir.TableDecl) for ref in node.actions)

    def _bind_one(self, value: ir.Expr, param: ir.Param, scope: Scope, bindings: dict, what: str) -> ir.Expr:
        """`value` (typed) for `param`; binds the type variable the parameter's type is."""
        ptype = substitute(param.type, bindings)
        if isinstance(ptype, ir.DontCareType):  # a type argument `_` (`E<_>`) gives no type
            raise _dont_care(value, param)
        ptype = _fill_dont_cares(ptype, value.type)
        if isinstance(ptype, ir.TypeVar):
            if isinstance(value.type, (ir.StructInitType, ir.DefaultValueType)):
                raise error(value.pos, f"unknown struct: Cannot infer type for unknown struct type initializer\n"
                                       f"(for {node_text(value)} passed to {what})")
            bindings[ptype.name] = value.type
            ptype = value.type
        if not (isinstance(ptype, ir.IntType) and isinstance(value.type, ir.BitType)):
            # (p4c unifies `int` with any width: such a value keeps its own, extern-int-arg1)
            value = self.types.coerce(value, ptype, f"argument '{param.name}' of {what}")
        if isinstance(param.type, ir.TypeVar) and param.direction is not None and \
                isinstance(ptype.base if isinstance(ptype, ir.SpecializedType) else ptype, (ir.StringType, ir.ExternDecl)):
            # a generic parameter with a direction, bound to a type such a parameter cannot have
            # (once the call unified: call-on-extern-abstract-method-illformed-after-specialization)
            raise error(param.pos, f"{param.name}: a parameter with type {self.types.show(ptype)} cannot have a direction")
        if param.direction in ("out", "inout"):  # (p4c: a mismatch of the call)
            self.check_writable(value, scope, f"argument for {param.direction} parameter '{param.name}'", mismatch)
        return value

    def check_writable(self, e: ir.Expr, scope: Scope, what: str = "assignment target",
                       fail: Callable[[SourcePos | None, str], CompileError] = error) -> None:
        """`e` must be an l-value rooted at a writable variable or parameter (`fail` makes the
        error)."""
        node = e
        while isinstance(node, (ir.Member, ir.Index, ir.Slice)):
            node = node.expr
        if not isinstance(node, ir.PathExpr) or isinstance(e, ir.Member) and e.member == "lastIndex" \
                and isinstance(e.expr.type, ir.StackType):
            raise fail(e.pos, f"{what} '{e.text}' is not an l-value")
        decl = node.decl
        if isinstance(decl, ir.Param):
            if decl.direction == "in":
                raise fail(e.pos, f"cannot write to 'in' parameter '{decl.name}'")
            if decl.direction is None:
                raise fail(e.pos, f"cannot write to directionless parameter '{decl.name}'")
        elif not isinstance(decl, ir.VarDecl):
            raise fail(e.pos, f"{what} '{e.text}' is not writable")

    # -- constructors ---------------------------------------------------------------------------
    def block_overload(self, node, target: ir.Type, args: list[ir.Argument]) -> ir.Type:
        """The parser, control or package an instantiation names when several are declared
        under its name: the one whose constructor its arguments fit by count and names, as
        p4c resolves overloads (issue1334)."""
        overloads = self.ctx.overloads.get(getattr(target, "name", None), [])
        if not any(target is d for d in overloads):
            return target
        matching = [d for d in overloads if params_fit(ir.constructor_params(d), args)]
        if len(matching) != 1:
            what = "multiple matching declarations" if matching else "no matching declaration"
            raise error(node.pos, f"{target.name}: {what}")
        return matching[0]

    def bind_constructor(self, node, target: ir.Type, args: list[ir.Argument], scope: Scope):
        """Check an instantiation's arguments against the type's constructor."""
        base, bindings = target, {}
        if isinstance(target, ir.SpecializedType):
            base = target.base
            bindings = dict(zip(getattr(base, "type_params", []), target.args))
        what = f"constructor of '{getattr(base, 'name', '?')}'"
        if isinstance(base, ir.ExternDecl):
            if not base.constructors:
                raise error(node.pos, f"{node_text(node)}: type {base.name} has no matching constructor")
            ctor = self._overload(node, base.constructors, args)
            for p in ctor.params:  # an extern is given values, not parsers, controls or packages
                kind = ir.block_kind(p.type)
                if kind is not None:
                    raise error(p.pos, f"{p.name}: parameter cannot have type {kind} {self.types.show(p.type)}")
            node.args = self.bind_args(node, ctor.params, args, scope, bindings, what)
            _constant_arguments(node.args)
            if base.type_params and not isinstance(target, ir.SpecializedType):
                node.type = self._inferred_extern_type(node, base, bindings)
            if isinstance(node, ir.Instance):
                node.constructor = ctor
            return
        if isinstance(base, (ir.ParserDecl, ir.ControlDecl)):
            for p in base.ctor_params:  # only a package's constructor takes packages
                if ir.block_kind(p.type) == "package":
                    raise error(p.pos, f"{p.name}: parameter cannot be a package")
            node.args = self.bind_args(node, base.ctor_params, args, scope, bindings, what)
            _constant_arguments(node.args)
            return
        if isinstance(base, ir.BlockTypeDecl) and base.kind == "package":
            node.args = self.bind_package(node, base, args, scope, bindings)
            return
        if isinstance(node, ir.Instance):  # (p4c's words)
            raise error(node.pos, f"{node.name}: cannot allocate objects of type {checked_type_text(target)}")
        raise error(node.pos, f"type {self.types.show(target)} cannot be instantiated")

    @staticmethod
    def _inferred_extern_type(node, base: ir.ExternDecl, bindings: dict) -> ir.SpecializedType:
        """`Random(16w256) r;`: a generic extern's type arguments inferred from its constructor's
        arguments (p4c: methodArgs, issue2480)."""
        for p in base.type_params:
            if not isinstance(bindings.get(p), ir.Type) or isinstance(bindings[p], ir.TypeVar):
                raise error(node.pos, f"{node_text(node)}: could not infer a type for variable {p}\n"
                                      f"('{base.name}' needs type arguments: {base.name}<...>)")
        return ir.SpecializedType(base, tuple(bindings[p] for p in base.type_params))

    def bind_package(self, node, package: ir.BlockTypeDecl, args: list[ir.Argument], scope: Scope,
                     explicit: dict | None = None):
        """`explicit`: the package's type arguments given with its type (`Ingress<H>(...)`); the
        blocks passed must agree with them. A mismatch quotes the package type (as p4c)."""
        with unifying(package):
            return self._bind_package(node, package, args, scope, explicit)

    def _bind_package(self, node, package: ir.BlockTypeDecl, args: list[ir.Argument], scope: Scope,
                      explicit: dict | None):
        if args and all(a.name for a in args):  # V1Switch(p = P(), ...): put them in parameter order
            by_name = {a.name: a for a in args}
            unknown = sorted(set(by_name) - {p.name for p in package.params})
            if unknown:
                raise mismatch(by_name[unknown[0]].pos, f"package '{package.name}' has no parameter "
                                                        f"'{unknown[0]}'")
            args = [by_name[p.name] for p in package.params if p.name in by_name]
        params = package.params
        if all(a.name for a in args):  # named: the parameters given
            params = [p for p in package.params if p.name in {a.name for a in args}]
        elif len(args) < len(params):  # positional: the first ones
            params = params[:len(args)]
        left_out = [p for p in package.params if p not in params]
        if len(args) > len(package.params) or any(p.annotation("optional") is None for p in left_out):
            raise mismatch(node.pos, f"wrong number of arguments to package '{package.name}': "
                                     f"expected {len(package.params)}, got {len(args)}")
        bindings = {name: t for name, t in (explicit or {}).items() if not isinstance(t, ir.DontCareType)}
        for arg, param in zip(args, params):  # `@optional` parameters may be left out
            value = self.types.expr(arg.value, scope) if arg.value is not None else None
            decl = value.type if value is not None else None
            proto = param.type
            proto_base = proto.base if isinstance(proto, ir.SpecializedType) else proto
            inner = decl.base if isinstance(decl, ir.SpecializedType) else decl
            if isinstance(inner, ir.BlockTypeDecl) and inner.kind == "package" and inner is proto_base:
                # a package instance passed to a package: its type arguments must agree
                made = getattr(value.decl, "package_bindings", {}) if isinstance(value, ir.PathExpr) else {}
                for name, want in zip(inner.type_params, proto.args if isinstance(proto, ir.SpecializedType) else []):
                    want = substitute(want, bindings)
                    have = made.get(name)
                    if isinstance(want, ir.TypeVar) and have is not None:
                        bindings[want.name] = have
                    elif have is not None and not isinstance(want, ir.DontCareType) and not same_type(have, want):
                        raise mismatch(arg.pos, f"type of argument '{arg.value.text}' (package {inner.name}) "
                                                f"does not match type of parameter '{param.name}' "
                                                f"({self.types.show(proto)})")
                arg.value, arg.param = value, param
                continue
            if value is not None and ir.block_kind(proto) is None:  # a value (`bool flag`): a constant
                arg.value, arg.param = self._bind_one(value, param, scope, bindings, f"package '{package.name}'"), param
                _constant_arguments([arg])
                continue
            if not isinstance(decl, (ir.ParserDecl, ir.ControlDecl)) or \
                    not isinstance(proto_base, ir.BlockTypeDecl) or \
                    (proto_base.kind == "parser") != isinstance(decl, ir.ParserDecl):
                kind = proto_base.kind if isinstance(proto_base, ir.BlockTypeDecl) else "block"
                raise mismatch(arg.pos, f"argument '{param.name}' of package '{package.name}' must be a "
                                        f"{kind} instance")
            self._match_block(arg, decl, proto, bindings)
            arg.value = value
            arg.param = param
        node.package_bindings = bindings  # what a package taking this instance checks
        return args

    def _match_block(self, arg: ir.Argument, decl, proto, bindings: dict) -> None:
        """A parser/control passed to a package must have the prototype's parameters; the
        prototype may have more at its end if they are optional or have a default value (p4c
        unifies them so: default-control-argument), which the block then does not see."""
        proto_base = proto.base if isinstance(proto, ir.SpecializedType) else proto
        local = dict(zip(proto_base.type_params, proto.args)) if isinstance(proto, ir.SpecializedType) else {}
        extra = proto_base.params[len(decl.params):]
        if len(decl.params) > len(proto_base.params) or any(
                p.default is None and p.annotation("optional") is None for p in extra):
            raise mismatch(arg.pos, f"'{decl.name}' has {len(decl.params)} parameters, "
                                    f"'{proto_base.name}' needs {len(proto_base.params)}")
        for actual, expected in zip(decl.params, proto_base.params):
            want = substitute(expected.type, local)
            if isinstance(want, ir.TypeVar):
                bound = bindings.setdefault(want.name, actual.type)
                want = bound
            elif isinstance(want, ir.DontCareType):  # `cproto<_>`: any type (p4c: unused)
                want = actual.type
            if not same_type(actual.type, want) or (actual.direction or None) != (expected.direction or None):
                raise mismatch(arg.pos or actual.pos,  # p4c: the argument's type does not match the parameter's
                               f"parameter '{actual.name}' of '{decl.name}' is {actual.direction or ''} "
                               f"{self.types.show(actual.type)} but '{proto_base.name}' needs "
                               f"{expected.direction or ''} {self.types.show(want)}".replace("  ", " "))


def _fill_dont_cares(want: ir.Type, have: ir.Type) -> ir.Type:
    """A parameter's type `E<_, _>` takes the type arguments of the argument's `E<A, B>` where
    it says `_` (any type there: p4c, issue3417 `RegisterAction(Register<_, _> reg)`)."""
    if not (isinstance(want, ir.SpecializedType) and isinstance(have, ir.SpecializedType)
            and same_type(want.base, have.base) and len(want.args) == len(have.args)):
        return want
    return ir.SpecializedType(want.base, tuple(h if isinstance(w, ir.DontCareType) else w
                                               for w, h in zip(want.args, have.args)))


def _runtime_part(e: ir.Expr) -> ir.Expr | None:
    """A part of `e` that is only known at run time: a variable, a parameter with a direction
    (an apply or action parameter), a call other than an instantiation or an extern function
    given constants (an object factory, p4c: factory1; a @pure function, hashext3)."""
    if isinstance(e, ir.PathExpr):
        decl = e.decl
        if isinstance(decl, ir.VarDecl) and not decl.constant_param or \
                isinstance(decl, ir.Param) and decl.direction is not None:
            return e
        return None
    if isinstance(e, ir.MethodCall) and e.kind != ir.CallKind.EXTERN_FUNCTION:
        return e
    for value in vars(e).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ir.Argument):
                item = item.value
            if isinstance(item, tuple) and len(item) == 2:  # a struct expression's (name, value)
                item = item[1]
            if isinstance(item, ir.Expr) and item is not e:
                found = _runtime_part(item)
                if found is not None:
                    return found
    return None


def _constant_arguments(args: list[ir.Argument]) -> None:
    """Constructor arguments are evaluated when the program is instantiated, at compile time
    (p4c: persistent_e, `p(z) p1;` with `z` an apply parameter)."""
    for arg in args:
        if arg.value is not None and _runtime_part(arg.value) is not None:
            raise error(arg.value.pos, f"{arg.value.text}: cannot evaluate to a compile-time constant")


def call_fits(fn: ir.Method, args: list[ir.Argument]) -> bool:
    """Whether `args` fit `fn`'s parameters (see params_fit)."""
    return params_fit(fn.params, args)


def params_fit(params: list[ir.Param], args: list[ir.Argument]) -> bool:
    """Whether `args` fit `params`: each names (by position or by name) a distinct
    parameter, and the parameters left have a default value or are @optional."""
    left = {p.name: p for p in params}
    for i, arg in enumerate(args):
        name = arg.name if arg.name is not None else (params[i].name if i < len(params) else None)
        if name is None or left.pop(name, None) is None:
            return False
    return all(p.default is not None or p.annotation("optional") is not None for p in left.values())


def _constant_keys(ctx: CheckContext, control: ir.ControlDecl, args: list[ir.Argument]) -> None:
    """p4c inlines `control.apply(args)`: a constant bound to a directionless parameter that
    a table of the control matches on becomes a constant key, which it warns about where
    the constant is written (issue2542)."""
    keyed = {k.expr.name for t in control.locals if isinstance(t, ir.TableDecl) for k in t.keys
             if isinstance(k.expr, ir.PathExpr)}
    for a in args:
        if a.param is not None and a.param.direction is None and a.param.name in keyed \
                and isinstance(a.value, (ir.Constant, ir.BoolLiteral)):
            ctx.warn(a.value.pos, f"{node_text(a.value)}: Constant key field")


def _value_argument(value: ir.Expr, param: ir.Param, ptype: ir.Type | None) -> None:
    """A call passes values: not a table, an action, a parser, a control or a package (a generic
    parameter bound by `_` could otherwise take one, e.g. `f<_>(t)` with a table `t`; p4c
    refuses that binding first). In p4c's words: a table's type is its IR class."""
    decl = value.decl if isinstance(value, ir.PathExpr) else None
    kind = "Type_Table" if isinstance(decl, ir.TableDecl) else "action" if isinstance(decl, ir.ActionDecl) \
        else checked_type_text(value.type) if ir.block_kind(value.type) is not None else None
    if kind is None:
        return
    if isinstance(ptype, ir.DontCareType):
        raise _dont_care(value, param)
    raise error(value.pos, f"{node_text(value)}: argument cannot have type {kind}")


def _dont_care(value: ir.Expr, param: ir.Param) -> CompileError:
    """p4c's words for a parameter whose type a type argument `_` leaves unknown."""
    return error(value.pos, f"{node_text(value)}: Could not infer a type for parameter {param.name} "
                            f"(inferred type is don't care '_')")


def _single_varbit(t: ir.Type | None) -> None:
    """A header extracted or looked ahead has at most one varbit field; p4c checks it there
    (not where the header is declared) and names the fields."""
    if isinstance(t, ir.StackType):
        _single_varbit(t.elem)
    elif isinstance(t, ir.StructLike):
        varbits = [f for f in t.fields if isinstance(f.type, ir.VarbitType)]
        if len(varbits) > 1:
            raise error(varbits[0].pos, f"{varbits[0].name} and {varbits[1].name}: multiple varbit fields in a "
                                        f"header\n(header {t.name})")
        for f in t.fields:
            _single_varbit(f.type)
