"""The front end's first pass: rules on declarations as written, before any name is resolved.

As p4c's ValidateParsedProgram, CheckNamedArgs and the parser's symbol table, it runs on the
untyped IR (functions are still there, before their inlining), so these rules also hold for
declarations nothing uses: one namespace at the top level, well-formed extern constructors
and methods, distinct type parameters, where default values and `@optional` may appear,
functions that return a value on every path, `this` only in abstract methods, and no
parser, control or extern that names its own type inside itself.
"""

from __future__ import annotations

from typing import Iterator

from fabriclab.p4 import ir
from fabriclab.p4.typecheck import CheckContext, error

# Declarations a program may declare several times at the top level (overloads, told apart
# by their arguments): functions with functions, extern functions with extern functions,
# packages with packages, parsers with parsers and controls with controls (by constructor).
_OVERLOADABLE = (ir.FunctionDecl, ir.ExternFunction, ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl)
def always_returns(stmt: ir.Stmt | None) -> bool:
    """Whether the end of `stmt` is unreachable: every path through it returns or exits."""
    if isinstance(stmt, (ir.Return, ir.Exit)):
        return True
    if isinstance(stmt, ir.Block):
        return any(always_returns(s) for s in stmt.stmts)
    if isinstance(stmt, ir.If):
        return stmt.else_ is not None and always_returns(stmt.then) and always_returns(stmt.else_)
    if isinstance(stmt, ir.Switch):
        has_default = any(c.label is None for c in stmt.cases)
        bodies = [c.body for c in stmt.cases if c.body is not None]
        return has_default and bool(bodies) and stmt.cases[-1].body is not None and \
            all(always_returns(b) for b in bodies)
    return False


def _package(decl: ir.Decl) -> bool:
    return isinstance(decl, ir.BlockTypeDecl) and decl.kind == "package"


def _param_lists(decl: ir.Decl) -> Iterator[tuple[list[ir.Param], str]]:
    """(parameter list, its role) of a declaration: "apply", "ctor", "method" or "function"."""
    if isinstance(decl, (ir.ParserDecl, ir.ControlDecl)):
        yield decl.params, "apply"
        yield decl.ctor_params, "ctor"
    elif isinstance(decl, ir.BlockTypeDecl):
        yield decl.params, "package" if decl.kind == "package" else "apply"
    elif isinstance(decl, ir.ExternDecl):
        for m in decl.constructors + decl.methods:
            yield m.params, "method"
    elif isinstance(decl, ir.FunctionDecl):
        yield decl.params, "function"
    elif isinstance(decl, (ir.ExternFunction, ir.ActionDecl)):
        yield decl.params, "method"
    if isinstance(decl, ir.ControlDecl):
        for local in decl.locals:
            if isinstance(local, ir.ActionDecl):
                yield local.params, "method"


class ValidateDeclarations:
    """Pass: the rules p4c checks on the parsed program (see the module docstring)."""

    name = "validate-declarations"

    def run(self, ctx: CheckContext) -> None:
        seen: dict[str, ir.Decl] = {}
        for decl in ctx.program.decls:
            if isinstance(decl, (ir.ErrorDecl, ir.MatchKindDecl)):
                continue
            self._top_level_name(decl, seen)
            self._type_params(decl)
            for params, role in _param_lists(decl):
                _params(params, role)
            if isinstance(decl, ir.ExternDecl):
                _extern(decl)
            if isinstance(decl, ir.FunctionDecl) and not (
                    decl.return_ref is not None and decl.return_ref.kind == "void"):
                if not always_returns(decl.body):  # (p4c finds it after type checking: reported then)
                    ctx.not_returning.append(decl)
            for node in ir.walk(decl, frozenset({"initializer"})):  # (where abstract methods are implemented)
                if isinstance(node, ir.PathExpr) and node.name == "this":
                    raise error(node.pos, "'this' can only be used in the definition of an abstract method")
            if isinstance(decl, (ir.ParserDecl, ir.ControlDecl, ir.ExternDecl)):
                _self_reference(decl)

    @staticmethod
    def _top_level_name(decl: ir.Decl, seen: dict[str, ir.Decl]) -> None:
        """Types, constants, instances, actions and functions share the top-level namespace;
        only functions (or extern functions) overload one another."""
        previous = seen.setdefault(decl.name, decl)
        if previous is decl:
            return
        if isinstance(decl, _OVERLOADABLE) and type(previous) is type(decl) and _package(decl) == _package(previous):
            return
        raise error(decl.pos, f"duplicate declaration of '{decl.name}' (previous declaration at "
                              f"line {previous.pos.line if previous.pos else '?'})")

    @staticmethod
    def _type_params(decl: ir.Decl) -> None:
        lists = [(decl, getattr(decl, "type_params", None) or [])]
        if isinstance(decl, ir.ExternDecl):
            lists += [(m, m.type_params) for m in decl.methods]
        lists += [(fn, fn.type_params) for inst in ir.walk(decl) if isinstance(inst, ir.Instance)
                  for fn in inst.initializer or () if isinstance(fn, ir.FunctionDecl)]
        for owner, names in lists:
            dup = next((n for i, n in enumerate(names) if n in names[:i]), None)
            if dup is not None:
                raise error(owner.pos, f"duplicate type parameter '{dup}' of '{owner.name}'")


def _params(params: list[ir.Param], role: str) -> None:
    """Default values only on in and directionless parameters, never on `@optional` ones;
    `@optional` only where a call may leave an argument out (not in a parser's or control's
    constructor, nor in a function; a package's may); constructor parameters have no direction."""
    for p in params:
        optional = p.annotation("optional") is not None
        if p.default is not None and optional:
            raise error(p.pos, f"{p.name}: optional parameters cannot have default values")
        if p.default is not None and p.direction in ("out", "inout"):
            raise error(p.pos, f"{p.name}: out parameters cannot have default values")
        if optional and role in ("ctor", "function"):
            raise error(p.pos, f"{p.name}: optional parameter not allowed here")
        if role in ("ctor", "package") and p.direction is not None:
            raise error(p.pos, f"{p.name}: constructor parameters cannot have a direction")


def _extern(ext: ir.ExternDecl) -> None:
    """A constructor is named as its extern and has no return type; every other method has
    one; two constructors or methods of one name need different parameter names or counts
    (a call tells them apart by those)."""
    for m in ext.methods:
        if m.name == ext.name:
            raise error(m.pos, f"{m.name}: invalid constructor; cannot have a return type")
    for m in ext.constructors:
        if m.name != ext.name:
            raise error(m.pos, f"{m.name}: invalid type; method has no return type")
        for p in m.params:
            if p.direction is not None:
                raise error(p.pos, f"{p.name}: constructor parameters cannot have a direction")
    for group in (ext.constructors, ext.methods):
        for i, m in enumerate(group):
            names = sorted(p.name for p in m.params)
            for earlier in group[:i]:
                if earlier.name == m.name and sorted(p.name for p in earlier.params) == names:
                    raise error(m.pos, f"duplicate declaration of '{m.name}' in extern '{ext.name}' "
                                       f"(same parameters as at line {earlier.pos.line if earlier.pos else '?'})")


def _self_reference(decl: ir.ParserDecl | ir.ControlDecl | ir.ExternDecl) -> None:
    """A parser, control or extern cannot use its own type inside itself (p4c: not supported)."""
    for node in ir.walk(decl):
        if isinstance(node, ir.TypeRef) and node.kind in ("name", "specialized") and node.name == decl.name \
                and node.name not in getattr(decl, "type_params", []):
            raise error(node.pos, f"Self-referencing types not supported: '{node.name}' within "
                                  f"'{decl.name}'")
