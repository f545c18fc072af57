"""Pass: the warnings of p4c's mid-end SimplifySelectCases, on each select of the parsers p4c
keeps (one its front end did not fold away for constant keys):

- a case after `default` is unreachable ("SelectCase: unreachable");
- with every keyset constant, a repeated keyset and a case going where `default` goes are
  dropped; if only `default` is left, "'{ keys }': transition does not depend on select
  argument". (Warnings only: the switch runs the select as written, which goes to the same
  states.)
"""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.p4.checker import constant_key
from fabriclab.p4.names import SYSTEM, kept_declarations
from fabriclab.p4.typecheck import CheckContext


class SimplifySelectCases:
    """Pass: see the module docstring."""

    name = "simplify-select-cases"

    def run(self, ctx: CheckContext) -> None:
        kept = kept_declarations(ctx.program)
        for decl in ctx.program.decls:
            if not isinstance(decl, ir.ParserDecl) or id(decl) not in kept or decl.pos is None \
                    or decl.pos.file.startswith(SYSTEM):
                continue
            for state in decl.states:
                sel = state.transition.select if state.transition is not None else None
                if sel is not None and any(constant_key(k) is None for k in sel.keys):
                    _simplify(ctx, sel)


def _simplify(ctx: CheckContext, sel: ir.SelectExpr) -> None:
    cases: list[ir.SelectCase] = []
    changes = default = False
    for case in sel.cases:
        if default:
            ctx.warn(case.pos, "SelectCase: unreachable")
            changes = True
            continue
        cases.append(case)
        default = _is_default(case)
    keys = [None if _is_default(c) else _keyset(c.keysets) for c in cases]
    if all(k is not None or _is_default(c) for k, c in zip(keys, cases)):
        unique = [c for i, c in enumerate(cases) if keys[i] is None or keys[i] not in keys[:i]]
        if default:  # the cases before `default` that go where it goes
            unique = [c for c in unique[:-1] if c.state != unique[-1].state] + unique[-1:]
        changes |= len(unique) != len(cases)
        cases = unique
    if changes and len(cases) == 1:
        text = ", ".join(" ".join(k.text.split()) for k in sel.keys)
        ctx.warn(sel.keys[0].pos, f"'{{ {text} }}': transition does not depend on select argument")


def _is_default(case: ir.SelectCase) -> bool:
    return len(case.keysets) == 1 and isinstance(case.keysets[0], ir.DefaultExpr)


def _keyset(keysets: list[ir.Expr]) -> tuple | None:
    """A constant keyset as a comparable value, None if not constant (a value set, ...)."""
    out = []
    for k in keysets:
        if isinstance(k, (ir.Constant, ir.BoolLiteral)):
            out.append(("v", k.value))
        elif isinstance(k, ir.EnumMember):
            out.append(("e", k.member, k.value))
        elif isinstance(k, ir.DefaultExpr):
            out.append(("_",))
        elif isinstance(k, ir.Mask) and isinstance(k.value, ir.Constant) and isinstance(k.mask, ir.Constant):
            out.append(("m", k.value.value, k.mask.value))
        elif isinstance(k, ir.Range) and isinstance(k.lo, ir.Constant) and isinstance(k.hi, ir.Constant):
            out.append(("r", k.lo.value, k.hi.value))
        else:
            return None
    return tuple(out)
