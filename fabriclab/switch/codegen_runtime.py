"""Helpers the generated pipeline code calls: header/stack containers and rare operations.

Hot operations (field reads/writes, arithmetic) are inlined by the code generator as
shifts and masks on ints; only operations that need a guard or a loop live here.
A header is one int `v` holding all its fields (first field in the most significant
bits) plus a validity bit; an invalid header always holds 0.

Per-packet objects take their zero values from class attributes: creating one runs no
Python code, and an attribute lives in the instance only once written. The headers
struct's headers and header stacks start as shared stand-ins (ABSENT, absent_stack) that
read as invalid: a packet allocates only the headers it extracts or writes.
"""

from __future__ import annotations

from itertools import repeat, starmap

from fabriclab.switch.hashing import pack_fields


class Header:
    valid = False
    v = 0

    def copy(self) -> "Header":
        new = Header.__new__(Header)
        new.valid = self.valid
        new.v = self.v
        return new

    def assign(self, other: "Header") -> None:
        self.valid = other.valid
        self.v = other.v

    def set_valid(self) -> None:
        if not self.valid:
            self.valid = True
            self.v = 0

    def set_invalid(self) -> None:
        self.valid = False
        self.v = 0


class _Absent(Header):
    """The one stand-in for every header field a packet has not touched yet (the headers
    struct's plain header fields start as `ABSENT`: no object per header per packet).
    It reads as an invalid header; generated code replaces it with a real header
    (`materialize`) before any write, and any write that would reach it raises."""

    def __init__(self) -> None:
        object.__setattr__(self, "valid", False)
        object.__setattr__(self, "v", 0)

    def __setattr__(self, name, value):
        raise AttributeError("internal error: write to the shared absent header")

    def set_valid(self) -> None:
        raise AttributeError("internal error: setValid on the shared absent header")

    def assign(self, other: "Header") -> None:
        raise AttributeError("internal error: assignment to the shared absent header")

    def set_invalid(self) -> None:
        pass  # already invalid and zero

    def __deepcopy__(self, memo) -> "_Absent":  # immutable: a copied pipeline shares it
        return self


ABSENT = _Absent()


def materialize(struct, name: str):
    """A real invalid header (stack) in place of ABSENT (an absent stack) at `struct.name`,
    before its first write."""
    absent = getattr(struct, name)
    if absent is ABSENT:
        new = Header()
        new.valid = False
    else:
        new = Stack(len(absent.hs))  # new invalid elements, next 0: what the stand-in reads as
    setattr(struct, name, new)
    return new


class VarHeader(Header):
    """A header with a varbit field: `v` holds it in a slot of its maximum width (value
    right-aligned) and `vl` is its current length in bits (set by extract(hdr, len))."""

    vl = 0

    def copy(self) -> "VarHeader":
        new = VarHeader.__new__(VarHeader)
        new.valid, new.v, new.vl = self.valid, self.v, self.vl
        return new

    def assign(self, other: "Header") -> None:
        self.valid, self.v, self.vl = other.valid, other.v, getattr(other, "vl", 0)

    def set_valid(self) -> None:
        if not self.valid:
            self.valid, self.v, self.vl = True, 0, 0

    def set_invalid(self) -> None:
        self.valid, self.v, self.vl = False, 0, 0

    def load(self, raw: int, nbits: int, shift: int, slot: int) -> None:
        """Store the wire bits `raw` whose varbit field is `nbits` long; `shift` is the bit
        position of the field's slot in `v` (the fixed fields after it), `slot` its width."""
        low = raw & ((1 << shift) - 1)
        var = (raw >> shift) & ((1 << nbits) - 1)
        self.v = ((raw >> (shift + nbits)) << (shift + slot)) | (var << shift) | low
        self.vl = nbits
        self.valid = True

    def wire(self, shift: int, slot: int) -> int:
        """The header's bits as on the wire (the varbit field `vl` bits long)."""
        v = self.v
        var = (v >> shift) & ((1 << self.vl) - 1)
        return ((v >> (shift + slot)) << (shift + self.vl)) | (var << shift) | (v & ((1 << shift) - 1))


class Stack:
    """A header stack: `hs` elements and `nxt` (the index `next` refers to). Elements are
    made by `make`: `Header`, or a header union's generated class (same copy/assign/
    set_invalid protocol)."""

    __slots__ = ("hs", "nxt", "make")

    def __init__(self, size: int, make=Header) -> None:
        self.hs = list(starmap(make, repeat((), size)))  # no Python frame per element
        self.nxt = 0
        self.make = make

    def copy(self) -> "Stack":
        new = Stack.__new__(Stack)
        new.hs = [h.copy() for h in self.hs]
        new.nxt = self.nxt
        new.make = self.make
        return new

    @staticmethod
    def of(elements: list, make=Header) -> "Stack":
        """A stack holding copies of `elements` (an initializer `{a, b}`), next 0."""
        new = Stack.__new__(Stack)
        new.hs = [h.copy() for h in elements]
        new.nxt = 0
        new.make = make
        return new

    def assign(self, other: "Stack") -> None:
        for mine, theirs in zip(self.hs, other.hs):
            mine.assign(theirs)
        self.nxt = other.nxt

    def push_front(self, count: int) -> None:
        hs = self.hs
        for i in range(len(hs) - 1, -1, -1):
            if i >= count:
                hs[i].assign(hs[i - count])
            else:
                hs[i].set_invalid()
        self.nxt = min(self.nxt + count, len(hs))

    def pop_front(self, count: int) -> None:
        hs = self.hs
        for i in range(len(hs)):
            if i + count < len(hs):
                hs[i].assign(hs[i + count])
            else:
                hs[i].set_invalid()
        self.nxt = max(self.nxt - count, 0)

    def at(self, index: int):
        """Element `index`; out of range reads a detached invalid element (BMv2 errors)."""
        if 0 <= index < len(self.hs):
            return self.hs[index]
        return self.make()


class _AbsentStack(Stack):
    """The stand-in for a header stack a packet has not touched (one per size): ABSENT
    elements, next 0; it raises on any write, as ABSENT does."""

    __slots__ = ()

    def __init__(self, size: int) -> None:
        object.__setattr__(self, "hs", (ABSENT,) * size)
        object.__setattr__(self, "nxt", 0)
        object.__setattr__(self, "make", Header)

    def __setattr__(self, name, value):
        raise AttributeError("internal error: write to a shared absent header stack")

    def push_front(self, count: int) -> None:
        raise AttributeError("internal error: push_front on a shared absent header stack")

    pop_front = push_front

    def assign(self, other: "Stack") -> None:
        raise AttributeError("internal error: assignment to a shared absent header stack")

    def __deepcopy__(self, memo) -> "_AbsentStack":
        return self


_ABSENT_STACKS: dict[int, _AbsentStack] = {}


def absent_stack(size: int) -> _AbsentStack:
    stack = _ABSENT_STACKS.get(size)
    if stack is None:
        stack = _ABSENT_STACKS[size] = _AbsentStack(size)
    return stack


class ParserError(Exception):
    """Raised inside the generated parser; the code is the error's numeric value."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Exit(Exception):
    """`exit`: leaves the current top-level control."""


def div(a: int, b: int) -> int:
    return a // b if b else 0


def mod(a: int, b: int) -> int:
    return a % b if b else 0


def sat_signed(value: int, width: int) -> int:
    """Clamp a Python int to int<width> and return its bit pattern."""
    hi = (1 << (width - 1)) - 1
    lo = -(1 << (width - 1))
    return max(lo, min(hi, value)) & ((1 << width) - 1)


def lookahead(data: bytes, off: int, nbits: int, too_short: int) -> int:
    nbytes = (nbits + 7) // 8
    if off + nbytes > len(data):
        raise ParserError(too_short)
    return int.from_bytes(data[off:off + nbytes], "big") >> (nbytes * 8 - nbits)


def pack_struct(value, spec: tuple) -> int:
    """A struct value's bits as a header holds a struct-typed field (`struct_spec`): its
    fields in order, the first in the most significant bits; nested structs likewise."""
    bits = 0
    for name, width, sub in spec:
        v = getattr(value, name)
        bits = (bits << width) | ((pack_struct(v, sub) if sub is not None else int(v)) & ((1 << width) - 1))
    return bits


def pack_valid(items: tuple[tuple[int, int, bool], ...]) -> bytes:
    """Pack (value, width, header valid) items, leaving out invalid headers' fields."""
    return pack_fields([v for v, _, ok in items if ok], [w for _, w, ok in items if ok])


class ShapeDeparsers:
    """The deparsers of header shapes (which of the headers struct's plain headers and
    stack elements are valid; its unions all invalid), one function per shape, made on
    first use. A shape names a valid plain header by its attribute and a valid stack
    element by `stack[i]`.

    `order` is the deparser's emits as (header field, bytes, stack size): a plain header
    (size 0), a stack of plain headers (bytes of one element), or (name, 0, 0) for a stack
    or union that is never valid in a shape.
    A shape's function packs the valid emitted headers' ints into one number and appends
    the payload: no validity tests. The parser stores one in `pkt.dep` at an accept; a
    control that makes a header valid or invalid steps it (`steps`)."""

    def __init__(self, order: tuple[tuple[str, int, int], ...]) -> None:
        self.order = order
        self.made: dict[frozenset[str], object] = {}

    def get(self, shape: frozenset[str]):
        fn = self.made.get(shape)
        if fn is None:
            emitted = []  # (code of the header's int, bytes)
            for name, n, size in self.order:
                if size:
                    emitted += [(f"_h.{name}.hs[{i}].v", n) for i in range(size)
                                if f"{name}[{i}]" in shape]
                elif n and name in shape:
                    emitted.append((f"_h.{name}.v", n))
            total, shift, parts = sum(n for _, n in emitted), 0, []
            for code, n in reversed(emitted):
                parts.append(code + (f" << {shift}" if shift else ""))
                shift += 8 * n
            body = (f"({' | '.join(reversed(parts))}).to_bytes({total}, 'big') + _payload"
                    if parts else "b'' + _payload")
            ns: dict = {}
            exec(compile(f"def _dep(_h, _payload):\n    return {body}\n",
                         "<fabriclab deparser shape>", "exec"), ns)
            fn = self.made[shape] = ns["_dep"]
            fn.shape = shape
        return fn

    def steps(self, name: str, valid: bool) -> "ShapeSteps":
        return ShapeSteps(self, name, valid)

    def pushes(self, stack: str, size: int) -> "ShapePushes":
        return ShapePushes(self, stack, size)

    def __deepcopy__(self, memo) -> "ShapeDeparsers":  # functions of the code: shared
        return self


class ShapeSteps(dict):
    """shape deparser -> the deparser of that shape with header `name` made valid (or
    invalid): `pkt.dep = steps[pkt.dep]`, a dict hit once made; None stays None."""

    def __init__(self, shapes: ShapeDeparsers, name: str, valid: bool) -> None:
        super().__init__({None: None})
        self.shapes, self.name, self.valid = shapes, name, valid

    def __missing__(self, fn):
        shape = fn.shape | {self.name} if self.valid else fn.shape - {self.name}
        new = self[fn] = self.shapes.get(shape)
        return new

    def __deepcopy__(self, memo) -> "ShapeSteps":
        return self


class ShapePushes(ShapeSteps):
    """shape deparser -> the deparser of that shape with one more element of `stack`
    valid: the parser's extract into `stack.next` (the elements valid so far are the first
    ones, as only such extracts made them valid); None when the stack is full."""

    def __init__(self, shapes: ShapeDeparsers, stack: str, size: int) -> None:
        super().__init__(shapes, stack, True)
        self.size = size

    def __missing__(self, fn):
        k = sum(1 for i in range(self.size) if f"{self.name}[{i}]" in fn.shape)
        new = self[fn] = self.shapes.get(fn.shape | {f"{self.name}[{k}]"}) if k < self.size else None
        return new

    def __deepcopy__(self, memo) -> "ShapeSteps":
        return self
