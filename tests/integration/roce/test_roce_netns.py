"""Ring all-reduce between rank processes in 4 network namespaces, and what is on the wire.

The topology is a fixture: today a Linux bridge in a namespace of our own; the Mininet
leaf-spine with P4 switches plugs in the same way (spawn functions + addresses).
"""

import shutil
import subprocess
import sys
from collections import Counter

import pytest
from scapy.contrib.roce import BTH
from scapy.layers.inet import IP, UDP
from scapy.utils import rdpcap

from fabriclab.roce import framing as f
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.launch.netns import BridgeFabric
from fabriclab.roce.qp import psn_diff
from fabriclab.roce.rank import initial_psn
from fabriclab.launch.collective import launch
from fabriclab.roce.runs import RunOptions, summarize

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def allreduce_run(tmp_path_factory):
    """Run a 1 MiB all-reduce over 4 hosts once, capturing every host port."""
    pcaps = tmp_path_factory.mktemp("pcap")
    spec = CollectiveSpec("allreduce", 4, 1 << 20, "float", "sum")
    with BridgeFabric(4, pcap_dir=pcaps) as fabric:
        results = launch(fabric.spawns, fabric.addrs, spec, RunOptions(iters=1, warmup=0), timeout=120)
        paths = list(fabric.pcaps)
        namespaces = list(fabric.namespaces)
    return spec, results, paths, namespaces


def test_allreduce_over_four_namespaces_is_correct_on_every_rank(allreduce_run):
    spec, results, _, namespaces = allreduce_run
    assert len(results) == 4
    for r in results:
        assert r["done"] and r["error"] is None
        assert r["wrong"] == 0
        assert r["nic"]["icrc_errors"] == 0
    assert summarize(spec, results).wrong == 0
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(ns in listed for ns in namespaces)  # the fixture cleaned up


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_pcap_decodes_in_tshark_as_infiniband_bth_over_udp_4791(allreduce_run):
    _, _, pcaps, _ = allreduce_run
    out = subprocess.run(
        ["tshark", "-r", str(pcaps[0]), "-Y", "infiniband", "-T", "fields", "-e", "ip.src", "-e", "ip.dsfield.ecn",
         "-e", "udp.srcport", "-e", "udp.dstport", "-e", "infiniband.bth.opcode", "-e", "infiniband.bth.psn",
         "-e", "infiniband.bth.destqp"],
        capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) > 1000
    ops = Counter(int(r[4]) for r in rows)
    assert ops[f.WRITE_FIRST] and ops[f.WRITE_MIDDLE] and ops[f.WRITE_LAST_IMM] and ops[f.ACKNOWLEDGE]
    assert all(r[3] == "4791" and 49152 <= int(r[2]) <= 65535 and r[1] == "2" for r in rows)  # ECT(0)
    # rank 0's writes to rank 1: 2(n-1) = 6 messages of 256 KiB = 256 packets each, with
    # consecutive 24-bit PSNs from initial_psn(0, 1) (which wraps); the opcode follows from the
    # PSN's place in its message. (A retransmission repeats a PSN; a busy machine may drop a
    # few packets from the capture.)
    start = initial_psn(0, 1)
    data = {(int(r[5]), int(r[4])) for r in rows if r[0] == "10.77.0.1" and int(r[4]) != f.ACKNOWLEDGE}
    assert len({psn for psn, _ in data}) > 0.9 * 6 * 256
    assert any(psn < start for psn, _ in data)  # wrapped past 0xFFFFFF
    for psn, op in data:
        offset = psn_diff(psn, start)
        assert 0 <= offset < 6 * 256
        place = offset % 256
        assert op == (f.WRITE_FIRST if place == 0 else f.WRITE_LAST_IMM if place == 255 else f.WRITE_MIDDLE)


def test_captured_icrcs_match_scapy(allreduce_run):
    _, _, pcaps, _ = allreduce_run
    checked = 0
    for pkt in rdpcap(str(pcaps[1]), count=200):
        if UDP in pkt and pkt[UDP].dport == 4791 and BTH in pkt:
            ip = IP(bytes(pkt[IP]))
            assert ip[BTH].compute_icrc(None) == bytes(ip[UDP].payload)[-4:]
            checked += 1
    assert checked > 100


def test_cli_runs_on_namespaces_it_creates(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "fabriclab", "collective", "all_gather", "--netns", "3",
                           "--size", "48K", "--iters", "2", "--dtype", "int", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    row = proc.stdout.splitlines()[4].split()
    assert row[0] == str(48 * 1024) and row[2] == "int" and row[-1] == "0"
    assert out.exists()
