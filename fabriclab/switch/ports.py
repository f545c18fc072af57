"""Parsing of the switch's port flags: ``-i N@ifname``, ``N@RATE``, ``N@DELAY``, ``N@PKTS``,
``N@BYTES``.

The values use fabriclab.units, the one grammar for rates, times and sizes (a bare delay is
microseconds, like simple_switch's; a rate may be packets/s, BMv2's set_queue_rate unit).
Every parse error is a FabricError naming the flag and the accepted form.
"""

from __future__ import annotations

from typing import Any

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


PORT_SIGNAL_REGISTER = "port_down_signal"  # fabric.p4's liveness.p4: cell 0, bit p = port p


class PortSignal:
    """The switch's own port-status signal (fast reroute, docs/resiliency.md).

    The driver reports carrier changes (``update``); the signal keeps the set of ports
    without carrier and mirrors it into cell 0 of the program's ``port_down_signal``
    register, so the data plane skips a dead port from the next packet on, before any
    controller hears of it. A program without that register is left alone, and so are
    ports beyond the register's width. ``enabled=False`` keeps the set (and the events for
    the controller) but never writes: the controller-only reroute of the experiments.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.down: set[int] = set()

    def update(self, port: int, up: bool) -> bool:
        """Record a carrier state; True when it changed."""
        if (port not in self.down) == up:
            return False
        (self.down.discard if up else self.down.add)(port)
        return True

    def mask(self, width: int = 64) -> int:
        return sum(1 << p for p in self.down if 0 <= p < width)

    def write(self, core: Any) -> bool:
        """Put the mask into ``core``'s register (hold the switch lock); False when the
        program has no such register or the signal is disabled."""
        registers = getattr(core, "registers", None) or {}
        name = next((n for n in registers if n == PORT_SIGNAL_REGISTER
                     or n.endswith("." + PORT_SIGNAL_REGISTER)), None)
        if not self.enabled or name is None:
            return False
        reg = registers[name]
        reg.write(0, self.mask(getattr(reg, "width", 64)))
        return True
