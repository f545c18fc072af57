"""The front end's first two passes: declare the program's names, then check every declaration.

`DeclareGlobals` fills the global scope (duplicate declarations are errors).
`CheckDeclarations` walks declarations, parsers, controls, actions, tables and statements:
it resolves every name and types every expression in place (expressions through
`typecheck.ExprChecker`, calls through `calls.CallChecker`), folds constants (through
`consteval`), and enforces the rules that need a declaration's scope: directions and
l-values, select case types, table properties and entries, package arguments. Rules that
look at a checked program as a whole live in `rules.py`; `passes.py` lists the passes.
"""

from __future__ import annotations

import copy
import re

from fabriclab.p4 import consteval, ir
from fabriclab.p4.annotations import fold_literals, structured_values, unfolded_error
from fabriclab.p4.bmv2_rules import system_decl
from fabriclab.p4.calls import CallChecker, call_fits
from fabriclab.p4.diagnostics import CompileError, Diagnostic, SourcePos
from fabriclab.p4.fieldtypes import struct_field_ok
from fabriclab.p4.p4c_text import checked_type_text, node_text, type_text, written_unsized
from fabriclab.p4.typecheck import (VOID, CheckContext, ExprChecker, Scope, const_aggregate, error, fold_path,
                                    is_numeric, mismatch, same_type, substitute, tuple_field_error, unifying)

_HEADER_FIELD_TYPES = (ir.BitType, ir.BoolType, ir.VarbitType)


def _header_field_type(t) -> bool:
    """bit/int/varbit/bool, a serializable enum, a new type of those, or a struct of those (P4-16 spec)."""
    t = t.type if isinstance(t, ir.NewTypeDecl) else t
    if isinstance(t, ir.StructLike) and t.kind == "struct":
        return all(_header_field_type(f.type) for f in t.fields)
    if isinstance(t, ir.StackType):  # an array of bits (`bit<8>[16] a;`) or of bit structs
        return _header_field_type(t.elem)
    return isinstance(t, _HEADER_FIELD_TYPES) or isinstance(t, ir.EnumDecl) and t.underlying is not None
_TYPE_WORDS = frozenset({"bit", "int", "varbit", "bool", "true", "false"})  # keywords, not names
_SELF_DECLARING = (ir.StructLike, ir.ExternDecl, ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl)
_TYPE_DECLS = (ir.StructLike, ir.EnumDecl, ir.TypedefDecl, ir.NewTypeDecl, ir.ExternDecl,
               ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl)
_STATEMENTS_NOT_IN_PARSERS = (ir.Switch, ir.Exit, ir.Return, ir.For)  # `if` is allowed (P4-16 v1.2.2)


def _parser_stmts(stmts, in_if: bool = False):
    """Statements of a parser state, including those nested in `if` branches and blocks, as
    (statement, under an `if`): p4c's grammar takes any statement in an `if`'s branches,
    and only parser statements elsewhere in a state."""
    for stmt in stmts:
        yield stmt, in_if
        if isinstance(stmt, ir.If):
            yield from _parser_stmts([stmt.then] + ([stmt.else_] if stmt.else_ else []), True)
        elif isinstance(stmt, ir.Block):
            yield from _parser_stmts(stmt.stmts, in_if)


# The values a constant's initializer can fold to.
_CONSTANT_VALUES = (ir.Constant, ir.BoolLiteral, ir.EnumMember, ir.StringLiteral, ir.StructExpr, ir.ListExpr)


def _subexprs(e: ir.Expr):
    """`e` and the expressions inside it (not through declarations)."""
    yield e
    for value in vars(e).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ir.Argument) and item.value is not None:
                item = item.value
            if isinstance(item, ir.Expr):
                yield from _subexprs(item)


# The v1model versions (V1MODEL_VERSION, v1model.p4's __v1model_version) p4c knows: the
# first one and the latest (which adds PortId_t and friends).
V1MODEL_VERSIONS = (20180101, 20200408)


def _check_v1model_version(value: ir.Expr) -> None:
    if not isinstance(value, ir.Constant) or value.value < 0:
        raise error(value.pos, f"{value.text}: expected v1model version to be a non-negative number")
    first, latest = V1MODEL_VERSIONS
    if not first <= value.value <= latest:
        raise error(value.pos, f"{value.value}: unknown v1model version; initial supported version is {first}, "
                               f"latest is {latest}")


def unreachable_accept(parser: ir.ParserDecl) -> str:
    """p4c's SimplifyParsers' warning for a parser that never accepts (its front end gives it
    before inlining sub-parsers, its mid end again for the parsers main gets)."""
    return f"accept state in parser {parser.name} is unreachable"


def _ends_reached(start: ir.ParserState, rejecting: set[int] = frozenset()) -> set[str]:
    """Which of accept and reject some path of transitions from `start` reaches, through the
    select cases p4c's constant folding keeps (a select without a default case may go to
    reject); a state that applies a sub-parser of a type in `rejecting` (ids of parsers that
    never accept) goes to reject, as once p4c has inlined it."""
    ends: set[str] = set()
    seen: set[int] = set()
    todo = [start]
    while todo:
        state = todo.pop()
        if id(state) in seen:
            continue
        seen.add(id(state))
        tr = state.transition
        if any(id(_applied_parser(stmt)) in rejecting for stmt in state.stmts):
            ends.add("reject")
            continue
        if tr is None:
            ends.add("reject")  # no transition statement: reject
            continue
        if tr.select is None:
            nexts = [(tr.state, tr.state_decl)]
        else:
            kept, _unreachable = fold_select(tr.select)
            if not any(_is_default(c) for c in kept):
                ends.add("reject")
            nexts = [(c.state, c.state_decl) for c in kept]
        for name, decl in nexts:
            if name in ("accept", "reject"):
                ends.add(name)
            elif decl is not None:
                todo.append(decl)
    return ends


def _is_default(case: ir.SelectCase) -> bool:
    return len(case.keysets) == 1 and isinstance(case.keysets[0], ir.DefaultExpr)


def _applied_parser(stmt: ir.Stmt) -> ir.ParserDecl | None:
    """The parser a statement `sub.apply(...)` runs, if it is one."""
    call = stmt.call if isinstance(stmt, ir.CallStmt) else None
    target = call.target if call is not None and call.method == "apply" else None
    inst = target.decl if isinstance(target, ir.PathExpr) else None
    return inst.type if isinstance(inst, ir.Instance) and isinstance(inst.type, ir.ParserDecl) else None


def fold_select(sel: ir.SelectExpr) -> tuple[list[ir.SelectCase], list[ir.SelectCase]]:
    """(the cases a select may take, those after one it always takes), as p4c's constant
    folding sees them: with constant keys, a case that cannot match is dropped and the first
    that must match is the last one kept (a select on run-time keys keeps them all)."""
    values = [constant_key(k) for k in sel.keys]
    if None in values:
        return list(sel.cases), []
    kept: list[ir.SelectCase] = []
    for i, case in enumerate(sel.cases):
        inside = True if _is_default(case) else _contains_all(case.keysets, values)
        if inside is False:
            continue
        kept.append(case)
        if inside:
            return kept, sel.cases[i + 1:]
    return kept, []


def select_may_match_none(sel: ir.SelectExpr) -> bool:
    """Whether some input takes no case of `sel` (the parser then goes to reject): no
    `default`, and with constant keys no case that must match (p4c folds such a select first)."""
    values = [constant_key(k) for k in sel.keys]
    if None in values:
        return not any(_is_default(c) for c in sel.cases)
    return not any(must_match(c, values) for c in sel.cases)


def must_match(case: ir.SelectCase, values: list) -> bool:
    """Whether a select on the constant `values` surely takes `case` if it gets to it."""
    return _is_default(case) or _contains_all(case.keysets, values) is True


def _contains_all(keysets: list[ir.Expr], values: list) -> bool | None:
    """p4c's setContains over a case's keysets: True, False or None (not known: a value set)."""
    results = [_contains(k, v) for k, v in zip(keysets, values)]
    return False if False in results else None if None in results else True


def constant_key(e: ir.Expr):
    """A select key's constant value (an enum member by its value, or its name if it has
    none), None if not a constant."""
    if isinstance(e, (ir.Constant, ir.BoolLiteral)):
        return e.value
    if isinstance(e, ir.EnumMember):
        return e.value if e.value is not None else ("member", e.member)
    return None


def _contains(keyset: ir.Expr, value) -> bool | None:
    if isinstance(keyset, ir.DefaultExpr):
        return True
    if isinstance(keyset, (ir.Constant, ir.BoolLiteral, ir.EnumMember)):
        return constant_key(keyset) == value
    if isinstance(keyset, ir.Range) and isinstance(keyset.lo, ir.Constant) and isinstance(keyset.hi, ir.Constant):
        return keyset.lo.value <= value <= keyset.hi.value
    if isinstance(keyset, ir.Mask) and isinstance(keyset.value, ir.Constant) and isinstance(keyset.mask, ir.Constant):
        return keyset.value.value & keyset.mask.value == value & keyset.mask.value
    return None


def _body_decl(decl: ir.Decl) -> bool:
    return isinstance(decl, (ir.ParserDecl, ir.ControlDecl, ir.ActionDecl, ir.FunctionDecl))


def _signature(decl: ir.Decl) -> list[ir.Param]:
    return list(decl.params) + list(getattr(decl, "ctor_params", []))  # type: ignore[attr-defined]


def _declare(scope: Scope, decl: ir.Decl, kind: str = "values") -> None:
    table = getattr(scope, kind)
    if decl.name in table:
        raise error(decl.pos, f"duplicate declaration of '{decl.name}'")
    table[decl.name] = decl


def _declare_local(scope: Scope, decl: ir.Decl) -> None:
    """Declare a local name; as p4c, a local declaration may not shadow a parameter in scope
    (p4c: issue2544_shadowing1, `Headers h = h;` in a control with parameter `h`)."""
    shadowed = scope.lookup(decl.name)
    if isinstance(shadowed, ir.Param):
        raise error(decl.pos, f"declaration of '{decl.name}' shadows a parameter '{decl.name}'")
    _declare(scope, decl)


def _param_type(p: ir.Param, role: str) -> None:
    """The types a parameter may have (P4-16 spec; p4c's type checker): never a parser or control
    declaration (only their types); apply parameters of parsers and controls, and action
    parameters ("apply"), neither a parser, control nor package type; a parameter with a
    direction neither an extern nor a string, nor (of an extern method or function, "method") a
    parser or control. Parser, control and package constructor parameters ("ctor") may be any."""
    t = p.type.base if isinstance(p.type, ir.SpecializedType) else p.type
    kind = ir.block_kind(t)
    if isinstance(t, (ir.ParserDecl, ir.ControlDecl)):
        raise error(p.pos, f"{p.name}: parameter cannot have type {kind} {t.name}")
    if p.type is t and isinstance(t, (ir.ExternDecl, ir.BlockTypeDecl)) and t.type_params:
        raise error(p.pos, f"Type parameters needed for {p.name}")  # (a generic type, none given)
    if role == "apply" and kind == "package":
        raise error(p.pos, f"{p.name}: parameter cannot be a package")
    if p.direction is not None and isinstance(t, (ir.ExternDecl, ir.StringType)) and role != "action":
        raise error(p.pos, f"{p.name}: a parameter with type {t.display()} cannot have a direction")
    if kind in ("parser", "control") and (role == "apply" or role == "method" and p.direction is not None):
        raise error(p.pos, f"{p.name}: parameter cannot have type {kind} {t.name}")


class DeclareGlobals:
    """Pass: the top-level names (types, values, extern function overloads), errors and
    match kinds, so that declarations may refer to ones declared after them."""

    name = "declare-globals"

    def run(self, ctx: CheckContext) -> None:
        g = ctx.global_scope
        for decl in ctx.program.decls:
            if isinstance(decl, ir.ErrorDecl):
                _extend(ctx.program.errors, decl)
            elif isinstance(decl, ir.MatchKindDecl):
                _extend(ctx.program.match_kinds, decl)
            elif isinstance(decl, ir.ExternFunction):
                overloads = g.values.setdefault(decl.name, [])
                if not isinstance(overloads, list) or any(_same_signature(o, decl) for o in overloads):
                    raise error(decl.pos, f"duplicate declaration of '{decl.name}'")
                overloads.append(decl)
            elif isinstance(decl, ir.BlockTypeDecl) and decl.kind == "package" and decl.name in g.types:
                _overload_package(ctx, decl)
            elif _overloads(g.types.get(decl.name), decl):
                ctx.overloads.setdefault(decl.name, [g.types[decl.name]]).append(decl)
            elif isinstance(decl, _TYPE_DECLS):
                _declare(g, decl, "types")
            else:
                _declare(g, decl)


def _annotation_expressions(decl: ir.Decl, scope: Scope) -> None:
    """p4c type-checks a structured annotation's expressions where it checks the declaration:
    reject those that are no constants of literals (build_ir kept them) in its words."""
    own = set(getattr(decl, "type_params", None) or ())

    def kind_of(name: str) -> str | None:
        if name in own or scope.lookup_type(name) is not None:
            return "type"
        d = scope.lookup(name)
        if isinstance(d, ir.ConstDecl):
            return "constant"
        if isinstance(d, ir.Instance) and d.type_ref is not None \
                and isinstance(scope.lookup_type(d.type_ref.name), ir.ExternDecl):
            return "extern"
        return None

    for node in ir.walk(decl):
        for anno in getattr(node, "annotations", None) or ():
            for value in structured_values(anno):
                if isinstance(value, ir.AnnotationExpr):
                    raise error(*unfolded_error(value, kind_of))


def _overloads(previous: ir.Decl | None, decl: ir.Decl) -> bool:
    """Whether `decl` overloads the type declared before under its name: parsers and controls
    may be, each kind with its own, told apart by their constructors' arguments (p4c:
    IFunctional declarations of one kind; issue1334)."""
    return type(previous) is type(decl) and isinstance(decl, (ir.ParserDecl, ir.ControlDecl))


def _same_signature(a: ir.Method, b: ir.Method) -> bool:
    """Overloads no call can tell apart: as many parameters, with the same names (p4c tells
    overloads apart by the count and the names of the arguments; issue1334)."""
    return sorted(p.name for p in a.params) == sorted(p.name for p in b.params)


def _overload_package(ctx: CheckContext, decl: ir.BlockTypeDecl) -> None:
    """A package declared again: an overload, which an instantiation picks by its arguments
    (p4c: issue3379), if its parameters differ in number from the others'."""
    first = ctx.global_scope.types[decl.name]
    overloads = ctx.package_overloads.setdefault(decl.name, [first])
    if not isinstance(first, ir.BlockTypeDecl) or any(len(o.params) == len(decl.params) for o in overloads):
        raise error(decl.pos, f"duplicate declaration of '{decl.name}'")
    overloads.append(decl)


def _member_pos(decl, index: int) -> SourcePos | None:
    """Where a member of an enum, error or match_kind declaration is (p4c names the repeat)."""
    return decl.member_pos[index] if index < len(decl.member_pos) and decl.member_pos[index] else decl.pos


def _unbound(ref: ir.ActionRef, param: ir.Param) -> CompileError:
    """p4c's words for an action named in a table without an argument for `param`, which has
    a direction (so the control plane cannot give it)."""
    args = ", ".join(a.value.text for a in ref.args if a.value is not None)
    return error(ref.pos, f"{ref.name}({args}): Parameter {param.name} must be bound")


def _extend(members: list[str], decl: ir.Decl) -> None:
    for i, name in enumerate(decl.members):  # type: ignore[attr-defined]
        if name in members:
            raise error(_member_pos(decl, i), f"{name}: Duplicates declaration {name}")  # (p4c's words)
        members.append(name)


class CheckDeclarations:
    """Pass: resolve names, type expressions and fold constants, declaration by declaration."""

    name = "check-declarations"

    def run(self, ctx: CheckContext) -> None:
        decls: list[ir.Decl] = list(ctx.program.decls)
        for before, fn in reversed(ctx.functions):  # in source order among the others
            decls.insert(before, fn)
        DeclarationChecker(ctx)._check_all(decls, ctx.global_scope)
        for fn in ctx.not_returning:  # (p4c's def-use finds it, once the program type-checks)
            raise error(fn.pos, f"Function '{fn.name}' does not return a value on all paths")


class DeclarationChecker:
    """The walk over declarations and statements; expressions and calls are delegated."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.types = ExprChecker(ctx)
        self.calls = CallChecker(ctx, self.types)
        self.types.calls = self.calls
        self.types.constants = self
        self._checking_consts: set[int] = set()
        self._loops = 0  # for loops around the statement being checked (break/continue)
        self._returns: ir.Type | None = None  # the return type of the function being checked
        self._unwritten: dict[int, ir.Expr] = {}  # the state's locals select cases may read (unwritten_locals)
        self._constant_params: set[int] = set()  # the control's directionless apply parameters

    def _check_all(self, decls: list[ir.Decl], scope: Scope) -> None:
        """Check every declaration and report the first error of each, as p4c reports several.

        Only parsers, controls and actions are checked past an error: nothing else depends on
        their bodies, while an error in a type, constant or signature would only cascade.
        Instances (main) are not checked once something failed, as their arguments may be the
        failed declarations. An internal failure after a reported error is such a cascade: the
        errors found so far are the report.
        """
        errors: list[Diagnostic] = []
        for decl in decls:
            if errors and isinstance(decl, ir.Instance):
                continue
            try:
                if self.ctx.program.unfolded_annotations:
                    _annotation_expressions(decl, scope)
                self._check_decl(decl, scope)
            except CompileError as err:
                errors.extend(self._reported())
                errors.extend(err.diagnostics)
                if not _body_decl(decl) or any(p.type is None for p in _signature(decl)):
                    break
            except Exception:
                if not errors:
                    raise
                break
            errors.extend(self._reported())
        if errors:
            raise CompileError(errors)

    def _reported(self) -> list[Diagnostic]:
        """The errors found while checking on past them (taken: each is reported once)."""
        found, self.ctx.errors = self.ctx.errors, []
        return found

    def _check_decl(self, decl: ir.Decl, scope: Scope) -> None:
        method = getattr(self, "_d_" + type(decl).__name__, None)
        if method is None:
            return
        declaring = self.types.declaring
        if isinstance(decl, _SELF_DECLARING):  # the type whose own name it must not use
            self.types.declaring = decl
        try:
            method(decl, scope)
        finally:
            self.types.declaring = declaring

    # -- type declarations ---------------------------------------------------------------
    def _d_StructLike(self, decl: ir.StructLike, scope: Scope) -> None:
        seen: set[str] = set()
        for f in decl.fields:  # (distinct: validate.py)
            self._length_annotation(f, seen, scope)
            seen.add(f.name)
            self._match_annotation(f)
            if decl.type_params:  # generic: its uses are checked as concrete structs
                if decl.kind == "header_union" and f.type_ref.kind not in ("name", "specialized"):
                    # (but a union's field is a header, never e.g. a tuple, whatever the arguments)
                    raise error(f.pos, f"Field '{f.name}' of 'header_union {decl.name}' cannot have type "
                                       f"'{type_text(f.type_ref)}'")
                continue
            f.type = self.types.resolve_type(f.type_ref, scope)
            rep = f.type
            while isinstance(rep, ir.NewTypeDecl):  # a `type` may be over another `type`
                rep = rep.type
            wrong = f"Field '{f.name}' of '{decl.kind} {decl.name}' cannot have type '{checked_type_text(f.type)}'"
            if decl.kind == "header" and not _header_field_type(rep):
                raise error(f.type_ref.pos, f"{wrong}\n(header fields must be bit<W>, int<W>, varbit<W>, bool, "
                                            f"serializable enums or structs of those)")
            if decl.kind == "header_union" and not (isinstance(rep, ir.StructLike) and rep.is_header):
                raise error(f.type_ref.pos, f"{wrong}\n(a header union's fields are headers)")
            if decl.kind == "struct" and f.type is decl:
                raise error(f.pos, f"struct '{decl.name}' contains itself")
            if decl.kind == "struct" and not struct_field_ok(f.type):
                raise error(f.pos, wrong)
            self._tuple_elements(f.type, f.type_ref)

    @staticmethod
    def _length_annotation(f: ir.Field, earlier: set[str], scope: Scope) -> None:
        """The names in a field's `@length(e)` are found as p4c's ResolveReferences finds
        them: the fields declared before it, then the enclosing scope (spec-ex32_e)."""
        anno = f.annotation("length")
        if anno is None:
            return
        for name in re.findall(r"(?<![\w.])[A-Za-z_]\w*", anno.body or ""):
            if name not in earlier and name not in _TYPE_WORDS and scope.lookup(name) is None:
                raise error(anno.pos, f"{name}: declaration not found")

    def _match_annotation(self, f: ir.Field) -> None:
        """A field's `@match(kind)` (how a value_set of the struct matches it) must name one
        declared match_kind (p4c: ValidateMatchAnnotations)."""
        anno = f.annotation("match")
        if anno is None:
            return
        if len(anno.args) != 1:
            raise error(anno.pos, f"@match of field '{f.name}': annotation must have exactly 1 argument")
        kind = anno.args[0]
        if not isinstance(kind, str) or kind.strip() not in self.ctx.program.match_kinds:
            body = (anno.body or "").strip()
            try:  # p4c quotes what its constant folding made of it
                folded = fold_literals(body)
                body = str(folded) if type(folded) is int else body
            except ValueError:
                pass
            raise error(anno.pos, f"{body}: value must be a match_kind\n(@match of field '{f.name}')")

    def _d_EnumDecl(self, decl: ir.EnumDecl, scope: Scope) -> None:
        if decl.underlying_ref is None:
            return
        underlying = self.types.resolve_type(decl.underlying_ref, scope)
        if not isinstance(underlying, ir.BitType):
            note = ("; note that the used type is unsized integral type" if isinstance(underlying, ir.IntType) else
                    "; note that type-declared types are not allowed even if they are fixed-size"
                    if isinstance(underlying, ir.NewTypeDecl) else "")
            raise error(decl.underlying_ref.pos, f"{type_text(decl.underlying_ref)}: Illegal type for enum; only bit<> "
                                                 f"and int<> are allowed{note}")
        decl.underlying = underlying
        members = Scope(scope)  # the members before a value name theirs (p4c: issue3616, `c = (bit<4>)a`)
        for i, (name, expr) in enumerate(zip(decl.members, decl.value_exprs)):
            value = self.types.expr(expr, members)
            with unifying(ir.PathExpr(name, pos=_member_pos(decl, i))):  # (p4c quotes the member)
                value = self.types.coerce(value, underlying, f"value of '{decl.name}.{name}'")
            if not isinstance(value, ir.Constant):
                raise error(expr.pos, f"value of '{decl.name}.{name}' must be a compile-time constant")
            decl.values[name] = value.value
            members.values[name] = ir.ConstDecl(name, type=underlying, value=value, pos=expr.pos)

    def _d_TypedefDecl(self, decl: ir.TypedefDecl, scope: Scope) -> None:
        self.types.typedef_target(decl, scope)

    def _d_NewTypeDecl(self, decl: ir.NewTypeDecl, scope: Scope) -> None:
        decl.type = self.types.resolve_type(decl.type_ref, scope)
        if not isinstance(decl.type, (ir.BitType, ir.BoolType, ir.NewTypeDecl)):
            raise error(decl.type_ref.pos, f"{decl.name}: `type' can only be applied to base types")

    def check_const(self, decl: ir.ConstDecl, scope: Scope) -> None:
        if decl.value is not None:
            return
        if id(decl) in self._checking_consts:
            raise error(decl.pos, f"constant '{decl.name}' is defined in terms of itself")
        self._checking_consts.add(id(decl))
        decl.type = self.types.resolve_type(decl.type_ref, scope)
        value = self.types.expr(decl.init, scope)
        base = decl.type.base if isinstance(decl.type, ir.SpecializedType) else decl.type
        if isinstance(base, ir.ExternDecl):
            raise error(decl.pos, f"{decl.name}: Cannot declare constants of extern types")
        if decl.name == "__v1model_version" and scope is self.ctx.global_scope:
            _check_v1model_version(value)
        if isinstance(decl.type, ir.IntType) and isinstance(value.type, ir.BitType):
            # p4c unifies `int` with a sized type: `const int z = 2w1;` is the number 1 (issue2444)
            if isinstance(value, ir.Constant):
                value = ir.Constant(value.value, value.base, type=decl.type, text=value.text, pos=value.pos)
        else:
            if isinstance(decl.type, ir.BitType) and isinstance(value, ir.Constant) and \
                    isinstance(value.type, ir.BitType) and not same_type(value.type, decl.type):
                # (p4c's constant folding finds it, before type checking)
                raise error(decl.pos, f"{decl.name}: initializer has wrong type {self.types.show(value.type)}")
            with unifying(decl):
                value = self.types.coerce(value, decl.type, f"initializer of '{decl.name}'")
        value = const_aggregate(value) or value  # `const T t2 = t;`: t's value
        if not isinstance(value, _CONSTANT_VALUES):
            raise error(decl.init.pos, f"the initializer of constant '{decl.name}' is not a compile-time constant")
        decl.value = value
        self._checking_consts.discard(id(decl))

    def _d_ConstDecl(self, decl: ir.ConstDecl, scope: Scope) -> None:
        self.check_const(decl, scope)

    def _generic_scope(self, type_params: list[str], scope: Scope) -> Scope:
        inner = Scope(scope)
        for name in type_params:
            inner.types[name] = ir.TypeVar(name)
        return inner

    def _params(self, params: list[ir.Param], scope: Scope, role: str = "ctor") -> None:
        for p in params:  # (distinct: validate.py)
            p.type = self.types.resolve_type(p.type_ref, scope)
            _param_type(p, role)
            self._tuple_elements(p.type, p.type_ref)
            if p.default is not None:
                self._default(p, scope)

    def _default(self, p: ir.Param, scope: Scope) -> None:
        """A parameter's default value must be a compile-time constant (p4c: issue3316). It is
        typed at each call that uses it; a copy is typed here. An instance (a package
        parameter's `EmptyV<H>()`) is constant by nature and is typed where an instance of
        the package takes it, with the package's type arguments (specialize.py)."""
        value = p.default
        if isinstance(value, ir.ConstructorCall):
            return
        if not any(isinstance(c, ir.MethodCall) for c in _subexprs(value)):
            value = self.types.expr(copy.deepcopy(value), scope)
            if not isinstance(p.type, ir.TypeVar):
                value = self.types.coerce(value, p.type, f"default value of '{p.name}'")
        if not isinstance(value, _CONSTANT_VALUES):
            raise error(p.default.pos, f"{self._call_as_typed(value)}: expression must be a compile-time constant")

    def _call_as_typed(self, e: ir.Expr) -> str:
        """A call of a function as p4c prints it once typed: an unsized constant argument with
        the implicit cast to its parameter's type (`h((bit<1>)1)`); anything else as written.
        (The function is inlined by now: its declaration is among the dropped ones.)"""
        fn = next((f for _, f in self.ctx.functions if isinstance(e, ir.MethodCall)
                   and isinstance(e.target, ir.PathExpr) and f.name == e.target.name), None)
        if fn is None or len(e.args) > len(fn.params) or any(a.name for a in e.args):
            return node_text(e)
        args = [f"({type_text(p.type_ref)}){node_text(a.value)}"
                if written_unsized(a.value) and p.type_ref is not None and p.type_ref.kind in ("bit", "int")
                else node_text(a.value) for a, p in zip(e.args, fn.params)]
        return f"{node_text(e.target)}({', '.join(args)})"

    def _tuple_elements(self, t: ir.Type, ref: ir.TypeRef) -> None:
        """A tuple a field or parameter is declared with holds only what a struct field may:
        p4c's midend turns such tuples into structs (p4c: constructor-parameter-type-illformed)."""
        if (err := tuple_field_error(t, ref.pos, self.types.show)) is not None:
            raise err

    def _not_generic(self, t: ir.Type, ref: ir.TypeRef | None, what: str) -> None:
        """A generic type names its type arguments where no call can infer them."""
        if ref is not None and getattr(t, "type_params", None):
            raise error(ref.pos, f"{ref.name or self.types.show(t)}: no type parameters supplied for {what}")

    def _prototype(self, m: ir.Method, scope: Scope) -> None:
        inner = self._generic_scope(m.type_params, scope)
        self._params(m.params, inner, "method")
        m.return_type = VOID if m.is_constructor else self.types.resolve_type(m.return_ref, inner)
        self._not_generic(m.return_type, m.return_ref, "return generic type")

    def _d_ExternDecl(self, decl: ir.ExternDecl, scope: Scope) -> None:
        inner = self._generic_scope(decl.type_params, scope)
        for m in decl.constructors + decl.methods:
            self._prototype(m, inner)
            if isinstance(m.return_type, (ir.IntType, ir.StringType)):
                # p4c: a method returns a value of a width it knows, not a string
                raise error(m.return_ref.pos, f"{self.types.show(m.return_type)}: illegal return type for method")
            if isinstance(m.return_type, ir.TupleType) and any(isinstance(t, (ir.DontCareType, ir.VoidType))
                                                               for t in m.return_type.elems):
                raise tuple_field_error(m.return_type, m.return_ref.pos, self.types.show)

    def _d_ExternFunction(self, decl: ir.ExternFunction, scope: Scope) -> None:
        self._prototype(decl, scope)

    def _d_BlockTypeDecl(self, decl: ir.BlockTypeDecl, scope: Scope) -> None:
        self._params(decl.params, self._generic_scope(decl.type_params, scope),
                     "ctor" if decl.kind == "package" else "apply")

    def _d_Instance(self, decl: ir.Instance, scope: Scope) -> None:
        typ = self.types.resolve_type(decl.type_ref, self._overload_scope(decl, scope))
        decl.type = self.calls.block_overload(decl, typ, decl.args)
        if scope is self.ctx.global_scope and ir.block_kind(decl.type) in ("parser", "control"):
            # parsers and controls are instantiated inside others or as a package's arguments
            raise error(decl.pos, f"{decl.name}: cannot instantiate at top-level")
        self.calls.bind_constructor(decl, decl.type, decl.args, scope)
        self._abstract_methods(decl, scope)
        if decl.size_expr is not None:
            decl.type = ir.StackType(decl.type, self._instance_count(decl, scope))

    def _instance_count(self, decl: ir.Instance, scope: Scope) -> int:
        """The size of an array of instances (`T() name[N];`): a positive compile-time constant."""
        size = self.types.const_int(decl.size_expr, scope, "an array size")
        if size <= 0:
            raise error(decl.size_expr.pos, f"{decl.name}: an array of instances needs a positive size, not {size}")
        return size

    def _overload_scope(self, inst: ir.Instance, scope: Scope) -> Scope:
        """Where `inst`'s type is resolved: for an overloaded package, a scope in which its
        name is the package whose parameters the arguments fit (by count and names)."""
        name = inst.type_ref.name if inst.type_ref is not None else ""
        overloads = self.ctx.package_overloads.get(name)
        if not overloads or scope.lookup_type(name) is not overloads[0]:
            return scope
        fitting = [p for p in overloads if call_fits(p, inst.args)]
        if len(fitting) != 1:
            raise error(inst.pos, f"{name}: {len(fitting) or 'no'} package declarations take these "
                                  f"{len(inst.args)} arguments")
        return Scope(scope, types={name: fitting[0]})

    def _abstract_methods(self, decl: ir.Instance, scope: Scope) -> None:
        """An instance of an extern with abstract methods implements each (but `@optional`
        ones) in its initializer block, with the same signature, and nothing else; in them
        `this` is the instance (P4-16 spec, abstract methods)."""
        base = decl.type.base if isinstance(decl.type, ir.SpecializedType) else decl.type
        abstract = {m.name: m for m in getattr(base, "methods", []) if m.abstract}
        for fn in decl.initializer or ():  # names and parameters first, as p4c checks them before
            if isinstance(fn, ir.FunctionDecl):
                inner = self._generic_scope(fn.type_params, scope)
                if fn.return_ref is not None:
                    self.types.resolve_type(fn.return_ref, inner)
                for p in fn.params:
                    p.type = self.types.resolve_type(p.type_ref, inner)
                    if isinstance(p.type, ir.IntType) and p.direction is not None:
                        raise error(p.pos, f"{p.name}: parameters with type int must be directionless")
                    _param_type(p, "method")
        bindings = dict(zip(base.type_params, decl.type.args)) if isinstance(decl.type, ir.SpecializedType) else {}
        for method in getattr(base, "methods", []) if bindings else ():  # (p4c: as it specializes the type)
            for p in method.params:
                t = substitute(p.type, bindings)
                if p.direction is not None and isinstance(t.base if isinstance(t, ir.SpecializedType) else t,
                                                          (ir.StringType, ir.ExternDecl)):
                    raise error(p.pos, f"{p.name}: a parameter with type {self.types.show(t)} cannot have a direction")
        if decl.initializer is not None and not isinstance(base, ir.ExternDecl):
            raise error(decl.pos, "BlockStatement: initializers only allowed for extern instances")  # (p4c's words)
        if not abstract and decl.initializer is not None:
            # (p4c names the kind of what it found: the initializer's block)
            raise error(decl.pos, "BlockStatement: instance initializers for extern without abstract methods")
        if not abstract and not decl.initializer:
            return
        done = set()
        scope = Scope(scope)
        for inst in decl.initializer:
            if isinstance(inst, ir.Instance):
                _declare(scope, inst)
                self._check_decl(inst, scope)
        for fn in decl.initializer:
            if isinstance(fn, ir.Instance):
                continue
            proto = abstract.get(fn.name)
            if proto is None:
                raise error(fn.pos, f"{fn.name}: no matching abstract method in {self.types.show(decl.type)}")
            if fn.name in done:
                raise error(fn.pos, f"{fn.name}: abstract method implemented twice")
            done.add(fn.name)
            self._params(fn.params, scope, "method")
            ret = self.types.resolve_type(fn.return_ref, scope)
            names = {p.name for p in fn.params}  # an @optional parameter may be left out
            want = [(p.direction or None, substitute(p.type, bindings)) for p in proto.params
                    if p.name in names or p.annotation("optional") is None]
            have = [(p.direction or None, p.type) for p in fn.params]
            self._body(fn.body, fn.params, ret, scope, this=decl)  # (p4c types the body first)
            if len(want) != len(have) or not all(d1 == d2 and same_type(t1, t2) for (d1, t1), (d2, t2)
                                                 in zip(want, have)) \
                    or not same_type(ret, substitute(proto.return_type, bindings)):
                with unifying(decl):  # (p4c unifies the instance's type with its methods')
                    raise mismatch(fn.pos, f"{fn.name}: the implementation does not match the abstract method "
                                           f"of {self.types.show(decl.type)}")
        for name, proto in abstract.items():
            if name not in done and proto.annotation("optional") is None:
                raise error(decl.pos, f"{decl.name}: {name} abstract method not implemented")

    def _d_FunctionDecl(self, decl: ir.FunctionDecl, scope: Scope) -> None:
        """A function is type-checked where it is declared, called or not, as p4c checks every
        declaration: its signature, and its body as it stands after the inlining (calls to
        earlier functions expanded; a call to itself or to a later function names nothing
        declared yet, as in p4c). Return values convert to the return type and functions
        cannot call actions. Its calls were already expanded into copies, which are typed
        where they were inlined. A generic function's body is typed with its type parameters
        as types, as p4c types it, and each specialization the inlining made as its own."""
        scope = self._generic_scope(decl.type_params, scope)
        self._params(decl.params, scope)
        returns = self.types.resolve_type(decl.return_ref, scope)
        self._not_generic(returns, decl.return_ref, "return generic type")
        self._body(decl.body, decl.params, returns, scope)
        for call in ir.iter_calls(decl.body):
            if call.kind == ir.CallKind.ACTION:  # p4c: functions cannot call actions
                raise error(call.pos, f"{call.method}(): Functions cannot call actions")

    def _body(self, body: ir.Block, params: list[ir.Param], returns: ir.Type, scope: Scope,
              this: ir.Instance | None = None) -> None:
        """Type a function's (or an abstract method implementation's) body: its parameters in
        scope (and `this`, the instance, in an implementation), its returns against `returns`."""
        inner = Scope(scope)
        if this is not None:
            inner.values["this"] = this
        for p in params:
            inner.values[p.name] = p
        self._returns = returns
        try:
            self._block(body, inner)
        finally:
            self._returns = None

    # -- actions -----------------------------------------------------------------------------
    def _d_ActionDecl(self, decl: ir.ActionDecl, scope: Scope) -> None:
        # p4c's order: each parameter (its type, `int`), the body, then the parameter list (the
        # types of parameters with a direction, blocks), then what an action's list may hold
        self._params(decl.params, scope, "action")
        for p in decl.params:
            # p4c: an action is not generic, so its parameters cannot be `int` (their width
            # would be unknown) nor extern instances.
            if isinstance(p.type, ir.IntType) and p.direction is not None:
                raise error(p.pos, f"{p.name}: parameters with type int must be directionless")
            if isinstance(p.type, ir.IntType):
                raise error(p.pos, f"{p.name}: actions cannot have parameters with type int")
        inner = Scope(scope)
        for p in decl.params:
            inner.values[p.name] = p
        self._block(decl.body, inner)
        for call in ir.iter_calls(decl.body):
            if call.kind in (ir.CallKind.TABLE_APPLY, ir.CallKind.CONTROL_APPLY):
                raise error(call.pos, f"{node_text(call)}: apply cannot be called from actions")
        for p in decl.params:
            _param_type(p, "apply")
        seen_cp = False
        for p in decl.params:
            extern = p.type.base if isinstance(p.type, ir.SpecializedType) else p.type
            if isinstance(extern, ir.ExternDecl):
                raise error(p.type_ref.pos or p.pos, f"{self.types.show(p.type)}: Action parameters cannot have "
                                                     f"extern types\n('{p.name}' of action '{decl.name}')")
            if p.direction is None:
                seen_cp = True
            elif seen_cp:
                raise error(p.pos, f"{p.name}: direction-less action parameters have to be at the end\n"
                                   f"(the directional parameters of action '{decl.name}' come first)")

    def _block_scope(self, decl: ir.ParserDecl | ir.ControlDecl, scope: Scope) -> Scope:
        """The scope inside a parser or control: its parameters, then its local declarations."""
        params = Scope(scope)
        self._params(decl.params + decl.ctor_params, scope)
        for p in decl.params:
            _param_type(p, "apply")
        for p in decl.params + decl.ctor_params:
            params.values[p.name] = p
        inner = Scope(params)
        for local in decl.locals:
            self._local(local, inner)
        return inner

    # -- parsers --------------------------------------------------------------------------------
    def _d_ParserDecl(self, decl: ir.ParserDecl, scope: Scope) -> None:
        self.types.in_parser = True
        try:
            self._parser(decl, scope)
        finally:
            self.types.in_parser = False

    def _parser(self, decl: ir.ParserDecl, scope: Scope) -> None:
        inner = self._block_scope(decl, self._generic_scope(decl.type_params, scope))
        states = {state.name: state for state in decl.states}  # (distinct, with a start: validate.py)
        for state in decl.states:
            state_scope = Scope(inner)
            for stmt, in_if in _parser_stmts(state.stmts):
                if isinstance(stmt, _STATEMENTS_NOT_IN_PARSERS):
                    keyword = type(stmt).__name__.lower()
                    if not in_if:  # (p4c's bison words: its grammar has no such parser statement)
                        raise error(stmt.pos, f"syntax error, unexpected {keyword.upper()}, expecting {{ or CONST\n"
                                              f"({keyword} statements are not allowed in parser states)")
                    raise error(stmt.pos, f"{keyword} statements are not allowed in parser states")
            for i, stmt in enumerate(state.stmts):
                stmt = state.stmts[i] = self._stmt(stmt, state_scope)
                for call in ir.iter_calls(stmt):
                    if call.kind == ir.CallKind.ACTION:
                        raise error(call.pos, f"{node_text(call)}: Action calls are not allowed within parsers")
            self._unwritten = unwritten_locals(state.stmts)
            self._transition(state.transition, states, state_scope)
            self._unwritten = {}
        ends = _ends_reached(states["start"], self.ctx.never_accepting)
        if not ends:
            raise error(decl.pos, f"parser {decl.name}: Parser never reaches accept or reject state")
        if "accept" not in ends:
            self.ctx.never_accepting.add(id(decl))
            if "accept" not in _ends_reached(states["start"]):  # (p4c's front end: before inlining)
                self.ctx.warn(decl.pos, unreachable_accept(decl), once=False)

    def _state(self, name: str, pos, states: dict, scope: Scope | None = None) -> ir.ParserState | None:
        """`scope`: a select case's, where a name that is declared but no state is p4c's error."""
        if name in ("accept", "reject"):
            return None
        if name not in states:
            if scope is not None and scope.lookup(name) is not None:
                raise error(pos, "SelectCase must be state")
            raise error(pos, f"{name}: declaration not found")
        return states[name]

    def _transition(self, tr: ir.Transition, states: dict, scope: Scope) -> None:
        if tr.select is None:
            tr.state_decl = self._state(tr.state, tr.pos, states)
            return
        sel = tr.select
        sel.keys = [self.types.expr(k, scope) for k in sel.keys]
        written = "{ " + ", ".join(node_text(k) for k in sel.keys) + " }"  # (p4c's select is a list)
        with unifying(sel):  # (p4c unifies the cases' tuple types with the keys')
            _flatten_select(sel)
        for key in sel.keys:
            if not isinstance(key.type, (ir.BitType, ir.BoolType, ir.EnumDecl, ir.ErrorType, ir.NewTypeDecl)):
                raise error(key.pos, f"Expression '{written}' with a component of type "
                                     f"'{checked_type_text(key.type)}' cannot be used in 'select'")
        for case in sel.cases:
            case.state_decl = self._state(case.state, case.pos, states, scope)
            with unifying(sel):
                case.keysets = self._keysets(case.keysets, sel.keys, scope, case.pos, "select case")
        kept, unreachable = fold_select(sel)
        for case in unreachable:  # (p4c's constant folding of a select on constants)
            self.ctx.warn(case.pos, "SelectCase: unreachable case")
        if not kept and len(kept) != len(sel.cases):
            self.ctx.warn(tr.pos, "SelectExpression: no case matches")

    def _keysets(self, keysets: list[ir.Expr], keys: list[ir.Expr], scope: Scope, pos, what: str) -> list[ir.Expr]:
        if len(keysets) == 1 and isinstance(keysets[0], ir.DefaultExpr):
            keysets[0].type = ir.DontCareType()
            return keysets
        if len(keysets) == 1 and isinstance(keysets[0], ir.ListExpr) and len(keys) == 1 \
                and len(keysets[0].items) == 1:  # `{ e }` for one key (p4c: action-two-params)
            keysets = keysets[0].items
        if len(keysets) == 1 and len(keys) > 1:
            only = self.types.expr(keysets[0], scope)
            if isinstance(only.type, ir.SetType):  # a value_set of a struct matching all keys
                return [only]
            raise mismatch(keysets[0].pos, f"{what} has 1 value for {len(keys)} keys")
        if len(keysets) != len(keys):
            raise mismatch(pos, f"{what} has {len(keysets)} values for {len(keys)} keys")
        return [self._keyset(ks, key.type, scope, what, isinstance(key, (ir.Constant, ir.BoolLiteral)))
                for ks, key in zip(keysets, keys)]

    def _keyset(self, ks: ir.Expr, key_type: ir.Type, scope: Scope, what: str, constant_key: bool = False) -> ir.Expr:
        """`constant_key`: a select on a constant, which p4c's constant folding evaluates (and
        words a mask or range part it cannot); a range's bounds are its mid end's concern else."""
        if isinstance(ks, ir.DefaultExpr):
            ks.type = ir.DontCareType()
            return ks
        if what == "select case" and isinstance(ks, ir.MethodCall) and isinstance(ks.target, ir.PathExpr):
            raise error(ks.pos, f"{node_text(ks)}: no function calls allowed in this context")
        if isinstance(ks, (ir.Mask, ir.Range)):
            parts = ("value", "mask") if isinstance(ks, ir.Mask) else ("lo", "hi")
            for part in parts:
                setattr(ks, part, self.types.expr(getattr(ks, part), scope))
            self._set_operands(ks)
            for part in parts:
                value = getattr(ks, part)
                if isinstance(key_type, ir.EnumDecl) and key_type.underlying is not None and \
                        isinstance(value, ir.Constant):  # a mask/bound of a serializable enum key
                    setattr(ks, part, self._case_value(value, key_type.underlying, what))
                    continue
                words = "expression must evaluate to a constant" if constant_key and what == "select case" else \
                    "Range boundaries must be a compile-time constants." \
                    if isinstance(ks, ir.Range) and what == "select case" else None
                setattr(ks, part, self._case_value(value, key_type, what, words))
            ks.type = ir.SetType(key_type)
            if isinstance(ks, ir.Range) and isinstance(ks.lo, ir.Constant) and isinstance(ks.hi, ir.Constant) \
                    and ks.lo.value > ks.hi.value and isinstance(key_type, ir.BitType):
                w = key_type.width
                self.ctx.warn(ks.pos, f"{w}w{ks.lo.value}-{w}w{ks.hi.value}: Range with end less than start is "
                                      f"treated as an empty range")
            return ks
        value = self.types.expr(ks, scope)
        if isinstance(value.type, ir.SetType):
            elem = value.type.elem
            if isinstance(elem, ir.StructLike) and len(elem.fields) == 1 and \
                    same_type(elem.fields[0].type, key_type):
                return value  # a value_set of a one-field struct matches one key (pvs-struct-1)
            if not same_type(elem, key_type):
                raise error(ks.pos, f"value_set of {self.types.show(value.type.elem)} cannot match a key of "
                                    f"type {self.types.show(key_type)}")
            return value
        return self._case_value(value, key_type, what)

    def _set_operands(self, ks: ir.Mask | ir.Range) -> None:
        """p4c's typeSet: the operands of `&&&` and `..` are sized or unsized integers (a
        serializable enum's underlying type counts), of one type when both are sized."""
        op = "&&&" if isinstance(ks, ir.Mask) else ".."
        values = (ks.value, ks.mask) if isinstance(ks, ir.Mask) else (ks.lo, ks.hi)
        types = [v.type.underlying if isinstance(v.type, ir.EnumDecl) and v.type.underlying is not None
                 else v.type for v in values]
        for v, t in zip(values, types):
            if not isinstance(t, (ir.BitType, ir.IntType)):
                raise error(ks.pos, f"{op}: cannot be applied to expression '{node_text(v)}' with type "
                                    f"'{self.types.show(t)}'")
        if all(isinstance(t, ir.BitType) for t in types) and not same_type(*types):
            raise error(ks.pos, f"{node_text(ks)}: Cannot operate on values with different types "
                                f"{self.types.show(types[0])} and {self.types.show(types[1])}")

    def _case_value(self, value: ir.Expr, key_type: ir.Type, what: str, words: str | None = None) -> ir.Expr:
        """`words`: p4c's for a value that is not a compile-time constant, after the value."""
        serializable = isinstance(value.type, ir.EnumDecl) and value.type.underlying is not None
        if not same_type(value.type, key_type) and not isinstance(value, ir.Constant) and not serializable:
            raise error(value.pos, f"{what} of type {self.types.show(value.type)} does not match the key type "
                                   f"{self.types.show(key_type)}")
        value = self.types.coerce(value, key_type, what)
        value = fold_path(value, self._unwritten) or value
        if not isinstance(value, (ir.Constant, ir.BoolLiteral, ir.EnumMember)):
            raise error(value.pos, f"{node_text(value)}: {words}" if words else
                        f"{what} '{value.text}' is not a compile-time constant")
        return value

    # -- controls -----------------------------------------------------------------------------
    def _d_ControlDecl(self, decl: ir.ControlDecl, scope: Scope) -> None:
        # a generic one nothing instantiates (specialize.py copies the others) is typed with
        # its type parameters as types, as p4c does
        self._constant_params = {id(p) for p in decl.params if p.direction is None}
        inner = self._block_scope(decl, self._generic_scope(decl.type_params, scope))
        self._block(decl.body, inner)
        self._constant_params = set()

    def _local(self, decl: ir.Decl, scope: Scope) -> None:
        # a parser's or control's locals and its parameters share one namespace, where
        # shadowing is only a warning (shadowing.py; p4c: shadow3, shadow-after-use)
        _declare(scope, decl)
        if isinstance(decl, ir.VarDecl):
            self._var(decl, scope)
        elif isinstance(decl, ir.TableDecl):
            self._table(decl, scope)
        elif isinstance(decl, ir.ValueSetDecl):
            decl.elem_type = self.types.resolve_type(decl.elem_ref, scope)
            elem = decl.elem_type.base if isinstance(decl.elem_type, ir.SpecializedType) else decl.elem_type
            # p4c: a value_set holds bit<W>/int<W>, bool, enums, new types, structs or tuples
            if not (isinstance(elem, (ir.BitType, ir.BoolType, ir.EnumDecl, ir.NewTypeDecl, ir.TupleType))
                    or isinstance(elem, ir.StructLike) and elem.kind == "struct"):
                raise error(decl.elem_ref.pos or decl.pos, f"{self.types.show(decl.elem_type)}: Illegal type for "
                                                           f"value_set element type")
            size = self.types.expr(decl.size_expr, scope)
            if not isinstance(size, ir.Constant):  # (p4c's words)
                raise error(decl.size_expr.pos, f"{node_text(decl.size_expr)}: value_set size must be constant")
            decl.size = size.value
        else:
            self._check_decl(decl, scope)

    def _branch(self, stmt: ir.Stmt, scope: Scope, dead: bool) -> ir.Stmt:
        """A branch of an `if`, checked; one its literal condition never takes gives no
        warnings (p4c's constant folding drops it before type checking)."""
        mark = len(self.ctx.warnings)
        checked = self._stmt(stmt, Scope(scope))
        if dead:
            del self.ctx.warnings[mark:]
        return checked

    def _branch_hints(self, stmt: ir.If) -> None:
        """p4c's constant folding drops `@likely`/`@unlikely` on a block its condition always
        or never takes, with a warning; its strength reduction has folded `e == e`/`e != e`."""
        cond, taken = stmt.cond, None
        if isinstance(cond, ir.BoolLiteral):
            taken = cond.value
        elif isinstance(cond, ir.Binary) and cond.op in ("==", "!=") and same_expr(cond.left, cond.right) \
                and not any(isinstance(n, ir.MethodCall) for n in ir.walk(cond)):
            taken = cond.op == "=="
        if taken is None:
            return
        always, never = (stmt.then, stmt.else_) if taken else (stmt.else_, stmt.then)
        for block, hint, what in ((never, "likely", "never"), (always, "unlikely", "always")):
            anno = ir.find_annotation(block.annotations, hint) if isinstance(block, ir.Block) else None
            if anno is not None:
                self.ctx.warn(anno.pos, f"ignoring @{hint} on {what} taken statement")

    def _var(self, decl: ir.VarDecl, scope: Scope, origin: ir.Node | None = None) -> None:
        """`origin`: what p4c quotes for a mismatch of the initializer (else the declaration)."""
        if decl.type_ref is None:  # a temporary made by the inlining: its initializer's type
            decl.init = self.types.expr(decl.init, scope)
            decl.type = decl.init.type
            return
        decl.type = self.types.resolve_type(decl.type_ref, scope)
        with unifying(decl if isinstance(decl.init, ir.Conditional) else None):  # (p4c: typed before)
            init = self.types.expr(decl.init, scope) if decl.init is not None else None
        if ir.block_kind(decl.type) is not None or isinstance(decl.type, ir.ExternDecl):  # (instantiated)
            if decl.name in self.ctx.inlined.params and init is not None and ir.block_kind(decl.type) is not None:
                # an inlined function's parameter: p4c checks the call's argument (issue2454)
                raise error(init.pos, f"{node_text(init)}: argument cannot have type {checked_type_text(decl.type)}")
            raise error(decl.pos, f"{decl.name}: cannot declare variables of type '{checked_type_text(decl.type)}' "
                                  f"(consider using an instantiation)")
        if getattr(decl.type, "type_params", None):
            raise error(decl.pos, f"Unspecified type parameters for {self.types.show(decl.type)} in {decl.name}")
        if isinstance(decl.type, (ir.ExternDecl, ir.SpecializedType, ir.VoidType)):
            raise error(decl.pos, f"a variable cannot have type {self.types.show(decl.type)}")
        call = self.ctx.inlined.params.get(decl.name)  # (an inlined function's parameter: p4c checks the call first)
        constant_only = error(decl.pos, f"{decl.name}: Cannot declare variables with type {self.types.show(decl.type)}") \
            if isinstance(decl.type, (ir.IntType, ir.StringType)) else None
        if constant_only is not None and call is None:
            raise constant_only
        if init is not None:
            shown = self.ctx.inlined.written.get(decl.name, decl.name)  # (as written, not as inlined)
            with unifying(origin or call or decl):
                if isinstance(decl.type, ir.TypeVar) and not same_type(init.type, decl.type):
                    # a generic block's type parameter is a type of its own (p4c: issue345)
                    raise mismatch(decl.pos, f"'{shown}': a value of type {self.types.show(init.type)} cannot "
                                             f"initialize a variable of type {decl.type.name}")
                decl.init = self.types.coerce(init, decl.type, f"argument for '{shown}'" if call is not None
                                              else f"initializer of '{decl.name}'")
        if constant_only is not None:
            raise constant_only

    # -- tables --------------------------------------------------------------------------------
    def _table(self, t: ir.TableDecl, scope: Scope) -> None:
        self._table_layout(t)
        for key in t.keys:
            key.expr = self.types.expr(key.expr, scope)
            for node in ir.walk(key.expr):
                if isinstance(node, ir.PathExpr) and node.decl is t:
                    raise error(node.pos, f"{node.name}: Cannot refer to the containing table {t.name}")
            if isinstance(key.expr, (ir.Constant, ir.BoolLiteral)):  # p4c's two warnings for it
                self.ctx.warn(key.expr.pos, "KeyElement: constant key element")
                self.ctx.warn(key.expr.pos, f"{key.expr.text}: Constant key field")
            elif isinstance(key.expr, ir.PathExpr) and id(key.expr.decl) in self._constant_params:
                # a directionless apply parameter is bound to a constant (p4c: spec-ex25)
                self.ctx.warn(key.expr.pos, "KeyElement: constant key element")
            if ir.find_annotation(key.annotations, "name") is None:
                key.generated_name = key_name(key.expr)
            if key.match_kind not in self.ctx.program.match_kinds:
                raise error(key.pos, f"{key.match_kind}: declaration not found")
            kt = key.expr.type
            if not isinstance(kt, (ir.BitType, ir.BoolType, ir.EnumDecl, ir.ErrorType, ir.NewTypeDecl,
                                   ir.TypeVar)):  # (of a generic control: each copy is checked)
                raise error(key.pos, f"a table key cannot have type {self.types.show(kt)}")
        names: set[str] = set()
        for ref in t.actions:
            self._action_ref(ref, scope, t)
            if ref.decl.name in names:
                raise error(ref.pos, f"action '{ref.name}' appears twice in table '{t.name}'")
            names.add(ref.decl.name)
        later = None
        for prop in t.properties:
            later = self._table_property(t, prop, scope) or later
        if t.default_action is None:
            self._implicit_default_action(t)
        for entry in t.entries:  # p4c resolves all names before it checks the entries' keys
            ref = entry.action
            if (self.ctx.global_scope if ref.absolute else scope).lookup(ref.name) is None:
                raise error(ref.pos, f"{ref.name}: declaration not found")
        for entry in t.entries:
            if len(entry.keysets) < len(t.keys):
                written = "{ " + ", ".join(node_text(k) for k in entry.keysets) + " }"
                raise error(entry.pos, f"{written}: Size of entry keyset must match the table key set size")
            with unifying(entry):
                entry.keysets = self._keysets(entry.keysets, [k.expr for k in t.keys], scope, entry.pos, "entry key")
            listed = self._entry_action(entry.action, t, scope)
            if listed.annotation("defaultonly") is not None:
                raise error(entry.pos, f"Entry: Action marked with defaultonly used in table\n(table "
                                       f"'{t.name}', action '{entry.action.name}')")
            if entry.priority_expr is not None:
                entry.priority = self.types.const_int(entry.priority_expr, scope, "an entry priority")
        if later is not None:
            raise later

    @staticmethod
    def _table_layout(t: ir.TableDecl) -> None:
        """The order p4c checks a table's properties in: a table needs an `actions` list, and
        `default_action` and `entries` invoke actions of the list written before them;
        `entries` need a (non-empty) key, written before them."""
        kinds = [kind for kind, _ in t.layout]  # (each once: validate.py)
        if "actions" not in kinds:
            raise error(t.pos, f"{t.name}: expected 'actions' property")
        for i, (kind, pos) in enumerate(t.layout):
            if kind == "entries" and t.entries:
                if not t.keys:
                    raise error(t.pos, f"Entries cannot be specified for a table with no key {t.name}")
                if "key" in kinds[i:]:
                    raise error(pos, f"EntriesList: Entries list must be after table key Key\n(table '{t.name}')")
            prop = t.get_property("default_action")
            if kind == "default_action" and "actions" not in kinds[:i] and prop is not None:
                call = node_text(prop.value) + ("()" if isinstance(prop.value, ir.PathExpr) else "")
                raise error(t.pos, f"{t.name} has no action list, so it cannot invoke '{call}'")  # (p4c's words)
            if kind in ("default_action", "entries") and "actions" not in kinds[:i]:
                what = "default_action" if kind == "default_action" else "entries"
                raise error(t.pos, f"table '{t.name}' has no action list before its {what}, so they cannot "
                                   f"invoke its actions")

    def _implicit_default_action(self, t: ir.TableDecl) -> None:
        """As p4c's front end: `default_action = NoAction()` and, unless listed, `@defaultonly NoAction`."""
        no_action = self.ctx.global_scope.values.get("NoAction")
        if not isinstance(no_action, ir.ActionDecl):  # (validate.py's _no_action refused the program first)
            raise error(None, "Declaration of the action NoAction not found; did you include core.p4?")
        if all(ref.decl is not no_action for ref in t.actions):
            t.actions.append(ir.ActionRef("NoAction", annotations=[ir.Annotation("defaultonly", pos=t.pos)],
                                          has_args=True, decl=no_action, pos=t.pos))
        t.default_action = ir.ActionRef("NoAction", decl=no_action, has_args=True, pos=t.pos)
        t.properties.append(ir.TableProperty("default_action", ir.MethodCall(
            None, "NoAction", kind=ir.CallKind.ACTION, decl=no_action, type=VOID, pos=t.pos), pos=t.pos))

    def _action_ref(self, ref: ir.ActionRef, scope: Scope, t: ir.TableDecl) -> None:
        decl = (self.ctx.global_scope if ref.absolute else scope).lookup(ref.name)
        if not isinstance(decl, ir.ActionDecl):
            named = decl is not None or any(fn.name == ref.name for _, fn in self.ctx.functions)
            if not named:
                raise error(ref.pos, f"{ref.name}: declaration not found")
            args = f"({', '.join(node_text(a) for a in ref.args)})" if ref.has_args else ""
            raise error(ref.pos, f"{ref.name}{args} is not invoking an action\n(in the actions of table "
                                 f"'{t.name}')")
        ref.decl = decl
        directional = [p for p in decl.params if p.direction is not None]
        for i, arg in enumerate(ref.args):  # (the control plane's: p4c's words, at the argument)
            param = next((p for p in decl.params if p.name == arg.name), None) if arg.name else \
                decl.params[i] if i < len(decl.params) else None
            if param is not None and param.direction is None and arg.value is not None:
                raise error(arg.value.pos, f"{node_text(arg.value)}: parameter {param.name} cannot be bound: it is "
                                           f"set by the control plane")
        if not any(a.name for a in ref.args) and len(ref.args) < len(directional):
            raise _unbound(ref, directional[len(ref.args)])
        if ref.has_args or directional:
            ref.args = self.calls.bind_args(ref, directional, ref.args, scope, {}, f"action '{decl.name}'")

    def _entry_action(self, ref: ir.ActionRef, t: ir.TableDecl, scope: Scope) -> ir.ActionRef:
        """Bind a default_action's or entry's action to its element of the table's actions
        list (returned). As p4c: the name must resolve to the very action the list names
        (`.b()` is not a local `b`), the arguments bound in the list must be repeated
        unchanged, and the control-plane arguments must be compile-time constants."""
        decl = (self.ctx.global_scope if ref.absolute else scope).lookup(ref.name)
        name = decl.name if isinstance(decl, ir.ActionDecl) else ref.name
        listed = next((a for a in t.actions if a.name == name or a.decl and a.decl.name == name), None)
        if listed is None:
            raise error(ref.pos, f"{ref.name}() not present in action list\n(the actions of table '{t.name}')")
        if isinstance(decl, ir.ActionDecl) and listed.decl is not decl:
            raise error(ref.pos, f"{'.' if ref.absolute else ''}{ref.name}() and {listed.name} refer to different "
                                 f"actions\n(in the actions of table '{t.name}')")
        ref.decl = listed.decl
        bound = [a for a in listed.args if a.param is not None and a.param.direction is not None]
        params = listed.decl.control_plane_params if len(ref.args) != len(listed.decl.params) \
            else listed.decl.params
        if bound and params is not listed.decl.params:  # (the list's bound arguments, repeated)
            raise _unbound(ref, [p for p in listed.decl.params if p.direction is not None][min(len(ref.args), len(bound) - 1)])
        ref.args = self.calls.bind_args(ref, params, ref.args, scope, {}, f"action '{ref.name}'")
        given = {a.param.name: a for a in ref.args if a.param is not None}
        for listed_arg in bound:
            arg = given.get(listed_arg.param.name)
            if arg is not None and not same_expr(arg.value, listed_arg.value):
                raise error(arg.value.pos if arg.value is not None else ref.pos,
                            f"{_arg_text(arg)}: argument does not match declaration in actions list: "
                            f"{_arg_text(listed_arg)}")
        for arg in ref.args:
            if arg.param is not None and arg.param.direction is None and arg.value is not None \
                    and not is_constant(arg.value):
                raise error(arg.value.pos, f"{arg.value.text}: action argument must be a compile-time constant")
        return listed

    def _table_property(self, t: ir.TableDecl, prop: ir.TableProperty, scope: Scope) -> CompileError | None:
        """Check a property; returns an error p4c reports only after the table's entries."""
        name, value = prop.name, prop.value
        later = None
        if name == "default_action":
            if isinstance(value, ir.MethodCall) and isinstance(value.target, ir.PathExpr):
                ref = ir.ActionRef(value.target.name, args=value.args, has_args=True,
                                   absolute=value.target.absolute, pos=value.pos)
            elif isinstance(value, ir.PathExpr):
                ref = ir.ActionRef(value.name, absolute=value.absolute, pos=value.pos)
            elif isinstance(value, ir.MethodCall) and isinstance(value.target, ir.MethodCall):
                raise error(value.pos, f"{node_text(value.target)}: Cannot invoke result of an action call")
            else:
                raise error(value.pos, "default_action must name an action, e.g. default_action = drop();")
            listed = self._entry_action(ref, t, scope)
            if listed.annotation("tableonly") is not None:
                tableonly = error(prop.pos, f"default_action: Action marked with tableonly used as default action\n"
                                            f"(table '{t.name}', action '{ref.name}')")
                kinds = [kind for kind, _ in t.layout]
                if not ("entries" in kinds and kinds.index("entries") < kinds.index("default_action")):
                    raise tableonly
                later = tableonly  # p4c checks the entries, written before it, first
            t.default_action, t.default_action_const = ref, prop.is_const
            if isinstance(value, ir.MethodCall):
                value.kind, value.decl, value.method, value.target = ir.CallKind.ACTION, ref.decl, ref.name, None
                value.args = ref.args
            else:
                value.decl = ref.decl
            value.type = VOID
            return later
        if name == "size":
            prop.value = self.types.expr(value, scope)
            if not instance_constant(prop.value):
                raise error(value.pos, "size must be a constant numeric expression")  # (p4c's words)
            if isinstance(prop.value, ir.Constant):
                t.size = prop.value.value
                if t.size < 0:
                    raise error(value.pos, "a table size must not be negative")
            return
        if name in ("implementation", "counters", "meters"):
            prop.value = self._table_instance(t, prop, scope)
            setattr(t, name, prop.value.decl if isinstance(prop.value, ir.PathExpr) else prop.value)
            return
        prop.value = self.types.expr(value, scope)

    def _table_instance(self, t: ir.TableDecl, prop: ir.TableProperty, scope: Scope):
        value = prop.value
        expected = {"implementation": ("action_profile", "action_selector"), "counters": ("direct_counter",),
                    "meters": ("direct_meter",)}[prop.name]
        if isinstance(value, ir.ConstructorCall):
            # Constructed in place: named by the property's @name (P4Info needs one).
            inst = ir.Instance(f"{t.name}.{prop.name}", type_ref=value.target, args=value.args, pos=value.pos,
                               annotations=list(prop.annotations))
            self._d_Instance(inst, scope)
            value = inst
            typ = inst.type
        else:
            value = self.types.expr(value, scope)
            typ = value.type
        base = typ.base if isinstance(typ, ir.SpecializedType) else typ
        own_extern = isinstance(base, ir.ExternDecl) and not system_decl(base)  # (its architecture's: spec-ex25)
        if getattr(base, "name", None) not in expected and not own_extern:
            raise error(prop.value.pos, f"table property '{prop.name}' must be "
                                        f"{' or '.join(expected)}, not {self.types.show(typ)}")
        return value

    # -- statements ----------------------------------------------------------------------------
    def _block(self, block: ir.Block, scope: Scope) -> None:
        inner = Scope(scope)
        block.stmts = [self._stmt(stmt, inner) for stmt in block.stmts]

    def _stmt(self, stmt: ir.Stmt, scope: Scope) -> ir.Stmt:
        """Check `stmt`; returns what replaces it (itself, or nothing for a call p4c folds
        away: `h.minSizeInBits();`)."""
        if isinstance(stmt, ir.Assign):
            target = stmt.lhs
            stmt.lhs = self.types.expr(stmt.lhs, scope)
            if isinstance(target, ir.Slice) and target.width is not None and isinstance(stmt.lhs, ir.Cast):
                raise error(stmt.lhs.pos, f"unsupported: assignment to '{target.text}', a slice with a "
                                          f"run-time bit index")
            rhs = self.types.expr(stmt.rhs, scope)  # (p4c types both sides, then asks for an l-value)
            copied_out = self.ctx.inlined.copy_outs.get(id(stmt))  # (an inlined call's out argument)
            try:
                self.calls.check_writable(stmt.lhs, scope, fail=lambda pos, why: error(  # (p4c's words, ours below)
                    pos, f"Expression {node_text(target)} cannot be the target of an assignment\n({why})"))
            except CompileError:
                if copied_out is None:
                    raise
                call, param = copied_out
                with unifying(call):
                    raise mismatch(stmt.lhs.pos, f": Read-only value used for out/inout parameter '{param}'") \
                        from None
            with unifying(stmt):
                stmt.rhs = self.types.coerce(rhs, stmt.lhs.type, "right-hand side")
        elif isinstance(stmt, ir.CallStmt):
            call = self.types.expr(stmt.call, scope)
            if isinstance(call, ir.BoolLiteral) and stmt.call.method == "static_assert":
                call = stmt.call  # checked; the switch does nothing for it
            if isinstance(call, ir.Constant):  # a size query (p4c drops the statement)
                return ir.Empty(pos=stmt.pos)
            if not isinstance(call, ir.MethodCall):
                raise error(stmt.pos, "only calls can be used as statements")
            stmt.call = call
        elif isinstance(stmt, ir.If):
            taken = stmt.cond.value if isinstance(stmt.cond, ir.BoolLiteral) else None
            stmt.cond = self.types.expr(stmt.cond, scope)
            if not isinstance(stmt.cond.type, ir.BoolType):
                raise error(stmt.cond.pos, f"Condition of IfStatement does not evaluate to a bool but "
                                           f"{self.types.show(stmt.cond.type)}")
            stmt.then = self._branch(stmt.then, scope, dead=taken is False)
            if stmt.else_ is not None:
                stmt.else_ = self._branch(stmt.else_, scope, dead=taken is True)
            self._branch_hints(stmt)
        elif isinstance(stmt, ir.Block):
            self._block(stmt, scope)
        elif isinstance(stmt, ir.Switch):
            self._switch(stmt, scope)
            if stmt.cases and stmt.cases[-1].body is None:  # (p4c's SimplifyControlFlow)
                self.ctx.warn(stmt.cases[-1].pos, "SwitchCase: fallthrough with no statement")
        elif isinstance(stmt, ir.Return):
            if self._returns is not None:
                self._return(stmt, scope)
            elif stmt.value is not None:
                raise error(stmt.pos, "return with a value is only allowed in functions")
        elif isinstance(stmt, ir.VarDecl):
            if isinstance(scope.lookup(stmt.name), ir.Param):
                _declare_local(scope, stmt)
            self._var(stmt, scope)  # its initializer sees the names outside (`bit<8> x = x;`)
            _declare(scope, stmt)
        elif isinstance(stmt, ir.ConstDecl):
            _declare_local(scope, stmt)
            self.check_const(stmt, scope)
        elif isinstance(stmt, ir.Instance):  # (in an instance initializer's method: validate.py has the rest)
            raise error(stmt.pos, f"{stmt.name}: invalid declaration. Instantiations cannot be in a function or "
                                  f"method.")
        elif isinstance(stmt, ir.For):
            inner = Scope(scope)
            if stmt.for_in:  # (its bounds' declarations are p4c's ForInStatement: quoted as such)
                for s in stmt.init:
                    self._var(s, inner, origin=stmt)
                    _declare(inner, s)
            else:
                stmt.init = [self._stmt(s, inner) for s in stmt.init]
            if stmt.cond is not None:
                stmt.cond = self.types.expr(stmt.cond, inner)
                if not isinstance(stmt.cond.type, ir.BoolType):
                    raise error(stmt.cond.pos, f"Condition of ForStatement does not evaluate to a bool but "
                                               f"{self.types.show(stmt.cond.type)}")
            stmt.update = [self._stmt(s, inner) for s in stmt.update]
            self._loops += 1
            try:
                stmt.body = self._stmt(stmt.body, Scope(inner))
            finally:
                self._loops -= 1
        elif isinstance(stmt, (ir.Break, ir.Continue)):
            if not self._loops:
                word = type(stmt).__name__.lower()  # (p4c's words)
                raise error(stmt.pos, f"{word}: {word} statement must be used in the context of a for statement.")
        return stmt

    def _return(self, stmt: ir.Return, scope: Scope) -> None:
        """`return e` in a function: `e` converts implicitly to the return type."""
        returns = self._returns
        if stmt.value is None:
            if not isinstance(returns, ir.VoidType):
                raise error(stmt.pos, f"{node_text(stmt)}: return with no expression in a function returning "
                                      f"{self.types.show(returns)}")
            return
        if isinstance(returns, ir.VoidType):
            raise error(stmt.pos, f"{node_text(stmt)}: return expression in function with void return")
        value = self.types.expr(stmt.value, scope)
        with unifying(stmt):
            if isinstance(returns, ir.TypeVar) and not same_type(value.type, returns):
                # a generic body: only a value of type T is a T (p4c:
                # equate-type-specialized-and-non-specialized)
                raise mismatch(stmt.pos, f"returned value of type {self.types.show(value.type)} cannot be used as "
                                         f"{self.types.show(returns)}")
            stmt.value = self.types.coerce(value, returns, "returned value")

    def _switch(self, stmt: ir.Switch, scope: Scope) -> None:
        self.types.switch_subject = stmt.expr
        try:
            stmt.expr = self.types.expr(stmt.expr, scope)
        finally:
            self.types.switch_subject = None
        t = stmt.expr.type
        seen: set = set()
        if isinstance(t, ir.ActionRunType):
            stmt.is_action_run = True
            for case in stmt.cases:
                if case.label is not None:
                    name = getattr(case.label, "name", None)
                    ref = next((a for a in t.table.actions if name in (a.name, a.decl.name)), None)
                    if not isinstance(case.label, ir.PathExpr):  # (p4c's words)
                        raise error(case.label.pos, f"{node_text(case.label)}: 'switch' label must be an action "
                                                    f"name or 'default'")
                    if ref is None:
                        raise error(case.label.pos, f"{case.label.name} is not a legal label (action name)\n"
                                                    f"(not an action of table '{t.table.name}')")
                    case.label.decl, case.label.type = ref.decl, VOID
                    key = ref.decl.name
                else:
                    key = None
                if key in seen:  # (a second `default`: validate.py refused it)
                    raise error(case.pos, f"{case.label.text}: duplicate case label {case.label.text}")
                seen.add(key)
        elif isinstance(t, (ir.BitType, ir.EnumDecl, ir.ErrorType)):
            if "exact" not in self.ctx.program.match_kinds and any(c.label is not None for c in stmt.cases) and \
                    any(isinstance(d, ir.Instance) and d.name == "main" for d in self.ctx.program.decls):
                # p4c's mid end turns a switch with labels into a table with an exact key; it
                # keeps nothing of a program without main (p4c: issue3613; issue3619, issue3623)
                raise error(stmt.pos, "Could not find declaration for 'match_kind.exact', which is needed to "
                                      "implement switch statements; did you include core.p4?")
            for case in stmt.cases:
                if case.label is not None:
                    label = self.types.expr(case.label, scope)
                    lt = label.type
                    if not (same_type(lt, t) or isinstance(t, ir.BitType) and (
                            isinstance(lt, ir.IntType) or isinstance(lt, ir.EnumDecl) and same_type(lt.underlying, t))):
                        raise error(stmt.expr.pos, f"'{node_text(stmt.expr)}' with type '{checked_type_text(t)}' "
                                                   f"cannot be compared to '{node_text(label)}' with type "
                                                   f"'{checked_type_text(lt)}'")
                    case.label = self._case_value(label, t, "switch label")
                key = None if case.label is None else getattr(case.label, "value", None) or case.label.text
                if key in seen:
                    label = node_text(case.label)
                    raise error(case.pos, f"{label}: duplicate case label {label}")
                seen.add(key)
        else:
            raise error(stmt.expr.pos, f"{node_text(stmt.expr)}: 'switch' type can't be {checked_type_text(t)}")
        for case in stmt.cases:  # (`default` is the last label: validate.py)
            if case.body is not None:
                self._block(case.body, scope)


def unwritten_locals(stmts: list[ir.Stmt]) -> dict[int, ir.Expr]:
    """The constant initializers of the variables these statements declare and never write, by
    id of the declaration: p4c-bm2-ss's mid end propagates them into a select case
    (select-struct: `S s = {0, 0}; ... { s.f0, s.f1 }: accept;`)."""
    written = {id(_root_decl(e)) for stmt in stmts for e in _writes(stmt)}
    return {id(s): s.init for s in stmts if isinstance(s, ir.VarDecl) and id(s) not in written
            and s.init is not None and fold_path(s.init, {}) is not None}


def _writes(stmt: ir.Stmt):
    """The expressions a statement may write: assignment targets, out/inout arguments."""
    for node in ir.walk(stmt):
        if isinstance(node, ir.Assign):
            yield node.lhs
        elif isinstance(node, ir.MethodCall):
            yield from (a.value for a in node.args if a.value is not None and a.param is not None
                        and a.param.direction in ("out", "inout"))


def _root_decl(e: ir.Expr):
    while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
        e = e.expr
    return getattr(e, "decl", None)


def _flatten_select(sel: ir.SelectExpr) -> None:
    """A list among the select keys (`select(x, {y, z})`) is its elements, and a case's value
    for it a list of as many values or `default` (p4c matches a tuple key element-wise)."""
    if not any(isinstance(k, ir.ListExpr) for k in sel.keys):
        return
    for case in sel.cases:
        if len(case.keysets) == len(sel.keys):
            case.keysets = [v for k, ks in zip(sel.keys, case.keysets) for v in _case_elements(k, ks)]
        elif len(case.keysets) > 1:
            raise mismatch(case.pos, f"select case has {len(case.keysets)} values for {len(sel.keys)} keys")
    sel.keys = [e for k in sel.keys for e in _key_elements(k)]


def _key_elements(key: ir.Expr) -> list[ir.Expr]:
    if isinstance(key, ir.ListExpr):
        return [e for item in key.items for e in _key_elements(item)]
    return [key]


def _case_elements(key: ir.Expr, ks: ir.Expr) -> list[ir.Expr]:
    """The values a case matches `key`'s elements with (its own value if `key` is no list)."""
    if not isinstance(key, ir.ListExpr):
        return [ks]
    if isinstance(ks, ir.DefaultExpr):
        items = [ir.DefaultExpr(text=ks.text, pos=ks.pos) for _ in key.items]
    elif isinstance(ks, ir.ListExpr) and len(ks.items) == len(key.items):
        items = ks.items
    else:
        raise error(ks.pos, f"select case value '{ks.text}' does not match the key '{key.text}': a list of "
                            f"{len(key.items)} values or default is needed")
    return [v for k, item in zip(key.items, items) for v in _case_elements(k, item)]


def _arg_text(arg: ir.Argument) -> str:
    """An action's argument as p4c prints it: an unsized constant with the cast to the
    parameter's type p4c has put around it (`(bit<32>)32w2`)."""
    value = arg.value
    if value is None:
        return "_"
    if isinstance(value.type, ir.BitType) and written_unsized(value):
        return f"({value.type.display()}){node_text(value)}"
    return node_text(value)


def is_constant(e: ir.Expr) -> bool:
    """A compile-time constant value (P4-16 spec 18.1): a literal (`{#}` too, as p4c), an enum
    or error member, a constant, or a list or struct of those."""
    if isinstance(e, (ir.Constant, ir.BoolLiteral, ir.StringLiteral, ir.EnumMember, ir.InvalidHeader)):
        return True
    if isinstance(e, ir.PathExpr):
        return isinstance(e.decl, ir.ConstDecl)
    if isinstance(e, ir.Cast):
        return is_constant(e.expr)
    if isinstance(e, ir.ListExpr):
        return all(is_constant(i) for i in e.items)
    if isinstance(e, ir.StructExpr):
        return all(is_constant(v) for _, v in e.fields)
    return False


def instance_constant(e: ir.Expr) -> bool:
    """Known once the block is instantiated: a constant, a numeric constructor parameter, or
    casts and consteval.INSTANCE_OPS of those (p4c specializes a control per constructor argument,
    so `size = Size;` with a constructor parameter `Size` is a constant in each instance)."""
    if isinstance(e, ir.Constant):
        return True
    if isinstance(e, ir.PathExpr):
        return isinstance(e.decl, ir.Param) and e.decl.direction is None and is_numeric(e.type)
    if isinstance(e, ir.Cast):
        return instance_constant(e.expr)
    if isinstance(e, ir.Binary):
        return e.op in consteval.INSTANCE_OPS and instance_constant(e.left) and instance_constant(e.right)
    return False


def same_expr(a: ir.Expr | None, b: ir.Expr | None) -> bool:
    """Whether two checked expressions are written alike (p4c's syntactic equivalence): the same
    operators, members, constant values, declarations and calls; struct fields by name."""
    if a is None or b is None or type(a) is not type(b):
        return a is None and b is None
    if isinstance(a, ir.Constant):
        return a.value == b.value
    if isinstance(a, (ir.BoolLiteral, ir.StringLiteral)):
        return a.value == b.value
    if isinstance(a, ir.EnumMember):
        return a.member == b.member and same_type(a.enum, b.enum)
    if isinstance(a, ir.PathExpr):
        return a.decl is b.decl and a.decl is not None
    if isinstance(a, ir.Member):
        return a.member == b.member and same_expr(a.expr, b.expr)
    if isinstance(a, ir.Cast):
        return same_type(a.type, b.type) and same_expr(a.expr, b.expr)
    if isinstance(a, ir.Unary):
        return a.op == b.op and same_expr(a.expr, b.expr)
    if isinstance(a, ir.Binary):
        return a.op == b.op and same_expr(a.left, b.left) and same_expr(a.right, b.right)
    if isinstance(a, ir.Index):
        return same_expr(a.expr, b.expr) and same_expr(a.index, b.index)
    if isinstance(a, ir.Slice):
        return same_expr(a.expr, b.expr) and same_expr(a.hi, b.hi) and same_expr(a.lo, b.lo)
    if isinstance(a, ir.Conditional):
        return same_expr(a.cond, b.cond) and same_expr(a.then, b.then) and same_expr(a.else_, b.else_)
    if isinstance(a, ir.ListExpr):
        return len(a.items) == len(b.items) and all(same_expr(x, y) for x, y in zip(a.items, b.items))
    if isinstance(a, ir.StructExpr):
        right = dict(b.fields)
        return len(a.fields) == len(b.fields) and same_type(a.type, b.type) and \
            all(n in right and same_expr(v, right[n]) for n, v in a.fields)
    if isinstance(a, ir.MethodCall):
        return a.decl is b.decl and a.method == b.method and same_expr(a.target, b.target) and \
            len(a.args) == len(b.args) and all(same_expr(x.value, y.value) for x, y in zip(a.args, b.args))
    return False


_IDENT = re.compile(r"^\.?[A-Za-z_][A-Za-z0-9_]*$")


def _constant_name(c: ir.Constant) -> str:
    if _IDENT.match(c.text or ""):  # a named constant: p4c names the key before folding it
        return c.text
    return {16: f"0x{c.value:x}", 2: f"0b{c.value:b}", 8: f"0o{c.value:o}"}.get(c.base, str(c.value))


def key_name(e: ir.Expr) -> str:
    """The match-field name p4c's TableKeyNames pass derives from a key expression."""
    if isinstance(e, ir.PathExpr):
        return e.name
    if isinstance(e, ir.Constant):
        return _constant_name(e)
    if isinstance(e, ir.Member):
        member = e.member
        if isinstance(e.expr.type, ir.StructLike):
            f = e.expr.type.get_field(member)
            anno = f.annotation("name") if f is not None else None
            if anno and anno.args and isinstance(anno.args[0], str):
                member = anno.args[0]
                if member.startswith("."):
                    return member[1:]
        return f"{key_name(e.expr)}.{member}"
    if isinstance(e, ir.Index):
        return f"{key_name(e.expr)}[{key_name(e.index)}]"
    if isinstance(e, ir.Slice):
        return f"{key_name(e.expr)}[{e.hi_bit}:{e.lo_bit}]"
    if isinstance(e, ir.Binary) and e.op == "&":
        return f"{key_name(e.left)} & {key_name(e.right)}"
    if isinstance(e, ir.MethodCall) and e.kind == ir.CallKind.IS_VALID:
        return f"{key_name(e.target)}.$valid$"
    raise error(e.pos, f"{node_text(e)}: Complex key expression requires a @name annotation")

