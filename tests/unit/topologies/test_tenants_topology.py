"""Tenants in the topology model: added over known hosts only, disjoint, round-tripped
through JSON, and a bad tenant in a topology file is a one-line error with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from controller.tenants import effective_tenants
from fabriclab.errors import FabricError
from topologies.builders import leaf_spine
from topologies.graph import Tenant, Topology


def test_json_round_trip_keeps_tenants():
    topo = leaf_spine(2, 2, 2)
    topo.add_tenant("a", ["h1", "h3"], 10e9, 20e9, queue=2)
    topo.add_tenant("b", ("h2",), 1e9, 5e9)
    back = Topology.from_json(topo.to_json())
    assert back == topo
    assert back.tenants["a"] == Tenant("a", ("h1", "h3"), 10e9, 20e9, 2, 100)
    assert list(back.tenants) == ["a", "b"]


def test_no_tenants_no_field():
    """Older documents (no "tenants") still load, and a topology without tenants writes none."""
    topo = leaf_spine(2, 1, 1)
    assert "tenants" not in topo.to_dict()
    assert Topology.from_json(topo.to_json()).tenants == {}


@pytest.mark.parametrize("hosts, message", [
    (["h9"], "tenant 'x': unknown host 'h9'"),
    (["l1"], "tenant 'x': unknown host 'l1'"),
    (["h2", "h1"], "tenants 'a' and 'x' overlap: both hold h1"),
    ([], "tenant 'x': no hosts"),
])
def test_bad_tenant(hosts, message):
    topo = leaf_spine(2, 2, 2)
    topo.add_tenant("a", ["h1"], 1e9, 2e9)
    with pytest.raises(FabricError, match=message):
        topo.add_tenant("x", hosts, 1e9, 2e9)
    assert list(topo.tenants) == ["a"]


def test_bad_rates_and_duplicate_name():
    topo = leaf_spine(2, 2, 2)
    topo.add_tenant("a", ["h1"], 1e9, 2e9)
    with pytest.raises(FabricError, match="need 0 < guaranteed <= cap"):
        topo.add_tenant("b", ["h2"], 3e9, 2e9)
    with pytest.raises(FabricError, match="duplicate or empty name"):
        topo.add_tenant("a", ["h2"], 1e9, 2e9)


def test_controller_adds_run_tenants_to_the_topology_ones():
    topo = leaf_spine(2, 2, 2)
    topo.add_tenant("a", ["h1"], 1e9, 2e9)
    extra = Tenant("b", ("h2",), 1e9, 2e9)
    assert [t.name for t in effective_tenants(topo, [extra])] == ["a", "b"]
    with pytest.raises(FabricError, match="tenants 'a' and 'c' overlap: both hold h1"):
        effective_tenants(topo, [Tenant("c", ("h1",), 1e9, 2e9)])


@pytest.mark.parametrize("tenant, message", [
    ({"name": "a", "hosts": ["h7"], "guaranteed_bps": 1e9, "cap_bps": 2e9}, "unknown host 'h7'"),
    ({"name": "a", "hosts": [1], "guaranteed_bps": 1e9, "cap_bps": 2e9}, "'hosts' must be names"),
    ({"name": "a", "hosts": ["h1"], "guaranteed_bps": "1", "cap_bps": 2e9}, "must be int or float"),
])
def test_bad_topology_file_on_the_cli(tmp_path, tenant, message):
    doc = leaf_spine(2, 1, 2).to_dict()
    doc["tenants"] = [{"name": "b", "hosts": ["h1"], "guaranteed_bps": 1e9, "cap_bps": 2e9}, tenant]
    path = tmp_path / "topo.json"
    path.write_text(json.dumps(doc))
    done = subprocess.run([sys.executable, "-m", "fabriclab", "collective", "all_reduce", "--sim", "2",
                           "--topology", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_overlapping_tenants_in_a_file(tmp_path):
    doc = leaf_spine(2, 1, 2).to_dict()
    doc["tenants"] = [{"name": "a", "hosts": ["h1", "h2"], "guaranteed_bps": 1e9, "cap_bps": 2e9},
                      {"name": "b", "hosts": ["h2"], "guaranteed_bps": 1e9, "cap_bps": 2e9}]
    with pytest.raises(FabricError, match="tenants 'a' and 'b' overlap: both hold h2"):
        Topology.from_dict(doc)


def test_a_virtual_time_fabric_installs_the_topology_tenants():
    from fabriclab.vtime.fabric import Fabric

    topo = leaf_spine(2, 1, 2)
    topo.add_tenant("a", ["h1", "h3"], 1e9, 2e9, queue=2)
    fabric = Fabric(topo)
    for client in fabric.clients.values():
        entries = client.read_table("FabricIngress.tenants.tenant_classify")
        assert len(entries) == 2
