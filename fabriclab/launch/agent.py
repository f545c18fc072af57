"""`python -m fabriclab.launch.agent --me I --peers IP[:PORT],...`: the one host agent.

One process per host (started in the host's network namespace by a `placement` spawn, and
driven by `lockstep.Lockstep`), speaking one line protocol on stdin/stdout: it prints "ready"
once; then for every round it reads a JSON job, builds the job's workload on a fresh NIC,
binds its sockets, prints "bound" (so no host sends before every host listens), waits for
"go", runs, and prints one JSON result. End of input ends the agent. A batch of rounds pays
Python's start-up once per host.

A job is a JSON object with at least `workload` (a name the agent serves) and `timeout`
(seconds); the rest belongs to the workload. This module serves collectives (`collective_job`
builds their lines); a program adds its own workloads by calling `serve` with them
(experiments.adaptive_routing.host does).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from dataclasses import asdict, replace
from typing import Callable

from fabriclab import paths
from fabriclab.errors import FabricError
from fabriclab.launch.placement import parse_address
from fabriclab.launch.udp import UdpDriver
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.nic import App, RoceNic
from fabriclab.roce.rank import Rank
from fabriclab.roce.runs import RunOptions


Peers = list[tuple[str, int]]
#: (job, my index, every host's address) -> the NIC and the app that drives it
Workload = Callable[[dict, int, Peers], tuple[RoceNic, App]]


def parse_peers(text: str) -> Peers:
    """'10.0.0.1,10.0.0.2:4792' -> [(ip, port), ...]."""
    peers = [parse_address(item) for item in text.split(",") if item.strip()]
    if not peers:
        raise FabricError("no peers given")
    return peers


def agent_argv(module: str, me: int, addrs: Peers) -> list[str]:
    """The command line of host `me`'s agent (`module`: this one or a program's own)."""
    peers = ",".join(f"{ip}:{port}" for ip, port in addrs)
    return [sys.executable, "-m", module, "--me", str(me), "--peers", peers]


def collective_job(spec: CollectiveSpec, opts: RunOptions, timeout: float) -> str:
    """The job line of every rank of one collective."""
    return json.dumps({"workload": "collective", "timeout": timeout, "kind": spec.kind,
                       "size": spec.size, "dtype": spec.dtype, "op": spec.op,
                       "options": asdict(opts)})


def collective(job: dict, me: int, peers: Peers) -> tuple[RoceNic, App]:
    """Rank `me` of a collective over all peers."""
    spec = CollectiveSpec(job["kind"], len(peers), job["size"], job["dtype"], job["op"])
    opts = RunOptions(**job["options"])
    if opts.burst is None:  # this event loop wakes up late: let it catch up 1 ms of line rate
        opts = replace(opts, burst=max(3000, int(opts.line_rate * 1e-3 / 8)))
    nic = RoceNic(opts.nic_config(*peers[me]))
    return nic, Rank(nic, me, peers, spec, opts.iters, opts.warmup)


WORKLOADS: dict[str, Workload] = {"collective": collective}


def run_job(make: Workload, job: dict, me: int, peers: Peers) -> dict:
    """One round: build, bind, say "bound", wait for "go", run, summarise."""
    timeout = float(job["timeout"])
    nic, app = make(job, me, peers)
    with UdpDriver(nic, app) as driver:
        driver.open_qp_sockets()
        print("bound", flush=True)
        wait_go()
        finished = driver.run(lambda: app.done, timeout)
        summary = app.summary()
        summary["send_errors"] = driver.send_errors
        if not finished:
            summary["error"] = summary.get("error") or f"host {me}: timed out after {timeout} s"
    return summary


def _die_with_launcher() -> None:
    """SIGTERM when the launcher dies (`ip netns exec`, nsenter and mnexec exec, so it is our parent)."""
    paths.die_with_parent(signal.SIGTERM)


#: (job, my index, every host's address) -> one JSON-able result; it binds, prints "bound"
#: and calls `wait_go()` itself
Round = Callable[[dict, int, Peers], dict]


def wait_go() -> None:
    """Block until the launcher says "go" (every host is bound)."""
    if sys.stdin.readline().strip() != "go":
        raise FabricError("launcher went away before 'go'")


def serve_rounds(run_round: Round, argv: list[str] | None = None,
                 prog: str = "python -m fabriclab.launch.agent",
                 description: str | None = None) -> int:
    """The one agent protocol over stdin: "ready", then per job line one JSON result; exit
    status 2 with a one-line error on bad input."""
    p = argparse.ArgumentParser(prog=prog, description=description or __doc__.splitlines()[0])
    p.add_argument("--me", type=int, required=True, help="this host's index in --peers")
    p.add_argument("--peers", required=True, help="every host's IP[:PORT], in index order")
    args = p.parse_args(argv)
    _die_with_launcher()
    try:
        peers = parse_peers(args.peers)
        if not 0 <= args.me < len(peers):
            raise FabricError(f"--me {args.me} is outside 0..{len(peers) - 1}")
        print("ready", flush=True)
        for line in sys.stdin:
            job = json.loads(line)
            if not isinstance(job, dict):
                raise FabricError(f"a job is a JSON object, not {line.strip()[:40]!r}")
            print(json.dumps(run_round(job, args.me, peers)), flush=True)
    except (FabricError, KeyError, TypeError, ValueError, OSError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


def serve(workloads: dict[str, Workload], argv: list[str] | None = None,
          prog: str = "python -m fabriclab.launch.agent") -> int:
    """The agent serving RoCE workloads by name (a job's `workload`)."""
    def run_round(job: dict, me: int, peers: Peers) -> dict:
        make = workloads.get(job.get("workload"))
        if make is None:
            raise FabricError(f"unknown workload {job.get('workload')!r} "
                              f"(this agent serves: {', '.join(workloads)})")
        return run_job(make, job, me, peers)
    return serve_rounds(run_round, argv, prog)


if __name__ == "__main__":
    sys.exit(serve(WORKLOADS))
