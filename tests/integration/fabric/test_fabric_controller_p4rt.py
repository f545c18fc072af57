"""The fabric controller against a real `fabriclab switch` P4Runtime server on 127.0.0.1
(no interfaces, no root): pipeline push, full install, run-time changes, regrouping after
a link failure, counters. Entries are read back over P4Runtime."""

import socket

import pytest
from finsy.proto import p4r

from controller import fabric_base_routes
from controller.client import P4RuntimeClient, decode
from controller.fabric import FABRIC_P4, FabricController
from controller.fabric_plan import Ecn, FabricConfig, Mode, Watch
from controller.routes import compute_routes
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import compile_builtin
from fabriclab.switch.spawn import start_switch, stop_switch
from topologies.builders import leaf_spine


L1_DEVICE = leaf_spine(2, 2, 2).switch_index("l1")  # fabriclab net's device id for l1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pipeline():
    program = compile_builtin(FABRIC_P4)
    return program.p4info, program.device_config


@pytest.fixture
def switch_addr(tmp_path):
    addr = f"127.0.0.1:{free_port()}"
    proc, _ = start_switch(["--no-p4", "--grpc-server-addr", addr, "--device-id", str(L1_DEVICE),
                            "--admin-socket", str(tmp_path / "admin.sock")])
    try:
        yield addr
    finally:
        stop_switch(proc)


def connected(addr: str) -> P4RuntimeClient:
    """A client of the (ready) switch at `addr`."""
    client = P4RuntimeClient(addr, device_id=L1_DEVICE, timeout=30)
    client.connect()
    return client


@pytest.fixture
def ctl(switch_addr, pipeline):
    topo = leaf_spine(2, 2, 2)
    client = connected(switch_addr)
    controller = FabricController(topo, {"l1": client},
                                  FabricConfig(collector="h1", ecn=Ecn(5, 25, 0.5)))
    try:
        controller.push_pipeline(*pipeline)
        controller.install()
        yield controller
    finally:
        controller.close()


def default_action(client, table):
    (entry,) = [e for e in client.read_table(table) if e.is_default_action] or [None]
    if entry is None:  # some servers only answer an explicit default-entry read
        t = client._p4().get("tables", table)
        (entry,) = [e.table_entry for e in client.read(p4r.Entity(table_entry=p4r.TableEntry(
            table_id=t.preamble.id, is_default_action=True)))]
    return entry.action.action


def params(client, action_msg):
    names = {a.preamble.id: a for a in client._p4().p4info.actions}
    action = names[action_msg.action_id]
    by_id = {p.id: p.name for p in action.params}
    return action.preamble.name, {by_id[p.param_id]: decode(p.value) for p in action_msg.params}


def groups(client):
    profile = client._p4().id("action_profiles", "FabricIngress.ecmp_selector")
    entities = client.read(p4r.Entity(action_profile_group=p4r.ActionProfileGroup(
        action_profile_id=profile)))
    return {e.action_profile_group.group_id:
            sorted(m.member_id for m in e.action_profile_group.members) for e in entities}


def test_install_writes_routes_groups_and_config(ctl):
    c = ctl.clients["l1"]
    plan = ctl.plans["l1"]
    assert len(c.read_table("FabricIngress.ipv4_routes")) == len(plan.routes)
    assert groups(c) == {gid: sorted(g.ports) for gid, g in plan.groups.items()}
    assert len(c.read_table("FabricEgress.port_macs")) == 4
    assert params(c, default_action(c, "FabricIngress.routing_mode")) == (
        "FabricIngress.set_mode", {"mode": 0, "flowlet_gap": 50_000, "load_max_age": 20_000})
    name, ecn = params(c, default_action(c, "FabricEgress.ecn_config"))
    assert name == "FabricEgress.ecn_thresholds" and (ecn["kmin"], ecn["kmax"]) == (5, 25)
    assert params(c, default_action(c, "FabricEgress.int_config"))[1]["collector_ip"] == 0x0A000101


def test_run_time_changes_and_regroup(ctl):
    c = ctl.clients["l1"]
    ctl.set_mode("adaptive", load_max_age_us=5000)
    assert params(c, default_action(c, "FabricIngress.routing_mode"))[1]["mode"] == Mode.ADAPTIVE
    ctl.config.class_modes = {48: Mode.ECMP}
    ctl.set_mode(Mode.FLOWLET, flowlet_gap_us=1000)
    (entry,) = [e for e in c.read_table("FabricIngress.routing_mode") if not e.is_default_action]
    assert params(c, entry.action.action)[1]["mode"] == Mode.ECMP
    ctl.set_ecn(None)
    assert params(c, default_action(c, "FabricEgress.ecn_config"))[0] == "FabricEgress.ecn_disabled"
    ctl.set_watchlist([Watch("10.0.1.1", "10.0.2.1", 4791), Watch(dst="10.0.2.2")])
    assert len(c.read_table("FabricIngress.int_watchlist")) == 2
    ctl.set_watchlist([])
    assert c.read_table("FabricIngress.int_watchlist") == []

    uplinks = [p for p, peer, _, _ in ctl.topo.neighbors("l1") if peer == "s1"]
    assert ctl.link_down("l1", uplinks[0]) == ["l1"]
    remote = ctl.plans["l1"].routes[next(p for p in ctl.plans["l1"].routes
                                         if str(p) == "10.0.2.0/24")]
    assert uplinks[0] not in groups(c)[remote]
    assert ctl.link_up("l1", uplinks[0]) == ["l1"]
    assert uplinks[0] in groups(c)[remote]
    with pytest.raises(FabricError, match="no link"):
        ctl.link_down("l1", 77)


def test_port_stats_start_at_zero(ctl):
    stats = ctl.port_stats("l1")
    assert set(stats) == {1, 2, 3, 4}
    assert all(s.tx_packets == 0 and s.drops == 0 for s in stats.values())


def test_net_installer_state_is_what_the_controller_regroups(switch_addr, pipeline):
    """`fabriclab net` installs routes through fabric_base_routes; the controller attached
    afterwards must agree on group ids, so its regrouping hits the installed groups."""
    topo = leaf_spine(2, 2, 2)
    client = connected(switch_addr)
    try:
        client.set_pipeline(*pipeline)
        assert fabric_base_routes.supports(pipeline[0])
        n = fabric_base_routes.install(client, compute_routes(topo)["l1"])
        controller = FabricController(topo, {"l1": client})
        assert n == len(controller.plans["l1"].routes)
        assert groups(client) == {g: sorted(x.ports) for g, x in controller.plans["l1"].groups.items()}
        macs = {decode(e.match[0].exact.value): e for e in client.read_table("FabricEgress.port_macs")}
        assert sorted(macs) == sorted(controller.plans["l1"].port_macs)
        controller.apply_config()
        uplink = next(p for p, peer, _, _ in topo.neighbors("l1") if peer == "s2")
        assert controller.link_down("l1", uplink) == ["l1"]
        assert all(uplink not in ports for ports in groups(client).values())
    finally:
        client.close()
