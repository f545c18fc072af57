"""One name lookup on the IR as written (before functions are inlined or generic blocks
specialised), as p4c's ResolutionContext answers it for its early passes that run before
types are known: which declaration each name refers to (unused.py's warnings, deprecated.py's).
A call `f(args)` finds the innermost `f` that can take that many arguments (p4c looks further
out: `hash(...)` in an action named hash is the extern function); of overloads in one scope,
the first its arguments fit."""

from __future__ import annotations

from dataclasses import fields

from fabriclab.p4 import ir
from fabriclab.p4.calls import params_fit
from fabriclab.p4.preprocess import INCLUDE_DIR

SYSTEM = str(INCLUDE_DIR)  # the system files (core.p4, v1model.p4): p4c warns about nothing in them
_SKIPPED_FIELDS = ir.LINKS | {"annotations", "layout", "entries_annotations"}


class NameUses:
    """The declarations the names of a program as written resolve to, found by walking it
    with its scopes: `used` (their ids) and `refs` (each name's node and declaration)."""

    def __init__(self, program: ir.Program) -> None:
        self.used: set[int] = set()
        self.refs: list[tuple[ir.Node, ir.Node]] = []
        self.scopes: list[dict[str, list[ir.Node]]] = []
        self.scoped(program.decls, program.decls)

    def declare(self, decls) -> None:
        for d in decls:
            name = d if isinstance(d, ir.TypeParam) else d.name if isinstance(d, ir.Decl) else None
            if name:
                self.scopes[-1].setdefault(str(name), []).append(d)

    def use(self, node: ir.Node, name: str, absolute: bool = False, args: list[ir.Argument] | None = None) -> None:
        """The declaration `name` finds, innermost scope first; called with `args`, not a
        function or action that takes fewer parameters (p4c looks further out: `hash(...)` in
        an action named hash is the extern function), and among overloads the first the
        arguments fit by count and names; else the last declared (a local after the
        parameter it shadows)."""
        for scope in (self.scopes[:1] if absolute else reversed(self.scopes)):
            found = [d for d in scope.get(name, []) if args is None or not (
                isinstance(d, (ir.ActionDecl, ir.FunctionDecl, ir.Method)) and len(d.params) < len(args))]
            if found:
                fitting = [d for d in found if args is not None and params_fit(_params(d), args)]
                decl = (fitting or found[-1:])[0]
                self.used.add(id(decl))
                self.refs.append((node, decl))
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
            self.use(node.target, node.target.name, node.target.absolute, node.args)
            self.walk([node.args, node.type_args])
            return
        ref = node.type_ref if isinstance(node, ir.Instance) else node.target if isinstance(
            node, ir.ConstructorCall) else None
        # `d(b = 2) i;`: of overloads, the d whose constructor the arguments fit
        if isinstance(ref, ir.TypeRef) and ref.kind in ("name", "specialized"):
            self.use(ref, ref.name, args=node.args)
            self.walk([ref.args] + [getattr(node, f.name) for f in fields(node)
                       if f.name not in _SKIPPED_FIELDS and getattr(node, f.name) is not ref])
            return
        if isinstance(node, ir.PathExpr):
            self.use(node, node.name, node.absolute)
        elif isinstance(node, ir.TypeRef) and node.kind in ("name", "specialized"):
            self.use(node, node.name)
        elif isinstance(node, ir.ActionRef):
            self.use(node, node.name, node.absolute)
        elif isinstance(node, ir.TypeMember):
            self.use(node, node.type_name)
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


_REMOVABLE = (ir.ControlDecl, ir.ParserDecl, ir.ActionDecl, ir.FunctionDecl)


def kept_declarations(program: ir.Program) -> set[int]:
    """The ids of the declarations p4c's front end keeps for its warnings: it removes unused
    controls, parsers, actions, functions and instances of them (not `main`) until none is
    left, so what only an unused instance refers to goes too (RemoveAllUnusedDeclarations)."""
    decls = list(program.decls)
    while True:
        used = NameUses(ir.Program(decls=decls)).used
        removable = [d for d in decls if id(d) not in used and d.name != "main" and (
            isinstance(d, _REMOVABLE) or isinstance(d, ir.Instance) and not _extern_instance(program, d))]
        if not removable:
            return used
        decls = [d for d in decls if d not in removable]


def _extern_instance(program: ir.Program, inst: ir.Instance) -> bool:
    name = inst.type_ref.name if inst.type_ref is not None else None
    return any(isinstance(d, ir.ExternDecl) and d.name == name for d in program.decls)
