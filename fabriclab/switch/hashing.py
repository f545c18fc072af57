"""v1model hash algorithms with BMv2's definitions.

`hash()` and action selectors feed a data list to one of these. BMv2 packs the fields
big-endian into a bit string (padded with zero bits at the end to a whole byte) and
computes the algorithm over those bytes; the generated code of `hash()` then applies
`base + h % max` inline (max 0 counts as 1, as BMv2: the result is the base).
"""

from __future__ import annotations

import functools
import zlib
from typing import Callable, Sequence, Union

from fabriclab.errors import FabricError


def _crc16_arc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC16_TABLE = _crc16_arc_table()


def _per_flow(fn: Callable[[bytes], int]) -> Callable[[bytes], int]:
    """Memoise a byte-loop hash on short inputs: a packet's selector or hash() input repeats
    per flow, and the loop costs microseconds. Bounded (the last 16k flows); long inputs
    (payload checksums) are computed every time."""
    cached = functools.lru_cache(maxsize=1 << 14)(fn)

    @functools.wraps(fn)
    def per_flow(data: bytes) -> int:
        return cached(data) if len(data) <= 64 and type(data) is bytes else fn(data)
    return per_flow


@_per_flow
def crc16(data: bytes) -> int:
    """CRC-16/ARC: reflected poly 0x8005, init 0, no final xor (BMv2 `crc16`)."""
    crc = 0
    table = _CRC16_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


crc32: Callable[[bytes], int] = zlib.crc32  # BMv2 `crc32`: zlib's, called with no Python frame


def csum16(data: bytes) -> int:
    """Internet checksum: ones' complement of the ones' complement sum of 16-bit words."""
    return csum16_int(int.from_bytes(data, "big"), len(data))


def csum16_int(n: int, nbytes: int) -> int:
    """csum16 of the `nbytes` bytes whose big-endian value is `n`.

    Since 2**16 = 1 (mod 0xFFFF), the end-around-carry sum of the words is the whole
    big-endian number modulo 0xFFFF (0xFFFF rather than 0 for non-zero data); an odd last
    byte is the high byte of its word.
    """
    if nbytes % 2:
        n <<= 8
    total = n % 0xFFFF
    if total == 0 and n:
        total = 0xFFFF
    return ~total & 0xFFFF


@_per_flow
def xor16(data: bytes) -> int:
    """XOR of the big-endian 16-bit words (an odd last byte is the high byte)."""
    if len(data) % 2:
        data = data + b"\x00"
    result = 0
    for i in range(0, len(data), 2):
        result ^= (data[i] << 8) | data[i + 1]
    return result


def identity(data: bytes) -> int:
    """The first (up to) 8 bytes read as a big-endian integer, as BMv2's identity hash."""
    return int.from_bytes(data[:8], "big")


ALGORITHMS: dict[str, Callable[[bytes], int]] = {
    "crc16": crc16,
    "crc32": crc32,
    # BMv2's custom CRCs start with the standard parameters; we do not let them change.
    "crc16_custom": crc16,
    "crc32_custom": crc32,
    "csum16": csum16,
    "xor16": xor16,
    "identity": identity,
}


def algorithm(name: str) -> Callable[[bytes], int]:
    """The hash function for a v1model HashAlgorithm member name. `random` is refused, as
    simple_switch refuses it: p4c-bm2-ss emits the name and BMv2 implements no hash of that
    name ("Unknown hash algorithm: random" when the program loads)."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        why = (" (simple_switch refuses it too: BMv2 has no hash of that name)" if name == "random"
               else "")
        raise FabricError(f"hash algorithm '{name}'{why}; use one of "
                          f"{', '.join(sorted(ALGORITHMS))}") from None


Item = Union[int, tuple[tuple[int, int], ...]]  # a field's width, or one header's slices


def hash_fields(fn: Callable[[bytes], int], variants: Sequence[Sequence[Item]], key: tuple) -> int:
    """`fn` over the data list `key` = (variant, values...): the values packed as
    `variants[variant]`'s items say (pack_items; generated hash() code's per-values cache
    misses here)."""
    return fn(pack_items(key[1:], variants[key[0]]))


def pack_items(values: Sequence[int], items: Sequence[Item]) -> bytes:
    """pack_fields over key items: an int item is one field of that width; a tuple of
    (shift, width) is one header's int masked to those slices (one key value for several
    fields), its fields in that order."""
    fields: list[int] = []
    widths: list[int] = []
    for value, item in zip(values, items):
        if isinstance(item, int):
            fields.append(value)
            widths.append(item)
        else:
            for shift, width in item:
                fields.append(value >> shift)
                widths.append(width)
    return pack_fields(fields, widths)


def pack_fields(values: Sequence[int], widths: Sequence[int]) -> bytes:
    """Concatenate fields big-endian into bytes, zero bits padding the end to a byte."""
    acc = 0
    nbits = 0
    for value, width in zip(values, widths):
        acc = (acc << width) | (value & ((1 << width) - 1))
        nbits += width
    pad = -nbits % 8
    return (acc << pad).to_bytes((nbits + pad) // 8, "big")
