"""P4Runtime byte strings (spec 8.3): big-endian, canonical in replies.

Requests may carry any length: leading zero bytes are padding, and (as in PI's
bytestring_p4rt_to_pi, which simple_switch_grpc runs) an empty string is 0. A value that
does not fit the field's bit width is INVALID_ARGUMENT, PI's code; the spec asks for
OUT_OF_RANGE in both cases, but we answer as the switch we replace.
Replies use the canonical form: the shortest string, at least one byte.
"""

from __future__ import annotations

from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, P4RuntimeError


def decode(data: bytes, bitwidth: int, what: str) -> int:
    """The integer `data` encodes, checked against `bitwidth` (0 = unbounded, e.g. strings)."""
    value = int.from_bytes(data, "big")
    if bitwidth and value >> bitwidth:
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"{what}: value 0x{data.hex()} does not fit in {bitwidth} bits"
        )
    return value


def encode(value: int) -> bytes:
    """The canonical byte string of a non-negative integer."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
