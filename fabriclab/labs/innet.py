"""`python -m fabriclab.labs.innet job|rank`: lab 6's all-reduce through the switches.

`job --run NAME --ranks h1,h2,...` installs an aggregation job on a running `fabriclab net`
(controller.aggregation: tree, slots, multicast group, over P4Runtime). `rank` runs in a
Mininet host: it sends its contribution for chunk 0 (lane k = (rank + 1) * k) to the
job's service address, resends it every 0.5 s until the result comes back, checks every
lane against the expected sum and writes `ok` or what went wrong to --out.
"""

from __future__ import annotations

import argparse
import select
import socket
import sys
import time
from pathlib import Path

from fabriclab.paths import run_name

ELECTION_ID = 10  # fabriclab ctl's: above the net's controller (1); ctl can still take over after us


def install(run: str, ranks: list[str], job_id: int, pool_size: int) -> str:
    from controller.aggregation import AggregationManager, install_job
    from controller.client import P4RuntimeClient
    from fabriclab.paths import RunDir
    from topologies.graph import Topology

    rundir = RunDir(run)
    topo = Topology.from_json((rundir.path / "topology.json").read_text())
    base = rundir.recorded_grpc_base_port() or 9559
    job = AggregationManager(topo).create(job_id, ranks, pool_size=pool_size)
    clients = {}
    try:
        for name in job.roles:
            index = topo.switch_index(name)
            clients[name] = P4RuntimeClient(f"127.0.0.1:{base + index}", index,
                                            election_id=ELECTION_ID, timeout=5.0)
            clients[name].connect()
        install_job(clients, job)
    finally:
        for client in clients.values():
            client.close()
    return job.describe()


def contribute(job_id: int, rank: int, world: int, service_ip: str,
               timeout: float) -> str:
    from fabriclab.roce import innet

    lanes = tuple((rank + 1) * k for k in range(innet.LANES))
    packet = innet.encode(innet.AggPacket(job_id, 0, 0, rank, world, lanes))
    want = [world * (world + 1) // 2 * k for k in range(innet.LANES)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", innet.AGG_UDP_PORT))
        deadline = time.monotonic() + timeout
        sends = 0
        while time.monotonic() < deadline:
            sock.sendto(packet, (service_ip, innet.AGG_UDP_PORT))
            sends += 1
            resend_at = time.monotonic() + 0.5
            while (left := min(resend_at, deadline) - time.monotonic()) > 0:
                if not select.select([sock], [], [], left)[0]:
                    continue
                got = innet.decode(sock.recv(65535))
                if not got.is_result or got.job != job_id:
                    continue
                wrong = sum(a != b for a, b in zip(got.lanes, want))
                return "ok" if wrong == 0 else f"{wrong} of {innet.LANES} lanes wrong"
        return f"no result after {sends} sends in {timeout:.0f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fabriclab.labs.innet")
    sub = parser.add_subparsers(dest="action", required=True)
    job = sub.add_parser("job", help="install an aggregation job on a running net")
    job.add_argument("--run", required=True, type=run_name)
    job.add_argument("--ranks", required=True, help="hosts, in rank order: h1,h2,...")
    job.add_argument("--job", type=int, default=1)
    job.add_argument("--pool-size", type=int, default=4)
    rank = sub.add_parser("rank", help="contribute chunk 0 and check the result")
    rank.add_argument("--job", type=int, default=1)
    rank.add_argument("--rank", type=int, required=True)
    rank.add_argument("--world", type=int, required=True)
    rank.add_argument("--service-ip", default="10.255.255.1")
    rank.add_argument("--timeout", type=float, default=10.0)
    rank.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.action == "job":
        print(install(args.run, args.ranks.split(","), args.job, args.pool_size))
        return 0
    outcome = contribute(args.job, args.rank, args.world, args.service_ip, args.timeout)
    args.out.write_text(outcome + "\n")
    print(f"rank {args.rank}: {outcome}")
    return 0 if outcome == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
