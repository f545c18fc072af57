"""The switch's admin RPC: change queue rates, depths and link delays while it runs.

BMv2 does this over Thrift (``simple_switch_CLI``: ``set_queue_rate``, ``set_queue_depth``);
we speak one JSON object per line over a unix socket (default
``fabriclab.paths.switch_socket(device_id)``: ``/tmp/fabriclab-run/switch-<device_id>.sock``),
one request per connection. ``execute`` is the
sans-I/O part (a command line against a TrafficManager); ``AdminServer`` is the listening
socket the switch's event loop polls; ``request`` is the client ``fabriclab switch-cli`` uses.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from typing import Any, Callable

from fabriclab import paths
from fabriclab.errors import FabricError
from fabriclab.switch.ports import parse_count, parse_port_number
from fabriclab.units import parse_rate, parse_size, parse_time_ns
from fabriclab.switch.tm import TrafficManager

USAGE = {
    "set_queue_rate": "set_queue_rate PPS [PORT [PRIORITY]]   (packets/s per queue, like BMv2; "
                      "'none' = unlimited)",
    "set_queue_depth": "set_queue_depth PKTS [PORT [PRIORITY]]",
    "set_queue_bytes": "set_queue_bytes BYTES PORT [PRIORITY]   (e.g. 96k; 'none' = no byte limit)",
    "set_port_rate": "set_port_rate PORT RATE   (the link, all queues: e.g. 10mbit or 1000pps; "
                     "'none' = unlimited)",
    "set_port_delay": "set_port_delay PORT DELAY   (e.g. 5ms)",
    "show_queues": "show_queues [PORT]",
    "set_pfc": "set_pfc PORT PRIORITY XOFF XON HEADROOM | set_pfc PORT PRIORITY off   "
               "(lossless priority, sizes in bytes, e.g. 8k)",
}


def default_socket_path(device_id: int) -> str:
    return str(paths.switch_socket(device_id))


def _unlimited(text: str) -> bool:
    return text.lower() in ("none", "off", "0")


def _port_prio(tm: TrafficManager, args: list[str], cmd: str) -> tuple[int | None, int | None]:
    if len(args) > 2:
        raise FabricError(f"usage: {USAGE[cmd]}")
    port = parse_port_number(args[0], cmd) if args else None
    prio = parse_port_number(args[1], cmd) if len(args) > 1 else None
    if prio is not None and prio >= tm.priority_queues:
        raise FabricError(f"{cmd}: priority {prio} out of range 0..{tm.priority_queues - 1}")
    return port, prio


def execute(tm: TrafficManager, words: list[str]) -> Any:
    """Run one admin command (``["set_port_rate", "1", "10mbit"]``) and return its result."""
    if not words or words[0] not in USAGE:
        raise FabricError("unknown command; commands: " + ", ".join(USAGE))
    cmd, args = words[0], words[1:]
    if cmd == "show_queues":
        if len(args) > 1:
            raise FabricError(f"usage: {USAGE[cmd]}")
        stats = tm.stats()
        if args:
            port = parse_port_number(args[0], cmd)
            if port not in stats:
                raise FabricError(f"{cmd}: port {port} has no queues (not a port of this switch)")
            stats = {port: stats[port]}
        return {str(port): value for port, value in stats.items()}
    if cmd in ("set_port_rate", "set_port_delay"):
        if len(args) != 2:
            raise FabricError(f"usage: {USAGE[cmd]}")
        port = parse_port_number(args[0], cmd)
        if cmd == "set_port_delay":
            tm.set_port_delay(port, parse_time_ns(args[1], cmd))
        elif _unlimited(args[1]):
            tm.set_port_rate(port, None, None)
        else:
            rate = parse_rate(args[1], cmd)
            tm.set_port_rate(port, rate.bps, rate.pps)
        return "ok"
    if cmd == "set_pfc":
        return _set_pfc(tm, args)
    if not args or (cmd == "set_queue_bytes" and len(args) < 2):
        raise FabricError(f"usage: {USAGE[cmd]}")
    port, prio = _port_prio(tm, args[1:], cmd)
    if cmd == "set_queue_bytes":
        tm.set_queue_bytes(None if _unlimited(args[0]) else parse_size(args[0], cmd), port, prio)
    elif cmd == "set_queue_depth":
        tm.set_queue_depth(parse_count(args[0], cmd, "depth"), port, prio)
    else:
        pps = None if _unlimited(args[0]) else parse_rate(args[0] + "pps", cmd).pps
        tm.set_queue_rate(pps, port, prio)
    return "ok"


def _set_pfc(tm: TrafficManager, args: list[str]) -> str:
    """PFC (IEEE 802.1Qbb) on one port and priority, or back to drop-tail with ``off``."""
    if len(args) not in (3, 5) or (len(args) == 3 and args[2].lower() != "off"):
        raise FabricError(f"usage: {USAGE['set_pfc']}")
    port, prio = _port_prio(tm, args[:2], "set_pfc")
    if len(args) == 3:
        tm.disable_pfc(port, prio)
        return "ok"
    xoff, xon, headroom = (parse_size(a, "set_pfc") for a in args[2:])
    try:
        tm.enable_pfc(port, prio, xoff, xon, headroom)
    except ValueError as err:
        raise FabricError(f"set_pfc: {err}") from None
    return "ok"


def handle_line(tm: TrafficManager, line: bytes) -> bytes:
    """One request line in, one response line out; errors become ``{"error": ...}``."""
    try:
        request = json.loads(line)
        words = request["command"]
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return b'{"error": "bad request: expected {\\"command\\": [words...]}"}\n'
    try:
        response = {"result": execute(tm, words)}
    except (FabricError, ValueError) as err:
        response = {"error": str(err)}
    return json.dumps(response).encode() + b"\n"


class AdminServer:
    """A unix-socket listener served from the switch's event loop (no threads)."""

    def __init__(self, path: str, handler: Callable[[bytes], bytes]):
        self.path = path
        self._handler = handler
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._remove_stale(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.bind(path)
            self.sock.listen(8)
        except OSError as err:
            self.sock.close()
            raise FabricError(f"admin socket {path}: {err.strerror}") from None
        self.sock.setblocking(False)

    @staticmethod
    def _remove_stale(path: str) -> None:
        try:
            if not stat.S_ISSOCK(os.stat(path).st_mode):
                raise FabricError(f"admin socket {path} exists and is not a socket")
        except FileNotFoundError:
            return
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # left by a switch that died: safe to take over
            return
        finally:
            probe.close()
        raise FabricError(f"admin socket {path} is in use by a running switch "
                          "(use another --device-id or --admin-socket)")

    def fileno(self) -> int:
        return self.sock.fileno()

    def on_readable(self) -> None:
        """Serve every pending connection: one line in, one line out, 1 s budget each."""
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    line = _read_line(conn)
                    conn.sendall(self._handler(line))
                except OSError:
                    pass  # a client that hangs up or stalls only loses its own answer

    def close(self) -> None:
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n") and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def request(path: str, words: list[str], timeout: float = 5.0) -> Any:
    """Send one command to the switch at ``path``; return its result or raise FabricError."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            sock.sendall(json.dumps({"command": words}).encode() + b"\n")
            line = _read_line(sock)
        except OSError as err:
            raise FabricError(f"no switch answering on {path}: {err.strerror or err}") from None
    try:
        response = json.loads(line)
    except ValueError:
        raise FabricError(f"switch at {path} sent a malformed answer") from None
    if "error" in response:
        raise FabricError(response["error"])
    return response["result"]
