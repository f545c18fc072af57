"""A rank process with two NICs (scale-out eth0, scale-up eth1) over UDP, for the Mininet
test: `python two_nic_rank.py RANK N SIZE LOCAL OUT_IPS UP_IPS RATE UP_RATE TIMEOUT`.

It speaks the host-agent protocol (`ready`, a job line, `bound`, wait for `go`, one JSON
line), as `fabriclab.launch.agent` does for one NIC. Both UDP drivers are stepped by one loop here:
`UdpDriver` runs a single NIC (its `_step`/`_drain` are the seam this test borrows).
"""

import json
import sys
import time

from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.launch.udp import UdpDriver
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.rank import Rank, ScaleUpNic
from fabriclab.roce.runs import RunOptions

PORT = 4791


def main() -> int:
    rank, n, size, local = (int(x) for x in sys.argv[1:5])
    out_ips, up_ips = sys.argv[5].split(","), sys.argv[6].split(",")
    rate, up_rate, timeout = float(sys.argv[7]), float(sys.argv[8]), float(sys.argv[9])
    spec = CollectiveSpec("allreduce", n, size, "int", algo="hier", local=local)
    opts = RunOptions(iters=1, warmup=0, line_rate=rate, burst=3000)
    up_opts = RunOptions(iters=1, warmup=0, line_rate=up_rate, burst=3000)
    nic = RoceNic(opts.nic_config(out_ips[rank], PORT))
    up = RoceNic(up_opts.nic_config(up_ips[rank], PORT))
    peers = {j: (up_ips[j], PORT) for j in range(n) if j != rank and spec.same_domain(rank, j)}
    r = Rank(nic, rank, [(ip, PORT) for ip in out_ips], spec, 1, 0, ScaleUpNic(up, peers))
    drivers = [UdpDriver(nic), UdpDriver(up)]
    for d in drivers:
        d.open_qp_sockets()
    print("ready", flush=True)
    sys.stdin.readline()  # the round's job line: everything it needs is on the command line
    print("bound", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    end = time.monotonic() + timeout
    while not r.done and time.monotonic() < end:
        now = time.monotonic_ns()
        r.service(now)
        for d in drivers:
            d._step(now)
        r.service(now)
        for d in drivers:
            if d._sel.select(0.0005):
                d._drain()
    summary = r.summary()
    if not r.done:
        summary["error"] = summary["error"] or f"rank {rank}: timed out after {timeout} s"
    for d in drivers:
        d.close()
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
