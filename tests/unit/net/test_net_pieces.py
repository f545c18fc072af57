"""Pure parts of fabriclab.net: command lines, link parameters, host configuration,
basic.p4 route entries and `fabriclab net` option handling (no root needed)."""

import argparse
import ipaddress
from pathlib import Path

import pytest

from controller import basic_routing
from controller.routes import compute_routes
from fabriclab.errors import FabricError
from fabriclab.net import cli, linkparams
from fabriclab.net.host import host_commands
from fabriclab.net.p4node import switch_command, target_command
from fabriclab.paths import RunDir, veth_name
from topologies import builders
from topologies.addressing import Addressing
from topologies.graph import LinkParams


def test_builtin_switch_command_carries_link_model():
    flags = tuple(linkparams.switch_port_flags(2, LinkParams(100, 10_000, 32)))
    cmd = switch_command("builtin", ["fabriclab", "switch"], 3, {2: "flvl1-2", 1: "flvl1-1"},
                         "127.0.0.1:9562", 255, None, flags, priority_queues=8)
    assert cmd == ["fabriclab", "switch", "--no-p4", "--device-id", "3", "-i", "1@flvl1-1",
                   "-i", "2@flvl1-2", "--port-rate", "2@100mbit", "--port-delay", "2@10000us",
                   "--queue-depth", "2@32", "--grpc-server-addr", "127.0.0.1:9562",
                   "--priority-queues", "8", "--cpu-port", "255"]


def test_bmv2_command_puts_target_options_after_dashes():
    cmd = switch_command("bmv2", ["simple_switch_grpc"], 1, {1: "flvs1-1"}, "127.0.0.1:9560",
                         None, Path("/tmp/p"), priority_queues=8)
    assert cmd[-7:] == ["--thrift-port", "9091", "--", "--grpc-server-addr", "127.0.0.1:9560",
                        "--priority-queues", "8"]
    assert cmd[cmd.index("--pcap") + 1] == "/tmp/p"


def test_port_flags_parse_with_the_switch_parsers():
    from fabriclab.switch import ports

    flags = linkparams.switch_port_flags(4, LinkParams(2.5, 250, None))
    assert ports.parse_port_rate(flags[1]) == (4, ports.Rate(bps=2.5e6))
    assert ports.parse_port_delay(flags[3]) == (4, 250_000)


def test_tc_params_and_host_shaping():
    assert linkparams.tc_params(LinkParams(10, 5000, 20)) == {
        "bw": 10, "delay": "5000us", "max_queue_size": 20}
    assert linkparams.tc_params(LinkParams()) == {}
    assert linkparams.host_shaping_cmds("eth0", LinkParams()) == []
    (cmd,) = linkparams.host_shaping_cmds("eth1", LinkParams(100))
    assert cmd.startswith("tc qdisc replace dev eth1 root tbf rate 100mbit burst 12500 ")
    (jumbo,) = linkparams.host_shaping_cmds("eth0", LinkParams(10), mtu=9000)
    assert " burst 18036 " in jumbo  # two jumbo frames, not 1 ms at 10 Mb/s


def test_host_side_delay_is_refused():
    t = builders.leaf_spine()
    t.links[0] = type(t.links[0])(**{**t.links[0].__dict__, "ab": LinkParams(10, 100)})
    with pytest.raises(FabricError, match=r"\(leaving h1\): the built-in target models delay"):
        linkparams.check_target_supports(t, "builtin")


def test_unknown_target_and_missing_bmv2():
    with pytest.raises(FabricError, match="unknown target 'tofino'"):
        target_command("tofino")
    with pytest.raises(FabricError, match="needs simple_switch_grpc"):
        target_command("bmv2")


def test_host_commands_static_neighbours_and_default_route():
    t = builders.leaf_spine(leaves=2, hosts_per_leaf=2)
    a = Addressing(t)
    cmds = host_commands(a.host_nics("h1"), 1500, list(a.nics.values()))
    assert "ip addr replace 10.0.1.1/24 dev eth0" in cmds
    assert f"ip neigh replace 10.0.1.254 lladdr {a.port_mac('l1', 1)} dev eth0 nud permanent" in cmds
    assert "ip neigh replace 10.0.1.2 lladdr 02:00:0a:00:01:02 dev eth0 nud permanent" in cmds
    assert not any("10.0.2.1 " in c for c in cmds)  # other subnets go via the gateway
    assert cmds[-1] == "ip route replace default via 10.0.1.254 dev eth0"


def test_basic_routing_entries_spread_over_spines():
    t = builders.leaf_spine(leaves=3, spines=2, hosts_per_leaf=1)
    routes = compute_routes(t)
    entries = {e.match[basic_routing.KEY]: e.params for e in basic_routing.entries(routes["l1"])}
    assert entries[("10.0.1.1", 32)]["port"] == 1
    # subnets 10.0.2.0/24 and 10.0.3.0/24 leave through different spines (ports 2, 3)
    assert {entries[("10.0.2.0", 24)]["port"], entries[("10.0.3.0", 24)]["port"]} == {2, 3}


def test_veth_and_run_names():
    assert veth_name("l1", 3, "") == "flvl1-3"
    a, b = veth_name("l1", 3, "run-a"), veth_name("l1", 3, "run-b")
    assert a != b and a.startswith("flv") and a.endswith("l1-3")
    assert len(veth_name("abcdef", 254, "x")) <= 15
    with pytest.raises(FabricError, match="bad run name"):
        RunDir("../etc")


def parse(argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_net_options_build_the_topology():
    topo = cli.build_topology(parse(["multi-site", "--sites", "3", "--dci-delay", "10ms",
                                     "--scaleup-size", "2"]))
    dci = [ln for ln in topo.links if ln.ab.delay_us]
    assert len(dci) == 3 and dci[0].ab.delay_us == 10_000
    assert any(n.kind.value == "scaleup" for n in topo.nodes.values())


def test_link_rates_take_the_one_unit_grammar():
    """A bare number is Mb/s (Mininet's bw); units work as everywhere else."""
    for given, mbps in (("10", 10.0), ("1G", 1000.0), ("500kbit", 0.5), ("20Mb/s", 20.0)):
        topo = cli.build_topology(parse(["leaf-spine", "--uplink-bw", given]))
        assert {ln.ab.bw for ln in topo.links if topo.nodes[ln.a].is_switch
                and topo.nodes[ln.b].is_switch} == {mbps}


@pytest.mark.parametrize("argv, message", [
    (["leaf-spine", "--uplink-bw", "fast"], "--uplink-bw: 'fast' is not a rate"),
    (["leaf-spine", "--k", "4"], "--k does not apply to leaf-spine"),
    (["leaf-spine", "--leaves", "two"], "'two' is not a number"),
    (["leaf-spine", "--leaves", "0"], "leaves must be >= 1"),
    (["fat-tree", "--k", "5"], "even number"),
    (["torus"], "unknown topology 'torus'"),
])
def test_net_option_errors(argv, message):
    with pytest.raises(FabricError, match=message):
        cli.build_topology(parse(argv))


def test_topology_file(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(builders.fat_tree(2).to_json())
    assert cli.build_topology(parse([str(path)])).name == "fat-tree-k2"
    with pytest.raises(FabricError, match="do not apply to a topology file"):
        cli.build_topology(parse([str(path), "--leaves", "2"]))


def test_each_switch_models_the_direction_it_sends():
    from fabriclab.net.network import FabricNet, NetConfig
    from topologies.graph import Topology

    t = Topology("asym")
    t.add_node("h1", "host")
    t.add_node("l1", "leaf")
    t.add_node("b1", "border")
    t.add_link("h1", "l1", LinkParams(50))
    t.add_link("l1", "b1", LinkParams(10, 1000, 8), LinkParams(20, 3000))
    net = FabricNet(t, NetConfig(run="unit", switch_args=("--log-console",)))
    l1, b1 = net._switch_options("l1"), net._switch_options("b1")
    assert l1[l1.index("2@10mbit") - 1] == "--port-rate"
    assert "2@1000us" in l1 and "2@8" in l1 and "1@50mbit" in l1
    assert "1@20mbit" in b1 and "1@3000us" in b1 and "--queue-depth" not in b1
    assert b1[-1] == "--log-console"
    bmv2 = FabricNet(t, NetConfig(run="unit", target="bmv2"))._switch_options("l1")
    assert bmv2 == ()  # BMv2 links go to tc, not to switch flags


def test_program_errors_before_anything_runs(tmp_path):
    from fabriclab.net.program import default_program, load_program

    assert default_program().name in ("fabric.p4", "basic.p4")
    with pytest.raises(FabricError, match="no P4 program at"):
        load_program(tmp_path / "missing.p4", "builtin", tmp_path)
    (tmp_path / "x.p4").write_text("")
    with pytest.raises(FabricError, match="needs p4c-bm2-ss"):
        load_program(tmp_path / "x.p4", "bmv2", tmp_path)


class RefusingController:
    """A controller (FabricNet's `controller=`) that knows no program."""

    clients: dict = {}

    def __init__(self):
        self.checked = []

    def check(self, program):
        self.checked.append(program.source.name)
        raise FabricError(f"no route installer knows the tables of {program.source.name}")

    def start(self, *args):
        raise AssertionError("start() after a refused check")

    def stop(self):
        pass


def test_the_given_controller_checks_the_program_before_anything_exists(monkeypatch):
    """FabricNet takes its controller as an argument (Mininet's controller=) and asks it
    about the compiled program before the first namespace or veth."""
    from fabriclab import paths
    from fabriclab.net.network import FabricNet, NetConfig

    built = []
    monkeypatch.setattr(FabricNet, "preflight", lambda self: None)
    monkeypatch.setattr(FabricNet, "_build", lambda self: built.append(1))
    controller = RefusingController()
    net = FabricNet(builders.leaf_spine(leaves=1, spines=1, hosts_per_leaf=1),
                    NetConfig(run="unit-refused", program=paths.p4src("basic.p4")),
                    controller=controller)
    with pytest.raises(FabricError, match="no route installer knows the tables of basic.p4"):
        net.start()
    assert controller.checked == ["basic.p4"] and built == []
    assert not RunDir("unit-refused").path.exists()
