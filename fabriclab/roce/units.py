"""Parsing sizes and rates the way nccl-tests and Mininet users write them."""

from __future__ import annotations

import re

from fabriclab.errors import FabricError

_SIZE = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_RATE = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_size(text: str) -> int:
    """'1M' -> 1048576 bytes (binary multiples, as nccl-tests' -b/-e)."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]?)i?B?\s*", str(text), re.IGNORECASE)
    if not m:
        raise FabricError(f"bad size {text!r} (examples: 4096, 64K, 1M)")
    return int(m.group(1)) * _SIZE[m.group(2).upper()]


def parse_rate(text: str) -> float:
    """'100M' -> 1e8 bit/s (decimal multiples, as link rates)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([KMG]?)(?:bit/s|bps|b/s)?\s*", str(text), re.IGNORECASE)
    if not m or float(m.group(1)) <= 0:
        raise FabricError(f"bad rate {text!r} (examples: 10M, 100M, 1G bit/s)")
    return float(m.group(1)) * _RATE[m.group(2).upper()]


def parse_sizes(text: str, factor: int = 2) -> list[int]:
    """'64K:1M' with factor 2 -> [64K, 128K, ..., 1M] (nccl-tests -b/-e/-f); '1M' -> [1M]."""
    low, sep, high = str(text).partition(":")
    first = parse_size(low)
    last = parse_size(high) if sep else first
    if factor < 2:
        raise FabricError(f"size factor must be at least 2, not {factor}")
    if last < first:
        raise FabricError(f"size range {text!r} ends below its start")
    sizes = [first]
    while sizes[-1] * factor <= last:
        sizes.append(sizes[-1] * factor)
    return sizes
