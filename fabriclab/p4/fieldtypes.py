"""The types a field may have, as p4c validates the fields of structs, headers, header
unions and tuples (its type checker's validateFields; its midend turns tuples into
structs, so a tuple's elements follow the struct rule).

Each `*_field_ok` takes a resolved field type; a `type` declaration counts as the type it
is declared over. A type variable and a specialized type pass (checked once specialized).
"""

from __future__ import annotations

from fabriclab.p4 import ir

_STRUCT_FIELD = (ir.StructLike, ir.BitType, ir.EnumDecl, ir.ErrorType, ir.BoolType, ir.StackType, ir.VarbitType,
                 ir.TupleType, ir.TypeVar, ir.SpecializedType, ir.MatchKindType)


def _rep(t: ir.Type | None) -> ir.Type | None:
    while isinstance(t, ir.NewTypeDecl):
        t = t.type
    return t


def _bits_or_bit_structs(t: ir.Type | None) -> bool:
    """bit<W>/int<W>, bool, a serializable enum, arrays of those and structs of those."""
    while isinstance(t, ir.StackType):
        t = t.elem
    if isinstance(t, (ir.BitType, ir.BoolType)) or isinstance(t, ir.EnumDecl) and t.underlying is not None:
        return True
    if isinstance(t, ir.StructLike) and t.kind == "struct":
        return all(_bits_or_bit_structs(_rep(f.type)) for f in t.fields)
    return False


def header_field_ok(t: ir.Type | None) -> bool:
    t = _rep(t)
    return _bits_or_bit_structs(t) or isinstance(t, (ir.VarbitType, ir.TypeVar, ir.SpecializedType))


def struct_field_ok(t: ir.Type | None) -> bool:
    """Not string, int, void, `_`, an extern, a parser, a control or a package."""
    return isinstance(_rep(t), _STRUCT_FIELD)


def union_field_ok(t: ir.Type | None) -> bool:
    t = _rep(t)
    return isinstance(t, ir.StructLike) and t.kind == "header" or isinstance(t, (ir.TypeVar, ir.SpecializedType))


def field_ok(kind: str, t: ir.Type | None) -> bool:
    """Whether a field of a `kind` (header/struct/header_union) may have type `t`."""
    return {"header": header_field_ok, "header_union": union_field_ok}.get(kind, struct_field_ok)(t)


def not_a_tuple_field(t: ir.Type | None) -> bool:
    """Externs, parsers, controls and packages (also specialized) are no tuple elements."""
    if isinstance(t, ir.SpecializedType):
        t = t.base
    return isinstance(t, (ir.ExternDecl, ir.BlockTypeDecl, ir.ParserDecl, ir.ControlDecl))


def has_varbits_or_unions(t: ir.Type | None) -> bool:
    """A header union, a varbit, a header or struct with a varbit field, or an array or
    tuple of those: no fixed width (p4c: lookahead's type argument needs one)."""
    if isinstance(t, ir.VarbitType) or isinstance(t, ir.StructLike) and t.kind == "header_union":
        return True
    if isinstance(t, ir.StructLike):
        return any(isinstance(_rep(f.type), ir.VarbitType) for f in t.fields)
    if isinstance(t, ir.StackType):
        return has_varbits_or_unions(t.elem)
    if isinstance(t, ir.TupleType):
        return any(has_varbits_or_unions(e) for e in t.elems)
    return False


def size_in_bits(t: ir.Type | None, largest: bool) -> int | None:
    """The smallest (or, `largest`, the largest) number of bits a value of type `t` takes, as
    p4c's minSizeInBits()/maxSizeInBits() fold it: a varbit takes 0 to its maximum, a union
    its largest member; None where p4c says the width is not well-defined (int, string,
    enum, error, extern, ...)."""
    t = _rep(t)
    if isinstance(t, ir.EnumDecl):
        t = t.underlying
    if isinstance(t, ir.BitType):
        return t.width
    if isinstance(t, ir.BoolType):
        return 1
    if isinstance(t, ir.VarbitType):
        return t.max_width if largest else 0
    if isinstance(t, ir.StackType):
        elem = size_in_bits(t.elem, largest)
        return None if elem is None else elem * t.size
    parts = [f.type for f in t.fields] if isinstance(t, ir.StructLike) else \
        list(t.elems) if isinstance(t, ir.TupleType) else None
    if parts is None:
        return None
    sizes = [size_in_bits(p, largest) for p in parts]
    if None in sizes:
        return None
    union = isinstance(t, ir.StructLike) and t.kind == "header_union"
    return max(sizes, default=0) if union else sum(sizes)
