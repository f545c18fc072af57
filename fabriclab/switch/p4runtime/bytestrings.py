"""P4Runtime byte strings (spec 8.3): big-endian, canonical in replies.

Requests may carry any length: leading zero bytes are padding. A value that does not fit
the field's bit width is OUT_OF_RANGE; an empty string is not a value (INVALID_ARGUMENT).
Replies use the canonical form: the shortest string, at least one byte.
"""

from __future__ import annotations

from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, OUT_OF_RANGE, P4RuntimeError


def decode(data: bytes, bitwidth: int, what: str) -> int:
    """The integer `data` encodes, checked against `bitwidth` (0 = unbounded, e.g. strings)."""
    if not data:
        raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: empty byte string")
    value = int.from_bytes(data, "big")
    if bitwidth and value >> bitwidth:
        raise P4RuntimeError(
            OUT_OF_RANGE, f"{what}: value 0x{data.hex()} does not fit in {bitwidth} bits"
        )
    return value


def encode(value: int) -> bytes:
    """The canonical byte string of a non-negative integer."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
