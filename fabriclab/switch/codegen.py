"""Compile a checked v1model program into Python source once.

`generate_pipeline(program)` returns a `PipelineCode`: a description of the program made of
the generated module (source and compiled code), the objects that module refers to, and
the runtime state the control plane edits (tables, action profiles, counters, meters,
registers, value sets), named by their P4Info fully qualified names. The switch core loads
it once with `PipelineCode.load(drop_port)`, which binds the core's drop port and returns
the `StageFunctions` it calls per packet. Code generation never sees the core.
Nothing on the packet path looks at the IR again (ARCHITECTURE principle 2).
"""

from __future__ import annotations

import copy
import itertools
import linecache
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import BuiltinMethodType, CodeType, ModuleType

from fabriclab.errors import FabricError
from fabriclab.p4 import ir
from fabriclab.switch import codegen_runtime as rt
from fabriclab.switch.codegen_expr import (FieldLayout, Scope, attr, check_stack, header_layout,
                                           is_object, max_bits, resolve, unsupported,
                                           varbit_field)
from fabriclab.switch.codegen_externs import ExternCompiler
from fabriclab.switch.codegen_parser import ParserGenerator
from fabriclab.switch.codegen_ranges import FieldRanges
from fabriclab.switch.codegen_stmt import BlockCompiler, ControlCtx, ir_nodes
from fabriclab.switch.tables import ActionProfile, Table
from fabriclab.switch.v1model import PacketState

# V1Switch's six arguments, in order (v1model.p4 names its parameters p, vr, ig, eg, ck, dep).
V1SWITCH_STAGES = ("parser", "verify_checksum", "ingress", "egress", "compute_checksum",
                   "deparser")


def qualify(prefix: str, decl) -> str:
    """p4c's control-plane name: `@name` (absolute with a leading dot) or prefix + name."""
    anno = decl.annotation("name") if hasattr(decl, "annotation") else None
    if anno is not None and anno.args:
        name = str(anno.args[0])
        return name[1:] if name.startswith(".") else prefix + name
    return prefix + decl.name


def _shape_header(t) -> bool:
    """A header a shape's deparser can pack: fixed width, whole bytes."""
    return isinstance(t, ir.StructLike) and t.is_header and not varbit_field(t) and t.width % 8 == 0


def _shape_elements(t: ir.StackType) -> tuple[int, int]:
    """(bytes of an element, size) of a stack whose elements shapes may hold, else (0, 0)."""
    elem = resolve(t.elem)
    return (elem.width // 8, t.size) if _shape_header(elem) else (0, 0)


@dataclass(frozen=True)
class StageFunctions:
    """The generated functions the core calls for each packet, in v1model's stage order.

    run_ingress(port, data, now_us, instance_type, depth, preserved) -> packet: a new packet
    through parser, verifyChecksum and ingress in one call (`preserved`: None, or (metadata,
    field list) for resubmit/recirculate: copied in before the parser runs, and the packet's
    standard metadata says port 0 and timestamp 0, as simple_switch's);
    finish(packet) -> frame: computeChecksum then deparser; new_packet() + parse(packet,
    data) for I2E clones."""

    new_packet: Callable
    parse: Callable
    run_ingress: Callable
    egress: Callable
    finish: Callable
    copy_field_list: Callable


@dataclass
class PipelineCode:
    """A generated program: its module and the runtime state that module's functions use.

    `load` is called once, by the one core that owns the runtime state.
    """

    source: str
    code: CodeType
    namespace: dict[str, object]
    tables: dict[str, Table] = field(default_factory=dict)
    action_profiles: dict[str, ActionProfile] = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    meters: dict = field(default_factory=dict)
    registers: dict = field(default_factory=dict)
    value_sets: dict = field(default_factory=dict)

    def fresh(self) -> PipelineCode:
        """A copy with its own runtime state (tables, externs, the random generator and the
        bound methods the module calls on them, deep-copied together so they stay one graph);
        code and classes shared."""
        memo = {id(v): v for v in self.namespace.values() if isinstance(v, ModuleType)}
        ns, *state = copy.deepcopy((self.namespace, self.tables, self.action_profiles, self.counters,
                                    self.meters, self.registers, self.value_sets), memo)
        for name, value in ns.items():  # deepcopy keeps C methods (a table's dict.get) as they are
            owner = getattr(value, "__self__", None)
            if isinstance(value, BuiltinMethodType) and owner is not None and not isinstance(owner, ModuleType):
                ns[name] = getattr(copy.deepcopy(owner, memo), value.__name__)
        return PipelineCode(self.source, self.code, ns, *state)

    def load(self, drop_port: int) -> StageFunctions:
        """Run the module with the core's drop port bound in it."""
        ns = dict(self.namespace, _drop_port=drop_port)
        exec(self.code, ns)
        for table in self.tables.values():  # their empty-table flags: globals of this module
            table.bind_flags(ns)
        return StageFunctions(*(ns[name] for name in STAGE_FUNCTIONS))


STAGE_FUNCTIONS = ("new_packet", "parse", "run_ingress", "egress", "finish", "copy_field_list")


def _valid_header(v: int) -> rt.Header:
    """A valid header holding `v` (a header-typed struct expression or lookahead)."""
    h = rt.Header()
    h.valid = True
    h.v = v
    return h


class PipelineGenerator:
    """State shared while generating one program's module."""

    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.counter = itertools.count()
        self.ns: dict[str, object] = {"_rt": rt, "_Header": rt.Header, "_Stack": rt.Stack,
                                      "_VarHeader": rt.VarHeader, "_NOHDR": rt.ABSENT,
                                      "_mat": rt.materialize, "_from_bytes": int.from_bytes,
                                      "_ONCE": (0,), "_valid_header": _valid_header}
        self.classes: dict[int, str] = {}
        # structs whose plain header fields start as the shared ABSENT header (see lazy_field)
        self.lazy: set[int] = set()
        self.stage_args: dict[int, list] = {}  # id(main's parser/control) -> its constructor arguments
        self.class_src: list[str] = []
        self.layouts: dict[int, dict[str, FieldLayout]] = {}
        self.action_names: dict[int, str] = {}  # global actions
        self.global_scope = Scope()
        self.tables: dict[str, Table] = {}
        self.action_profiles: dict[str, ActionProfile] = {}
        self.counters: dict = {}
        self.meters: dict = {}
        self.registers: dict = {}
        self.value_sets: dict = {}
        # the deparser as a list of (hdr attribute, bytes, stack size) when a shape fast path fits it
        # (see shape_deparser), the functions' names for the parser's shapes, the steps'
        # names for controls' validity changes
        self.deparse_order: list[tuple[str, int, int]] | None = None
        self.shapes: dict[frozenset[str], str] = {}
        self.steps: dict[tuple[str, object], str] = {}
        self.deparsers: rt.ShapeDeparsers | None = None
        self.rng = random.Random(0)
        self.written = _written_names(program)
        self.ranges: FieldRanges | None = None  # set once the target's own struct is known
        self.externs = ExternCompiler(self)
        for decl in program.actions:
            self.action_names[id(decl)] = qualify("", decl)
        for decl in program.decls:  # top-level extern instances (e.g. shared registers)
            if isinstance(decl, ir.Instance) and decl is not program.main \
                    and not isinstance(resolve(decl.type), (ir.BlockTypeDecl, ir.ControlDecl,
                                                            ir.ParserDecl)):
                name = self.externs.instantiate(decl, qualify("", decl))
                if name is not None:
                    self.global_scope.names[id(decl)] = name

    def index_bits(self, e) -> int | None:
        """max_bits of an extern's index, also through a local that is never written after
        its initialiser (`bit<32> port = (bit<32>)sm.egress_port;`: 9 bits) and a metadata
        field by every write to it (codegen_ranges): range checks that can never fail are
        left out."""
        if isinstance(e, ir.Cast) and isinstance(t := resolve(e.type), ir.BitType) and not t.signed:
            inner = self.index_bits(e.expr)
            return t.width if inner is None else min(t.width, inner)
        if isinstance(e, ir.Member) and isinstance(t := resolve(e.type), ir.BitType) and not t.signed \
                and self.ranges is not None and (bits := self.ranges.field_bits(e)) is not None:
            return min(t.width, bits)  # a metadata field no write fills past `bits`
        decl = getattr(e, "decl", None)
        if (isinstance(e, ir.PathExpr) and isinstance(decl, ir.VarDecl) and decl.init is not None
                and id(decl) not in self.written
                and isinstance(t := resolve(decl.type), ir.BitType) and not t.signed):
            inner = self.index_bits(decl.init)
            return t.width if inner is None else min(t.width, inner)
        return max_bits(e)

    # ------------------------------------------------------------ naming
    def uniq(self, hint: str) -> str:
        clean = "".join(c if c.isalnum() or c == "_" else "_" for c in hint)
        return f"_{clean}_{next(self.counter)}"

    def obj(self, hint: str, value) -> str:
        name = self.uniq(hint)
        self.ns[name] = value
        return name

    def action_name(self, decl: ir.ActionDecl, ctx: ControlCtx) -> str:
        """P4Info name: per control instance for local actions, plain for global ones."""
        name = ctx.actions.get(id(decl)) or self.action_names.get(id(decl))
        if name is None:
            raise unsupported(decl, f"action '{decl.name}' outside its control")
        return name

    def error_code(self, name: str) -> int:
        try:
            return self.program.errors.index(name)
        except ValueError:
            raise FabricError(f"error.{name} is not declared (core.p4 missing?)") from None

    def enum_value(self, e: ir.EnumMember) -> int:
        enum = e.enum
        if e.value is not None:
            return e.value
        if isinstance(enum, ir.EnumDecl):
            if enum.values and e.member in enum.values:
                return enum.values[e.member]
            return enum.members.index(e.member)
        return self.error_code(e.member)

    # ------------------------------------------------------------ types
    def layout(self, h: ir.StructLike) -> dict[str, FieldLayout]:
        lay = self.layouts.get(id(h))
        if lay is None:
            lay = self.layouts[id(h)] = header_layout(h)
        return lay

    def struct_class(self, t: ir.StructLike) -> str:
        name = self.classes.get(id(t))
        if name is not None:
            return name
        name = self.uniq("S_" + t.name)
        self.classes[id(t)] = name
        helper = BlockCompiler(self, ControlCtx("", Scope()))
        slots = [attr(f.name) for f in t.fields]
        # Scalars default to class attributes (see codegen_runtime); objects are per instance.
        defaults = [f"    {a} = {helper.zero(f.type)}" for a, f in zip(slots, t.fields)
                    if not is_object(f.type)]
        init = []
        for a, f in zip(slots, t.fields):
            if not is_object(f.type):
                continue
            absent = self.lazy_field(t, f)
            if absent is not None:
                init.append(f"        self.{a} = {absent}")
                continue
            zero = helper.zero(f.type)
            # A header's `valid` is stored in it (False) although the class has it: every
            # header is read at least by the deparser, and 3.11 reads an attribute found in
            # the class about twice as slowly as one in the instance.
            if zero.startswith("_Stack("):  # built here, not by Stack.__init__: a frame fewer
                size, _, make = zero[len("_Stack("):-1].partition(", ")
                make = make or "_Header"
                if int(size) <= 16 and make in ("_Header", "_VarHeader"):
                    elems = [f"_e{i}" for i in range(int(size))]
                    for e in elems:
                        init += [f"        {e} = {make}()", f"        {e}.valid = False"]
                else:
                    elems = [make + "()"] * int(size)
                init += [f"        _s = self.{a} = _Stack.__new__(_Stack)",
                         f"        _s.hs = [{', '.join(elems)}]", "        _s.nxt = 0",
                         f"        _s.make = {make}"]
            elif zero in ("_Header()", "_VarHeader()"):
                init += [f"        self.{a} = _x = {zero}", "        _x.valid = False"]
            else:
                init.append(f"        self.{a} = {zero}")
        # locals `_k`, `_r` and parameters `self`, `o` are reserved attribute names (attr())
        of = [f"        _r.{a} = {a}" for a in slots]
        copy, assign = [], []
        for a, f in zip(slots, t.fields):
            absent = self.lazy_field(t, f)
            if absent is not None:
                copy.append(f"        _r.{a} = _h if (_h := self.{a}) is {absent} else _h.copy()")
                assign.append(f"        (_h if (_h := self.{a}) is not {absent} else _mat(self, {a!r}))"
                              f".assign(o.{a})")
            elif is_object(f.type):
                copy.append(f"        _r.{a} = self.{a}.copy()")
                assign.append(f"        self.{a}.assign(o.{a})")
            else:
                copy.append(f"        _r.{a} = self.{a}")
                assign.append(f"        self.{a} = o.{a}")
        src = [f"class {name}:", *defaults,
               *(["    def __init__(self):", *init] if init else []),
               "    @classmethod", f"    def _of(_k, {', '.join(slots)}):" if slots else
               "    def _of(_k):", "        _r = _k.__new__(_k)", *of, "        return _r",
               "    def copy(self):", f"        _r = {name}.__new__({name})", *copy, "        return _r",
               "    def assign(self, o):", *(assign or ["        pass"])]
        if t.kind == "header_union":  # an element of a union stack is invalidated by pop/push
            src += ["    def set_invalid(self):",
                    *([f"        self.{a}.set_invalid()" for a in slots] or ["        pass"])]
        self.class_src.append("\n".join(src))
        return name

    def lazy_field(self, t, f) -> str | None:
        """The module name of the shared stand-in field `f` of struct `t` holds until
        written, if it is lazy: a plain header (ABSENT) or a stack of plain headers (an
        absent stack) of the program's headers struct. Generated code reads it as is (it
        reads as invalid) and writes it only through `materialize` (codegen_expr.lazy_member)."""
        if id(t) not in self.lazy:
            return None
        ft = resolve(f.type)
        if isinstance(ft, ir.StackType):
            elem = resolve(ft.elem)
            if not (isinstance(elem, ir.StructLike) and elem.is_header) or varbit_field(elem):
                return None
            name = f"_NOSTK{ft.size}"
            self.ns.setdefault(name, rt.absent_stack(ft.size))
            return name
        if isinstance(ft, ir.StructLike) and ft.is_header and not varbit_field(ft):
            return "_NOHDR"
        return None

    # ------------------------------------------------------------ controls
    def statements(self, node):
        """All statements nested in `node` (for finding `return`)."""
        if isinstance(node, ir.Block):
            for s in node.stmts:
                yield from self.statements(s)
        elif isinstance(node, ir.If):
            yield node
            yield from self.statements(node.then)
            if node.else_ is not None:
                yield from self.statements(node.else_)
        elif isinstance(node, ir.Switch):
            yield node
            for c in node.cases:
                if c.body is not None:
                    yield from self.statements(c.body)
        elif node is not None:
            yield node

    def make_ctx(self, decl, prefix: str, args: list | None = None,
                 outer: ControlCtx | None = None) -> ControlCtx:
        """The compile-time objects of one instance of parser/control `decl`; `args` its
        constructor arguments, evaluated in `outer` (None: a stage of main, its arguments
        in the package's, `self.stage_args`)."""
        ctx = ControlCtx(prefix, Scope(parent=self.global_scope), decl=decl)
        if args is None:
            args, outer = self.stage_args.get(id(decl), []), None
        self.bind_ctor_args(ctx, args, outer or ControlCtx("", Scope(parent=self.global_scope)))
        for local in decl.locals:
            if isinstance(local, ir.ActionDecl):
                ctx.actions[id(local)] = qualify(prefix, local)
            elif isinstance(local, ir.Instance):
                t = resolve(local.type)
                if isinstance(t, (ir.ControlDecl, ir.ParserDecl)):  # sub-control/sub-parser
                    ctx.controls[id(local)] = self.make_ctx(t, qualify(prefix, local) + ".", local.args, ctx)
                else:
                    name = self.externs.instantiate(local, qualify(prefix, local))
                    if name is not None:
                        ctx.scope.names[id(local)] = name
        for local in decl.locals:
            if isinstance(local, ir.TableDecl):
                ctx.tables[id(local)] = self.make_table(local, ctx)
            elif isinstance(local, ir.ValueSetDecl):
                ctx.scope.names[id(local)] = self.externs.value_set(local, qualify(prefix, local))
        return ctx

    def bind_ctor_args(self, ctx: ControlCtx, args: list, outer: ControlCtx) -> None:
        """Constructor parameters as the instance's arguments give them: a parser or
        control (`C2(c1) c2`: `c.apply()` in C2 applies this c1), an extern instance (its
        methods act on that instance) or a value (a compile-time constant, as p4c folds it)."""
        for arg in args:
            prm, value = arg.param, arg.value
            if prm is None:
                continue
            if isinstance(value, ir.PathExpr):
                if id(value.decl) in outer.controls:
                    ctx.controls[id(prm)] = outer.controls[id(value.decl)]
                    continue
                inst = outer.instance(value.decl)
                if inst is not None:
                    ctx.instances[id(prm)] = inst
                    name = outer.scope.lookup(value.decl)
                    if name is not None:
                        ctx.scope.names[id(prm)] = name
                    continue
            ctx.scope.names[id(prm)] = BlockCompiler(self, outer).expr(value)

    def init_locals(self, bc: BlockCompiler, decl) -> None:
        for local in decl.locals:
            if isinstance(local, ir.VarDecl):
                bc.stmt(local)

    def make_table(self, t: ir.TableDecl, ctx: ControlCtx) -> str:
        return self.externs.table(t, ctx, qualify(ctx.prefix, t))

    def control_lines(self, decl: ir.ControlDecl, params: list[str | None]) -> list[str]:
        """A control's body as lines of a function of `pkt`, which may go on after it (the
        stages are joined): a `return` leaves the control only (a one-pass loop's break)."""
        ctx = self.make_ctx(decl, qualify("", decl) + ".")
        bc = BlockCompiler(self, ctx)
        bc.track_validity = self.deparse_order is not None
        self.bind_params(bc, decl.params, params)
        if params and params[0] == "pkt.hdr":
            bc.pkt_hdr = bc.scope.lookup(decl.params[0])
        if len(params) > 2 and params[2] == "pkt.sm":
            bc.pkt_sm = bc.scope.lookup(decl.params[2])
        returns = self.returns(decl)
        if returns:
            bc.emit("for _once in _ONCE:")
            bc.indent += 1
            bc.return_stmt = ["break"]
        bc.emit("try:")
        bc.indent += 1
        self.init_locals(bc, decl)
        bc.block(decl.body.stmts)
        bc.indent -= 1
        bc.emit("except _rt.Exit:")
        bc.emit("    pass")
        return _without_unused_results(bc.lines)

    def returns(self, decl: ir.ControlDecl) -> bool:
        return any(isinstance(n, ir.Return) for n in self.statements(decl.body))

    def bind_params(self, bc: BlockCompiler, params: list[ir.Param], exprs: list[str | None]) -> None:
        for prm, value in zip(params, exprs):
            if value is None:
                continue
            name = self.uniq("p_" + prm.name)
            bc.scope.names[id(prm)] = name
            bc.emit(f"{name} = {value}")

    # ------------------------------------------------------------ parser
    def parser_lines(self, decl: ir.ParserDecl) -> list[str]:
        """The parser as lines of a function of `pkt` and `_data`."""
        ctx = self.make_ctx(decl, qualify("", decl) + ".")
        bc = BlockCompiler(self, ctx)
        self.bind_params(bc, decl.params, [None, "pkt.hdr", "pkt.meta", "pkt.sm"])
        self.init_locals(bc, decl)
        states = sorted(decl.states, key=lambda s: s.name != "start")
        hdr = decl.params[1] if self.deparse_order is not None and len(decl.params) > 1 else None
        ParserGenerator(self, bc, states, hdr_param=hdr).emit()
        return bc.lines

    # ------------------------------------------------------------ deparser
    def deparser_lines(self, decl: ir.ControlDecl) -> list[str]:
        """Lines ending the function with the frame: emitted headers, then the payload."""
        ctx = self.make_ctx(decl, qualify("", decl) + ".")
        bc = BlockCompiler(self, ctx)
        self.bind_params(bc, decl.params, [None, "pkt.hdr"])
        if self.deparse_order is not None:  # headers valid as the parser left them
            bc.emit("_dep = pkt.dep")
            bc.emit("if _dep is not None:")
            bc.emit(f"    return _dep({bc.scope.lookup(decl.params[1])}, pkt.payload)")
        bc.emit("_out = []")
        bc.emit("_put = _out.append")
        returns = self.returns(decl)
        if returns:
            bc.emit("for _once in _ONCE:")
            bc.indent += 1
            bc.return_stmt = ["break"]
        self.init_locals(bc, decl)
        bc.block(decl.body.stmts)
        if returns:
            bc.indent -= 1
        bc.emit("_put(pkt.payload)")  # the whole frame in one join, no second copy
        bc.emit("return b''.join(_out)")
        return bc.lines

    def fast_deparse_order(self, decl: ir.ControlDecl) -> list[tuple[str, int, int]] | None:
        """The deparser's emits as (attribute of its headers parameter, bytes, stack size:
        see codegen_runtime.ShapeDeparsers) when its body is nothing but emits of that
        struct's fixed-width headers,
        header stacks and unions (the struct itself: its fields in order); None otherwise."""
        hdr = decl.params[1] if len(decl.params) > 1 else None
        hdr_t = resolve(hdr.type) if hdr is not None else None
        if not isinstance(hdr_t, ir.StructLike) or hdr_t.kind != "struct" or any(
                isinstance(local, ir.VarDecl) for local in decl.locals):
            return None
        order: list[tuple[str, int, int]] = []
        for s in decl.body.stmts:
            if not (isinstance(s, ir.CallStmt) and s.call.kind == ir.CallKind.EMIT):
                return None
            e = s.call.args[0].value
            if isinstance(e, ir.PathExpr) and e.decl is hdr:
                names = [f.name for f in hdr_t.fields]
            elif isinstance(e, ir.Member) and isinstance(e.expr, ir.PathExpr) and e.expr.decl is hdr:
                names = [e.member]
            else:
                return None
            for name in names:
                t = resolve(hdr_t.get_field(name).type)
                if isinstance(t, ir.StackType):
                    order.append((attr(name), *_shape_elements(t)))
                elif isinstance(t, ir.StructLike) and t.kind == "header_union":
                    order.append((attr(name), 0, 0))  # never valid on a shape's path
                elif _shape_header(t):
                    order.append((attr(name), t.width // 8, 0))
                else:
                    return None
        return order

    def shape_deparser(self, shape: tuple[str, ...]) -> str:
        """The name of the deparser of packets whose valid headers are exactly `shape` (the
        parser's constant-path extracts; nothing since changed validity, every stack and
        union untouched): see codegen_runtime.ShapeDeparsers."""
        key = frozenset(shape)
        name = self.shapes.get(key)
        if name is None:
            name = self.shapes[key] = self.obj("dep", self.shape_deparsers().get(key))
        return name

    def shape_step(self, header: str, valid: bool) -> str:
        """The name of the ShapeSteps that makes `header` (an attribute of the packet's
        headers struct) valid or invalid in a shape."""
        key = (header, valid)
        name = self.steps.get(key)
        if name is None:
            name = self.steps[key] = self.obj(f"{'add' if valid else 'del'}_{header}",
                                              self.shape_deparsers().steps(header, valid))
        return name

    def shape_push(self, stack: str) -> str | None:
        """The name of the ShapePushes of one more element of `stack` (an attribute of the
        packet's headers struct) extracted by the parser; None when the deparser's shapes
        never hold that stack's elements."""
        size = next((size for name, n, size in self.deparse_order or () if name == stack and n), 0)
        if not size:
            return None
        key = (stack, "push")
        name = self.steps.get(key)
        if name is None:
            name = self.steps[key] = self.obj(f"push_{stack}", self.shape_deparsers().pushes(stack, size))
        return name

    def shape_deparsers(self) -> rt.ShapeDeparsers:
        if self.deparsers is None:
            self.deparsers = rt.ShapeDeparsers(tuple(self.deparse_order or ()))
        return self.deparsers

    def field_list_function(self, meta_t) -> str:
        lines = ["def copy_field_list(index, s, d):"]
        meta_t = resolve(meta_t)
        lists: dict[int, list[str]] = {}

        def visit(t, path: str) -> None:  # @field_list fields, nested structs included
            for f in t.fields:
                a = f"{path}.{attr(f.name)}"
                for anno in f.annotations:
                    if anno.name == "field_list":
                        for idx in anno.args:
                            stmt = f"d{a}.assign(s{a})" if is_object(f.type) else f"d{a} = s{a}"
                            lists.setdefault(self.field_list_index(idx), []).append(stmt)
                ft = resolve(f.type)
                if isinstance(ft, ir.StructLike) and ft.kind == "struct":
                    visit(ft, a)

        if isinstance(meta_t, ir.StructLike):
            visit(meta_t, "")
        for i, (idx, stmts) in enumerate(sorted(lists.items())):
            lines.append(f"    {'if' if i == 0 else 'elif'} index == {idx}:")
            lines.extend("        " + s for s in stmts)
        lines.append("    return None")
        return "\n".join(lines)

    def field_list_index(self, arg) -> int:
        """The number an `@field_list` argument names, as the `*_preserving_field_list`
        call's argument evaluates: an integer (`1`, `8w1`), a serializable enum's member
        (`FieldLists.cpu_info`, as issue1001-1-bmv2 and switch_p4_16 write it) or a constant."""
        text = str(arg)
        if (m := re.fullmatch(r"(?:\d+[ws])?(\d+)", text)) is not None:
            return int(m.group(1))
        enum_name, _, member = text.partition(".")
        decl = self.program.find(enum_name)
        if isinstance(decl, ir.EnumDecl) and member in decl.values:
            return decl.values[member]
        if isinstance(decl, ir.ConstDecl) and not member and isinstance(decl.value, ir.Constant):
            return decl.value.value
        raise FabricError(f"@field_list({text}): not an integer, a serializable enum member or a constant")

    # ------------------------------------------------------------ module
    def build(self) -> PipelineCode:
        if self.program.main is None:
            raise FabricError("the program has no 'main' package instance "
                              "(e.g. V1Switch(...) main;): nothing to run")
        for decl in self.program.decls:  # before any code unrolls a stack
            if isinstance(decl, ir.StructLike):
                for f in decl.fields:
                    if isinstance(resolve(f.type), ir.StackType):
                        check_stack(resolve(f.type))
        args = list(self.program.pipeline().values())
        stages = dict(zip(V1SWITCH_STAGES, args))
        for arg in self.program.main.args:  # the stages' own constructor arguments
            if isinstance(arg.value, ir.ConstructorCall):
                self.stage_args[id(arg.value.target.resolved)] = arg.value.args
        if len(args) != len(V1SWITCH_STAGES) or not isinstance(stages["parser"], ir.ParserDecl):
            raise FabricError("the program's main is not a V1Switch(parser, verifyChecksum, "
                              "ingress, egress, computeChecksum, deparser) package")
        parser = stages["parser"]
        hdr_t, meta_t, sm_t = (resolve(prm.type) for prm in parser.params[1:4])
        self.ranges = FieldRanges(self.program, getattr(sm_t, "name", ""))
        if isinstance(hdr_t, ir.StructLike) and hdr_t.kind == "struct" and id(hdr_t) not in self.classes:
            self.lazy.add(id(hdr_t))
        self.deparse_order = self.fast_deparse_order(stages["deparser"])
        parse = self.parser_lines(parser)
        verify = self.control_lines(stages["verify_checksum"], ["pkt.hdr", "pkt.meta"])
        ingress = self.control_lines(stages["ingress"], ["pkt.hdr", "pkt.meta", "pkt.sm"])
        egress = self.control_lines(stages["egress"], ["pkt.hdr", "pkt.meta", "pkt.sm"])
        compute = self.control_lines(stages["compute_checksum"], ["pkt.hdr", "pkt.meta"])
        deparse = self.deparser_lines(stages["deparser"])
        hdr_cls, meta_cls, sm_cls = (self.struct_class(t) for t in (hdr_t, meta_t, sm_t))
        self.ns["_PacketState"] = PacketState
        self.ns["_new"] = object.__new__
        # PacketState's fields set here, not by its __init__: one Python frame fewer per
        # packet; the stages one after the other in one function: no call between them
        new = [f"    pkt = _new(_PacketState)", f"    pkt.hdr = {hdr_cls}()",
               f"    pkt.meta = {meta_cls}()"]
        run_ingress = [
            "def run_ingress(_port, _data, _now, _itype, _depth, _pres):", *new,
            f"    pkt.sm = _sm = {sm_cls}()", "    _sm.packet_length = len(_data)",
            "    _sm.instance_type = _itype", "    pkt.data = _data", "    pkt.now = _now",
            "    if _pres is None:", "        _sm.ingress_port = _port",
            "        _sm.ingress_global_timestamp = _now", "    else:",
            "        pkt.depth = _depth", "        copy_field_list(_pres[1], _pres[0], pkt.meta)",
            *parse, *verify, *ingress, "    return pkt"]
        funcs = [
            "def parse(pkt, _data):\n" + "\n".join(_without_unused_params(parse)),
            "\n".join(_without_unused_params(run_ingress)),
            "def egress(pkt):\n" + "\n".join(_without_unused_params(egress)),
            "def finish(pkt):\n" + "\n".join(_without_unused_params(compute + deparse)),
            self.field_list_function(meta_t),
            "\n".join(["def new_packet():", *new, f"    pkt.sm = {sm_cls}()", "    return pkt"]),
        ]
        source = "\n\n".join(self.class_src + funcs) + "\n"
        filename = f"<fabriclab pipeline {self.program.main.name if self.program.main else ''}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        return PipelineCode(source, compile(source, filename, "exec"), self.ns, self.tables,
                            self.action_profiles, self.counters, self.meters, self.registers,
                            self.value_sets)


_RESULT = re.compile(r"\b_(?:hit|act)_[0-9]+\b")
_HIT_STORE = re.compile(r"^(\s*)(_hit_[0-9]+), (_call = )(?:True|False), (.*)$")
_ACT_STORE = re.compile(r"^\s*(_act_[0-9]+) = _call\[0\]$")


def _written_names(program: ir.Program) -> set[int]:
    """The declarations (ids) the program may write: every name in an assignment's target
    or in an argument to an out/inout parameter or to one not known (more than the
    written ones, an index `a[i]` too: only ever fewer range checks left out)."""
    written: set[int] = set()
    for n in ir_nodes(program):
        target = n.lhs if isinstance(n, ir.Assign) else n.value if (
            isinstance(n, ir.Argument) and (n.param is None or n.param.direction in ("out", "inout"))
        ) else None
        written.update(id(m.decl) for m in ir_nodes(target) if isinstance(m, ir.PathExpr))
    return written


def _without_unused_results(lines: list[str]) -> list[str]:
    """A table's hit flag and action name are stored for `.hit`/`switch` uses that may
    follow (codegen_stmt.table_apply); drop the stores no line reads."""
    read: set[str] = set()  # names in lines other than their own stores
    for line in lines:
        if not (_HIT_STORE.match(line) or _ACT_STORE.match(line)):
            read.update(_RESULT.findall(line))
    out = []
    for line in lines:
        act = _ACT_STORE.match(line)
        if act and act.group(1) not in read:
            continue
        hit = _HIT_STORE.match(line)
        if hit and hit.group(2) not in read:
            line = hit.group(1) + hit.group(3) + hit.group(4)
        out.append(line)
    return out


_PARAM_BIND = re.compile(r"^\s*(_p_\w+) = pkt\.(?:hdr|meta|sm)$")
_PARAM = re.compile(r"\b_p_\w+\b")


def _without_unused_params(lines: list[str]) -> list[str]:
    """A stage binds each of its parameters to a local (bind_params); drop the bindings of
    those no line of its function reads: three bytecodes each, per packet (issue 24)."""
    uses: dict[str, int] = {}
    for line in lines:
        for name in _PARAM.findall(line):
            uses[name] = uses.get(name, 0) + 1
    out = []
    for line in lines:
        bind = _PARAM_BIND.match(line)
        if bind is None or uses[bind.group(1)] > 1:
            out.append(line)
    return out


_TEMPLATES: dict[tuple[str, str], PipelineCode] = {}  # never loaded: each core gets a fresh copy
_TEMPLATE_LIMIT = 8


def generate_pipeline(program) -> PipelineCode:
    """Generate the pipeline code for a CompiledProgram (or a bare ir.Program).

    A CompiledProgram's code is generated once per (name, preprocessed source) in a process:
    N switches running one program (a virtual-time fabric) copy its runtime state instead of
    regenerating it (0.1-2 s per switch)."""
    source = getattr(program, "source", None)
    prog = getattr(program, "program", program)
    if not isinstance(source, str):
        return PipelineGenerator(prog).build()
    key = (getattr(program, "name", ""), source)
    template = _TEMPLATES.get(key)
    if template is None:
        template = PipelineGenerator(prog).build()
        if len(_TEMPLATES) >= _TEMPLATE_LIMIT:
            _TEMPLATES.pop(next(iter(_TEMPLATES)))
        _TEMPLATES[key] = template
    return template.fresh()
