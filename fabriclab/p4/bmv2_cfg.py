"""The control-flow graph p4c's BMv2 back end builds of ingress and egress, and the two checks
it makes on it (backends/bmv2/common/controlFlowGraph.cpp, read for semantics):

- no path leads from a table back to itself (`t.apply(); t.apply();`): "Program can not be
  implemented on this target since it contains a path from table t back to itself";
- a table applied at several places goes on to the same places from each (a BMv2 table has
  one set of next nodes): "Program is not supported by this target, because table t has
  multiple successors".

The graph's nodes are the table applications, the `if`s, and the code between them: p4c
turns each run of other statements, and each direct action call, into a table of its own
(SynthesizeActions, MoveActionsToTables), a node that nothing else shares. Controls applied
inside are inlined (a `return` there ends the inlined body only); `exit` and `return` end
the graph. Loops are left to p4c's unrolling: a control with one is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fabriclab.p4 import ir, liveness
from fabriclab.p4.diagnostics import Diagnostic, TargetError


@dataclass(eq=False)
class Node:
    table: ir.TableDecl | None = None  # a table's application; None: an `if`, code, the exit
    successors: list["Node"] = field(default_factory=list)  # one entry per edge
    key: tuple = ()  # the table of which instance: each control instance has its own tables


# the edges waiting for the next node: (from node, label); the label tells a table's or an
# if's edges apart (hit/miss, an action, true/false) and is not compared
Live = list[tuple[Node, object]]


class _Unsupported(Exception):
    """A construct this graph does not model (a loop): the control is not checked."""


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.exit = Node()
        self.ends: Live = []  # edges of `exit`: to the end of the whole control
        self.scope: tuple = ()  # the control instances inlined around the current statement

    def node(self, live: Live, table: ir.TableDecl | None = None) -> Node:
        n = Node(table, key=(*self.scope, id(table)) if table is not None else ())
        self.nodes.append(n)
        for src, _ in live:
            src.successors.append(n)
        return n

    def block(self, stmts: list, live: Live, returns: Live) -> Live:
        code = False  # the last node is code that the next plain statement joins
        for stmt in stmts:
            if not live:
                break  # after a return or exit
            if isinstance(stmt, ir.Block):
                live, code = self.block(stmt.stmts, live, returns), False
            elif isinstance(stmt, (ir.Empty, ir.ConstDecl)) or isinstance(stmt, ir.VarDecl) and stmt.init is None:
                continue
            elif isinstance(stmt, ir.Exit):
                self.ends += live
                live = []
            elif isinstance(stmt, ir.Return):
                returns += live
                live = []
            elif isinstance(stmt, ir.For):
                raise _Unsupported
            elif isinstance(stmt, ir.If):
                live, code = self.branch(stmt, live, returns), False
            elif isinstance(stmt, ir.Switch):
                live, code = self.switch(stmt, live, returns), False
            elif isinstance(stmt, ir.CallStmt) and stmt.call.kind == ir.CallKind.TABLE_APPLY:
                live, code = [(self.node(live, stmt.call.decl), None)], False
            elif isinstance(stmt, ir.CallStmt) and stmt.call.kind == ir.CallKind.CONTROL_APPLY and \
                    isinstance(inner := liveness.block_of(stmt.call.target), ir.ControlDecl):
                inner_returns: Live = []
                outer, target = self.scope, stmt.call.target
                self.scope += (id(target.decl if isinstance(target, ir.PathExpr) else stmt.call),)
                live = self.block(inner.body.stmts, live, inner_returns) + inner_returns
                self.scope, code = outer, False
            elif isinstance(stmt, ir.CallStmt) and stmt.call.kind == ir.CallKind.ACTION:
                live, code = [(self.node(live), None)], False  # a table of its own per call
            else:
                for call in _table_calls(stmt):
                    live, code = [(self.node(live, call.decl), None)], False
                if not code:
                    live, code = [(self.node(live), None)], True
        return live

    def branch(self, stmt: ir.If, live: Live, returns: Live) -> Live:
        cond = stmt.cond
        if isinstance(cond, ir.BoolLiteral):  # (p4c's front end drops the branch never taken)
            taken = stmt.then if cond.value else stmt.else_
            return self.block([taken] if taken is not None else [], live, returns)
        hit = _hit_test(cond)
        if hit is None:
            for call in _table_calls(cond):
                live = [(self.node(live, call.decl), None)]
        src = self.node(live, hit.decl if hit else None)
        out = self.block([stmt.then], [(src, True)], returns)
        if stmt.else_ is not None:
            return out + self.block([stmt.else_], [(src, False)], returns)
        return out + [(src, False)]

    def switch(self, stmt: ir.Switch, live: Live, returns: Live) -> Live:
        call = stmt.expr.expr if stmt.is_action_run and isinstance(stmt.expr, ir.Member) else None
        src = self.node(live, call.decl if isinstance(call, ir.MethodCall) else None)
        out: Live = []
        pending: Live = []
        has_default = False
        for case in stmt.cases:
            has_default |= case.label is None
            pending.append((src, case.label))
            if case.body is not None:
                out += self.block(case.body.stmts, pending, returns)
                pending = []
        return out + pending + ([] if has_default else [(src, "default")])


def _table_calls(node) -> list[ir.MethodCall]:
    """The table applications in a statement or expression, in order (not through links: a
    variable's initializer is its own statement's)."""
    return [c for c in ir.walk(node) if isinstance(c, ir.MethodCall) and c.kind == ir.CallKind.TABLE_APPLY]


def _hit_test(cond: ir.Expr) -> ir.MethodCall | None:
    """`t.apply().hit` (or `.miss`, or either negated): the table's own node branches."""
    while isinstance(cond, ir.Unary) and cond.op == "!":
        cond = cond.expr
    if isinstance(cond, ir.Member) and cond.member in ("hit", "miss") and \
            isinstance(cond.expr, ir.MethodCall) and cond.expr.kind == ir.CallKind.TABLE_APPLY:
        return cond.expr
    return None


def check_control(control: ir.ControlDecl) -> None:
    """Raise TargetError where p4c-bm2-ss's graph of `control` cannot be a BMv2 pipeline."""
    b = _Builder()
    try:
        start = b.node([])
        live = b.block(control.body.stmts, [(start, None)], returns := [])
    except _Unsupported:
        return
    for src, _ in live + returns + b.ends:
        src.successors.append(b.exit)
    visited: set[int] = set()
    for n in b.nodes:
        _dfs(n, visited, [])
    by_table: dict[tuple, list[Node]] = {}
    for n in b.nodes:
        if n.table is not None:
            by_table.setdefault(n.key, []).append(n)
    for nodes in by_table.values():
        first = nodes[0]
        for other in nodes[1:]:
            if not _same(first.successors, other.successors):
                t = other.table
                raise TargetError([Diagnostic(t.pos, f"Program is not supported by this target, because "
                                                     f"table {t.name} has multiple successors")])


def _dfs(node: Node, visited: set[int], stack: list) -> None:
    if node.table is not None and node.key in stack:
        t = node.table
        raise TargetError([Diagnostic(t.pos, f"Program can not be implemented on this target since it "
                                             f"contains a path from table {t.name} back to itself")])
    if id(node) in visited:
        return
    if node.table is not None:
        stack.append(node.key)
    for succ in node.successors:
        _dfs(succ, visited, stack)
    if node.table is not None:
        stack.pop()
    visited.add(id(node))


def _same(a: list[Node], b: list[Node]) -> bool:
    """p4c's EdgeSet::checkSame: as many edges, each going where one of the other's goes (the
    same node, or an application of the same table)."""
    def goes_to(edges: list[Node], node: Node) -> bool:
        return any(e is node or (e.table is not None and e.key == node.key) for e in edges)
    return len(a) == len(b) and all(goes_to(b, n) for n in a) and all(goes_to(a, n) for n in b)
