"""Tenants over P4Runtime on in-process fabric.p4 switches: the plan's entries and meter
configs land on every switch, a tenant's burst is coloured by its meter (remarked, dropped),
other hosts are untouched, bad tenant lists give one-line errors."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from controller.client import P4RuntimeClient
from controller.tenants import (BYTES_METER, Tenant, TenantInstaller, check_tenants,
                                load_tenants, plan_tenants, save_tenants)
from finsy.proto import p4r
from fabriclab.errors import FabricError
from topologies.addressing import Addressing
from topologies.builders import leaf_spine

# 100 B/s guaranteed, 200 B/s cap: within a test run the buckets refill < 1 frame
SLOW = Tenant("slow", ("h1",), guaranteed_bps=800, cap_bps=1600, queue=3, burst_us=1)
FAST = Tenant("fast", ("h2", "h3"), guaranteed_bps=1e9, cap_bps=2e9, queue=2)


def meter_rates(c: P4RuntimeClient, index: int) -> tuple[int, int, int, int] | None:
    entry = p4r.MeterEntry(meter_id=c._p4().id("meters", BYTES_METER), index=p4r.Index(index=index))
    (got,) = c.read(p4r.Entity(meter_entry=entry))
    cfg = got.meter_entry
    if not cfg.HasField("config"):
        return None
    return cfg.config.cir, cfg.config.cburst, cfg.config.pir, cfg.config.pburst


def frame(topo, src: str, dst: str, size: int = 1000) -> tuple[str, int, bytes]:
    """(leaf, port, frame) of a UDP packet `src` sends to `dst`."""
    a = Addressing(topo)
    nic = a.host_nics(src)[0]
    pkt = (Ether(src=nic.mac, dst=nic.gateway_mac) / IP(src=str(nic.ip.ip), dst=str(a.ip(dst)))
           / UDP(sport=1234, dport=5000))
    return nic.switch, nic.switch_port, bytes(pkt / Raw(b"\0" * (size - len(pkt))))


def test_install_colours_and_clear(fabric):
    ctl, switches = fabric
    plan = plan_tenants(ctl.topo, [SLOW, FAST])
    inst = TenantInstaller(ctl.clients)
    inst.install(plan)
    inst.install(plan)  # replacing a plan by itself is fine
    for c in ctl.clients.values():
        assert len(c.read_table("FabricIngress.tenants.tenant_classify")) == 3
        assert meter_rates(c, 1) == (100, 1500, 200, 1500)
        assert meter_rates(c, 2) == (125_000_000, 12_500, 250_000_000, 25_000)
    leaf, port, data = frame(ctl.topo, "h1", "h2")
    outs = [switches[leaf].receive(port, data) for _ in range(3)]
    # 1500 B buckets, 1000 B frames: GREEN (queue 3, DSCP kept), RED (dropped), then the
    # committed bucket holds 500 B, the peak 0 after the first: RED again
    assert len(outs[0]) == 1 and IP(outs[0][0][1][14:]).tos == 0
    assert outs[1] == [] and outs[2] == []
    counts = inst.color_counts(leaf, plan.ids["slow"])
    assert counts == {"green": (1000, 1), "yellow": (0, 0), "red": (2000, 2)}
    # h3 (tenant fast, far below its rates) is all GREEN
    leaf3, port3, data3 = frame(ctl.topo, "h3", "h1")
    assert all(len(switches[leaf3].receive(port3, data3)) == 1 for _ in range(3))
    inst.clear()
    for c in ctl.clients.values():
        assert c.read_table("FabricIngress.tenants.tenant_classify") == []
        assert meter_rates(c, 1) is None
    assert all(len(switches[leaf].receive(port, data)) == 1 for _ in range(3))


def test_yellow_is_remarked_to_best_effort(fabric):
    ctl, switches = fabric
    # guarantee < one frame, cap > three frames: every packet after the first is YELLOW
    mid = Tenant("mid", ("h1",), guaranteed_bps=800, cap_bps=8 * 4000 * 1_000_000, burst_us=1)
    TenantInstaller(ctl.clients).install(plan_tenants(ctl.topo, [mid]))
    leaf, port, data = frame(ctl.topo, "h1", "h2")
    pkt = Ether(data)
    pkt[IP].tos = 26 << 2 | 2  # DSCP 26, ECT(0)
    del pkt[IP].chksum
    outs = [switches[leaf].receive(port, bytes(Ether(bytes(pkt)))) for _ in range(3)]
    tos = [IP(o[0][1][14:]).tos for o in outs]
    assert tos == [26 << 2 | 2, 2, 2]  # DSCP -> 0, ECN bits kept


def test_yellow_keeps_the_tenant_queue():
    """A lower queue for YELLOW would let the flow's GREEN packets overtake it (reordering,
    which costs a go-back-N receiver a retransmission each): only the DSCP changes."""
    plan = plan_tenants(leaf_spine(2, 2, 2), [FAST, SLOW])
    yellow = {e.match["meta.tenant"]: e.params for e in plan.policy if e.action.endswith("tenant_remark")}
    assert yellow == {plan.ids["fast"]: {"dscp": 0, "priority": 2}, plan.ids["slow"]: {"dscp": 0, "priority": 3}}


@pytest.mark.parametrize("tenants, message", [
    ([Tenant("a", ("h9",), 1e9, 2e9)], "tenant 'a': unknown host 'h9'"),
    ([Tenant("a", ("l1",), 1e9, 2e9)], "tenant 'a': unknown host 'l1'"),
    ([Tenant("a", ("h1", "h2"), 1e9, 2e9), Tenant("b", ("h2",), 1e9, 2e9)],
     "tenants 'a' and 'b' overlap: both hold h2"),
    ([Tenant("a", ("h1",), 3e9, 2e9)], "need 0 < guaranteed <= cap"),
    ([Tenant("a", ("h1",), 1e9, 2e9, queue=9)], "queue 9 is not 0..7"),
])
def test_bad_tenants(tenants, message):
    with pytest.raises(FabricError, match=message.replace("(", r"\(")):
        check_tenants(leaf_spine(2, 2, 2), tenants)


def test_tenant_file_round_trip(tmp_path):
    path = tmp_path / "tenants.json"
    assert load_tenants(path) == []
    save_tenants(path, [SLOW, FAST])
    assert load_tenants(path) == [SLOW, FAST]
    path.write_text("{")
    with pytest.raises(FabricError, match="corrupt"):
        load_tenants(path)


def test_ctl_tenant_commands(fabric, tmp_path, capsys):
    """`ctl tenant add|set|list|delete` on a controller: the switches follow the run's list."""
    import argparse

    from controller import cli

    ctl, _ = fabric

    def run(*words):
        parser = argparse.ArgumentParser()
        cli.add_arguments(parser)
        cli.tenants(ctl, tmp_path, parser.parse_args(["tenant", *words]))
        return capsys.readouterr().out

    def classified():
        return len(ctl.clients["l1"].read_table("FabricIngress.tenants.tenant_classify"))

    assert "tenant a added" in run("add", "a", "--hosts", "h1,h2", "--guaranteed", "10", "--cap", "20")
    assert classified() == 2
    run("add", "b", "--hosts", "h3", "--guaranteed", "1", "--cap", "2", "--queue", "4")
    assert classified() == 3 and meter_rates(ctl.clients["l2"], 2)[0] == 125_000_000
    run("set", "a", "--cap", "40")
    assert meter_rates(ctl.clients["s1"], 1)[2] == 5_000_000_000
    listing = run("list")
    assert "a: hosts h1,h2 guaranteed 10 Gb/s cap 40 Gb/s queue 1" in listing
    assert "b: hosts h3 guaranteed 1 Gb/s cap 2 Gb/s queue 4; packets green 0" in listing
    with pytest.raises(FabricError, match="tenant 'c': unknown host 'h9'"):
        run("add", "c", "--hosts", "h9", "--guaranteed", "1", "--cap", "2")
    with pytest.raises(FabricError, match="tenants 'a' and 'c' overlap: both hold h2"):
        run("add", "c", "--hosts", "h2", "--guaranteed", "1", "--cap", "2")
    assert classified() == 3  # a rejected change leaves the switches as they were
    run("delete", "a")
    assert classified() == 1 and "a:" not in run("list")
    with pytest.raises(FabricError, match="no tenant 'a'"):
        run("delete", "a")
