"""Pass: warnings for declarations nothing uses, as p4c's front end gives them (its
WarnAboutUnusedDeclarations: `[--Wwarn=unused]`, the commonest warning of its corpus).

p4c runs it on the parsed program, before any type is known, so it runs here on the untyped
IR as written (before functions are inlined or generic blocks specialised), with the name
lookup of names.py: a declaration is used when a name somewhere resolves to it (a path, a
type name, an action in a table, an enum in `E.x`). p4c then warns about:

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

from fabriclab.p4 import ir
from fabriclab.p4.names import SYSTEM, NameUses
from fabriclab.p4.typecheck import CheckContext


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
        self.used, self.ctx = NameUses(ctx.program).used, ctx
        for decl in ctx.program.decls:
            self.decl(decl, top=True)

    def warn(self, decl: ir.Decl | ir.TypeParam, message: str) -> None:
        pos = decl.pos
        if pos is not None and not pos.file.startswith(SYSTEM):
            self.ctx.warn(pos, message)

    def unused(self, decl: ir.Decl) -> bool:
        return id(decl) not in self.used and not decl.name.startswith("__")

    def decl(self, decl: ir.Decl, top: bool = False) -> None:
        if _no_warn(decl) or decl.pos is not None and decl.pos.file.startswith(SYSTEM):
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
