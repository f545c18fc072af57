"""Parser translation: a P4 parser -> one Python function `parse(pkt, _data)`.

States run in a `while True` loop dispatched on the state number `_st` (a sub-parser's
states: a nested loop at the caller's `apply`, on its own state variable), but only the
states that need it: the start state, states on a cycle (header stack loops) and states
that would otherwise be copied more than `MAX_COPIES` times. Every other state is
inlined where a transition goes to it, so the common path (Ethernet, IPv4, UDP, ...) is
straight-line code with no dispatch. Consecutive select cases that go to the same state
share one test (`key in (a, b, c)` for plain values).
"""

from __future__ import annotations

from fabriclab.errors import FabricError
from fabriclab.p4 import ir
from fabriclab.switch.codegen_expr import attr, holds_headers, resolve, varbit_field
from fabriclab.switch.codegen_stmt import BlockCompiler, is_next

MAX_COPIES = 4
_END = ("accept", "reject")


def _plain_value(ks) -> bool:
    return not isinstance(ks, (ir.DefaultExpr, ir.Mask, ir.Range)) and not (
        isinstance(ks, ir.PathExpr) and isinstance(ks.decl, ir.ValueSetDecl))


def _one_of(key: str, values: list[str]) -> str:
    """`key in` the values: a constant frozenset (one hash, whatever their number: a
    tuple compares them one by one, most of them on the usual path, the last case) when
    all are integer literals, else a tuple."""
    if len(values) > 2 and all(v.isdigit() for v in values):
        return f"{key} in {{{', '.join(values)}}}"
    return f"{key} in ({''.join(f'{v}, ' for v in values)})"


def _groups(t: ir.Transition) -> list[tuple[str, list[ir.SelectCase]]]:
    """A select's cases as runs of consecutive cases with the same next state."""
    out: list[tuple[str, list[ir.SelectCase]]] = []
    for case in t.select.cases:
        if out and out[-1][0] == case.state:
            out[-1][1].append(case)
        else:
            out.append((case.state, [case]))
    return out


def _packed_cond(key: str, places: list[tuple[int, int]], cases: list[ir.SelectCase]) -> str:
    """The test of cases on a packed select key (ParserGenerator.packed_select)."""
    tests, values = [], []
    full = 0
    for shift, fmask in places:
        full |= fmask << shift
    for case in cases:
        sets = case.keysets
        if len(sets) == 1 and isinstance(sets[0], ir.DefaultExpr):
            return "True"
        cmask = cvalue = 0
        for ks, (shift, fmask) in zip(sets, places):
            if isinstance(ks, ir.DefaultExpr):
                continue
            value, mask = (ks.value.value, ks.mask.value) if isinstance(ks, ir.Mask) else (ks.value, fmask)
            cmask |= (mask & fmask) << shift
            cvalue |= (value & mask) << shift
        if cmask == full:
            values.append(cvalue)
        else:
            tests.append("True" if cmask == 0 else f"({key} & {cmask}) == {cvalue}")
    if "True" in tests:
        return "True"
    if len(values) == 1:
        tests.insert(0, f"{key} == {values[0]}")
    elif values:
        tests.insert(0, _one_of(key, [str(v) for v in values]))
    return " or ".join(tests if len(tests) == 1 else (f"({c})" for c in tests))


def _constant_extract(s) -> bool:
    """`s` is an extract of a fixed-width header into a header (not a stack's next)."""
    if not (isinstance(s, ir.CallStmt) and s.call.kind == ir.CallKind.EXTRACT):
        return False
    args = s.call.args
    target = args[0].value if args else None
    if target is None or len(args) != 1:
        return False
    return not (is_next(target) or isinstance(target, ir.Member) and is_next(target.expr))


def _is_extract(s) -> bool:
    """`s` is a one-argument extract (of a fixed-width header, or into a stack's next)."""
    return isinstance(s, ir.CallStmt) and s.call.kind == ir.CallKind.EXTRACT \
        and len(s.call.args) == 1


def _keeps_validity(s) -> bool:
    """`s` (a parser statement other than a constant extract) leaves every header's
    validity as it is (conservative: anything else may change it)."""
    if isinstance(s, ir.Assign):
        return not holds_headers(s.lhs.type)
    if isinstance(s, (ir.VarDecl, ir.ConstDecl)):
        return True  # a local: not the packet's headers
    return isinstance(s, ir.CallStmt) and s.call.kind in (
        ir.CallKind.VERIFY, ir.CallKind.ADVANCE, ir.CallKind.LOOKAHEAD, ir.CallKind.IS_VALID)


def _targets(state: ir.ParserState) -> list[str]:
    """Next states as generated code mentions them (one per group of a select)."""
    t = state.transition
    if t is None:
        return []
    names = [t.state] if t.select is None else [name for name, _ in _groups(t)]
    return [n for n in names if n not in _END]


RUNTIME = "runtime"  # ParserGenerator.shape in a dispatched state: the local `_shape`


class ParserGenerator:
    def __init__(self, gen, bc: BlockCompiler, states: list[ir.ParserState],
                 nested: bool = False, hdr_param: ir.Param | None = None) -> None:
        self.gen, self.bc = gen, bc
        self.nested = nested  # a sub-parser inlined in a caller's state (see inline_parser)
        self.st = gen.uniq("st") if nested else "_st"
        self.states = {s.name: s for s in states}
        for s in states:
            for name in _targets(s):
                if name not in self.states:
                    raise FabricError(f"parser state '{name}' does not exist")
        self.inline = self._inlined(states)
        self.dispatched = [s for s in states if s.name not in self.inline]
        self.ids = {s.name: i for i, s in enumerate(self.dispatched)}
        # On the straight path from the start state: the headers struct's fields extracted
        # so far, when nothing else there may have changed validity (else None). Its accepts
        # store the shape's deparser in `pkt.dep` (PipelineGenerator.shape_deparser).
        # In a state the loop dispatches (a header stack's loop) it is RUNTIME: the local
        # `_shape` holds the deparser so far, stepped by each extract, None once unknown.
        # `hdr_param`: the top parser's headers parameter when the deparser has a shape path.
        self.shape: tuple[str, ...] | str | None = None
        self.hdr_param = hdr_param

    # ------------------------------------------------------------ which states to inline
    def _inlined(self, states: list[ir.ParserState]) -> set[str]:
        succ = {s.name: _targets(s) for s in states}
        inline = {s.name for s in states[1:] if not self._on_cycle(s.name, succ)}
        while True:
            copies: dict[str, int] = {}
            for src in succ:
                if src not in inline:
                    self._count(src, succ, inline, copies, 1)
            worst = max(copies, key=copies.get, default=None)
            if worst is None or copies[worst] <= MAX_COPIES:
                return inline
            inline.discard(worst)

    def _count(self, src: str, succ, inline, copies: dict[str, int], n: int) -> None:
        for name in succ[src]:
            if name in inline:
                copies[name] = copies.get(name, 0) + n
                self._count(name, succ, inline, copies, n)

    @staticmethod
    def _on_cycle(name: str, succ) -> bool:
        seen, todo = set(), list(succ[name])
        while todo:
            n = todo.pop()
            if n == name:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(succ[n])
        return False

    # ------------------------------------------------------------ code
    def emit(self) -> None:
        bc = self.bc
        if self.nested:  # the caller's loop, offset and error handler are around this one
            bc.emit(f"{self.st} = 0")
            bc.emit("while True:")
            bc.indent += 1
            self.dispatch()
            bc.indent -= 1
            return
        bc.emit("_n = len(_data)")
        bc.emit("_off = 0")
        bc.emit("_st = 0")
        # the start state runs at offset 0 unless a transition comes back to it
        self.start_at_zero = not any("start" in _targets(s) for s in self.states.values())
        if self.hdr_param is not None and not self.start_at_zero:
            bc.emit(f"_shape = {self.gen.shape_deparser(())}")
        bc.emit("try:")
        bc.emit("    while True:")
        bc.indent += 2
        self.dispatch()
        bc.indent -= 2
        bc.emit("except _rt.ParserError as _e:")
        bc.emit("    pkt.sm.parser_error = _e.code")
        bc.emit("pkt.payload = _data[_off:]")

    def dispatch(self) -> None:
        bc = self.bc
        for i, state in enumerate(self.dispatched):
            bc.emit(f"{'if' if i == 0 else 'elif'} {self.st} == {i}:  # {state.name}")
            bc.indent += 1
            at_zero = i == 0 and not self.nested and self.start_at_zero
            bc.const_off = 0 if at_zero else None
            self.shape = None if self.hdr_param is None else () if at_zero else RUNTIME
            bc.bound = {}  # a dispatched state may run after any other (loops): no locals
            self.state(state)
            bc.const_off = None
            bc.indent -= 1
        bc.bound = {}

    def store_offset(self) -> None:
        """`_off = <the known offset>` before code that reads it (a break, a raise, the
        next dispatched state, a statement or select key using it)."""
        if self.bc.const_off is not None:
            self.bc.emit(f"_off = {self.bc.const_off}")
            self.bc.const_off = None

    def emit_reading_offset(self, emit) -> None:
        """Run `emit` (which adds lines) with the offset unknown; if its lines read `_off`
        or raise, store the known offset before them, else keep it known."""
        bc = self.bc
        known, start = bc.const_off, len(bc.lines)
        bc.const_off = None
        emit()
        if known is None:
            return
        new = bc.lines[start:]
        if any("_off" in line or "raise" in line for line in new):
            bc.lines.insert(start, "    " * bc.indent + f"_off = {known}")
        else:
            bc.const_off = known

    def state(self, state: ir.ParserState) -> None:
        for s in state.stmts:
            if self.bc.const_off is not None and _constant_extract(s):
                step = self.note_extract(s.call.args[0].value)
                self.bc.stmt(s)  # at the known offset, which it advances
            else:
                step = self.note_extract(s.call.args[0].value) if _is_extract(s) else (
                    None if _keeps_validity(s) else self.lose_shape())
                self.emit_reading_offset(lambda s=s: self.bc.stmt(s))
            if step is not None:  # after the extract: one that fails leaves no shape
                self.bc.emit(f"_shape = {step}[_shape]")
        self.transition(state.transition)

    def lose_shape(self) -> None:
        """Validity may change here: no shape from now on this path."""
        if self.shape == RUNTIME:
            self.bc.emit("_shape = None")
        self.shape = None

    def note_extract(self, target) -> str | None:
        """The shape after extracting into `target`: one more header of the struct or one
        more element of one of its stacks (`next`), or unknown (a header elsewhere, a union
        member, a varbit header, an element by index). In a RUNTIME state: the name of the
        step to apply to `_shape` after the extract, else None."""
        if self.shape is None:
            return None
        stack = target.expr if is_next(target) else None
        member = stack if stack is not None else target
        if not (isinstance(member, ir.Member) and isinstance(member.expr, ir.PathExpr)
                and member.expr.decl is self.hdr_param):
            return self.lose_shape()
        name = attr(member.member)
        if stack is not None:
            push = self.gen.shape_push(name)
            if push is None:
                return self.lose_shape()
            if self.shape == RUNTIME:
                return push
            k = sum(1 for h in self.shape if h.startswith(name + "["))
            self.shape = (*self.shape, f"{name}[{k}]")
            return None
        t = resolve(target.type)
        if not (isinstance(t, ir.StructLike) and t.is_header and not varbit_field(t)):
            return self.lose_shape()
        if self.shape == RUNTIME:
            return self.gen.shape_step(name, True)
        self.shape = (*self.shape, name)
        return None

    def goto(self, name: str) -> None:
        bc = self.bc
        static = self.shape if isinstance(self.shape, tuple) else None
        if name == "accept" and self.shape is not None:
            bc.emit(f"pkt.dep = {'_shape' if static is None else self.gen.shape_deparser(static)}")
        elif name in self.ids and self.hdr_param is not None and self.shape != RUNTIME:
            # a dispatched state reads the shape so far from `_shape`
            bc.emit(f"_shape = {'None' if static is None else self.gen.shape_deparser(static)}")
        if name == "reject" and self.nested:  # ends the caller's parse too
            bc.emit(f"raise _rt.ParserError({self.gen.error_code('NoError')})")
        elif name in _END:
            self.store_offset()
            bc.emit("break")
        elif name in self.inline:
            bc.emit(f"# {name}")
            self.state(self.states[name])
        else:
            self.store_offset()
            bc.emit(f"{self.st} = {self.ids[name]}")

    def transition(self, t: ir.Transition | None) -> None:
        bc = self.bc
        if t is None:
            self.goto("reject")
            return
        if t.select is None:
            self.goto(t.state)
            return
        keys = []
        packed = self.packed_select(t)
        if packed is not None:  # one key: the fields' bits of the header's int
            name, (code, places) = self.gen.uniq("k"), packed
            self.emit_reading_offset(lambda: bc.emit(f"{name} = {code}"))
        else:
            for k in t.select.keys:
                name = self.gen.uniq("k")
                self.emit_reading_offset(lambda k=k, name=name: bc.emit(f"{name} = {bc.expr(k)}"))
                keys.append(name)
        first = True
        known = bc.const_off  # each case starts from the offset before the select
        shape, bound = self.shape, bc.bound  # and from the shape and locals before it
        for target, cases in _groups(t):
            bc.const_off, self.shape, bc.bound = known, shape, dict(bound)
            if packed is not None:
                cond = _packed_cond(name, places, cases)
            elif len(keys) == 1 and len(cases) > 1 and all(_plain_value(c.keysets[0]) for c in cases):
                cond = _one_of(keys[0], [bc.expr(c.keysets[0]) for c in cases])
            else:
                conds = [self.case_cond(keys, c) for c in cases]
                cond = "True" if "True" in conds else " or ".join(
                    conds if len(conds) == 1 else (f"({c})" for c in conds))
            bc.emit(f"{'if' if first else 'elif'} {cond}:")
            first = False
            bc.indent += 1
            self.goto(target)
            bc.indent -= 1
        bc.const_off = known
        bc.emit("else:" if not first else "if True:")
        bc.indent += 1
        self.store_offset()
        bc.emit(f"raise _rt.ParserError({self.gen.error_code('NoMatch')})")
        bc.indent -= 1
        bc.const_off = None

    def packed_select(self, t: ir.Transition) -> tuple[str, list[tuple[int, int]]] | None:
        """A select on unsigned fields of one header whose cases are constants, masks of
        constants or defaults: (the key's code `h.v & mask`, (shift, field mask) per key),
        so a case is one test of that number (IPv4's ihl and protocol: one key, not two
        shifted fields). None otherwise."""
        heads, places = set(), []
        for k in t.select.keys:
            ht = resolve(k.expr.type) if isinstance(k, ir.Member) else None
            kt = resolve(k.type)
            if not (isinstance(ht, ir.StructLike) and ht.is_header and not varbit_field(ht)
                    and isinstance(kt, ir.BitType) and not kt.signed):
                return None
            lay = self.gen.layout(ht)[k.member]
            heads.add(self.bc.expr_read(k.expr))
            places.append((lay.shift, lay.mask))
        if len(heads) != 1 or len(places) < 2 and places[0][0] == 0:
            return None  # one field at the bottom: `v & mask` as it is already
        for case in t.select.cases:
            sets = case.keysets
            if len(sets) == 1 and isinstance(sets[0], ir.DefaultExpr):
                continue
            if len(sets) != len(places):
                return None
            for ks, (_, fmask) in zip(sets, places):
                if isinstance(ks, ir.DefaultExpr):
                    continue
                value, mask = (ks.value, ks.mask) if isinstance(ks, ir.Mask) else (ks, None)
                v = self.bc.const_of(value)
                m = fmask if mask is None else self.bc.const_of(mask)
                if v is None or m is None or v < 0 or m < 0 or v & m & ~fmask:
                    return None  # out of the field's range: the tests as they are
        mask = 0
        for shift, fmask in places:
            mask |= fmask << shift
        return f"({heads.pop()}.v & {mask})", places

    def case_cond(self, keys: list[str], case: ir.SelectCase) -> str:
        bc = self.bc
        conds = []
        sets = case.keysets
        if len(sets) == 1 and len(keys) > 1 and isinstance(sets[0], ir.DefaultExpr):
            sets = sets * len(keys)
        if len(sets) == 1 and isinstance(sets[0], ir.PathExpr) \
                and isinstance(sets[0].decl, ir.ValueSetDecl):
            sets = []  # a value set matches all keys at once
            conds.append(f"{bc.expr(case.keysets[0])}.match(({''.join(k + ', ' for k in keys)}))")
        for key, ks in zip(keys, sets):
            cond = self.keyset_cond(key, ks)
            if cond is not None:
                conds.append(cond)
        return " and ".join(conds) if conds else "True"

    def keyset_cond(self, key: str, ks) -> str | None:
        bc = self.bc
        if isinstance(ks, ir.DefaultExpr):
            return None
        if isinstance(ks, ir.Mask):
            m = bc.expr(ks.mask)
            return f"({key} & {m}) == ({bc.expr(ks.value)} & {m})"
        if isinstance(ks, ir.Range):
            return f"{bc.expr(ks.lo)} <= {key} <= {bc.expr(ks.hi)}"
        return f"{key} == {bc.expr(ks)}"
