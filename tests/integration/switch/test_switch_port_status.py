"""The switch's own port-status signal (root: veths): a port whose carrier goes (the host
end of its veth goes down) is in the program's `port_down_signal` register at once, and
the primary controller hears of it on its P4Runtime stream; nothing is polled."""

from __future__ import annotations

import threading
import time

import pytest

from controller.client import P4RuntimeClient
from fabriclab.switch.externs import Register
from fabriclab.switch.p4runtime import port_status
from fabriclab.switch.p4runtime.server import serve, shutdown
from fabriclab.switch.process import SwitchProcess
from fabriclab.switch.tm import TrafficManager

pytestmark = pytest.mark.root


class SignalOnlyCore:
    """Just the register fabric.p4's liveness.p4 reads (no packets flow in this test)."""

    digests: list = []

    def __init__(self) -> None:
        self.registers = {"port_down_signal": Register("port_down_signal", 1, 64)}


def port_events(client: P4RuntimeClient, n: int, timeout: float = 10.0) -> list[tuple[int, bool]]:
    got, end = [], time.monotonic() + timeout
    while len(got) < n and time.monotonic() < end:
        status = port_status.parse(client.stream_messages.get(timeout=end - time.monotonic()))
        if status is not None:
            got.append(status)
    return got


@pytest.mark.parametrize("signal", [True, False])
def test_carrier_loss_reaches_register_and_controller(hosts, signal):
    core = SignalOnlyCore()
    switch = SwitchProcess(core, {1: hosts.port_if(1), 2: hosts.port_if(2)}, TrafficManager(),
                           device_id=1, port_signal=signal)
    seen = []
    switch.add_port_status_listener(
        lambda port, up: seen.append((port, up, core.registers["port_down_signal"].read(0))))
    thread = threading.Thread(target=switch.run, daemon=True)
    thread.start()
    server = serve(switch, "127.0.0.1:0", 1)
    client = P4RuntimeClient(f"127.0.0.1:{server.bound_port}", 1)
    try:
        client.connect()
        started = time.monotonic()
        hosts.run(2, "ip", "link", "set", "eth0", "down", check=True)
        assert port_events(client, 1) == [(2, False)]
        noticed_s = time.monotonic() - started
        hosts.run(2, "ip", "link", "set", "eth0", "up", check=True)
        assert port_events(client, 1) == [(2, True)]
    finally:
        client.close()
        shutdown(server)
        switch.stop()
        thread.join(10)
        switch.close()
    print(f"carrier loss to controller: {noticed_s * 1e3:.1f} ms")
    # the data plane had the dead port before the controller was told (or never: signal off)
    assert seen == [(2, False, 0b100 if signal else 0), (2, True, 0)]
    assert switch.counters.port_events == 2
