"""The typed intermediate representation of a checked P4-16 program.

`build_ir.py` builds these nodes from the parse tree; `checker.py` then resolves every name
and types every expression in place. After a successful compile the IR guarantees:

* Every `Expr` has `.type` set to a `Type`:
  `BitType(width, signed)` for bit<W>/int<W>, `IntType` (arbitrary-precision constants),
  `BoolType`, `StringType`, `ErrorType`, `MatchKindType`, `VoidType`, a declaration that is
  itself a type (`StructLike` = header/struct/header_union, `EnumDecl`, `NewTypeDecl`,
  `ExternDecl`, `ParserDecl`/`ControlDecl`/`BlockTypeDecl`), `StackType(elem, size)`,
  `TupleType` (list expressions), `SpecializedType(base, args)` (e.g. register<bit<32>>),
  `ApplyResultType(table)` (`t.apply()`: members hit/miss/action_run),
  `ActionRunType(table)`, `SetType(elem)` (keysets). Typedefs are transparent: they
  resolve to the type they name.
* Every name is resolved: `PathExpr.decl` is the declaration it denotes (`Param`,
  `VarDecl`, `Instance`, `ActionDecl`, `TableDecl`, `ValueSetDecl`, ...). References to
  compile-time constants and constant subexpressions are folded into `Constant`
  (`Constant.value` is an int already wrapped to the type's width; bools are
  `BoolLiteral`). Serializable enum members carry their value (`EnumMember.value`).
* Every call is a `MethodCall` whose `kind` (a `CallKind`) says what it is: extern method,
  extern function, table apply, control/parser apply, action call, header
  isValid/setValid/setInvalid, stack push_front/pop_front, packet
  extract/emit/lookahead/advance/length, verify. `MethodCall.args` are `Argument`s in
  parameter order (named arguments reordered, defaults filled), each with its `Param`.
* `Member` is a field access on a header/struct/union, a stack property
  (next/last/lastIndex/size) when `expr.type` is a `StackType`, or hit/miss/action_run
  when `expr.type` is an `ApplyResultType`. `Index` indexes a header stack, `Slice` is
  `e[hi:lo]` with constant bounds.
* Annotations are kept on declarations (`annotations`: list of `Annotation`).
* Declarations carry `pos` (`SourcePos` in the user's original file).
* As after p4c's front end: a table without `default_action` has `NoAction` as default
  (and `@defaultonly NoAction` in `actions` unless listed); a parser state without
  `transition` goes to `reject`; `KeyElement.name` is p4c's match-field name.
* `iter_calls(node)` lists the calls in a subtree; `applied_tables(control)` the tables a
  control applies (p4c drops the others from P4Info).
* `Entry.priority` is None only for a `const entries` entry without `@priority(n)` (those
  match in program order). A serializable enum value used as its underlying `bit<W>` is an
  explicit `Cast` (or a folded `Constant`), never an implicit width change.

Consumers (the switch code generator, P4Info) only read the IR; the IR only grows by
addition, never by change.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, fields
from typing import Iterator

from fabriclab.p4.diagnostics import SourcePos
from fabriclab.p4.p4types import (  # noqa: F401  (the IR's types, re-exported)
    Type, BitType, VarbitType, IntType, BoolType, StringType, ErrorType,
    MatchKindType, VoidType, DontCareType, TypeVar, StackType, TupleType, ListType,
    SpecializedType, SetType, ApplyResultType, ActionRunType, StructInitType,
)
from fabriclab.p4.p4types import DefaultValueType, InvalidInitType  # noqa: F401


# ---------------------------------------------------------------------------- annotations
@dataclass
class Annotation:
    """`@name(body)`; `args` are the body's literals (str/int) when it is a simple list."""

    name: str
    body: str | None = None
    args: list = field(default_factory=list)
    pos: SourcePos | None = None
    # `@x[e, ...]` -> ("list", [values]); `@x[k=e, ...]` -> ("kv", [(k, value)]); values are
    # int, str or bool (constant expressions folded), or an AnnotationExpr (any other expression)
    structured: tuple | None = None

    @property
    def text(self) -> str:
        """The annotation as p4c prints it in P4Info.

        Annotations p4c parses (e.g. `@noWarn("unused")`) print as a `, `-separated list;
        the bodies of others are unparsed tokens that p4c prints separated by one space.
        """
        if self.body is None:
            return f"@{self.name}"
        tokens = _ANNOTATION_TOKEN.findall(self.body)
        if self.name in PARSED_ANNOTATIONS:
            items, depth, current = [], 0, []
            for tok in tokens:
                depth += tok in "([{" and len(tok) == 1
                depth -= tok in ")]}" and len(tok) == 1
                if tok == "," and depth == 0:
                    items.append("".join(current))
                    current = []
                else:
                    current.append(tok)
            items.append("".join(current))
            return f"@{self.name}({', '.join(i for i in items if i)})"
        return f"@{self.name}({' '.join(tokens)})"


# Annotations whose bodies p4c parses as expressions (frontends/p4/parseAnnotations and the
# P4Runtime ones); other bodies stay token lists.
PARSED_ANNOTATIONS = {"name", "deprecated", "noWarn", "length", "pkginfo", "synchronous", "field_list", "match",
                      "controller_header", "id", "brief", "description", "p4runtime_translation"}
_ANNOTATION_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|[A-Za-z_][A-Za-z0-9_]*|\d\w*|&&&|\.\.|[^\sA-Za-z0-9_"]')


@dataclass(eq=False)
class AnnotationExpr:
    """A structured annotation's value that is no constant of literals (`t == t1`, `4 < H`):
    kept as written until the checker rejects it in p4c's words (names are resolved then)."""

    text: str  # as p4c prints the expression
    pos: SourcePos | None
    names: list[tuple[str, SourcePos | None]]  # its identifiers, in order, where written
    compared: tuple[str, str] | None = None  # `a == b` or `a != b` of two names: (a, b)


def find_annotation(annotations: list[Annotation], name: str) -> Annotation | None:
    for anno in annotations:
        if anno.name == name:
            return anno
    return None


# ---------------------------------------------------------------------------- nodes
@dataclass(eq=False)
class Node:
    pos: SourcePos | None = field(default=None, kw_only=True, repr=False)


class TypeParam(str):
    """A type parameter's name (a str wherever names are compared) that remembers where it
    is declared, for the diagnostics about the parameter itself (an unused one)."""

    pos: SourcePos | None = None

    def __new__(cls, name: str, pos: SourcePos | None = None) -> "TypeParam":
        param = super().__new__(cls, name)
        param.pos = pos
        return param

    def __reduce__(self):
        return TypeParam, (str(self), self.pos)


@dataclass(eq=False)
class Decl(Node):
    name: str
    annotations: list[Annotation] = field(default_factory=list, kw_only=True, repr=False)

    def annotation(self, name: str) -> Annotation | None:
        return find_annotation(self.annotations, name)


# ---------------------------------------------------------------------------- expressions
@dataclass(eq=False)
class Expr(Node):
    type: Type | None = field(default=None, kw_only=True, repr=False)
    # Source text of the expression (p4c names match fields by it).
    text: str = field(default="", kw_only=True, repr=False)


@dataclass(eq=False)
class Constant(Expr):
    """An integer constant; `value` is already reduced to the type's width when sized."""

    value: int
    base: int = 10  # radix of the literal as written (for readable output)


@dataclass(eq=False)
class BoolLiteral(Expr):
    value: bool


@dataclass(eq=False)
class StringLiteral(Expr):
    value: str


@dataclass(eq=False)
class PathExpr(Expr):
    """A name; `decl` is the declaration it resolves to."""

    name: str
    absolute: bool = False  # written with a leading dot
    decl: Node | None = field(default=None, repr=False)


@dataclass(eq=False)
class Member(Expr):
    expr: Expr
    member: str


@dataclass(eq=False)
class TypeMember(Expr):
    """`T.member` before resolution (an enum member or error); the checker replaces it."""

    type_name: str
    member: str
    type_args: list["TypeRef"] = field(default_factory=list)  # `Prs<bit>.apply`: a direct apply's


@dataclass(eq=False)
class EnumMember(Expr):
    """A member of an enum or of `error`; `value` is set for serializable enums."""

    enum: Type
    member: str
    value: int | None = None


@dataclass(eq=False)
class Index(Expr):
    expr: Expr
    index: Expr


@dataclass(eq=False)
class Slice(Expr):
    expr: Expr
    hi: Expr
    lo: Expr
    width: Expr | None = None  # `e[lo +: width]` (lo may then be known only at run time)

    @property
    def hi_bit(self) -> int:
        assert isinstance(self.hi, Constant)
        return self.hi.value

    @property
    def lo_bit(self) -> int:
        assert isinstance(self.lo, Constant)
        return self.lo.value


@dataclass(eq=False)
class Unary(Expr):
    op: str  # "-", "~", "!", "+"
    expr: Expr


@dataclass(eq=False)
class Binary(Expr):
    # + - * / % << >> & | ^ && || == != < > <= >= ++ |+| |-|
    op: str
    left: Expr
    right: Expr


@dataclass(eq=False)
class Conditional(Expr):
    cond: Expr
    then: Expr
    else_: Expr


@dataclass(eq=False)
class Cast(Expr):
    target: "TypeRef"
    expr: Expr


@dataclass(eq=False)
class ListExpr(Expr):
    items: list[Expr]


@dataclass(eq=False)
class StructExpr(Expr):
    """`{a = e1, b = e2}`; typed as the struct/header the context requires."""

    fields: list[tuple[str, Expr]]


@dataclass(eq=False)
class Mask(Expr):
    value: Expr
    mask: Expr


@dataclass(eq=False)
class Range(Expr):
    lo: Expr
    hi: Expr


@dataclass(eq=False)
class InvalidHeader(Expr):
    """`{#}`: an invalid header or header union (its type from a cast or the context)."""


@dataclass(eq=False)
class Dots(Expr):
    """`...`: the default value of the type the context gives, or, last in a list or struct
    expression, of the fields or elements not given (P4-16 spec, default values)."""


@dataclass(eq=False)
class DefaultExpr(Expr):
    """`default` or `_` in a keyset or an argument position."""


class CallKind(str, enum.Enum):
    EXTERN_METHOD = "extern_method"
    EXTERN_FUNCTION = "extern_function"
    TABLE_APPLY = "table_apply"
    CONTROL_APPLY = "control_apply"
    PARSER_APPLY = "parser_apply"
    ACTION = "action"
    IS_VALID = "isValid"
    SET_VALID = "setValid"
    SET_INVALID = "setInvalid"
    PUSH_FRONT = "push_front"
    POP_FRONT = "pop_front"
    EXTRACT = "extract"
    EMIT = "emit"
    LOOKAHEAD = "lookahead"
    ADVANCE = "advance"
    LENGTH = "length"
    VERIFY = "verify"


@dataclass(eq=False)
class Argument(Node):
    """An argument bound to its parameter; `value` is None for `_` (don't care)."""

    value: Expr | None
    name: str | None = None  # the name used in a named argument
    param: "Param | None" = field(default=None, repr=False)


@dataclass(eq=False)
class MethodCall(Expr):
    """A call. Before checking `kind` is None and `target` is the callee expression.

    After checking: `target` is the receiver (header, stack, table instance, extern
    instance, packet_in/out param) or None for functions/actions; `method` the method or
    function name; `decl` the callee declaration (`Method`, `ExternFunction`,
    `ActionDecl`, `TableDecl`, ...); `type_args` the explicit or inferred type arguments.
    """

    target: Expr | None
    method: str = ""
    args: list[Argument] = field(default_factory=list)
    type_args: list["TypeRef"] = field(default_factory=list)
    kind: CallKind | None = None
    decl: Node | None = field(default=None, repr=False)
    type_bindings: dict = field(default_factory=dict, repr=False)
    # a v1model `digest` of a list (no struct type to name it): the name P4Info gives it
    digest_name: str | None = field(default=None, repr=False)


@dataclass(eq=False)
class ConstructorCall(Expr):
    """`T(args)` in an expression: an anonymous instance (e.g. `MyIngress()` in main)."""

    target: "TypeRef"
    args: list[Argument] = field(default_factory=list)


# ---------------------------------------------------------------------------- type syntax
@dataclass(eq=False)
class TypeRef(Node):
    """A type as written; the checker sets `.resolved`."""

    kind: str  # "bit", "int", "bool", "error", "string", "infint", "void", "name", "stack",
    #            "specialized", "dontcare", "varbit", "tuple", "list", "typeof", "undeclared" (a
    #            type argument that names no type declared before it: p4c parses it, then rejects it)
    name: str = ""
    width: Expr | None = None  # bit/int width; stack size
    args: list["TypeRef"] = field(default_factory=list)
    resolved: Type | None = field(default=None, repr=False)
    # "typeof": the type of this expression (the inlining binds an inferred type argument so)
    of: Expr | None = None


# ---------------------------------------------------------------------------- statements
@dataclass(eq=False)
class Stmt(Node):
    pass


@dataclass(eq=False)
class Assign(Stmt):
    lhs: Expr
    rhs: Expr
    compound: bool = field(default=False, kw_only=True)  # `x op= e`: rhs is Binary(op, x, e)


@dataclass(eq=False)
class CallStmt(Stmt):
    call: MethodCall


@dataclass(eq=False)
class If(Stmt):
    cond: Expr
    then: Stmt
    else_: Stmt | None = None


@dataclass(eq=False)
class Block(Stmt):
    stmts: list[Stmt] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)


@dataclass(eq=False)
class SwitchCase(Node):
    """`labels` holds one label; None means `default`. `body` None means fall through."""

    label: Expr | None
    body: Block | None


@dataclass(eq=False)
class Switch(Stmt):
    """`switch (t.apply().action_run)` (is_action_run, labels are action PathExprs) or on a value."""

    expr: Expr
    cases: list[SwitchCase] = field(default_factory=list)
    is_action_run: bool = False


@dataclass(eq=False)
class For(Stmt):
    """`for (init; cond; update) body`: `init`/`update` are statements, `cond` None = true."""

    init: list[Stmt]
    cond: Expr | None
    update: list[Stmt]
    body: Stmt
    for_in: bool = False  # lowered from `for (T v in ...)` (its declarations are the loop's)
    annotations: list[Annotation] = field(default_factory=list, kw_only=True, repr=False)


@dataclass(eq=False)
class Break(Stmt):
    pass


@dataclass(eq=False)
class Continue(Stmt):
    pass


@dataclass(eq=False)
class Exit(Stmt):
    pass


@dataclass(eq=False)
class Return(Stmt):
    value: Expr | None = None


@dataclass(eq=False)
class Empty(Stmt):
    pass


# ---------------------------------------------------------------------------- declarations
@dataclass(eq=False)
class Field(Decl):
    type_ref: TypeRef | None = None
    type: Type | None = field(default=None, repr=False)


@dataclass(eq=False)
class StructLike(Decl, Type):
    """header, struct or header_union; the declaration is the type."""

    kind: str = "struct"  # "header" | "struct" | "header_union"
    fields: list[Field] = field(default_factory=list)
    # a generic struct/header (`struct s<T>`); each use `s<bit<8>>` is a concrete StructLike
    # made by the type checker (its `name` spells the arguments)
    type_params: list[str] = field(default_factory=list)

    def get_field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def display(self) -> str:
        return self.name

    @property
    def is_header(self) -> bool:
        return self.kind == "header"

    @property
    def width(self) -> int:
        """Width in bits: the sum of its fields' (bool 1, varbit its maximum, a `type` or
        serializable enum its underlying type, a nested struct its own width)."""
        return sum(bit_width(f.type) for f in self.fields)


def bit_width(t) -> int:
    """Bits a header field of type `t` takes (0 for types without a fixed width)."""
    while isinstance(t, NewTypeDecl):
        t = t.type
    if isinstance(t, EnumDecl):
        t = t.underlying
    if isinstance(t, BoolType):
        return 1
    if isinstance(t, VarbitType):
        return t.max_width
    if isinstance(t, StructLike):
        return t.width
    if isinstance(t, StackType):  # an array of bits in a header
        return bit_width(t.elem) * t.size
    return getattr(t, "width", 0)


@dataclass(eq=False)
class EnumDecl(Decl, Type):
    """enum or serializable enum (`underlying_ref` set); members in declaration order."""

    members: list[str] = field(default_factory=list)
    underlying_ref: TypeRef | None = None
    underlying: BitType | None = field(default=None, repr=False)
    value_exprs: list[Expr] = field(default_factory=list, repr=False)
    values: dict[str, int] = field(default_factory=dict)
    member_pos: list[SourcePos | None] = field(default_factory=list, repr=False)  # of each member

    def display(self) -> str:
        return self.name


@dataclass(eq=False)
class TypedefDecl(Decl):
    type_ref: TypeRef | None = None
    type: Type | None = field(default=None, repr=False)


@dataclass(eq=False)
class NewTypeDecl(Decl, Type):
    """`type bit<32> T;`: a distinct type with the representation of `type`."""

    type_ref: TypeRef | None = None
    type: Type | None = field(default=None, repr=False)

    def display(self) -> str:
        return self.name


@dataclass(eq=False)
class ErrorDecl(Decl):
    members: list[str] = field(default_factory=list)
    member_pos: list[SourcePos | None] = field(default_factory=list, repr=False)


@dataclass(eq=False)
class MatchKindDecl(Decl):
    members: list[str] = field(default_factory=list)
    member_pos: list[SourcePos | None] = field(default_factory=list, repr=False)


@dataclass(eq=False)
class ConstDecl(Decl):
    type_ref: TypeRef | None = None
    init: Expr | None = None
    type: Type | None = field(default=None, repr=False)
    value: Expr | None = field(default=None, repr=False)  # folded Constant/BoolLiteral/...


@dataclass(eq=False)
class VarDecl(Decl):
    type_ref: TypeRef | None = None
    init: Expr | None = None
    type: Type | None = field(default=None, repr=False)
    # the copy of an inlined function's directionless parameter: a compile-time constant to p4c
    constant_param: bool = False


@dataclass(eq=False)
class Param(Decl):
    direction: str | None = None  # "in" | "out" | "inout" | None (directionless)
    type_ref: TypeRef | None = None
    default: Expr | None = None
    type: Type | None = field(default=None, repr=False)


@dataclass(eq=False)
class Method(Decl):
    """A method or constructor prototype of an extern (constructor: `is_constructor`)."""

    return_ref: TypeRef | None = None
    type_params: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    is_constructor: bool = False
    return_type: Type | None = field(default=None, repr=False)
    abstract: bool = False  # `abstract`: each instance implements it in its initializer block


@dataclass(eq=False)
class ExternDecl(Decl, Type):
    type_params: list[str] = field(default_factory=list)
    constructors: list[Method] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)

    def display(self) -> str:
        return self.name


@dataclass(eq=False)
class ExternFunction(Method):
    pass


@dataclass(eq=False)
class BlockTypeDecl(Decl, Type):
    """A parser/control type prototype or a package declaration."""

    kind: str = "control"  # "parser" | "control" | "package"
    type_params: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)

    def display(self) -> str:
        return self.name


@dataclass(eq=False)
class Instance(Decl):
    """`T(args) name;` an instantiation of an extern, parser, control or package."""

    type_ref: TypeRef | None = None
    args: list[Argument] = field(default_factory=list)
    type: Type | None = field(default=None, repr=False)
    constructor: Method | None = field(default=None, repr=False)
    # `= { ... }`: the extern's abstract methods implemented (in them `this` is the instance),
    # and instances they use
    initializer: list["FunctionDecl | Instance"] | None = None
    # `T(args) name[N];`: an array of N instances; `type` is then a StackType of T
    size_expr: Expr | None = None


@dataclass(eq=False)
class ValueSetDecl(Decl):
    elem_ref: TypeRef | None = None
    size_expr: Expr | None = None
    elem_type: Type | None = field(default=None, repr=False)
    size: int = 0


@dataclass(eq=False)
class SelectCase(Node):
    """One case: `keysets` has one entry per select key (Mask/Range/DefaultExpr/value/PathExpr
    to a value_set); `state` is the next state's name, `state_decl` its ParserState
    (None for accept/reject)."""

    keysets: list[Expr]
    state: str
    state_decl: "ParserState | None" = field(default=None, repr=False)


@dataclass(eq=False)
class SelectExpr(Node):
    keys: list[Expr]
    cases: list[SelectCase] = field(default_factory=list)


@dataclass(eq=False)
class Transition(Node):
    """Either a direct `state` (with `state_decl`) or a `select`."""

    state: str | None = None
    select: SelectExpr | None = None
    state_decl: "ParserState | None" = field(default=None, repr=False)


@dataclass(eq=False)
class ParserState(Decl):
    stmts: list[Stmt] = field(default_factory=list)
    transition: Transition | None = None


@dataclass(eq=False)
class ParserDecl(Decl, Type):
    type_params: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    ctor_params: list[Param] = field(default_factory=list)
    locals: list[Decl] = field(default_factory=list)
    states: list[ParserState] = field(default_factory=list)

    def state(self, name: str) -> ParserState | None:
        return next((s for s in self.states if s.name == name), None)

    def display(self) -> str:
        return self.name


@dataclass(eq=False)
class ActionDecl(Decl):
    params: list[Param] = field(default_factory=list)
    body: Block = field(default_factory=Block)

    @property
    def control_plane_params(self) -> list[Param]:
        """Directionless parameters: supplied by table entries / the controller."""
        return [p for p in self.params if p.direction is None]


@dataclass(eq=False)
class FunctionDecl(Decl):
    """A top-level P4 function; the front end inlines every call (passes.InlineFunctions)."""

    return_ref: TypeRef | None = None
    type_params: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    body: Block = field(default_factory=Block)
    # the inlining copied a generic function's specialization into the body (so the checker
    # types the body where it is declared, as p4c types every specialization)
    specializes: bool = False


@dataclass(eq=False)
class KeyElement(Node):
    expr: Expr
    match_kind: str
    annotations: list[Annotation] = field(default_factory=list)
    # The name p4c generates from the expression (`hdr.ipv4.dstAddr`, `hdr.h.$valid$`).
    generated_name: str = ""

    @property
    def name(self) -> str:
        """The control-plane name: `@name`, else the name p4c derives from the expression."""
        anno = find_annotation(self.annotations, "name")
        return anno.args[0] if anno and anno.args else self.generated_name or self.expr.text


@dataclass(eq=False)
class ActionRef(Node):
    """An action in a table's `actions`, `default_action` or an entry (with bound args)."""

    name: str
    args: list[Argument] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    has_args: bool = False  # written with parentheses
    absolute: bool = False
    decl: ActionDecl | None = field(default=None, repr=False)

    def annotation(self, name: str) -> Annotation | None:
        return find_annotation(self.annotations, name)


@dataclass(eq=False)
class Entry(Node):
    keysets: list[Expr]
    action: ActionRef
    priority: int | None = None
    priority_expr: Expr | None = field(default=None, repr=False)
    is_const: bool = False
    annotations: list[Annotation] = field(default_factory=list)


@dataclass(eq=False)
class TableProperty(Node):
    name: str
    value: Expr
    is_const: bool = False
    annotations: list[Annotation] = field(default_factory=list)


@dataclass(eq=False)
class TableDecl(Decl):
    keys: list[KeyElement] = field(default_factory=list)
    actions: list[ActionRef] = field(default_factory=list)
    default_action: ActionRef | None = None
    default_action_const: bool = False
    entries: list[Entry] = field(default_factory=list)
    entries_const: bool = False
    has_entries: bool = False
    entries_annotations: list[Annotation] = field(default_factory=list)
    properties: list[TableProperty] = field(default_factory=list)
    # Every property's name ("key", "actions", "entries", ...) and position, in source order:
    # p4c checks them in that order (an action list must come before what invokes its actions).
    layout: list[tuple[str, SourcePos | None]] = field(default_factory=list, repr=False)
    # Filled by the checker from `properties`:
    size: int | None = None
    # Entry priorities: a numerically larger `Entry.priority` wins unless this is False.
    largest_priority_wins: bool = True
    implementation: Instance | None = field(default=None, repr=False)
    counters: Instance | None = field(default=None, repr=False)
    meters: Instance | None = field(default=None, repr=False)

    def get_property(self, name: str) -> TableProperty | None:
        return next((p for p in self.properties if p.name == name), None)


@dataclass(eq=False)
class ControlDecl(Decl, Type):
    type_params: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    ctor_params: list[Param] = field(default_factory=list)
    locals: list[Decl] = field(default_factory=list)
    body: Block = field(default_factory=Block)

    def local(self, name: str) -> Decl | None:
        return next((d for d in self.locals if d.name == name), None)

    def display(self) -> str:
        return self.name


@dataclass(eq=False)
class Program(Node):
    """The whole checked program. `main` is the top-level package instance."""

    decls: list[Decl] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    match_kinds: list[str] = field(default_factory=list)
    main: Instance | None = field(default=None, repr=False)
    unfolded_annotations: bool = False  # some structured annotation holds an AnnotationExpr

    def find(self, name: str) -> Decl | None:
        return next((d for d in self.decls if d.name == name), None)

    @property
    def controls(self) -> list[ControlDecl]:
        return [d for d in self.decls if isinstance(d, ControlDecl)]

    @property
    def parsers(self) -> list[ParserDecl]:
        return [d for d in self.decls if isinstance(d, ParserDecl)]

    @property
    def actions(self) -> list[ActionDecl]:
        """Top-level actions (e.g. NoAction)."""
        return [d for d in self.decls if isinstance(d, ActionDecl)]

    def pipeline(self) -> dict[str, Decl]:
        """The main package's arguments by parameter name (p, vr, ig, eg, ck, dep)."""
        result: dict[str, Decl] = {}
        if self.main is None:
            return result
        for arg in self.main.args:
            value = arg.value
            if isinstance(value, ConstructorCall) and arg.param is not None:
                result[arg.param.name] = value.target.resolved  # type: ignore[assignment]
            elif isinstance(value, PathExpr) and isinstance(value.decl, Instance) and arg.param is not None:
                result[arg.param.name] = value.decl.type  # type: ignore[assignment]
        return result


# the fields that link to a declaration or type elsewhere (walk() does not follow them)
LINKS = frozenset({"decl", "param", "state_decl", "type", "resolved", "pos", "return_type", "elem_type"})


def walk(node: Node, skip: frozenset = frozenset()) -> Iterator[Node]:
    """`node` and every IR node under it (not following links nor the fields named in `skip`)."""
    yield node
    for f in fields(node):
        if f.name in LINKS or f.name in skip:
            continue
        value = getattr(node, f.name)
        for child in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(child, Node):
                yield from walk(child, skip)
            elif isinstance(child, tuple):  # a struct expression's (name, expr) fields
                for item in child:
                    if isinstance(item, Node):
                        yield from walk(item, skip)


def iter_calls(node: Node | None, live_only: bool = False) -> list[MethodCall]:
    """All calls inside a statement or expression tree, in source order; with `live_only`,
    not those in the untaken branch of `if (true/false)`, which p4c's front end removes
    (statements after `exit` stay: p4c keeps their actions in P4Info)."""
    found: list[MethodCall] = []

    def visit(value) -> None:
        if isinstance(value, MethodCall):
            found.append(value)
        if live_only and isinstance(value, If) and isinstance(value.cond, BoolLiteral):
            visit(value.then if value.cond.value else value.else_)
            return
        if isinstance(value, (Stmt, Expr, Argument, SwitchCase, VarDecl)):
            for child in vars(value).values():
                visit(child)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    visit(node)
    return found


def applied_tables(control: ControlDecl) -> list[TableDecl]:
    """Tables applied in the control's body, actions, local initializers or the keys of applied
    tables (p4c drops the others)."""
    result: list[TableDecl] = []
    todo: list = [control.body] + [d.body if isinstance(d, ActionDecl) else d for d in control.locals
                                   if isinstance(d, (ActionDecl, VarDecl))]
    while todo:
        for call in iter_calls(todo.pop(0)):
            if call.kind == CallKind.TABLE_APPLY and call.decl not in result:
                result.append(call.decl)  # type: ignore[arg-type]
                todo.extend(k.expr for k in call.decl.keys)  # type: ignore[union-attr]
    return result


def block_kind(t) -> str | None:
    """`parser`, `control` or `package` for a type that is one (a declaration, a prototype or a
    specialization of either), else None."""
    t = t.base if isinstance(t, SpecializedType) else t
    if isinstance(t, ParserDecl):
        return "parser"
    if isinstance(t, ControlDecl):
        return "control"
    return t.kind if isinstance(t, BlockTypeDecl) else None


def constructor_params(decl) -> list[Param] | None:
    """The constructor parameters of a parser, control or package declaration (what an
    instantiation's arguments are bound to), else None."""
    if isinstance(decl, (ParserDecl, ControlDecl)):
        return decl.ctor_params
    if isinstance(decl, BlockTypeDecl) and decl.kind == "package":
        return decl.params
    return None
