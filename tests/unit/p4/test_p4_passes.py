"""The front end's named passes: the list, each pass alone, and the stop at the first error."""

import pytest

from fabriclab.p4 import CompileError
from fabriclab.p4.build_ir import build_ir
from fabriclab.p4.checker import CheckDeclarations, DeclareGlobals
from fabriclab.p4.diagnostics import SourceMap
from fabriclab.p4.parser import parse
from fabriclab.p4.passes import FRONT_END, PassManager
from fabriclab.p4.preprocess import preprocess
from fabriclab.p4.rules import EntryPriorities, MainPackage, UnusedTables
from fabriclab.p4.typecheck import CheckContext

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; }
struct headers { h_t h; }
struct meta_t { }
parser P(packet_in pkt, out headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control C(inout headers hdr, inout meta_t m) { apply { } }
control I(inout headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    action set(bit<9> port) { sm.egress_spec = port; }
    table t { key = { hdr.h.a: ternary; } actions = { set; }
              entries = { 1 &&& 0xFF : set(1); _ : set(2); } }
    table unused { key = { hdr.h.a: exact; } actions = { NoAction; } }
    apply { t.apply(); }
}
control E(inout headers hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), C(), I(), E(), C(), D()) MAIN;
"""


def context(text: str) -> CheckContext:
    """A freshly built (unchecked) IR in a checking context."""
    pre = preprocess(text, "passes.p4")
    smap = SourceMap(pre)
    return CheckContext(build_ir(parse(pre, smap), smap, pre))


def control(ctx: CheckContext, name: str):
    return next(d for d in ctx.program.decls if getattr(d, "name", None) == name)


def test_the_front_end_is_a_list_of_named_passes():
    assert [p.name for p in FRONT_END] == ["validate-declarations", "record-variables", "unused-declarations", "deprecated", "out-params", "side-effect-ordering", "shadowing", "inline-functions", "instantiate-direct-calls", "specialize-blocks", "declare-globals", "check-declarations",
                                           "entry-priorities", "unused-tables", "main-package", "table-entries",
                                           "target-restrictions", "runtime-division", "parser-out-params", "simplify-select-cases", "stack-next-reads",
                                           "def-use", "mid-end-parsers", "unroll-loops", "simple-switch-back-end"]


def test_declare_globals_alone_finds_duplicates():
    ctx = context(PROGRAM + "const bit<8> X = 1;\nconst bit<8> X = 2;\n")
    with pytest.raises(CompileError, match="duplicate declaration of 'X'"):
        DeclareGlobals().run(ctx)


def test_each_rule_pass_runs_alone_after_the_check():
    ctx = context(PROGRAM)
    DeclareGlobals().run(ctx)
    CheckDeclarations().run(ctx)
    table = control(ctx, "I").local("t")
    assert [e.priority for e in table.entries] == [None, None]  # not yet computed
    EntryPriorities().run(ctx)
    assert [e.priority for e in table.entries] == [2, 1]  # the last entry gets 1
    assert ctx.warnings == []
    UnusedTables().run(ctx)
    assert ctx.warnings == [] and [i.message for i in ctx.infos] == ["removing table 'unused'"]
    MainPackage().run(ctx)  # the program names its instance MAIN: a warning, as p4c
    assert "no 'main' package instance" in ctx.warnings[-1].message and ctx.program.main is None


def test_the_manager_stops_at_the_first_pass_with_errors():
    ran = []

    class Record:
        name = "record"

        def run(self, ctx):
            ran.append(ctx)

    ctx = context(PROGRAM.replace("sm.egress_spec = port;", "sm.egress_spec = nowhere;"))
    with pytest.raises(CompileError, match="nowhere"):
        PassManager([DeclareGlobals(), Record(), CheckDeclarations(), Record()]).run(ctx)
    assert ran == [ctx]
