"""`fabriclab net scale-up` and the DCI options of `fabriclab net`: what the flags build, and
bad input as one line with exit 2 (nothing is brought up: every case fails or stops at
option checking)."""

import argparse

import pytest

from fabriclab.cli import main
from fabriclab.net import cli
from topologies.graph import NodeKind


def parse(argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def build(*argv):
    return cli.build_topology(parse(list(argv)))


def test_scale_up_topology_from_the_flags():
    topo = build("scale-up", "--hosts", "8", "--scaleup-size", "4", "--downlink-bw", "10", "--spines", "1")
    ups = [n for n in topo.nodes.values() if n.kind is NodeKind.SCALEUP]
    rails = [n for n in topo.nodes.values() if n.kind is NodeKind.LEAF]
    assert len(topo.hosts()) == 8 and len(ups) == 2 and len(rails) == 4  # 4 rails of 2 domains
    rates = {ln.ab.bw for ln in topo.links if NodeKind.SCALEUP in (topo.nodes[ln.a].kind, topo.nodes[ln.b].kind)}
    assert rates == {180.0}  # default 18:1 to the NIC
    topo = build("scale-up", "--hosts", "8", "--scaleup-size", "2", "--layout", "leaf", "--scaleup-bw", "1G",
                 "--sites", "2", "--dci-km", "20", "--dci-buffer", "3000")
    dci = [ln for ln in topo.links if ln.ab.delay_us]
    assert len(dci) == 1 and dci[0].ab.delay_us == 100 and dci[0].ab.max_queue_size == 2  # 20 km; 2 frames
    assert {ln.ab.bw for ln in topo.links if topo.nodes[ln.b].kind is NodeKind.SCALEUP} == {1000.0}


def test_dci_km_on_multi_site():
    topo = build("multi-site", "--dci-km", "1000", "--dci-bw", "1G")
    dci = [ln for ln in topo.links if ln.ab.delay_us]
    assert len(dci) == 1 and (dci[0].ab.delay_us, dci[0].ab.bw) == (5000, 1000.0)


def test_a_slow_scale_up_builds_with_a_warning(capsys):
    topo = build("scale-up", "--hosts", "4", "--scaleup-size", "2", "--scaleup-bw", "50")
    assert len(topo.hosts()) == 4
    err = capsys.readouterr().err
    assert err.startswith("fabriclab: warning: scale-up rate 50 Mb/s is below the NIC rate 100 Mb/s")
    assert "NVLink-class links are 10-20x a NIC" in err and len(err.strip().splitlines()) == 1
    build("leaf-spine", "--scaleup-size", "2", "--scaleup-bw", "50")
    assert "below the NIC rate" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["scale-up", "--hosts", "6", "--scaleup-size", "4"], "6 accelerators do not split into scale-up domains of 4"),
    (["scale-up", "--hosts", "8", "--scaleup-size", "4", "--rails", "2"], "2 rails do not match scale-up domains of 4"),
    (["scale-up", "--layout", "ring"], "unknown scale-out layout 'ring'"),
    (["scale-up", "--hosts", "16", "--sites", "3"], "do not split over 3 sites"),
    (["multi-site", "--dci-km", "-3"], "DCI distance must be >= 0 km"),
    (["multi-site", "--dci-bw", "0"], "--dci-bw: rate must be positive"),
    (["multi-site", "--sites", "1", "--dci-km", "10"], "DCI options join sites: give --sites 2 or more"),
    (["multi-site", "--sites", "1", "--dci-delay", "1ms"], "DCI options join sites"),
    (["scale-up", "--dci-buffer", "4M"], "DCI options join sites"),
    (["multi-site", "--dci-km", "10", "--dci-delay", "1ms"], "not both"),
    (["multi-site", "--dci-buffer", "100"], "border buffer must be >= 1500 bytes"),
    (["leaf-spine", "--dci-km", "3"], "--dci-km does not apply to leaf-spine"),
    (["leaf-spine", "--scaleup-bw", "10G"], "give --scaleup-size too"),
    (["leaf-spine", "--domains-per-leaf", "2"], "--domains-per-leaf does not apply to leaf-spine"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    assert main(["net", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
