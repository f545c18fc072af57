"""One P4Runtime server per port: a second switch on a port in use fails to start.

gRPC sets SO_REUSEPORT by default, so two servers on one port both listened and the kernel
split a controller's connections between them (arbitration on one switch, writes on the
other: PERMISSION_DENIED from a switch that never saw the arbitration). Seen when two
`fabriclab net` runs picked the same free block at the same moment."""

from __future__ import annotations

import pytest

from fabriclab.errors import FabricError
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.server import serve, shutdown


def test_a_second_server_on_a_busy_port_is_refused():
    first = serve(LoopbackSwitch(device_id=1, cpu_port=255), "127.0.0.1:0", 1)
    try:
        with pytest.raises(FabricError, match="cannot listen"):
            second = serve(LoopbackSwitch(device_id=2, cpu_port=255), f"127.0.0.1:{first.bound_port}", 2)
            shutdown(second)
    finally:
        shutdown(first)
