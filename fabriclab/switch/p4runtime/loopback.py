"""An in-process switch for the P4Runtime server: the real SwitchCore, no ports.

It implements the switch protocol the server needs (docs/internals.md, "P4Runtime seam")
the way `SwitchProcess` does, minus AF_PACKET and the traffic manager: a packet given to
`receive(port, data)` runs through `core.process` at once; frames for the CPU port go to
the packet-in listeners, the rest are appended to `transmitted`. Tests and tools use it to
drive the server over real gRPC without root or namespaces.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable


class LoopbackSwitch:
    def __init__(self, device_id: int = 1, cpu_port: int | None = 255, drop_port: int = 511) -> None:
        self.device_id, self.cpu_port, self.drop_port = device_id, cpu_port, drop_port
        self.lock = threading.RLock()
        self.core: Any = None
        self.transmitted: list[tuple[int, bytes]] = []
        self._packet_in: list[Callable[[bytes], None]] = []
        self._digest: list[Callable[[], None]] = []
        self._port_status: list[Callable[[int, bool], None]] = []
        self._t0 = time.monotonic_ns()

    # -- the protocol the P4Runtime server uses --
    def now_ns(self) -> int:
        """Nanoseconds since the switch started: the clock its packets are stamped with."""
        return time.monotonic_ns() - self._t0

    def set_core(self, core: Any) -> None:
        with self.lock:
            self.core = core

    def inject_packet_out(self, data: bytes) -> None:
        self.receive(self.cpu_port, data)

    def add_packet_in_listener(self, fn: Callable[[bytes], None]) -> None:
        self._packet_in.append(fn)

    def add_digest_listener(self, fn: Callable[[], None]) -> None:
        self._digest.append(fn)

    def add_port_status_listener(self, fn: Callable[[int, bool], None]) -> None:
        self._port_status.append(fn)

    def port_status(self, port: int, up: bool) -> None:
        """A port's carrier changed (the caller says so: there are no ports): tell the listeners."""
        for fn in self._port_status:
            fn(port, up)

    # -- the data plane, driven by the caller --
    def receive(self, port: int, data: bytes) -> list[tuple[int, bytes]]:
        """Run one packet through the pipeline; return the frames sent to data ports."""
        with self.lock:
            if self.core is None:
                return []
            out = self.core.process(port, data, self.now_ns() // 1000)
            has_digests = bool(self.core.digests)
        sent = []
        for out_port, frame in out:
            if out_port == self.cpu_port:
                for fn in self._packet_in:
                    fn(frame)
            else:
                sent.append((out_port, frame))
        self.transmitted.extend(sent)
        if has_digests:
            for fn in self._digest:
                fn()
        return sent
