"""Name resolution and typing of types and expressions (the expression half of the checker).

`ExprChecker.expr(e, scope)` returns the typed (and possibly folded) replacement of `e`;
`coerce` applies P4's only implicit conversion (an unsized constant takes the type its
context needs) and otherwise demands equal types, so a width mismatch without a cast is an
error, as in p4c. Calls are classified here (`ir.CallKind`).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Iterator

from fabriclab.p4 import consteval, ir
from fabriclab.p4.fieldtypes import field_ok, not_a_tuple_field, struct_field_ok
from fabriclab.p4.diagnostics import CAUSE, CompileError, Diagnostic, SourcePos
from fabriclab.p4.p4c_text import checked_type_text, node_text, type_text

BIT32 = ir.BitType(32)
BOOL = ir.BoolType()
INT = ir.IntType()
VOID = ir.VoidType()

_ARITH = {"+", "-", "*", "/", "%", "|+|", "|-|", "&", "|", "^"}
_COMPARE = {"<", ">", "<=", ">="}


@dataclass
class Scope:
    """Nested name tables: values (variables, actions, tables, ...) and types."""

    parent: "Scope | None" = None
    values: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)

    def lookup(self, name: str):
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        return None

    def lookup_type(self, name: str):
        scope: Scope | None = self
        while scope is not None:
            if name in scope.types:
                return scope.types[name]
            scope = scope.parent
        return None


def _known_int(e: ir.Expr) -> bool:
    """An `int` value known at compile time though not folded here: a directionless `int`
    parameter (its argument must be a constant; p4c substitutes it, e.g. issue3394)."""
    if not isinstance(e.type, ir.IntType):
        return False
    if isinstance(e, ir.Binary) and e.op in ("+", "-", "*"):
        return (_known_int(e.left) or isinstance(e.left, ir.Constant)) and \
            (_known_int(e.right) or isinstance(e.right, ir.Constant))
    return isinstance(e, ir.PathExpr) and isinstance(e.decl, ir.Param) and e.decl.direction is None


def const_aggregate(e: ir.Expr) -> ir.StructExpr | ir.ListExpr | None:
    """The struct or tuple value `e` names if it is a constant one (a constant's name, or a
    part of a constant already folded out of one), else None."""
    if isinstance(e, ir.PathExpr) and isinstance(e.decl, ir.ConstDecl):
        e = e.decl.value
    if isinstance(e, ir.StructExpr):
        return e if all(_is_literal(v) for _, v in e.fields) else None
    if isinstance(e, ir.ListExpr):
        return e if all(_is_literal(v) for v in e.items) else None
    return None


def _is_literal(e: ir.Expr) -> bool:
    """A folded compile-time value: a literal, or a constant struct or tuple."""
    return isinstance(e, (ir.Constant, ir.BoolLiteral, ir.EnumMember, ir.StringLiteral)) or \
        const_aggregate(e) is not None


def _part(whole: ir.Expr, value: ir.Expr) -> ir.Expr:
    """A copy of `value`, a part of a constant, standing where `whole` (`s.f`, `t[0]`) was
    written: p4c's ConstantFolding folds a member or element of a constant."""
    part = _copy_value(const_aggregate(value) or value)
    part.pos, part.text = whole.pos, whole.text
    return part


def _copy_value(value: ir.Expr) -> ir.Expr:
    """A fresh copy of a constant value's nodes, sharing its types and declarations."""
    part = copy.copy(value)
    if isinstance(part, ir.StructExpr):
        part.fields = [(n, _copy_value(v)) for n, v in part.fields]
    elif isinstance(part, ir.ListExpr):
        part.items = [_copy_value(v) for v in part.items]
    return part


def fold_path(e: ir.Expr, values: dict[int, ir.Expr]) -> ir.Expr | None:
    """The compile-time value `e` reads: a literal, or a name with a literal value in `values`
    (by id of its declaration), or a member or constant index of such; else None."""
    if isinstance(e, ir.Member):
        whole = const_aggregate(fold_path(e.expr, values) or e.expr)
        value = dict(whole.fields).get(e.member) if isinstance(whole, ir.StructExpr) else None
    elif isinstance(e, ir.Index) and isinstance(e.index, ir.Constant):
        whole = const_aggregate(fold_path(e.expr, values) or e.expr)
        value = whole.items[e.index.value] if isinstance(whole, ir.ListExpr) else None
    elif isinstance(e, ir.PathExpr) and id(e.decl) in values:
        value = values[id(e.decl)]
    else:
        value = e if _is_literal(e) else None
    return _part(e, value) if value is not None and _is_literal(value) else None


def _literal_key(e: ir.Expr) -> tuple | None:
    """What `==` compares of a scalar literal (None for anything else)."""
    if isinstance(e, (ir.Constant, ir.BoolLiteral)):
        return ("value", e.value)
    if isinstance(e, ir.EnumMember):
        return ("member", e.member)
    return None


def _folding_constant(e: ir.Expr) -> bool:
    """A value p4c's constant folding takes for a constant (its getConstant): a literal, or a
    list or struct expression of them."""
    if isinstance(e, (ir.Constant, ir.BoolLiteral)):
        return True
    if isinstance(e, ir.ListExpr):
        return all(_folding_constant(i) for i in e.items)
    if isinstance(e, ir.StructExpr):
        return all(_folding_constant(v) for _, v in e.fields)
    return False


def _aggregate_value(e: ir.Expr):
    """The value of a compile-time constant expression as nested Python tuples (a struct's
    fields in its declared order), or None when it is not constant."""
    if isinstance(e, ir.PathExpr) and isinstance(e.decl, ir.ConstDecl) and e.decl.value is not None:
        return _aggregate_value(e.decl.value)
    if isinstance(e, (ir.Constant, ir.BoolLiteral)):
        return e.value
    if isinstance(e, ir.EnumMember):
        return (e.type.display(), e.member)
    if isinstance(e, ir.ListExpr):
        items = [_aggregate_value(i) for i in e.items]
        return None if None in items else tuple(items)
    if isinstance(e, ir.StructExpr) and isinstance(e.type, ir.StructLike):
        by_name = dict(e.fields)
        items = [_aggregate_value(by_name[f.name]) for f in e.type.fields]
        return None if None in items else tuple(items)
    return None


def _initializer_for(e: ir.Expr, other: ir.Type | None) -> bool:
    """`e` is a `{...}` initializer compared with a tuple or struct value (`p == {4, 5}`): it
    takes that value's type, as in an assignment."""
    return isinstance(e, (ir.ListExpr, ir.StructExpr)) and isinstance(other, (ir.TupleType, ir.StructLike))


def error(pos: SourcePos | None, message: str) -> CompileError:
    return CompileError([Diagnostic(pos, message)])


def mismatch(pos: SourcePos | None, message: str) -> CompileError:
    """A type mismatch p4c finds by unification: `unifying` quotes the node being
    checked above it."""
    return CompileError([Diagnostic(pos, message, mismatch=True)])


@contextlib.contextmanager
def unifying(origin: ir.Node | None) -> Iterator[None]:
    """Checks of `origin` that p4c makes by unifying types: a mismatch raised inside is
    reported as p4c's TypeConstraint::reportError does, `'<origin>'` at the origin's
    position, with the mismatch itself (and where it is) under `---- Actual error:`."""
    try:
        yield
    except CompileError as e:
        first = e.first
        if origin is None or not first.mismatch:
            raise
        if first.after_quote:
            raise CompileError([Diagnostic(origin.pos or first.pos, f"'{node_text(origin)}': {first.after_quote}\n"
                                                                    f"({first.message})")]) from None
        detail = "\n  ".join(first.message.splitlines())
        raise CompileError([Diagnostic(origin.pos or first.pos, f"'{node_text(origin)}'\n{CAUSE}\n  {detail}",
                                       cause_pos=first.pos)]) from None


def _names_type(ref: ir.TypeRef, name: str) -> bool:
    """Whether a type as written names `name` (itself or in its type arguments)."""
    return ref.name == name or any(_names_type(a, name) for a in ref.args)


def tuple_field_error(t: ir.Type | None, pos: SourcePos | None, show) -> CompileError | None:
    """p4c's mid end makes each tuple type a struct (`struct tuple_0`, fields f0, f1, ...) and
    checks its fields as a struct's: its words for the first element of tuple `t` a field
    cannot have, or None (at the tuple, where p4c names no position for a `_`). Only the first
    tuple it converts is tuple_0: the name of another is not followed."""
    if not isinstance(t, ir.TupleType):
        return None
    for i, elem in enumerate(t.elems):
        if not struct_field_ok(elem):
            return error(pos, f"Field 'f{i}' of 'struct tuple_0' cannot have type '{show(elem)}'\n"
                                f"(a tuple element cannot have type '{show(elem)}': p4c makes the tuple a struct)")
        if (nested := tuple_field_error(elem, pos, show)) is not None:
            return nested
    return None


def no_member(pos: SourcePos | None, obj: ir.Expr, member: str) -> CompileError:
    """p4c's words for a member (a field or a method) that `obj`'s type does not have: a
    struct's is 'not a member of structure struct S', a header's or union's 'of header H'."""
    t = obj.type
    if isinstance(t, ir.StructLike):
        where = ("structure " if t.kind == "struct" else "") + checked_type_text(t)
        return error(pos, f"Field {member} is not a member of {where}")
    return error(pos, f"Cannot extract field {member} from {node_text(obj)} which has type {checked_type_text(t)}")


def _in_header(e: ir.Expr) -> bool:
    """`e` is stored in a header's bits: a header's field, or a part of one."""
    while isinstance(e, (ir.Member, ir.Index)):
        if isinstance(e.expr.type, ir.StructLike) and e.expr.type.kind == "header":
            return True
        e = e.expr
    return False


def header_stack_only(t: ir.StackType, e: ir.Member) -> None:
    """A stack's members and methods (`next`, `size`, `push_front`, ...) exist only on
    arrays of headers or header unions, not on other arrays (p4c: stack_e)."""
    if not (isinstance(t.elem, ir.StructLike) and t.elem.kind in ("header", "header_union")):
        raise error(e.pos, f"{e.text}: '{e.member}' can only be used on header stacks")


def is_numeric(t: ir.Type | None) -> bool:
    return isinstance(t, (ir.BitType, ir.IntType))


def declared_text(decl) -> str:
    """p4c's text of a declared type: its kind, then its name ('struct S', 'control c'); an
    extern's, an enum's, a typedef's: its name alone."""
    return checked_type_text(decl) if isinstance(decl, ir.Type) else decl.name


def same_type(a: ir.Type | None, b: ir.Type | None) -> bool:
    if a is b:
        return True
    if isinstance(a, ir.SpecializedType) and isinstance(b, ir.SpecializedType):
        return same_type(a.base, b.base) and len(a.args) == len(b.args) and \
            all(same_type(x, y) for x, y in zip(a.args, b.args))
    if isinstance(a, ir.TupleType) and isinstance(b, ir.TupleType):
        return len(a.elems) == len(b.elems) and all(same_type(x, y) for x, y in zip(a.elems, b.elems))
    if isinstance(a, ir.StackType) and isinstance(b, ir.StackType):
        return a.size == b.size and same_type(a.elem, b.elem)
    if isinstance(a, ir.ListType) and isinstance(b, ir.ListType):
        return same_type(a.elem, b.elem)
    return a == b


def fits_wildcards(a: ir.Type | None, pattern: ir.Type | None) -> bool:
    """`a` is `pattern` where the pattern's `_` type arguments may stand for anything (a
    parameter of type `CRCPolynomial<_>` takes any CRCPolynomial, p4c: specIssue884)."""
    if isinstance(pattern, ir.DontCareType):
        return True
    if isinstance(a, ir.SpecializedType) and isinstance(pattern, ir.SpecializedType):
        return same_type(a.base, pattern.base) and len(a.args) == len(pattern.args) and \
            all(fits_wildcards(x, y) for x, y in zip(a.args, pattern.args))
    return same_type(a, pattern)


def substitute(t: ir.Type | None, bindings: dict) -> ir.Type | None:
    """Replace type variables by their bindings."""
    if isinstance(t, ir.TypeVar):
        return bindings.get(t.name, t)
    if isinstance(t, ir.SpecializedType):
        return ir.SpecializedType(t.base, tuple(substitute(a, bindings) for a in t.args))
    if isinstance(t, ir.StackType):
        return ir.StackType(substitute(t.elem, bindings), t.size)
    if isinstance(t, ir.TupleType):
        return ir.TupleType(tuple(substitute(e, bindings) for e in t.elems))
    if isinstance(t, ir.ListType):
        return ir.ListType(substitute(t.elem, bindings))
    return t


def _forget(ref: ir.TypeRef | None) -> None:
    """Clear what resolving `ref` (and the type references inside it) cached."""
    if ref is not None:
        ref.resolved = None
        for arg in ref.args:
            _forget(arg)


@dataclass
class InlinedNames:
    """What inlining functions named, for the passes that report on the program as written."""

    written: dict = field(default_factory=dict)  # a renamed local or parameter -> its name as written
    params: dict = field(default_factory=dict)  # the renamed parameters copied in (in, inout, directionless) -> the call
    outs: set = field(default_factory=set)  # the renamed out parameters
    flags: set = field(default_factory=set)  # the flags an early `return` sets
    # id(an assignment that copies an out/inout parameter out) -> (the call, the parameter's name)
    copy_outs: dict = field(default_factory=dict)
    # each call inlined, in order: (the renamed parameter or None, its name as written) per parameter
    calls: list = field(default_factory=list)


@dataclass
class CheckContext:
    """What the checking passes share: the program, the global scope and the warnings."""

    program: ir.Program
    global_scope: Scope = field(default_factory=Scope)
    warnings: list[Diagnostic] = field(default_factory=list)
    infos: list[Diagnostic] = field(default_factory=list)  # p4c's infos (a table removed)
    concrete_structs: dict = field(default_factory=dict)  # uses of generic structs (s<T>)
    # the functions the inlining dropped, each after how many top-level declarations it came
    functions: list = field(default_factory=list)
    generic_origin: dict = field(default_factory=dict)  # id(concrete struct) -> its generic struct
    generic_args: dict = field(default_factory=dict)  # id(concrete struct) -> its type arguments
    never_accepting: set = field(default_factory=set)  # ids of the parsers whose paths all reject
    not_returning: list = field(default_factory=list)  # functions a path through ends without `return`
    # errors p4c reports and checks on past (the checker adds them to what it reports)
    errors: list[Diagnostic] = field(default_factory=list)
    # errors of p4c's mid end, reported once the front end's checks have passed
    midend_errors: list[Diagnostic] = field(default_factory=list)
    # a name several parsers or controls are declared under -> them, in source order
    overloads: dict = field(default_factory=dict)
    package_overloads: dict = field(default_factory=dict)  # name -> packages declared so, all of them
    declared_variables: set = field(default_factory=set)  # ids of the VarDecls the program wrote (def_use)
    inlined: InlinedNames = field(default_factory=InlinedNames)

    def warn(self, pos: SourcePos | None, message: str, once: bool = True) -> None:
        """p4c reports some questionable constructs (e.g. truncated constants) as warnings,
        each once where it is (its reporter drops a repeat, as when code is checked again);
        `once=False` for one on what p4c made, which has no position to drop a repeat by."""
        if once and any(w.pos == pos and w.message == message for w in self.warnings):
            return
        self.warnings.append(Diagnostic(pos, message, severity="warning"))

    def info(self, pos: SourcePos | None, message: str) -> None:
        """What p4c reports as an info, not a warning (`[--Winfo=removed] info: ...`)."""
        self.infos.append(Diagnostic(pos, message, severity="info"))


class ExprChecker:
    """Resolves and types expressions. Calls go to `calls` (a `calls.CallChecker`) and
    constants used before their declaration was checked to `constants` (the declaration
    checker's `check_const`); the checking pass wires both."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.calls = None
        self.constants = None
        self.declaring: ir.Type | None = None  # the type declaration being checked
        self.in_parser = False  # checking a parser (stack next/last/lastIndex, verify)
        # typing the operand of a size query (`h[0].minSizeInBits()`): p4c folds the query
        # before it checks constant stack indexes, so the operand's are not checked
        self.sizing = False
        self.switch_subject: ir.Expr | None = None  # the expression a switch statement switches on

    # -- types ---------------------------------------------------------------------
    def resolve_type(self, ref: ir.TypeRef | None, scope: Scope) -> ir.Type:
        if ref is None:
            return VOID
        if ref.resolved is None:
            ref.resolved = self._resolve_type(ref, scope)
        return ref.resolved

    def const_int(self, e: ir.Expr, scope: Scope, what: str) -> int:
        value = self.expr(e, scope)
        if not isinstance(value, ir.Constant):
            raise error(e.pos, f"{what} must be a compile-time constant")
        return value.value

    @staticmethod
    def _check_width(ref: ir.TypeRef, kind: str, width: int) -> None:
        """p4c's limits on a width, in its words (the type as it is written with the width);
        a literal width beyond a C int is refused as the literal itself."""
        if width > 2**31 - 1 and isinstance(ref.width, ir.Constant):
            raise error(ref.width.pos, f"{node_text(ref.width)}: this implementation does not support "
                                       f"bitstrings this large")
        if width < 0:
            raise error(ref.pos, f"{kind}<{width}>: invalid type size")
        if width > consteval.MAX_WIDTH:
            raise error(ref.pos, f"{kind}<{width}>: Compiler only supports widths up to {consteval.MAX_WIDTH}")

    def _width(self, e: ir.Expr, scope: Scope) -> int:
        """A type's width: what p4c's constant folding makes a constant of (else its words,
        with the expression as written)."""
        written = node_text(e)  # (p4c folds it before any typing: what cannot be typed is no constant)
        for node in ir.walk(e):  # (but resolves its names before)
            if isinstance(node, ir.PathExpr) and (self.ctx.global_scope if node.absolute else scope).lookup(
                    node.name) is None:
                raise error(node.pos, f"{node.name}: declaration not found")
        try:
            value = self.expr(e, scope)
        except CompileError:
            value = None
        if not isinstance(value, ir.Constant):
            raise error(e.pos, f"{written}: expected a constant")
        return value.value

    def _resolve_type(self, ref: ir.TypeRef, scope: Scope) -> ir.Type:
        kind = ref.kind
        simple = {"bool": BOOL, "error": ir.ErrorType(), "string": ir.StringType(), "infint": INT,
                  "void": VOID, "dontcare": ir.DontCareType(), "match_kind": ir.MatchKindType()}
        if kind == "error" and not any(isinstance(d, ir.ErrorDecl) for d in self.ctx.program.decls):
            # the type `error` is the one the `error {...}` declarations (core.p4's) make
            raise error(ref.pos, "error: declaration not found\n(no 'error' declaration: #include <core.p4>)")
        if kind in simple:
            return simple[kind]
        if kind in ("bit", "int"):
            width = self._width(ref.width, scope)
            if width == 0 and kind == "int":
                raise error(ref.pos, "Width of signed type cannot be zero")
            self._check_width(ref, kind, width)
            return ir.BitType(width, kind == "int")
        if kind == "typeof":
            return self.expr(ref.of, scope).type
        if kind == "tuple":
            elems = tuple(self._resolve_type(a, scope) for a in ref.args)
            for a, t in zip(ref.args, elems):
                if not_a_tuple_field(t):
                    raise error(a.pos, f"{self.show(t)}: not supported as a tuple field")
            return ir.TupleType(elems)
        if kind == "list":
            return ir.ListType(self.resolve_type(ref.args[0], scope))
        if kind == "varbit":
            width = self._width(ref.width, scope)
            self._check_width(ref, kind, width)  # (varbit<0> is valid: issue3486)
            return ir.VarbitType(width)
        if kind == "undeclared":
            raise error(ref.pos, f"{ref.name}: declaration not found")
        if kind == "name":
            decl = scope.lookup_type(ref.name)
            if decl is None:
                raise error(ref.pos, f"{ref.name}: declaration not found")
            self._not_self(ref, decl)
            if isinstance(decl, ir.TypedefDecl):
                return self.typedef_target(decl, scope)
            return decl
        if kind == "stack":
            elem = self.resolve_type(ref.args[0], scope)
            if not (isinstance(elem, ir.StructLike) or isinstance(elem, (ir.BitType, ir.BoolType, ir.StackType))):
                raise error(ref.pos, f"arrays of {elem.display()} are unsupported (only of headers, "
                                     f"header unions, structs, arrays, bit<W> and bool)")
            size = self.expr(ref.width, scope)
            if not isinstance(size, ir.Constant):  # (p4c's words)
                raise error(ref.pos, f"{checked_type_text(elem)}[?]: Size of header stack type should be a constant")
            size = size.value
            if size < 0:  # an empty stack is valid (p4c: minsize)
                raise error(ref.pos, f"Illegal array size: {size}")
            return ir.StackType(elem, size)
        if kind == "specialized":
            base = scope.lookup_type(ref.name)
            if base is None:
                raise error(ref.pos, f"{ref.name}: declaration not found")
            self._not_self(ref, base)
            params = getattr(base, "type_params", [])
            if len(params) != len(ref.args) and params:  # (p4c's words)
                raise error(ref.pos, f"{type_text(ref)}: Type {ref.name} has {len(params)} type parameter(s), but "
                                     f"it is specialized with {len(ref.args)}")
            if len(params) != len(ref.args):
                named = self.resolve_type(ir.TypeRef("name", name=ref.name, pos=ref.pos), scope)
                text = f"{named.base.name}<...>" if isinstance(named, ir.SpecializedType) else \
                    checked_type_text(named)
                raise error(ref.pos, f"{type_text(ref)}: Type {text} is not generic and thus it cannot be "
                                     f"specialized using type arguments")
            args = tuple(self.resolve_type(a, scope) for a in ref.args)
            self._type_arguments(ref, base, args)
            if isinstance(base, ir.StructLike):
                made = self.concrete_struct(base, args)
                for f in made.fields:  # p4c validates the fields of the specialized type
                    if (tuple_error := tuple_field_error(f.type, ref.pos, self.show)) is not None:
                        self.ctx.midend_errors.extend(tuple_error.diagnostics)  # (its mid end's)
                        continue
                    if not field_ok(made.kind, f.type):
                        raise error(ref.pos, f"Field '{f.name}' of '{made.kind} {base.name}' cannot have type "
                                             f"'{checked_type_text(f.type)}'")
                return made
            return ir.SpecializedType(base, args)
        raise error(ref.pos, f"unsupported type '{kind}'")

    def _not_self(self, ref: ir.TypeRef, decl) -> None:
        """A type declaration cannot name itself (p4c: issue2544_self_ref, self-call)."""
        if decl is not None and decl is self.declaring:
            raise error(ref.pos, f"Self-referencing types not supported: '{ref.name}' within '{declared_text(decl)}'")

    def _type_arguments(self, ref: ir.TypeRef, base, types: tuple) -> None:
        """p4c's rules on the type arguments of `base<...>`, in its order: no generic type
        without its own arguments (checked as each argument's name is), nothing that
        contains `base` (as the specialized type is), no parser, control or package type (as
        it is made canonical)."""
        for arg, t in zip(ref.args, types):
            if getattr(t, "type_params", None):
                raise error(arg.pos, f"{arg.name or self.show(t)}: generic type needs type arguments")
        for t in types:
            if self._contains(t, base, set()):
                raise error(ref.pos, f"{ref.name}: contains self '{declared_text(base)}' as type argument")
        for t in types:
            block = t.base if isinstance(t, ir.SpecializedType) else t
            if isinstance(block, (ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl)):
                kind = block.kind if isinstance(block, ir.BlockTypeDecl) else \
                    "parser" if isinstance(block, ir.ParserDecl) else "control"
                raise error(ref.pos, f"{type_text(ref)}: Cannot use {kind} {block.name} as a type parameter")

    def _contains(self, t, base, seen: set) -> bool:
        """Whether type `t` is or holds the generic declaration `base` (its arguments, its
        fields, or a specialization of `base`)."""
        if t is base:
            return True
        if id(t) in seen:
            return False
        seen.add(id(t))
        if isinstance(t, ir.SpecializedType):
            return self._contains(t.base, base, seen) or any(self._contains(a, base, seen) for a in t.args)
        if isinstance(t, ir.StackType):
            return self._contains(t.elem, base, seen)
        if isinstance(t, ir.TupleType):
            return any(self._contains(e, base, seen) for e in t.elems)
        if isinstance(t, ir.ListType):
            return self._contains(t.elem, base, seen)
        if isinstance(t, ir.StructLike):
            return self.ctx.generic_origin.get(id(t)) is base or \
                any(self._contains(f.type, base, seen) for f in t.fields)
        if isinstance(t, (ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl)):  # its parameters' types
            params = [*t.params, *(getattr(t, "ctor_params", None) or ())]
            return any(self._contains(p.type, base, seen) if p.type is not None else
                       p.type_ref is not None and _names_type(p.type_ref, base.name) for p in params)
        return False

    def concrete_struct(self, base: ir.StructLike, args: tuple) -> ir.StructLike:
        """`s<A, B>` of a generic struct/header: one StructLike per argument list (types
        compare by identity), its fields resolved with the parameters bound to the args."""
        cache = self.ctx.concrete_structs
        key = (id(base), tuple(self.show(a) for a in args))
        found = cache.get(key)
        if found is not None:
            return found
        inner = Scope(self.ctx.global_scope)
        inner.types.update(zip(base.type_params, args))
        made = ir.StructLike(f"{base.name}<{', '.join(key[1])}>", kind=base.kind,
                             annotations=base.annotations, pos=base.pos)
        cache[key] = made
        self.ctx.generic_origin[id(made)] = base
        self.ctx.generic_args[id(made)] = args
        declaring, self.declaring = self.declaring, None
        try:
            for f in base.fields:
                _forget(f.type_ref)  # resolved for another argument list before
                made.fields.append(ir.Field(f.name, f.type_ref, annotations=f.annotations, pos=f.pos,
                                            type=self.resolve_type(f.type_ref, inner)))
        finally:
            self.declaring = declaring
        return made

    def typedef_target(self, decl: ir.TypedefDecl, scope: Scope) -> ir.Type:
        if decl.type is None:
            target = self.resolve_type(decl.type_ref, self.ctx.global_scope)
            if getattr(target, "type_params", None):
                raise error(decl.type_ref.pos, f"{decl.type_ref.name}: no type parameters supplied for generic type")
            decl.type = target
        return decl.type

    # -- implicit conversion -----------------------------------------------------------
    def coerce(self, e: ir.Expr, target: ir.Type, what: str = "value") -> ir.Expr:
        """`e` converted to `target` if P4 allows it implicitly; an error otherwise."""
        src = e.type
        if isinstance(e, ir.Dots) and not isinstance(target, (ir.TypeVar, ir.DontCareType)):
            return self.default_value(target, e)
        if fits_wildcards(src, target) or isinstance(target, ir.TypeVar):
            return e
        if isinstance(src, ir.EnumDecl) and src.underlying is not None and isinstance(target, ir.BitType):
            return self.coerce(self.enum_to_underlying(e), target, what)
        if isinstance(target, ir.BlockTypeDecl) and isinstance(src, (ir.ControlDecl, ir.ParserDecl)) \
                and target.kind == ("parser" if isinstance(src, ir.ParserDecl) else "control") \
                and [(p.direction, p.type) for p in src.params] == \
                [(p.direction, p.type) for p in target.params]:
            return e  # a control/parser instance for a parameter of its prototype type
        if isinstance(e, ir.Constant) and isinstance(src, ir.IntType):
            if isinstance(target, ir.BitType):
                low = -(1 << (target.width - 1)) if target.signed else 0
                high = (1 << (target.width - (1 if target.signed else 0))) - 1
                self._overflow(e, e.value, target)
                return ir.Constant(consteval.wrap(e.value, target), e.base, type=target, text=e.text, pos=e.pos)
            if isinstance(target, ir.NewTypeDecl) and isinstance(target.type, ir.BitType):
                return ir.Constant(consteval.wrap(e.value, target.type), e.base, type=target, text=e.text,
                                   pos=e.pos)
        if isinstance(src, ir.IntType) and isinstance(target, ir.EnumDecl) and target.underlying is not None:
            # (p4c unifies the two, then refuses the implicit cast)
            raise CompileError([Diagnostic(e.pos, f"{what} of type int cannot be used as {self.show(target)}",
                                           mismatch=True, after_quote=f"values of type 'int' cannot be implicitly "
                                                                      f"cast to type '{checked_type_text(target)}'")])
        if isinstance(src, ir.IntType) and isinstance(target, ir.BitType):
            # a known `int` or one p4c unifies with bit<W> (an element of a tuple<int>, issue3238)
            return ir.Cast(None, e, type=target, text=e.text, pos=e.pos)
        if isinstance(e, ir.Conditional) and not isinstance(src, (ir.BitType, ir.IntType)):
            # `c ? {..} : {..}`: each branch takes the type its context needs (p4c: issue3806)
            e.then, e.else_ = self.coerce(e.then, target, what), self.coerce(e.else_, target, what)
            e.type = target
            return e
        if isinstance(e, (ir.StructExpr, ir.ListExpr)) and isinstance(target, ir.StructLike):
            return self._init_struct(e, target)
        if isinstance(src, ir.InvalidInitType) and isinstance(target, ir.StructLike) and \
                target.kind in ("header", "header_union"):
            e.type = target  # `{#}`: an invalid header or union of the type needed
            return e
        if isinstance(e, ir.ListExpr) and isinstance(target, ir.StackType):
            return self._init_stack(e, target)
        if isinstance(e, ir.ListExpr) and isinstance(target, ir.TupleType):
            types = list(target.elems)
            items, rest = self._given_and_rest(e, types, f"list of {{}} values used where {target.display()} "
                                                         f"is needed")
            # an `int` element unifies with a sized value, as in p4c (issue3238: tuple<int> t = {b})
            e.items = [i if isinstance(t, ir.IntType) and isinstance(i.type, ir.BitType) else self.coerce(i, t)
                       for i, t in zip(items, types)] + rest
            e.type = target
            return e
        if isinstance(src, ir.BitType) and isinstance(target, ir.BitType):
            raise mismatch(e.pos, f"{what} of type {src.display()} cannot be used as {target.display()} "
                                  f"(width/sign mismatch; use a cast)")
        raise mismatch(e.pos, f"{what} of type {self.show(src)} cannot be used as {self.show(target)}")

    @staticmethod
    def enum_to_underlying(e: ir.Expr) -> ir.Expr:
        """P4's other implicit cast: a serializable enum value to its underlying bit<W>."""
        target = e.type.underlying  # type: ignore[union-attr]
        if isinstance(e, ir.EnumMember) and e.value is not None:
            return ir.Constant(e.value, type=target, text=e.text, pos=e.pos)
        ref = ir.TypeRef("int" if target.signed else "bit", width=ir.Constant(target.width, type=INT),
                         resolved=target, pos=e.pos)
        return ir.Cast(ref, e, type=target, text=e.text, pos=e.pos)

    def as_bits(self, e: ir.Expr) -> ir.Expr:
        """An operand of arithmetic, bitwise, relational, concatenation and slicing: a
        serializable enum value counts as its underlying bit<W> (p4c casts it there)."""
        if isinstance(e.type, ir.EnumDecl) and e.type.underlying is not None:
            return self.enum_to_underlying(e)
        return e

    @staticmethod
    def show(t: ir.Type | None) -> str:
        return t.display() if t is not None else "<untyped>"

    def _init_struct(self, e: ir.Expr, target: ir.StructLike) -> ir.Expr:
        if target.kind == "header_union":
            raise mismatch(e.pos, "header unions cannot be initialized with a list")
        if isinstance(e, ir.ListExpr):
            wrong_count = f"'{target.name}' has {len(target.fields)} fields, the initializer has {{}}"
            items, _ = self._given_and_rest(e, [f.type for f in target.fields], wrong_count)
            pairs = list(zip([f.name for f in target.fields], items))
            dots = len(items) != len(e.items)
        else:
            pairs = [(n, v) for n, v in e.fields if n != "..."]  # type: ignore[union-attr]
            dots = len(pairs) != len(e.fields)  # type: ignore[union-attr]
            names = [n for n, _ in pairs]
            missing = [] if dots else [f.name for f in target.fields if f.name not in names]
            extra = [n for n in names if target.get_field(n) is None]
            if missing or extra:
                detail = f"missing field '{missing[0]}'" if missing else f"no field '{extra[0]}'"
                # (p4c quotes an expression with `...`, the `...` expanded away, and else its context)
                with unifying(ir.StructExpr(pairs, pos=e.pos) if dots else None):
                    raise mismatch(e.pos, f"initializer for '{target.name}': {detail}")
        fields = [(n, self.coerce(v, target.get_field(n).type, f"field '{n}'")) for n, v in pairs]
        given = {n for n, _ in pairs}
        fields += [(f.name, self.default_value(f.type, e)) for f in target.fields if dots and f.name not in given]
        result = ir.StructExpr(fields, type=target, text=e.text, pos=e.pos)
        return result

    def _given_and_rest(self, e: ir.ListExpr, types: list[ir.Type], wrong_count: str) -> tuple[list, list]:
        """A list's items but a trailing `...`, and the default values of the `types` that
        `...` stands for (none without it); `wrong_count` (formatted with the count given) when
        the items do not fit the types."""
        items = e.items[:-1] if e.items and isinstance(e.items[-1], ir.Dots) else e.items
        dots = len(items) != len(e.items)
        if len(items) > len(types) or len(items) < len(types) and not dots:
            raise mismatch(e.pos, wrong_count.format(len(items)))
        return items, [self.default_value(t, e) for t in types[len(items):]] if dots else []

    def default_value(self, t: ir.Type, at: ir.Expr) -> ir.Expr:
        """The value `...` stands for, as p4c's default values: 0, false, "", the first member
        of an enum, error.NoError, an invalid header or union, and field by field (element by
        element) for structs, tuples and stacks."""
        where = {"text": "...", "pos": at.pos}
        if isinstance(t, (ir.BitType, ir.IntType)) or isinstance(t, ir.EnumDecl) and t.underlying is not None:
            return ir.Constant(0, type=t, **where)  # a serializable enum's: (E)0
        if isinstance(t, ir.BoolType):
            return ir.BoolLiteral(False, type=BOOL, **where)
        if isinstance(t, ir.StringType):
            return ir.StringLiteral("", type=t, **where)
        if isinstance(t, ir.ErrorType):
            return ir.EnumMember(t, "NoError", type=t, **where)
        if isinstance(t, ir.EnumDecl):
            return ir.EnumMember(t, t.members[0], type=t, **where)
        if isinstance(t, ir.StructLike) and t.kind in ("header", "header_union"):
            return ir.InvalidHeader(type=t, **where)
        if isinstance(t, ir.StructLike):
            return ir.StructExpr([(f.name, self.default_value(f.type, at)) for f in t.fields], type=t, **where)
        if isinstance(t, (ir.TupleType, ir.StackType)):  # (a stack's: one value per element)
            types = list(t.elems) if isinstance(t, ir.TupleType) else [t.elem] * t.size
            return ir.ListExpr([self.default_value(x, at) for x in types], type=t, **where)
        raise error(at.pos, f"...: could not find default value\n(no default value for type {self.show(t)})")
    def _init_stack(self, e: ir.ListExpr, target: ir.StackType) -> ir.Expr:
        """`h_t[2] s = {a, b};`: one value per element, each assigned to the element type (p4c
        unifies a list with an array of its length)."""
        items, rest = self._given_and_rest(e, [target.elem] * target.size, "Number of components {} in "
                                           f"initializer is different than stack size {target.size}")
        e.items = [self.coerce(i, target.elem, "stack element") for i in items] + rest
        e.type = target
        return e

    def unify(self, a: ir.Expr, b: ir.Expr, op: str) -> tuple[ir.Expr, ir.Expr]:
        """Give two operands a common type (constants adapt to the sized side)."""
        if same_type(a.type, b.type):
            return a, b
        if isinstance(a.type, ir.EnumDecl) and a.type.underlying is not None:
            return self.unify(self.enum_to_underlying(a), b, op)
        if isinstance(b.type, ir.EnumDecl) and b.type.underlying is not None:
            return self.unify(a, self.enum_to_underlying(b), op)
        if isinstance(a.type, ir.IntType) and isinstance(a, ir.Constant):
            return self.coerce(a, b.type, f"left operand of '{op}'"), b
        if isinstance(b.type, ir.IntType) and isinstance(b, ir.Constant):
            return a, self.coerce(b, a.type, f"right operand of '{op}'")
        if _initializer_for(a, b.type):
            return self.coerce(a, b.type, f"left operand of '{op}'"), b
        if _initializer_for(b, a.type):
            return a, self.coerce(b, a.type, f"right operand of '{op}'")
        if isinstance(a.type, ir.InvalidInitType):
            return self.coerce(a, b.type, f"left operand of '{op}'"), b
        if isinstance(b.type, ir.InvalidInitType):
            return a, self.coerce(b, a.type, f"right operand of '{op}'")
        if _known_int(a) and isinstance(b.type, ir.BitType):
            return ir.Cast(None, a, type=b.type, text=a.text, pos=a.pos), b
        if _known_int(b) and isinstance(a.type, ir.BitType):
            return a, ir.Cast(None, b, type=a.type, text=b.text, pos=b.pos)
        fail = mismatch if op == "?:" else error  # (p4c unifies a conditional's type with its context's)
        raise fail(a.pos, f"operands of '{op}' have different types {self.show(a.type)} and "
                          f"{self.show(b.type)} (use a cast)")

    # -- expressions -------------------------------------------------------------------
    def expr(self, e: ir.Expr, scope: Scope) -> ir.Expr:
        method = getattr(self, "_e_" + type(e).__name__, None)
        if method is None:
            raise error(e.pos, f"unsupported expression '{e.text}'")
        result = method(e, scope)
        if result.pos is None:
            result.pos = e.pos
        if not result.text:
            result.text = e.text
        return result

    def _e_Constant(self, e, scope):
        return e

    def _e_BoolLiteral(self, e, scope):
        e.type = BOOL
        return e

    def _e_StringLiteral(self, e, scope):
        e.type = ir.StringType()
        return e

    def _e_InvalidHeader(self, e, scope):
        e.type = ir.InvalidInitType()
        return e

    def _e_Dots(self, e, scope):
        e.type = ir.DefaultValueType()
        return e

    def _e_DefaultExpr(self, e, scope):
        e.type = ir.DontCareType()
        return e

    def _e_PathExpr(self, e: ir.PathExpr, scope: Scope):
        decl = (self.ctx.global_scope if e.absolute else scope).lookup(e.name)
        if decl is None:
            if e.name == "this":
                raise error(e.pos, "unsupported: 'this' is not supported by fabriclab")
            if scope.lookup_type(e.name) is not None:
                raise error(e.pos, f"'{e.name}' is a type, not a value")
            if e.name in self.ctx.program.match_kinds:  # a match_kind value (`{exact}`)
                kind = ir.MatchKindType()
                return ir.EnumMember(kind, e.name, type=kind, text=e.text, pos=e.pos)
            raise error(e.pos, f"{e.name}: declaration not found")
        e.decl = decl if not isinstance(decl, list) else decl[0]
        if isinstance(decl, list):
            e.decl = decl[0]
            e.type = VOID
            return e
        if isinstance(decl, ir.ConstDecl):
            self.constants.check_const(decl, scope)
            value = decl.value
            if isinstance(value, ir.Constant):
                return ir.Constant(value.value, value.base, type=value.type, text=e.text, pos=e.pos)
            if isinstance(value, ir.BoolLiteral):
                return ir.BoolLiteral(value.value, type=BOOL, text=e.text, pos=e.pos)
            e.type = decl.type
            return e
        if isinstance(decl, (ir.Param, ir.VarDecl, ir.Instance)):
            if decl.type is None:
                raise error(e.pos, f"'{e.name}' is used before its declaration")
            e.type = decl.type
        elif isinstance(decl, ir.ValueSetDecl):
            e.type = ir.SetType(decl.elem_type)
        else:
            e.type = VOID
        return e

    def _e_TypeMember(self, e: ir.TypeMember, scope: Scope):
        if e.type_name == "error":
            if e.member not in self.ctx.program.errors:
                raise error(e.pos, f"error.{e.member} is not declared")
            return ir.EnumMember(ir.ErrorType(), e.member, type=ir.ErrorType(), text=e.text, pos=e.pos)
        found = scope.lookup_type(e.type_name)
        decl = self.typedef_target(found, scope) if isinstance(found, ir.TypedefDecl) else found
        if isinstance(decl, ir.EnumDecl):
            if e.member not in decl.members:
                raise error(e.pos, f"{e.type_name}.{e.member}: Invalid enum tag")
            return ir.EnumMember(decl, e.member, decl.values.get(e.member), type=decl, text=e.text, pos=e.pos)
        if found is not None:  # (p4c's words: a type has no members but an enum's)
            raise error(e.pos, f"Cannot extract field {e.member} from {e.type_name} which has type "
                               f"Type({declared_text(found)})")
        raise error(e.pos, f"'{e.type_name}.{e.member}' is not an enum member")

    def _e_Member(self, e: ir.Member, scope: Scope):
        e.expr = self.expr(e.expr, scope)
        t = e.expr.type
        if isinstance(t, ir.StructLike):
            f = t.get_field(e.member)
            if f is None:
                raise no_member(e.pos, e.expr, e.member)
            e.type = f.type
            aggregate = const_aggregate(e.expr)
            if isinstance(aggregate, ir.StructExpr):
                return _part(e, dict(aggregate.fields)[e.member])
            return e
        if isinstance(t, ir.StackType):
            header_stack_only(t, e)
            if e.member in ("next", "last", "lastIndex") and not self.in_parser:
                what = "'lastIndex'" if e.member == "lastIndex" else "'last', and 'next'"
                raise error(e.pos, f"{e.text}: {what} for stacks can only be used in a parser")
            if e.member in ("next", "last"):
                e.type = t.elem
            elif e.member == "lastIndex":
                e.type = BIT32
            elif e.member == "size":
                return ir.Constant(t.size, type=INT, text=e.text, pos=e.pos)
            else:
                raise error(e.pos, f"header stacks have no member '{e.member}'")
            return e
        if isinstance(t, ir.ApplyResultType):
            if e.member in ("hit", "miss"):
                e.type = BOOL
            elif e.member == "action_run":
                if e is not self.switch_subject:
                    raise error(e.pos, f"{node_text(e)}: only allowed in switch statements")
                e.type = ir.ActionRunType(t.table)
            else:
                raise error(e.pos, f"a table apply result has no member '{e.member}'")
            return e
        raise no_member(e.pos, e.expr, e.member)

    def _overflow(self, e: ir.Expr, value: int, target: ir.BitType) -> None:
        """p4c's warning for a constant its type cannot hold (IR::Constant::handleOverflow)."""
        written = e if isinstance(e, ir.Constant) else getattr(e, "left", None)  # (a folded shift: its operand's)
        base = written.base if isinstance(written, ir.Constant) else 10
        text = consteval.literal_text(value, target.width, target.signed, base)
        if target.width == 0:
            if value:
                self.ctx.warn(e.pos, f"{consteval.literal_text(value, base=base)}: zero-width integer cannot have "
                                     f"non-zero value")
        elif target.signed and not -(1 << (target.width - 1)) <= value < 1 << (target.width - 1):
            self.ctx.warn(e.pos, f"{text}: signed value does not fit in {target.width} bits")
        elif not target.signed and value < 0:
            self.ctx.warn(e.pos, f"{text}: negative value with unsigned type")
        elif not target.signed and value >> target.width:
            self.ctx.warn(e.pos, f"{text}: value does not fit in {target.width} bits")

    def _e_Index(self, e: ir.Index, scope: Scope):
        e.expr = self.expr(e.expr, scope)
        e.index = self.expr(e.index, scope)
        t = e.expr.type
        if isinstance(t, ir.TupleType):  # a tuple element: at a constant index (p4c's words)
            if not isinstance(e.index, ir.Constant) or e.index.value < 0:
                raise error(e.index.pos, f"Tuple index {node_text(e.index)} must be constant")
            if e.index.value >= len(t.elems):
                raise error(e.index.pos, f"Tuple index {node_text(e.index)} larger than tuple size {len(t.elems)}")
            e.type = t.elems[e.index.value]
            aggregate = const_aggregate(e.expr)
            if isinstance(aggregate, ir.ListExpr):
                return _part(e, aggregate.items[e.index.value])
            return e
        if not isinstance(t, ir.StackType):
            raise error(e.pos, f"Indexing {node_text(e)} applied to non-array and non-tuple type "
                               f"{checked_type_text(t)}")
        it = e.index.type
        if isinstance(it, ir.EnumDecl) and it.underlying is not None:  # serializable enum index
            e.index = self.coerce(e.index, it.underlying, "a stack index")
        elif not is_numeric(it):
            raise error(e.index.pos, f"a stack index must be a number, not {self.show(it)}")
        if isinstance(e.index, ir.Constant) and e.index.value < 0:  # (p4c's words)
            raise error(e.pos, f"{node_text(e)}: Negative array index {e.index.value}")
        if isinstance(e.index, ir.Constant) and e.index.value >= 1 << 31:
            raise error(e.index.pos, f"{node_text(e.index)}: Value too large for int")
        if isinstance(e.index, ir.Constant) and not 0 <= e.index.value < t.size and not self.sizing:
            raise error(e.index.pos, f"index {e.index.value} is out of bounds for a stack of size {t.size}")
        if isinstance(t.elem, ir.StructLike) and t.elem.kind == "struct" and not isinstance(e.index, ir.Constant) \
                and _in_header(e.expr):
            raise error(e.index.pos, f"unsupported: a non-constant index into an array of structs in a header "
                                     f"('{e.text}'); use a constant index")
        e.type = t.elem
        return e

    def _e_Slice(self, e: ir.Slice, scope: Scope):
        e.expr = self.as_bits(self.expr(e.expr, scope))
        t = e.expr.type
        if isinstance(t, ir.NewTypeDecl):
            t = t.type
        if e.width is None:
            self._folded_slice(e, scope)
        if not isinstance(t, ir.BitType):
            raise error(e.pos, f"{node_text(e)}: bit extraction only defined for bit<> types")
        if e.width is not None:
            e.lo = self.expr(e.lo, scope)
            if not isinstance(e.lo, ir.Constant):
                return self._shifted_slice(e, t, scope)
        hi = self._slice_bound(e.hi, scope)
        lo = self._slice_bound(e.lo, scope)
        for bound in (hi, lo):  # (p4c's words)
            if bound < 0:
                raise error(e.pos, f"{node_text(e)}: negative bit index {bound}")
        for bound in (hi, lo):
            if bound >= t.width:
                raise error(e.pos, f"Bit index {bound} greater than width {t.width}")
        if lo > hi:
            raise error(e.pos, f"LSB index {lo} greater than MSB index {hi}")
        e.hi = ir.Constant(hi, type=INT, pos=e.hi.pos)
        e.lo = ir.Constant(lo, type=INT, pos=e.lo.pos)
        e.type = ir.BitType(hi - lo + 1)
        if isinstance(e.expr, ir.Constant):
            return ir.Constant((e.expr.value >> lo) & ((1 << (hi - lo + 1)) - 1), type=e.type, pos=e.pos)
        return e

    def _shifted_slice(self, e: ir.Slice, t: ir.BitType, scope: Scope) -> ir.Expr:
        """`e[lo +: w]` with `lo` known only at run time (p4c accepts it; only w must be a
        constant) is `(bit<w>)(e >> lo)`: bits above e's width read as 0."""
        width = self.const_int(e.width, scope, "a slice width")
        if not 0 < width <= t.width:
            raise error(e.width.pos, f"slice width {width} is out of range for {t.display()}")
        lo = e.lo
        if isinstance(lo.type, ir.EnumDecl) and lo.type.underlying is not None:
            lo = self.enum_to_underlying(lo)
        if not isinstance(lo.type, ir.BitType) or lo.type.signed:
            raise error(lo.pos, f"a run-time slice index must be unsigned, not {self.show(lo.type)}")
        unsigned = ir.BitType(t.width)
        base = e.expr if not t.signed else ir.Cast(None, e.expr, type=unsigned, text=e.expr.text, pos=e.expr.pos)
        shifted = ir.Binary(">>", base, lo, type=unsigned, text=e.text, pos=e.pos)
        return ir.Cast(None, shifted, type=ir.BitType(width), text=e.text, pos=e.pos)

    def _folded_slice(self, e: ir.Slice, scope: Scope) -> None:
        """`v[msb:lsb]` of constants: p4c's constant folding checks it before any typing, in
        its words. The bounds are typed here (a bound of another kind is left to `_slice_bound`)."""
        e.hi, e.lo = self.expr(e.hi, scope), self.expr(e.lo, scope)
        literal = (ir.Constant, ir.BoolLiteral, ir.StringLiteral, ir.ListExpr, ir.StructExpr)
        if not all(isinstance(x, literal) for x in (e.expr, e.hi, e.lo)):
            return
        for bound in (e.hi, e.lo):
            if not isinstance(bound, ir.Constant):
                raise error(bound.pos, f"{node_text(bound)}: expected an integer value")
        if not isinstance(e.expr, ir.Constant):
            raise error(e.expr.pos, f"{node_text(e.expr)}: expected an integer value")
        if e.hi.value < e.lo.value:
            raise error(e.pos, f"{node_text(e)}: bit slicing should be specified as [msb:lsb]")
        if e.lo.value < 0:
            raise error(e.lo.pos, f"{node_text(e.lo)}: expected slice indexes to be non-negative")

    def _slice_bound(self, e: ir.Expr, scope: Scope) -> int:
        """A slice bound: a compile-time constant, also a serializable enum member (issue3056)."""
        value = self.as_bits(e if e.type is not None else self.expr(e, scope))  # (typed: `_folded_slice`)
        if not isinstance(value, ir.Constant):
            raise error(e.pos, f"{node_text(value)}: slice bit index values must be constants")
        return value.value

    def _e_Unary(self, e: ir.Unary, scope: Scope):
        e.expr = self.expr(e.expr, scope)
        if e.op != "!":
            e.expr = self.as_bits(e.expr)
        t = e.expr.type
        literal = isinstance(e.expr, (ir.Constant, ir.BoolLiteral, ir.StringLiteral))
        if e.op == "!":  # (p4c's words: its constant folding's for a literal, found first)
            if not isinstance(t, ir.BoolType):
                raise error(e.pos, f"{node_text(e.expr)}: Expected a boolean value" if literal else
                            f"Cannot apply ! to value {node_text(e.expr)} of type {checked_type_text(t)}")
            if isinstance(e.expr, ir.BoolLiteral):
                return ir.BoolLiteral(not e.expr.value, type=BOOL, pos=e.pos)
        else:
            if not is_numeric(t):
                if literal:
                    raise error(e.pos, f"{node_text(e.expr)}: expected an integer value")
                raise error(e.pos, f"Cannot apply operation '~' to expression '{node_text(e.expr)}' with type "
                                   f"'{checked_type_text(t)}'" if e.op == "~" else
                            f"Cannot apply {e.op} to value {node_text(e.expr)} of type {checked_type_text(t)}")
            if e.op == "~" and isinstance(t, ir.IntType):
                raise error(e.pos, f"{node_text(e)}: Operation cannot be applied to values with unknown width;\n"
                                   f"please specify width explicitly")
            if isinstance(e.expr, ir.Constant):
                return ir.Constant(consteval.unary(e.op, e.expr.value, t), type=t, pos=e.pos)
        e.type = t
        return e

    def _e_Binary(self, e: ir.Binary, scope: Scope):
        op = e.op
        e.left = self.expr(e.left, scope)
        e.right = self.expr(e.right, scope)
        lt, rt = e.left.type, e.right.type
        if op in ("&&", "||"):
            if not (isinstance(lt, ir.BoolType) and isinstance(rt, ir.BoolType)):
                raise error(e.pos, f"{node_text(e)}: not defined on {checked_type_text(lt)} and "
                                   f"{checked_type_text(rt)}")
            e.type = BOOL
            if isinstance(e.left, ir.BoolLiteral) and isinstance(e.right, ir.BoolLiteral):
                value = (e.left.value and e.right.value) if op == "&&" else (e.left.value or e.right.value)
                return ir.BoolLiteral(value, type=BOOL, pos=e.pos)
            return e
        if op in ("<<", ">>"):
            if isinstance(lt, ir.EnumDecl) and lt.underlying is not None:
                e.left = self.enum_to_underlying(e.left)
                lt = e.left.type
            if isinstance(rt, ir.EnumDecl) and rt.underlying is not None:  # by its value (p4c: issue3288)
                e.right = self.enum_to_underlying(e.right)
                rt = e.right.type
            if isinstance(e.right, ir.Constant) and e.right.value > 0 and \
                    not isinstance(e.left, ir.Constant) and _folding_constant(e.left):
                raise error(e.left.pos, f"{node_text(e.left)}: expected an integer value")  # (constant folding)
            # (p4c's order: the amount, then the shifted value)
            if isinstance(rt, ir.BitType) and rt.signed and not isinstance(e.right, ir.Constant):
                raise error(e.right.pos, f"{node_text(e.right)}: Shift amount must be an unsigned number")
            if not (isinstance(rt, ir.BitType) or isinstance(e.right, ir.Constant)):
                raise error(e.right.pos, f"{node_text(e.right)}: The right operand of shift must be either an "
                                         f"expression of type bit<S> or a compile-time known value that is a "
                                         f"non-negative integer, but is {checked_type_text(rt)}")
            if not is_numeric(lt):
                raise error(e.pos, f"{node_text(e)} left operand of shift must be a numeric type, not "
                                   f"{checked_type_text(lt)}")
            if isinstance(e.right, ir.Constant) and e.right.value < 0:
                raise error(e.pos, f"{node_text(e)}: Shifts with negative amounts are not permitted")
            if isinstance(lt, ir.IntType) and not isinstance(e.right, ir.Constant):
                raise error(e.pos, f"{node_text(e)}: shift result type is arbitrary-precision int, but right "
                                   f"operand is not constant; width of left operand of shift needs to be "
                                   f"specified or both operands need to be constant")
            e.type = lt
            if isinstance(e.left, ir.Constant) and isinstance(e.right, ir.Constant) and \
                    isinstance(lt, ir.BitType) and e.right.value >= lt.width:
                self.ctx.warn(e.pos, f"{e.left.value} {op} {e.right.value}: Shifting {lt.width}-bit value with "
                                     f"{e.right.value}")  # (p4c prints the operands without widths)
            elif isinstance(e.right, ir.Constant) and isinstance(lt, ir.BitType) and e.right.value >= lt.width \
                    and not isinstance(e.left, ir.Constant):  # (p4c's type checker)
                left = " ".join(e.left.text.split()) or "?"
                self.ctx.warn(e.pos, f"{left} {op} {e.right.value}: shifting value with {lt.width} bits by "
                                     f"{e.right.value}")
            return self._fold(e)
        if op == "++" and isinstance(lt, ir.StringType) and isinstance(rt, ir.StringType):
            return self._concat_strings(e)
        if op == "++" or op in _ARITH or op in _COMPARE:
            written = ir.Binary(op, e.left, e.right, pos=e.pos)  # (p4c quotes an enum member by its name)
            e.left, e.right = self.as_bits(e.left), self.as_bits(e.right)
            lt, rt = e.left.type, e.right.type
            if op != "++":
                self._numeric_operands(e, written)
        if op == "++":
            if not (isinstance(lt, ir.BitType) and isinstance(rt, ir.BitType)):
                raise error(e.pos, f"{node_text(written)}: Concatenation not defined on {checked_type_text(lt)} "
                                   f"and {checked_type_text(rt)}")
            e.type = ir.BitType(lt.width + rt.width, lt.signed)
            return self._fold(e)
        if op in ("==", "!="):
            if isinstance(lt, ir.StructInitType) and isinstance(rt, ir.StructInitType):
                raise error(e.pos, f"{node_text(e)}: cannot compare structure-valued expressions with unknown types")
            self._comparable(e)
            left, right = e.left, e.right
            try:
                e.left, e.right = self.unify(left, right, op)
            except CompileError:
                if _initializer_for(left, right.type) or _initializer_for(right, left.type):
                    with unifying(e):  # (p4c unifies an initializer with the other side's type)
                        raise
                raise error(left.pos, f"'{node_text(left)}' with type '{checked_type_text(left.type)}' cannot be "
                                      f"compared to '{node_text(right)}' with type "
                                      f"'{checked_type_text(right.type)}'") from None
            e.type = BOOL
            return self._fold_equality(e) or self._fold(e)
        if op in ("/", "%"):
            self._unsigned_operands(e)
        e.left, e.right = self.unify(e.left, e.right, op)
        if op in ("/", "%") and isinstance(e.right, ir.Constant) and e.right.value == 0:
            raise error(e.pos, f"{node_text(e)}: {'Division' if op == '/' else 'Modulo'} by zero")
        t = e.left.type
        if isinstance(t, ir.NewTypeDecl):
            t = t.type
        if not is_numeric(t):
            raise error(e.pos, f"'{op}' needs numeric operands, not {self.show(e.left.type)}")
        if op in ("|+|", "|-|") and not isinstance(t, ir.BitType):
            raise error(e.pos, f"'{op}' needs operands with a width")
        e.type = BOOL if op in _COMPARE else e.left.type
        return self._fold(e)

    @staticmethod
    def _concat_strings(e: ir.Binary) -> ir.Expr:
        """`"a" ++ "b"` is a string (p4c folds literals; a string is only ever a constant)."""
        if not (isinstance(e.left, ir.StringLiteral) and isinstance(e.right, ir.StringLiteral)):
            raise error(e.pos, f"unsupported: '++' of strings that are not literals ({e.text})")
        return ir.StringLiteral(e.left.value + e.right.value, type=ir.StringType(), text=e.text, pos=e.pos)

    @staticmethod
    def _comparable(e: ir.Binary) -> None:
        """`==`/`!=` are not defined on actions (or their calls), tables, table apply
        results, extern instances and values of a type variable (p4c: issue2317, issue3589)."""
        for side in (e.left, e.right):
            t = side.type
            decl = getattr(side, "decl", None)
            if isinstance(side, ir.MethodCall) and side.kind == ir.CallKind.ACTION or \
                    isinstance(side, ir.PathExpr) and isinstance(decl, ir.ActionDecl):
                what = ""
            elif isinstance(side, ir.PathExpr) and isinstance(decl, ir.TableDecl):
                what = ": tables"
            elif isinstance(t, ir.ApplyResultType):
                what = ": table application results"
            elif isinstance(t, ir.ExternDecl) or isinstance(t, ir.SpecializedType) and isinstance(t.base, ir.ExternDecl):
                what = ": externs"
            elif isinstance(t, ir.TypeVar):
                what = ": values of a type variable"
            else:
                continue
            raise error(e.left.pos, f"{e.left.text} and {e.right.text}{what} cannot be compared")

    @staticmethod
    def _numeric_operands(e: ir.Binary, written: ir.Binary) -> None:
        """p4c's binaryArith and its relations, in its words: arithmetic takes sized or unsized
        integers (a `type` of one counts) of one width and sign; `<`, `>`, `<=`, `>=` compare
        values of one integer type (an unsized constant takes the other side's). `written`:
        the operands before a serializable enum's member became its value (p4c quotes them)."""
        op, left, right = e.op, written.left, written.right
        lt, rt = (t.type if isinstance(t, ir.NewTypeDecl) else t for t in (e.left.type, e.right.type))
        pos = e.pos
        integer = (ir.BitType, ir.IntType)
        if isinstance(left, ir.Constant) and isinstance(right, ir.Constant) and isinstance(lt, ir.BitType) \
                and isinstance(rt, ir.BitType) and lt != rt:  # (p4c's constant folding, first)
            raise error(pos, f"{node_text(written)}: operands have different types: {lt.display()} and {rt.display()}")
        if op in _COMPARE:
            if not (isinstance(lt, integer) and isinstance(rt, integer)) or \
                    isinstance(lt, ir.BitType) and isinstance(rt, ir.BitType) and lt != rt:
                raise error(pos, f"{node_text(written)}: not defined on {checked_type_text(left.type)} and "
                                   f"{checked_type_text(right.type)}")
            return
        if op == "+" and isinstance(lt, ir.StringType) and isinstance(rt, ir.StringType):
            raise error(pos, f"+: cannot be applied to expression '{node_text(right)}' with type 'string', did "
                               f"you mean to use '++'?")
        for side, t in ((left, lt), (right, rt)):
            if not isinstance(t, integer):
                raise error(pos, f"{op}: cannot be applied to expression '{node_text(side)}' with type "
                                   f"'{checked_type_text(side.type)}'")
        if isinstance(lt, ir.BitType) and isinstance(rt, ir.BitType):
            if lt.width != rt.width:
                raise error(pos, f"{node_text(written)}: Cannot operate on values with different widths {lt.width} "
                                   f"and {rt.width}")
            if lt.signed != rt.signed:
                raise error(pos, f"{node_text(written)}: Cannot operate on values with different signs")

    def _unsigned_operands(self, e: ir.Binary) -> None:
        """`/` and `%` are defined on unsigned values only: not on int<W> nor on a negative
        constant (P4-16 spec; p4c checks the operands as written, before any conversion)."""
        for side in (e.left, e.right):
            t = side.type
            if isinstance(t, ir.EnumDecl) and t.underlying is not None:
                t = t.underlying
            if isinstance(t, ir.BitType) and t.signed:
                raise error(e.pos, f"{node_text(e)}: Cannot operate on signed values")
        if isinstance(e.left, ir.Constant) and isinstance(e.right, ir.Constant):
            return  # (p4c's constant folding, before type checking, reports these: `_fold`)
        for side in (e.left, e.right):
            if isinstance(side, ir.Constant) and side.value < 0:
                raise error(e.pos, f"{node_text(e)}: not defined on negative numbers")

    @staticmethod
    def _fold_equality(e: ir.Binary) -> ir.BoolLiteral | None:
        """`a == b` / `a != b` of two constant tuples or structs (`const bool z = x == y;`,
        p4c: list-compare) is itself a constant, compared element by element."""
        if not any(isinstance(side.type, (ir.TupleType, ir.StructLike)) for side in (e.left, e.right)):
            return None
        left, right = _aggregate_value(e.left), _aggregate_value(e.right)
        if left is None or right is None:
            return None
        return ir.BoolLiteral((left == right) == (e.op == "=="), type=BOOL, text=e.text, pos=e.pos)

    def _fold(self, e: ir.Binary) -> ir.Expr:
        left, right = _literal_key(e.left), _literal_key(e.right)
        if e.op in ("==", "!=") and left is not None and right is not None:
            return ir.BoolLiteral((left == right) == (e.op == "=="), type=BOOL, text=e.text, pos=e.pos)
        if not (isinstance(e.left, ir.Constant) and isinstance(e.right, ir.Constant)):
            return e
        try:
            value = consteval.binary(e.op, e.left.value, e.right.value, e.type, e.right.type)
        except consteval.FoldError as err:
            raise error(e.pos, f"{node_text(e)}: {err}") from None
        if isinstance(value, bool):
            return ir.BoolLiteral(value, type=BOOL, text=e.text, pos=e.pos)
        if e.op == "<<" and isinstance(e.type, ir.BitType) and 0 <= e.right.value < e.type.width:
            self._overflow(e, e.left.value << e.right.value, e.type)  # (p4c warns for a shift only)
        return ir.Constant(value, type=e.type, text=e.text, pos=e.pos)

    def _e_Conditional(self, e: ir.Conditional, scope: Scope):
        e.cond = self.expr(e.cond, scope)
        if not isinstance(e.cond.type, ir.BoolType):  # (p4c names no position, and checks on)
            self.ctx.errors.append(Diagnostic(None, f"Selector of ?: must be bool, not {self.show(e.cond.type)}"))
        e.then = self.expr(e.then, scope)
        e.else_ = self.expr(e.else_, scope)
        e.then, e.else_ = self.unify(e.then, e.else_, "?:")
        e.type = e.then.type
        if isinstance(e.cond, ir.BoolLiteral):
            return e.then if e.cond.value else e.else_
        return e

    def _e_Cast(self, e: ir.Cast, scope: Scope):
        target = self.resolve_type(e.target, scope)
        e.expr = self.expr(e.expr, scope)
        with unifying(e):
            return self._cast(e, target)

    def _cast(self, e: ir.Cast, target: ir.Type) -> ir.Expr:
        """`e`, its operand typed, converted to `target` (p4c unifies them)."""
        if isinstance(e.expr, ir.EnumMember) and isinstance(target, ir.BitType):
            e.expr = self.as_bits(e.expr)  # a constant member folds (p4c: issue3635)
        src = e.expr.type
        e.type = target
        if isinstance(src, ir.InvalidInitType) and isinstance(target, ir.StructLike):  # `(H){#}`: an invalid H
            return self.coerce(e.expr, target, "{#}")
        if same_type(src, target):
            return e.expr if _literal_key(e.expr) is not None else e
        if isinstance(target, ir.ListType):
            return self._list_value(e, target)
        if isinstance(e.expr, ir.EnumMember) and e.expr.value is not None:
            e.expr = self.enum_to_underlying(e.expr)  # a serializable enum member is its value
        if isinstance(target, ir.StackType) and isinstance(e.expr, ir.ListExpr):
            return self.coerce(e.expr, target, "cast operand")  # `(h_t[2]){a, b}` as an assignment
        if isinstance(target, ir.StructLike) and isinstance(e.expr, (ir.ListExpr, ir.StructExpr)):
            # `(S) {...}` initializes S as an assignment would: the fields must match
            # (p4c: explicit-cast-to-header-from-kvlist-expr-with-unmatched-field)
            return self.coerce(e.expr, target, "cast operand")
        if not (isinstance(target, (ir.BitType, ir.BoolType, ir.IntType, ir.NewTypeDecl, ir.StackType))
                or isinstance(target, ir.EnumDecl) and target.underlying_ref is not None):
            raise error(e.pos, f"{self.show(target)}: cast not supported")  # (p4c: no value converts to it)
        if isinstance(src, ir.IntType) and isinstance(target, ir.BoolType) and isinstance(e.expr, ir.Constant) \
                and e.expr.value not in (0, 1):
            raise error(e.pos, f"({self.show(target)}){e.expr.value}: Only 0 and 1 can be cast to booleans")
        if not self._castable(src, target, e.expr):
            raise mismatch(e.pos, f"cannot cast {self.show(src)} to {self.show(target)}")
        if isinstance(e.expr, (ir.ListExpr, ir.StructExpr)) and isinstance(target, ir.StructLike):
            # `(S){...}` is the initializer typed as S: its fields must be the struct's
            return self.coerce(e.expr, target, f"cast to {self.show(target)}")
        if isinstance(e.expr, ir.Constant):
            rep = target.type if isinstance(target, ir.NewTypeDecl) else target
            if isinstance(rep, ir.BoolType):
                return ir.BoolLiteral(bool(e.expr.value), type=BOOL, text=e.text, pos=e.pos)
            return ir.Constant(consteval.cast(e.expr.value, rep), e.expr.base, type=target, text=e.text, pos=e.pos)
        if isinstance(e.expr, ir.BoolLiteral) and isinstance(target, ir.BitType):
            return ir.Constant(int(e.expr.value), type=target, text=e.text, pos=e.pos)
        return e

    def _list_value(self, e: ir.Cast, target: ir.ListType) -> ir.Expr:
        """`(list<T>){a, b, ...}`: a list of any length whose elements are assigned to T
        (p4c: P4ListExpression); nothing else casts to a list."""
        if not isinstance(e.expr, ir.ListExpr):
            raise error(e.pos, f"{e.text}: casts to list not supported")
        e.expr.items = [self.coerce(i, target.elem, "list element") for i in e.expr.items]
        e.expr.type = target
        return e  # the cast keeps it a list (not a tuple initializer, which a ListExpr is)

    @staticmethod
    def _castable(src: ir.Type | None, target: ir.Type, expr: ir.Expr) -> bool:
        def rep(t):
            if isinstance(t, ir.NewTypeDecl):
                return t.type
            if isinstance(t, ir.EnumDecl) and t.underlying is not None:
                return t.underlying
            return t
        if isinstance(target, ir.NewTypeDecl) and same_type(target.type, src) or \
                isinstance(src, ir.NewTypeDecl) and same_type(src.type, target):
            return True  # between a `type` and the type it is declared over (also a `type`)
        if isinstance(target, ir.NewTypeDecl) or isinstance(src, ir.NewTypeDecl):
            # only that, or an unsized integer to a `type` over bit<W> (p4c: issue3221,
            # `(t1)a` with `type bit<1> t1` and a: bit<2> is "Cannot cast from bit<2> to t1")
            return isinstance(src, ir.IntType) and isinstance(rep(target), (ir.BitType, ir.BoolType))
        s, d = rep(src), rep(target)
        if isinstance(s, ir.IntType):
            return isinstance(d, (ir.BitType, ir.IntType)) or isinstance(d, ir.BoolType) and \
                isinstance(expr, ir.Constant) and expr.value in (0, 1)
        if isinstance(s, ir.BitType) and isinstance(d, ir.BitType):
            return s.signed == d.signed or s.width == d.width
        if isinstance(s, ir.BoolType) and isinstance(d, ir.BitType):
            return d.width == 1 and not d.signed
        if isinstance(s, ir.BitType) and isinstance(d, ir.BoolType):
            return s.width == 1 and not s.signed
        if isinstance(s, ir.BitType) and isinstance(d, ir.IntType):
            return True  # p4c accepts it (parser-unroll-test1: `(int)index + 1`)
        return isinstance(d, ir.StructLike) and isinstance(expr, (ir.ListExpr, ir.StructExpr))

    def _e_ListExpr(self, e: ir.ListExpr, scope: Scope):
        e.items = [self.expr(i, scope) for i in e.items]  # (`...` is last: validate.py)
        e.type = ir.TupleType(tuple(i.type for i in e.items))
        return e

    def _e_StructExpr(self, e: ir.StructExpr, scope: Scope):
        seen = set()
        for name, _ in e.fields:
            if name in seen:
                raise error(e.pos, f"field '{name}' is initialized twice")
            seen.add(name)
        e.fields = [(n, self.expr(v, scope)) for n, v in e.fields]
        e.type = ir.StructInitType(tuple((n, v.type) for n, v in e.fields))
        return e

    def _e_Mask(self, e: ir.Mask, scope: Scope):
        e.value = self.expr(e.value, scope)
        e.mask = self.expr(e.mask, scope)
        e.value, e.mask = self.unify(e.value, e.mask, "&&&")
        e.type = ir.SetType(e.value.type)
        return e

    def _e_Range(self, e: ir.Range, scope: Scope):
        e.lo = self.expr(e.lo, scope)
        e.hi = self.expr(e.hi, scope)
        e.lo, e.hi = self.unify(e.lo, e.hi, "..")
        e.type = ir.SetType(e.lo.type)
        return e

    def _e_ConstructorCall(self, e: ir.ConstructorCall, scope: Scope):
        target = self.calls.block_overload(e, self.resolve_type(e.target, scope), e.args)
        base = target.base if isinstance(target, ir.SpecializedType) else target
        if isinstance(base, ir.ExternDecl) and any(m.abstract for m in base.methods):
            # (its abstract methods are implemented in an instance's initializer: p4c, issue3282)
            raise error(e.pos, f"{base.name}: extern type {base.name} with abstract methods cannot be "
                               f"instantiated using a constructor call; consider using a declaration")
        e.type = target
        self.calls.bind_constructor(e, target, e.args, scope)
        return e

    def _e_MethodCall(self, e: ir.MethodCall, scope: Scope):
        return self.calls.check_call(e, scope)
