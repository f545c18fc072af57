"""Real-socket ring all-reduce over N namespaces on a Linux bridge, per pacing rate, with the
ranks' agents in both layouts (`collective.launch(..., agents=...)`): one process per host,
and one process for all hosts (each rank's sockets opened in its own namespace).

Shows where the Python host stack stops keeping up with its line rate on this machine
(busbw / line rate), and its CPU per packet (the agents' CPU from "go" to done over the
packets sent and received). Needs root. Run: sudo .venv/bin/python bench/roce_netns.py [N]
"""

import sys

from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.launch.collective import launch
from fabriclab.launch.netns import BridgeFabric
from fabriclab.roce.runs import RunOptions, summarize


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    spec = CollectiveSpec("allreduce", n, 1 << 20)
    print(f"{n} namespaces, 1 MiB all-reduce, 3 iterations; load average {loadavg()}")
    print(f"{'rate(Mb/s)':>10} {'agents':>8} {'time(us)':>10} {'busbw(Mb/s)':>12} {'of line':>8} {'retx':>6} "
          f"{'timeouts':>8} {'CPU us/pkt':>10} #wrong")
    with BridgeFabric(n) as fabric:
        for rate in (10e6, 50e6, 100e6, 200e6):
            for agents in ("per-host", "shared"):
                res = launch(fabric.spawns, fabric.addrs, spec, RunOptions(iters=3, line_rate=rate), timeout=300,
                             agents=agents)
                row = summarize(spec, res)
                retx = sum(r["qp"]["retransmissions"] for r in res)
                tmo = sum(r["qp"]["timeouts"] for r in res)
                bus = row.busbw * 8e9
                pkts = sum(r["nic"]["tx_packets"] + r["nic"]["rx_packets"] for r in res)
                us = 1e6 * sum(r["cpu_s"] for r in res) / pkts
                print(f"{rate / 1e6:10.0f} {agents:>8} {row.time_us:10.0f} {bus / 1e6:12.1f} {bus / rate:8.2f} "
                      f"{retx:6d} {tmo:8d} {us:10.1f} {row.wrong}", flush=True)
    print(f"load average {loadavg()}")


if __name__ == "__main__":
    main()
