"""`fabriclab ctl routes`: the routes read back from fabric.p4 switches (loopback P4Runtime
servers, programmed by the unchanged FabricController) on 2 scale-up domains of 2: an
intra-domain pair's scale-up address is routed by its `u` switch straight to the host, an
inter-domain pair on one rail by its rail leaf, and no other switch routes a scale-up subnet."""

from __future__ import annotations

import ipaddress

import pytest

from controller.client import P4RuntimeClient
from controller.fabric import FABRIC_P4, FabricController
from controller.routes_cli import format_routes, print_routes, read_routes
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import compile_builtin
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.server import serve
from topologies.addressing import Addressing
from topologies.builders import scale_up_fabric


@pytest.fixture(scope="module")
def fabric():
    topo = scale_up_fabric(accelerators=4, domain=2, nic_bw=10, scaleup_bw=40, spines=1)
    pipeline = compile_builtin(FABRIC_P4)
    servers, clients = [], {}
    try:
        for i, sw in enumerate(topo.switches()):
            server = serve(LoopbackSwitch(device_id=i + 1), "127.0.0.1:0", i + 1)
            servers.append(server)
            c = clients[sw.name] = P4RuntimeClient(f"127.0.0.1:{server.bound_port}", i + 1)
            c.connect()
            c.set_pipeline(pipeline.p4info, pipeline.device_config)
        FabricController(topo, clients).install()
        yield topo, clients
    finally:
        for c in clients.values():
            c.close()
        for s in servers:
            s.stop(0).wait()


def lookup(routes, ip):
    ip = ipaddress.IPv4Address(ip)
    return max((r for r in routes if ip in r.prefix), key=lambda r: r.prefix.prefixlen)


def test_intra_domain_via_scale_up_inter_domain_via_its_rail(fabric):
    topo, clients = fabric
    a = Addressing(topo)
    peers = {sw: {port: peer for port, peer, _, _ in topo.neighbors(sw)} for sw in clients}
    # h1 -> h2 (same domain) at h2's scale-up address: u1 sends it straight to h2
    u1 = read_routes(clients["u1"])
    assert [peers["u1"][p] for p in lookup(u1, a.ip("h2", 1)).ports] == ["h2"]
    assert {r.prefix.prefixlen for r in u1} == {32} and len(u1) == 2  # one /32 per member
    # h1 -> h3 (other domain, rail 0 like h1): rail leaf r1 delivers it, no spine
    assert topo.nodes["r1"].rail == 0 and {"h1", "h3"} <= set(peers["r1"].values())
    r1 = read_routes(clients["r1"])
    assert [peers["r1"][p] for p in lookup(r1, a.ip("h3", 0)).ports] == ["h3"]
    # a cross-rail address leaves r1 through the spine
    assert [peers["r1"][p] for p in lookup(r1, a.ip("h4", 0)).ports] == ["s1"]
    # nothing outside a domain routes into a scale-up subnet
    for sw in ("r1", "r2", "s1"):
        assert not any(r.prefix.overlaps(a.subnets["u1"]) for r in read_routes(clients[sw]))


def test_printed_routes(fabric, capsys):
    topo, clients = fabric
    print_routes(topo, clients, "u1")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "u1: 2 routes"
    assert any("/32" in line and "(h1)" in line for line in out[1:])
    assert "-> group" in format_routes(topo, "r1", read_routes(clients["r1"]))
    with pytest.raises(FabricError, match="no switch 'x9'"):
        print_routes(topo, clients, "x9")
