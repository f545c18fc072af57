"""The types of the typed IR (re-exported by `ir`; import them from there).

Declarations that define types (headers, structs, enums, externs, parsers, controls) are
`Type`s themselves and live in `ir.py`; this module holds the structural types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fabriclab.p4.ir import TableDecl


class Type:
    """Base of all types. Declarations that define types (structs, enums, ...) are Types."""

    def display(self) -> str:
        return str(self)


@dataclass(frozen=True)
class BitType(Type):
    width: int
    signed: bool = False

    def display(self) -> str:
        return f"{'int' if self.signed else 'bit'}<{self.width}>"


@dataclass(frozen=True)
class VarbitType(Type):
    """`varbit<N>`: a header field of 0..N bits whose length `extract(hdr, len)` sets."""

    max_width: int

    def display(self) -> str:
        return f"varbit<{self.max_width}>"


@dataclass(frozen=True)
class IntType(Type):
    """Arbitrary-precision integer: unsized literals and `const int`."""

    def display(self) -> str:
        return "int"


@dataclass(frozen=True)
class BoolType(Type):
    def display(self) -> str:
        return "bool"


@dataclass(frozen=True)
class StringType(Type):
    def display(self) -> str:
        return "string"


@dataclass(frozen=True)
class ErrorType(Type):
    def display(self) -> str:
        return "error"


@dataclass(frozen=True)
class MatchKindType(Type):
    def display(self) -> str:
        return "match_kind"


@dataclass(frozen=True)
class VoidType(Type):
    def display(self) -> str:
        return "void"


@dataclass(frozen=True)
class DontCareType(Type):
    def display(self) -> str:
        return "_"


@dataclass(frozen=True)
class TypeVar(Type):
    """A type parameter of a generic extern/parser/control/package declaration."""

    name: str

    def display(self) -> str:
        return self.name


@dataclass(frozen=True)
class StackType(Type):
    elem: Type
    size: int

    def display(self) -> str:
        return f"{self.elem.display()}[{self.size}]"


@dataclass(frozen=True)
class TupleType(Type):
    elems: tuple

    def display(self) -> str:
        return "tuple<" + ", ".join(e.display() for e in self.elems) + ">"


@dataclass(frozen=True)
class ListType(Type):
    """`list<T>`: a list of compile-time values of any length (extern constructor arguments)."""

    elem: Type

    def display(self) -> str:
        return f"list<{self.elem.display()}>"


@dataclass(frozen=True)
class SpecializedType(Type):
    """A generic type with arguments, e.g. `register<bit<32>>`."""

    base: Type
    args: tuple

    def display(self) -> str:
        return f"{self.base.display()}<" + ", ".join(a.display() for a in self.args) + ">"


@dataclass(frozen=True)
class SetType(Type):
    elem: Type

    def display(self) -> str:
        return f"set<{self.elem.display()}>"


@dataclass(frozen=True, eq=False)
class ApplyResultType(Type):
    table: TableDecl

    def display(self) -> str:
        return f"apply_result<{self.table.name}>"


@dataclass(frozen=True, eq=False)
class ActionRunType(Type):
    table: TableDecl

    def display(self) -> str:
        return f"action_list<{self.table.name}>"


@dataclass(frozen=True)
class InvalidInitType(Type):
    """The type of `{#}` (an invalid header or union) before context gives it one."""

    def display(self) -> str:
        return "{#}"


@dataclass(frozen=True)
class DefaultValueType(Type):
    """The type of `...` (a default value) before context gives it one."""

    def display(self) -> str:
        return "..."


@dataclass(frozen=True)
class StructInitType(Type):
    """The type of `{a = 1, b = 2}` before context gives it a struct or header type."""

    fields: tuple

    def display(self) -> str:
        return "{" + ", ".join(f"{n}: {t.display()}" for n, t in self.fields) + "}"
