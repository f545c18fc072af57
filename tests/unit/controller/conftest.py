"""A fabric.p4 leaf-spine (2 leaves, 2 spines, 2 hosts per leaf) of loopback switches behind
real gRPC on 127.0.0.1, programmed by the unchanged FabricController: shared by the tenant and
failure tests."""

from __future__ import annotations

import pytest

from controller.client import P4RuntimeClient
from controller.fabric import FABRIC_P4, FabricController
from fabriclab.switch.artifact import compile_builtin
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.server import serve
from topologies.builders import leaf_spine


@pytest.fixture(scope="module")
def pipeline():
    return compile_builtin(FABRIC_P4)


@pytest.fixture
def fabric(pipeline):
    """(FabricController, {switch name: LoopbackSwitch}) with routes installed."""
    topo = leaf_spine(2, 2, 2)
    servers, clients, switches = [], {}, {}
    try:
        for i, sw in enumerate(topo.switches()):
            switches[sw.name] = LoopbackSwitch(device_id=i + 1)
            server = serve(switches[sw.name], "127.0.0.1:0", i + 1)
            servers.append(server)
            c = clients[sw.name] = P4RuntimeClient(f"127.0.0.1:{server.bound_port}", i + 1)
            c.connect()
            c.set_pipeline(pipeline.p4info, pipeline.device_config)
        ctl = FabricController(topo, clients)
        ctl.install()
        yield ctl, switches
    finally:
        for c in clients.values():
            c.close()
        for s in servers:
            s.stop(0).wait()
