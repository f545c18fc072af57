"""Parsing of the switch's port flags: ``-i N@ifname``, ``N@RATE``, ``N@DELAY``, ``N@PKTS``,
``N@BYTES``.

The values use fabriclab.units, the one grammar for rates, times and sizes (a bare delay is
microseconds, like simple_switch's; a rate may be packets/s, BMv2's set_queue_rate unit).
Every parse error is a FabricError naming the flag and the accepted form.
"""

from __future__ import annotations

from fabriclab.errors import FabricError
from fabriclab.units import Rate, parse_rate, parse_size, parse_time_ns

MAX_PORT = 511  # v1model egress_spec is 9 bits


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
    return port, parse_time_ns(value, "--port-delay")


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
