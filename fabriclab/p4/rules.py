"""Front-end passes that check rules over the whole checked program (after the type check).

Each is a pass for `passes.PassManager`: a `name` and `run(ctx)` that raises `CompileError`
or adds warnings to `ctx`.
"""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.p4.typecheck import CheckContext, error


NO_MAIN = "the program has no 'main' package instance (e.g. V1Switch(...) main;)"


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
    """Pass: warn of tables a control never applies (p4c removes them from P4Info)."""

    name = "unused-tables"

    def run(self, ctx: CheckContext) -> None:
        for decl in ctx.program.decls:
            if isinstance(decl, ir.ControlDecl):
                applied = ir.applied_tables(decl)
                for local in decl.locals:
                    if isinstance(local, ir.TableDecl) and local not in applied:
                        ctx.warn(local.pos, f"Table {local.name} is not used; removing")


def _tables(program: ir.Program) -> list[ir.TableDecl]:
    return [local for decl in program.decls if isinstance(decl, ir.ControlDecl)
            for local in decl.locals if isinstance(local, ir.TableDecl)]


def _entry_priorities(ctx: CheckContext, t: ir.TableDecl) -> None:
    """Entry priorities as p4c's EntryPriorities pass (P4-16 spec): `const entries` take no
    `priority =` (their order decides, as in BMv2; `@priority(n)` is honoured); in other
    entries a missing priority continues from the previous one by `priority_delta`,
    downwards if `largest_priority_wins` (the default), and without any priority the
    last entry gets 1 (or the first, if the smallest wins)."""
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
        raise error(explicit.pos, f"table '{t.name}': key match type does not require priorities, "
                                  f"but some are specified")
    if entries[0].priority is None:
        raise error(entries[0].pos, "the first entry must have a priority")
    quiet = {a.args[0] for a in t.entries_annotations if a.name == "noWarn" and a.args}
    used: dict[int, ir.Entry] = {}
    previous = None
    for entry in entries:
        if entry.priority is None:
            entry.priority = previous + (-delta if t.largest_priority_wins else delta)
            if entry.priority < 0:
                raise error(entry.pos, f"table '{t.name}': overflow in priority computation")
        if entry.priority in used and "duplicate-priorities" not in quiet:
            ctx.warn(entry.pos, f"entries of table '{t.name}' have the same priority {entry.priority}")
        if previous is not None and "entries-out-of-priority-order" not in quiet and \
                (entry.priority > previous if t.largest_priority_wins else entry.priority < previous):
            ctx.warn(entry.pos, f"entries of table '{t.name}' have priorities out of order "
                                 f"({previous} then {entry.priority})")
        used.setdefault(entry.priority, entry)
        previous = entry.priority

