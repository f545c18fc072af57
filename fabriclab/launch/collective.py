"""Run a collective over real sockets: one round, every rank's result, with the ranks' agents
laid out one of two ways (`AGENTS`): one process for all ranks, which opens each rank's
sockets in that rank's network namespace ("shared"), or one process per host, started in
the host's namespace ("per-host").

The hosts are given as spawn functions (`placement`: a named namespace, a Mininet host's shell,
this namespace) and addresses; `hosts_of_run` finds them for a running `fabriclab net`.
"""

from __future__ import annotations

import json
from pathlib import Path

from fabriclab.errors import FabricError
from fabriclab.launch.agent import ScaleUpJob, Seat, Stack, agent_argv, collective_job
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import Place, Spawn, here, in_pid_netns, netns_of
from fabriclab.paths import RunDir, run_of
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.runs import RunOptions
from topologies.addressing import Addressing
from topologies.graph import Topology

AGENT = "fabriclab.launch.agent"
AGENTS = ("shared", "per-host")
DEFAULT_AGENTS = "shared"


def launch(spawns: list[Spawn], addrs: list[tuple[str, int]], spec: CollectiveSpec,
           opts: RunOptions | Stack, timeout: float = 120.0, scaleup: ScaleUpJob | None = None,
           agents: str | None = None) -> list[dict]:
    """Run rank i in the network namespace of `spawns[i]`, listening on `addrs[i]` (and, with
    `scaleup`, on its scale-up address for the peers of its domain): all ranks in one agent
    process started here ("shared"), or each in an agent `spawns[i]` starts ("per-host").
    None: DEFAULT_AGENTS when every spawn names its namespace (a `placement.Place`), else
    per-host (a spawn function of its own may start its agent anywhere)."""
    if len(spawns) != len(addrs) or len(addrs) != spec.nranks:
        raise FabricError("need one spawn function and one address per rank")
    if agents is None:
        agents = DEFAULT_AGENTS if all(isinstance(s, Place) for s in spawns) else "per-host"
    if agents not in AGENTS:
        raise FabricError(f"agents are laid out {' or '.join(AGENTS)}, not {agents!r}")
    job = collective_job(spec, opts, timeout, scaleup)
    limit = timeout + 30  # the ranks give up first and report
    if agents == "shared":
        seats = [Seat(i, netns_of(spawn)) for i, spawn in enumerate(spawns)]
        group = Lockstep([here], [agent_argv(AGENT, seats, addrs)], limit, what="rank", answers=[len(seats)])
        jobs = [job]
    else:
        group = Lockstep(spawns, [agent_argv(AGENT, i, addrs) for i in range(len(addrs))], limit, what="rank")
        jobs = [job] * len(addrs)
    with group as ranks:
        return ranks.round(jobs, limit)


def scaleup_of_run(run: str, names: list[str] | None = None) -> tuple[Topology, list[str], ScaleUpJob | None]:
    """The topology of running net `run`, its hosts `names` (default: all), and their
    scale-up NICs (None when none has one): address and the rate of the link to the
    scale-up switch."""
    from fabriclab.launch.domains import scaleup_port

    topo = _topology_of_run(run)
    names = names or [h.name for h in topo.hosts()]
    addressing = Addressing(topo)
    ups = [scaleup_port(topo, name) for name in names]
    if not any(ups):
        return topo, names, None
    return topo, names, ScaleUpJob([(str(addressing.ip(n, u[0])), ROCE_PORT) if u else None for n, u in zip(names, ups)],
                            [u[2] * 1e6 if u and u[2] else None for u in ups])


def _topology_of_run(run: str) -> Topology:
    path = RunDir(run).path / "topology.json"
    try:
        return Topology.from_json(path.read_text())
    except FileNotFoundError:
        raise FabricError(f"no running network {run!r} (no {path})") from None


def hosts_of_run(run: str, names: list[str] | None = None) -> tuple[list[Spawn], list[tuple[str, int]]]:
    """The hosts of a running `fabriclab net --run RUN` (all, or `names` in that order).

    The run's topology.json gives names and addresses; each host's shell carries the run's
    FABRICLAB_RUN and `mininet:<host>` on its command line, and ranks enter its namespace.
    """
    topo = _topology_of_run(run)
    hosts = names or [n.name for n in topo.hosts()]
    shells = _mininet_shells(run)
    addressing = Addressing(topo)
    spawns, addrs = [], []
    for name in hosts:
        if name not in shells:
            raise FabricError(f"host {name!r} of run {run!r} is not running")
        spawns.append(in_pid_netns(shells[name]))
        addrs.append((str(addressing.ip(name)), ROCE_PORT))
    return spawns, addrs


def _mininet_shells(run: str) -> dict[str, int]:
    """host name -> pid of its Mininet shell, for the shells of `run`."""
    shells = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        tags = [a.decode(errors="replace")[8:] for a in args if a.startswith(b"mininet:")]
        if tags and run_of(int(proc.name)) == run:
            shells.setdefault(tags[0], int(proc.name))
    return shells


ADAPTIVE_MODES = ("adaptive", "flowlet")  # per-packet / per-flowlet paths reorder a QP's packets


def routing_note(run: str, receiver_mode: str) -> list[str]:
    """What a collective on running net `run` should say first: the fabric's routing mode
    (from the state `fabriclab ctl` keeps in the run's folder) and the receiver mode, and a
    warning when reordering routing meets go-back-N receivers (every reordered packet is a
    NAK and a resend of the window behind it: the 0.0001 GB/s trap)."""
    try:
        routing = json.loads((RunDir(run).path / "ctl-state.json").read_text()).get("routing", {})
    except (FileNotFoundError, ValueError, AttributeError):
        routing = {}
    mode = routing.get("mode", "ecmp")
    classes = routing.get("classes", {})
    lines = [f"# fabric {run}: routing {mode}"
             + "".join(f", DSCP {d}: {m}" for d, m in sorted(classes.items()))
             + f"; receivers {receiver_mode}"]
    if receiver_mode == "gbn" and ({mode, *classes.values()} & set(ADAPTIVE_MODES)):
        lines.append(f"# warning: {mode if mode in ADAPTIVE_MODES else 'per-class'} routing "
                     "reorders packets and go-back-N receivers resend on every gap: expect "
                     "a crawl; use --mode ooo (or `fabriclab ctl mode ecmp`)")
    return lines
