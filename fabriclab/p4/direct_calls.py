"""Lowering direct type invocation: `Ctl.apply(args)` -> a local instance `Ctl() Ctl_inst;` + `Ctl_inst.apply(args)`.

As p4c's front end: the instance is named `<Type>_inst` (made unique in the block) and carries
`@name("<Type>")`, so the objects inside it get the control-plane names p4c gives them.
"""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.p4.inline import map_exprs


def _block_types(program: ir.Program) -> set[str]:
    return {d.name for d in program.decls if isinstance(d, (ir.ControlDecl, ir.ParserDecl))}


def instantiate_direct_calls(program: ir.Program) -> None:
    types = _block_types(program)
    for decl in program.decls:
        if not isinstance(decl, (ir.ControlDecl, ir.ParserDecl)):
            continue
        taken = {d.name for d in decl.locals}
        added: list[ir.Instance] = []

        def lower(e, decl=decl, taken=taken, added=added):
            if not (isinstance(e, ir.MethodCall) and isinstance(e.target, ir.TypeMember)
                    and e.target.member == "apply" and e.target.type_name in types):
                return e
            tname = e.target.type_name
            name, k = f"{tname}_inst", 0
            while name in taken:
                name, k = f"{tname}_inst_{k}", k + 1
            taken.add(name)
            kind = "specialized" if e.target.type_args else "name"
            type_ref = ir.TypeRef(kind, name=tname, args=e.target.type_args, pos=e.pos)
            added.append(ir.Instance(name, type_ref=type_ref,
                                     annotations=[ir.Annotation("name", f'"{tname}"', [tname], pos=e.pos)],
                                     pos=e.pos))
            e.target = ir.Member(ir.PathExpr(name, pos=e.pos, text=name), "apply", pos=e.pos,
                                 text=f"{name}.apply")
            return e

        if isinstance(decl, ir.ControlDecl):
            map_exprs(decl.body, lower)
        else:
            for state in decl.states:
                map_exprs(state, lower)
        decl.locals.extend(added)  # appended, as p4c (it decides the P4Info order)


class InstantiateDirectCalls:
    """Pass: see the module docstring."""

    name = "instantiate-direct-calls"

    def run(self, ctx) -> None:
        instantiate_direct_calls(ctx.program)
