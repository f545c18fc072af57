"""Parsing of the switch's port flags: ``-i N@ifname``, ``N@RATE``, ``N@DELAY``, ``N@PKTS``,
``N@BYTES``.

Units follow Linux tc / Mininet so a topology's link parameters read the same here:
rates in ``bit``/``kbit``/``mbit``/``gbit`` (a bare number is bits/s) or ``pps``
(BMv2's set_queue_rate unit); delays in ``s``/``ms``/``us``/``ns`` (a bare number is us);
sizes in bytes with an optional ``k``/``m`` suffix (powers of 1024, like tc's ``kb``).
Every parse error is a FabricError naming the flag and the accepted form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fabriclab.errors import FabricError

_RATE_UNITS = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12}
_DELAY_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_SIZE_UNITS = {"b": 1, "k": 1024, "kb": 1024, "m": 1024 ** 2, "mb": 1024 ** 2}
_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
MAX_PORT = 511  # v1model egress_spec is 9 bits


@dataclass(frozen=True)
class Rate:
    """A port rate: either bits per second or packets per second (exactly one is set)."""

    bps: float | None = None
    pps: float | None = None

    def __str__(self) -> str:
        return f"{self.pps:g}pps" if self.pps is not None else f"{self.bps:g}bit"


def parse_port_number(text: str, flag: str) -> int:
    try:
        port = int(text, 0)
    except ValueError:
        raise FabricError(f"{flag}: port '{text}' is not a number") from None
    if not 0 <= port <= MAX_PORT:
        raise FabricError(f"{flag}: port {port} out of range 0..{MAX_PORT}")
    return port


def _split(spec: str, flag: str, what: str) -> tuple[int, str]:
    port, sep, value = spec.partition("@")
    if not sep or not port or not value:
        raise FabricError(f"{flag}: expected PORT@{what}, got '{spec}'")
    return parse_port_number(port, flag), value


def _number_unit(text: str, flag: str, kind: str) -> tuple[float, str]:
    match = _NUMBER_UNIT.match(text)
    if not match:
        raise FabricError(f"{flag}: '{text}' is not a {kind}")
    return float(match.group(1)), match.group(2).lower()


def parse_rate(text: str, flag: str = "rate") -> Rate:
    """'10mbit' -> Rate(bps=1e7); '1000pps' -> Rate(pps=1000); '5e6' -> 5 Mbit/s."""
    value, unit = _number_unit(text, flag, "rate")
    if value <= 0:
        raise FabricError(f"{flag}: rate must be positive, got '{text}'")
    if unit == "pps":
        return Rate(pps=value)
    scale = _RATE_UNITS.get(unit or "bit")
    if scale is None:
        raise FabricError(f"{flag}: unknown rate unit '{unit}' in '{text}' "
                          f"(use bit, kbit, mbit, gbit or pps)")
    return Rate(bps=value * scale)


def parse_delay_ns(text: str, flag: str = "delay") -> int:
    """'5ms' -> 5_000_000; '250us' -> 250_000; a bare number is microseconds."""
    value, unit = _number_unit(text, flag, "delay")
    scale = _DELAY_UNITS.get(unit or "us")
    if scale is None:
        raise FabricError(f"{flag}: unknown delay unit '{unit}' in '{text}' (use s, ms, us or ns)")
    return round(value * scale)


def parse_size(text: str, flag: str = "size") -> int:
    """'96k' -> 98304 bytes; a bare number is bytes."""
    value, unit = _number_unit(text, flag, "size")
    scale = _SIZE_UNITS.get(unit or "b")
    if scale is None:
        raise FabricError(f"{flag}: unknown size unit '{unit}' in '{text}' (use b, k or m)")
    size = round(value * scale)
    if size < 1:
        raise FabricError(f"{flag}: size must be at least 1 byte, got '{text}'")
    return size


def parse_count(text: str, flag: str, what: str = "count") -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise FabricError(f"{flag}: {what} '{text}' is not a whole number") from None
    if value < 1:
        raise FabricError(f"{flag}: {what} must be at least 1, got {value}")
    return value


def parse_interface(spec: str) -> tuple[int, str]:
    """``-i 1@veth1`` -> (1, 'veth1')."""
    port, name = _split(spec, "-i/--interface", "IFNAME")
    return port, name


def parse_port_rate(spec: str) -> tuple[int, Rate]:
    port, value = _split(spec, "--port-rate", "RATE")
    return port, parse_rate(value, "--port-rate")


def parse_port_delay(spec: str) -> tuple[int, int]:
    port, value = _split(spec, "--port-delay", "DELAY")
    return port, parse_delay_ns(value, "--port-delay")


def parse_queue_depth(spec: str) -> tuple[int, int]:
    port, value = _split(spec, "--queue-depth", "PKTS")
    return port, parse_count(value, "--queue-depth", "queue depth")


def parse_queue_bytes(spec: str) -> tuple[int, int]:
    port, value = _split(spec, "--queue-bytes", "BYTES")
    return port, parse_size(value, "--queue-bytes")


def interface_map(specs: list[str]) -> dict[int, str]:
    """All ``-i`` flags as {port: ifname}; a port or interface used twice is an error."""
    ports: dict[int, str] = {}
    for spec in specs:
        port, name = parse_interface(spec)
        if port in ports:
            raise FabricError(f"-i: port {port} given twice ({ports[port]} and {name})")
        if name in ports.values():
            raise FabricError(f"-i: interface {name} given twice")
        ports[port] = name
    return ports
