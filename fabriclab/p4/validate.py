"""The front end's first pass: rules on declarations as written, before any name is resolved.

As p4c's ValidateParsedProgram, CheckNamedArgs and the parser's symbol table, it runs on the
untyped IR (functions are still there, before their inlining), so these rules also hold for
declarations nothing uses: one namespace at the top level, well-formed extern constructors
and methods, distinct type parameters, where default values and `@optional` may appear,
functions that return a value on every path, `this` only in abstract methods, and no
parser, control or extern that names its own type inside itself.
"""

from __future__ import annotations

import re
from typing import Iterator

from fabriclab.p4 import ir
from fabriclab.p4.annotations import ERROR_ONLY_NAMES
from fabriclab.p4.diagnostics import CompileError, Diagnostic, SourcePos
from fabriclab.p4.p4c_text import node_text, type_text
from fabriclab.p4.typecheck import CheckContext, declared_text, error

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


def _default_last(stmt: ir.Switch) -> None:
    """A switch's `default` label is its last (p4c names the switch, in its words)."""
    labels = [case.label for case in stmt.cases]
    if None in labels[:-1]:
        after = labels[labels.index(None) + 1]
        raise error(stmt.pos, "switch has multiple 'default' labels:" if after is None else
                    f"switch label {node_text(after)} follows 'default' label, which is not allowed.")


def _no_action(program: ir.Program) -> None:
    """p4c's CreateBuiltins: a table without `default_action` gets `NoAction()` (listed as
    `@defaultonly` unless its actions name it), so the program's top-level `NoAction` must be
    an action with neither parameters nor body; checked once, at the first such table."""
    for decl in program.decls:
        for table in (d for d in getattr(decl, "locals", ()) if isinstance(d, ir.TableDecl)):
            if any(kind == "default_action" for kind, _ in table.layout) or \
                    any(ref.name == "NoAction" for ref in table.actions):
                continue
            hint = f"\n(needed as the default action of table '{table.name}')"
            found = next((d for d in program.decls if d.name == "NoAction"), None)
            if found is None:  # (p4c names no position)
                raise error(None, f"Declaration of the action NoAction not found; did you include core.p4?{hint}")
            if not isinstance(found, ir.ActionDecl):
                raise error(found.pos, f"NoAction: expected to be an action; did you include core.p4?{hint}")
            if found.params:
                raise error(found.pos, "NoAction: Expected an action with no parameters; did you include "
                                       f"core.p4?{hint}")
            if found.body.stmts:
                raise error(found.pos, f"NoAction: Expected an action with no body; did you include core.p4?{hint}")
            return


def repeated_names(program: ir.Program) -> list[tuple[SourcePos | None, str]]:
    """Each name given again in a list p4c's parser keeps as an IndexedVector (parameters,
    type parameters, fields, enum members, a parser's or control's locals and states, a
    table's properties and actions, a struct expression's fields), where it is repeated, in
    source order."""
    found: list[tuple[SourcePos | None, str]] = []

    def check(items) -> None:  # items: (name, position)
        seen: set[str] = set()
        for name, pos in items:
            if name in seen:
                found.append((pos, name))
            seen.add(name)

    for node in ir.walk(program):
        for attr in ("params", "ctor_params"):
            params = getattr(node, attr, None)
            if isinstance(params, list) and params and isinstance(params[0], ir.Param):
                check((p.name, p.pos) for p in params)
        names = getattr(node, "type_params", None)
        if isinstance(names, list) and names and isinstance(names[0], str):
            check((n, node.pos) for n in names)  # (no position of its own)
        if isinstance(node, ir.StructLike):
            check((f.name, f.pos) for f in node.fields)
        elif isinstance(node, ir.EnumDecl):
            check((m, node.member_pos[i] if i < len(node.member_pos) else node.pos)
                  for i, m in enumerate(node.members))
        elif isinstance(node, (ir.ParserDecl, ir.ControlDecl)):
            check((d.name, d.pos) for d in node.locals if isinstance(d, ir.Decl))
            if isinstance(node, ir.ParserDecl):
                check((st.name, st.pos) for st in node.states)
        elif isinstance(node, ir.TableDecl):
            check(node.layout)
            check((ref.name, ref.pos) for ref in node.actions)
        elif isinstance(node, ir.StructExpr):
            check((name, value.pos) for name, value in node.fields)
    return sorted(found, key=lambda r: (r[0] is None, r[0] and (r[0].line, r[0].col)))


def _states(parser: ir.ParserDecl) -> None:
    """accept and reject are built in, and start must be written (p4c reports both)."""
    found = [Diagnostic(s.pos, f"Invalid parser state: {s.name} should not be implemented, it is built-in")
             for s in parser.states if s.name in ("accept", "reject")]
    if not any(s.name == "start" for s in parser.states):
        found.append(Diagnostic(parser.pos, f"Parser {parser.name} has no 'start' state"))
    if found:
        raise CompileError(found)


# The kinds of symbol p4c's parser declares as it reads (its ProgramStructure): a name
# declared again in one scope as another kind is an error there, before any other check.
_CONTAINER_TYPES = (ir.StructLike, ir.ExternDecl, ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl)
_SIMPLE_TYPES = (ir.EnumDecl, ir.TypedefDecl, ir.NewTypeDecl)
_OBJECTS = (ir.FunctionDecl, ir.ExternFunction, ir.ConstDecl, ir.Instance, ir.VarDecl)


def _symbol_kind(decl: ir.Decl) -> type | None:
    for kinds in (_CONTAINER_TYPES, _SIMPLE_TYPES, _OBJECTS):
        if isinstance(decl, kinds):
            return kinds[0]
    return None  # (actions, tables, value sets: the parser declares no symbol)


def _redeclared(name: str, pos: SourcePos | None, what: str) -> CompileError:
    return error(pos, f"Re-declaration of {name} with different type:\n({what})")


def _symbol_table(program: ir.Program) -> None:
    """p4c's parser's errors: a top-level name declared as another kind of symbol (a type,
    a block or extern type, an object), and a parameter named as a type parameter of its
    declaration (a constructor parameter is left to `distinctParameters`)."""
    seen: dict[str, ir.Decl] = {}
    for decl in program.decls:
        kind = _symbol_kind(decl) if isinstance(decl, ir.Decl) else None
        if kind is not None:
            previous = seen.setdefault(decl.name, decl)
            if _symbol_kind(previous) is not kind:
                raise _redeclared(decl.name, decl.pos, f"declared before, as another kind of name, at line "
                                                       f"{previous.pos.line if previous.pos else '?'}")
        generic = [decl] if isinstance(decl, (ir.ParserDecl, ir.ControlDecl, ir.BlockTypeDecl, ir.FunctionDecl,
                                              ir.ExternFunction)) else \
            decl.constructors + decl.methods if isinstance(decl, ir.ExternDecl) else []
        for d in generic:
            for p in d.params:
                if p.name in d.type_params:
                    raise _redeclared(p.name, p.pos, f"a type parameter of '{d.name}'")


def _instances_in_code(decl: ir.Decl) -> None:
    """Instances are declared among a block's locals, not in code (p4c's words by where)."""
    if isinstance(decl, ir.ControlDecl):  # (its actions' bodies are blocks of the control too)
        code, where = [decl.body, *(a.body for a in decl.locals if isinstance(a, ir.ActionDecl))], \
            "invalid declaration. Instantiations cannot be in a control 'apply' block."
    elif isinstance(decl, ir.ParserDecl):
        code, where = decl.states, "invalid declaration. Instantiations cannot be in a parser state."
    elif isinstance(decl, ir.FunctionDecl):
        code, where = [decl.body], "invalid declaration. Instantiations cannot be in a function or method."
    elif isinstance(decl, ir.ActionDecl):
        code, where = [decl.body], "declaration. Instantiations not allowed in actions."
    else:
        return
    for part in code:
        for node in ir.walk(part):
            if isinstance(node, ir.Instance):
                raise error(node.pos, f"{node.name}: {where}")


def _applies_in_action_arguments(control: ir.ControlDecl) -> None:
    """A table's action list cannot apply a table in an argument (p4c's side-effect ordering
    refuses it, `a(t.apply().hit ? 1 : 2)`)."""
    tables = [t for t in control.locals if isinstance(t, ir.TableDecl)]
    names = {t.name for t in tables}
    for table in tables:
        for node in (n for ref in table.actions for a in ref.args if a.value is not None for n in ir.walk(a.value)):
            if isinstance(node, ir.MethodCall) and isinstance(node.target, ir.Member) and \
                    node.target.member == "apply" and isinstance(node.target.expr, ir.PathExpr) and \
                    node.target.expr.name in names:
                raise error(node.pos, f"{node_text(node)}: table invocation in action argument")


def _command_line(program: ir.Program) -> list[Diagnostic]:
    """p4test's options in `@command_line`: `--Wdisable=`, `--Winfo=`, `--Wwarn=` cannot
    demote an error (p4c checks its options before it reads the program: no position)."""
    found = []
    for decl in program.decls:
        for anno in getattr(decl, "annotations", ()):
            if anno.name != "command_line":
                continue
            for arg in anno.args:
                match = re.fullmatch(r"--W(?:disable|info|warn)=(.+)", str(arg))
                if match and match.group(1) in ERROR_ONLY_NAMES:
                    found.append(Diagnostic(None, f"Error {match.group(1)} cannot be demoted."))
    return found


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
        demoted = _command_line(ctx.program)
        try:
            self._validate(ctx)
        except CompileError as err:  # (p4c reports a bad option and reads the program on)
            raise CompileError([*demoted, *err.diagnostics]) from None
        if demoted:
            raise CompileError(demoted)

    def _validate(self, ctx: CheckContext) -> None:
        repeats = repeated_names(ctx.program)
        if repeats:  # (p4c's parser reports each as it builds the list, all of them)
            raise CompileError([Diagnostic(pos, f"{name}: Duplicates declaration {name}") for pos, name in repeats])
        _symbol_table(ctx.program)
        seen: dict[str, ir.Decl] = {}
        for decl in ctx.program.decls:
            if isinstance(decl, (ir.ErrorDecl, ir.MatchKindDecl)):
                continue
            self._top_level_name(decl, seen)
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
                if isinstance(node, ir.Switch):
                    _default_last(node)
                items = node.items if isinstance(node, ir.ListExpr) else \
                    node.keys if isinstance(node, ir.SelectExpr) else ()  # (a select's keys: p4c's list)
                if dots := next((i for i in items[:-1] if isinstance(i, ir.Dots)), None):
                    raise error(dots.pos, "... must be the last element")
                if isinstance(node, ir.Instance) and node.type_ref is not None and \
                        node.type_ref.kind not in ("name", "specialized", "stack"):
                    raise error(node.type_ref.pos or node.pos, f"{type_text(node.type_ref)}: invalid type for "
                                                               f"declaration")
            _instances_in_code(decl)
            if isinstance(decl, ir.ControlDecl):
                _applies_in_action_arguments(decl)
            if isinstance(decl, (ir.ParserDecl, ir.ControlDecl, ir.ExternDecl)):
                _self_reference(decl)
            if isinstance(decl, ir.ParserDecl):
                _states(decl)
            if isinstance(decl, (ir.ParserDecl, ir.ControlDecl)):  # (p4c's distinctParameters)
                apply = {p.name: p for p in decl.params}
                for p in decl.ctor_params:
                    if p.name in decl.type_params:
                        raise error(p.pos, f"{p.name} duplicates {p.name}.\n(a type parameter of '{decl.name}')")
                    if p.name in apply:
                        raise error(apply[p.name].pos, f"{p.name} duplicates {p.name}.")
        _no_action(ctx.program)

    @staticmethod
    def _top_level_name(decl: ir.Decl, seen: dict[str, ir.Decl]) -> None:
        """Types, constants, instances, actions and functions share the top-level namespace;
        only functions (or extern functions) overload one another."""
        previous = seen.setdefault(decl.name, decl)
        if previous is decl:
            return
        if isinstance(decl, _OVERLOADABLE) and type(previous) is type(decl) and _package(decl) == _package(previous):
            return
        raise error(decl.pos, f"{decl.name} duplicates {decl.name}.\n(the previous declaration: line "
                              f"{previous.pos.line if previous.pos else '?'})")  # (p4c's words first)


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
            raise error(p.pos, f"{p.name}: invalid direction. Constructor parameters cannot have a direction")


def _extern(ext: ir.ExternDecl) -> None:
    """A constructor is named as its extern and has no return type; every other method has
    one; two constructors or methods of one name need different parameter names or counts
    (a call tells them apart by those)."""
    for m in ext.methods:
        if m.name == ext.name:
            raise error(m.pos, f"{m.name}: invalid constructor; cannot have a return type.")
    for m in ext.constructors:
        if m.name != ext.name:
            raise error(m.pos, f"{m.name}: invalid type; method has no return type.")
        for p in m.params:
            if p.direction is not None:
                raise error(p.pos, f"{p.name}: invalid direction. Constructor parameters cannot have a direction")
    for group in (ext.constructors, ext.methods):
        for i, m in enumerate(group):
            names = sorted(p.name for p in m.params)
            for earlier in group[:i]:
                if earlier.name == m.name and sorted(p.name for p in earlier.params) == names:
                    raise error(m.pos, f"Duplicate declaration of {m.name}: previous declaration at\n(in extern "
                                       f"'{ext.name}', with the same parameters: line "
                                       f"{earlier.pos.line if earlier.pos else '?'})")


def _self_reference(decl: ir.ParserDecl | ir.ControlDecl | ir.ExternDecl) -> None:
    """A parser, control or extern cannot use its own type inside itself (p4c: not supported)."""
    for node in ir.walk(decl):
        if isinstance(node, ir.TypeMember) and node.type_name == decl.name and \
                not isinstance(decl, ir.ExternDecl):  # `p.apply()` inside `control p`
            raise error(node.pos, f"Self-referencing types not supported: '{node.type_name}' within "
                                  f"'{declared_text(decl)}'")
        if isinstance(node, ir.TypeRef) and node.kind in ("name", "specialized") and node.name == decl.name \
                and node.name not in getattr(decl, "type_params", []):
            raise error(node.pos, f"Self-referencing types not supported: '{node.name}' within "
                                  f"'{declared_text(decl)}'")
