"""Statement translation: control/parser/deparser bodies -> lines of Python.

Each top-level block becomes one Python function. Actions and sub-control applies are
inlined at their call sites (actions as `for _once in _ONCE:` bodies when they `return`),
table applies become one `Table.apply` call plus an if-chain over action names, and
v1model externs become direct calls on runtime objects or writes to the PacketState.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from fabriclab.p4 import ir
from fabriclab.switch import codegen_runtime as rt
from fabriclab.switch.codegen_expr import (FORGET_SHAPE, ExprCompiler, Scope, attr, bind_header,
                                           in_header, is_object, resolve,
                                           unsupported, varbit_field)
from fabriclab.switch.codegen_externs import _extern_name


LOOP_LIMIT = 1 << 20


@dataclass
class ControlCtx:
    """One control instance: its name prefix and its compile-time objects."""

    prefix: str
    scope: Scope
    tables: dict[int, str] = field(default_factory=dict)      # id(TableDecl) -> python name
    actions: dict[int, str] = field(default_factory=dict)     # id(ActionDecl) -> P4Info name
    # sub-control/sub-parser instances, and constructor parameters bound to an instance
    controls: dict[int, "ControlCtx"] = field(default_factory=dict)
    # constructor and apply parameters bound to an extern instance
    instances: dict[int, ir.Instance] = field(default_factory=dict)
    decl: object = None  # the ControlDecl/ParserDecl

    def instance(self, decl) -> ir.Instance | None:
        """The extern instance `decl` names here: itself, or the one a parameter is bound to."""
        decl = self.instances.get(id(decl), decl)
        return decl if isinstance(decl, ir.Instance) else None


_ZERO = "_h.v = 0"  # setValid's zeroing of an invalid header's int
_PATH = re.compile(r"[\w.]+")  # a header reached by attributes alone (no materialising test)


def _binding(lines: list[str]) -> int:
    """How many leading lines bind `_h` to a header by its path (codegen_expr.bind_header:
    `_h = path`, maybe with the materialising test), 0 when they do not."""
    if not lines or not lines[0].startswith("_h = ") or not _PATH.fullmatch(lines[0][5:]):
        return 0
    if len(lines) > 2 and lines[1].startswith("if _h is ") and lines[2].startswith("    _h = "):
        return 3
    return 1


def _applies(e) -> bool:
    return any(isinstance(n, ir.MethodCall) and n.kind == ir.CallKind.TABLE_APPLY
               for n in _walk(e, everything=True))


def _plain_path(e) -> str | None:
    """`a.b.c` for a chain of member accesses on a name, else None (an index, a call)."""
    names = []
    while isinstance(e, ir.Member):
        names.append(e.member)
        e = e.expr
    if not isinstance(e, ir.PathExpr):
        return None
    return ".".join([e.name, *reversed(names)])


def _walk(node, everything: bool = False):
    """Yield expression nodes under `node` (depth first), for hoisting table applies."""
    if isinstance(node, list):
        for n in node:
            yield from _walk(n, everything)
        return
    if not isinstance(node, (ir.Expr, ir.Argument)):
        return
    if isinstance(node, ir.Argument):
        yield from _walk(node.value, everything)
        return
    for name in getattr(node, "__dataclass_fields__", {}):
        if name in ("type", "decl", "pos", "target") and not (
                name == "target" and isinstance(node, ir.MethodCall)):
            continue
        # Operands evaluated only sometimes are hoisted by their && || ?: node itself.
        if not everything and (isinstance(node, ir.Binary) and node.op in ("&&", "||") and
                               name == "right" or isinstance(node, ir.Conditional) and
                               name in ("then", "else_")):
            continue
        yield from _walk(getattr(node, name), everything)
    yield node


def ir_nodes(node):
    """Every IR node under `node` once (statements, expressions, the declarations they
    contain; not through references: a name's decl, an argument's param, types), for
    finding the uses and writes of a name. Iterative: a program is deep."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(reversed(n))
            continue
        if not isinstance(n, ir.Node) or id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        stack.extend(getattr(n, f) for f in reversed(getattr(n, "__dataclass_fields__", {}))
                     if f not in ("type", "decl", "pos", "param", "type_ref", "annotations"))


class BlockCompiler(ExprCompiler):
    """Accumulates the Python lines of one generated function."""

    def __init__(self, gen, ctx: ControlCtx) -> None:
        super().__init__(gen)
        self.ctx = ctx
        self.scope = ctx.scope
        self.lines: list[str] = []
        self.indent = 1
        self.return_stmt = ["return"]
        self.loop_updates: list[list[ir.Stmt]] = []  # the update clauses of enclosing for loops
        # the parser's offset when generation knows it (a straight path from the start
        # state): extracts read at constant positions and `_off` is stored only where
        # something reads it (see codegen_parser)
        self.const_off: int | None = None
        # lines emitted so far, and (header path, that count, the lines' length, indent,
        # from setValid) when the last statement left `_h` bound to that real header (see
        # emit_all; lines moved or deleted since change the length: no match then)
        self.emitted = 0
        # (test, count, length, indent, target) of the last `x = c ? v : x` made an `if`
        self.cond_stored: tuple[str, int, int, int, ir.Expr] | None = None
        self.h_bound: tuple[str, int, int, int, bool] | None = None
        self.guard_opened = False  # table_apply left its empty-table guard open (stmt: If)

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)
        self.emitted += 1

    def emit_all(self, lines: list[str], whole: bool = False) -> None:
        """Emit `lines`; a header write's binding of `_h` is left out when the statement
        just before (nothing emitted since, same indent: it runs right before) left `_h`
        bound to that header, real. `whole`: the write's value reads the header only
        through `_h.v` (no alias): a setValid just before need not zero it first."""
        n = _binding(lines)
        path = lines[0][5:] if n else None
        bound = self.h_bound
        rest = lines[n:]
        if n and bound is not None and bound[:4] == (path, self.emitted, len(self.lines), self.indent):
            lines = rest
            if whole and bound[4] and len(rest) == 1 and "_h.v" not in rest[0][7:] \
                    and self.lines[-1] == "    " * (self.indent + 1) + _ZERO:
                del self.lines[-1]  # setValid's `_h.v = 0`: every bit is written next
        for line in lines:
            self.emit(line)
        if n and len(rest) == 1 and rest[0].startswith("_h.v = "):
            self.h_bound = (path, self.emitted, len(self.lines), self.indent, False)

    # ------------------------------------------------------------ statements
    def stores_always(self, s) -> bool:
        """A register read() or random() call statement whose generated code stores into
        its out argument on every path (codegen_externs.assign_if otherwise): the index
        cannot exceed the register, or the bounds are constants with lo <= hi."""
        mc = s.call
        args = [a.value for a in mc.args]
        if mc.method == "random":
            lo, hi = self.const_of(args[1]), self.const_of(args[2])
            return lo is not None and hi is not None and lo <= hi
        reg = self.gen.ns.get(self.scope.lookup(mc.target.decl)) if isinstance(mc.target, ir.PathExpr) else None
        bits = self.gen.index_bits(args[1])
        return reg is not None and bits is not None and 1 << bits <= reg.size

    def block(self, stmts) -> None:
        start = len(self.lines)
        saved = self.materialised
        i = 0
        while i < len(stmts):
            if _assigned_next(stmts, i, self.stores_always):  # `bit<8> x;` then `x = ...`: no zero stored first
                self.scope.names[id(stmts[i])] = self.gen.uniq("v_" + stmts[i].name)
                i += 1
                continue
            j = self.field_writes(stmts, i) or self.stmt(stmts[i]) or i + 1
            for s in stmts[i:j]:  # the statements after these in this block run after them
                self.materialised |= self.written_header(s)
            i = j
        self.materialised = saved
        if len(self.lines) == start:
            self.emit("pass")

    def written_header(self, s) -> frozenset[str]:
        """The lazy header field statement `s` always writes (materialising it), if any."""
        target = None
        if isinstance(s, ir.Assign):
            nested = in_header(s.lhs)
            if nested is not None:
                target = nested[0]
            elif isinstance(s.lhs, ir.Member):
                base_t = resolve(s.lhs.expr.type)
                target = s.lhs.expr if isinstance(base_t, ir.StructLike) and base_t.is_header else s.lhs
        elif isinstance(s, ir.CallStmt) and s.call.kind == ir.CallKind.SET_VALID:
            target = s.call.target
        lazy = self.lazy_member(target) if target is not None else None
        return frozenset([f"{lazy[0]}.{lazy[1]}"]) if lazy is not None else frozenset()

    def conditional_store(self, s: ir.Assign) -> bool:
        """`x = c ? v : x` (or `x = c ? x : v`) as `if c: x = v`: no store of x's own value
        when c fails (P4's conditional update idiom: a running minimum, a best port).
        False, emitting nothing, when `s` is not of that form."""
        rhs = s.rhs
        if not isinstance(rhs, ir.Conditional) or is_object(s.lhs.type):
            return False
        own = self.expr(s.lhs)
        if self.expr(rhs.else_) == own:
            cond, value = self.test(rhs.cond), rhs.then
        elif self.expr(rhs.then) == own:
            cond, value = f"not {self.test(rhs.cond)}", rhs.else_
        else:
            return False
        last = self.cond_stored
        if not (last is not None and last[:4] == (cond, self.emitted, len(self.lines), self.indent)
                and _independent(rhs.cond, last[4])):
            self.emit(f"if {cond}:")
        self.indent += 1
        self.emit_all(self.assign(s.lhs, self.expr(value), rhs.type))
        self.indent -= 1
        # a next store under the same test (best port, then best key) joins this `if`
        self.cond_stored = (cond, self.emitted, len(self.lines), self.indent, s.lhs)
        return True

    def field_step(self, s: ir.Assign) -> list[str] | None:
        """`h.f = h.f + e` or `h.f = h.f - e` on an unsigned header field, computed on the
        header's int in place: (v + (e << shift)) & field mask is the wrapped sum at the
        field's place (the zero bits of e << shift below the field carry nothing into it).
        TTLs, lengths and hop counts: no extracting and re-inserting the field. None when
        `s` is not such a statement."""
        step = self.step_bits(s)
        if step is None:
            return None
        clear, bits = step
        return [*bind_header("_h", self.expr(s.lhs.expr)),
                f"_h.v = (_h.v & {clear}) | {bits}" if clear else f"_h.v = {bits}"]

    def step_bits(self, s: ir.Assign) -> tuple[int, str] | None:
        """(mask keeping the other fields, the field's new bits read from `_h.v`) for a
        field_step statement, else None."""
        lhs, rhs = s.lhs, s.rhs
        if not (isinstance(rhs, ir.Binary) and rhs.op in ("+", "-") and isinstance(lhs, ir.Member)
                and in_header(lhs) is None):
            return None
        t, base_t = resolve(lhs.type), resolve(lhs.expr.type)
        if not (isinstance(t, ir.BitType) and not t.signed and resolve(rhs.type) == t
                and isinstance(base_t, ir.StructLike) and base_t.is_header):
            return None
        field = self.expr(lhs)
        other = rhs.right if self.expr(rhs.left) == field else (
            rhs.left if rhs.op == "+" and self.expr(rhs.right) == field else None)
        ot = resolve(other.type) if other is not None else None
        if not (isinstance(ot, ir.BitType) and not ot.signed or isinstance(other, ir.Constant)
                and other.value >= 0):
            return None
        lay = self.layout(base_t)[lhs.member]
        if isinstance(other, ir.Constant):
            term = str(other.value << lay.shift)
        else:
            term = self.expr(other) if lay.shift == 0 else f"({self.expr(other)} << {lay.shift})"
        bits = lay.mask << lay.shift
        return ((1 << base_t.width) - 1) ^ bits, f"((_h.v {rhs.op} {term}) & {bits})"

    def field_writes(self, stmts, i: int) -> int | None:
        """Consecutive assignments to fields of one header become one store (INT headers,
        rewritten addresses, a swap of two fields); returns the index after them, None for
        fewer than two. A value may read fields of the header being written that the run
        has not written yet (the one store computes every value from the old bits, which
        still hold them); any other read of a header of that type (maybe the same header
        through an alias) or a table apply ends the run."""
        run: list[tuple[int, str]] = []
        header = read = None
        reads_own = False
        bits_written = 0  # bits of the header written so far: a field written twice ends the run
        j = i
        while j < len(stmts) and isinstance(stmts[j], ir.Assign):
            s = stmts[j]
            if not isinstance(s.lhs, ir.Member):
                break
            nested = in_header(s.lhs)
            own = self.own_field_reads(s, nested is not None)
            if own is None or own & bits_written:
                break
            value = self.expr(s.rhs)
            write = self.header_field_write(s.lhs, value, s.rhs.type)
            if write is None or (header is not None and write[0] != header):
                break
            base_t = nested[1] if nested is not None else resolve(s.lhs.expr.type)
            bits = ((1 << base_t.width) - 1) ^ write[1]  # the field's bits (the mask keeps all others)
            if bits_written & bits:
                break
            bits_written |= bits
            header, read = write[0], write[3]
            reads_own = reads_own or bool(own)
            run.append(self.step_bits(s) or write[1:3])
            j += 1
        if len(run) < 2:
            return None
        # a value reading the header reads `_h.v`, and then a setValid's zeroing must stay
        self.emit_all(self.header_writes(header, run, read if reads_own else None),
                      whole=not reads_own)
        return j

    def own_field_reads(self, s: ir.Assign, nested: bool) -> int | None:
        """The bits of the header `s` writes that its value reads as fields of that very
        header (same path, no index; a plain field of a plain header, `nested` is not);
        None when the value applies a table or uses a value of the written type any other
        way."""
        written = resolve(s.lhs.expr.type)
        path = _plain_path(s.lhs.expr) if not nested and isinstance(written, ir.StructLike) \
            and written.is_header else None
        bits = uses = 0
        for n in _walk(s.rhs, True):  # a table applied only sometimes too: stmt hoists it
            if isinstance(n, ir.MethodCall) and n.kind == ir.CallKind.TABLE_APPLY:
                return None
            if isinstance(n, (ir.Member, ir.PathExpr)) and resolve(n.type) is written:
                uses += 1
            elif isinstance(n, ir.Member) and resolve(n.expr.type) is written:
                if path is None or _plain_path(n.expr) != path:
                    return None
                lay = self.layout(written).get(n.member)
                if lay is None:
                    return None
                bits |= lay.mask << lay.shift
                uses -= 1
        return None if uses else bits

    def stmt(self, s) -> None:
        if isinstance(s, ir.Block):
            saved = self.scope
            self.scope = self.scope.child()
            self.block(s.stmts)
            self.scope = saved
        elif isinstance(s, ir.VarDecl):
            name = self.gen.uniq("v_" + s.name)
            self.scope.names[id(s)] = name
            if s.init is not None:
                self.hoist(s.init)
                value = self.expr_read(s.init) if is_object(s.type) else self.expr(s.init)
                if is_object(s.type):
                    value = f"{value}.copy()" if not isinstance(s.init, ir.StructExpr) else value
                else:
                    value = self.convert(value, s.init.type, s.type, s)
                self.emit(f"{name} = {value}")
            else:
                self.emit(f"{name} = {self.zero(s.type)}")
        elif isinstance(s, ir.ConstDecl):
            pass  # folded into uses by the checker
        elif isinstance(s, ir.Assign):
            self.hoist(s.rhs)
            if not self.conditional_store(s):
                self.emit_all(self.field_step(s) or self.assign(s.lhs, self.expr(s.rhs), s.rhs.type))
        elif isinstance(s, ir.CallStmt):
            self.call(s.call)
        elif isinstance(s, ir.If):
            # `if (t.apply().hit [&& ...]) {...}`, no else: when `t` is empty with a no-op
            # default the test is false, so the table's skip guard encloses the `if` too
            first = _leading_apply(s.cond) if s.else_ is None else None
            guarded = False
            if first is not None and id(first) not in self.hoisted:
                self.hoisted[id(first)] = self.table_apply(first, {"hit"}, open_guard=True)
                guarded, self.guard_opened = self.guard_opened, False
            self.hoist(s.cond)
            self.emit(f"if {self.test(s.cond)}:")
            saved = self.materialised
            self.materialised = saved | self.valid_in(s.cond)
            self.nested(s.then)
            self.materialised = saved
            if guarded:
                self.indent -= 1
            if s.else_ is not None:
                self.emit("else:")
                self.nested(s.else_)
        elif isinstance(s, ir.Switch):
            self.switch(s)
        elif isinstance(s, ir.Exit):
            self.emit("raise _rt.Exit()")
        elif isinstance(s, ir.Return):
            if self.return_stmt[-1] is None:
                raise unsupported(s, "return inside a for loop")
            self.emit(self.return_stmt[-1])
        elif isinstance(s, ir.For):
            self.for_loop(s)
        elif isinstance(s, ir.Break):
            self.emit("break")
        elif isinstance(s, ir.Continue):
            for u in self.loop_updates[-1]:
                self.stmt(u)
            self.emit("continue")
        elif isinstance(s, ir.Empty):
            pass
        else:
            raise unsupported(s, f"statement {type(s).__name__}")

    def for_loop(self, s: ir.For) -> None:
        """A Python loop over at most LOOP_LIMIT iterations: a packet that would loop longer
        is dropped (BMv2 would hang; a switch never does on a packet)."""
        saved = self.scope
        self.scope = self.scope.child()
        for x in s.init:
            self.stmt(x)
        self.emit(f"for {self.gen.uniq('it')} in range({LOOP_LIMIT}):")
        self.indent += 1
        if s.cond is not None:
            self.hoist(s.cond)
            self.emit(f"if not {self.expr(s.cond)}:")
            self.emit("    break")
        self.loop_updates.append(s.update)
        self.return_stmt.append(None)
        self.block([s.body])
        self.return_stmt.pop()
        self.loop_updates.pop()
        for x in s.update:
            self.stmt(x)
        self.indent -= 1
        self.emit("else:")
        self.emit("    pkt.sm.egress_spec = _drop_port")
        self.emit("    pkt.sm.mcast_grp = 0")
        self.emit("    raise _rt.Exit()")
        self.scope = saved

    def nested(self, s) -> None:
        self.indent += 1
        self.block([s])
        self.indent -= 1

    def switch(self, s: ir.Switch) -> None:
        self.hoist(s.expr)
        key = self.gen.uniq("sw")
        self.emit(f"{key} = {self.expr(s.expr)}")
        pending: list[str] = []
        first = True
        for case in s.cases:
            if case.label is None:
                label = None
            elif s.is_action_run:
                label = repr(self.gen.action_name(case.label.decl, self.ctx))
            else:
                label = self.expr(case.label)
            if case.body is None:
                if label is not None:
                    pending.append(label)
                continue
            labels = pending + ([label] if label is not None else [])
            pending = []
            if label is None:
                self.emit("else:" if not first else "if True:")
            else:
                cond = " or ".join(f"{key} == {lab}" for lab in labels)
                self.emit(f"{'if' if first else 'elif'} {cond}:")
            first = False
            self.nested(case.body)

    # ------------------------------------------------------------ hoisting
    def hoist(self, e) -> None:
        """Apply tables used inside `e` first, binding their hit/action_run results. A table
        in an operand that && || ?: evaluate only sometimes is applied under an `if` on the
        operands before it, whose value is then kept in a variable (`evaluated`)."""
        for node in _walk(e):
            if isinstance(node, ir.MethodCall) and node.kind == ir.CallKind.TABLE_APPLY \
                    and id(node) not in self.hoisted:
                read = {m.member for m in _walk(e, everything=True)
                        if isinstance(m, ir.Member) and m.expr is node}
                self.hoisted[id(node)] = self.table_apply(node, read)
            elif isinstance(node, ir.Binary) and node.op in ("&&", "||") and _applies(node.right):
                v = self.gen.uniq("sc")
                self.emit(f"{v} = {self.expr(node.left)}")
                self.emit(f"if {'' if node.op == '&&' else 'not '}{v}:")
                self.indent += 1
                self.hoist(node.right)
                self.emit(f"{v} = {self.expr(node.right)}")
                self.indent -= 1
                self.evaluated[id(node)] = v
            elif isinstance(node, ir.Conditional) and (_applies(node.then) or _applies(node.else_)):
                v = self.gen.uniq("mux")
                self.emit(f"if {self.expr(node.cond)}:")
                for branch in (node.then, node.else_):
                    self.indent += 1
                    self.hoist(branch)
                    self.emit(f"{v} = {self.expr(branch)}")
                    self.indent -= 1
                    if branch is node.then:
                        self.emit("else:")
                self.evaluated[id(node)] = v

    # ------------------------------------------------------------ calls
    def call(self, mc: ir.MethodCall) -> None:
        for a in mc.args:
            if a.value is not None:
                self.hoist(a.value)
        kind = mc.kind
        K = ir.CallKind
        if kind == K.TABLE_APPLY:
            if id(mc) not in self.hoisted:  # a statement: nothing reads its hit flag
                self.hoisted[id(mc)] = self.table_apply(mc, frozenset())
        elif kind == K.ACTION:
            self.inline_action(mc.decl, mc.args)
        elif kind == K.CONTROL_APPLY:
            self.inline_control(mc)
        elif kind == K.PARSER_APPLY:
            self.inline_parser(mc)
        elif kind == K.SET_VALID:
            self.invalidate_union_siblings(mc.target)
            self.set_valid(mc.target)
        elif kind == K.SET_INVALID:  # ABSENT's set_invalid does nothing, as it should
            if self.track_validity:
                self.emit(self.shape_change(mc.target, False))
            self.emit(f"_h = {self.expr_read(mc.target)}")
            fixed, var = self.register_bytes(mc.target)
            self.emit("if _h.valid:")
            self.emit(f"    pkt.grow -= {fixed}" if var is None else f"    pkt.grow -= ({fixed * 8} + _h.vl) >> 3")
            self.emit("_h.set_invalid()")
        elif kind in (K.PUSH_FRONT, K.POP_FRONT):
            self.forget_shape()
            self.emit(f"{self.expr(mc.target)}.{kind.value}({self.expr(mc.args[0].value)})")
        elif kind == K.EXTERN_FUNCTION:
            self.gen.externs.function(self, mc)
        elif kind == K.EXTERN_METHOD:
            self.gen.externs.method(self, mc)
        elif kind == K.EXTRACT:
            self.forget_shape()
            self.extract(mc)
        elif kind == K.ADVANCE:
            self.advance(mc)
        elif kind == K.VERIFY:
            cond, err = (self.expr(a.value) for a in mc.args)
            self.emit(f"if not {cond}:")
            self.emit(f"    raise _rt.ParserError({err})")
        elif kind == K.EMIT:
            self.emit_header(mc.args[0].value)
        elif kind == K.LOOKAHEAD or kind == K.IS_VALID:
            self.emit(self.expr(mc))
        else:
            raise unsupported(mc, f"the call '{mc.text or mc.method}' as a statement")

    @staticmethod
    def register_bytes(target) -> tuple[int, ir.Field | None]:
        """The bytes of `target`'s header without its varbit field, and that field if any:
        what simple_switch's add_header/remove_header (setValid/setInvalid) add to or take
        from the packet-length register (`pkt.grow`)."""
        var = varbit_field(target.type)
        t = resolve(target.type)
        return (t.width - (ir.bit_width(var.type) if var else 0)) // 8, var

    def set_valid(self, target) -> None:
        """Header.set_valid inlined for a plain header (no call per packet); an ABSENT lazy
        header becomes a new header object, which no alias can refer to yet."""
        fixed, var = self.register_bytes(target)
        if var is not None:
            self.forget_shape()
            self.emit(f"_h = {self.expr(target)}")
            self.emit("if not _h.valid:")
            self.emit(f"    pkt.grow += {fixed}")
            self.emit("    _h.set_valid()")
            return
        lazy = self.lazy_member(target, "_NOHDR")
        made = [f"    {self.shape_change(target, True)}"] if self.track_validity else []
        made += [f"    pkt.grow += {fixed}", "    _h.valid = True"]
        if lazy is not None and f"{lazy[0]}.{lazy[1]}" not in self.materialised:
            path = f"{lazy[0]}.{lazy[1]}"
            self.emit(f"_h = {path}")
            self.emit("if _h is _NOHDR:")  # a new header: invalid, zero; no test of either
            self.emit(f"    _h = {path} = _Header()")
            for m in made:
                self.emit(m)
            self.emit("elif not _h.valid:")
        else:
            path = self.expr(target)
            self.emit(f"_h = {path}")
            self.emit("if not _h.valid:")
        for m in made:
            self.emit(m)
        self.emit("    " + _ZERO)
        if _PATH.fullmatch(path):  # a write right after binds nothing again
            self.h_bound = (path, self.emitted, len(self.lines), self.indent, True)

    def shape_change(self, target, valid: bool) -> str:
        """The line that keeps the packet's shape (pkt.dep) when `target` becomes valid or
        invalid: a step to the shape with or without it for a fixed header of pkt.hdr
        (INT's setValid in egress), else forgetting the shape."""
        lazy = self.lazy_member(target, "_NOHDR")
        t = resolve(target.type)
        if lazy is None or lazy[0] != self.pkt_hdr or varbit_field(t) or t.width % 8:
            return FORGET_SHAPE
        return f"pkt.dep = {self.gen.shape_step(lazy[1], valid)}[pkt.dep]"

    def forget_shape(self) -> None:
        """In a control: the parser's shape no longer says which headers are valid."""
        if self.track_validity:
            self.emit(FORGET_SHAPE)

    def invalidate_union_siblings(self, member, union: str | None = None) -> None:
        """A header union holds at most one valid member: validating one clears the rest.
        `union` is the union's code when `member.expr` is only its stand-in for the type."""
        if not isinstance(member, ir.Member):
            return
        t = resolve(member.expr.type)
        if isinstance(t, ir.StructLike) and t.kind == "header_union":
            self.forget_shape()
            u = union or self.expr(member.expr)
            for f in t.fields:
                if f.name != member.member:
                    self.emit(f"{u}.{attr(f.name)}.set_invalid()")

    # ------------------------------------------------------------ actions
    def inline_action(self, decl: ir.ActionDecl, args: list[ir.Argument],
                      control_args: str | None = None) -> None:
        """Inline an action body; `control_args` is a tuple expression of control-plane args."""
        saved = self.scope
        self.scope = self.action_scope(decl)
        copy_out = []
        cp_params = decl.control_plane_params
        by_param = {id(a.param): a for a in args if a.param is not None}
        cp_names = []
        for i, prm in enumerate(decl.params):
            name = self.gen.uniq("a_" + prm.name)
            self.scope.names[id(prm)] = name
            arg = by_param.get(id(prm))
            if arg is None and i < len(args) and args[i].param is None:
                arg = args[i]
            if control_args is not None and prm in cp_params:
                cp_names.append(name)
                continue
            if arg is None or arg.value is None:
                self.emit(f"{name} = {self.zero(prm.type)}")
                continue
            if prm.direction == "out":
                self.emit(f"{name} = {self.zero(prm.type)}")
            else:
                if is_object(prm.type):  # copy-in: the body may also reach the argument itself
                    value = self.with_scope(saved, lambda a=arg: self.expr_read(a.value))
                    value = f"{value}.copy()"
                else:
                    value = self.with_scope(saved, lambda a=arg: self.expr(a.value))
                    value = self.convert(value, arg.value.type, prm.type, prm)
                    if value.isdigit() and prm.direction != "inout" and _only_read(decl.body, prm):
                        self.scope.names[id(prm)] = value  # a constant: folded where read
                        continue
                    if prm.direction in (None, "in") and _read_once(decl.body, prm, arg.value):
                        self.scope.names[id(prm)] = f"({value})"  # evaluated at its one use
                        continue
                self.emit(f"{name} = {value}")
            if prm.direction in ("out", "inout"):
                copy_out.append((arg.value, name, prm.type))
        body = decl.body
        if cp_names:
            targets, body = self.unpack_targets(decl, cp_names)
            self.emit(f"{', '.join(targets)}, = {control_args}")
        self.scope, body_scope = saved, self.scope
        if body.stmts or copy_out or not cp_names:  # else the unpacking was the whole action
            self.with_copy_out(copy_out, lambda: self.with_scope(body_scope,
                                                                  lambda: self.inline_body(body)))

    def unpack_targets(self, decl: ir.ActionDecl, names: list[str]) -> tuple[list[str], ir.Block]:
        """Where the control-plane arguments are unpacked to, and the body left to compile.

        An action body commonly starts `meta.f = p; meta.g = q;` (fabric.p4's
        set_candidates: 9 of them). A parameter used only by one such leading statement, into
        a scalar field of a metadata struct (one store, no conversion), is unpacked straight
        into that field: moved ahead of the other leading stores, which write other fields of
        plain structs, so no order can be seen. The rest get their local as before."""
        params = {id(p): i for i, p in enumerate(decl.control_plane_params)}
        uses = Counter(id(n.decl) for n in ir_nodes(decl.body) if isinstance(n, ir.PathExpr))
        targets, seen, stmts = list(names), set(), decl.body.stmts
        k = 0
        while k < len(stmts):
            s = stmts[k]
            if not (isinstance(s, ir.Assign) and not s.compound and isinstance(s.rhs, ir.PathExpr)
                    and id(s.rhs.decl) in params and uses[id(s.rhs.decl)] == 1
                    and isinstance(s.lhs, ir.Member) and not is_object(s.lhs.type)):
                break
            base = resolve(s.lhs.expr.type)
            if not (isinstance(base, ir.StructLike) and base.kind == "struct"):
                break
            i = params[id(s.rhs.decl)]
            lines = self.assign(s.lhs, names[i], s.rhs.type)
            m = re.fullmatch(r"([A-Za-z_]\w*\.[A-Za-z_]\w*) = " + re.escape(names[i]), lines[0]) \
                if len(lines) == 1 else None
            if m is None or m.group(1) in seen:
                break
            seen.add(m.group(1))
            targets[i] = m.group(1)
            k += 1
        return targets, ir.Block(stmts=stmts[k:]) if k else decl.body

    def with_copy_out(self, copy_out: list, body) -> None:
        """Run `body`'s code, then copy out/inout parameters back, also when it exits (P4-16:
        `exit` still copies out; p4c's issue2225 and gauntlet_exit_combination STF)."""
        if copy_out:
            self.emit("try:")
            self.indent += 1
        start = len(self.lines)
        body()
        if not copy_out:
            return
        if len(self.lines) == start:
            self.emit("pass")
        self.indent -= 1
        self.emit("except _rt.Exit:")
        self.indent += 1
        for lhs, name, t in copy_out:
            self.emit_all(self.assign(lhs, name, t))
        self.emit("raise")
        self.indent -= 1
        for lhs, name, t in copy_out:
            self.emit_all(self.assign(lhs, name, t))

    def with_scope(self, scope: Scope, fn):
        saved = self.scope
        self.scope = scope
        try:
            return fn()
        finally:
            self.scope = saved

    def action_scope(self, decl: ir.ActionDecl) -> Scope:
        base = self.ctx.scope if id(decl) in self.ctx.actions else self.gen.global_scope
        return base.child()

    def inline_body(self, body: ir.Block) -> None:
        if any(isinstance(n, ir.Return) for n in self.gen.statements(body)):
            self.emit("for _once in _ONCE:")
            self.indent += 1
            self.return_stmt.append("break")
            self.block(body.stmts)
            self.return_stmt.pop()
            self.indent -= 1
        else:
            self.block(body.stmts)

    # ------------------------------------------------------------ tables
    def table_apply(self, mc: ir.MethodCall, read: set[str] | frozenset[str],
                    open_guard: bool = False) -> tuple[str, str]:
        """Code applying a table; `read`: which of its results (hit, miss, action_run) code
        after it reads. Returns the names of its hit flag and action name. `open_guard`:
        only code under `if hit` follows; when the apply is skipped whole on an empty table
        (a no-op default) its guard stays open for that code (`guard_opened`)."""
        hit_read, run_read = bool(read & {"hit", "miss"}), "action_run" in read
        table: ir.TableDecl = mc.decl if isinstance(mc.decl, ir.TableDecl) else mc.target.decl
        tname = self.ctx.tables[id(table)]
        keys = [k for k in table.keys if k.match_kind != "selector"]
        sel = [k for k in table.keys if k.match_kind == "selector"]
        for k in table.keys:
            self.hoist(k.expr)

        def key_code(k):
            v = self.expr(k.expr)
            return f"(1 if {v} else 0)" if isinstance(resolve(k.expr.type), ir.BoolType) else v

        codes = [key_code(k) for k in keys]
        table_obj = self.gen.ns[tname]
        if table_obj.scalar_key and not table_obj.hit_updates_entry:
            kt = codes[0]  # its finder takes the value itself
        else:
            kt = "(" + "".join(c + ", " for c in codes) + ")"
        # selector fields are hashed like any data list (invalid headers' fields left out)
        st = self.gen.externs.data_bytes(self, ir.ListExpr([k.expr for k in sel])) if sel else "b''"
        sel_key = self.gen.externs.selector_key(self, ir.ListExpr([k.expr for k in sel]))
        # `_call`/`_entry`: one name for every table (read before any other apply can run);
        # `hit` and the action name may be used later, so they stay unique
        hit, call = self.gen.uniq("hit"), "_call"
        action = self.gen.uniq("act")
        # An empty table's result is its default: with keys that only read (nothing to run
        # or raise), no key is built (`empty`), and when that default does nothing the apply
        # is skipped whole (`noop`): globals the table keeps up to date (Table.bind_flags).
        empty = noop = None
        if all(_pure(k.expr) for k in table.keys):
            if table_obj.flag_names is None:
                table_obj.flag_names = (self.gen.obj("empty", None), self.gen.obj("noop", None))
            empty, noop = table_obj.flag_names
            if not table_obj.noop_actions:
                noop = None
        if noop is not None:
            if (hit_read or run_read) and not open_guard:  # skipped: no hit, the default's name
                self.emit(f"if {noop}:")
                if hit_read:
                    self.emit(f"    {hit} = False")
                if run_read:
                    self.emit(f"    {action} = {noop}[0]")
                self.emit("else:")
            else:
                self.emit(f"if not {noop}:")
            self.indent += 1
        looked_up = len(self.lines)
        self.lookup(table_obj, tname, kt, st, hit if hit_read else None, call, sel_key,
                    None if noop is not None or not table.keys else empty)
        act_line = len(self.lines)
        self.emit(f"{action} = {call}[0]")
        refs = [r for r in table.actions if r.decl is not None]
        # Each action's body, then the tests of the actions with a body: the names are
        # distinct and nothing follows the chain, so an action that does nothing (NoAction,
        # a table's usual miss) is tested by no branch at all.
        branches = []
        for ref in refs:
            self.indent += 1
            start = len(self.lines)
            self.inline_action(ref.decl, ref.args, control_args=f"{call}[1]")
            body = self.lines[start:]
            del self.lines[start:]
            self.indent -= 1
            if any(line.strip() != "pass" for line in body):
                branches.append((self.gen.action_name(ref.decl, self.ctx), body))
        name = action
        if not run_read and len(branches) == 1:  # only this test reads the name
            del self.lines[act_line]
            name = f"{call}[0]"
        # the table's only action runs unasked, its body one level out, unless an action
        # profile's group may have lost its members (EMPTY_GROUP: no action runs)
        only = len(refs) == 1 and table_obj.profile is None
        for i, (qname, body) in enumerate(branches):
            if only:
                self.lines += [line[4:] for line in body]
                continue
            self.emit(f"{'if' if i == 0 else 'elif'} {name} == {qname!r}:")
            self.lines += body
        if only and act_line - looked_up == 1 and name != action:
            _unpack_found_call(self.lines, looked_up)
        if noop is not None and open_guard:
            self.guard_opened = True
        elif noop is not None:
            self.indent -= 1
        return hit, action

    def lookup(self, table, tname: str, key: str, selector: str, hit: str | None,
               call: str, selector_key=None, empty: str | None = None) -> None:
        """Bind `hit` and the action `call` of a table lookup.

        A plain table's call is its key's action (Table.call_finder), a selector table's
        the call its key and selector values resolve to (Table.cached_selection): one C
        lookup, None for a miss, then the default. `hit` None: no code reads it. `empty`:
        the global holding the default call while the table has no entries (then no key
        is built). `selector_key`: the selector data as values (codegen_externs.selector_key).
        """
        find = None
        if table.hit_updates_entry:
            pass
        elif table.profile is None:
            if not table.keys and hit is None:  # its one call, kept by the table (keyless_call)
                self.emit(f"{call} = {tname}.keyless_call")
                return
            find = f"{self.gen.obj('calls', table.call_finder())}({key})"
        elif selector_key is not None:
            variants, values = selector_key
            find = f"{self.gen.obj('select', table.cached_selection(variants))}({values(key)})"
        if find is not None and hit is None:
            first = f"{empty} or " if empty else ""
            self.emit(f"{call} = {first}{find} or {tname}.default_action")
            return
        hit_read, hit = hit is not None, hit or self.gen.uniq("hit")
        if empty:
            self.emit(f"if {empty}:")
            self.emit(f"    {hit}, {call} = False, {empty}")
            self.emit("else:")
            self.indent += 1
        if find is not None:
            self.emit(f"{call} = {find}")
            self.emit(f"if {call} is None:")
            self.emit(f"    {hit}, {call} = False, {tname}.default_action")
            self.emit("else:")
            self.emit(f"    {hit} = True")
        else:
            self.search(table, tname, key, selector, hit if hit_read else None, call)
        if empty:
            self.indent -= 1

    def search(self, table, tname: str, key: str, selector: str, hit: str | None, call: str
               ) -> None:
        """`lookup`'s search of a table with no call finder: `Table.apply` when a hit
        changes the entry (Table.hit_updates_entry); else its entry, and the member or
        group's call with the selector data packed. `hit` None: nothing reads it."""
        if table.hit_updates_entry:
            hit = hit or self.gen.uniq("hit")
            self.emit(f"{hit}, {call} = {tname}.apply({key}, {selector}, pkt.sm.packet_length, "
                      f"pkt.now)")
            return
        entry = "_entry"
        self.emit(f"{entry} = {self.gen.obj('find', table.finder())}({key})")
        self.emit(f"if {entry} is None:")
        self.emit(f"    {hit}, {call} = False, {tname}.default_action" if hit else
                  f"    {call} = {tname}.default_action")
        self.emit("else:")
        resolve = self.gen.obj("resolve", table.profile.cached())
        self.emit(f"    {call} = {resolve}(({entry}.action, {selector}))")
        if hit is not None:
            self.emit(f"    {hit} = True")

    # ------------------------------------------------------------ sub-controls
    def inline_control(self, mc: ir.MethodCall) -> None:
        inst = mc.target.decl if isinstance(mc.target, ir.PathExpr) else None
        sub = self.ctx.controls.get(id(inst))
        if sub is None:
            raise unsupported(mc, "applying this control")
        decl: ir.ControlDecl = sub.decl
        saved_ctx, saved_scope = self.ctx, self.scope
        scope = sub.scope  # actions of the sub-control resolve its params through this scope
        copy_out = []
        for prm, arg in zip(decl.params, mc.args):
            given = arg.value.decl if isinstance(arg.value, ir.PathExpr) else None
            inst = self.ctx.instance(given)
            if prm.direction is None and inst is not None:  # an extern instance
                sub.instances[id(prm)] = inst  # (p4c: issue1958, a register as an argument)
                if (name := self.scope.lookup(given)) is not None:
                    scope.names[id(prm)] = name
                continue
            if is_object(prm.type):  # passed by reference: an outer parameter is used as is
                value = self.expr(arg.value)
                if _BOUND_ONCE.fullmatch(value):
                    scope.names[id(prm)] = value
                    continue
            name = self.gen.uniq("c_" + prm.name)
            scope.names[id(prm)] = name
            if prm.direction == "out" and not is_object(prm.type):
                self.emit(f"{name} = {self.zero(prm.type)}")
            else:
                self.emit(f"{name} = {self.expr(arg.value)}")
            if prm.direction in ("out", "inout") and not is_object(prm.type):
                copy_out.append((arg.value, name, prm.type))
        saved_hoisted, self.hoisted = self.hoisted, {}  # the same body may be inlined twice
        saved_evaluated, self.evaluated = self.evaluated, {}
        def body():
            self.ctx, self.scope = sub, scope
            self.gen.init_locals(self, decl)
            self.inline_body(decl.body)
            self.ctx, self.scope, self.hoisted = saved_ctx, saved_scope, saved_hoisted
            self.evaluated = saved_evaluated
        self.with_copy_out(copy_out, body)

    def inline_parser(self, mc: ir.MethodCall) -> None:
        """A sub-parser's states as a nested state machine at the call (p4c inlines them
        too): it reads on at the caller's offset; its accept returns to the caller, its
        reject ends the whole parse; out/inout arguments are copied in and out."""
        from fabriclab.switch.codegen_parser import ParserGenerator
        inst = mc.target.decl if isinstance(mc.target, ir.PathExpr) else None
        sub = self.ctx.controls.get(id(inst))
        if sub is None:
            raise unsupported(mc, "applying this parser")
        decl: ir.ParserDecl = sub.decl
        saved_ctx, saved_scope = self.ctx, self.scope
        copy_out = []
        for prm, arg in zip(decl.params, mc.args):
            if isinstance(resolve(prm.type), ir.ExternDecl):  # packet_in: the caller's data
                continue
            name = self.gen.uniq("s_" + prm.name)
            if prm.direction == "out":
                self.emit(f"{name} = {self.zero(prm.type)}")
            elif is_object(prm.type):
                self.emit(f"{name} = {self.expr_read(arg.value)}.copy()")
            else:
                self.emit(f"{name} = {self.expr(arg.value)}")
            sub.scope.names[id(prm)] = name
            if prm.direction in ("out", "inout"):
                copy_out.append((arg.value, name, prm.type))
        self.ctx, self.scope = sub, sub.scope
        self.gen.init_locals(self, decl)
        states = sorted(decl.states, key=lambda s: s.name != "start")
        ParserGenerator(self.gen, self, states, nested=True).emit()
        self.ctx, self.scope = saved_ctx, saved_scope
        for lhs, name, t in copy_out:
            self.emit_all(self.assign(lhs, name, t))

    # ------------------------------------------------------------ parser/deparser
    def extract(self, mc: ir.MethodCall) -> None:
        target = mc.args[0].value
        if target is None:  # extract<H>(_): the bytes of an H are read and dropped
            t = resolve(next(iter(mc.type_bindings.values())))
            if varbit_field(t) or not (isinstance(t, ir.StructLike) and t.is_header) or t.width % 8:
                raise unsupported(mc, f"extract into _ of {t.display()}")
            self.emit(f"if _off + {t.width // 8} > _n:")
            self.emit(f"    raise _rt.ParserError({self.gen.error_code('PacketTooShort')})")
            self.emit(f"_off += {t.width // 8}")
            return
        var = varbit_field(target.type)
        if (var is None) != (len(mc.args) == 1):
            raise unsupported(mc, "extract with a length of a header without a varbit field"
                              if var is None else "extracting a varbit header without a length")
        nbytes = self.varbit_length(target, mc.args[1].value) if var else self.header_bytes(target)
        too_short = self.gen.error_code("PacketTooShort")
        h = self.gen.uniq("x")
        nxt = target if is_next(target) else (
            target.expr if isinstance(target, ir.Member) and is_next(target.expr) else None)
        lazy = None if var else self.lazy_member(target, "_NOHDR")
        if lazy is not None:  # the field gets a new header object: no local holds it yet
            self.bound.pop(f"{lazy[0]}.{lazy[1]}", None)
        if self.const_off is not None and nxt is None and not var:
            at, end = self.const_off, self.const_off + nbytes
            self.emit(f"if _n < {end}:")
            self.emit(f"    _off = {at}")
            self.emit(f"    raise _rt.ParserError({too_short})")
            self._extract_into(h, target, lazy)
            # the slice and int.from_bytes from module globals: no slice built per packet
            sl = f"_sl_{at}_{end}"
            self.gen.ns.setdefault(sl, slice(at, end))
            self.emit(f"{h}.v = _from_bytes(_data[{sl}], 'big')")
            if lazy is not None:  # later reads here use the local (codegen_parser scopes it)
                self.bound[f"{lazy[0]}.{lazy[1]}"] = h
            self.emit(f"{h}.valid = True")
            self.const_off = end
            return
        if nxt is not None:  # `s.next` or a union stack's `s.next.member`: advances `next`
            stk = self.expr(nxt.expr)
            if not stk.isidentifier():  # a lazy stack's materialising test: once
                self.emit(f"_stk = {stk}")
                stk = "_stk"
            size = resolve(nxt.expr.type).size
            self.emit(f"if {stk}.nxt >= {size}:")
            self.emit(f"    raise _rt.ParserError({self.gen.error_code('StackOutOfBounds')})")
            self.emit(f"if _off + {nbytes} > _n:")
            self.emit(f"    raise _rt.ParserError({too_short})")
            member = "" if nxt is target else f".{attr(target.member)}"
            self.emit(f"{h} = {stk}.hs[{stk}.nxt]{member}")
            if member:
                self.invalidate_union_siblings(ir.Member(
                    ir.Index(nxt.expr, ir.Constant(0), type=nxt.type), target.member),
                    f"{stk}.hs[{stk}.nxt]")
            self.emit(f"{stk}.nxt += 1")
        else:
            self.emit(f"if _off + {nbytes} > _n:")
            self.emit(f"    raise _rt.ParserError({too_short})")
            self._extract_into(h, target, lazy)
        raw = f"_from_bytes(_data[_off:_off + {nbytes}], 'big')"
        if var:
            lay = self.gen.layout(resolve(target.type))[var.name]
            self.emit(f"{h}.load({raw}, _vl, {lay.shift}, {lay.width})")
        else:
            self.emit(f"{h}.v = {raw}")
            self.emit(f"{h}.valid = True")
        self.emit(f"_off += {nbytes}")

    def _extract_into(self, h: str, target, lazy: tuple[str, str, str] | None) -> None:
        """Bind local `h` to the header an extract fills: a new header object when the field
        still holds the shared absent one (`lazy`), else the header already there."""
        if lazy is not None:  # a new header object: the parser holds no other reference
            self.emit(f"{h} = {lazy[0]}.{lazy[1]} = _Header()")
        else:
            self.emit(f"{h} = {self.expr(target)}")
        self.invalidate_union_siblings(target)

    def varbit_length(self, target, length) -> str:
        """Checks of extract(hdr, len) as BMv2 makes them (seen in p4c's
        test-parserinvalidargument-error-bmv2 STF: a length that leaves the header short of
        whole bytes is ParserInvalidArgument, one over the field's maximum HeaderTooShort;
        which comes first when both hold is not confirmed); the header's byte count."""
        t = resolve(target.type)
        var = varbit_field(t)
        fixed, most = t.width - var.type.max_width, var.type.max_width
        self.emit(f"_vl = {self.expr(length)}")
        self.emit(f"if (_vl + {fixed}) & 7:")
        self.emit(f"    raise _rt.ParserError({self.gen.error_code('ParserInvalidArgument')})")
        self.emit(f"if _vl > {most}:")
        self.emit(f"    raise _rt.ParserError({self.gen.error_code('HeaderTooShort')})")
        self.emit(f"_vb = (_vl + {fixed}) >> 3")
        return "_vb"

    def header_bytes(self, e) -> int:
        t = resolve(e.type)
        if not (isinstance(t, ir.StructLike) and t.is_header):
            raise unsupported(e, "extracting a non-header")
        self.gen.layout(t)
        if t.width % 8:
            raise unsupported(e, f"header {t.name} of {t.width} bits (not a multiple of 8)")
        return t.width // 8

    def advance(self, mc: ir.MethodCall) -> None:
        bits = self.expr(mc.args[0].value)
        self.emit(f"_off += ({bits}) >> 3")
        self.emit("if _off > _n:")
        self.emit("    _off = _n")
        self.emit(f"    raise _rt.ParserError({self.gen.error_code('PacketTooShort')})")

    def emit_header(self, e) -> None:
        """Append a valid header's bytes to the deparser's output (`_put` is its append)."""
        t = resolve(e.type)
        if isinstance(t, ir.StructLike) and t.is_header:
            var = varbit_field(t)
            if var is None:
                nbytes = self.header_bytes(e)
            h = self.expr_read(e)
            if not h.replace("_", "").replace(".", "").isalnum():  # not a plain attribute path
                h = self.gen.uniq("e")
                self.emit(f"{h} = {self.expr(e)}")
            self.emit(f"if {h}.valid:")
            if var is None:
                self.emit(f"    _put({h}.v.to_bytes({nbytes}, 'big'))")
            else:
                lay = self.gen.layout(t)[var.name]
                fixed = t.width - lay.width
                self.emit(f"    _put({h}.wire({lay.shift}, {lay.width})"
                          f".to_bytes(({h}.vl + {fixed}) >> 3, 'big'))")
        elif isinstance(t, ir.StackType):
            if t.size == 0:  # an empty stack (`h_t[0]`) has nothing to emit
                return
            elem = resolve(t.elem)
            if not elem.is_header or varbit_field(elem):  # each element as a header/union
                for i in range(t.size):
                    idx = ir.Constant(i, type=ir.IntType(), text=str(i))
                    self.emit_header(ir.Index(e, idx, type=t.elem, text=f"{e.text}[{i}]"))
                return
            stk = self.gen.uniq("stack")
            self.emit(f"{stk} = {self.expr_read(e)}.hs")
            # The shared absent stack's elements (one tuple per size) are all invalid: a
            # packet that never touched the stack tests none of them.
            absent = f"_NOHS{t.size}"
            self.gen.ns.setdefault(absent, rt.absent_stack(t.size).hs)
            self.emit(f"if {stk} is not {absent}:")
            for i in range(t.size):  # unrolled: a stack's size is a constant
                self.emit(f"    if {stk}[{i}].valid:")
                self.emit(f"        _put({stk}[{i}].v.to_bytes({t.elem.width // 8}, 'big'))")
        elif isinstance(t, ir.StructLike):  # struct or header union: members in order
            for f in t.fields:
                member = ir.Member(e, f.name, type=f.type, text=f"{e.text}.{f.name}")
                self.emit_header(member)
        else:
            raise unsupported(e, f"emitting {t.display()}")


_CALL_LINE = re.compile(r"(\s*)_call = (.+)")
_ARGS_LINE = re.compile(r"(\s*)(.+) = _call\[1\]")
_CALL_NAME = re.compile(r"\b_call\b")


def _unpack_found_call(lines: list[str], at: int) -> None:
    """`_call = <lookup>` at `lines[at]` then `<targets> = _call[1]` (a table's one
    action unpacking its arguments first): one line, the lookup's args unpacked, when no
    other line reads `_call` (no local stored and loaded)."""
    found, unpack = _CALL_LINE.fullmatch(lines[at]), _ARGS_LINE.fullmatch(lines[at + 1]) \
        if at + 1 < len(lines) else None
    if found is None or unpack is None or found.group(1) != unpack.group(1) \
            or any(_CALL_NAME.search(line) for line in lines[at + 2:]):
        return
    lines[at:at + 2] = [f"{unpack.group(1)}{unpack.group(2)} = ({found.group(2)})[1]"]


_PURE = (ir.Constant, ir.BoolLiteral, ir.PathExpr, ir.Member, ir.EnumMember, ir.Slice,
         ir.Unary, ir.Cast)


def _pure(e) -> bool:
    """`e` only reads (fields, slices, casts, constants, arithmetic that cannot raise,
    isValid): leaving it unevaluated changes nothing. Conservative: no calls, stack indexes
    or stack `next`/`last`, division or conditionals."""
    for n in _walk(e, everything=True):
        if isinstance(n, ir.Binary):
            if n.op in ("/", "%"):
                return False
        elif isinstance(n, ir.MethodCall):
            if n.kind != ir.CallKind.IS_VALID:
                return False
        elif not isinstance(n, _PURE) or isinstance(n, ir.Member) and n.member in ("next", "last"):
            return False
    return True


def _only_read(body, prm) -> bool:
    """`prm` is only read in `body`: never assigned (in whole or in part) nor passed to a
    call, which might write it."""
    def names(e) -> bool:
        return any(isinstance(n, ir.PathExpr) and n.decl is prm for n in ir_nodes(e))
    for n in ir_nodes(body):
        if isinstance(n, ir.Assign) and names(n.lhs) or isinstance(n, ir.MethodCall) and any(
                a.value is not None and names(a.value) for a in n.args):
            return False
    return True


def _leading_apply(cond) -> ir.MethodCall | None:
    """The table apply of `t.apply().hit` when `cond` is that or an && chain starting
    with it (and applying no other table): false whenever that hit is."""
    while isinstance(cond, ir.Binary) and cond.op == "&&" and not _applies(cond.right):
        cond = cond.left
    if isinstance(cond, ir.Member) and cond.member == "hit" and isinstance(cond.expr, ir.MethodCall) \
            and cond.expr.kind == ir.CallKind.TABLE_APPLY:
        return cond.expr
    return None


def _read_once(body, prm, arg) -> bool:
    """`prm`, an in parameter bound to `arg`, can be `arg` itself at its one use: read
    once, `arg` only reads (_pure) and nothing in `body` writes a variable `arg` reads
    (no assignment to it, no out/inout argument or call target within it, no action
    called: P4 functions are inlined before, an action's body is not in `body`)."""
    if not _pure(arg) or not _only_read(body, prm) or sum(
            isinstance(n, ir.PathExpr) and n.decl is prm for n in ir_nodes(body)) != 1:
        return False
    reads = {id(n.decl) for n in _walk(arg, everything=True) if isinstance(n, ir.PathExpr)}
    for n in ir_nodes(body):
        written = [n.lhs] if isinstance(n, ir.Assign) else []
        if isinstance(n, ir.MethodCall):
            if n.kind == ir.CallKind.ACTION:  # its body (not under this one) may write anything
                return False
            written = [a.value for a in n.args if a.value is not None
                       and (a.param is None or a.param.direction in ("out", "inout"))]
            written += [n.target] if n.target is not None else []
        for w in written:
            while isinstance(w, (ir.Member, ir.Index, ir.Slice)):
                w = w.expr
            if not isinstance(w, ir.PathExpr) or id(w.decl) in reads:
                return False
    return True


def _assigned_next(stmts, i: int, always: Callable[[Any], bool]) -> bool:
    """stmts[i] declares a scalar without a value and a statement after it always stores
    one into it without reading it first: an assignment, a hash(), or a register read() or
    random() whose generated code stores on every path (`always`: an index that cannot be
    out of range, constant bounds lo <= hi; else BMv2 leaves the variable as it was). Between them
    only other such declarations and such stores into other names, none reading it
    (`bit<32> depth; bit<48> seen; r1.read(depth, p); r2.read(seen, p);`)."""
    decl = stmts[i]
    if not (isinstance(decl, ir.VarDecl) and decl.init is None and not is_object(decl.type)):
        return False
    for s in stmts[i + 1:]:
        target = _stored_into(s, always)
        if target is decl:
            return not _reads(s, decl)
        if target is None and not (isinstance(s, ir.VarDecl) and s.init is None) \
                or _reads(s, decl):
            return False
    return False


def _stored_into(s, always: Callable[[Any], bool]) -> ir.Node | None:
    """The declaration `s` always stores a scalar into (an assignment to a name, a hash(),
    or a register read() or random() that `always` stores), or None."""
    if isinstance(s, ir.Assign):
        return s.lhs.decl if isinstance(s.lhs, ir.PathExpr) else None
    if not isinstance(s, ir.CallStmt):
        return None
    mc = s.call
    args = [a.value for a in mc.args]
    if not args or not isinstance(args[0], ir.PathExpr) or any(a is None for a in args[1:]):
        return None
    if mc.kind == ir.CallKind.EXTERN_FUNCTION:
        return args[0].decl if mc.method == "hash" or mc.method == "random" and always(s) else None
    inst = mc.target.decl if isinstance(mc.target, ir.PathExpr) else None
    if mc.kind == ir.CallKind.EXTERN_METHOD and mc.method == "read" and isinstance(
            inst, ir.Instance) and _extern_name(inst.type) == "register" and always(s):
        return args[0].decl
    return None


def _independent(cond, stored) -> bool:
    """`cond` reads nothing the store into `stored` (a local or a struct's field, not a
    header's) may change, and calls nothing: it tests the same after that store."""
    st = resolve(stored.expr.type) if isinstance(stored, ir.Member) else None
    if not (isinstance(stored, ir.PathExpr) or isinstance(st, ir.StructLike) and st.kind == "struct"):
        return False
    for n in _walk(cond, True):
        if isinstance(n, ir.MethodCall) or isinstance(n, ir.PathExpr) and isinstance(
                stored, ir.PathExpr) and n.decl is stored.decl or isinstance(n, ir.Member) \
                and isinstance(stored, ir.Member) and n.member == stored.member:
            return False
    return True


def _reads(s, decl) -> bool:
    """The store `s` (see _stored_into) reads `decl` or applies a table (which may)."""
    values = [s.rhs] if isinstance(s, ir.Assign) else [a.value for a in s.call.args[1:]] \
        if isinstance(s, ir.CallStmt) else []
    return any(isinstance(n, ir.PathExpr) and n.decl is decl or isinstance(n, ir.MethodCall)
               and n.kind == ir.CallKind.TABLE_APPLY for v in values for n in _walk(v, True))


# A control's or parser's own parameter (`_p_hdr_3`) or an applied control's (`_c_meta_7`):
# bound once per packet, never rebound, so a sub-control's parameter can be that name itself.
_BOUND_ONCE = re.compile(r"_[pc]_[A-Za-z0-9_]*_[0-9]+")


def is_next(e) -> bool:
    """`e` is a header stack's `next`."""
    return isinstance(e, ir.Member) and e.member == "next" \
        and isinstance(resolve(e.expr.type), ir.StackType)
