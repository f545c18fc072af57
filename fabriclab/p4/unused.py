"""Pass: warnings for declarations nothing uses, as p4c's front end gives them (its
WarnAboutUnusedDeclarations: `[--Wwarn=unused]`, the commonest warning of its corpus).

p4c runs it on the parsed program, before any type is known, so it runs here on the untyped
IR as written (before functions are inlined or generic blocks specialised), with a name
resolution of its own: a declaration is used when a name somewhere resolves to it (a
path, a type name, an action in a table, an enum in `E.x`). p4c then warns about:

- a control or parser ("control 'c' is unused"), a table ("table 't' is unused"), and then
  still about what is unused inside them;
- an action, function, constant (not one holding a `static_assert`), variable, instance
  (not `main`), value set, typedef or `type`, and a parser, control or package prototype
  ("'package top' is unused"); names starting with `__` are internal and never reported;
- an action's parameter (not a control's, parser's, function's or method's).

It never warns about structs, headers, enums, errors, match kinds, externs, extern
functions or parser states; nor about anything in the system files (core.p4, v1model.p4),
nor inside a declaration annotated `@noWarn("unused")`. A declaration is named as p4c names
it: by its `@name` if it has one.
"""

from __future__ import annotations

import re
from dataclasses import fields

from fabriclab.p4 import ir
from fabriclab.p4.calls import params_fit
from fabriclab.p4.preprocess import INCLUDE_DIR
from fabriclab.p4.typecheck import CheckContext

_SKIPPED_FIELDS = ir.LINKS | {"annotations", "layout", "entries_annotations"}
_SYSTEM = str(INCLUDE_DIR)


class _Uses:
    """The declarations names resolve to, found by walking the program with its scopes."""

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.scopes: list[dict[str, list[ir.Node]]] = []

    def declare(self, decls) -> None:
        for d in decls:
            name = d if isinstance(d, ir.TypeParam) else d.name if isinstance(d, ir.Decl) else None
            if name:
                self.scopes[-1].setdefault(str(name), []).append(d)

    def use(self, name: str, absolute: bool = False, args: list[ir.Argument] | None = None) -> None:
        """The declaration `name` finds, innermost scope first; called with `args`, not a
        function or action that takes fewer parameters (p4c looks further out: `hash(...)` in
        an action named hash is the extern function), and among overloads the one the
        arguments fit by count and names; else the last declared (a local after the
        parameter it shadows)."""
        for scope in (self.scopes[:1] if absolute else reversed(self.scopes)):
            found = [d for d in scope.get(name, []) if args is None or not (
                isinstance(d, (ir.ActionDecl, ir.FunctionDecl, ir.Method)) and len(d.params) < len(args))]
            if found:
                fitting = [d for d in found if args is not None and params_fit(_params(d), args)]
                self.used.add(id((fitting or found[-1:])[0]))
                return

    def scoped(self, decls, *children) -> None:
        """Walk `children` in a new scope holding `decls`."""
        self.scopes.append({})
        self.declare(decls)
        for child in children:
            self.walk(child)
        self.scopes.pop()

    def walk(self, node) -> None:
        if isinstance(node, (list, tuple)):
            for item in node:
                self.walk(item)
            return
        if not isinstance(node, ir.Node):
            return
        if isinstance(node, ir.MethodCall) and isinstance(node.target, ir.PathExpr):
            self.use(node.target.name, node.target.absolute, node.args)
            self.walk([node.args, node.type_args])
            return
        ref = node.type_ref if isinstance(node, ir.Instance) else node.target if isinstance(
            node, ir.ConstructorCall) else None
        # `d(b = 2) i;`: of overloads, the d whose constructor the arguments fit
        if isinstance(ref, ir.TypeRef) and ref.kind in ("name", "specialized"):
            self.use(ref.name, args=node.args)
            self.walk([ref.args] + [getattr(node, f.name) for f in fields(node)
                       if f.name not in _SKIPPED_FIELDS and getattr(node, f.name) is not ref])
            return
        if isinstance(node, ir.PathExpr):
            self.use(node.name, node.absolute)
        elif isinstance(node, ir.TypeRef) and node.kind in ("name", "specialized"):
            self.use(node.name)
        elif isinstance(node, ir.ActionRef):
            self.use(node.name, node.absolute)
        elif isinstance(node, ir.TypeMember):
            self.use(node.type_name)
        if isinstance(node, (ir.ControlDecl, ir.ParserDecl)):
            states = node.states if isinstance(node, ir.ParserDecl) else []
            body = node.body if isinstance(node, ir.ControlDecl) else None
            self.scoped(node.type_params, node.params, node.ctor_params)
            self.scoped(node.type_params + node.params + node.ctor_params + node.locals, node.locals, states, body)
        elif isinstance(node, (ir.ActionDecl, ir.FunctionDecl, ir.Method)):
            type_params = getattr(node, "type_params", [])
            self.scoped(type_params, getattr(node, "return_ref", None), node.params)
            self.scoped(type_params + node.params, getattr(node, "body", None))
        elif isinstance(node, ir.ExternDecl):
            self.scoped(node.type_params, node.constructors, node.methods)
        elif isinstance(node, (ir.StructLike, ir.BlockTypeDecl)):
            self.scoped(node.type_params, getattr(node, "fields", []), getattr(node, "params", []))
        elif isinstance(node, ir.Block):
            self.scopes.append({})
            for stmt in node.stmts:
                self.walk(stmt)
                if isinstance(stmt, (ir.VarDecl, ir.ConstDecl)):
                    self.declare([stmt])
            self.scopes.pop()
        elif isinstance(node, ir.ParserState):
            self.walk(ir.Block(node.stmts + ([node.transition] if node.transition else [])))
        elif isinstance(node, ir.For):
            self.walk(ir.Block(node.init + [ir.Block([node.body] + node.update)]))
            self.walk(node.cond)  # (its names resolve in the loop's scope; none is reported)
        else:
            for f in fields(node):
                if f.name not in _SKIPPED_FIELDS:
                    self.walk(getattr(node, f.name))


def _params(decl) -> list[ir.Param]:
    """The parameters a call or an instantiation of `decl` binds its arguments to."""
    ctor = ir.constructor_params(decl)
    return ctor if ctor is not None else getattr(decl, "params", [])


def _external_name(decl: ir.Decl) -> str:
    """Its `@name`, as written between the quotes (p4c prints escapes as they are), or its name."""
    anno = decl.annotation("name")
    literal = re.match(r'\s*"((?:\\.|[^"\\])*)"', anno.body or "") if anno is not None else None
    return literal.group(1) if literal else decl.name


def _no_warn(decl: ir.Decl) -> bool:
    anno = decl.annotation("noWarn")
    return anno is not None and anno.args == ["unused"]


def _static_assert(e: ir.Expr | None) -> bool:
    return any(isinstance(n, ir.MethodCall) and isinstance(n.target, ir.PathExpr)
               and n.target.name == "static_assert" for n in ir.walk(e)) if e is not None else False


class UnusedDeclarations:
    """Pass: see the module docstring."""

    name = "unused-declarations"

    def run(self, ctx: CheckContext) -> None:
        uses = _Uses()
        uses.scoped(ctx.program.decls, ctx.program.decls)
        self.used, self.ctx = uses.used, ctx
        for decl in ctx.program.decls:
            self.decl(decl, top=True)

    def warn(self, decl: ir.Decl | ir.TypeParam, message: str) -> None:
        pos = decl.pos
        if pos is not None and not pos.file.startswith(_SYSTEM):
            self.ctx.warn(pos, message)

    def unused(self, decl: ir.Decl) -> bool:
        return id(decl) not in self.used and not decl.name.startswith("__")

    def decl(self, decl: ir.Decl, top: bool = False) -> None:
        if _no_warn(decl) or decl.pos is not None and decl.pos.file.startswith(_SYSTEM):
            return
        if isinstance(decl, (ir.ControlDecl, ir.ParserDecl)):
            kind = "control" if isinstance(decl, ir.ControlDecl) else "parser"
            if self.unused(decl):
                self.warn(decl, f"{kind} '{_external_name(decl)}' is unused")
            for local in decl.locals:
                self.decl(local)
            self.statements(decl.body.stmts if isinstance(decl, ir.ControlDecl) else
                            [s for state in decl.states for s in state.stmts])
        elif isinstance(decl, ir.TableDecl):
            if self.unused(decl):
                self.warn(decl, f"table '{_external_name(decl)}' is unused")
        elif isinstance(decl, ir.BlockTypeDecl):
            if self.unused(decl):
                self.warn(decl, f"'{decl.kind} {decl.name}' is unused")
        elif isinstance(decl, (ir.ActionDecl, ir.FunctionDecl)):
            self.named(decl)
            if isinstance(decl, ir.ActionDecl):
                for param in decl.params:
                    self.named(param)
            self.statements(decl.body.stmts)
        elif isinstance(decl, ir.ConstDecl):
            if not _static_assert(decl.init):
                self.named(decl)
        elif isinstance(decl, ir.Instance):
            if not (top and decl.name == "main"):
                self.named(decl)
        elif isinstance(decl, (ir.VarDecl, ir.ValueSetDecl, ir.TypedefDecl, ir.NewTypeDecl)):
            self.named(decl)
        if isinstance(decl, (ir.StructLike, ir.ExternDecl, ir.FunctionDecl, ir.ExternFunction, ir.BlockTypeDecl)):
            for param in decl.type_params:  # (p4c: an extern's methods' and a block's own are not)
                if id(param) not in self.used and isinstance(param, ir.TypeParam):
                    self.warn(param, f"'{param}' is unused")

    def named(self, decl: ir.Decl) -> None:
        if not _no_warn(decl) and self.unused(decl):
            self.warn(decl, f"'{_external_name(decl)}' is unused")

    def statements(self, stmts: list[ir.Stmt]) -> None:
        """The variables and constants declared anywhere in these statements but a for-in
        loop's variable (p4c's loop refers to it: it counts as used)."""
        loop_vars = {id(v) for stmt in stmts for node in ir.walk(stmt) if (v := _for_in_variable(node))}
        for stmt in stmts:
            for node in ir.walk(stmt):
                if isinstance(node, (ir.VarDecl, ir.ConstDecl)) and id(node) not in loop_vars:
                    self.decl(node)


def _for_in_variable(node: ir.Node) -> ir.VarDecl | None:
    """The variable `v` of `for (T v in ...)`, which build_ir writes as a three-clause loop
    over `v__N_lo` or `v__N_i` whose body starts by declaring v."""
    if not (isinstance(node, ir.For) and node.init and isinstance(node.body, ir.Block) and node.body.stmts):
        return None
    first = node.body.stmts[0]
    counter = node.init[0]
    if isinstance(first, ir.VarDecl) and isinstance(counter, ir.VarDecl) and \
            re.fullmatch(re.escape(first.name) + r"__\d+_(lo|i)", counter.name):
        return first
    return None
