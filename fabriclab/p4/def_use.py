"""Pass: p4c's def-use warnings (its FindUninitialized, the front end's def-use analysis):
- uninitialized-use: a read of storage some path from its declaration leaves unwritten
  ("x may be uninitialized", "s.f may be uninitialized" for each such field of a struct or
  header read whole, "a may not be completely initialized" for a stack);
- invalid-header: a field of a header that is invalid, or may be, read or written
  ("accessing a field of an invalid header h", "... of a potentially invalid header h").

p4c tracks every storage location through the whole program; this pass follows what it can
be sure of and stays silent in doubt. In each parser and control as written it tracks local
variables and parameters, field by field and element by element (constant indexes): what is
unwritten (a variable declared without an initializer, an `out` parameter) and whether each
header is valid (an `out` parameter's headers invalid, the others' valid; a local header
invalid until set, as p4c's ResetHeaders makes it; setting a union member's validity
invalidates the other members). Along each path a read warns where it is; paths join at the
end of an `if`, a `switch`, a table's actions and a parser's states (a state's input is what
every transition into it may bring, to a fixed point). `exit` and `return` end a path. A call
reads its `in`/`inout` arguments and writes its `out`/`inout` ones (an extern's or a
parser's or control's leave their headers valid); an action runs its body where it is called
(a table: each of its actions, from what its key read). After `h.isValid()`, `h` is not
warned about until its validity changes or the statement that asked ends (not after an ask
in a value given to a local nothing else reads: p4c repeats its def-use pass, which removes
such assignments, and warns in the later rounds). A function is
checked where the front end inlined each call of it, under the names it was written with (its
parameters copied in are written, their headers valid, as p4c checks a function's body).

Header validity follows p4c's own bookkeeping, quirks included (`_Headers`): a path that
ended still joins, and what a table's actions or an action after its first `if` do to
validity does not reach the caller.

p4c's front end runs its def-use pass again after inlining controls and actions, and its
reporter drops a warning of a kind already given at a position: so that second run adds
what inlining shows. Each control is walked again with a control it applies run in place,
its parameters the arguments p4c's Inline substitutes (a field of a parameter that is a
header itself reported at the argument; an out argument's headers reset invalid; an
@optional parameter given no argument a fresh unwritten variable, reported at the
parameter; its `return`s joining validity at its end), and an action called in an action
running in place, as p4c's InlineActions puts it (what it does to validity after an `if`
reaches the calling action; its out parameters copied out at no position); the warnings at
positions where the first run gave none of their kind are added. Where p4c's Inline copies
the arguments into fresh variables (arguments that overlap, an instance applied with other
arguments elsewhere) the call is taken as the first run takes it. A function inlined there
copies its arguments into variables p4c's InlineFunctions names (`_p4c_names`: `val_0`;
their headers as valid as the arguments) and copies its out and inout parameters out at no
position, a read of what the body left unwritten ("val_0 may be uninitialized", with no
line, as p4c prints it), unless the argument is the action's own variable, which p4c passes
in place. A sub-parser applied in a parser runs its states in place (`machine`) the same
way, an instance applied with other arguments elsewhere through p4c's fresh variables for
its parameters, copied out where it accepts (read at the parameter).

Overlapping arguments of an applied sub-parser go through the temporaries p4c's
SideEffectOrdering makes first (`tmp`, `tmp_0`: copied back at no position), where no other
temporary of its could change their numbering.

Silent: loops, a stack element by a run-time index, a function's `retval` of p4c's
RemoveReturns, and any other variable the front end made rather than the program.
"""

from __future__ import annotations

import collections
import re
import contextlib
from dataclasses import dataclass, field, replace

from fabriclab.p4 import ir
from fabriclab.p4.names import SYSTEM, kept_declarations
from fabriclab.p4.p4c_text import node_text
from fabriclab.p4.p4types import BitType, BoolType, ErrorType, IntType, StackType, StringType, VarbitType
from fabriclab.p4.typecheck import CheckContext

UNINITIALIZED, INVALID_HEADER = "uninitialized-use", "invalid-header"
Location = tuple  # (id of the variable or parameter, then field names and element indexes)
YES, NO, MAYBE = "valid", "invalid", "maybe"
UNSET = "unset"  # an inlined function's out parameter's header: invalid in it, unknown after it
_BASE = (BitType, IntType, BoolType, VarbitType, StringType)  # p4c's Type_Base
_WHOLE = (ErrorType, ir.EnumDecl, ir.NewTypeDecl)  # tracked whole, not Type_Base
_STACK_MEMBERS = ("next", "last", "lastIndex", "size")
_MAX_STACK = 4096


@dataclass(frozen=True)
class State:
    """What is unwritten at a point of a path."""

    unwritten: frozenset = frozenset()  # locations some path leaves unwritten
    live: bool = True  # False: every path here has ended


def _join(a: State, b: State) -> State:
    """What either live path leaves unwritten."""
    unwritten = a.unwritten | b.unwritten if a.live and b.live else a.unwritten if a.live else b.unwritten
    return State(unwritten, a.live or b.live)


class _Headers:
    """p4c's HeaderDefinitions: each header's validity, and the headers isValid() was asked
    about (taken as valid until their validity changes). The walk holds one and shares it with
    what a call runs, rebinding its own at a join, as p4c's visitors do: so what an action does
    after its first `if`, or a table's actions do, does not reach the caller's (p4c's way)."""

    def __init__(self, defs: dict | None = None, asked: set | None = None) -> None:
        self.defs: dict[Location, str] = dict(defs or {})
        self.asked: set[Location] = set(asked or ())

    def clone(self) -> _Headers:
        return _Headers(self.defs, self.asked)

    def intersect(self, other: _Headers) -> _Headers:
        """Agreed on, else MAYBE (the headers of `self` only; nothing asked)."""
        return _Headers({k: v if other.defs.get(k, MAYBE) == v else MAYBE for k, v in self.defs.items()})

    def update(self, locs, value: str) -> None:
        for loc in locs:
            if loc in self.defs:
                self.defs[loc] = value
            self.asked.discard(loc)

    def find(self, loc: Location) -> str | None:
        """YES/NO/MAYBE; None for a header not followed."""
        return YES if loc in self.asked else self.defs.get(loc)

    def under(self, loc: Location) -> list[Location]:
        return [h for h in self.defs if _under(h, loc)]

    def __eq__(self, other) -> bool:
        return isinstance(other, _Headers) and self.defs == other.defs and self.asked == other.asked


class RecordVariables:
    """Pass (before functions are inlined): which variables the program itself declares."""

    name = "record-variables"

    def run(self, ctx: CheckContext) -> None:
        ctx.declared_variables = {id(n) for d in ctx.program.decls
                                  if isinstance(d, (ir.ParserDecl, ir.ControlDecl, ir.ActionDecl))
                                  for n in ir.walk(d) if isinstance(n, ir.VarDecl)}


class DefUse:
    """Pass: see the module docstring."""

    name = "def-use"

    def run(self, ctx: CheckContext) -> None:
        kept = kept_declarations(ctx.program)
        disabled = {arg.partition("=")[2] or "*" for d in ctx.program.decls if isinstance(d, ir.Decl)
                    for anno in d.annotations if anno.name == "command_line"
                    for arg in anno.args if isinstance(arg, str) and arg.startswith("--Wdisable")}
        if "*" in disabled:
            return
        # p4c tracks a specialized generic struct or header like any other, except one whose
        # type arguments are specialized generics themselves (generic-struct.p4's H4<H2<S>>)
        origin = ctx.generic_origin
        untracked = {made for made, args in ctx.generic_args.items()
                     if any(id(a) in origin for a in args)}
        blocks = [d for d in ctx.program.decls if isinstance(d, (ir.ControlDecl, ir.ParserDecl))
                  and d.pos is not None and not d.pos.file.startswith(SYSTEM) and id(d) in kept]
        unique = _unique_names(ctx)
        for decl in blocks:
            _Block(ctx, decl, disabled=disabled, untracked=untracked, ctx_locals=unique).run()
        # p4c's second run, on the controls with the controls they apply inlined: what it finds
        # where the first found nothing of its kind (p4c's reporter drops a repeat by position)
        actions = [d for d in ir.walk(ctx.program) if isinstance(d, ir.ActionDecl)]
        names, copies, ordering = _p4c_names(ctx)
        second = _Second(_applies(ctx.program), {**ctx.inlined.written, **names}, copies, ordering,
                         {id(n) for a in actions for n in ir.walk(a.body) if isinstance(n, ir.VarDecl)}
                         | {id(p) for a in actions for p in a.params if p.direction is None})
        for decl in blocks:
            _Block(ctx, decl, disabled=disabled, untracked=untracked, second=second, ctx_locals=unique).run()
        seen = {(_kind(w.message), w.pos if w.pos is not None else w.message) for w in ctx.warnings}
        for kind, pos, message in second.found:
            key = (kind, pos if pos is not None else message)  # (none: p4c's reporter cannot tell)
            if key not in seen:
                seen.add(key)
                ctx.warn(pos, message)


@dataclass
class _Second:
    """p4c's second def-use run (its front end repeats SimplifyDefUse after inlining controls,
    actions and functions): what it finds, and the applies of each control instance."""

    applies: dict  # id(a control instance) -> the applies of it
    shown: dict  # a renamed variable -> its name in p4c's second run
    copies: dict  # (id(an inlined call), a parameter's name) -> the name of p4c's variable for it
    ordering: dict  # (id(a call), a parameter's name) -> SideEffectOrdering's temporary for its argument
    action_locals: set  # ids of the actions' variables and directionless parameters
    found: list = field(default_factory=list)  # (kind, position, message)
    depth: int = 0  # controls being inlined


def _applies(program: ir.Program) -> dict:
    """id(instance) -> the calls applying it, for the instances applied with other arguments
    in different places (p4c's Inline then copies them), each once otherwise."""
    calls: dict[int, list] = collections.defaultdict(list)
    for d in program.decls:
        if isinstance(d, (ir.ControlDecl, ir.ParserDecl)):
            for n in ir.walk(d):
                if isinstance(n, ir.MethodCall) and n.kind in (ir.CallKind.CONTROL_APPLY, ir.CallKind.PARSER_APPLY) \
                        and _instance(n):
                    calls[_instance(n)].append(n)
    return {k: v if len({tuple(_text(a.value) for a in c.args) for c in v}) > 1 else v[:1]
            for k, v in calls.items()}


_NOWHERE = ir.PathExpr("", pos=None)  # where p4c reports on what it made with no position


def _unique_names(ctx: CheckContext) -> dict[int, str]:
    """id(a variable the program declares) -> the name p4c's UniqueNames gives it: its name
    with the first `_N` suffix no name in the program has (its generator over them all, in
    the program's order)."""
    inlined = ctx.inlined
    used = {name for root in [ctx.program, *(f for _, f in ctx.functions)] for n in ir.walk(root)
            if isinstance(name := getattr(n, "name", None), str) and name not in inlined.written
            and name not in inlined.flags and "__" not in name}
    counters: dict[str, int] = {}
    names: dict[int, str] = {}
    for n in ir.walk(ctx.program):
        if isinstance(n, ir.VarDecl) and id(n) in ctx.declared_variables and n.name not in inlined.written:
            stripped = n.name.rstrip("0123456789")
            base = stripped[:-1] if stripped.endswith("_") and stripped != n.name else n.name
            new, counter = base, counters.get(base, 0)
            if base in used:
                while (new := f"{base}_{counter}") in used:
                    counter += 1
                counters[base] = counter + 1
            used.add(new)
            names[id(n)] = new
    return names


def _ordering_temporaries(ctx: CheckContext, used: set[str]) -> dict[tuple[int, str], str]:
    """(id(a call), parameter) -> the temporary p4c's SideEffectOrdering copies the argument
    into when it overlaps an out or inout argument of the same call ("tmp", "tmp_0", ... in
    the program's order). Empty in doubt: where it makes temporaries for anything else too
    (a call in an expression, a function's result, a list for a header parameter, an out
    slice) or the program has names of its pattern, which would change the numbering."""
    if ctx.inlined.calls or any(re.fullmatch(r"tmp(_\d+)?", name) for name in used):
        return {}
    statements = {id(n.call) for n in ir.walk(ctx.program) if isinstance(n, ir.CallStmt)}
    calls = []
    for n in ir.walk(ctx.program):
        if isinstance(n, ir.MethodCall) and n.kind is not ir.CallKind.IS_VALID:
            if id(n) not in statements or any(isinstance(a.value, (ir.ListExpr, ir.StructExpr, ir.Slice))
                                              for a in n.args):
                return {}
            calls.append(n)
    temps: dict[tuple[int, str], str] = {}
    for n in calls:
        args = [a for a in n.args if a.param is not None and a.param.direction is not None and a.value is not None]
        texts = [node_text(a.value) for a in args]
        for i, a in enumerate(args):
            if any(j != i and args[j].param.direction in ("out", "inout") and _overlap(texts[i], texts[j])
                   for j in range(len(args))):
                temps[(id(n), a.param.name)] = "tmp" if not temps else f"tmp_{len(temps) - 1}"
    return temps


def _overlap(a: str, b: str) -> bool:
    """Whether two l-values (as printed) share storage: equal, or one a field or element of the other."""
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


def _p4c_names(ctx: CheckContext) -> tuple[dict[str, str], dict[tuple[int, str], str], dict[tuple[int, str], str]]:
    """The names p4c's front end gives the variables it makes when it inlines: each is the
    name it stands for (without a `_N` suffix), else with the first `_N` suffix free, counting
    on from the last one given (its MinimalNameGenerator, over every name the program
    declares or uses). In its order: Inline's for a control's @optional parameter applied
    without an argument, InlineActions' for the parameters of each action called directly
    (in actions first), InlineFunctions' for each function call's parameters (not those of
    a call its constant folding removed first). Returns the functions' renamed parameters
    -> their names, (id(the call), parameter) -> name for the controls and actions, and
    SideEffectOrdering's temporaries (`_ordering_temporaries`)."""
    inlined = ctx.inlined

    def program_names(skip=lambda n: False) -> set[str]:
        """The names the program declares or uses (not those the front end made)."""
        return {name for root in [ctx.program, *(f for _, f in ctx.functions)] for n in ir.walk(root)
                if not skip(n) and isinstance(name := getattr(n, "name", None), str)
                and name not in inlined.written and name not in inlined.flags and "__" not in name}

    used = program_names()
    ordering = _ordering_temporaries(ctx, used)
    used |= set(ordering.values())
    counters: dict[str, int] = {}  # (each pass's generator counts afresh, over the names used by then)

    def new_name(name: str) -> str:
        stripped = name.rstrip("0123456789")
        base = stripped[:-1] if stripped.endswith("_") and stripped != name else name
        new = base
        if base in used:
            counter = counters.get(base, 0)
            while (new := f"{base}_{counter}") in used:
                counter += 1
            counters[base] = counter + 1
        used.add(new)
        return new

    controls = [d for d in ctx.program.decls if isinstance(d, ir.ControlDecl)]
    blocks = [d for d in ctx.program.decls if isinstance(d, (ir.ControlDecl, ir.ParserDecl))]
    actions = [a for a in ir.walk(ctx.program) if isinstance(a, ir.ActionDecl)]
    # UniqueParameters: every action's parameters renamed (the names as written then unused,
    # unless something else has them)
    params = {id(p) for a in actions for p in a.params}
    unique = {id(p): new_name(p.name) for a in actions for p in a.params}
    used = program_names(lambda n: (isinstance(n, ir.Param) and id(n) in params)
                         or (isinstance(n, ir.PathExpr) and id(n.decl) in params)) \
        | set(unique.values()) | set(ordering.values())
    counters.clear()
    copies: dict[tuple[int, str], str] = {}
    applies = _applies(ctx.program)
    for d in blocks:  # (Inline: an instance applied with other arguments elsewhere: one copy each)
        for n in ir.walk(d):
            if isinstance(n, ir.MethodCall) and n.kind in (ir.CallKind.CONTROL_APPLY, ir.CallKind.PARSER_APPLY) \
                    and isinstance(n.decl, (ir.ControlDecl, ir.ParserDecl)):
                bound = {id(a.param) for a in n.args if a.param is not None}
                copied = len(applies.get(_instance(n), ())) > 1
                for p in n.decl.params:
                    if p.direction is not None and (copied or id(p) not in bound):
                        key = (_instance(n), p.name) if copied and id(p) in bound else (id(n), p.name)
                        if key not in copies:
                            copies[key] = new_name(p.name)
    counters.clear()
    direct = [n for a in actions for n in ir.walk(a.body)
              if isinstance(n, ir.CallStmt) and n.call.kind is ir.CallKind.ACTION
              and isinstance(n.call.decl, ir.ActionDecl)]
    for stmt in direct:
        for p in stmt.call.decl.params:
            copies[(id(stmt.call), p.name)] = new_name(unique.get(id(p), p.name))
    counters.clear()
    names: dict[str, str] = {}
    for params, dead in inlined.calls:
        if dead:
            continue
        for renamed, name in params:
            new = new_name(name)
            if renamed is not None:
                names[renamed] = new
    return names, copies, ordering


def _instance(call: ir.MethodCall) -> int | None:
    """id of the instance (or control) a control's apply call names."""
    target = call.target
    if isinstance(target, ir.Member) and target.member == "apply":
        target = target.expr
    return id(target.decl) if isinstance(target, ir.PathExpr) and target.decl is not None else None


def _text(e) -> str | None:
    return None if e is None else node_text(e)


def _kind(message: str) -> str | None:
    """The def-use kind of a warning's message."""
    if message.startswith("accessing a field of"):
        return INVALID_HEADER
    if message.endswith(("may be uninitialized", "may not be completely initialized")):
        return UNINITIALIZED
    return None


def _silenced(node) -> set[str]:
    """The kinds `@noWarn` silences inside a declaration, parser state or block."""
    return {a.args[0] for a in getattr(node, "annotations", ()) if a.name == "noWarn" and a.args}


def _leaves(t, path: Location, untracked: set, depth: int = 0) -> list[Location]:
    """The locations p4c tracks under storage of type `t` (none: not tracked; in a header, only
    its fields of a base type; nothing in an `untracked` type)."""
    if id(t) in untracked:
        return []
    if isinstance(t, _BASE + _WHOLE):
        return [path]
    if _is_header(t):
        return [(*path, f.name) for f in t.fields if isinstance(f.type, _BASE)]
    if isinstance(t, ir.StructLike) and t.kind in ("struct", "header_union") and depth < 16:
        return [leaf for f in t.fields for leaf in _leaves(f.type, (*path, f.name), untracked, depth + 1)]
    if _stack_followed(t):
        return [leaf for i in range(t.size) for leaf in _leaves(t.elem, (*path, i), untracked, depth + 1)]
    return []


def _headers(t, path: Location, untracked: set, depth: int = 0) -> list[tuple[Location, bool]]:
    """The headers under storage of type `t`, each with whether it is a header union (whose
    members are headers too; none in an `untracked` type)."""
    if id(t) in untracked:
        return []
    if _is_header(t):
        return [(path, False)]
    if isinstance(t, ir.StructLike) and t.kind == "header_union":
        return [(path, True)] + [((*path, f.name), False) for f in t.fields if _is_header(f.type)]
    if isinstance(t, ir.StructLike) and t.kind == "struct" and depth < 16:
        return [h for f in t.fields for h in _headers(f.type, (*path, f.name), untracked, depth + 1)]
    if _stack_followed(t):
        return [h for i in range(t.size) for h in _headers(t.elem, (*path, i), untracked, depth + 1)]
    return []


def _stack_followed(t) -> bool:
    """A stack of headers or unions, element by element (one too big to be real is not
    followed: the switch refuses it, with its own error)."""
    return isinstance(t, StackType) and t.size <= _MAX_STACK and isinstance(t.elem, ir.StructLike) \
        and t.elem.kind in ("header", "header_union")


def _is_header(t) -> bool:
    return isinstance(t, ir.StructLike) and t.kind == "header"


@dataclass
class _Ref:
    """An expression as a location: its storage, the path under it, its text."""

    location: Location
    text: str | None


def _ref(e: ir.Expr | None, roots: dict[int, ir.Node], shown: dict[str, str],
         alias: dict | None = None, locals_: dict | None = None) -> _Ref | None | bool:
    """The location `e` names (a variable or parameter, then fields and constant indexes);
    None if it names none, False if it names one imprecisely (a run-time index)."""
    found = _pattern(e, roots, shown, alias, locals_)
    return False if isinstance(found, _Ref) and None in found.location else found


def _pattern(e: ir.Expr | None, roots: dict[int, ir.Node], shown: dict[str, str],
             alias: dict | None = None, locals_: dict | None = None) -> _Ref | None | bool:
    """The location `e` names, None for each index known only at run time (any element: also
    a stack's `next` and `last`), and p4c's text of it (None if p4c prints an index otherwise;
    `shown`: the names as written of what the front end renamed). None if `e` names no
    variable or parameter followed; False for a stack's `lastIndex` or `size` (no location).
    `alias`: the parameters of an inlined control, each the argument's `_Ref` it stands for;
    `locals_`: id(a local variable) -> the name p4c's UniqueNames gave it (an index of
    operators is printed as p4c's dbprint prints it, a renamed local as `a_0/a`)."""
    parts: list = []
    text: list[str | None] = []
    while isinstance(e, (ir.Member, ir.Index)):
        if isinstance(e, ir.Member) and isinstance(e.expr.type, StackType) and e.member in _STACK_MEMBERS:
            if e.member not in ("next", "last"):
                return False if _root(e, roots, alias) is not None else None
            parts.append(None)
            text.append(f".{e.member}")
        elif isinstance(e, ir.Member):
            parts.append(e.member)
            text.append(f".{e.member}")
        else:
            index = e.index
            parts.append(index.value if isinstance(index, ir.Constant) else None)
            shown_index = str(index.value) if isinstance(index, ir.Constant) else \
                shown.get(index.name, index.name) if isinstance(index, ir.PathExpr) else \
                _index_text(index, locals_) if locals_ is not None else None
            text.append(None if shown_index is None else f"[{shown_index}]")
        e = e.expr
    if isinstance(e, ir.PathExpr) and alias and id(e.decl) in alias:
        base = alias[id(e.decl)]
        printed = None if None in text or base.text is None else base.text + "".join(reversed(text))
        return _Ref((*base.location, *reversed(parts)), printed)
    if not isinstance(e, ir.PathExpr) or id(e.decl) not in roots:
        return None
    printed = None if None in text else shown.get(e.name, e.name) + "".join(reversed(text))
    return _Ref((id(e.decl), *reversed(parts)), printed)


def _index_text(index: ir.Expr, locals_: dict) -> str | None:
    """A run-time index of operators on locals, parameters and constants as p4c's dbprint
    prints it (a local by UniqueNames' name, then its own: `a_0/a + 1`); None otherwise."""
    if not isinstance(index, (ir.Binary, ir.Unary)):
        return None
    paths = []
    for n in ir.walk(index):
        if isinstance(n, ir.PathExpr) and (id(n.decl) in locals_ or isinstance(n.decl, ir.Param)):
            paths.append(n)
        elif not isinstance(n, (ir.Binary, ir.Unary, ir.Constant, ir.Cast)) or \
                isinstance(n, ir.Cast) and n.target is not None:
            return None
    names = [p.name for p in paths]
    try:
        for p in paths:
            if id(p.decl) in locals_:
                p.name = f"{locals_[id(p.decl)]}/{p.name}"
        return node_text(index)
    finally:
        for p, name in zip(paths, names):
            p.name = name


def _root(e: ir.Expr, roots: dict[int, ir.Node], alias: dict | None = None):
    """The id of the variable or parameter `e` is part of (an inlined control's parameter: its
    argument's), None if not followed."""
    while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
        e = e.expr
    if not isinstance(e, ir.PathExpr):
        return None
    if alias and id(e.decl) in alias:
        return alias[id(e.decl)].location[0]
    return id(e.decl) if id(e.decl) in roots else None


def _dead_asks(decl: ir.Node) -> set[int]:
    """The isValid() calls in what p4c's def-use removes as dead: the values given to a local
    variable nothing else reads (its pass repeats until none is left, so after its first
    round they silence no warning about the headers they ask about)."""
    values: dict[int, list[ir.Expr]] = collections.defaultdict(list)  # id(variable) -> its values
    written: set[int] = set()  # ids of the paths an assignment writes
    for n in ir.walk(decl):
        if isinstance(n, ir.VarDecl) and n.init is not None:
            values[id(n)].append(n.init)
        elif isinstance(n, ir.Assign) and isinstance(n.lhs, ir.PathExpr) and isinstance(n.lhs.decl, ir.VarDecl):
            values[id(n.lhs.decl)].append(n.rhs)
            written.add(id(n.lhs))
    dead = {v for v, exprs in values.items() if all(_only_asks(e) for e in exprs)}
    while True:
        inside = {id(n) for v in dead for e in values[v] for n in ir.walk(e)}
        read = {id(n.decl) for n in ir.walk(decl) if isinstance(n, ir.PathExpr)
                and id(n) not in written and id(n) not in inside}
        if not dead & read:
            break
        dead -= read
    return {id(n) for v in dead for e in values[v] for n in ir.walk(e) if isinstance(n, ir.MethodCall)}


def _only_asks(e: ir.Expr) -> bool:
    """No call but isValid() (one with effects keeps its assignment)."""
    return all(n.kind is ir.CallKind.IS_VALID for n in ir.walk(e) if isinstance(n, ir.MethodCall))


def _matches(loc: Location, pattern: Location) -> bool:
    return len(loc) == len(pattern) and all(p == x or p is None and isinstance(x, int)
                                            for p, x in zip(pattern, loc))


def _under(leaf: Location, loc: Location) -> bool:
    return leaf[:len(loc)] == loc


@dataclass
class _Block:
    """The def-use walk of one parser or control: `State`s along the paths, and the header
    validity `hd` p4c's way."""

    ctx: CheckContext
    decl: ir.ControlDecl | ir.ParserDecl
    disabled: set = field(default_factory=set)
    untracked: set = field(default_factory=set)  # ids of the types p4c does not follow
    roots: dict[int, ir.Node] = field(default_factory=dict)  # variables and parameters followed
    unions: set = field(default_factory=set)  # the header unions' locations
    hd: _Headers = field(default_factory=_Headers)
    report: bool = True
    silenced: collections.Counter = field(default_factory=collections.Counter)  # by `@noWarn`, per kind
    calls: int = 0
    returned: list = field(default_factory=list)  # the states at each `return` of the action running
    # the header validity at each `return` of an inlined control (p4c's RemoveReturns has made
    # them flags guarding the rest, so they join at its end); None: not followed
    returned_headers: list | None = None
    # an inlined function's early returns: its flag -> the states where it returned
    function_returned: dict = field(default_factory=dict)
    dead_asks: set = field(default_factory=set)  # ids of the isValid() calls that silence nothing
    # p4c's second def-use run, after its front end inlined controls and actions (`_Second`)
    second: _Second | None = None
    alias: dict = field(default_factory=dict)  # an inlined control's parameters -> its arguments' _Refs
    arguments: dict = field(default_factory=dict)  # id(an inlined control's parameter) -> its argument
    positionless: bool = False  # reading what p4c made with no position (an inlined call's copy-out)
    in_action: int = 0  # actions being run
    ctx_locals: dict | None = None  # id(a local variable) -> its name after p4c's UniqueNames

    def run(self) -> None:
        """The walk of the whole parser or control (none of one with a loop)."""
        if any(isinstance(n, ir.For) for n in ir.walk(self.decl)):
            return
        self.follow_variables(self.decl)
        self.dead_asks = _dead_asks(self.decl)
        state = State()
        for p in self.decl.params:
            state = self.declare(p, state, unwritten=p.direction == "out",
                                 valid=NO if p.direction == "out" else YES)
        self.virtual_methods(state)
        for local in self.decl.locals:
            if isinstance(local, ir.VarDecl):
                state = self.stmt(local, state)
        with self.silence(self.decl):
            if isinstance(self.decl, ir.ControlDecl):
                self.stmt(self.decl.body, state)
            else:
                self.parser(state)

    def virtual_methods(self, state: State) -> None:
        """The abstract methods the block's extern instances implement, each once from the
        block's start (p4c's visitVirtualMethods: when the extern calls them is unknown; the
        block's variables are all unwritten there, their initializers moved into its body)."""
        functions = [f for local in self.decl.locals if isinstance(local, ir.Instance)
                     for f in local.initializer or () if isinstance(f, ir.FunctionDecl)]
        if not functions:
            return
        outer, hd = self.returned, self.hd.clone()
        for local in self.decl.locals:
            if isinstance(local, ir.VarDecl) and id(local) in self.roots:
                state = self.declare(local, state, unwritten=True, valid=NO)
        for f in functions:
            self.returned = []
            begin = state
            for p in f.params:
                begin = self.declare(p, begin, unwritten=p.direction == "out",
                                     valid=NO if p.direction == "out" else YES)
            with self.silence(f):
                self.stmts(f.body.stmts, begin)
        self.returned, self.hd = outer, hd

    def follow_variables(self, node: ir.Node) -> None:
        """The variables declared in `node` that p4c follows: the program's, and those an
        inlined function's were renamed to."""
        declared, inlined = self.ctx.declared_variables, self.ctx.inlined
        for n in ir.walk(node):
            if isinstance(n, ir.VarDecl) and (id(n) in declared or n.name in inlined.written):
                self.roots[id(n)] = n

    def declare(self, d: ir.VarDecl | ir.Param, state: State, unwritten: bool, valid: str) -> State:
        """`d` followed from here: its headers `valid`, its locations unwritten or not."""
        self.roots[id(d)] = d
        untracked = self.untracked
        root = (id(d),)
        for h, union in _headers(d.type, root, untracked):
            self.hd.defs[h] = valid
            self.hd.asked.discard(h)
            if union:
                self.unions.add(h)
        if not unwritten:
            return state
        return replace(state, unwritten=state.unwritten | frozenset(_leaves(d.type, root, untracked)))

    # -- parsers ------------------------------------------------------------------------------
    def parser(self, start: State) -> None:
        """Each state's input is the join of what every transition into it brings (first to a
        fixed point, silent; then once more, reporting)."""
        self.machine(self.decl.states, start, self.hd)
        self.report = True

    def machine(self, parser_states: list, start: State, hd: _Headers) -> tuple[State, _Headers] | None:
        """A parser's states from `start` (see `parser`): what reaches `accept`, None if nothing
        does (reporting in the second pass only if reporting here)."""
        states = {s.name: s for s in parser_states}
        inputs: dict[str, tuple[State, _Headers]] = {"start": (start, hd)}
        report, self.report = self.report, False
        accept: tuple[State, _Headers] | None = None
        todo = ["start"]
        while todo:
            name = todo.pop(0)
            state, hd = inputs[name]
            self.hd = hd.clone()
            outer = self.hd
            outs = self.state(states[name], state)
            self.hd = outer
            for nxt, out in outs:
                if nxt == "accept":
                    accept = (out, self.hd.clone()) if accept is None else \
                        (_join(accept[0], out), accept[1].intersect(self.hd))
                if nxt not in states:
                    continue
                if nxt not in inputs:
                    inputs[nxt] = (out, self.hd.clone())
                    todo.append(nxt)
                    continue
                old_state, old_hd = inputs[nxt]
                new = (_join(old_state, out), old_hd.intersect(self.hd))
                if new[0] != old_state or new[1] != old_hd:
                    inputs[nxt] = new
                    if nxt not in todo:
                        todo.append(nxt)
        self.report = report
        if report:
            for s in parser_states:
                if s.name in inputs:
                    state, self.hd = inputs[s.name]
                    self.state(s, state)
        return accept

    def state(self, s: ir.ParserState, state: State) -> list[tuple[str, State]]:
        with self.silence(s):
            out = self.stmts(s.stmts, state)
            tr = s.transition
            if not out.live or tr is None:
                return []
            if tr.select is None:
                return [(tr.state, out)]
            for key in tr.select.keys:
                out = self.expr(key, out)
            return [(c.state, out) for c in tr.select.cases]

    # -- statements ---------------------------------------------------------------------------
    @property
    def shown(self) -> dict:
        """The names to print for what the front end renamed: as written, or in p4c's second
        run an inlined function's parameters as p4c's InlineFunctions names their copies."""
        return self.second.shown if self.second is not None else self.ctx.inlined.written

    def ref(self, e: ir.Expr | None) -> _Ref | None | bool:
        return _ref(e, self.roots, self.shown, self.alias, self.ctx_locals)

    def matching(self, e: ir.Expr) -> tuple[list[Location], str | None]:
        """The headers `e` may name (every element for a run-time index), and its text."""
        pattern = _pattern(e, self.roots, self.shown, self.alias, self.ctx_locals)
        if not isinstance(pattern, _Ref):
            return [], None
        return [h for h in self.hd.defs if _matches(h, pattern.location)], pattern.text

    def stmts(self, stmts: list[ir.Stmt], state: State) -> State:
        """In order, while some path goes on; an inlined function's paths that returned early
        go on after the statements its flag guards."""
        flags: list[str] = []
        for s in stmts:
            if isinstance(s, ir.VarDecl) and s.name in self.ctx.inlined.flags:
                flags.append(s.name)
            if flags and not self.guarded(s):
                state = self.rejoin(flags, state)
            if state.live:
                state = self.stmt(s, state)
            elif not flags:
                return state
        return self.rejoin(flags, state)

    def guarded(self, s: ir.Stmt) -> bool:
        """`if (!f_0_returned) ...`: what runs if an inlined function did not return yet."""
        return isinstance(s, ir.If) and isinstance(s.cond, ir.Unary) and s.cond.op == "!" \
            and isinstance(s.cond.expr, ir.PathExpr) and s.cond.expr.name in self.ctx.inlined.flags

    def rejoin(self, flags: list[str], state: State) -> State:
        for flag in flags:
            for returned in self.function_returned.pop(flag, ()):
                state = _join(state, returned) if state.live else returned
        return state

    @contextlib.contextmanager
    def silence(self, node):
        """A context where the kinds `@noWarn` on `node` names are not warned about."""
        kinds = _silenced(node)
        self.silenced.update(kinds)
        try:
            yield
        finally:
            self.silenced.subtract(kinds)

    def stmt(self, s: ir.Stmt, state: State) -> State:
        if isinstance(s, ir.VarDecl):
            if id(s) not in self.roots:
                return self.expr(s.init, state) if s.init is not None else state
            if s.name in self.ctx.inlined.params and self.second is not None:  # (copied in: as the argument)
                state = self.declare(s, self.expr(s.init, state), unwritten=False, valid=YES)
                if s.init is not None:
                    self.assigned(_path_to(s), s.init)
                return state
            if s.name in self.ctx.inlined.params:  # (p4c checks a function as called: its headers valid)
                return self.declare(s, self.expr(s.init, state), unwritten=False, valid=YES)
            if s.name in self.ctx.inlined.outs:  # (after the call, p4c's second run knows nothing of it)
                return self.declare(s, state, unwritten=True, valid=UNSET)
            if s.init is not None:
                state = self.expr(s.init, state)
                state = self.declare(s, state, unwritten=False, valid=YES)
                self.assigned(_path_to(s), s.init)
                return state
            return self.declare(s, state, unwritten=True, valid=NO)  # (p4c's ResetHeaders)
        if isinstance(s, ir.Assign) and isinstance(s.rhs, ir.BoolLiteral) and isinstance(s.lhs, ir.PathExpr) \
                and s.lhs.name in self.ctx.inlined.flags:  # an inlined function's early `return`
            self.function_returned.setdefault(s.lhs.name, []).append(state)
            return replace(state, live=False)
        if isinstance(s, ir.Assign) and id(s) in self.ctx.inlined.copy_outs:  # (p4c: the call writes it)
            if self.second is not None and not self.local(s.lhs):
                # p4c's second run: the inlined call's copy-out reads the copy, at no position
                self.positionless, outer = True, self.positionless
                self.read(s.rhs, state)
                self.positionless = outer
            state = self.write(s.lhs, state)
            self.assigned(s.lhs, s.rhs)
            ref = self.ref(s.lhs)
            if isinstance(ref, _Ref) and self.hd.find(ref.location) == UNSET:
                self.hd.update([ref.location], MAYBE)
            return state
        if isinstance(s, ir.Assign):
            state = self.expr(s.rhs, state)
            self.accessed(s.lhs)
            state = self.write(s.lhs, state)
            self.assigned(s.lhs, s.rhs)
            return state
        if isinstance(s, ir.CallStmt):
            return self.call(s.call, state)
        if isinstance(s, ir.Block):
            with self.silence(s):
                return self.stmts(s.stmts, state)
        if isinstance(s, ir.If):
            if self.guarded(s):  # (every path still going has not returned)
                return self.stmt(s.then, state)
            if isinstance(s.cond, ir.BoolLiteral):  # (p4c folds `if (true)` first)
                taken = s.then if s.cond.value else s.else_
                return self.stmt(taken, state) if taken is not None else state
            asked = set(self.hd.asked)
            state = self.expr(s.cond, state)
            after_cond = self.hd.clone()
            then = self.stmt(s.then, state)
            other = state
            if s.else_ is not None:
                self.hd, after_cond = after_cond, self.hd
                other = self.stmt(s.else_, state)
            self.hd = self.hd.intersect(after_cond)
            self.hd.asked = asked
            return _join(then, other)
        if isinstance(s, ir.Switch):
            return self.switch(s, state)
        if isinstance(s, ir.Return):  # ends the action (its state goes on) or the apply block
            if s.value is not None:
                state = self.expr(s.value, state)
            self.returned.append(state)
            if self.returned_headers is not None:
                self.returned_headers.append(self.hd.clone())
            return replace(state, live=False)
        if isinstance(s, ir.Exit):
            return replace(state, live=False)
        return state

    def switch(self, s: ir.Switch, state: State) -> State:
        asked = set(self.hd.asked)
        state = self.expr(s.expr, state)
        taken = _constant_case(s)
        if taken is not None:  # (p4c's front end keeps only the case a constant takes)
            return self.stmts(taken.body.stmts, state) if taken.body is not None else state
        after_expr = self.hd.clone()
        out: State | None = None
        final: _Headers | None = None
        for case in s.cases:
            if case.body is not None:
                self.hd = after_expr.clone()
                end = self.stmts(case.body.stmts, state)
                out = end if out is None else _join(out, end)
                final = self.hd if final is None else final.intersect(self.hd)
        default = any(c.label is None and c.body is not None for c in s.cases)
        if final is not None:
            self.hd = final if default else final.intersect(after_expr)
        self.hd.asked = asked
        if out is None or not default:
            out = state if out is None else _join(out, state)
        return out

    def write(self, lhs: ir.Expr, state: State) -> State:
        """`lhs = ...`: what it names is written (a slice: read first, as p4c reads the rest)."""
        if isinstance(lhs, ir.Slice):
            self.read(lhs.expr, state)
            lhs = lhs.expr
        for e in ir.walk(lhs):
            if isinstance(e, ir.Index):
                self.read(e.index, state)
        ref = self.ref(lhs)
        if ref is False:  # a run-time index: in doubt, all of the stack written
            root = _root(lhs, self.roots, self.alias)
            return replace(state, unwritten=frozenset(leaf for leaf in state.unwritten if leaf[0] != root))
        if ref is None:
            return state
        return replace(state, unwritten=frozenset(leaf for leaf in state.unwritten
                                                  if not _under(leaf, ref.location)))

    def set_header(self, loc: Location, value: str) -> None:
        """A header's validity set; a union member's makes the other members invalid first
        (p4c's HeaderDefinitions::update)."""
        union = loc[:-1]
        if union in self.unions:
            self.hd.update(self.hd.under(union), NO)
            self.hd.update([union], value)
        self.hd.update([loc], value)

    def assigned(self, lhs: ir.Expr, rhs: ir.Expr | None) -> None:
        """The validity of the headers `lhs` holds after `lhs = rhs` (p4c's
        processHeadersInAssignment)."""
        ref = self.ref(lhs)
        if ref is False and _is_header(lhs.type):  # a run-time index: only valid spreads (p4c)
            src = self.ref(rhs)
            value = self.hd.find(src.location) if isinstance(src, _Ref) and _is_header(rhs.type) else None
            if not isinstance(rhs, ir.InvalidHeader) and value in (None, YES):
                self.hd.update(self.matching(lhs)[0], YES)
            return
        if not isinstance(ref, _Ref):
            if ref is False and isinstance(lhs.type, StackType):
                self.all_valid(lhs)
            return
        self.assign(ref.location, rhs, lhs.type)

    def assign(self, loc: Location, rhs: ir.Expr, t) -> None:
        """The headers at `loc` (of type `t`) after `rhs` is assigned to it: p4c's
        processHeadersInAssignment, element by element for a list of a stack's headers."""
        if _is_header(t):
            if isinstance(rhs, ir.InvalidHeader):
                self.set_header(loc, NO)
                return
            value = self.validity(rhs)[0] if _is_header(rhs.type) else None
            self.set_header(loc, value or YES)
        elif loc in self.unions:
            src = self.ref(rhs)
            if isinstance(rhs, ir.InvalidHeader):
                self.hd.update([loc], NO)  # (p4c: the union's own bit only)
            elif isinstance(src, _Ref):
                for h in self.hd.under(loc):
                    if h != loc:
                        self.hd.update([h], self.hd.find((*src.location, *h[len(loc):])) or YES)
                self.hd.update([loc], YES)
            else:
                self.hd.update(self.hd.under(loc), YES)
        elif isinstance(t, StackType) and isinstance(rhs, ir.ListExpr) and _stack_followed(t):
            for i, item in enumerate(rhs.items[:t.size]):
                self.assign((*loc, i), item, t.elem)
        elif isinstance(t, ir.StructLike) and t.kind == "struct" and isinstance(rhs, ir.StructExpr):
            types = {f.name: f.type for f in t.fields}
            for name, value in rhs.fields:
                if name in types:
                    self.assign((*loc, name), value, types[name])
        elif isinstance(t, ir.StructLike) and t.kind == "struct" and isinstance(rhs, ir.ListExpr):
            for f, value in zip(t.fields, rhs.items):  # (p4c: a struct expression by then)
                self.assign((*loc, f.name), value, f.type)
        elif isinstance(t, ir.StructLike) and t.kind == "struct" or isinstance(t, StackType):
            heads = [h for h in self.hd.under(loc) if h != loc]
            src = self.ref(rhs)
            if not isinstance(src, _Ref):  # a call's result: p4c takes every header as valid
                self.hd.update(heads, YES)
                return
            for h in heads:
                self.hd.update([h], self.hd.find((*src.location, *h[len(loc):])) or YES)

    def all_valid(self, e: ir.Expr) -> None:
        """Every header under what `e` names (under every element for a run-time index) valid."""
        ref = self.ref(e)
        locs = [ref.location] if isinstance(ref, _Ref) else self.matching(e)[0] if ref is False else []
        for loc in locs:
            self.hd.update(self.hd.under(loc), YES)

    # -- expressions ----------------------------------------------------------------------------
    def expr(self, e: ir.Expr | None, state: State) -> State:
        """Evaluate `e`: its reads, then the calls in it; the state after it."""
        if e is None:
            return state
        self.read(e, state)
        for call in ir.iter_calls(e):
            state = self.call(call, state, args_read=True)
        return state

    def warn(self, kind: str, e: ir.Expr, message: str) -> None:
        if self.report and kind not in self.disabled and not self.silenced[kind]:
            if self.second is not None:
                self.second.found.append((kind, self.where(e), message))
            elif e.pos is None or not any(w.pos == e.pos and _kind(w.message) == kind for w in self.ctx.warnings):
                self.ctx.warn(e.pos, message)  # (p4c's reporter: one warning of a kind at a position)

    def local(self, e: ir.Expr) -> bool:
        """Whether `e` is part of an action's or function's own variable or directionless
        parameter (p4c's InlineFunctions passes such an argument to an out parameter in place,
        with no copy; the action's other parameters are the control's variables by then)."""
        while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
            e = e.expr
        return isinstance(e, ir.PathExpr) and (id(e.decl) in self.second.action_locals
                                              or e.name in self.ctx.inlined.written)

    def where(self, e: ir.Expr):
        """Where p4c reports on `e`: an inlined control's parameter is its argument there."""
        if self.positionless:
            return None
        if isinstance(e, ir.PathExpr) and id(e.decl) in self.arguments:
            return self.arguments[id(e.decl)].pos
        return e.pos

    def accessed(self, e: ir.Expr) -> None:
        """A field of each header in the chain `e` is accessed: warn if it may be invalid."""
        while isinstance(e, (ir.Member, ir.Index, ir.Slice)):
            if isinstance(e, ir.Member) and _is_header(e.expr.type):
                value, text = self.validity(e.expr)
                if value in (NO, UNSET, MAYBE) and text:
                    what = "a potentially invalid" if value == MAYBE else "an invalid"
                    at = e.expr if isinstance(e.expr, ir.PathExpr) and id(e.expr.decl) in self.arguments else e
                    self.warn(INVALID_HEADER, at, f"accessing a field of {what} header {text}")
            e = e.expr

    def validity(self, e: ir.Expr) -> tuple[str | None, str | None]:
        """The validity of the header `e` (None if not followed) and p4c's text of it (None
        if p4c prints it otherwise)."""
        ref = self.ref(e)
        if isinstance(ref, _Ref):
            return self.hd.find(ref.location), ref.text
        # a run-time index: valid if any element is (p4c's find of a location set)
        locs, text = self.matching(e) if ref is False else ([], None)
        values = {self.hd.find(loc) for loc in locs}
        return (YES if YES in values or None in values else MAYBE if MAYBE in values
                else NO if values else None), text  # (UNSET: only whole, never by index)

    def read(self, e: ir.Expr | None, state: State) -> None:
        """Warn for each read in `e` of what may still be unwritten or a field of a header that
        may be invalid (calls: their arguments)."""
        if e is None or not state.live:
            return
        if isinstance(e, ir.MethodCall):
            self.read_args(e, state)
            return
        if isinstance(e, ir.Slice):
            self.read(e.expr, state)
            return
        if isinstance(e, ir.Member) and isinstance(e.expr, ir.MethodCall):  # t.apply().hit
            self.read(e.expr, state)
            return
        self.accessed(e)
        ref = self.ref(e)
        if isinstance(ref, _Ref):
            self.unwritten(e, ref, state)
            return
        if ref is False:
            return
        if isinstance(e, (ir.Member, ir.Index)):
            self.read(e.expr, state)
            if isinstance(e, ir.Index):
                self.read(e.index, state)
            return
        for name in ("expr", "left", "right", "cond", "then", "else_", "value", "mask", "lo", "hi"):
            child = getattr(e, name, None)
            if isinstance(child, ir.Expr):
                self.read(child, state)
        for item in getattr(e, "items", None) or []:
            self.read(item, state)
        for _, item in getattr(e, "fields", None) or []:
            self.read(item, state)

    def unwritten(self, e: ir.Expr, ref: _Ref, state: State) -> None:
        unwritten = [leaf for leaf in state.unwritten if _under(leaf, ref.location)]
        if not unwritten:
            return
        t = e.type
        if isinstance(t, _BASE):
            self.warn(UNINITIALIZED, e, f"{ref.text} may be uninitialized")
        elif isinstance(t, ir.StructLike):
            fields = [f for f in t.fields if any(_under(leaf, (*ref.location, f.name)) for leaf in unwritten)]
            if t.kind == "header_union" and len(fields) < len(t.fields):
                return  # (p4c: a union with one member written is written)
            for f in fields:
                self.warn(UNINITIALIZED, e, f"{ref.text}.{f.name} may be uninitialized")
        elif isinstance(t, StackType) and isinstance(t.elem, ir.StructLike) and t.elem.kind == "header_union":
            if any(all(any(_under(leaf, (*ref.location, i, f.name)) for leaf in unwritten) for f in t.elem.fields)
                   for i in range(t.size)):  # (p4c: an element with no member written)
                self.warn(UNINITIALIZED, e, f"{ref.text} may not be completely initialized")
        elif isinstance(t, (StackType,) + _WHOLE):
            self.warn(UNINITIALIZED, e, f"{ref.text} may not be completely initialized")

    # -- calls ------------------------------------------------------------------------------------
    def read_args(self, call: ir.MethodCall, state: State) -> None:
        if call.kind in (ir.CallKind.IS_VALID, ir.CallKind.SET_VALID, ir.CallKind.SET_INVALID,
                         ir.CallKind.PUSH_FRONT, ir.CallKind.POP_FRONT):
            return
        for arg in call.args:
            if arg.param is None and call.kind is not ir.CallKind.ACTION:
                continue  # (unresolved: in doubt, not read)
            if arg.param is None or arg.param.direction != "out":
                self.read(arg.value, state)

    def call(self, call: ir.MethodCall, state: State, args_read: bool = False) -> State:
        """Run `call` from `state`: its in arguments read, its body (an action's, a table's
        actions'), then its out arguments written."""
        if self.second is not None and call.kind in (ir.CallKind.CONTROL_APPLY, ir.CallKind.PARSER_APPLY):
            inline = self.inline_control if call.kind is ir.CallKind.CONTROL_APPLY else self.inline_parser
            inlined = inline(call, state)  # (its arguments substituted or copied: none read here)
            if inlined is not None:
                return inlined
        if not args_read:
            self.read_args(call, state)
        target = call.target  # (the checker leaves the header or stack a built-in method is of)
        if call.kind in (ir.CallKind.SET_VALID, ir.CallKind.SET_INVALID) and target is not None:
            ref = self.ref(target)
            if isinstance(ref, _Ref):
                self.set_header(ref.location, YES if call.kind is ir.CallKind.SET_VALID else NO)
            elif ref is False and call.kind is ir.CallKind.SET_VALID:  # (p4c invalidates no element)
                self.hd.update(self.matching(target)[0], YES)
            return state
        if call.kind is ir.CallKind.IS_VALID and target is not None:
            if id(call) in self.dead_asks:
                return state
            ref = self.ref(target)
            locs = [ref.location] if isinstance(ref, _Ref) else self.matching(target)[0] if ref is False else []
            for loc in locs:
                self.hd.asked.update(self.hd.under(loc) if loc in self.unions else [loc])
            return state
        if call.kind in (ir.CallKind.PUSH_FRONT, ir.CallKind.POP_FRONT) and target is not None:
            self.all_valid(target)
            return self.write(target, state)
        if call.kind is ir.CallKind.ACTION and isinstance(call.decl, ir.ActionDecl):
            return self.action(call.decl, state, call.args, call=call if self.second is not None else None)
        if call.kind is ir.CallKind.TABLE_APPLY:
            return self.table(call, state)
        for arg in call.args:  # an extern's, a parser's or a control's: out headers valid
            if arg.param is not None and arg.param.direction in ("out", "inout") and arg.value is not None:
                self.accessed(arg.value)  # (p4c visits it again, as written: a field's header)
                state = self.write(arg.value, state)
                ref = self.ref(arg.value)
                if _is_header(arg.value.type) and isinstance(ref, _Ref):
                    self.set_header(ref.location, YES)
                else:
                    self.all_valid(arg.value)
        return state

    def action(self, action: ir.ActionDecl, state: State, args: list[ir.Argument] = (),
               call: ir.MethodCall | None = None) -> State:
        """An action's body from `state` (its parameters bound to `args`), then its out
        arguments written; a path through it that exits ends. `call`: the call of an action
        called directly in p4c's second run, where its front end has inlined the body in place
        (what it does to header validity reaches the caller whole; its parameters are copies
        of p4c's names, an out one copied out at no position)."""
        inlined = call is not None and self.in_action > 0  # (p4c's InlineActions: calls in actions)
        copies = {p.name: self.second.copies.get((id(call), p.name)) for p in action.params} if inlined else {}
        self.calls += 1
        if self.calls > 2000:  # (a pathological program: stop following actions, in doubt silent)
            self.report = False
            return state
        bound = {id(a.param): a.value for a in args if a.param is not None}
        if action not in self.decl.locals:  # a top-level action: its variables followed too
            self.follow_variables(action)
        outer_alias = self.alias
        for p in action.params:
            arg = bound.get(id(p))
            state = self.declare(p, state, unwritten=p.direction == "out",
                                 valid=NO if p.direction == "out" else YES)
            if p.direction != "out" and arg is not None:
                self.assigned(_path_to(p), arg)
            if copies.get(p.name) is not None and p.direction is not None:
                self.alias = {**self.alias, id(p): _Ref((id(p),), copies[p.name])}
        outer, self.returned = self.returned, []
        outer_headers, self.returned_headers = self.returned_headers, None
        caller = self.hd
        self.in_action += 1
        with self.silence(action):
            out = self.stmts(action.body.stmts, state)
        self.in_action -= 1
        if not inlined:
            self.hd = caller  # (what the body did after rebinding its own stays there)
        for r in self.returned:
            out = _join(out, replace(r, live=True)) if out.live else replace(r, live=True)
        self.returned, self.returned_headers = outer, outer_headers
        for p in action.params:
            arg = bound.get(id(p))
            if p.direction in ("out", "inout") and arg is not None and out.live:
                if p.direction == "out" and inlined:  # p4c's InlineActions copies it out, at no position
                    self.positionless, positionless = True, self.positionless
                    self.read(_path_to(p), out)
                    self.positionless = positionless
                elif p.direction == "out":  # p4c's RemoveActionParameters copies p out: a read
                    self.read(_path_to(p), out)
                self.accessed(arg)
                out = self.write(arg, out)
                self.assigned(arg, _path_to(p))
        self.alias = outer_alias
        return out

    def inline_control(self, call: ir.MethodCall, state: State) -> State | None:
        """p4c's second run: a control applied here runs its body in place, each parameter
        the argument p4c's Inline substitutes for it (an out one's headers reset invalid).
        None where p4c copies the arguments into fresh variables instead (arguments that
        overlap, or an instance applied with other arguments elsewhere), or the control
        has a loop: then the call is taken as the first run takes it."""
        callee, instance = call.decl, _instance(call)
        if not isinstance(callee, ir.ControlDecl) or instance is None or self.second.depth > 16:
            return None
        if len(self.second.applies.get(instance, ())) > 1 or \
                any(isinstance(n, ir.For) for n in ir.walk(callee)):
            return None
        alias, arguments, values = {}, {}, []
        for arg in call.args:
            p = arg.param
            if p is None or p.direction is None:
                continue
            ref = self.ref(arg.value) if arg.value is not None else None
            if p.direction == "in" and ref is None and arg.value is not None:  # a value: substituted
                inner = {id(n.expr) for n in ir.walk(arg.value) if isinstance(n, (ir.Member, ir.Index))}
                values += [r.location for n in ir.walk(arg.value)
                           if id(n) not in inner and isinstance(r := self.ref(n), _Ref)]
                continue
            if not isinstance(ref, _Ref):
                return None
            alias[id(p)], arguments[id(p)] = ref, arg.value
        bound = {id(a.param) for a in call.args if a.param is not None}
        optional = [p for p in callee.params if p.direction is not None and id(p) not in bound]
        if any((id(call), p.name) not in self.second.copies for p in optional):
            return None
        locations = [a.location for a in alias.values()]
        if any(_under(a, b) for i, a in enumerate(locations) for j, b in enumerate(locations) if i != j) or \
                any(_under(a, b) or _under(b, a) for a in locations for b in values):
            return None  # (p4c: arguments whose locations overlap are copied)
        for arg in call.args:  # (substituted: nothing read here)
            if arg.param is not None and arg.param.direction == "out":
                self.hd.update(self.hd.under(alias[id(arg.param)].location), NO)  # (p4c's resets)
        for p in optional:  # an @optional parameter given no argument: a fresh variable of p4c's, at p
            state = self.declare(p, state, unwritten=True, valid=NO)
            alias[id(p)], arguments[id(p)] = _Ref((id(p),), self.second.copies[(id(call), p.name)]), p
        outer = self.returned, self.returned_headers
        self.returned, self.returned_headers = [], []
        try:
            with self.inlining(callee, alias, arguments), self.silence(callee):
                out = self.stmts(callee.body.stmts, self.declare_locals(callee, state))
            for r in self.returned:
                out = _join(out, replace(r, live=True)) if out.live else replace(r, live=True)
            for hd in self.returned_headers:
                asked = self.hd.asked
                self.hd = self.hd.intersect(hd)
                self.hd.asked = asked & hd.asked
        finally:
            self.returned, self.returned_headers = outer
        return out

    @contextlib.contextmanager
    def inlining(self, callee, alias: dict, arguments: dict):
        """The second run walking `callee` (a control or parser) in place: its parameters
        stand for the argument locations `alias` gives, its variables followed afresh."""
        outer = self.alias, self.arguments
        self.alias, self.arguments = {**self.alias, **alias}, {**self.arguments, **arguments}
        self.second.depth += 1
        self.dead_asks |= _dead_asks(callee)
        try:
            self.follow_variables(callee)
            yield
        finally:
            self.second.depth -= 1
            self.alias, self.arguments = outer

    def declare_locals(self, callee, state: State) -> State:
        for local in callee.locals:
            if isinstance(local, ir.VarDecl):
                state = self.stmt(local, state)
        return state

    def inline_parser(self, call: ir.MethodCall, state: State) -> State | None:
        """p4c's second run: a parser applied here runs its states in place (Inline), each
        parameter the argument, or, for an instance applied with other arguments elsewhere,
        a fresh variable of p4c's (copied in, out ones' headers reset; at the parameter where
        p4c reports on it), copied out where the callee accepts. None where p4c's
        SideEffectOrdering copies overlapping arguments first, or the parser has a loop."""
        callee, instance = call.decl, _instance(call)
        if not isinstance(callee, ir.ParserDecl) or instance is None or self.second.depth > 16 \
                or any(isinstance(n, ir.For) for n in ir.walk(callee)):
            return None
        copied = len(self.second.applies.get(instance, ())) > 1
        alias, arguments, refs, temps, ordered = {}, {}, [], [], []
        for arg in call.args:
            p = arg.param
            if p is None or p.direction is None:
                continue
            name = self.second.ordering.get((id(call), p.name))
            if name is not None and not copied:  # (SideEffectOrdering's copy of an overlapping argument)
                ordered.append((p, arg.value, name))
                continue
            ref = self.ref(arg.value) if arg.value is not None else None
            if isinstance(ref, _Ref):
                refs.append(ref.location)
            if copied:
                name = self.second.copies.get((instance, p.name))
                if name is None:
                    return None
                temps.append((p, arg.value, name))
            elif isinstance(ref, _Ref):
                alias[id(p)], arguments[id(p)] = ref, arg.value
            else:
                return None
        if any(_under(a, b) for i, a in enumerate(refs) for j, b in enumerate(refs) if i != j):
            return None
        # Inline's copies (in at the call, out where it accepts, read at the parameter) and
        # SideEffectOrdering's (copied in before the call, back after it, at no position)
        for copies, read_at in ((temps, None), (ordered, _NOWHERE)):
            for p, value, name in copies:
                state = self.declare(p, state, unwritten=p.direction == "out",
                                     valid=NO if p.direction == "out" else YES)
                if p.direction != "out" and value is not None:
                    self.read(value, state)
                    self.assigned(_path_to(p), value)
                alias[id(p)], arguments[id(p)] = _Ref((id(p),), name), p if read_at is None else read_at
        for arg in call.args:
            if arg.param is not None and arg.param.direction == "out" and id(arg.param) in alias and not copied:
                self.hd.update(self.hd.under(alias[id(arg.param)].location), NO)  # (p4c's resets)
        with self.inlining(callee, alias, arguments):
            with self.silence(callee):
                state = self.declare_locals(callee, state)
                caller = self.hd
                accept = self.machine(callee.states, state, self.hd.clone())
                self.hd = caller
            if accept is None:
                return replace(state, live=False)
            # (p4c: the states after the call start from what accepted: in place of the caller's)
            state, self.hd.defs, self.hd.asked = accept[0], dict(accept[1].defs), set(accept[1].asked)
            for p, value, _name in temps + ordered:
                if p.direction in ("out", "inout") and value is not None:
                    self.positionless, positionless = any(p is q for q, _, _ in ordered), self.positionless
                    self.read(_path_to(p), state)
                    self.positionless = positionless
                    state = self.write(value, state)
                    self.assigned(value, _path_to(p))
        return state

    def table(self, call: ir.MethodCall, state: State) -> State:
        """The key read, then each action from there; the caller's header validity is what
        the key left (p4c applies a table in a visitor of its own)."""
        table = call.decl
        if not isinstance(table, ir.TableDecl):
            return state
        caller = self.hd
        for key in table.keys:
            state = self.expr(key.expr, state)
        after_key = self.hd.clone()
        refs = list(table.actions) + ([table.default_action] if table.default_action else [])
        out: State | None = None
        for ref in refs:
            if isinstance(ref.decl, ir.ActionDecl):
                self.hd = after_key.clone()
                end = self.action(ref.decl, state, ref.args)
                out = end if out is None else _join(out, end)
        self.hd = caller
        return state if out is None else out


def _path_to(d: ir.Node) -> ir.PathExpr:
    """An expression naming a variable or parameter (for an assignment p4c makes)."""
    return ir.PathExpr(d.name, decl=d, type=d.type, pos=d.pos)


def _constant_case(s: ir.Switch) -> ir.SwitchCase | None:
    """The case (with the body it falls through to) a constant `switch` expression takes; an
    empty case if none does; None if the expression or a label is not constant."""
    value = _constant(s.expr)
    if value is None:
        return None
    labels = [_constant(c.label) if c.label is not None else None for c in s.cases]
    if any(v is None and c.label is not None for v, c in zip(labels, s.cases)):
        return None
    hit = next((i for i, (v, c) in enumerate(zip(labels, s.cases)) if c.label is not None and v == value),
               next((i for i, c in enumerate(s.cases) if c.label is None), None))
    taken = next((c for c in s.cases[hit:] if c.body is not None), None) if hit is not None else None
    return taken or ir.SwitchCase(label=None, body=None)


def _constant(e: ir.Expr | None):
    if isinstance(e, (ir.Constant, ir.BoolLiteral)):
        return e.value
    if isinstance(e, ir.EnumMember):
        return e.value if e.value is not None else (id(e.enum), e.member)
    return None
