"""`fabriclab collective`: run a RoCEv2 collective and print an nccl-tests style table.

Where the ranks run is explicit:
  --sim N          N ranks in virtual time in this process (no root, deterministic per --seed):
                   on a one-switch star running fabric.p4, or on --topology (as `fabriclab net`
                   takes it: e.g. --topology leaf-spine --leaves 2 --spines 2), ranks on its
                   first N hosts
  --netns N        N namespaces on a Linux bridge created for this run and removed after (root);
                   the bridge's ports toward the hosts are shaped to --rate
  --hosts LIST     hosts that already exist: comma-separated [WHERE/]IP[:PORT], WHERE being a
                   named network namespace or pid:PID (a Mininet host's shell, entered with
                   nsenter); without WHERE the rank runs here (e.g. 127.0.0.1:24791)
  --run NAME       the hosts of a running `fabriclab net --run NAME` (--ranks picks and orders them)

With --netns, --hosts and --run, --agents lays out the ranks' host agents: "shared" runs
every rank in one process, which opens each rank's sockets inside that rank's network
namespace and drives all NICs on one event loop (each paced as alone; root: entering a
namespace needs CAP_SYS_ADMIN); "per-host" starts one process per host in its namespace, as
a real host would run. One process wakes once for many packets instead of once per packet
per host, and costs 1.3-2x less CPU per packet, but it has one core: the default is shared
on --run and --hosts (the switches' processes want the other cores), per-host on --netns
(a kernel bridge leaves every core to the hosts). With shared agents a rank's cpu_s is the
agent's CPU shared evenly over its ranks. --algo innet always runs one agent per host.

--algo hier runs the hierarchical schedule (docs/scale_up.md) over domains of G consecutive
ranks: on a topology with scale-up switches (--sim --topology ... --scaleup-size G, or --run on
`fabriclab net scale-up`) G is the scale-up domain size and each rank's scale-up NIC carries
its domain's peers; elsewhere --local G names the domains (e.g. a site's ranks) and every
byte takes the one NIC.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from fabriclab.errors import FabricError
from fabriclab.launch.agent import Stack
from fabriclab.launch.collective import AGENTS, DEFAULT_AGENTS, hosts_of_run, launch, routing_note, scaleup_of_run
from fabriclab.launch.placement import parse_hosts
from fabriclab.paths import run_name
from fabriclab.roce.collectives import DTYPES, HIER_KINDS, KINDS, OPS, CollectiveSpec
from fabriclab.roce.nic import CC_SCHEMES
from fabriclab.roce.qp import MODES, PMTUS
from fabriclab.roce.report import format_table
from fabriclab.roce.runs import RunOptions, summarize
from fabriclab.units import parse_bitrate, parse_size, parse_sizes

ALIASES = {"all_reduce": "allreduce", "all_gather": "allgather", "reduce_scatter": "reducescatter",
           "alltoall": "alltoall", "all_to_all": "alltoall"}
COUNTERS = ("retransmissions", "timeouts", "naks_sent", "out_of_order", "duplicates")


def add_stack_arguments(p: argparse.ArgumentParser) -> None:
    """The host stack's options (every rank gets the same)."""
    p.add_argument("--size", default="1M", help="buffer size in bytes, e.g. 64K, 1M (default 1M), "
                   "or MIN:MAX like nccl-tests' -b/-e")
    p.add_argument("--dtype", default="float", choices=sorted(DTYPES))
    p.add_argument("--op", default="sum", choices=sorted(OPS))
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rate", default="100M", help="NIC line rate in bit/s (pacing), e.g. 10M, 100M")
    p.add_argument("--pmtu", type=int, default=1024, choices=PMTUS)
    p.add_argument("--window", type=int, default=64, help="outstanding packets per QP")
    p.add_argument("--mode", default="gbn", choices=MODES, help="receiver: go-back-N or out-of-order placement")
    p.add_argument("--rto", type=float, default=0.02, help="retransmission timeout in seconds")
    p.add_argument("--dcqcn-rtt", type=float, default=None, help="enable DCQCN scaled to this RTT in seconds")
    p.add_argument("--cc", choices=CC_SCHEMES, default=None,
                   help="congestion control of every QP (default: dcqcn with --dcqcn-rtt, else none); "
                   "hpcc needs INT from the switches (on with --sim)")
    p.add_argument("--base-rtt", type=float, default=None, metavar="SECONDS",
                   help="the fabric's base RTT for --cc dcqcn/hpcc parameters (default: --dcqcn-rtt, else 100e-6)")
    p.add_argument("--burst", type=int, default=None,
                   help="bytes the pacer lets a late event loop catch up (default: 2 ms at line rate, at least 4 full frames)")
    p.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")


def options(args: argparse.Namespace) -> Stack:
    """Every rank's host stack: RunOptions and the congestion control."""
    if args.burst is not None and args.burst < 1500:
        raise FabricError("--burst must be at least one full frame (1500 bytes)")
    if not args.rto > 0:  # a smaller one than a window's queueing is raised to it (RunOptions)
        raise FabricError(f"--rto must be a positive number of seconds, not {args.rto:g}")
    run = RunOptions(args.iters, args.warmup, parse_bitrate(args.rate, "--rate"), args.pmtu, args.window,
                     args.mode, args.rto, args.dcqcn_rtt, args.burst)
    if args.base_rtt is not None and args.cc in (None, "none"):
        raise FabricError("--base-rtt sets DCQCN/HPCC parameters: give --cc dcqcn or --cc hpcc")
    rtt = args.base_rtt if args.base_rtt is not None else args.dcqcn_rtt or Stack.base_rtt
    return Stack(run, args.cc, rtt)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = __doc__
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("collective", help=f"one of {', '.join(KINDS)} (nccl-tests names like all_reduce work too)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--sim", type=int, metavar="N", help="N ranks in virtual time")
    where.add_argument("--netns", type=int, metavar="N", help="N namespaces on a bridge made for this run")
    where.add_argument("--hosts", metavar="LIST", help="existing hosts: [NETNS/|pid:PID/]IP[:PORT],...")
    where.add_argument("--run", metavar="NAME", type=run_name, help="the hosts of a running `fabriclab net --run NAME`")
    p.add_argument("--ranks", metavar="H1,H2,...", help="with --run: which hosts, in rank order (default: all)")
    p.add_argument("--agents", choices=AGENTS, default=None,
                   help=f"with --netns/--hosts/--run: one agent process for all ranks, each rank's sockets "
                   f"in its own namespace (shared), or one per host (per-host); default: {DEFAULT_AGENTS}, "
                   "per-host with --netns")
    p.add_argument("--algo", choices=("ring", "hier", "innet"), default="ring",
                   help="ring (the default); hier: hierarchical over domains (allreduce, allgather, "
                   "alltoall; docs/scale_up.md); innet: allreduce summed in the P4 switches (docs/aggregation.md)")
    p.add_argument("--local", type=int, metavar="G",
                   help="with --algo hier: ranks per domain (default: the topology's scale-up domain size)")
    add_stack_arguments(p)
    p.add_argument("--factor", type=int, default=2, help="with --size MIN:MAX: multiply the size by this")
    p.add_argument("--pcap", type=Path, help="with --netns: write one pcap per host port here")
    p.add_argument("--loss", type=float, default=0.0, help="with --sim: packet loss probability per switch port")
    p.add_argument("--reorder", type=float, default=0.0,
                   help="with --sim: probability a switch port holds a packet back (up to 200 us)")
    p.add_argument("--delay", type=float, default=50e-6,
                   help="with --sim on the star: one-way delay of each switch port toward a host, in seconds")
    p.add_argument("--queue", default="256K", help="with --sim: switch egress buffer in bytes (default 256K)")
    p.add_argument("--ecn", metavar="KMIN:KMAX[:PMAX]",
                   help="with --sim: fabric.p4's RED-like CE marking, thresholds in bytes (rounded to "
                   "frames of PMTU + 58 bytes), e.g. 5K:50K:0.1")
    p.add_argument("--seed", type=int, default=0,
                   help="with --sim: picks the link impairment draws and every QP's UDP source port")
    _add_topology_arguments(p)
    p.add_argument("--json", type=Path, help="also write every rank's result here")


# `fabriclab net`'s topology options; --hosts and --queue mean other things here
_TOPOLOGY_CLASHES = ("--hosts", "--queue")


def _add_topology_arguments(p: argparse.ArgumentParser) -> None:
    from fabriclab.net.cli import TOPOLOGY_OPTIONS, BUILDERS, add_scaleup_arguments

    topo = p.add_argument_group("with --sim: a topology instead of the star (as `fabriclab net` takes it; "
                                "a rail's host count via a topology JSON file)")
    topo.add_argument("--topology", metavar="TOPOLOGY", help=f"{', '.join(BUILDERS)}, or a topology JSON file")
    for flag, (dest, _, help_text) in TOPOLOGY_OPTIONS.items():
        if flag in _TOPOLOGY_CLASHES:
            p.set_defaults(**{f"topo_{dest}": None})  # what build_topology reads
        else:
            topo.add_argument(flag, dest=f"topo_{dest}", help=help_text)
    add_scaleup_arguments(topo)


def _kind(name: str) -> str:
    kind = ALIASES.get(name, name)
    if kind not in KINDS:
        raise FabricError(f"unknown collective {name!r} (choose from {', '.join(KINDS)})")
    return kind


def parse_ecn(text: str) -> tuple[int, int, float]:
    """'5K:50K:0.1' -> (5120, 51200, 0.1); PMAX defaults to 1."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise FabricError(f"bad --ecn {text!r} (expected KMIN:KMAX[:PMAX], e.g. 5K:50K:0.1)")
    kmin, kmax = parse_size(parts[0], "--ecn", 0), parse_size(parts[1], "--ecn", 0)
    try:
        pmax = float(parts[2]) if len(parts) == 3 else 1.0
    except ValueError:
        raise FabricError(f"bad --ecn Pmax {parts[2]!r}") from None
    if not (kmin <= kmax and 0 < pmax <= 1):
        raise FabricError(f"--ecn needs KMIN <= KMAX and 0 < PMAX <= 1, got {text!r}")
    return kmin, kmax, pmax


Run = tuple[CollectiveSpec, list[dict]]


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) end the run like Ctrl-C, so what it created is
    removed; SIGINT is re-armed (a script's `&` inherits it ignored). While tearing down,
    further signals are ignored (as `fabriclab net` does)."""
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        yield
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_algo(args: argparse.Namespace, kind: str) -> None:
    if args.local is not None and args.algo != "hier":
        raise FabricError("--local is the domain size of --algo hier")
    if args.algo == "hier":
        if kind not in HIER_KINDS:
            raise FabricError(f"--algo hier runs {', '.join(HIER_KINDS)}, not {kind}")
        if args.netns is not None:
            raise FabricError("--algo hier needs domains, and a bridge of namespaces has none: "
                              "use --sim with --topology or --run on a net with scale-up domains")
        if args.hosts and args.local is None:
            raise FabricError("--algo hier with --hosts: give --local G (ranks per domain)")
        if args.local is not None and args.local < 1:
            raise FabricError(f"--local must be >= 1, got {args.local}")


def _attach_run(run: str | None) -> tuple[Path, Any]:
    """A running net's folder and a function connecting `fabriclab ctl`'s controller to it."""
    from controller.cli import connect, find_run, grpc_base_port

    rundir = find_run(run)
    return rundir, lambda: connect(rundir, grpc_base_port(rundir, None))


def run(args: argparse.Namespace) -> list[Run]:
    """One (spec, per-rank results) per size; namespaces or hosts are set up once for all."""
    kind, sizes, opts = _kind(args.collective), parse_sizes(args.size, args.factor, "--size"), options(args)
    _check_algo(args, kind)
    if opts.cc == "hpcc" and (args.netns is not None or args.hosts):
        raise FabricError("--cc hpcc reacts to INT from P4 switches: use --sim or --run")
    if args.pcap and args.netns is None:
        raise FabricError("--pcap works with --netns (on a running net, use `fabriclab net --pcap`)")
    if (args.loss or args.reorder or args.ecn) and args.sim is None:
        raise FabricError("--loss, --reorder and --ecn model the simulated fabric: use them with --sim")
    if args.ranks and not args.run:
        raise FabricError("--ranks picks hosts of a running net: use it with --run")
    if args.agents is not None and args.sim is not None:
        raise FabricError("--agents lays out real-time host agents: --sim runs no agents")
    if args.agents == "shared" and args.algo == "innet":
        raise FabricError("--algo innet runs one agent per host: leave out --agents shared")
    # None: collective.launch's default (shared); the bridge of --netns needs no CPU of ours
    agents = args.agents or ("per-host" if args.netns is not None else None)

    def specs(nranks: int, local: int = 1) -> list[CollectiveSpec]:
        algo = "hier" if args.algo == "hier" else "ring"
        return [CollectiveSpec(kind, nranks, size, args.dtype, args.op, algo, local) for size in sizes]

    if args.algo == "innet":
        from fabriclab.launch.innet import run_innet

        if opts.cc is not None:
            raise FabricError("--cc sets the RoCE QPs of --algo ring and hier; innet has none")
        return run_innet(args, specs, opts.run, attach=_attach_run)
    if args.sim is not None:
        return simulate(args, specs(args.sim), opts)
    if args.netns is not None:
        from fabriclab.launch.netns import BridgeFabric

        todo = specs(args.netns)  # check the input before creating anything
        with _signals_interrupt(), BridgeFabric(args.netns, pcap_dir=args.pcap,
                                                link_rate=opts.run.line_rate) as fabric:
            return [(spec, launch(fabric.spawns, fabric.addrs, spec, opts, args.timeout, agents=agents))
                    for spec in todo]
    if args.hosts:
        spawns, addrs = parse_hosts(args.hosts)
        return [(spec, launch(spawns, addrs, spec, opts, args.timeout, agents=agents))
                for spec in specs(len(addrs), args.local or 1)]
    if args.run:
        return on_run(args, opts, specs, agents)
    raise FabricError("say where the ranks run: --sim N, --netns N, --hosts LIST or --run NAME")


def on_run(args: argparse.Namespace, opts: Stack, specs: Any, agents: str | None) -> list[Run]:
    """--run NAME: the ranks on the net's hosts; --algo hier finds the scale-up domains in
    the run's topology and gives each rank its scale-up NIC."""
    from fabriclab.launch.domains import domains_of

    names = [n for n in (args.ranks or "").split(",") if n]
    spawns, addrs = hosts_of_run(args.run, names)
    local, scaleup = 1, None
    if args.algo == "hier":
        topo, names, scaleup = scaleup_of_run(args.run, names)
        domains = domains_of(topo, names, args.local)
        local, scaleup = domains.size, scaleup if domains.two_nic else None
    print("\n".join(routing_note(args.run, opts.run.mode)), flush=True)
    if args.algo == "hier":
        print(f"# hierarchical: domains of {local}"
              + (", domain peers over the scale-up NICs" if scaleup else ", every byte over one NIC"), flush=True)
    if opts.cc == "hpcc":
        print("# --cc hpcc: QPs react to the INT the switches add toward receivers; "
              "a QP that gets none stays at line rate", flush=True)
    return [(spec, launch(spawns, addrs, spec, opts, args.timeout, scaleup, agents))
            for spec in specs(len(addrs), local)]


def simulate(args: argparse.Namespace, todo: list[CollectiveSpec], opts: Stack) -> list[Run]:
    """--sim: each size on a fresh virtual-time fabric (fabric.p4 in every switch); progress
    and the simulated time reached go to stderr, the table stays on stdout."""
    from fabriclab.net.cli import TOPOLOGY_OPTIONS, build_topology
    from fabriclab.vtime.fabric import Fabric, FabricOptions
    from fabriclab.vtime.links import Impairments
    from fabriclab.launch.domains import domains_of, run_two_nic
    from fabriclab.roce.framing import ROCE_PORT
    from fabriclab.vtime.runs import run_collective, star
    from controller.fabric_plan import Ecn, FabricConfig, Watch

    if args.delay < 0:
        raise FabricError(f"--delay must be >= 0 seconds, got {args.delay}")
    if args.topology is None:
        given = [f for f, (dest, _, _) in TOPOLOGY_OPTIONS.items() if getattr(args, f"topo_{dest}") is not None]
        scaleup = [f for f in ("--scaleup-size", "--scaleup-bw") if getattr(args, f[2:].replace("-", "_")) is not None]
        if given or scaleup:
            raise FabricError(f"{(given or scaleup)[0]} describes a topology: give --topology too")
        topo = star(args.sim, bw_mbps=opts.run.line_rate / 1e6, delay_us=round(args.delay * 1e6))
    else:
        topo = build_topology(args)
    domains = None
    if args.algo == "hier":
        hosts = [h.name for h in topo.hosts()][:args.sim]
        if len(hosts) < args.sim:
            raise FabricError(f"{args.sim} ranks need {args.sim} hosts; {topo.name} has {len(hosts)}")
        domains = domains_of(topo, hosts, args.local)
        todo = [replace(spec, local=domains.size) for spec in todo]
        print(f"# hierarchical: domains of {domains.size}"
              + (", domain peers over the scale-up NICs" if domains.two_nic else ", every byte over one NIC"),
              file=sys.stderr, flush=True)
    config = FabricConfig()
    if args.ecn:
        kmin, kmax, pmax = parse_ecn(args.ecn)
        frame = opts.run.pmtu + 58  # fabric.p4 marks on the queue depth in packets
        config.ecn = Ecn(kmin // frame, max(kmin // frame + 1, round(kmax / frame)), pmax)
    if opts.cc == "hpcc":  # INT toward the receivers of RoCE traffic: what HPCC reacts to
        config.watchlist = [Watch(dport=ROCE_PORT, to_host=True)]
    fabric_options = FabricOptions(queue_bytes=parse_size(args.queue, "--queue", 1),
                                   impairments=Impairments(loss=args.loss, reorder=args.reorder), config=config)
    runs = []
    for spec in todo:
        fabric = Fabric(topo, fabric_options, args.seed)
        report = lambda r: print(f"# {r}", file=sys.stderr, flush=True)  # noqa: E731
        if domains is None:
            results = run_collective(topo, spec, opts, seed=args.seed, fabric=fabric,
                                     limit_ns=round(args.timeout * 1e9), progress=report)
        else:
            record = run_two_nic(fabric, spec, opts, lambda ip, mbps: opts.at_rate(
                                     mbps * 1e6 if mbps else opts.run.line_rate).nic_config(ip),
                                 seed=args.seed, limit_ns=round(args.timeout * 1e9), progress=report)
            results = record["ranks"]
            print(f"# {100 * record['intra_share']:.0f}% of the bytes delivered to hosts came from "
                  "scale-up switches", file=sys.stderr, flush=True)
        print(f"# {spec.size} B on {topo.name}, seed {args.seed}: simulated {fabric.now / 1e6:.3f} ms, "
              f"{fabric.loop.packets} packets", file=sys.stderr, flush=True)
        runs.append((spec, results))
    return runs


def _check_limits(args: argparse.Namespace) -> None:
    """What no run could use, refused before anything starts (a run may take minutes)."""
    if args.window < 1:
        raise FabricError(f"--window {args.window}: at least 1 outstanding packet per QP")
    if not args.timeout > 0:
        raise FabricError(f"--timeout {args.timeout:g}: give a time in seconds > 0")
    if args.json is not None and not args.json.parent.is_dir():
        raise FabricError(f"--json {args.json}: no folder {args.json.parent}")


def main(args: argparse.Namespace) -> int:
    _check_limits(args)
    runs = run(args)
    rows = [summarize(spec, results) for spec, results in runs]
    spec = runs[0][0]
    print(format_table(f"{spec.kind}: {spec.nranks} ranks, {args.iters} iterations, "
                       f"line rate {parse_bitrate(args.rate, '--rate') / 1e6:g} Mbit/s",
                       rows))
    totals = {k: sum(r["qp"].get(k, 0) for _, results in runs for r in results) for k in COUNTERS}
    totals["cnps"] = sum(r["nic"]["cnps_sent"] for _, results in runs for r in results)
    print("# " + "  ".join(f"{k}={v}" for k, v in totals.items()))
    if args.json:
        args.json.write_text(json.dumps({"runs": [{"row": row.as_dict(), "ranks": results}
                                                  for row, (_, results) in zip(rows, runs)]}, indent=1))
    return 0 if all(row.wrong == 0 for row in rows) else 1
