"""The one parser for rates, sizes and times that users type (flags, topology options, queues).

One grammar everywhere: a number (``10``, ``2.5``, ``1e6``) then an optional unit, case-
insensitive, spaces allowed between them.

- rates, decimal multiples of bit/s: ``10M``, ``10m``, ``10mbit``, ``10Mb/s``, ``10Mbps``,
  ``10Mbit/s``, ``1G``, ``1gbit``; a bare number is bit/s. Queue rates may also be packets per
  second (``1000pps``, BMv2's set_queue_rate unit). Note: ``bps`` means bits here, as in
  nccl-tests and Mininet's ``bw`` (Linux tc reads ``mbps`` as megabytes).
- sizes, binary multiples of bytes (as tc's ``kb`` and nccl-tests' -b/-e): ``4096``, ``96k``,
  ``64K``, ``64KB``, ``64KiB``, ``1M``, ``1G``.
- times, to integer nanoseconds: ``5ms``, ``250us``, ``10ns``, ``1.5s``; a bare number takes
  the caller's default unit (microseconds for link delays, like the switch's --port-delay).

Every error is a FabricError naming what was parsed (usually the flag) and giving examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fabriclab.errors import FabricError

_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z/]*)\s*$")
_DECIMAL = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_BINARY = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_BIT_SUFFIXES = ("", "b", "bit", "bits", "bps", "b/s", "bit/s")
_BYTE_SUFFIXES = ("", "b", "ib", "byte", "bytes")
TIME_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}

RATE_EXAMPLES = "10M, 10mbit, 10Mb/s, 1G, 1e9"
SIZE_EXAMPLES = "4096, 96k, 64KiB, 1M"
TIME_EXAMPLES = "5ms, 250us, 10ns, 1.5s"


@dataclass(frozen=True)
class Rate:
    """A queue rate: either bits per second or packets per second (exactly one is set)."""

    bps: float | None = None
    pps: float | None = None

    def __str__(self) -> str:
        return f"{self.pps:g}pps" if self.pps is not None else f"{self.bps:g}bit"


def _split(text: object, what: str, kind: str, examples: str) -> tuple[float, str]:
    match = _NUMBER_UNIT.match(str(text))
    if not match:
        raise FabricError(f"{what}: '{text}' is not a {kind} (examples: {examples})")
    return float(match.group(1)), match.group(2).lower()


def _scaled(unit: str, suffixes: tuple[str, ...], prefixes: dict) -> float | int | None:
    """The multiplier of `unit` = prefix + suffix, or None if it is not one."""
    for suffix in suffixes:
        if unit.endswith(suffix):
            prefix = unit[: len(unit) - len(suffix)] if suffix else unit
            if prefix in prefixes:
                return prefixes[prefix]
    return None


def parse_bitrate(text: object, what: str = "rate", default_unit: str = "") -> float:
    """'10mbit', '10M', '10Mb/s' -> 1e7 bit/s; a bare number is in `default_unit` (bit/s
    unless the caller says, e.g. "mbit" for Mininet-style Mb/s options); must be positive."""
    value, unit = _split(text, what, "rate", RATE_EXAMPLES)
    scale = _scaled(unit or default_unit, _BIT_SUFFIXES, _DECIMAL)
    if scale is None:
        raise FabricError(f"{what}: unknown rate unit '{unit}' in '{text}' "
                          f"(examples: {RATE_EXAMPLES})")
    if value <= 0:
        raise FabricError(f"{what}: rate must be positive, got '{text}'")
    return value * scale


def parse_rate(text: object, what: str = "rate") -> Rate:
    """A queue rate: '1000pps' -> Rate(pps=1000), anything else as `parse_bitrate`."""
    value, unit = _split(text, what, "rate", RATE_EXAMPLES + ", 1000pps")
    if unit == "pps":
        if value <= 0:
            raise FabricError(f"{what}: rate must be positive, got '{text}'")
        return Rate(pps=value)
    return Rate(bps=parse_bitrate(text, what))


def parse_size(text: object, what: str = "size", minimum: int = 1) -> int:
    """'96k' -> 98304 bytes, '1M' -> 1048576; a bare number is bytes."""
    value, unit = _split(text, what, "size", SIZE_EXAMPLES)
    scale = _scaled(unit, _BYTE_SUFFIXES, _BINARY)
    if scale is None:
        raise FabricError(f"{what}: unknown size unit '{unit}' in '{text}' "
                          f"(examples: {SIZE_EXAMPLES})")
    size = round(value * scale)
    if size < minimum:
        raise FabricError(f"{what}: size must be at least {minimum} byte"
                          f"{'s' if minimum != 1 else ''}, got '{text}'")
    return size


def parse_sizes(text: object, factor: int = 2, what: str = "size") -> list[int]:
    """'64K:1M' with factor 2 -> [64K, 128K, ..., 1M] (nccl-tests -b/-e/-f); '1M' -> [1M]."""
    low, sep, high = str(text).partition(":")
    first = parse_size(low, what)
    last = parse_size(high, what) if sep else first
    if factor < 2:
        raise FabricError(f"{what}: size factor must be at least 2, not {factor}")
    if last < first:
        raise FabricError(f"{what}: size range '{text}' ends below its start")
    sizes = [first]
    while sizes[-1] * factor <= last:
        sizes.append(sizes[-1] * factor)
    return sizes


def parse_time_ns(text: object, what: str = "time", default_unit: str = "us") -> int:
    """'5ms' -> 5_000_000; '250us' -> 250_000; a bare number is in `default_unit`."""
    value, unit = _split(text, what, "time", TIME_EXAMPLES)
    scale = TIME_UNITS.get(unit or default_unit)
    if scale is None:
        raise FabricError(f"{what}: unknown time unit '{unit}' in '{text}' "
                          f"(use s, ms, us or ns, e.g. {TIME_EXAMPLES})")
    return round(value * scale)
