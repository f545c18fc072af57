"""fabric.p4 acceptance on real Mininet with the built-in switch (root): leaf-spine
2 leaves x 2 spines x 2 hosts, programmed by `fabriclab net` (routes) and the fabric
controller (modes, ECN, INT, link failures).

One network serves the whole module (bringing it up costs seconds); every test puts back
what it changed (mode, ECN, rates, watchlist, links).
"""

import csv
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
from finsy.proto import p4r

from controller.fabric import FABRIC_P4, FabricController
from controller.fabric_plan import Ecn, FabricConfig, Watch
from controller.int_plot import plot_queue_depth
from controller.link_failure import PortStatusFollower, controller_handler, switch_ports
from controller.route_installer import RouteInstaller
from fabriclab.net import clean
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.paths import RunDir, veth_name
from fabriclab.switch import admin
from topologies.addressing import Addressing
from topologies.graph import NodeKind, Topology

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]

TRAFFIC = str(pathlib.Path(__file__).with_name("fabric_traffic.py"))
PY = sys.executable
DPORT = 5001


def leaf_spine_f() -> Topology:
    """leaf-spine 2 x 2 x 2 with node names of our own (fs1, fl1, fh1, ...): kernel
    interface names derive from node names, so this cannot clash with other runs of the
    standard leaf-spine on the same machine."""
    topo = Topology(name="fabric-acceptance")
    spines = [topo.add_node(f"fs{i}", NodeKind.SPINE).name for i in (1, 2)]
    for pod, leaf in enumerate(("fl1", "fl2")):
        topo.add_node(leaf, NodeKind.LEAF, pod=pod)
        for host in (f"fh{2 * pod + 1}", f"fh{2 * pod + 2}"):
            topo.add_node(host, NodeKind.HOST, pod=pod)
            topo.add_link(host, leaf)
        for spine in spines:
            topo.add_link(leaf, spine)
    topo.validate()
    return topo


@pytest.fixture(scope="module")
def fab():
    topo = leaf_spine_f()
    run = f"t-fabric-{os.getpid()}"
    config = NetConfig(program=FABRIC_P4, run=run, grpc_base_port=31000 + os.getpid() % 500,
                       mtu=1400)
    try:
        with FabricNet(topo, config, controller=RouteInstaller()) as net:
            ctl = FabricController(topo, net.clients, FabricConfig(collector="fh2"))
            ctl.apply_config()
            yield Fabric(net, ctl, topo, Addressing(topo), run, config.grpc_base_port)
    finally:
        clean.clean_run(run)


class Fabric:
    """The running network and helpers the tests share."""

    def __init__(self, net, ctl, topo, addressing, run, grpc_base_port):
        self.net, self.ctl, self.topo, self.addr, self.run = net, ctl, topo, addressing, run
        self.grpc_base_port = grpc_base_port

    def ip(self, host: str) -> str:
        return str(self.addr.ip(host))

    def port_to(self, switch: str, peer: str) -> int:
        return next(p for p, n, _, _ in self.topo.neighbors(switch) if n == peer)

    def set_rate(self, switch: str, port: int, rate: str) -> None:
        admin.request(str(RunDir(self.run).path / f"{switch}.sock"),
                      ["set_port_rate", str(port), rate])

    def tx(self, switch: str, *ports: int) -> list[int]:
        stats = self.ctl.port_stats(switch)
        return [stats[p].tx_bytes for p in ports]

    def traffic(self, src: str, dst: str, recv_s: float, **send) -> dict:
        """Run a receiver in `dst` and a sender in `src`; the receiver's JSON result."""
        rx = self.net.host(dst).popen([PY, TRAFFIC, "recv", self.ip(dst), str(DPORT),
                                       "--duration", str(recv_s)],
                                      stdout=subprocess.PIPE, text=True)
        try:
            assert rx.stdout.readline().strip() == "ready"
            flags = [f"--{k.replace('_', '-')}={v}" for k, v in send.items()]
            out = self.net.host(src).cmd(" ".join([PY, TRAFFIC, "send", self.ip(dst),
                                                   str(DPORT), *flags]))
            assert '"sent"' in out, out
            result = json.loads(rx.communicate(timeout=recv_s + 30)[0])
        finally:
            if rx.poll() is None:
                rx.kill()
                rx.wait()
        result["sent"] = json.loads(out.strip().splitlines()[-1])["sent"]
        return result


def uplinks(fab: Fabric, leaf: str = "fl1") -> list[int]:
    return [fab.port_to(leaf, "fs1"), fab.port_to(leaf, "fs2")]


@pytest.mark.parametrize("mode", ["ecmp", "flowlet", "adaptive"])
def test_pingall_in_every_mode(fab, mode):
    fab.ctl.set_mode(mode)
    try:
        assert fab.net.pingall() == 0
    finally:
        fab.ctl.set_mode("ecmp")


def test_ecmp_spreads_flows_and_keeps_each_flow_on_one_path(fab):
    ups = uplinks(fab)
    before = fab.tx("fl1", *ups)
    got = fab.traffic("fh1", "fh3", 4, sports="49152-49167", rate=160, duration=1)
    spread = [a - b for a, b in zip(fab.tx("fl1", *ups), before)]
    assert got["received"] >= 0.9 * got["sent"]
    print(f"16 flows, bytes per uplink: {spread}")
    assert min(spread) > 0.2 * sum(spread), f"uplink bytes {spread}"
    before = fab.tx("fl1", *ups)
    fab.traffic("fh1", "fh3", 3, sports="49160", rate=100, duration=0.5)
    one = [a - b for a, b in zip(fab.tx("fl1", *ups), before)]
    assert min(one) == 0 and max(one) > 0, f"one flow used both uplinks: {one}"


def test_adaptive_avoids_the_slow_uplink(fab):
    """Uplink to s1 at a tenth of the uplink to s2, 400 pps offered: ECMP sends half of
    it into the slow link and loses what does not fit; adaptive moves it to s2."""
    slow, fast = uplinks(fab)
    fab.set_rate("fl1", slow, "100pps")
    fab.set_rate("fl1", fast, "1000pps")
    results = {}
    try:
        for mode in ("ecmp", "adaptive"):
            fab.ctl.set_mode(mode, load_max_age_us=20_000)
            before = fab.tx("fl1", slow, fast)
            got = fab.traffic("fh1", "fh3", 5, sports="49152-49167", rate=400, duration=2)
            moved = [a - b for a, b in zip(fab.tx("fl1", slow, fast), before)]
            results[mode] = (got["received"] / got["sent"], moved[1] / sum(moved))
    finally:
        fab.ctl.set_mode("ecmp")
        fab.set_rate("fl1", slow, "none")
        fab.set_rate("fl1", fast, "none")
    print(f"(delivered fraction, fast-uplink byte share): {results}")
    delivered, fast_share = results["adaptive"]
    assert fast_share > 0.6, results
    assert delivered > 0.9 and delivered > results["ecmp"][0] + 0.1, results


FLOWLET_GAP_S = 0.2
FLOWLET_BURSTS = 16
BURST_PACKETS, BURST_RATE = 20, 200  # 5 ms apart: a burst splits only if its sender stalls 40x that


def test_flowlet_changes_path_after_idle_gaps(fab):
    """After an idle gap longer than the flowlet timeout, fl1 re-picks the least loaded uplink
    for the same 5-tuple; within a burst it keeps it.

    Margins from the physics, so a loaded machine changes nothing: bursts are separated by
    at least 2x the 200 ms flowlet gap (a sleep; any extra delay only lengthens the gap), and
    both uplinks are idle for far longer than load_max_age (20 ms), so each pick is the
    switch's random tie-break: uplink 0 with p = 136/256 (ties go to the first candidate).
    16 independent picks all land on one uplink with probability 0.53^16 + 0.47^16 < 5e-5.
    Each burst is read only once the switch has counted all its packets (a busy switch
    process may still be working through them when the sender exits)."""
    ups = uplinks(fab)
    sender = " ".join([PY, TRAFFIC, "send", fab.ip("fh3"), str(DPORT), "--sports=49170",
                       f"--rate={BURST_RATE}", f"--duration={BURST_PACKETS / BURST_RATE}"])

    def sent_on_uplinks() -> list[int]:
        stats = fab.ctl.port_stats("fl1")
        return [stats[p].tx_packets for p in ups]

    fab.ctl.set_mode("flowlet", flowlet_gap_us=int(FLOWLET_GAP_S * 1e6), load_max_age_us=20_000)
    used, split = [], []
    try:
        for _ in range(FLOWLET_BURSTS):
            time.sleep(2 * FLOWLET_GAP_S)
            before = sent_on_uplinks()
            out = fab.net.host("fh1").cmd(sender)
            assert f'"sent": {BURST_PACKETS}' in out, out
            for _ in range(600):  # until the switch has forwarded the whole burst (<= 60 s)
                delta = [a - b for a, b in zip(sent_on_uplinks(), before)]
                if sum(delta) >= BURST_PACKETS:
                    break
                time.sleep(0.1)
            assert sum(delta) >= BURST_PACKETS, f"only {delta} of {BURST_PACKETS} packets left fl1"
            used.append(delta.index(max(delta)))
            split.append(min(delta) > 0)
    finally:
        fab.ctl.set_mode("ecmp")
    print(f"uplink per burst: {used}, split bursts: {sum(split)}")
    assert len(set(used)) == 2, f"every burst took uplink {used[0]}"
    assert sum(split) <= FLOWLET_BURSTS // 4, f"{sum(split)} bursts were split: {used}"


def test_ecn_marks_once_the_queue_passes_kmin(fab):
    port = fab.port_to("fl2", "fh3")
    fab.ctl.set_ecn(Ecn(kmin=3, kmax=30, pmax=1.0))
    try:
        calm = fab.traffic("fh1", "fh3", 3, rate=50, duration=0.5, tos=2)
        fab.set_rate("fl2", port, "100pps")
        try:
            got = fab.traffic("fh1", "fh3", 6, rate=300, duration=1.5, tos=2)
        finally:
            fab.set_rate("fl2", port, "none")
        marks = fab.ctl.port_stats("fl2")[port].ecn_marks
    finally:
        fab.ctl.set_ecn(None)
    assert calm["received"] > 0 and calm["ce"] == 0
    print(f"ECN: {got['ce']} of {got['received']} arrived with CE, first at seq "
          f"{got['first_ce_seq']}")
    assert got["ce"] > 0 and marks >= got["ce"]
    assert got["first_ce_seq"] > 0, "the first packet met an empty queue"


def test_int_reports_one_record_per_hop_with_rising_queue(fab, tmp_path):
    collector = fab.net.host("fh2").popen(
        [PY, "-m", "controller.int_collector", "--bind", fab.ip("fh2"), "--csv",
         str(tmp_path / "int.csv"), "--duration", "12"],
        stdout=subprocess.PIPE, text=True, cwd=str(FABRIC_P4.parents[1]))
    sink_port = fab.port_to("fl1", "fh1")
    try:
        assert "listening" in collector.stdout.readline()
        fab.ctl.set_watchlist([Watch(fab.ip("fh3"), fab.ip("fh1"), DPORT)])
        fab.set_rate("fl1", sink_port, "100pps")
        got = fab.traffic("fh3", "fh1", 6, rate=250, duration=1.5, size=100)
        assert got["received"] > 0
        collector.terminate()
        collector.communicate(timeout=30)
    finally:
        fab.set_rate("fl1", sink_port, "none")
        fab.ctl.set_watchlist([])
        if collector.poll() is None:
            collector.kill()
            collector.wait()
    with (tmp_path / "int.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows, "no INT reports arrived"
    reports: dict[str, list[dict]] = {}
    for row in rows:
        reports.setdefault(row["seq"], []).append(row)
    ids = {p.name: p.switch_id for p in fab.ctl.plans.values()}
    for records in reports.values():
        path = [int(r["switch_id"]) for r in records]
        assert len(path) == 3 and path[0] == ids["fl2"] and path[2] == ids["fl1"], path
        assert path[1] in (ids["fs1"], ids["fs2"])
        assert int(records[2]["egress_port"]) == sink_port
        assert int(records[0]["ingress_port"]) == fab.port_to("fl2", "fh3")
    depths = [int(r["qdepth"]) for r in rows if int(r["switch_id"]) == ids["fl1"]]
    assert max(depths[len(depths) // 2:]) > max(depths[:3]), f"queue never rose: {depths}"
    assert plot_queue_depth(tmp_path / "int.csv", tmp_path / "int.png").stat().st_size > 0


def test_link_failure_keeps_a_long_stream_going(fab):
    ups = uplinks(fab)
    monitor = PortStatusFollower(fab.ctl.clients, switch_ports(fab.topo),
                                 controller_handler(fab.ctl)).start()
    rx = fab.net.host("fh3").popen([PY, TRAFFIC, "recv", fab.ip("fh3"), str(DPORT),
                                   "--duration", "9"], stdout=subprocess.PIPE, text=True)
    tx = None
    failed = None
    try:
        assert rx.stdout.readline().strip() == "ready"
        tx = fab.net.host("fh1").popen([PY, TRAFFIC, "send", fab.ip("fh3"), str(DPORT),
                                       "--sports", "49180", "--rate", "100", "--duration", "5"],
                                      stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        before = fab.tx("fl1", *ups)
        time.sleep(0.5)
        carrying = ups[max(range(2), key=lambda i: fab.tx("fl1", *ups)[i] - before[i])]
        failed = veth_name("fl1", carrying)
        subprocess.run(["ip", "link", "set", failed, "down"], check=True)
        down_at = time.time()
        sent = json.loads(tx.communicate(timeout=30)[0].strip())["sent"]
        got = json.loads(rx.communicate(timeout=30)[0])
    finally:
        for proc in (tx, rx):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        if failed is not None:
            subprocess.run(["ip", "link", "set", failed, "up"], check=False)
            time.sleep(0.5)
        monitor.stop()
    print(f"link failure: {got['received']} of {sent} packets arrived")
    assert not monitor.errors, monitor.errors
    assert got["last_time"] > down_at + 2, "traffic stopped at the failure"
    assert got["received"] >= sent - 150, f"{got['received']} of {sent} arrived"
    assert fab.net.pingall() == 0


def ctl_command(fab: Fabric, *args: str) -> list[str]:
    return [PY, "-m", "fabriclab", "ctl", "--run", fab.run, "--grpc-base-port",
            str(fab.grpc_base_port), *args]


def selector_groups(fab: Fabric, switch: str) -> dict[int, list[int]]:
    client = fab.ctl.clients[switch]
    profile = client.index.id("action_profiles", "FabricIngress.ecmp_selector")
    return {e.action_profile_group.group_id: sorted(m.member_id for m in e.action_profile_group.members)
            for e in client.read(p4r.Entity(action_profile_group=p4r.ActionProfileGroup(
                action_profile_id=profile)))}


def test_ctl_watch_links_regroups_on_port_events(fab):
    port = fab.port_to("fl1", "fs2")
    veth = veth_name("fl1", port)
    watcher = subprocess.Popen(ctl_command(fab, "watch-links", "--duration", "20"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "watching" in watcher.stdout.readline()
        subprocess.run(["ip", "link", "set", veth, "down"], check=True)
        # both ends report (fl1's port and fs2's); the first one regroups
        assert {watcher.stdout.readline().split()[1] for _ in range(2)} == {"down:"}
        assert all(port not in ports for ports in selector_groups(fab, "fl1").values())
        subprocess.run(["ip", "link", "set", veth, "up"], check=True)
        assert {watcher.stdout.readline().split()[1] for _ in range(2)} == {"up:"}
        assert any(port in ports for ports in selector_groups(fab, "fl1").values())
    finally:
        subprocess.run(["ip", "link", "set", veth, "up"], check=False)
        watcher.terminate()
        watcher.wait(timeout=30)
    assert fab.net.pingall() == 0


def test_ctl_changes_the_running_network(fab):
    def ctl(*args):
        return subprocess.run(ctl_command(fab, *args), capture_output=True, text=True, timeout=120)

    done = ctl("--switches", "fl1", "mode", "adaptive")
    assert done.returncode == 0, done.stderr
    client = fab.ctl.clients["fl1"]
    table_id = client.index.id("tables", "FabricIngress.routing_mode")
    (entity,) = client.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table_id,
                                                                  is_default_action=True)))
    mode = {p.param_id: p.value for p in entity.table_entry.action.action.params}[1]
    assert mode == b"\x02"  # adaptive
    assert ctl("mode", "ecmp", "--dscp", "48").returncode == 0
    assert ctl("mode", "flowlet").returncode == 0  # the class entry stays
    (entry,) = [e for e in client.read_table("FabricIngress.routing_mode") if not e.is_default_action]
    assert entry.match[0].exact.value == bytes([48])
    assert entry.action.action.params[0].value == b"\x00"  # ECMP for DSCP 48
    assert ctl("mode", "ecmp", "--clear-classes").returncode == 0
    assert [e for e in client.read_table("FabricIngress.routing_mode") if not e.is_default_action] == []
    done = ctl("stats", "fl1")
    ports = [line for line in done.stdout.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert done.returncode == 0 and len(ports) == 4, done.stdout + done.stderr  # one row per port
    assert ctl("mode", "ecmp").returncode == 0
    assert fab.net.pingall() == 0
    done = ctl("stats", "nosuch")
    assert done.returncode == 2 and "unknown switch" in done.stderr
