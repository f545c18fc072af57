"""RoCEv2 like a NIC: UDP checksum 0 on the wire (IBA Annex A17), so Wireshark flags nothing.

Linux computes UDP checksums late (TX offload): a capture on the sending host used to show
every data packet with a "Bad checksum". The hosts now send checksum 0 (SO_NO_CHECK), which
the ICRC makes unnecessary and tshark accepts even with checksum validation on.
"""

import shutil
import subprocess

import pytest

from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.launch.netns import BridgeFabric
from fabriclab.launch.collective import launch
from fabriclab.roce.runs import RunOptions, summarize

pytestmark = [pytest.mark.root, pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")]


def test_captured_collective_has_no_checksum_errors_in_tshark(tmp_path):
    spec = CollectiveSpec("allreduce", 3, 96 * 1024, "float", "sum")
    with BridgeFabric(3, pcap_dir=tmp_path) as fabric:
        results = launch(fabric.spawns, fabric.addrs, spec, RunOptions(iters=1, warmup=0), timeout=60)
        pcaps = list(fabric.pcaps)
    assert summarize(spec, results).wrong == 0
    validate = ["-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"]
    for pcap in pcaps:  # captured inside each host namespace: what the host sent and received
        fields = subprocess.run(
            ["tshark", "-r", str(pcap), *validate, "-Y", "infiniband", "-T", "fields", "-e", "udp.checksum",
             "-e", "udp.checksum.status"], capture_output=True, text=True, check=True).stdout
        rows = [line.split("\t") for line in fields.splitlines()]
        assert len(rows) > 50, pcap  # data and ACKs of both directions
        assert {r[0] for r in rows} == {"0x0000"}, pcap  # checksum 0: "not present"
        assert {r[1] for r in rows} == {"3"}, pcap  # status 3 = not present (0 = bad, 1 = good)
        flagged = subprocess.run(
            ["tshark", "-r", str(pcap), *validate, "-Y",
             "udp.checksum.bad || udp.checksum.zero || ip.checksum_bad.expert || _ws.expert.severity >= 0x00800000"],
            capture_output=True, text=True, check=True).stdout
        assert flagged == "", flagged  # no packet with an error-level expert item
