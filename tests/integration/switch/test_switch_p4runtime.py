"""A controller drives `fabriclab switch --no-p4` over real gRPC: it pushes basic.p4 and
LPM routes while the switch's loop forwards, and traffic between the namespaces flows."""

from __future__ import annotations

import os

import pytest

from conftest import MACS, REPO, finish, real_pipeline_available, wait_listening

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not real_pipeline_available(),
                                 reason="needs the toolchain and SwitchCore")]


def test_controller_loads_lpm_routes_and_traffic_flows(hosts, start_switch):
    from controller.client import Entry, P4RuntimeClient
    from fabriclab.p4 import compile_file

    sw = start_switch("--device-id", "3", program=False)
    echo = hosts.traffic(2, "echo")
    try:
        wait_listening(echo)
        assert finish(hosts.traffic(1, "ping", "10.0.0.2", "2")) == []  # no program: no path

        program = compile_file(os.path.join(REPO, "p4src", "basic.p4"))
        with P4RuntimeClient(sw.grpc_address, device_id=3) as ctl:
            ctl.set_pipeline(program.p4info, program.to_artifact())
            ctl.insert(Entry("MyIngress.ipv4_lpm", {"hdr.ipv4.dstAddr": f"10.0.0.{h}/32"},
                             "MyIngress.ipv4_forward", {"dstAddr": MACS[h], "port": h})
                       for h in (1, 2))
            assert len(finish(hosts.traffic(1, "ping", "10.0.0.2", "5"))) == 5
    finally:
        echo.kill()
        echo.wait()
