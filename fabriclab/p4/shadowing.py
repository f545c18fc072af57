"""Pass: p4c's warning for a declaration that hides another of its name ("'x' shadows 'x'",
from ResolveReferences' shadowing check), on the program as written.

p4c checks the declarations of each namespace: a parser or control (type parameters,
parameters, constructor parameters, locals, states), a function, an action, an extern (type
parameters, methods), an extern method or function, a parser or control type and a
struct-like type (their type parameters only), a parser state, a block (not a loop's own
declarations) and a table's properties. Each is warned about for every declaration of its
name in that namespace or an enclosing one, the program's included, declared before it; but
methods, functions, parsers and controls may share a name with an extern, its methods or an
extern function (overloads; a constructor is named as its extern).
"""

from __future__ import annotations

from dataclasses import fields

from fabriclab.p4 import ir
from fabriclab.p4.names import SYSTEM
from fabriclab.p4.typecheck import CheckContext

_OVERLOADED = (ir.Method, ir.ExternDecl)  # (ExternFunction is a Method)
_OVERLOADING = (ir.Method, ir.FunctionDecl, ir.ControlDecl, ir.ParserDecl)


class Shadowing:
    """Pass: see the module docstring."""

    name = "shadowing"

    def run(self, ctx: CheckContext) -> None:
        _Scopes(ctx).namespace(ctx.program.decls, top=True)


class _Scopes:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.scopes: list[dict[str, list]] = []
        self.unchecked: set[int] = set()

    def namespace(self, decls, inside=(), top: bool = False) -> None:
        """Check and declare `decls` in a new innermost scope, in source order, visiting each
        that holds declarations as soon as it is declared, then visit `inside` (statements,
        in order; a declaration among them is checked and declared where it is): what a
        nested namespace holds sees only what was declared before it, as p4c's lookup."""
        self.scopes.append({})
        for item in [*decls, *inside]:
            if isinstance(item, ir.TypeParam) or isinstance(item, ir.Decl) and item.name:
                if not top and id(item) not in self.unchecked:
                    self.check(item)
                self.scopes[-1].setdefault(str(item) if isinstance(item, ir.TypeParam) else item.name,
                                           []).append(item)
            if isinstance(item, ir.Node):
                self.visit(item)
        self.scopes.pop()

    def check(self, decl) -> None:
        name = str(decl) if isinstance(decl, ir.TypeParam) else getattr(decl, "name", None)
        pos = decl.pos
        if not name or pos is None or pos.file.startswith(SYSTEM):
            return
        for i, scope in enumerate(reversed(self.scopes)):
            for prev in scope.get(name, []):
                same_scope = i == 0
                if same_scope and isinstance(prev, (ir.Method, ir.FunctionDecl)):
                    continue  # p4c records no overload as the previous one of its scope
                if not same_scope and isinstance(prev, _OVERLOADED) and isinstance(decl, _OVERLOADING):
                    continue
                self.ctx.warn(pos, f"'{name}' shadows '{_show(prev)}'")

    def visit(self, node: ir.Node) -> None:
        if isinstance(node, ir.ControlDecl):
            self.namespace([*node.type_params, *node.params, *node.ctor_params, *node.locals], [node.body])
        elif isinstance(node, ir.ParserDecl):
            self.namespace([*node.type_params, *node.params, *node.ctor_params, *node.locals, *node.states])
        elif isinstance(node, ir.FunctionDecl):
            self.namespace([*node.type_params, *node.params], [node.body])
        elif isinstance(node, ir.ActionDecl):
            self.namespace(node.params, [node.body])
        elif isinstance(node, ir.ExternDecl):
            self.namespace([*node.type_params, *node.constructors, *node.methods])
        elif isinstance(node, ir.Method):  # its parameters are not checked (p4c)
            self.namespace(node.type_params)
        elif isinstance(node, ir.BlockTypeDecl):  # (not its parameters; nothing in a package)
            if node.kind != "package":
                self.namespace(node.type_params)
        elif isinstance(node, ir.StructLike):
            self.namespace(getattr(node, "type_params", []))
        elif isinstance(node, (ir.ParserState, ir.Block)):
            self.namespace([], node.stmts)
        elif isinstance(node, ir.TableDecl):
            self.namespace([ir.Field(name, pos=pos) for name, pos in node.layout])
        elif isinstance(node, ir.Instance):
            for fn in node.initializer or ():
                self.visit(fn)
        elif isinstance(node, ir.For):
            # p4c checks neither a loop's own declarations nor a for-in loop's variable (the
            # body's first declaration, named as the loop's hidden `v__N_...` ones)
            body = node.body
            first = body.stmts[0] if isinstance(body, ir.Block) and body.stmts else None
            if isinstance(first, ir.VarDecl) and node.init and getattr(node.init[0], "name", "").startswith(
                    f"{first.name}__"):
                self.unchecked.add(id(first))
            self.visit(body)
        elif isinstance(node, ir.Stmt) and not isinstance(node, ir.VarDecl):
            for block in _blocks_in(node):
                self.visit(block)


def _blocks_in(node):
    """The blocks a statement holds (an if's branches, a switch's cases), not those nested in them."""
    for f in fields(node):
        if f.name in ir.LINKS:
            continue
        value = getattr(node, f.name)
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ir.Block):
                yield child
            elif isinstance(child, (ir.Stmt, ir.SwitchCase)):
                yield from _blocks_in(child)


def _show(decl) -> str:
    """How p4c prints the declaration shadowed: a parser, control or struct-like type with
    its kind ("header padding"), anything else by name."""
    if isinstance(decl, ir.StructLike):
        return f"{decl.kind} {decl.name}"
    if isinstance(decl, (ir.ParserDecl, ir.ControlDecl)):
        return f"{'parser' if isinstance(decl, ir.ParserDecl) else 'control'} {decl.name}"
    return str(decl) if isinstance(decl, ir.TypeParam) else decl.name
