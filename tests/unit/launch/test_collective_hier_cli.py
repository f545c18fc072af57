"""`fabriclab collective --algo hier` and `--cc` in virtual time: two-NIC ranks on scale-up
domains, the bad-input errors, and the congestion control reaching the QPs."""

import json

import pytest

from fabriclab.cli import main
from fabriclab.errors import FabricError
from fabriclab.launch.agent import Stack
from fabriclab.launch.domains import domains_of
from fabriclab.roce.runs import RunOptions
from topologies import builders

SCALEUP = ["--topology", "leaf-spine", "--leaves", "2", "--spines", "1", "--hosts-per-leaf", "2",
           "--scaleup-size", "2", "--scaleup-bw", "1000"]


def run_json(tmp_path, capsys, *argv):
    out = tmp_path / "r.json"
    assert main(["collective", *argv, "--size", "64K", "--iters", "1", "--warmup", "0",
                 "--json", str(out)]) == 0
    captured = capsys.readouterr()
    return json.loads(out.read_text())["runs"][0], captured


@pytest.mark.parametrize("kind", ["allreduce", "allgather", "alltoall"])
def test_hier_on_scaleup_domains_uses_the_scaleup_nics(tmp_path, capsys, kind):
    run, captured = run_json(tmp_path, capsys, kind, "--sim", "4", "--algo", "hier", *SCALEUP)
    assert run["row"]["wrong"] == 0
    assert "domains of 2, domain peers over the scale-up NICs" in captured.err
    for r in run["ranks"]:  # each rank sent to its domain peer over its second NIC
        assert r["algo"] == "hier" and r["local"] == 2
        assert r["scaleup_nic"]["tx_packets"] > 0


def test_hier_allreduce_is_faster_than_the_flat_ring_at_ten_to_one(tmp_path, capsys):
    hier, _ = run_json(tmp_path, capsys, "allreduce", "--sim", "4", "--algo", "hier", *SCALEUP)
    flat, _ = run_json(tmp_path, capsys, "allreduce", "--sim", "4", *SCALEUP)
    assert flat["row"]["wrong"] == 0 and all(r["scaleup_nic"] is None for r in flat["ranks"])
    # half of the all-reduce's bytes stay in the domain at 10x the rate: clearly faster
    assert hier["row"]["busbw"] > 1.3 * flat["row"]["busbw"]


def test_hier_with_local_on_one_nic(tmp_path, capsys):
    run, captured = run_json(tmp_path, capsys, "allreduce", "--sim", "6", "--algo", "hier", "--local", "3")
    assert run["row"]["wrong"] == 0 and "every byte over one NIC" in captured.err
    assert all(r["local"] == 3 and r["scaleup_nic"] is None for r in run["ranks"])


@pytest.mark.parametrize("cc", ["none", "dcqcn", "hpcc"])
def test_cc_reaches_every_qp(tmp_path, capsys, cc):
    run, _ = run_json(tmp_path, capsys, "alltoall", "--sim", "4", "--topology", "leaf-spine", "--cc", cc)
    assert run["row"]["wrong"] == 0
    ints = sum(r["nic"]["int_received"] for r in run["ranks"])
    assert (ints > 0) == (cc == "hpcc")  # the sim turns INT toward receivers on for HPCC
    assert bool(run["ranks"][0]["dcqcn"]) == (cc == "dcqcn")


def test_stack_nic_config():
    run = RunOptions(line_rate=1e9)
    assert Stack(run).nic_config("10.0.0.1") == run.nic_config("10.0.0.1")  # default unchanged
    cfg = Stack(run, "hpcc", 50e-6).nic_config("10.0.0.1")
    assert cfg.default_cc == "hpcc" and cfg.hpcc.base_rtt_ns == 50_000 and cfg.hpcc.line_rate == 1e9
    assert Stack(run, "dcqcn").at_rate(4e9).nic_config("10.0.0.1").dcqcn.line_rate == 4e9


def test_domains_of_the_topology():
    topo = builders.scale_up_fabric(accelerators=8, domain=4, nic_bw=10, scaleup_bw=40)
    hosts = [h.name for h in topo.hosts()]
    d = domains_of(topo, hosts, None)
    assert d.size == 4 and d.two_nic and set(d.up_mbps) == {40}
    assert domains_of(topo, hosts[:4], None).size == 4
    with pytest.raises(FabricError, match="--local 2 does not match"):
        domains_of(topo, hosts, 2)
    with pytest.raises(FabricError, match="next to each other"):
        domains_of(topo, hosts[:2] + hosts[4:6] + hosts[2:4] + hosts[6:], None)
    with pytest.raises(FabricError, match="do not fill whole"):
        domains_of(topo, hosts[:6], None)
    flat = builders.scale_up_fabric(accelerators=8, domain=1)
    assert not domains_of(flat, [h.name for h in flat.hosts()], 2).two_nic


@pytest.mark.parametrize("argv,msg", [
    (["allreduce", "--netns", "2", "--algo", "hier"], "a bridge of namespaces has none"),
    (["allreduce", "--sim", "4", "--algo", "hier"], "has no scale-up switch; give --local G"),
    (["allreduce", "--sim", "4", "--algo", "hier", "--local", "3"], "--local 3 does not divide 4 ranks"),
    (["allreduce", "--sim", "4", "--local", "2"], "--local is the domain size of --algo hier"),
    (["reducescatter", "--sim", "4", "--algo", "hier", "--local", "2"], "--algo hier runs allreduce"),
    (["allreduce", "--sim", "3", "--algo", "hier", *SCALEUP], "3 ranks do not fill whole scale-up domains of 2"),
    (["allreduce", "--hosts", "127.0.0.1", "--algo", "hier"], "give --local G"),
    (["allreduce", "--netns", "2", "--cc", "hpcc"], "--cc hpcc reacts to INT"),
    (["allreduce", "--sim", "2", "--cc", "none", "--dcqcn-rtt", "1e-4"], "does not go with --cc none"),
    (["allreduce", "--sim", "2", "--base-rtt", "1e-4"], "give --cc dcqcn or --cc hpcc"),
    (["allreduce", "--sim", "2", "--cc", "dcqcn", "--base-rtt", "0"], "base RTT must be > 0"),
    (["allreduce", "--sim", "2", "--cc", "dcqcn", "--algo", "innet"], "innet has none"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, msg):
    assert main(["collective", *argv]) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_two_nic_ranks_in_real_agents_over_loopback():
    """Four agents on 127.0.0.1 (scale-out) with scale-up NICs on 127.0.1.x: the
    hierarchical all-reduce is exact and each rank's domain peer is served by its second NIC."""
    from fabriclab.launch.agent import ScaleUpJob
    from fabriclab.launch.collective import launch
    from fabriclab.launch.placement import here
    from fabriclab.roce.collectives import CollectiveSpec
    from fabriclab.roce.runs import summarize

    spec = CollectiveSpec("allreduce", 4, 64 << 10, algo="hier", local=2)
    out = [("127.0.0.1", 24811 + i) for i in range(4)]
    up = ScaleUpJob([(f"127.0.1.{i + 1}", 24821 + i) for i in range(4)], [400e6] * 4)
    results = launch([here] * 4, out, spec, Stack(RunOptions(iters=1, warmup=0, line_rate=100e6), "dcqcn"),
                     timeout=60, scaleup=up)
    assert summarize(spec, results).wrong == 0
    for r in results:
        assert r["done"] and r["scaleup_nic"]["tx_packets"] > 0 and r["nic"]["tx_packets"] > 0
        assert r["dcqcn"]  # --cc reaches the real-time agent too
