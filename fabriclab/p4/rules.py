"""Front-end passes that check rules over the whole checked program (after the type check).

Each is a pass for `passes.PassManager`: a `name` and `run(ctx)` that raises `CompileError`
or adds warnings to `ctx`.
"""

from __future__ import annotations

import copy

from fabriclab.p4 import ir, liveness
from fabriclab.p4.consteval import literal_text
from fabriclab.p4.diagnostics import CompileError
from fabriclab.p4.bmv2_rules import check_simple_switch, is_v1switch
from fabriclab.p4.checker import unreachable_accept
from fabriclab.p4.p4c_text import external_name, node_text
from fabriclab.p4.typecheck import CheckContext, error, substitute


NO_MAIN = "Program does not contain a `main' module (no 'main' package instance, e.g. V1Switch(...) main;)"  # p4c's words first


class MainPackage:
    """Pass: find the package instance `main` (e.g. `V1Switch(...) main;`). As p4c, a
    program without one is only warned about (a library of declarations): its P4Info is
    empty and a target refuses to run it."""

    name = "main-package"

    def run(self, ctx: CheckContext) -> None:
        main = ctx.global_scope.values.get("main")
        if main is None and "main" in ctx.global_scope.types:
            main = ctx.global_scope.types["main"]
        if main is None:
            ctx.warn(None, NO_MAIN)
            return
        if not isinstance(main, ir.Instance):  # e.g. `extern main {}`: the name is taken
            raise error((main[0] if isinstance(main, list) else main).pos, "main: must be a package declaration")
        if ir.block_kind(main.type) != "package":
            raise error(main.pos, f"{main.type_ref.name or 'main'}: expected package declaration")
        ctx.program.main = main
        for arg in main.args:
            _nested_blocks(arg.value, None, arg.param or arg)
        for arg in main.args:  # p4c names a top-level block by its type name, ignoring its @name
            value = arg.value.decl if isinstance(arg.value, ir.PathExpr) else arg.value
            block = getattr(value, "type", None)
            if isinstance(block, (ir.ControlDecl, ir.ParserDecl)):
                block.annotations = [a for a in block.annotations if a.name != "name"]


class MidEndParsers:
    """Pass: p4c's mid end runs SimplifyParsers again on the parsers main gets, once sub-parsers
    are inlined: each that never accepts is warned about (again, if its own states never do)."""

    name = "mid-end-parsers"

    def run(self, ctx: CheckContext) -> None:
        for _, block in liveness.main_blocks(ctx.program.main):
            if isinstance(block, ir.ParserDecl) and id(block) in ctx.never_accepting:
                ctx.warn(block.pos, unreachable_accept(block), once=False)


def _nested_blocks(value: ir.Expr | ir.Instance | None, outer: str | None, where: ir.Node) -> None:
    """Walk the instances `main` makes (constructor arguments and local instances): a parser
    runs inside parsers and a control inside controls only (p4c inlines them into their
    caller; a parser cannot be inlined into a control, nor a control into a parser). `where`
    names the instance: the parameter it is bound to, or the instance itself."""
    if isinstance(value, ir.PathExpr) and isinstance(value.decl, ir.Instance):
        value = value.decl
    if not isinstance(value, (ir.ConstructorCall, ir.Instance)):
        return
    kind = ir.block_kind(value.type)
    if kind in ("parser", "control") and outer in ("parser", "control") and kind != outer:
        name = getattr(where, "name", None) or value.text
        raise error(where.pos, f"{name}: instantiation of {kind} in {outer}")
    inner = kind if kind in ("parser", "control") else outer
    for arg in value.args:
        _nested_blocks(arg.value, inner, arg.param if arg.param is not None and arg.param.pos else arg)
    block = value.type.base if isinstance(value.type, ir.SpecializedType) else value.type
    if isinstance(block, (ir.ParserDecl, ir.ControlDecl)):
        for local in block.locals:
            if isinstance(local, ir.Instance):
                _nested_blocks(local, kind, local)


class EntryPriorities:
    """Pass: the priorities of tables' `entries` (p4c's EntryPriorities), table by table."""

    name = "entry-priorities"

    def run(self, ctx: CheckContext) -> None:
        for t in _tables(ctx.program):
            if t.entries:
                _entry_priorities(ctx, t)


class UnusedTables:
    """Pass: tables a control never applies are removed (from P4Info too), which p4c's front
    end reports as an info, by the table's external name: "removing table 't'"."""

    name = "unused-tables"

    def run(self, ctx: CheckContext) -> None:
        for decl in ctx.program.decls:
            if isinstance(decl, ir.ControlDecl):
                applied = ir.applied_tables(decl)
                for local in decl.locals:
                    if isinstance(local, ir.TableDecl) and local not in applied:
                        ctx.info(local.pos, f"removing table '{external_name(local)}'")


def _tables(program: ir.Program) -> list[ir.TableDecl]:
    return [local for decl in program.decls if isinstance(decl, ir.ControlDecl)
            for local in decl.locals if isinstance(local, ir.TableDecl)]


def _entry_priorities(ctx: CheckContext, t: ir.TableDecl) -> None:
    """Entry priorities as p4c's EntryPriorities pass (P4-16 spec): `const entries` take no
    `priority =` (their order decides, as in BMv2; `@priority(n)` is honoured); in other
    entries a missing priority continues from the previous one by `priority_delta`,
    downwards if `largest_priority_wins` (the default), and without any priority the
    last entry gets 1 (or the first, if the smallest wins). Entries out of priority order are
    put in order, as p4c's front end does (the order its back ends and P4Runtime files see)."""
    explicit = next((e for e in t.entries if e.priority is not None), None)
    if t.entries_const:
        if explicit is not None:
            raise error(explicit.pos, "Table with 'const' entries cannot have priorities")
        for entry in t.entries:
            anno = ir.find_annotation(entry.annotations, "priority")
            if anno is not None:
                if not anno.args or not isinstance(anno.args[0], int):
                    raise error(anno.pos, "@priority needs an integer argument")
                entry.priority = anno.args[0]
        return
    wins = t.get_property("largest_priority_wins")
    if wins is not None:
        if not isinstance(wins.value, ir.BoolLiteral):
            raise error(wins.pos, "largest_priority_wins must be true or false")
        t.largest_priority_wins = wins.value.value
    delta_prop = t.get_property("priority_delta")
    delta = 1
    if delta_prop is not None:
        if not isinstance(delta_prop.value, ir.Constant) or delta_prop.value.value < 0:
            raise error(delta_prop.pos, "priority_delta must be a positive value")
        delta = delta_prop.value.value
    entries = t.entries
    if explicit is None:
        order = reversed(entries) if t.largest_priority_wins else entries
        for i, entry in enumerate(order):
            entry.priority = 1 + i * delta
        return
    if all(k.match_kind in ("exact", "lpm") for k in t.keys):
        key_pos = next((pos for name, pos in t.layout if name == "key" and pos is not None), explicit.pos)
        raise error(key_pos, f"Key key match type does not require priorities, but some are specified\n"
                             f"(the key of table '{t.name}')")  # (p4c's words, naming its IR class)
    if entries[0].priority is None:
        raise error(entries[0].pos, f"Entry entry must have a priority\n(the first entry of table '{t.name}')")
    quiet = {a.args[0] for a in t.entries_annotations if a.name == "noWarn" and a.args}
    # p4c's warnings (EntryPriorities), on the earlier entry and in its words ("Entry and
    # Entry ..."), then which entries: a duplicate once per earlier entry, the order once per table
    used: dict[int, ir.Entry] = {}
    warned: set[int] = set()
    previous, out_of_order = None, False
    for before, entry in zip([None, *entries], entries):
        if entry.priority is None:
            entry.priority = previous + (-delta if t.largest_priority_wins else delta)
            if entry.priority < 0:
                raise error(t.pos, f"{t.name} Overflow in priority computation")  # (p4c's words)
        first = used.get(entry.priority)
        if first is not None and "duplicate-priorities" not in quiet and id(first) not in warned:
            warned.add(id(first))  # (p4c's reporter drops a repeat on the same entry)
            ctx.warn(first.pos, f"Entry and Entry have the same priority {entry.priority}\n(table '{t.name}', "
                                f"entries at lines {_line(first)} and {_line(entry)})")
        if before is not None and not out_of_order and \
                (entry.priority > previous if t.largest_priority_wins else entry.priority < previous):
            if "entries-out-of-priority-order" not in quiet:
                ctx.warn(before.pos, f"Entry (priority {previous}) and Entry (priority {entry.priority}) have "
                                     f"priorities out of order\n(table '{t.name}', entries at lines "
                                     f"{_line(before)} and {_line(entry)})")
            out_of_order = True
        used.setdefault(entry.priority, entry)
        previous = entry.priority
    if out_of_order:  # p4c's front end sorts them (std::sort: stable at these sizes, < 17)
        t.entries.sort(key=lambda e: -e.priority if t.largest_priority_wins else e.priority)


def _line(entry: ir.Entry) -> str:
    return str(entry.pos.line) if entry.pos is not None else "?"



class TargetRestrictions:
    """Pass: what p4c's mid end (for BMv2, and p4test) cannot compile: the errors the checking
    left to it (ctx.midend_errors); in the instantiated program (the blocks main gets and the
    actions they use; p4c removed the rest):
    switch statements in actions; extern calls with an out/inout parameter of a nested
    struct type; and, for the parameters of the top-level blocks whose types are the
    package's nested struct type arguments (flattened to their fields), writes of a whole
    struct-typed field by an extern (an out/inout argument, or an extern result assigned).
    (What p4c's BMv2 back end rejects comes after the mid end: SimpleSwitchBackEnd.)"""

    name = "target-restrictions"

    def run(self, ctx: CheckContext) -> None:
        if ctx.midend_errors:
            raise CompileError(ctx.midend_errors[:1])
        main = ctx.program.main
        if main is None:
            return
        blocks = liveness.pipeline_blocks(main)
        actions = liveness.used_actions(blocks)
        for action in actions:
            for stmt in _statements(action.body):
                if isinstance(stmt, ir.Switch) and not stmt.is_action_run:
                    raise error(stmt.pos, "SwitchStatement: switch statements not supported in actions on this "
                                          "target")  # (p4c's words, naming its IR class)
        bodies: list = [b.body if isinstance(b, ir.ControlDecl) else b.states for b in blocks]
        bodies += [a.body for a in actions]
        for call in (c for body in bodies for c in ir.iter_calls(body)):
            if call.kind not in (ir.CallKind.EXTERN_METHOD, ir.CallKind.EXTERN_FUNCTION):
                continue
            for arg in call.args:
                param = arg.param
                if param is None or param.direction not in ("out", "inout"):
                    continue
                ptype = arg.value.type if arg.value is not None else param.type
                if _nested_struct(ptype, lambda t: isinstance(t, (ir.StructLike, ir.TupleType, ir.StackType))):
                    raise error(call.pos, f"{_split_locals_text(call)}: extern functions with 'out' nested struct argument "
                                          f"({param.name}) not supported")
        flattened = _flattened_params(main)
        top = [b for b in blocks if any(p in flattened for p in b.params)]
        for block in top:
            local = [a for a in actions if a in block.locals]
            for body in [block.body if isinstance(block, ir.ControlDecl) else block.states] + \
                    [a.body for a in local]:
                _check_struct_writes(body, flattened)


class SimpleSwitchBackEnd:
    """Pass: what p4c's BMv2 back end (p4c-bm2-ss) refuses in a V1Switch program
    (bmv2_rules), after the whole mid end: p4c prints the mid end's warnings and errors first."""

    name = "simple-switch-back-end"

    def run(self, ctx: CheckContext) -> None:
        main = ctx.program.main
        if main is not None:
            blocks = liveness.pipeline_blocks(main)
            check_simple_switch(ctx, blocks, liveness.used_actions(blocks))


def _split_locals_text(call: ir.MethodCall) -> str:
    """`call` as p4c's mid end quotes it: a local variable of a nested struct type, renamed
    `v_0` (UniqueNames) and split into one variable per field (NestedStructs), is passed as
    the struct expression of those (`{ f = v_0_f }`)."""
    shown = copy.copy(call)
    shown.args = [_passing(a, _split_local(a.value)) for a in call.args]
    return node_text(shown)


def _passing(arg: ir.Argument, value: ir.Expr | None) -> ir.Argument:
    """`arg` passing `value` instead, if one is given."""
    if value is None:
        return arg
    other = copy.copy(arg)
    other.value = value
    return other


def _split_local(e: ir.Expr | None) -> ir.StructExpr | None:
    if not (isinstance(e, ir.PathExpr) and isinstance(e.decl, ir.VarDecl) and _is_struct(e.type)
            and any(_is_struct(f.type) or getattr(f.type, "kind", None) == "header" for f in e.type.fields)):
        return None
    return _fields_expr(e.type, f"{e.name}_0")


def _fields_expr(struct: ir.StructLike, prefix: str) -> ir.StructExpr:
    return ir.StructExpr([(f.name, _fields_expr(f.type, f"{prefix}_{f.name}") if _is_struct(f.type)
                           else ir.PathExpr(f"{prefix}_{f.name}")) for f in struct.fields])


def _is_struct(t: ir.Type | None) -> bool:
    return isinstance(t, ir.StructLike) and t.kind == "struct"


def _check_struct_writes(body, flattened: set) -> None:
    def struct_field(e: ir.Expr | None) -> bool:
        if not isinstance(e, ir.Member) or not (isinstance(e.type, ir.StructLike) and e.type.kind == "struct"):
            return False
        root = e
        while isinstance(root, ir.Member):
            root = root.expr
        return isinstance(root, ir.PathExpr) and root.decl in flattened

    for stmt in _statements(body):
        written: list[ir.Expr] = []
        if isinstance(stmt, ir.Assign) and isinstance(stmt.rhs, ir.MethodCall) and \
                stmt.rhs.kind in (ir.CallKind.EXTERN_METHOD, ir.CallKind.EXTERN_FUNCTION):
            written.append(stmt.lhs)
        for call in ir.iter_calls(stmt) if isinstance(stmt, (ir.Assign, ir.CallStmt)) else []:
            if call.kind in (ir.CallKind.EXTERN_METHOD, ir.CallKind.EXTERN_FUNCTION):
                written += [a.value for a in call.args if a.param is not None and a.param.direction in ("out", "inout")]
        for e in written:
            if struct_field(e):
                raise error(e.pos, f"{node_text(e)}: writing to a structure is not supported on this target"
                                   f"\n(a struct-typed field of the package's '{e.text.split('.')[0]}', written "
                                   f"by an extern)")


def _nested_struct(t, inner) -> bool:
    """A struct with a field whose type satisfies `inner`."""
    return isinstance(t, ir.StructLike) and t.kind == "struct" and any(inner(f.type) for f in t.fields)


def _flattened_params(main: ir.Instance) -> set:
    """The parameters of main's blocks whose type is a type argument of the package and a
    struct with a struct field: p4c's mid end flattens them into their fields."""
    found: set = set()
    for arg in main.args:
        value = arg.value.decl if isinstance(arg.value, ir.PathExpr) else arg.value
        block = getattr(value, "type", None)
        proto = arg.param.type if arg.param is not None else None
        proto_base = proto.base if isinstance(proto, ir.SpecializedType) else proto
        if not isinstance(block, (ir.ControlDecl, ir.ParserDecl)) or not isinstance(proto_base, ir.BlockTypeDecl):
            continue
        local = dict(zip(proto_base.type_params, proto.args)) if isinstance(proto, ir.SpecializedType) else {}
        for actual, expected in zip(block.params, proto_base.params):
            if isinstance(substitute(expected.type, local), ir.TypeVar) and \
                    _nested_struct(actual.type, lambda t: isinstance(t, ir.StructLike) and t.kind == "struct"):
                found.add(actual)
    return found


def _statements(node):
    """Every statement in a statement tree (or a list of parser states)."""
    if isinstance(node, list):
        for item in node:
            yield from _statements(item)
    elif isinstance(node, ir.ParserState):
        yield from _statements(node.stmts)
    elif isinstance(node, ir.Stmt):
        yield node
        for child in vars(node).values():
            if isinstance(child, (ir.Stmt, list)) or isinstance(child, ir.SwitchCase):
                yield from _statements(child)
    elif isinstance(node, ir.SwitchCase) and node.body is not None:
        yield from _statements(node.body)


class TableEntries:
    """Pass: the keys of the entries of applied tables, as p4c's mid end and BMv2 back end
    check them: two entries with the same keys are an error (an entry whose ternary or
    optional keys a previous entry's cover is only warned about: it never matches); an lpm
    key's mask must be a prefix; an optional key takes a value or `_`, never a mask."""

    name = "table-entries"

    def run(self, ctx: CheckContext) -> None:
        for decl in ctx.program.decls:
            if isinstance(decl, ir.ControlDecl):
                for t in ir.applied_tables(decl):
                    if t.entries and len(t.keys) == len(t.entries[0].keysets):
                        _check_entry_keys(ctx, t, is_v1switch(ctx.program.main))


def _check_entry_keys(ctx: CheckContext, t: ir.TableDecl, p4runtime: bool) -> None:
    """`p4runtime`: p4c writes the entries as P4Runtime messages (a V1Switch program) and warns
    where it changes a ternary or LPM value to fit P4Runtime."""
    kinds = [k.match_kind for k in t.keys]
    for entry in t.entries:
        for key, ks in zip(t.keys, entry.keysets):
            if key.match_kind == "lpm" and isinstance(ks, ir.Mask) and isinstance(ks.mask, ir.Constant):
                width = ir.bit_width(key.expr.type)
                mask = ks.mask.value
                zeros = (mask & -mask).bit_length() - 1 if mask else width
                if zeros + bin(mask).count("1") != width:
                    raise error(ks.pos, f"{node_text(ks)} invalid mask for LPM key\n(not a prefix of "
                                        f"{width} bits)")
            if p4runtime and key.match_kind in ("ternary", "lpm") and isinstance(ks, ir.Mask) \
                    and isinstance(ks.value, ir.Constant) and isinstance(ks.mask, ir.Constant) \
                    and ks.value.value & ~ks.mask.value:
                kind = "Ternary" if key.match_kind == "ternary" else "LPM"
                value = literal_text(ks.value.value, ir.bit_width(key.expr.type), base=ks.value.base)
                ctx.warn(ks.value.pos, f"P4Runtime requires that {kind} matches have masked-off bits set to 0, "
                                       f"updating value {value} to conform to the P4Runtime specification")
            if key.match_kind == "optional" and isinstance(ks, (ir.Mask, ir.Range)):
                raise error(ks.pos, f"{node_text(ks)} invalid key expression\n(optional key "
                                    f"'{key.expr.text}' takes a value or _)")
        if p4runtime and ir.find_annotation(entry.annotations, "priority") is not None:  # (its serializer's)
            ctx.warn(entry.pos, "The @priority annotation on Entry is not part of the P4 specification, "
                                "nor of the P4Runtime specification, and will be ignored")
    previous: list[ir.Entry] = []
    for entry in t.entries:
        for prev in previous:
            ternary = False
            for kind, mine, theirs in zip(kinds, entry.keysets, prev.keysets):
                if _same_key(mine, theirs):
                    continue
                if kind in ("ternary", "optional") and _covers(theirs, mine):
                    ternary = True
                    continue
                break
            else:
                if ternary:
                    ctx.warn(entry.pos, f"Ternary entry covered by previous entry\n(the entry at line "
                                        f"{prev.pos.line if prev.pos else '?'})")
                    break
                raise error(entry.pos, f"Duplicate entry keys\n(table '{t.name}': as the entry at line "
                                       f"{prev.pos.line if prev.pos else '?'})")
        previous.append(entry)


def _same_key(a: ir.Expr, b: ir.Expr) -> bool:
    """p4c compares entry keys as written: the same kind, values (and their radix) and types."""
    if type(a) is not type(b):
        return False
    if isinstance(a, ir.Constant):
        return a.value == b.value and a.base == b.base and a.type == b.type
    if isinstance(a, (ir.Mask, ir.Range)):
        parts = ("value", "mask") if isinstance(a, ir.Mask) else ("lo", "hi")
        return all(_same_key(getattr(a, p), getattr(b, p)) for p in parts)
    if isinstance(a, ir.BoolLiteral):
        return a.value == b.value
    if isinstance(a, ir.EnumMember):
        return a.member == b.member and a.enum is b.enum
    return isinstance(a, ir.DefaultExpr)


def _mask_value(e: ir.Expr) -> tuple[int, int] | None:
    """(mask, value) of a ternary keyset: a key k matches when k & mask == value & mask."""
    if isinstance(e, ir.Mask) and isinstance(e.value, ir.Constant) and isinstance(e.mask, ir.Constant):
        return e.mask.value, e.value.value
    if isinstance(e, ir.Constant):
        width = ir.bit_width(e.type)
        return ((1 << width) - 1 if width else -1), e.value
    if isinstance(e, ir.BoolLiteral):
        return 1, int(e.value)
    if isinstance(e, ir.DefaultExpr):
        return 0, 0
    return None


def _covers(first: ir.Expr, second: ir.Expr) -> bool:
    """Whether every key `second` matches also matches `first`."""
    a, b = _mask_value(first), _mask_value(second)
    if a is None or b is None:
        return False
    (m1, v1), (m2, v2) = a, b
    return m1 & m2 == m1 and v1 & m1 == v2 & m1
