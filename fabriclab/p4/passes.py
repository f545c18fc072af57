"""The front end as an explicit list of named passes, as p4c's `PassManager`.

    check(program, warnings) -> program        # runs FRONT_END on a freshly built IR

Each pass has a `name` and `run(ctx: typecheck.CheckContext)`; it reports errors by raising
`CompileError` (one or several diagnostics) and warnings through `ctx.warn`. The manager
runs the passes in order and stops at the first pass with errors. A pass can be run alone
on a context that the passes before it prepared (tests do).
"""

from __future__ import annotations

from typing import Protocol, Sequence

from fabriclab.p4 import ir
from fabriclab.p4.checker import CheckDeclarations, DeclareGlobals
from fabriclab.p4.diagnostics import CompileError
from fabriclab.p4.def_use import DefUse, RecordVariables
from fabriclab.p4.deprecated import Deprecated
from fabriclab.p4.direct_calls import InstantiateDirectCalls
from fabriclab.p4.inline import InlineFunctions
from fabriclab.p4.ordering import SideEffectOrdering
from fabriclab.p4.out_params import OutParams, ParserOutParams
from fabriclab.p4.select_cases import SimplifySelectCases
from fabriclab.p4.shadowing import Shadowing
from fabriclab.p4.stack_next import StackNextReads
from fabriclab.p4.specialize import SpecializeBlocks
from fabriclab.p4.rules import (EntryPriorities, MainPackage, MidEndParsers, SimpleSwitchBackEnd, TableEntries,
                                TargetRestrictions, UnusedTables)
from fabriclab.p4.runtime_ops import RuntimeDivision
from fabriclab.p4.typecheck import CheckContext
from fabriclab.p4.unroll import UnrollLoops
from fabriclab.p4.unused import UnusedDeclarations
from fabriclab.p4.validate import ValidateDeclarations


class Pass(Protocol):
    name: str

    def run(self, ctx: CheckContext) -> None: ...


class PassManager:
    def __init__(self, passes: Sequence[Pass]) -> None:
        self.passes = tuple(passes)

    def run(self, ctx: CheckContext) -> ir.Program:
        """Run every pass in order; a pass's CompileError ends the run (nothing after it runs),
        as do the errors a pass reported and checked on past. One from p4c's mid end on is
        marked `in_mid_end` (p4c writes P4Runtime files, and reports their errors, before it)."""
        mid_end = False
        for p in self.passes:
            mid_end |= p.name == MID_END_START
            try:
                p.run(ctx)
                if ctx.errors:
                    raise CompileError(ctx.errors)
            except CompileError as err:
                err.in_mid_end = mid_end
                raise
        return ctx.program


MID_END_START = "target-restrictions"  # the first pass of what p4c's mid end does


# validate declarations as written -> warn about unused ones, uses of deprecated ones and out parameters left unwritten -> inline functions, instantiate Ctl.apply() -> specialize generic parsers/controls -> resolve top-level names -> resolve, type-check and fold each declaration -> whole-program rules
# -> what the target cannot run (p4c's mid end for BMv2) -> what its BMv2 back end refuses (p4c-bm2-ss)
FRONT_END: tuple[Pass, ...] = (ValidateDeclarations(), RecordVariables(), UnusedDeclarations(), Deprecated(), OutParams(), SideEffectOrdering(), Shadowing(), InlineFunctions(), InstantiateDirectCalls(), SpecializeBlocks(), DeclareGlobals(), CheckDeclarations(), EntryPriorities(),
                               UnusedTables(), MainPackage(), TableEntries(), TargetRestrictions(), RuntimeDivision(), ParserOutParams(), SimplifySelectCases(), StackNextReads(), DefUse(), MidEndParsers(), UnrollLoops(),
                               SimpleSwitchBackEnd())


def check(program: ir.Program, warnings: list | None = None, infos: list | None = None) -> ir.Program:
    """Run the front end on `program` (in place); warnings are appended to `warnings`, what
    p4c reports as infos to `infos`."""
    ctx = CheckContext(program)
    try:
        PassManager(FRONT_END).run(ctx)
    finally:  # (on an error too: p4c has printed what the passes before it warned about)
        if warnings is not None:
            warnings.extend(ctx.warnings)
        if infos is not None:
            infos.extend(ctx.infos)
    return program
