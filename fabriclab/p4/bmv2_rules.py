"""What p4c's BMv2 back end (p4c-bm2-ss, simple_switch) rejects in a V1Switch program.

These are target rules, not language rules: p4test accepts such programs, p4c-bm2-ss does not
(its negative corpus, testdata/p4_16_bmv_errors). fabriclab is a simple_switch-faithful
target, so `TargetRestrictions` runs them when main is a `V1Switch`:

- a table has at most one `lpm` key;
- a direct_meter is used through a table's `meters` property and read() in its actions: a
  read() without such a table has nowhere to bind, a table's meter never read() has no result.
"""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.p4.typecheck import CheckContext, error


def check_simple_switch(ctx: CheckContext, blocks: list, actions: list[ir.ActionDecl]) -> None:
    """Run the BMv2 rules on a V1Switch program; `blocks` are the parsers and controls main
    gets (and those they instantiate), `actions` the actions they use."""
    main = ctx.program.main
    if main is None or _type_name(main.type) != "V1Switch":
        return
    tables = [t for b in blocks if isinstance(b, ir.ControlDecl) for t in ir.applied_tables(b)]
    for table in tables:
        if sum(k.match_kind == "lpm" for k in table.keys) > 1:
            raise error(table.pos, f"multiple LPM keys in table '{table.name}' are not supported on "
                                   f"this target (BMv2 allows one lpm key per table)")
    calls = [c for body in _bodies(blocks, actions) for c in ir.iter_calls(body)]
    _check_direct_meters(blocks, tables, calls)


def _type_name(t) -> str | None:
    return getattr(t.base if isinstance(t, ir.SpecializedType) else t, "name", None)


def _bodies(blocks: list, actions: list[ir.ActionDecl]) -> list:
    found: list = []
    for b in blocks:
        found.append(b.body if isinstance(b, ir.ControlDecl) else b.states)
        found += [d for d in b.locals if isinstance(d, ir.VarDecl)]
    return found + [a.body for a in actions]


def _check_direct_meters(blocks: list, tables: list[ir.TableDecl], calls: list[ir.MethodCall]) -> None:
    """simple_switch binds a direct meter to the one table whose `meters` property names it and
    writes its colour to the read() call's argument: a meter read() but attached to no
    (applied) table is an error in p4c, one attached but never read() has no destination."""
    read = {id(_receiver(c)): c for c in calls
            if c.kind == ir.CallKind.EXTERN_METHOD and c.method == "read" and _receiver(c) is not None}
    owner = {id(t.meters): t for t in tables if isinstance(t.meters, ir.Instance)}
    for block in blocks:
        for inst in block.locals:
            if not isinstance(inst, ir.Instance) or _type_name(inst.type) != "direct_meter":
                continue
            if id(inst) in read and id(inst) not in owner:
                raise error(inst.pos, f"{inst.name}: direct meter is not associated with any table via "
                                      f"'meters' table property")
            if id(inst) in owner and id(inst) not in read:
                raise error(inst.pos, f"{inst.name}: the direct meter of table '{owner[id(inst)].name}' is "
                                      f"never read: BMv2 needs a read() of it in the table's actions")


def _receiver(call: ir.MethodCall):
    target = call.target
    decl = target.decl if isinstance(target, ir.PathExpr) else None
    return decl if isinstance(decl, ir.Instance) else None
