"""Fixtures: the P4Runtime server over real gRPC on 127.0.0.1 with an in-process switch.

No root needed: the switch is `LoopbackSwitch` (the real SwitchCore, no ports); the
server listens on an ephemeral port and is stopped on every exit path.
"""

from __future__ import annotations

import pathlib

import pytest
from p4rt_client import DEVICE_ID, Controller

from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.server import serve

PROGRAM = pathlib.Path(__file__).with_name("p4rt_test.p4")


@pytest.fixture(scope="session")
def compiled():
    from fabriclab.p4 import compile_file

    return compile_file(str(PROGRAM))


@pytest.fixture
def switch_and_address():
    switch = LoopbackSwitch(device_id=DEVICE_ID, cpu_port=255)
    server = serve(switch, "127.0.0.1:0", DEVICE_ID)
    try:
        yield switch, f"127.0.0.1:{server.bound_port}"
    finally:
        server.stop(0).wait()


@pytest.fixture
def connect(switch_and_address):
    """connect(election_id=1) -> an arbitrated Controller; all are closed at teardown."""
    made: list[Controller] = []
    _, address = switch_and_address

    def factory(election_id: int | None = 1, arbitrate: bool = True) -> Controller:
        ctl = Controller(address, election_id)
        made.append(ctl)
        if arbitrate:
            ctl.arbitrate()
        return ctl

    try:
        yield factory
    finally:
        for ctl in made:
            ctl.close()


@pytest.fixture
def primary(connect, compiled):
    """A primary controller with the test program committed."""
    ctl = connect(1)
    ctl.set_pipeline(compiled)
    return ctl


