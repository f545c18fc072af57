"""What p4c keeps of a program for its mid and back end: the parsers and controls `main`
instantiates and the actions they use (p4c drops the rest before those passes run).

One mechanism for the passes that check only this code (rules.TargetRestrictions,
runtime_ops.RuntimeDivision); each says, by the parameters, how far it follows."""

from __future__ import annotations

from collections.abc import Iterator

from fabriclab.p4 import ir


def block_of(value) -> ir.Decl | None:
    """The parser or control an instance, a constructor call or a path to an instance makes."""
    if isinstance(value, ir.PathExpr):
        value = value.decl
    typ = getattr(value, "type", None)
    return typ if isinstance(typ, (ir.ControlDecl, ir.ParserDecl)) else None


def main_blocks(main: ir.Instance | None) -> Iterator[tuple[ir.Instance | ir.ConstructorCall, ir.Decl]]:
    """(instance, its parser or control) for each main gets, through the packages it gets."""
    values = [arg.value for arg in main.args] if main is not None else []
    while values:
        value = values.pop(0)
        if isinstance(value, ir.PathExpr):
            value = value.decl
        block = block_of(value)
        if block is not None:
            yield value, block
        elif isinstance(value, (ir.ConstructorCall, ir.Instance)):  # a package's
            values.extend(arg.value for arg in value.args)


def pipeline_blocks(main: ir.Instance, follow_args: bool = False) -> list[ir.Decl]:
    """The parsers and controls main gets and those they instantiate, depth first in source
    order. With `follow_args`, also those passed as constructor arguments to them."""
    return blocks_under([arg.value for arg in main.args], follow_args)


def blocks_under(values: list, follow_args: bool = False) -> list[ir.Decl]:
    """The parsers and controls `values` make (instances, constructor calls, paths) and those
    they instantiate, as pipeline_blocks."""
    found: list[ir.Decl] = []

    def add(value) -> None:
        block = block_of(value)
        if block is None or block in found:
            return
        found.append(block)
        for local in block.locals:
            if isinstance(local, ir.Instance):
                add(local)
                if follow_args:
                    for arg in local.args:
                        add(arg.value)
        if follow_args and isinstance(value, (ir.ConstructorCall, ir.Instance)):
            for arg in value.args:
                add(arg.value)

    for value in values:
        add(value)
    return found


def used_actions(blocks: list, live_only: bool = False, entries: bool = True) -> list[ir.ActionDecl]:
    """Actions the blocks' applied tables list (with `entries`, also the actions of the tables'
    constant entries) or their code calls, and those these call. With `live_only`, calls in an
    untaken `if (true/false)` branch of a block's code (not of an action) do not count."""
    used: list[ir.ActionDecl] = []
    todo: list = []
    for block in blocks:
        if isinstance(block, ir.ControlDecl):
            todo.append(block.body)
            for table in ir.applied_tables(block):
                refs = table.actions + [table.default_action] + ([e.action for e in table.entries] if entries else [])
                todo += [r.decl for r in refs if r is not None and isinstance(r.decl, ir.ActionDecl)]
        else:
            todo += block.states
    while todo:
        node = todo.pop(0)
        live = live_only
        if isinstance(node, ir.ActionDecl):
            if node in used:
                continue
            used.append(node)
            node, live = node.body, False
        todo += [c.decl for c in ir.iter_calls(node, live) if c.kind == ir.CallKind.ACTION and
                 isinstance(c.decl, ir.ActionDecl)]
    return used
