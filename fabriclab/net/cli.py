"""`fabriclab net TOPOLOGY [options]`: bring a topology up with P4 switches and routes.

Without --cli or --pingall the network stays up until Ctrl-C or SIGTERM. Every topology
option is checked against the chosen builder before anything is created; a topology can
also come from a JSON file saved by `--save-topology` or an experiment.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any, Callable

from fabriclab import paths
from fabriclab.errors import FabricError
from fabriclab.units import parse_bitrate, parse_size, parse_time_ns
from topologies import builders
from topologies.graph import Topology

def scale_up(hosts: int = 16, scaleup_size: int = 8, rails: int | None = None, layout: str = "rail",
             downlink_bw: float = 100.0, scaleup_bw: float = 1800.0, spines: int = 2,
             domains_per_leaf: int | None = None, sites: int = 1, borders: int = 1,
             queue: int | None = None, dci: builders.Dci | None = None) -> Topology:
    """`builders.scale_up_fabric` in the CLI's words: --hosts accelerators in scale-up
    domains of --scaleup-size, each NIC at --downlink-bw, each scale-up link at --scaleup-bw."""
    return builders.scale_up_fabric(hosts, scaleup_size, rails, layout, downlink_bw, scaleup_bw, spines,
                                    domains_per_leaf, sites, borders, queue=queue, dci=dci)


BUILDERS: dict[str, Callable[..., Topology]] = {
    "leaf-spine": builders.leaf_spine,
    "fat-tree": builders.fat_tree,
    "rail": builders.rail_optimized,
    "multi-site": builders.multi_site,
    "scale-up": scale_up,
}

# option -> (builder keyword, type, help)
TOPOLOGY_OPTIONS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "--leaves": ("leaves", int, "leaf switches (per site)"),
    "--spines": ("spines", int, "spine switches (per site)"),
    "--hosts-per-leaf": ("hosts_per_leaf", int, "hosts per leaf"),
    "--hosts": ("hosts", int, "hosts (rail), accelerators (scale-up)"),
    "--rails": ("rails", int, "NICs per host, one rail each (rail); rails = domain size (scale-up)"),
    "--layout": ("layout", str, "scale-out of the domains: rail (rail-optimised) or leaf (scale-up)"),
    "--domains-per-leaf": ("domains_per_leaf", int, "scale-up domains each leaf serves (scale-up)"),
    "--hosts-per-rail-switch": ("hosts_per_rail_switch", int, "hosts per rail switch (rail)"),
    "--k": ("k", int, "fat-tree arity (even)"),
    "--sites": ("sites", int, "sites (multi-site, scale-up)"),
    "--borders": ("borders", int, "border switches per site (multi-site, scale-up)"),
    "--bw": ("bw", lambda s: _mbps(s, "--bw"), "link rate (Mb/s, or e.g. 1G) (fat-tree)"),
    "--downlink-bw": ("downlink_bw", lambda s: _mbps(s, "--downlink-bw"),
                      "host link rate (Mb/s, or e.g. 1G)"),
    "--uplink-bw": ("uplink_bw", lambda s: _mbps(s, "--uplink-bw"),
                    "leaf-spine link rate (Mb/s, or e.g. 1G)"),
    "--oversubscription": ("oversubscription", float, "downlink:uplink capacity ratio"),
    "--uplink-delay": ("delay_us", lambda s: _delay_us(s, "--uplink-delay"),
                       "one-way leaf-spine delay, e.g. 50us (leaf-spine)"),
    "--dci-bw": ("dci_bw", lambda s: _mbps(s, "--dci-bw"),
                 "inter-site link rate (Mb/s, or e.g. 1G) (multi-site)"),
    "--dci-delay": ("dci_delay_us", lambda s: _delay_us(s, "--dci-delay"),
                    "one-way inter-site delay, e.g. 10ms (multi-site)"),
    "--dci-km": ("dci_km", float, "inter-site fibre length in km: 5 us one way per km, instead "
                 "of --dci-delay (multi-site)"),
    "--dci-buffer": ("dci_buffer", lambda s: parse_size(s, "--dci-buffer"),
                     "border switches' DCI egress buffer in bytes, e.g. 4M (multi-site)"),
    "--queue": ("queue", int, "egress queue depth in packets on every link"),
}


def _mbps(text: str, flag: str) -> float:
    """A link rate in Mb/s (Mininet's `bw`): a bare number is Mb/s, '1G' or '500kbit' work too."""
    return parse_bitrate(text, flag, default_unit="mbit") / 1e6


def _delay_us(text: str, flag: str) -> int:
    return round(parse_time_ns(text, flag) / 1000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from fabriclab.net.p4node import DEFAULT_SWITCH_PROCS, SWITCH_PROCS  # Mininet: not at import

    parser.add_argument("topology", metavar="TOPOLOGY",
                        help=f"{', '.join(BUILDERS)}, or a topology JSON file")
    topo = parser.add_argument_group("topology options (each builder takes its own)")
    for flag, (dest, _, help_text) in TOPOLOGY_OPTIONS.items():
        metavar = "DELAY" if dest.endswith("_us") else "MBPS" if dest.endswith("bw") else "N"
        topo.add_argument(flag, dest=f"topo_{dest}", metavar=metavar, help=help_text)
    add_scaleup_arguments(topo)
    parser.add_argument("--save-topology", type=Path, metavar="FILE",
                        help="write the graph as JSON")
    parser.add_argument("--target", choices=("builtin", "bmv2"), default="builtin")
    parser.add_argument("--program", type=Path, metavar="P4",
                        help="P4 program (default: the shipped fabric.p4)")
    parser.add_argument("--cli", action="store_true", help="open the Mininet CLI")
    parser.add_argument("--pingall", action="store_true",
                        help="ping between all hosts; exit 1 on any loss")
    parser.add_argument("--pcap", type=Path, metavar="DIR", help="per-port pcaps into DIR")
    parser.add_argument("--run", metavar="NAME", type=paths.run_name, help=f"run name (logs in {paths.RUN_DIR}/NAME)")
    parser.add_argument("--grpc-base-port", type=int, default=9559,
                        help="first switch's P4Runtime port; switch i uses base+i (default 9559)")
    parser.add_argument("--cpu-port", type=int, default=255, help="switch CPU port (default 255)")
    parser.add_argument("--mtu", type=int, default=1500, help="host MTU (default 1500)")
    parser.add_argument("--priority-queues", type=int, default=8, metavar="N",
                        help="strict-priority queues per switch port (default 8: priorities "
                        "0..7, the highest served first)")
    parser.add_argument("--view", action="store_true",
                        help="also serve the live view (fabriclab view) and print its URL")
    parser.add_argument("--switch-args", default="", metavar="ARGS",
                        help="extra flags for every switch, e.g. \"--log-console\"")
    parser.add_argument("--switch-procs", choices=SWITCH_PROCS, metavar="LAYOUT",
                        help="how the built-in switches run: 'shared' = all of them in one "
                        "process on one event loop (a frame crosses several hops in one "
                        "wake-up), 'per-switch' = one process each (BMv2's only layout); "
                        f"default {DEFAULT_SWITCH_PROCS} for the built-in target. Each switch "
                        "keeps its P4Runtime port, admin socket and log either way")


DEFAULT_SCALEUP_MBPS = 1000.0  # --scaleup-size on leaf-spine, fat-tree, rail, multi-site


def add_scaleup_arguments(group: Any) -> None:
    """--scaleup-size and --scaleup-bw (`fabriclab net` and `fabriclab collective --sim`)."""
    group.add_argument("--scaleup-size", type=int, metavar="N",
                       help="scale-up domains of N hosts behind one high-rate switch (the domain "
                       "size G of scale-up; an extra NIC per host on the other topologies)")
    group.add_argument("--scaleup-bw", metavar="MBPS",
                       help=f"scale-up link rate (Mb/s, or e.g. 10G; default {DEFAULT_SCALEUP_MBPS:g}, "
                       "scale-up: 18x --downlink-bw)")


DCI_DESTS = ("dci_bw", "dci_delay_us", "dci_km", "dci_buffer")


def build_topology(args: argparse.Namespace) -> Topology:
    """The topology the options describe; a FabricError for anything that does not fit. A
    buildable but unusual one (a scale-up rate below the NIC's) prints one warning line."""
    given = {dest: (flag, conv, getattr(args, f"topo_{dest}"))
             for flag, (dest, conv, _) in TOPOLOGY_OPTIONS.items()
             if getattr(args, f"topo_{dest}") is not None}
    scaleup_bw = None if args.scaleup_bw is None else _mbps(args.scaleup_bw, "--scaleup-bw")
    if args.topology not in BUILDERS:
        path = Path(args.topology)
        if not path.is_file():
            raise FabricError(f"unknown topology {args.topology!r}: use one of "
                              f"{', '.join(BUILDERS)} or a JSON file")
        if given or args.scaleup_size or scaleup_bw:
            raise FabricError("topology options do not apply to a topology file")
        return Topology.from_json(path.read_text())
    builder = BUILDERS[args.topology]
    accepted = inspect.signature(builder).parameters
    kwargs: dict[str, Any] = {}
    for dest, (flag, conv, raw) in given.items():
        if dest not in accepted and not (dest in DCI_DESTS and "dci" in accepted):
            raise FabricError(f"{flag} does not apply to {args.topology}")
        try:
            kwargs[dest] = conv(raw)
        except ValueError:
            raise FabricError(f"{flag}: {raw!r} is not a number") from None
    _dci(kwargs, accepted["sites"].default if "sites" in accepted else 1)
    if builder is scale_up:
        if args.scaleup_size is not None:
            kwargs["scaleup_size"] = args.scaleup_size
        kwargs["scaleup_bw"] = scaleup_bw or 18 * kwargs.get("downlink_bw", 100.0)
    elif args.scaleup_size is not None:
        kwargs["scaleup"] = builders.ScaleUp(args.scaleup_size, scaleup_bw or DEFAULT_SCALEUP_MBPS)
    elif scaleup_bw is not None:
        raise FabricError("--scaleup-bw is the rate of --scaleup-size's domains: give --scaleup-size too")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", builders.ScaleUpWarning)
        topo = builder(**kwargs)
    for w in caught:
        print(f"fabriclab: warning: {w.message}", file=sys.stderr, flush=True)
    return topo


def _dci(kwargs: dict[str, Any], default_sites: int) -> None:
    """Fold --dci-bw/--dci-delay/--dci-km/--dci-buffer into one `builders.Dci`."""
    if not any(d in kwargs for d in DCI_DESTS):
        return
    if kwargs.get("sites", default_sites) < 2:
        raise FabricError("DCI options join sites: give --sites 2 or more")
    if "dci_km" in kwargs and "dci_delay_us" in kwargs:
        raise FabricError("give the DCI's --dci-km (fibre length) or --dci-delay, not both")
    kwargs["dci"] = builders.Dci.of(kwargs.pop("dci_bw", 100.0), kwargs.pop("dci_km", None),
                                    kwargs.pop("dci_delay_us", 10_000), kwargs.pop("dci_buffer", None))


def _hold() -> None:
    """Wait for Ctrl-C or SIGTERM (both end as KeyboardInterrupt, so tear-down runs)."""
    print("fabriclab net: Ctrl-C to stop", flush=True)
    threading.Event().wait()


def main(args: argparse.Namespace) -> int:
    topo = build_topology(args)
    if args.save_topology:
        args.save_topology.write_text(topo.to_json())
    from controller.route_installer import RouteInstaller
    from fabriclab.net.network import FabricNet, NetConfig

    config = NetConfig(target=args.target, program=args.program, grpc_base_port=args.grpc_base_port,
                       cpu_port=args.cpu_port, mtu=args.mtu,
                       priority_queues=args.priority_queues,
                       pcap_dir=args.pcap.resolve() if args.pcap else None,
                       switch_args=tuple(shlex.split(args.switch_args)),
                       switch_procs=args.switch_procs)
    if args.run:
        config.run = args.run
    if args.pcap:
        args.pcap.mkdir(parents=True, exist_ok=True)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # SIGHUP (a closed terminal, a lost SSH session) ends the net like SIGTERM; SIGINT is
    # re-armed because `fabriclab net &` from a script inherits it ignored
    previous = {sig: signal.signal(sig, interrupt)
                for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    net = FabricNet(topo, config, controller=RouteInstaller())
    view = None
    try:
        net.start()
        print(f"fabriclab net: up: {topo.name}: {len(topo.hosts())} hosts, "
              f"{len(topo.switches())} switches, run {config.run} "
              f"(logs in {net.rundir.path})", flush=True)
        print(switch_table(net), flush=True)
        for nic in net.addressing.nics.values():
            print(f"  {nic.host} {nic.intf} {nic.ip} -> {nic.switch} port {nic.switch_port}")
        if args.view:  # prints its own URL; read-only, and it carries the run marker (clean)
            view = subprocess.Popen([sys.executable, "-m", "fabriclab", "view", "--run",
                                     config.run, "--grpc-base-port", str(config.grpc_base_port)],
                                    preexec_fn=paths.die_with_parent)
        status = 0
        if args.pingall:
            loss = net.pingall()
            status = 1 if loss > 0 else 0
        if args.cli:
            from mininet.cli import CLI

            CLI(net.mininet)
        elif not args.pingall:
            _hold()
        return status
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # finish tearing down
        if view is not None:
            view.terminate()
            view.wait(10)
        started = net.owns_run
        net.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if started:
            print("fabriclab net: stopped", file=sys.stderr, flush=True)


def switch_table(net: Any) -> str:
    """Switch, P4Runtime device id, gRPC address and the neighbour behind each port: what a
    p4runtime-shell or `fabriclab ctl` user needs to address one switch."""
    topo, addresses = net.topo, net.grpc_addresses()
    rows = [("switch", "device id", "gRPC address", "ports (port:neighbour)")]
    for sw in topo.switches():
        ports = " ".join(f"{port}:{peer}" for port, peer, _, _ in topo.neighbors(sw.name))
        rows.append((sw.name, str(topo.switch_index(sw.name)), addresses[sw.name], ports))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3]
                     for r in rows)
