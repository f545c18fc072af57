"""Expression and assignment translation: typed IR expressions -> Python source text.

Values are Python ints holding the bit pattern of their type (int<W> too, in two's
complement), bools are bools, headers/structs are objects. Every operator wraps to its
type's width at the point it is computed, so no value ever needs re-masking later.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from fabriclab.errors import FabricError
from fabriclab.p4 import ir

RESERVED_ATTRS = {"copy", "assign", "valid", "v", "hs", "nxt", "set_invalid", "make", "self", "o",
                  "_k", "_r", "_of", "vl", "load", "wire"}
# Every element of a header stack is allocated per packet; BMv2 would need the memory too,
# and p4c accepts sizes a switch cannot hold (e.g. 2^31): refuse those with one line.
MAX_STACK = 1 << 16


def attr(name: str) -> str:
    """A struct field's Python attribute name (keywords and our method names get a `_`)."""
    return name + "_" if keyword.iskeyword(name) or name in RESERVED_ATTRS else name


def unsupported(node, what: str) -> FabricError:
    pos = getattr(node, "pos", None)
    where = f"{pos}: " if pos is not None else ""
    return FabricError(f"{where}the v1model target does not support {what}")


def resolve(t):
    while isinstance(t, ir.NewTypeDecl):
        t = t.type
    if isinstance(t, ir.EnumDecl) and t.underlying is not None:
        return t.underlying
    return t


def check_stack(t: ir.StackType) -> None:
    if t.size > MAX_STACK:
        raise FabricError(f"a header stack of {t.size} elements: the v1model target "
                          f"supports at most {MAX_STACK}")


def varbit_field(t) -> ir.Field | None:
    """The varbit field of header type `t`, if it has one."""
    t = resolve(t)
    if isinstance(t, ir.StructLike) and t.is_header:
        for f in t.fields:
            if isinstance(resolve(f.type), ir.VarbitType):
                return f
    return None


def width_of(t) -> int:
    t = resolve(t)
    if isinstance(t, ir.BitType):
        return t.width
    if isinstance(t, ir.BoolType):
        return 1
    if isinstance(t, ir.StructLike) and (t.is_header or all(
            isinstance(resolve(f.type), (ir.BitType, ir.BoolType)) for f in t.fields)):
        return t.width
    raise FabricError(f"type {getattr(t, 'display', lambda: t)()} has no fixed bit width here")


def packed_width(t) -> int:
    """Bits of a value of `t` laid out whole (`lookahead<T>()`): a struct's fields', a
    stack's elements' (headers of fixed width)."""
    t = resolve(t)
    if isinstance(t, ir.StructLike) and t.kind == "struct":
        return sum(packed_width(f.type) for f in t.fields)
    if isinstance(t, ir.StackType):
        return t.size * packed_width(t.elem)
    return width_of(t)


SMALL_SHIFT_BITS = 12  # a shift amount of at most 4095 builds ints of a few hundred bytes


def max_bits(e) -> int | None:
    """How many bits an unsigned value (an index, a shift amount) can need at most: a
    constant's own length, through widening casts the narrower operand's width; None if
    unknown. Lets generated code leave out range checks that can never fail."""
    if isinstance(e, ir.Constant):
        return e.value.bit_length() if e.value >= 0 else None
    t = resolve(e.type)
    if not isinstance(t, ir.BitType) or t.signed:
        return None
    if isinstance(e, ir.Cast):
        inner = max_bits(e.expr)
        return t.width if inner is None else min(t.width, inner)
    return t.width


def is_signed(t) -> bool:
    t = resolve(t)
    return isinstance(t, ir.BitType) and t.signed


def is_object(t) -> bool:
    """Headers, structs and stacks are mutable objects assigned in place."""
    t = resolve(t)
    return isinstance(t, (ir.StructLike, ir.StackType))


FORGET_SHAPE = "pkt.dep = None"


_CONST_BITS = re.compile(r"\(?([0-9]+)(?: << ([0-9]+))?\)?")  # a constant field at its place
_MATERIALISE = re.compile(r"\(_m if \(_m := ([\w.]+)\) is not (\w+) else (_mat\([\w.]+, '\w+'\))\)")


def bind_header(name: str, header: str) -> list[str]:
    """Lines binding `name` to the header `header` (code that may be x_Member's
    materialising test: then as a statement, no walrus, 7 bytecodes instead of 10)."""
    m = _MATERIALISE.fullmatch(header)
    if m is None:
        return [f"{name} = {header}"]
    return [f"{name} = {m[1]}", f"if {name} is {m[2]}:", f"    {name} = {m[3]}"]


def holds_headers(t) -> bool:
    """`t` is or holds a header, header union or header stack: storing into a value of it
    may change which of a packet's headers are valid."""
    t = resolve(t)
    if isinstance(t, ir.StackType):
        return True
    if isinstance(t, ir.StructLike):
        return t.kind != "struct" or any(holds_headers(f.type) for f in t.fields)
    return False


@dataclass
class FieldLayout:
    shift: int
    width: int
    mask: int
    is_bool: bool


def header_layout(h: ir.StructLike) -> dict[str, FieldLayout]:
    """Each field's bits in the header's int; a struct-typed field also gets one entry per
    field of it, by dotted path (`row.e`), its bits inside the struct's."""
    out: dict[str, FieldLayout] = {}
    _lay_fields(h.fields, h.width, "", out)
    return out


def _lay_fields(fields, pos: int, prefix: str, out: dict) -> None:
    for f in fields:
        t = resolve(f.type)
        if isinstance(t, ir.BoolType):
            w, is_bool = 1, True
        elif isinstance(t, ir.BitType):
            w, is_bool = t.width, False
        elif isinstance(t, ir.VarbitType):  # a slot of its maximum width (see VarHeader)
            w, is_bool = t.max_width, False
        elif isinstance(t, ir.StructLike) and t.kind == "struct":
            w, is_bool = t.width, False
            _lay_fields(t.fields, pos, f"{prefix}{f.name}.", out)
        elif isinstance(t, ir.StackType) and isinstance(resolve(t.elem), (ir.BitType, ir.BoolType)):
            ew = ir.bit_width(resolve(t.elem))  # an array of bits: element i is `name[i]`
            w, is_bool = ew * t.size, False
            for i in range(t.size):
                at = pos - (i + 1) * ew
                out[f"{prefix}{f.name}[{i}]"] = FieldLayout(at, ew, (1 << ew) - 1,
                                                            isinstance(resolve(t.elem), ir.BoolType))
        elif isinstance(t, ir.StackType) and _bit_struct(t.elem):
            ew = ir.bit_width(resolve(t.elem))  # an array of structs: element i is `name[i]`, its fields `name[i].e`
            w, is_bool = ew * t.size, False
            for i in range(t.size):
                _lay_fields(resolve(t.elem).fields, pos - i * ew, f"{prefix}{f.name}[{i}].", out)
                out[f"{prefix}{f.name}[{i}]"] = FieldLayout(pos - (i + 1) * ew, ew, (1 << ew) - 1, False)
        else:
            raise unsupported(f, f"header field '{f.name}' of type {t.display()}")
        pos -= w
        out[prefix + f.name] = FieldLayout(pos, w, (1 << w) - 1, is_bool)


def struct_spec(t: ir.StructLike) -> tuple:
    """A struct's fields for `pack_struct`: (attribute, width, nested struct's spec or None)."""
    spec = []
    for f in t.fields:
        ft = resolve(f.type)
        sub = struct_spec(ft) if isinstance(ft, ir.StructLike) else None
        spec.append((attr(f.name), width_of(ft), sub))
    return tuple(spec)


def _bit_struct(t) -> bool:
    """A struct (as an array element in a header: laid out by its bit fields)."""
    t = resolve(t)
    return isinstance(t, ir.StructLike) and t.kind == "struct"


def in_header(e) -> tuple[ir.Expr, ir.StructLike, str] | None:
    """(header expression, its type, dotted path) when `e` is a field of a header reached
    through struct-typed header fields (`h.row.e`, or `h.row` itself)."""
    path: list[str] = []
    while isinstance(e, (ir.Member, ir.Index)):
        if isinstance(e, ir.Index):  # an element of an array of bits or structs, by a constant index
            bt = resolve(e.expr.type)
            if not (isinstance(e.index, ir.Constant) and isinstance(bt, ir.StackType)
                    and (not isinstance(resolve(bt.elem), ir.StructLike) or _bit_struct(bt.elem))):
                return None
            path.append(f"[{e.index.value}]")
            e = e.expr
            continue
        path.append(e.member)
        base_t = resolve(e.expr.type)
        if isinstance(base_t, ir.StructLike) and base_t.is_header:
            text = ".".join(reversed(path)).replace(".[", "[")
            nested = len(path) > 1 or isinstance(resolve(base_t.get_field(path[0]).type),
                                                 (ir.StructLike, ir.StackType))
            return (e.expr, base_t, text) if nested else None
        if not (isinstance(base_t, ir.StructLike) and base_t.kind == "struct"):
            return None
        e = e.expr
    return None


@dataclass
class Scope:
    """Python expressions for declarations visible here (params, locals, instances)."""

    names: dict[int, str] = field(default_factory=dict)
    parent: "Scope | None" = None

    def lookup(self, decl) -> str | None:
        s = self
        while s is not None:
            name = s.names.get(id(decl))
            if name is not None:
                return name
            s = s.parent
        return None

    def child(self) -> "Scope":
        return Scope(parent=self)


class ExprCompiler:
    """Translates expressions; subclasses add statements and know runtime object names."""

    def __init__(self, gen) -> None:
        self.gen = gen  # codegen.PipelineGenerator: unique names, classes, error codes
        self.scope = Scope()
        self.hoisted: dict[int, tuple[str, str]] = {}  # id(table apply call) -> (hit, action)
        self.evaluated: dict[int, str] = {}  # id(expr) -> variable holding its value
        # lazy header fields known to hold a real header here (inside `if h.isValid()`:
        # ABSENT is never valid, and a real header is never replaced by ABSENT again)
        self.materialised: frozenset[str] = frozenset()
        # a control's code forgets the parser's shape (`pkt.dep`, see codegen_deparse) before
        # anything that may change which headers are valid
        self.track_validity = False
        self.pkt_hdr: str | None = None  # the locals holding pkt.hdr, pkt.sm in a control
        self.pkt_sm = "pkt.sm"
        # in the parser: lazy header fields ("_p_hdr_3.udp") held in a local by the extract
        # that made them, where that extract dominates the code (see codegen_parser)
        self.bound: dict[str, str] = {}

    # ------------------------------------------------------------ helpers
    def layout(self, h: ir.StructLike) -> dict[str, FieldLayout]:
        return self.gen.layout(h)

    def const_of(self, e) -> int | None:
        if isinstance(e, ir.Constant):
            return e.value
        if isinstance(e, ir.BoolLiteral):
            return int(e.value)
        return None

    # ------------------------------------------------------------ expressions
    def expr(self, e) -> str:
        done = self.evaluated.get(id(e))
        if done is not None:
            return done
        method = getattr(self, "x_" + type(e).__name__, None)
        if method is None:
            raise unsupported(e, f"expression '{e.text or type(e).__name__}'")
        return method(e)

    def x_Constant(self, e: ir.Constant) -> str:
        t = resolve(e.type)
        if isinstance(t, ir.BitType):
            return str(e.value & ((1 << t.width) - 1))
        return str(e.value)

    def x_InvalidHeader(self, e: ir.InvalidHeader) -> str:
        return self.zero(e.type)  # a fresh header (union) object: not valid

    def x_BoolLiteral(self, e: ir.BoolLiteral) -> str:
        return "True" if e.value else "False"

    def x_StringLiteral(self, e: ir.StringLiteral) -> str:
        return repr(e.value)

    def x_PathExpr(self, e: ir.PathExpr) -> str:
        decl = e.decl
        name = self.scope.lookup(decl)
        if name is not None:
            return name
        if isinstance(decl, ir.ConstDecl) and decl.value is not None:
            return self.expr(decl.value)
        raise unsupported(e, f"a reference to '{e.name}' here")

    def lazy_member(self, e, kind: str | None = None) -> tuple[str, str, str] | None:
        """(struct code, attribute, stand-in name) when `e` is a lazy header or stack field
        (codegen.lazy_field): it may hold a shared stand-in, which must never be written.
        `kind` "_NOHDR": headers only."""
        if not isinstance(e, ir.Member):
            return None
        base_t = resolve(e.expr.type)
        if not isinstance(base_t, ir.StructLike) or id(base_t) not in self.gen.lazy:
            return None
        f = base_t.get_field(e.member)
        absent = self.gen.lazy_field(base_t, f) if f is not None else None
        if absent is None or kind is not None and absent != kind:
            return None
        return self.expr(e.expr), attr(e.member), absent

    def valid_in(self, cond) -> frozenset[str]:
        """Lazy header fields that `cond` being true proves valid (isValid() terms of &&)."""
        if isinstance(cond, ir.Binary) and cond.op == "&&":
            return self.valid_in(cond.left) | self.valid_in(cond.right)
        if isinstance(cond, ir.MethodCall) and cond.kind == ir.CallKind.IS_VALID:
            lazy = self.lazy_member(cond.target, "_NOHDR")
            if lazy is not None:
                return frozenset([f"{lazy[0]}.{lazy[1]}"])
        return frozenset()

    def expr_read(self, e) -> str:
        """`e` for reading only (its validity and bits, a copy): a lazy header field as is,
        ABSENT included. `expr` gives a header that may be written (materialised)."""
        done = self.evaluated.get(id(e))
        if done is not None:
            return done
        lazy = self.lazy_member(e)
        if lazy is not None:
            path = f"{lazy[0]}.{lazy[1]}"
            return self.bound.get(path, path)
        if isinstance(e, ir.Index) and self.lazy_member(e.expr) is not None:
            return self.x_Index(e, read=True)  # an element of an absent stack: ABSENT
        return self.expr(e)

    def x_EnumMember(self, e: ir.EnumMember) -> str:
        return str(self.gen.enum_value(e))

    def x_Member(self, e) -> str:
        nested = in_header(e)
        if nested is not None:  # a struct-typed header field, or a field of one
            h, ht, path = nested
            lay = self.layout(ht)[path]
            bits = f"(({self.expr_read(h)}.v >> {lay.shift}) & {lay.mask})"
            t = resolve(e.type)
            if isinstance(t, ir.StackType):
                raise unsupported(e, f"reading the array '{e.text}' as a whole")
            if isinstance(t, ir.StructLike):
                return self.struct_in_header(self.expr_read(h), ht, path, t)
            return f"({bits} == 1)" if lay.is_bool else bits
        base_t = resolve(e.expr.type)
        if isinstance(base_t, ir.ApplyResultType):
            if id(e.expr) not in self.hoisted:
                raise unsupported(e, "applying a table here")
            hit, action = self.hoisted[id(e.expr)]
            if e.member == "hit":
                return hit
            if e.member == "miss":
                return f"(not {hit})"
            return action
        if isinstance(base_t, ir.StackType):
            if e.member == "size":
                return str(base_t.size)
            if e.member == "lastIndex":
                return f"(({self.expr_read(e.expr)}.nxt - 1) & 0xFFFFFFFF)"
            stk = self.expr(e.expr)  # last/next may be written: a real stack
            if e.member == "last":
                return f"{stk}.at({stk}.nxt - 1)"
            if e.member == "next":
                return f"{stk}.at({stk}.nxt)"
            raise unsupported(e, f"stack property '{e.member}'")
        if isinstance(base_t, ir.StructLike):
            if base_t.is_header:
                lay = self.layout(base_t)[e.member]
                h = self.expr_read(e.expr)
                # a header's int is below 2**width: its first field needs no mask
                bits = f"{h}.v" if lay.shift == 0 and lay.width == base_t.width else (
                    f"({h}.v & {lay.mask})" if lay.shift == 0 else
                    f"({h}.v >> {lay.shift})" if lay.shift + lay.width == base_t.width else
                    f"(({h}.v >> {lay.shift}) & {lay.mask})")
                return f"({bits} == 1)" if lay.is_bool else bits
            lazy = self.lazy_member(e)
            if lazy is not None:  # a header (stack) that may be written: never the stand-in
                b, a, absent = lazy
                if f"{b}.{a}" in self.bound:
                    return self.bound[f"{b}.{a}"]
                if f"{b}.{a}" in self.materialised:
                    return f"{b}.{a}"
                return f"(_m if (_m := {b}.{a}) is not {absent} else _mat({b}, {a!r}))"
            return f"{self.expr(e.expr)}.{attr(e.member)}"
        raise unsupported(e, f"member '{e.member}' of {getattr(base_t, 'display', lambda: '?')()}")

    def value_from_bits(self, t, bits: str, shift: int) -> str:
        """A value of type `t` whose bits are those of int `bits` from bit `shift` up, as
        p4c's midend expands `lookahead<T>()` of a struct: headers (also a stack's
        elements) valid, fields in order with the first in the most significant bits."""
        t = resolve(t)
        width = packed_width(t)
        if isinstance(t, (ir.BitType, ir.BoolType)):
            v = f"(({bits} >> {shift}) & {(1 << width) - 1})"
            return f"({v} == 1)" if isinstance(t, ir.BoolType) else v
        if isinstance(t, ir.StructLike) and t.is_header:
            return f"_valid_header((({bits} >> {shift}) & {(1 << width) - 1}))"
        if isinstance(t, ir.StackType) and not self.stack_element(t):
            ew = packed_width(t.elem)
            elems = [self.value_from_bits(t.elem, bits, shift + (t.size - 1 - i) * ew) for i in range(t.size)]
            return f"_Stack.of([{', '.join(elems)}])"
        if isinstance(t, ir.StructLike) and t.kind == "struct":
            args, at = [], shift + width
            for f in t.fields:
                at -= packed_width(f.type)
                args.append(self.value_from_bits(f.type, bits, at))
            return f"{self.gen.struct_class(t)}._of({', '.join(args)})"
        raise FabricError(f"type {getattr(t, 'display', lambda: t)()} has no fixed bit width here")

    def struct_in_header(self, h: str, ht: ir.StructLike, path: str, t: ir.StructLike) -> str:
        """The struct value a header's struct-typed field at `path` holds: each field from
        its bits (bools as bools), nested structs likewise."""
        lays, args = self.layout(ht), []
        for f in t.fields:
            ft, sub = resolve(f.type), f"{path}.{f.name}"
            if isinstance(ft, ir.StructLike):
                args.append(self.struct_in_header(h, ht, sub, ft))
                continue
            if isinstance(ft, ir.StackType):
                raise unsupported(f, f"reading '{sub}', an array in a header, as a whole")
            lay = lays[sub]
            bits = f"(({h}.v >> {lay.shift}) & {lay.mask})"
            args.append(f"({bits} == 1)" if lay.is_bool else bits)
        return f"{self.gen.struct_class(t)}._of({', '.join(args)})"

    def x_Index(self, e: ir.Index, read: bool = False) -> str:
        if in_header(e) is not None:
            return self.x_Member(e)  # an array element in a header: bits of the header
        st = resolve(e.expr.type)
        if not isinstance(st, ir.StackType):
            raise unsupported(e, f"indexing a value of type {st.display()}")
        if not isinstance(resolve(st.elem), ir.StructLike):
            raise unsupported(e, "an array element by a non-constant index, or outside a header")
        stk = self.expr_read(e.expr) if read else self.expr(e.expr)
        idx = self.const_of(e.index)
        if idx is not None and 0 <= idx < resolve(e.expr.type).size:
            return f"{stk}.hs[{idx}]"
        return f"{stk}.at({self.expr(e.index)})"

    def x_Slice(self, e: ir.Slice) -> str:
        lo, hi = e.lo_bit, e.hi_bit
        mask = (1 << (hi - lo + 1)) - 1
        field = e.expr
        if isinstance(field, ir.Member):  # a header field's bits: straight from the header's int
            base_t = resolve(field.expr.type)
            if isinstance(base_t, ir.StructLike) and base_t.is_header:
                lay = self.layout(base_t)[field.member]
                if not lay.is_bool:
                    h, shift = self.expr_read(field.expr), lay.shift + lo
                    return f"({h}.v & {mask})" if shift == 0 else f"(({h}.v >> {shift}) & {mask})"
        inner = self.expr(e.expr)
        return f"({inner} & {mask})" if lo == 0 else f"(({inner} >> {lo}) & {mask})"

    def signed_val(self, code: str, width: int) -> str:
        h = 1 << (width - 1)
        return f"(({code} ^ {h}) - {h})"

    def x_Unary(self, e: ir.Unary) -> str:
        v = self.expr(e.expr)
        t = resolve(e.type)
        if e.op == "!":
            return f"(not {v})"
        if e.op == "+":
            return v
        if not isinstance(t, ir.BitType):
            return f"({e.op}{v})"
        m = (1 << t.width) - 1
        if e.op == "-":
            return f"((-{v}) & {m})"
        if e.op == "~":
            return f"({v} ^ {m})"
        raise unsupported(e, f"unary '{e.op}'")

    def x_Binary(self, e: ir.Binary) -> str:
        op = e.op
        a, b = self.expr(e.left), self.expr(e.right)
        lt, rt, t = resolve(e.left.type), resolve(e.right.type), resolve(e.type)
        if op == "&&":
            return f"({a} and {b})"
        if op == "||":
            return f"({a} or {b})"
        if op in ("==", "!=") and is_object(lt):
            same = self.equal(a, b, lt, e)
            return same if op == "==" else f"(not {same})"
        if op in ("==", "!=", "<", ">", "<=", ">="):
            in_place = self.field_vs_constant(e)
            if in_place is not None:
                return in_place
        if op in ("==", "!="):
            return f"({a} {op} {b})"
        if op in ("<", ">", "<=", ">="):
            if is_signed(lt):
                w = lt.width
                a, b = self.signed_val(a, w), self.signed_val(b, w)
            return f"({a} {op} {b})"
        if op == "++":
            return f"(({a} << {width_of(rt)}) | {b})"
        if not isinstance(t, ir.BitType):  # compile-time int arithmetic
            pyop = {"/": "//"}.get(op, op)
            return f"({a} {pyop} {b})"
        w, m = t.width, (1 << t.width) - 1
        signed = t.signed
        if op in ("+", "-", "*"):
            return f"(({a} {op} {b}) & {m})"
        if op in ("&", "|", "^"):
            return f"({a} {op} {b})"
        if op == "<<":
            amount = self.const_of(e.right)
            if amount is not None:
                return "0" if amount >= w else f"(({a} << {amount}) & {m})"
            bits = max_bits(e.right)
            # the mask drops every bit shifted past the width (all of them for an amount
            # >= w): no test needed unless the amount could build a huge int
            if bits is not None and bits <= SMALL_SHIFT_BITS:
                return f"(({a} << {b}) & {m})"
            s = self.gen.uniq("sh")  # a larger amount would build a huge int: guarded
            return f"(({a} << {s}) & {m} if ({s} := {b}) < {w} else 0)"
        if op == ">>":
            if signed:
                return f"(({self.signed_val(a, w)} >> {b}) & {m})"
            return f"({a} >> {b})"
        if op in ("/", "%"):
            if signed:
                raise unsupported(e, "division of signed values")
            divisor = self.const_of(e.right)
            if divisor:
                return f"({a} {'//' if op == '/' else '%'} {divisor})"
            return f"_rt.{'div' if op == '/' else 'mod'}({a}, {b})"
        if op == "|+|":
            if signed:
                return f"_rt.sat_signed({self.signed_val(a, w)} + {self.signed_val(b, w)}, {w})"
            return f"min({a} + {b}, {m})"
        if op == "|-|":
            if signed:
                return f"_rt.sat_signed({self.signed_val(a, w)} - {self.signed_val(b, w)}, {w})"
            return f"max({a} - {b}, 0)"
        raise unsupported(e, f"operator '{op}'")

    def equal(self, a: str, b: str, t, node) -> str:
        """Equality of headers (validity and fields; invalid ones hold 0) and structs."""
        t = resolve(t)
        if isinstance(t, ir.StructLike) and t.is_header:
            same_len = f" and {a}.vl == {b}.vl" if varbit_field(t) else ""
            return f"({a}.valid == {b}.valid and {a}.v == {b}.v{same_len})"
        if isinstance(t, ir.StackType):  # element by element (P4-16: same type, equal elements)
            return "(" + " and ".join(self.equal(f"{a}.hs[{i}]", f"{b}.hs[{i}]", t.elem, node)
                                      for i in range(t.size)) + ")" if t.size else "True"
        if isinstance(t, ir.StructLike):
            parts = [self.equal(f"{a}.{attr(f.name)}", f"{b}.{attr(f.name)}", f.type, node)
                     if is_object(f.type) else f"{a}.{attr(f.name)} == {b}.{attr(f.name)}"
                     for f in t.fields]
            return "(" + (" and ".join(parts) or "True") + ")"
        raise unsupported(node, f"comparing values of type {t.display()}")

    def x_Conditional(self, e: ir.Conditional) -> str:
        return f"({self.expr(e.then)} if {self.test(e.cond)} else {self.expr(e.else_)})"

    def field_vs_constant(self, e: ir.Binary) -> str | None:
        """An unsigned header field compared with a constant in range, at the field's place
        in the header's int: (v & field mask) op (c << shift) orders as field op c (the
        other bits masked out, both sides multiples of 2**shift): no shift of the header's
        int per test (ethertypes, protocol numbers, a TTL > 1)."""
        sides = ((e.left, e.right, e.op),
                 (e.right, e.left, {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(e.op, e.op)))
        for x, c, op in sides:
            k = self.const_of(c)
            if k is None or not isinstance(x, ir.Member) or in_header(x) is not None:
                continue
            t, base_t = resolve(x.type), resolve(x.expr.type)
            if not (isinstance(t, ir.BitType) and not t.signed and isinstance(base_t, ir.StructLike)
                    and base_t.is_header):
                continue
            lay = self.layout(base_t)[x.member]
            if lay.shift == 0 or lay.is_bool or not 0 <= k <= lay.mask:
                continue
            return f"({self.field_in_place(x)} {op} {k << lay.shift})"
        return None

    def field_in_place(self, x) -> str | None:
        """`(h.v & field mask)`: an unsigned header field's bits (or a slice of them) where
        they are in the header's int (zero exactly when the field is), or None for anything
        else."""
        if isinstance(x, ir.Slice):
            if self.field_in_place(x.expr) is None:
                return None
            lay = self.layout(resolve(x.expr.expr.type))[x.expr.member]
            bits = ((1 << (x.hi_bit - x.lo_bit + 1)) - 1) << (lay.shift + x.lo_bit)
            return f"({self.expr_read(x.expr.expr)}.v & {bits})"
        if not isinstance(x, ir.Member) or in_header(x) is not None:
            return None
        t, base_t = resolve(x.type), resolve(x.expr.type)
        if not (isinstance(t, ir.BitType) and not t.signed and isinstance(base_t, ir.StructLike)
                and base_t.is_header):
            return None
        lay = self.layout(base_t)[x.member]
        if lay.is_bool:
            return None
        return f"({self.expr_read(x.expr)}.v & {lay.mask << lay.shift})"

    def test(self, e) -> str:
        """Code whose truth is the condition `e`'s, its value unused (an if, a ?: test):
        an unsigned `x != 0` is `x`, `x == 0` is `not x`, and a bit<1> `x == 1` is `x`
        (flags: two bytecodes fewer each; an error against error.NoError alike); && and
        || of such tests alike."""
        if id(e) in self.evaluated:
            return self.expr(e)
        if isinstance(e, ir.Binary) and e.op in ("&&", "||"):
            return f"({self.test(e.left)} {'and' if e.op == '&&' else 'or'} {self.test(e.right)})"
        if isinstance(e, ir.Unary) and e.op == "!":
            return f"(not {self.test(e.expr)})"
        if isinstance(e, ir.Binary) and e.op in ("==", "!="):
            for x, c in ((e.left, e.right), (e.right, e.left)):
                t, k = resolve(x.type), self.const_of(c)
                if isinstance(t, ir.ErrorType) and self.expr(c) == "0":
                    t, k = ir.BitType(32), 0  # error codes: NoError is 0, the others > 0
                if not (isinstance(t, ir.BitType) and not t.signed) or k is None:
                    continue
                if k == 0 or (k == 1 and t.width == 1):
                    truth = (k == 0) == (e.op == "!=")  # true exactly when x is non-zero
                    v = self.field_in_place(x) or self.expr(x)
                    return v if truth else f"(not {v})"
        return self.expr(e)

    def x_Cast(self, e: ir.Cast) -> str:
        return self.convert(self.expr(e.expr), e.expr.type, e.type, e)

    def convert(self, v: str, src, dst, node) -> str:
        s, d = resolve(src), resolve(dst)
        if isinstance(d, ir.BoolType):
            return v if isinstance(s, ir.BoolType) else f"({v} != 0)"
        if isinstance(d, ir.BitType):
            m = (1 << d.width) - 1
            if isinstance(s, ir.BoolType):
                return f"(1 if {v} else 0)"
            if isinstance(s, ir.BitType):
                if d.width > s.width and s.signed:
                    return f"({self.signed_val(v, s.width)} & {m})"
                return v if d.width >= s.width else f"({v} & {m})"
            return f"({v} & {m})"
        if isinstance(d, ir.IntType) and isinstance(s, ir.BitType) and s.signed:
            return self.signed_val(v, s.width)
        return v

    def x_ListExpr(self, e: ir.ListExpr) -> str:
        items = [self.expr(i) for i in e.items]
        t = resolve(e.type)
        if isinstance(t, ir.StackType):  # a stack's initializer `{a, b}`
            make = self.stack_element(t)
            return f"_Stack.of([{', '.join(items)}]{', ' + make if make else ''})"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def x_StructExpr(self, e: ir.StructExpr) -> str:
        t = resolve(e.type)
        if not isinstance(t, ir.StructLike):
            raise unsupported(e, "a struct expression without a struct type")
        given = dict(e.fields)
        if t.is_header:
            lay = self.layout(t)
            parts = [f"({self.expr(given[f.name])} << {lay[f.name].shift})" for f in t.fields]
            return f"_valid_header({' | '.join(parts) or '0'})"
        cls = self.gen.struct_class(t)
        args = [self.expr(given[f.name]) for f in t.fields]
        return f"{cls}._of({', '.join(args)})"

    def x_MethodCall(self, e: ir.MethodCall) -> str:
        kind = e.kind
        if kind == ir.CallKind.IS_VALID:
            t = resolve(e.target.type)
            u = self.expr_read(e.target)
            if isinstance(t, ir.StructLike) and t.kind == "header_union":
                return "(" + " or ".join(f"{u}.{attr(f.name)}.valid" for f in t.fields) + ")"
            return f"{u}.valid"
        if kind == ir.CallKind.LOOKAHEAD:
            t = resolve(e.type)
            if isinstance(t, ir.StructLike) and not t.is_header:  # a struct: bits, headers, stacks
                la = self.gen.uniq("la")
                bits = (f"_rt.lookahead(_data, _off, {packed_width(t)}, "
                        f"{self.gen.error_code('PacketTooShort')})")
                return f"(({la} := {bits}), {self.value_from_bits(t, la, 0)})[1]"
            bits = f"_rt.lookahead(_data, _off, {width_of(t)}, {self.gen.error_code('PacketTooShort')})"
            return f"_valid_header({bits})" if isinstance(t, ir.StructLike) else bits
        if kind == ir.CallKind.LENGTH:
            return "len(_data)"
        if kind == ir.CallKind.TABLE_APPLY and id(e) in self.hoisted:
            return self.hoisted[id(e)][0]
        raise unsupported(e, f"calling '{e.text or e.method}' inside an expression")

    # ------------------------------------------------------------ zero values
    def zero(self, t) -> str:
        t = resolve(t)
        if isinstance(t, ir.BoolType):
            return "False"
        if isinstance(t, ir.StructLike):
            if t.is_header:
                return "_VarHeader()" if varbit_field(t) else "_Header()"
            return f"{self.gen.struct_class(t)}()"  # structs and header unions
        if isinstance(t, ir.StackType):
            make = self.stack_element(t)
            return f"_Stack({t.size}, {make})" if make else f"_Stack({t.size})"
        return "0"

    def stack_element(self, t: ir.StackType) -> str:
        """The class a stack value makes its elements with ('' for the default, `_Header`)."""
        check_stack(t)
        elem = resolve(t.elem)
        if not isinstance(elem, ir.StructLike):
            raise FabricError(f"the v1model target does not support an array of {elem.display()} "
                              f"outside a header")
        if not elem.is_header:  # a stack of header unions or an array of structs
            return self.gen.struct_class(elem)
        return "_VarHeader" if varbit_field(elem) else ""

    # ------------------------------------------------------------ assignment
    def header_field_write(self, lhs, value: str, value_type) -> tuple[str, int, str] | None:
        """(header code, mask keeping the other fields, new field bits) for `hdr.f = value`;
        None when `lhs` is not a header field."""
        if not isinstance(lhs, (ir.Member, ir.Index)):
            return None
        nested = in_header(lhs)
        if nested is not None:
            h, base_t, path = nested
            ft = resolve(lhs.type)
            if isinstance(ft, ir.StackType):
                raise unsupported(lhs, f"assigning '{lhs.text}' in a header as a whole")
            if isinstance(ft, ir.StructLike):  # a struct held in the header: its bits at once
                value, value_type = f"_rt.pack_struct({value}, {struct_spec(ft)!r})", None
            lay = self.layout(base_t)[path]
        else:
            if not isinstance(lhs, ir.Member):
                return None
            h = lhs.expr
            base_t = resolve(lhs.expr.type)
            if not (isinstance(base_t, ir.StructLike) and base_t.is_header):
                return None
            lay = self.layout(base_t)[lhs.member]
        vt = resolve(value_type) if value_type is not None else None
        if lay.is_bool:
            value = f"(1 if {value} else 0)"
        elif not (isinstance(vt, ir.BitType) and vt.width <= lay.width):
            value = f"({value} & {lay.mask})"
        clear = ((1 << base_t.width) - 1) ^ (lay.mask << lay.shift)
        shifted = value if lay.shift == 0 else f"({value} << {lay.shift})"
        return self.expr(h), clear, shifted, self.expr_read(h)

    def header_writes(self, header: str, writes: list[tuple[int, str]],
                      read: str | None = None) -> list[str]:
        """Lines storing several fields of one header at once: the fields are disjoint, so
        clearing all of them then or-ing the new bits equals writing them one by one.
        `read`: the header's code for reading; the values read its bits through `_h` (the
        same object once `_h` is bound: a materialised ABSENT header holds 0 as ABSENT)."""
        h = "_h"  # one name for all: the value never assigns it, and the line after reads it
        if read is not None:
            own = re.compile(r"(?<![\w.])" + re.escape(read + ".v") + r"(?!\w)")
            writes = [(mask, own.sub("_h.v", bits)) for mask, bits in writes]
        clear = -1
        for mask, _ in writes:
            clear &= mask
        # constant fields first, as one number; zeros left out (the cleared bits are 0)
        const = 0
        for _, bits in writes:
            if (m := _CONST_BITS.fullmatch(bits)) is not None:
                const |= int(m[1]) << int(m[2] or 0)
        terms = [bits for _, bits in writes if not _CONST_BITS.fullmatch(bits)]
        terms = ([str(const)] if const or not terms and clear == 0 else []) + terms
        if clear == 0:  # every field written: the old bits are not read
            return [*bind_header(h, header), f"{h}.v = " + " | ".join(terms)]
        return [*bind_header(h, header),
                f"{h}.v = ({h}.v & {clear})" + "".join(f" | {bits}" for bits in terms)]

    def assign(self, lhs, value: str, value_type=None) -> list[str]:
        """Python lines that store `value` (of `value_type`) into the l-value `lhs`."""
        t = resolve(lhs.type)
        if is_object(t) and in_header(lhs) is None:  # (a struct in a header's bits: header_field_write)
            forget = [FORGET_SHAPE] if self.track_validity and holds_headers(t) else []
            return [*forget, f"{self.expr(lhs)}.assign({value})"]
        if value_type is not None and isinstance(t, ir.BitType):
            vt = resolve(value_type)
            if not (isinstance(vt, ir.BitType) and vt.width <= t.width):
                value = self.convert(value, value_type, t, lhs)
        if isinstance(lhs, ir.PathExpr):
            name = self.scope.lookup(lhs.decl)
            if name is None:
                raise unsupported(lhs, f"assigning to '{lhs.name}'")
            return [f"{name} = {value}"]
        if isinstance(lhs, ir.Index) and in_header(lhs) is not None:  # array element in a header
            write = self.header_field_write(lhs, value, value_type)
            return self.header_writes(write[0], [write[1:3]], write[3])
        if isinstance(lhs, ir.Member):
            write = self.header_field_write(lhs, value, value_type)
            if write is not None:
                return self.header_writes(write[0], [write[1:3]], write[3])
            base_t = resolve(lhs.expr.type)
            if isinstance(base_t, ir.StructLike):
                return [f"{self.expr(lhs.expr)}.{attr(lhs.member)} = {value}"]
        if isinstance(lhs, ir.Slice):
            lo, hi = lhs.lo_bit, lhs.hi_bit
            m = (1 << (hi - lo + 1)) - 1
            full = (1 << width_of(lhs.expr.type)) - 1
            cur = self.expr(lhs.expr)
            new = f"(({cur} & {full ^ (m << lo)}) | (({value} & {m}) << {lo}))"
            return self.assign(lhs.expr, new)
        raise unsupported(lhs, f"assigning to '{lhs.text}'")
