"""RoCEv2 collectives on a real Mininet leaf-spine of built-in P4 switches (root).

The topology is a fixture (`fabriclab.net.FabricNet`); the ranks are started in the
Mininet hosts through `placement.in_mininet_host`, as experiments do.
"""

import os

import pytest

from fabriclab.net import clean
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.launch.placement import in_mininet_host
from fabriclab.launch.collective import launch
from fabriclab.roce.runs import RunOptions, summarize

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]


def toolchain_or_skip():
    from fabriclab import p4

    if not hasattr(p4, "compile_file"):
        pytest.skip("toolchain (fabriclab.p4.compile_file) not in this tree yet")


@pytest.fixture
def leaf_spine(request):
    """Factory: bring up a leaf-spine with a P4 program; everything is removed afterwards."""
    toolchain_or_skip()
    from controller.route_installer import RouteInstaller
    from fabriclab.net.network import FabricNet, NetConfig
    from topologies.addressing import Addressing

    nets = []

    def make(topo, program, port_offset: int):
        run = f"t-roce-{port_offset}-{os.getpid()}"
        net = FabricNet(topo, NetConfig(program=program, run=run,
                                        grpc_base_port=32000 + 100 * port_offset + os.getpid() % 50),
                        controller=RouteInstaller())
        nets.append(net)
        net.start()
        names = [h.name for h in topo.hosts()]
        addressing = Addressing(topo)
        return net, [in_mininet_host(net.host(n)) for n in names], [(str(addressing.ip(n)), 4791) for n in names]

    yield make
    for net in nets:
        net.stop()
        assert clean.run_processes(net.config.run) == []


def test_ring_allreduce_1mib_over_leaf_spine_is_correct_on_every_rank(leaf_spine):
    from fabriclab.paths import p4src
    from topologies import builders

    topo = builders.leaf_spine(leaves=2, spines=2, hosts_per_leaf=2, downlink_bw=20)
    _, spawns, addrs = leaf_spine(topo, p4src("basic.p4"), 1)
    spec = CollectiveSpec("allreduce", 4, 1 << 20)
    results = launch(spawns, addrs, spec, RunOptions(iters=1, warmup=0, line_rate=20e6), timeout=240)
    assert summarize(spec, results).wrong == 0
    for r in results:
        assert r["done"] and r["wrong"] == 0
        assert r["nic"]["icrc_errors"] == 0  # switches rewrote TTL (masked in the ICRC) and checksums


def test_ecn_marking_on_an_oversubscribed_uplink_makes_cnps_flow_and_rates_drop(leaf_spine):
    """Two hosts per leaf at 20 Mb/s share a 5 Mb/s uplink: the cross-leaf ring hops mark CE."""
    from controller import cli as ctl_cli
    from controller.fabric import FABRIC_P4
    from controller.fabric_plan import Ecn
    from fabriclab.switch import admin
    from topologies import builders

    topo = builders.leaf_spine(leaves=2, spines=2, hosts_per_leaf=2, downlink_bw=20, uplink_bw=5)
    # fabric.p4's controller puts ACKs and CNPs in priorities 6 and 7: `fabriclab net`
    # starts every switch with 8 priority queues (a priority without a queue is dropped)
    net, spawns, addrs = leaf_spine(topo, FABRIC_P4, 2)
    ctl = ctl_cli.connect(net.rundir.path, net.config.grpc_base_port)
    try:
        ctl.set_ecn(Ecn(kmin=2, kmax=10))
    finally:
        ctl.close()
    spec = CollectiveSpec("allreduce", 4, 256 << 10)
    results = launch(spawns, addrs, spec, RunOptions(iters=1, warmup=0, line_rate=20e6, dcqcn_rtt=2e-3),
                     timeout=240)
    assert summarize(spec, results).wrong == 0
    assert sum(r["nic"]["ce_marked"] for r in results) > 0
    assert sum(r["nic"]["cnps_sent"] for r in results) > 0
    assert sum(r["dcqcn"]["cnps_received"] for r in results) > 0
    assert min(r["dcqcn"]["lowest_rate"] for r in results) < 20e6 / 2
    for switch in topo.switches():
        ports = admin.request(str(net.rundir.admin_socket(switch.name)), ["show_queues"])
        assert all(len(p["queues"]) == 8 and p["priority_drops"] == 0 for p in ports.values()), ports


def test_cli_on_a_running_fabriclab_net():
    """`fabriclab collective ... --run NAME` finds the hosts of a `fabriclab net` started elsewhere."""
    import signal
    import subprocess
    import sys

    from fabriclab.paths import p4src

    toolchain_or_skip()
    run = f"t-roce-cli-{os.getpid()}"
    net = subprocess.Popen([sys.executable, "-m", "fabriclab", "net", "leaf-spine", "--run", run,
                            "--program", str(p4src("basic.p4")), "--grpc-base-port", str(32400 + os.getpid() % 50)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in net.stdout:
            if "fabriclab net: up" in line:
                break
        else:
            pytest.fail(f"net never came up (exit {net.wait()})")
        out = subprocess.run([sys.executable, "-m", "fabriclab", "collective", "allreduce", "--run", run,
                              "--ranks", "h4,h1,h3", "--size", "96K", "--iters", "2", "--rate", "20M"],
                             capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr
        row = next(line.split() for line in out.stdout.splitlines() if line.split()[:1] == [str(96 * 1024)])
        assert row[-1] == "0"  # #wrong
        assert "3 ranks" in out.stdout
        bad = subprocess.run([sys.executable, "-m", "fabriclab", "collective", "allreduce", "--run", run,
                              "--ranks", "h1,h9"], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "h9" in bad.stderr and "Traceback" not in bad.stderr
    finally:
        net.send_signal(signal.SIGINT)
        try:
            net.wait(timeout=60)
        finally:
            net.kill()
            net.stdout.close()
        clean.clean_run(run)
    assert clean.run_processes(run) == []
