"""Two scale-up domains of two accelerators on Mininet (root): a hierarchical all-reduce is
exact, and the intra-domain bytes cross the scale-up switches, not the network.

Rail-optimised with G = 2: h1, h2 on u1 and h3, h4 on u2; rail 0 (r1) joins h1 and h3,
rail 1 (r2) h2 and h4. The hierarchical ring passes run inside u1/u2 and along r1/r2, so
the spine carries none of the collective's bytes.
"""

import os
import sys
from pathlib import Path

import pytest

from fabriclab.net import clean
from fabriclab.paths import p4src, veth_name
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import in_mininet_host
from fabriclab.roce.runs import summarize
from topologies import builders
from topologies.addressing import Addressing

pytestmark = [pytest.mark.root, pytest.mark.timeout(300)]

HELPER = Path(__file__).with_name("two_nic_rank.py")
SIZE = 64 << 10


def switch_tx_bytes(topo, run: str, switch: str) -> int:
    """Bytes the switch sent on all its ports (the kernel's count on its veth ends)."""
    return sum(int(Path(f"/sys/class/net/{veth_name(switch, port, run)}/statistics/tx_bytes").read_text())
               for port in topo.ports(switch))


def test_hierarchical_allreduce_over_two_domains_of_two():
    from fabriclab import p4

    if not hasattr(p4, "compile_file"):
        pytest.skip("toolchain not in this tree")
    from controller.route_installer import RouteInstaller
    from fabriclab.net.network import FabricNet, NetConfig

    topo = builders.scale_up_fabric(accelerators=4, domain=2, nic_bw=10, scaleup_bw=40, spines=1)
    a = Addressing(topo)
    run = f"t-scaleup-{os.getpid()}"
    config = NetConfig(program=p4src("basic.p4"), run=run,
                       grpc_base_port=33000 + os.getpid() % 50 * 10)
    hosts = [h.name for h in topo.hosts()]
    out_ips = ",".join(str(a.ip(h, 0)) for h in hosts)
    up_ips = ",".join(str(a.ip(h, 1)) for h in hosts)
    try:
        with FabricNet(topo, config, controller=RouteInstaller()) as net:
            before = {sw.name: switch_tx_bytes(topo, run, sw.name) for sw in topo.switches()}
            argvs = [[sys.executable, str(HELPER), str(i), "4", str(SIZE), "2", out_ips, up_ips,
                      "10e6", "40e6", "120"] for i in range(4)]
            with Lockstep([in_mininet_host(net.host(h)) for h in hosts], argvs, 150, "rank") as ranks:
                results = ranks.round(["{}"] * 4, 150)
            sent = {sw: switch_tx_bytes(topo, run, sw) - before[sw] for sw in before}
    finally:
        clean.clean_run(run)
    spec = CollectiveSpec("allreduce", 4, SIZE, "int", algo="hier", local=2)
    assert summarize(spec, results).wrong == 0
    assert all(r["done"] and r["wrong"] == 0 for r in results)
    print("bytes sent per switch:", sent)
    # inside a domain: reduce-scatter + all-gather move 2 x 1/2 of the buffer per rank;
    # across: 2 x 1/2 of a quarter. The scale-up switches carry most of the bytes.
    inside = sent["u1"] + sent["u2"]
    assert inside >= 4 * SIZE  # 4 ranks x (SIZE/2 + SIZE/2) of payload, plus headers
    assert inside > 1.5 * (sent["r1"] + sent["r2"])  # 2:1 in payload
    assert sent["s1"] < SIZE // 8  # no collective byte crosses the spine (only stray ND/ARP)
