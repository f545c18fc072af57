"""`python -m fabriclab.launch.agent --me I[,J,...] --peers IP[:PORT],... [--netns FILE,...]`:
the one host agent.

One process per host (started in the host's network namespace by a `placement` spawn, and
driven by `lockstep.Lockstep`), speaking one line protocol on stdin/stdout: it prints "ready"
once; then for every round it reads a JSON job, builds the job's workload on a fresh NIC,
binds its sockets, prints "bound" (so no host sends before every host listens), waits for
"go", runs, and prints one JSON result; then it keeps answering its peers (their last
retransmissions, `udp.linger`) until the next job line or end of input, which ends the agent.
A batch of rounds pays Python's start-up once per host.

Or one process for several hosts (the shared layout: `--me 0,1,2,3`, and with `--netns` each
rank's network namespace file): it opens each rank's sockets inside that rank's namespace
(`setns.entered`), runs every rank's NIC on one event loop (`udp.drive`, each NIC paced as
alone), and prints one result per rank, in --me order. On two cores a process per host pays
a wake-up per packet per process; one loop for all pays it once.

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
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

from fabriclab import paths
from fabriclab.cpu_share import take_share
from fabriclab.errors import FabricError
from fabriclab.launch.placement import parse_address
from fabriclab.launch.setns import entered
from fabriclab.launch.udp import UdpDriver, drive, linger
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.hpcc import HpccParams
from fabriclab.roce.nic import CC_SCHEMES, App, NicConfig, RoceNic
from fabriclab.roce.pacer import NS_PER_S
from fabriclab.roce.rank import Rank, ScaleUpNic
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


@dataclass(frozen=True)
class Seat:
    """One rank an agent runs: its index among the peers, and the file of the network
    namespace its sockets live in (None: the agent's own)."""

    me: int
    netns: str | None = None


def agent_argv(module: str, me: int | Sequence[Seat], addrs: Peers) -> list[str]:
    """The command line of host `me`'s agent, or of one agent running all `me` seats
    (`module`: this one or a program's own)."""
    peers = ",".join(f"{ip}:{port}" for ip, port in addrs)
    if isinstance(me, int):
        return [sys.executable, "-m", module, "--me", str(me), "--peers", peers]
    argv = [sys.executable, "-m", module, "--me", ",".join(str(s.me) for s in me), "--peers", peers]
    if any(s.netns for s in me):
        argv += ["--netns", ",".join(s.netns or "" for s in me)]
    return argv


def parse_seats(me: str, netns: str | None, npeers: int) -> list[Seat]:
    """'--me 0,1 --netns /run/netns/a,' -> seats (an empty namespace: the agent's own)."""
    try:
        ranks = [int(x) for x in me.split(",")]
    except ValueError:
        raise FabricError(f"--me {me!r}: expected I or I,J,... (rank indices)") from None
    spaces = netns.split(",") if netns is not None else [""] * len(ranks)
    if len(spaces) != len(ranks):
        raise FabricError(f"--netns gives {len(spaces)} namespaces for {len(ranks)} ranks")
    for r in ranks:
        if not 0 <= r < npeers:
            raise FabricError(f"--me {r} is outside 0..{npeers - 1}")
    if len(set(ranks)) != len(ranks):
        raise FabricError(f"--me {me!r} names a rank twice")
    return [Seat(r, ns or None) for r, ns in zip(ranks, spaces)]


DEFAULT_BASE_RTT = 100e-6  # s: DCQCN/HPCC parameters when no RTT is given
LINGER_S = 3600.0  # s: a finished round answers its peers until the launcher's next line (or EOF)


@dataclass(frozen=True)
class Stack:
    """`RunOptions` plus the congestion control every QP runs (`--cc`): None keeps
    RunOptions' own choice (DCQCN if `dcqcn_rtt` is set, else none). DCQCN and HPCC get
    their parameters from `base_rtt` (s). HPCC times INT by the ACK's arrival: v1model's
    switch timestamps are in us, too coarse for a us-scale RTT. Anything with `iters`,
    `warmup` and `nic_config` runs a collective (fabriclab.vtime.runs.StackOptions)."""

    run: RunOptions
    cc: str | None = None
    base_rtt: float = DEFAULT_BASE_RTT

    def __post_init__(self) -> None:
        if self.cc is not None and self.cc not in CC_SCHEMES:
            raise FabricError(f"congestion control must be one of {', '.join(CC_SCHEMES)}, not {self.cc!r}")
        if not self.base_rtt > 0:
            raise FabricError(f"the base RTT must be > 0 seconds, got {self.base_rtt}")
        if self.cc == "none" and self.run.dcqcn_rtt:
            raise FabricError("--dcqcn-rtt enables DCQCN: it does not go with --cc none")

    @property
    def iters(self) -> int:
        return self.run.iters

    @property
    def warmup(self) -> int:
        return self.run.warmup

    def at_rate(self, line_rate: float) -> Stack:
        """The same stack on a NIC of another rate (a scale-up NIC)."""
        return replace(self, run=replace(self.run, line_rate=line_rate))

    def nic_config(self, ip: str, port: int = ROCE_PORT) -> NicConfig:
        cfg = self.run.nic_config(ip, port)
        if self.cc is None:
            return cfg
        rtt_ns = round((self.run.dcqcn_rtt or self.base_rtt) * NS_PER_S)
        dcqcn = cfg.dcqcn or (DcqcnParams.scaled(cfg.line_rate, rtt_ns) if self.cc == "dcqcn" else None)
        hpcc = HpccParams(cfg.line_rate, rtt_ns) if self.cc == "hpcc" else None
        return replace(cfg, cc=self.cc, dcqcn=dcqcn, hpcc=hpcc, int_host_clock=self.cc == "hpcc")

    def as_dict(self) -> dict:
        return {"options": asdict(self.run), "cc": self.cc, "base_rtt": self.base_rtt}

    @classmethod
    def from_job(cls, job: dict) -> Stack:
        return cls(RunOptions(**job["options"]), job.get("cc"), job.get("base_rtt", DEFAULT_BASE_RTT))


@dataclass(frozen=True)
class ScaleUpJob:
    """The scale-up side of a hierarchical collective: per rank, its scale-up NIC's address
    (None: no scale-up NIC) and line rate (bit/s)."""

    addrs: Sequence[tuple[str, int] | None]
    rates: Sequence[float | None]

    def as_dict(self) -> dict:
        return {"addrs": [list(a) if a else None for a in self.addrs], "rates": list(self.rates)}


def collective_job(spec: CollectiveSpec, opts: RunOptions | Stack, timeout: float,
                   scaleup: ScaleUpJob | None = None) -> str:
    """The job line of every rank of one collective."""
    stack = opts if isinstance(opts, Stack) else Stack(opts)
    return json.dumps({"workload": "collective", "timeout": timeout, "kind": spec.kind,
                       "size": spec.size, "dtype": spec.dtype, "op": spec.op, "algo": spec.algo,
                       "local": spec.local, **stack.as_dict(),
                       "scaleup": scaleup.as_dict() if scaleup else None})


LATE_WAKE_S = 2e-3  # s of line rate a rank process's pacer may catch up (see late_loop_burst)
FRAMES_MIN = 4  # ... and at least this many full frames


def late_loop_burst(line_rate: float, pmtu: int) -> int:
    """The pacer's catch-up (`RunOptions.burst`, bytes) in a rank process. Its event loop
    wakes up late: epoll sleeps whole milliseconds, and a loaded machine runs it later
    still; time the pacer cannot catch up is line rate lost for good. 2 ms of line rate,
    and at least 4 full frames: with jumbo frames at tens of Mb/s, 1 ms is less than one
    frame, and busbw fell to 75-93% of the rate with no resend (1 MiB all-to-all on a 2x2x2
    fabric at 20 Mb/s, load 3-4; 93-96% with this burst). Never more than the long-run rate."""
    return max(FRAMES_MIN * (pmtu + 100), int(line_rate * LATE_WAKE_S / 8))


def collective(job: dict, me: int, peers: Peers) -> tuple[RoceNic, App]:
    """Rank `me` of a collective over all peers; with `scaleup` in the job, a second NIC
    carries the peers of its domain (`Rank.nics` lists both)."""
    spec = CollectiveSpec(job["kind"], len(peers), job["size"], job["dtype"], job["op"],
                          job.get("algo", "ring"), job.get("local", 1))
    stack = Stack.from_job(job)
    if stack.run.burst is None:
        stack = replace(stack, run=replace(stack.run, burst=late_loop_burst(stack.run.line_rate, stack.run.pmtu)))
    nic = RoceNic(stack.nic_config(*peers[me]))
    up = job.get("scaleup")
    scaleup = None
    if up and up["addrs"][me] is not None:
        rate = up["rates"][me] or stack.run.line_rate
        up_stack = stack.at_rate(rate)
        if job["options"].get("burst") is None:
            up_stack = replace(up_stack, run=replace(up_stack.run, burst=late_loop_burst(rate, up_stack.run.pmtu)))
        scaleup = ScaleUpNic(RoceNic(up_stack.nic_config(*up["addrs"][me])),
                             {j: tuple(a) for j, a in enumerate(up["addrs"])
                              if j != me and a is not None and spec.same_domain(me, j)})
    return nic, Rank(nic, me, peers, spec, stack.iters, stack.warmup, scaleup)


WORKLOADS: dict[str, Workload] = {"collective": collective}


class Apps:
    """The apps of every rank one agent runs, as one for `udp.drive`: each serviced in turn,
    done when all are."""

    def __init__(self, apps: list[App]) -> None:
        self.apps = apps

    def service(self, now: int) -> None:
        for app in self.apps:
            app.service(now)

    @property
    def done(self) -> bool:
        return all(app.done for app in self.apps)  # type: ignore[attr-defined]


def reply(result: dict) -> None:
    """One round's result: one JSON line to the launcher."""
    print(json.dumps(result), flush=True)


def run_job(make: Workload, job: dict, seats: Sequence[Seat], peers: Peers,
            answer: Callable[[dict], None] = reply) -> None:
    """One round of every seat's rank: build, bind (each rank's sockets in its namespace),
    say "bound", wait for "go", run all on one loop, `answer` each rank's summary in seat
    order, then linger (keep answering the peers' last packets) until the launcher's next line.
    A rank's `cpu_s` is the agent's CPU from "go" to done, shared evenly by its ranks."""
    timeout = float(job["timeout"])
    ranks: list[tuple[App, list[UdpDriver]]] = []
    try:
        for seat in seats:
            with entered(seat.netns):  # a workload may look at its host's interfaces too
                nic, app = make(job, seat.me, peers)
                drivers: list[UdpDriver] = []
                ranks.append((app, drivers))
                for n in getattr(app, "nics", [nic]):
                    drivers.append(UdpDriver(n))
                for driver in drivers:
                    driver.open_qp_sockets()
        print("bound", flush=True)
        wait_go()
        every = [d for _, drivers in ranks for d in drivers]
        apps = Apps([app for app, _ in ranks])
        cpu = time.process_time()
        drive(every, apps if len(ranks) > 1 else apps.apps[0], lambda: apps.done, timeout)
        cpu = (time.process_time() - cpu) / len(ranks)
        for seat, (app, drivers) in zip(seats, ranks):
            summary = app.summary()  # type: ignore[attr-defined]
            summary["send_errors"] = sum(d.send_errors for d in drivers)
            summary["cpu_s"] = cpu
            if len(ranks) > 1:
                summary["agent_ranks"] = len(ranks)  # cpu_s is this agent's CPU over its ranks
            if not app.done:  # type: ignore[attr-defined]
                summary["error"] = summary.get("error") or f"host {seat.me}: timed out after {timeout} s"
            answer(summary)
        linger(every, sys.stdin.fileno(), LINGER_S)
    finally:
        for _, drivers in ranks:
            for driver in drivers:
                driver.close()


def _die_with_launcher() -> None:
    """SIGTERM when the launcher dies (`ip netns exec`, nsenter and mnexec exec, so it is our parent)."""
    paths.die_with_parent(signal.SIGTERM)


#: (job, the ranks this agent runs, every host's address) -> one JSON-able result, or None if
#: it answered itself (`reply`, one line per rank); it binds, prints "bound" and calls
#: `wait_go()` itself
Round = Callable[[dict, list[Seat], Peers], "dict | None"]


def wait_go() -> None:
    """Block until the launcher says "go" (every host is bound)."""
    if sys.stdin.readline().strip() != "go":
        raise FabricError("launcher went away before 'go'")


def serve_rounds(run_round: Round, argv: list[str] | None = None,
                 prog: str = "python -m fabriclab.launch.agent",
                 description: str | None = None, shared: bool = False) -> int:
    """The one agent protocol over stdin: "ready", then per job line one JSON result per
    rank; exit status 2 with a one-line error on bad input. `shared`: `run_round` runs
    several ranks (--me I,J,...) and enters their namespaces (--netns) itself."""
    p = argparse.ArgumentParser(prog=prog, description=description or __doc__.splitlines()[0])
    p.add_argument("--me", required=True, help="this host's index in --peers"
                   + (" (or I,J,...: run those ranks in this process)" if shared else ""))
    p.add_argument("--peers", required=True, help="every host's IP[:PORT], in index order")
    if shared:
        p.add_argument("--netns", metavar="FILE,...",
                       help="per --me rank, the network namespace file its sockets are opened in "
                       "(/run/netns/NAME, /proc/PID/ns/net; empty: this process's)")
    args = p.parse_args(argv)
    _die_with_launcher()
    try:
        peers = parse_peers(args.peers)
        seats = parse_seats(args.me, getattr(args, "netns", None), len(peers))
        if len(seats) > 1 and not shared:
            raise FabricError(f"--me {args.me}: this agent runs one rank per process")
        # one process for several hosts takes their CPU weight, as a switch group does:
        # beside a busy loop, busbw 78 -> 82 Mb/s at 90 Mb/s on the 2x2x2 fabric (docs/speed.md)
        take_share(len(seats))
        print("ready", flush=True)
        for line in sys.stdin:
            job = json.loads(line)
            if not isinstance(job, dict):
                raise FabricError(f"a job is a JSON object, not {line.strip()[:40]!r}")
            result = run_round(job, seats, peers)
            if result is not None:
                reply(result)
    except (FabricError, KeyError, TypeError, ValueError, OSError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


def serve(workloads: dict[str, Workload], argv: list[str] | None = None,
          prog: str = "python -m fabriclab.launch.agent") -> int:
    """The agent serving RoCE workloads by name (a job's `workload`), for one host or, in
    the shared layout, several."""
    def run_round(job: dict, seats: list[Seat], peers: Peers) -> None:
        make = workloads.get(job.get("workload"))
        if make is None:
            raise FabricError(f"unknown workload {job.get('workload')!r} "
                              f"(this agent serves: {', '.join(workloads)})")
        run_job(make, job, seats, peers)
    return serve_rounds(run_round, argv, prog, shared=True)


if __name__ == "__main__":
    sys.exit(serve(WORKLOADS))
