"""Pass: a warning where a name refers to a declaration annotated `@deprecated("why")`, in
p4c's words ("x: Using deprecated feature x. why", its CheckDeprecated), e.g. v1model's
Checksum16 or mark_to_drop() without arguments. Names are found as p4c finds them before
types are known (names.py), so it runs on the IR as written."""

from __future__ import annotations

from fabriclab.p4 import ir
from fabriclab.p4.names import SYSTEM, NameUses
from fabriclab.p4.typecheck import CheckContext


class Deprecated:
    """Pass: see the module docstring."""

    name = "deprecated"

    def run(self, ctx: CheckContext) -> None:
        for node, decl in NameUses(ctx.program).refs:
            anno = decl.annotation("deprecated") if isinstance(decl, ir.Decl) else None
            if anno is None or node.pos is None or node.pos.file.startswith(SYSTEM):
                continue
            why = "".join(a for a in anno.args if isinstance(a, str))
            name = getattr(node, "name", decl.name)
            ctx.warn(node.pos, f"{name}: Using deprecated feature {decl.name}. {why}")
