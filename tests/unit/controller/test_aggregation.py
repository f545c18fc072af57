"""Aggregation jobs: the plan (tree, slots, groups, entries) and, over real P4Runtime on
in-process switches running fabric.p4, an all-reduce of four InnetWorkers through the
leaf-spine tree, with loss."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from controller.aggregation import (GROUP_BASE, IG, SERVICE_IP, AggregationManager,
                                    install_job, job_entries, read_installed,
                                    remove_installed, remove_job)
from controller.client import P4RuntimeClient
from controller.fabric import FABRIC_P4, FabricController
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import compile_builtin
from fabriclab.roce.innet import AGG_UDP_PORT, LANES, InnetConfig, InnetWorker
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.server import serve
from topologies.addressing import Addressing
from topologies.builders import fat_tree, leaf_spine

STATS = f"{IG}.agg_stats"
CONTRIB, COMPLETE, REPLAY, SHORT, UNKNOWN = 0, 1, 2, 8, 9


def test_leaf_spine_job_aggregates_at_a_spine_and_leaves_report_up():
    topo = leaf_spine(2, 2, 2)
    job = AggregationManager(topo).create(1, ["h1", "h2", "h3", "h4"], pool_size=8)
    assert job.root == "s1" and set(job.roles) == {"s1", "l1", "l2"}
    s1, l1, l2 = job.roles["s1"], job.roles["l1"], job.roles["l2"]
    assert s1.is_root and s1.fan_in == 2 and s1.hosts == ()
    assert s1.children == ((1, 0), (2, 1))                 # s1's ports to l1 and l2
    assert (l1.parent_port, l2.parent_port) == (3, 3)      # each leaf's port to s1
    assert (l1.child_id, l2.child_id) == (0, 1)
    assert l1.hosts == ((1, "10.0.1.1"), (2, "10.0.1.2"))
    assert job.group == GROUP_BASE and job.rank_ip(3) == "10.0.2.2"
    entries = job_entries(job)
    assert [e.table.rsplit(".", 1)[1] for e in entries["l1"]] == \
        ["agg_jobs", "agg_children", "agg_children", "agg_hosts", "agg_hosts"]
    assert entries["l2"][0].params["parent_port"] == 3 and entries["s1"][0].params["is_root"] == 1


def test_one_leaf_job_is_rooted_at_the_leaf_and_fat_tree_gets_three_levels():
    job = AggregationManager(leaf_spine(2, 2, 2)).create(2, ["h1", "h2"])
    assert job.root == "l1" and list(job.roles) == ["l1"] and job.roles["l1"].is_root
    ft = fat_tree(4)
    job = AggregationManager(ft).create(1, [h.name for h in ft.hosts()])
    kinds = {ft.nodes[s].kind.value for s in job.roles}
    assert ft.nodes[job.root].kind.value == "core" and kinds == {"core", "agg", "leaf"}
    assert sum(r.fan_in for r in job.roles.values()) == 16 + len(job.roles) - 1


def test_jobs_spread_over_spines_and_slots_are_first_fit():
    m = AggregationManager(leaf_spine(2, 2, 2), slots_per_switch=32)
    a = m.create(1, ["h1", "h3"], pool_size=16)
    b = m.create(2, ["h2", "h4"], pool_size=16)
    assert (a.root, b.root) == ("s1", "s2")
    assert (a.roles["l1"].slot_base, b.roles["l1"].slot_base) == (0, 16)
    assert a.group != b.group and a.tag != b.tag
    with pytest.raises(FabricError, match=r"switch l1: aggregation slot budget exhausted: "
                                          r"job 3 needs 8 slots, 0 of 32 free"):
        m.create(3, ["h1", "h4"], pool_size=8)
    m.delete(1)
    assert m.create(3, ["h1", "h4"], pool_size=8).roles["l1"].slot_base == 0


@pytest.mark.parametrize("job_id, ranks, pool, message", [
    (0, ["h1"], 8, "job id must be 1..65535"),
    (1, ["h1", "h9"], 8, "rank 1: 'h9' is not a host"),
    (1, ["h1", "s1"], 8, "rank 1: 's1' is not a host"),
    (1, ["h1", "h1"], 8, "a host appears twice"),
    (1, ["h1"], 600, "pool size must be 1..512"),
])
def test_bad_jobs_are_clear_errors(job_id, ranks, pool, message):
    with pytest.raises(FabricError, match=message):
        AggregationManager(leaf_spine(2, 2, 2)).create(job_id, ranks, pool_size=pool)


def test_rank_outside_the_job_and_unknown_job():
    m = AggregationManager(leaf_spine(2, 2, 2))
    job = m.create(5, ["h1", "h2", "h3"])
    with pytest.raises(FabricError, match=r"rank 3 is outside aggregation job 5 \(ranks 0..2\)"):
        job.rank_ip(3)
    with pytest.raises(FabricError, match=r"no aggregation job 6 \(jobs: 5\)"):
        m.delete(6)
    with pytest.raises(FabricError, match="exists already"):
        m.create(5, ["h4"])


# --- the data plane, through P4Runtime ------------------------------------------------------

class Fabric:
    """Every switch of a topology as a LoopbackSwitch behind its own P4Runtime server;
    frames move along the topology's links, each hop lost with probability `loss`."""

    def __init__(self, topo, pipeline):
        self.topo, self.loss, self.rng = topo, 0.0, random.Random(4)
        self.switches, self.servers, self.clients = {}, [], {}
        for i, sw in enumerate(topo.switches()):
            switch = LoopbackSwitch(device_id=i + 1)
            server = serve(switch, "127.0.0.1:0", i + 1)
            self.servers.append(server)
            client = P4RuntimeClient(f"127.0.0.1:{server.bound_port}", i + 1)
            client.connect()
            client.set_pipeline(pipeline.p4info, pipeline.device_config)
            self.switches[sw.name], self.clients[sw.name] = switch, client
        self.inbox: dict[str, list[bytes]] = {h.name: [] for h in topo.hosts()}

    def close(self):
        for c in self.clients.values():
            c.close()
        for s in self.servers:
            s.stop(0).wait()

    def send(self, host: str, frame: bytes) -> None:
        todo = [(self.topo.ports(host)[0].peer(host), frame)]
        while todo:
            (node, port), data = todo.pop(0)
            if self.rng.random() < self.loss:
                continue
            if not self.topo.nodes[node].is_switch:
                self.inbox[node].append(data)
                continue
            for out_port, out in self.switches[node].receive(port, data):
                todo.append((self.topo.ports(node)[out_port].peer(node), out))

    def stats(self, switch: str) -> dict[int, int]:
        return {i: pk for i, (_, pk) in self.clients[switch].read_counter(STATS).items()}


@pytest.fixture(scope="module")
def pipeline():
    return compile_builtin(FABRIC_P4)


@pytest.fixture
def fabric(pipeline):
    topo = leaf_spine(2, 2, 2)
    fab = Fabric(topo, pipeline)
    try:
        FabricController(topo, fab.clients).install()
        yield fab
    finally:
        fab.close()


def frame(addressing: Addressing, host: str, payload: bytes) -> bytes:
    nic = addressing.host_nics(host)[0]
    return bytes(Ether(src=nic.mac, dst=nic.gateway_mac) / IP(src=str(nic.ip.ip), dst=SERVICE_IP)
                 / UDP(sport=AGG_UDP_PORT, dport=AGG_UDP_PORT, chksum=0) / payload)


def run_allreduce(fab: Fabric, job, buffers, rto_ns=1_000_000) -> list[InnetWorker]:
    """Drive the workers on a virtual clock; the switches forward synchronously."""
    addressing = Addressing(fab.topo)
    workers = [InnetWorker(InnetConfig(job.job_id, r, job.world, job.pool_size,
                                       rto_ns=rto_ns), b) for r, b in enumerate(buffers)]
    now = 0
    pending = {r: w.poll(now) for r, w in enumerate(workers)}
    for _ in range(10_000):
        for r, pkts in pending.items():
            for pkt in pkts:
                fab.send(job.ranks[r], frame(addressing, job.ranks[r], pkt))
        pending = {r: [] for r in range(job.world)}
        for r, host in enumerate(job.ranks):
            inbox, fab.inbox[host] = fab.inbox[host], []
            for data in inbox:
                ip = Ether(data)[IP]
                assert ip.dst == job.rank_ip(r) and ip.src == SERVICE_IP
                pending[r] += workers[r].receive(bytes(ip[UDP].payload), now)
        if all(w.done for w in workers):
            return workers
        if not any(pending.values()):
            now = min(t for t in (w.deadline() for w in workers) if t is not None)
            pending = {r: w.on_timer(now) for r, w in enumerate(workers)}
    raise AssertionError("all-reduce did not complete")


def test_allreduce_over_the_tree_via_p4runtime(fabric):
    m = AggregationManager(fabric.topo)
    job = m.create(1, ["h1", "h2", "h3", "h4"], pool_size=4)
    install_job(fabric.clients, job)
    rng = np.random.default_rng(2)
    buffers = [rng.integers(-1000, 1000, size=LANES * 10, dtype=np.int32) for _ in range(4)]
    workers = run_allreduce(fabric, job, buffers)
    expected = np.sum(np.stack(buffers), axis=0, dtype=np.int32)
    assert all(np.array_equal(w.result(), expected) for w in workers)
    chunks = workers[0].chunks
    # each leaf adds its two ranks and sends one partial up; the root adds the two leaves
    for sw in ("l1", "l2", "s1"):
        assert fabric.stats(sw).get(CONTRIB) == 2 * chunks
        assert fabric.stats(sw).get(COMPLETE) == chunks
    assert not any(fabric.stats("s2").values())   # the other spine saw no aggregation at all
    rx_s1 = fabric.clients["s1"].read_counter("FabricIngress.port_rx")
    assert sum(pk for _, pk in rx_s1.values()) == 2 * chunks

    # another process (a later `ctl agg` call) sees the job and allocates around it
    installed = read_installed(fabric.clients)
    assert [(r.switch, r.slot_base, r.pool_size, r.is_root) for r in installed] == [
        ("l1", 0, 4, False), ("l2", 0, 4, False), ("s1", 0, 4, True)]
    later = AggregationManager(fabric.topo, reserved=installed)
    other = later.create(2, ["h1", "h3"], pool_size=4)
    assert other.roles["l1"].slot_base == 4 and other.tag > job.tag and other.group != job.group
    with pytest.raises(FabricError, match="job 1 exists already"):
        later.create(1, ["h1"])

    assert remove_installed(fabric.clients, 1) == ["l1", "l2", "s1"]
    assert read_installed(fabric.clients) == []
    assert fabric.clients["l1"].read_table(f"{IG}.agg_children") == []
    with pytest.raises(FabricError, match=r"no aggregation job 1 on the switches \(jobs: none\)"):
        remove_installed(fabric.clients, 1)
    fabric.send("h1", frame(Addressing(fabric.topo), "h1", workers[0]._packet(0)))
    assert fabric.stats("l1")[UNKNOWN] == 1 and fabric.inbox["h1"] == []


def test_allreduce_with_loss_recovers_with_replays(fabric):
    m = AggregationManager(fabric.topo)
    job = m.create(9, ["h1", "h2", "h3", "h4"], pool_size=4)
    install_job(fabric.clients, job)
    # garbage first: truncated aggregation packets are dropped and counted, nothing breaks
    rng = random.Random(7)
    addressing = Addressing(fabric.topo)
    for _ in range(40):
        fabric.send("h1", frame(addressing, "h1", rng.randbytes(rng.randrange(144))))
    assert fabric.stats("l1")[SHORT] == 40 and fabric.inbox["h1"] == []
    fabric.loss = 0.1
    buffers = [np.full(LANES * 12, r + 1, dtype=np.int32) for r in range(4)]
    workers = run_allreduce(fabric, job, buffers)
    assert all(np.array_equal(w.result(), np.full(LANES * 12, 10, np.int32)) for w in workers)
    assert sum(w.stats.retransmitted for w in workers) > 0
    replays = sum(fabric.stats(sw).get(REPLAY, 0) for sw in ("l1", "l2", "s1"))
    assert replays > 0
    remove_job(fabric.clients, m.delete(9))
    assert read_installed(fabric.clients) == []


def test_three_level_fat_tree_allreduce_with_loss(pipeline):
    topo = fat_tree(4)
    fab = Fabric(topo, pipeline)
    try:
        FabricController(topo, fab.clients).install()
        ranks = ["h1", "h2", "h5", "h9", "h16"]      # pods 1, 1, 2, 3, 4
        job = AggregationManager(topo).create(1, ranks, pool_size=4)
        assert topo.nodes[job.root].kind.value == "core"
        install_job(fab.clients, job)
        fab.loss = 0.05
        workers = run_allreduce(fab, job, [np.full(LANES * 8, r + 1, np.int32)
                                           for r in range(len(ranks))])
        assert all(np.array_equal(w.result(), np.full(LANES * 8, 15, np.int32)) for w in workers)
    finally:
        fab.close()


def test_fan_in_above_the_bitmap_is_a_clear_error():
    topo = leaf_spine(1, 1, 33)
    with pytest.raises(FabricError, match="switch l1: aggregation fan-in 33 is above 32"):
        AggregationManager(topo).create(1, [h.name for h in topo.hosts()])
