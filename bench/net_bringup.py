"""Benchmark (root): how long `FabricNet` takes to bring topologies up and down with the
built-in switch and basic.p4, and the ping RTT within and across sites. Prints, never
asserts. Run: sudo .venv/bin/python bench/net_bringup.py [--fat-tree-k 4]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time

from controller.route_installer import RouteInstaller
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.paths import p4src
from topologies import builders
from topologies.addressing import Addressing
from topologies.graph import Topology


def rtts(net: FabricNet, src: str, dst_ip: str, count: int = 20) -> list[float]:
    out = net.host(src).cmd(f"ping -c {count} -i 0.1 -W 2 {dst_ip}")
    return [float(x) for x in re.findall(r"time=([0-9.]+) ms", out)]


def bring_up(topo: Topology, run: str, extra=None) -> None:
    config = NetConfig(program=p4src("basic.p4"), run=run,
                       grpc_base_port=35000 + os.getpid() % 1000)
    t0 = time.monotonic()
    net = FabricNet(topo, config, controller=RouteInstaller()).start()
    try:
        up = time.monotonic() - t0
        t1 = time.monotonic()
        loss = net.pingall()
        ping_s = time.monotonic() - t1
        if extra:
            extra(net)
    finally:
        t2 = time.monotonic()
        net.stop()
        down = time.monotonic() - t2
    print(f"{topo.name:24s} {len(topo.switches()):3d} switches {len(topo.hosts()):3d} hosts: "
          f"up {up:5.1f} s, pingall {ping_s:5.1f} s ({loss:.0f}% loss), down {down:4.1f} s")


def multi_site_rtts(net: FabricNet) -> None:
    a = Addressing(net.topo)
    rtts(net, "h1", str(a.ip("h3")), 3)
    local, remote = rtts(net, "h1", str(a.ip("h2"))), rtts(net, "h1", str(a.ip("h3")))
    print(f"  RTT h1->h2 (same site): min {min(local):.2f} median {statistics.median(local):.2f} ms;"
          f" h1->h3 (other site, 10 ms one-way DCI): min {min(remote):.2f} "
          f"median {statistics.median(remote):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fat-tree-k", type=int, default=4)
    args = parser.parse_args()
    run = f"bench-net-{os.getpid()}"
    bring_up(builders.leaf_spine(2, 2, 2), run)
    bring_up(builders.multi_site(sites=2, leaves=2, spines=1, hosts_per_leaf=1), run,
             multi_site_rtts)
    bring_up(builders.fat_tree(args.fat_tree_k), run)


if __name__ == "__main__":
    main()
