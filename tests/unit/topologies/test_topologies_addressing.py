"""Deterministic addresses and MACs."""

import ipaddress

import pytest

from fabriclab.errors import FabricError
from topologies import builders
from topologies.addressing import Addressing


def test_leaf_spine_addresses():
    a = Addressing(builders.leaf_spine(leaves=2, hosts_per_leaf=2))
    assert [str(a.ip(h)) for h in ("h1", "h2", "h3", "h4")] == [
        "10.0.1.1", "10.0.1.2", "10.0.2.1", "10.0.2.2"]
    nic = a.nics[("h3", 0)]
    assert nic.mac == "02:00:0a:00:02:01"
    assert str(nic.gateway) == "10.0.2.254" and nic.switch == "l2" and nic.switch_port == 1
    assert nic.gateway_mac == a.port_mac("l2", 1)


def test_addresses_are_unique_and_deterministic():
    t = builders.rail_optimized(hosts=4, rails=2, scaleup=builders.ScaleUp(2))
    a, b = Addressing(t), Addressing(builders.rail_optimized(hosts=4, rails=2, scaleup=builders.ScaleUp(2)))
    assert a.nics == b.nics
    ips = [n.ip.ip for n in a.nics.values()]
    macs = [n.mac for n in a.nics.values()] + [a.port_mac(s.name, p) for s in t.switches() for p in t.ports(s.name)]
    assert len(set(ips)) == len(ips) == 4 * 3
    assert len(set(macs)) == len(macs)


def test_multi_site_uses_site_octet():
    a = Addressing(builders.multi_site(sites=2))
    assert a.ip("h1") == ipaddress.IPv4Address("10.0.1.1")
    assert a.ip("h5") == ipaddress.IPv4Address("10.1.1.1")


def test_unknown_host_or_nic():
    a = Addressing(builders.leaf_spine())
    with pytest.raises(FabricError, match="no host named 'l1'"):
        a.ip("l1")
    with pytest.raises(FabricError, match="no NIC 3"):
        a.ip("h1", 3)
