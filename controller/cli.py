"""`fabriclab ctl ...`: change routing mode, ECN and INT on the switches of a running
`fabriclab net` (found by its run name), fail/restore links, read per-port statistics.

    fabriclab ctl mode adaptive
    fabriclab ctl --switches l1,l2 mode flowlet --flowlet-gap-us 20000
    fabriclab ctl mode ecmp --dscp 48        (a traffic class keeps its own mode)
    fabriclab ctl ecn --kmin 5 --kmax 40 --pmax 0.2      (or: ecn --off)
    fabriclab ctl int --watch 10.0.1.1:10.0.2.1:4791 --collector h1   (or: int --off)
    fabriclab ctl link-down l1 3 ; fabriclab ctl link-up l1 3
    fabriclab ctl watch-links            (regroup on port up/down events until Ctrl-C)
    fabriclab ctl stats l1
    fabriclab ctl routes [u1]             (every route the switches hold, next hops named)
    fabriclab ctl agg create --ranks h1,h2,h3,h4 [--job 1] [--pool 64]; agg list; agg delete 1
    fabriclab ctl tenant add A --hosts h1,h2 --guaranteed 10 --cap 20 [--queue 1]; tenant list
    fabriclab ctl cc start --policy adaptive --rtt-us 20; cc observe --every 1; cc policy static; cc status
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from controller.fabric import FabricController
from controller.fabric_plan import Ecn, FabricConfig, Mode, Watch
from controller.int_collector import RUN_CSV, read_reports
from controller.link_failure import controller_handler
from fabriclab.errors import FabricError
from fabriclab.paths import RunDir, live_runs, run_name
from topologies.graph import Topology

ELECTION_ID = 10  # above fabriclab net's own clients (1): ctl becomes primary while it runs
DEFAULT_GRPC_BASE_PORT = 9559
STATE_FILE = "ctl-state.json"  # down links and routing modes, kept across ctl invocations
TENANTS_FILE = "tenants.json"  # the tenants `ctl tenant` installed (names live only here)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="NAME", type=run_name,
                        help="the fabriclab net run (default: the only running one)")
    parser.add_argument("--grpc-base-port", type=int,
                        help="first switch's P4Runtime port (default: the one the run "
                        f"was started with, else {DEFAULT_GRPC_BASE_PORT})")
    parser.add_argument("--switches", metavar="S1,S2", help="only these switches")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    mode = sub.add_parser("mode", help="routing mode: ecmp, flowlet or adaptive")
    mode.add_argument("mode", choices=[m.name.lower() for m in Mode])
    mode.add_argument("--flowlet-gap-us", type=int)
    mode.add_argument("--load-max-age-us", type=int)
    mode.add_argument("--dscp", type=int, help="set the mode of this traffic class only")
    mode.add_argument("--clear-classes", action="store_true",
                      help="drop every per-class mode first")
    ecn = sub.add_parser("ecn", help="ECN marking thresholds (queue depth in packets)")
    ecn.add_argument("--kmin", type=int)
    ecn.add_argument("--kmax", type=int)
    ecn.add_argument("--pmax", type=float, default=1.0)
    ecn.add_argument("--off", action="store_true", help="stop marking")
    int_ = sub.add_parser("int", help="INT watchlist and collector")
    int_.add_argument("--watch", action="append", default=[], metavar="SRC:DST[:DPORT]",
                      help="trace UDP flows from SRC to DST ('*' = any); repeatable")
    int_.add_argument("--collector", metavar="HOST", help="host receiving the reports")
    int_.add_argument("--off", action="store_true", help="empty the watchlist")
    for name in ("link-down", "link-up"):
        link = sub.add_parser(name, help=f"mark a link {name[5:]} and regroup")
        link.add_argument("switch")
        link.add_argument("port", type=int)
    watch = sub.add_parser("watch-links", help="follow the switches' port-status events and regroup")
    watch.add_argument("--duration", type=float, help="stop after this many seconds")
    stats = sub.add_parser("stats", help="per-port counters of one switch")
    stats.add_argument("switch")
    stats.add_argument("--rate", type=float, metavar="SECONDS",
                       help="read twice, SECONDS apart, and print the deltas per second")
    routes = sub.add_parser("routes", help="the IPv4 routes the switches hold (prefix -> ports/group)")
    routes.add_argument("switch", nargs="?", help="only this switch")
    agg = sub.add_parser("agg", help="in-network aggregation jobs (docs/aggregation.md)")
    agg_sub = agg.add_subparsers(dest="agg_action", metavar="create|list|delete", required=True)
    create = agg_sub.add_parser("create", help="install a job over these hosts (rank order)")
    create.add_argument("--ranks", required=True, metavar="H1,H2,...")
    create.add_argument("--job", type=int, metavar="ID", help="job id (default: the smallest free)")
    create.add_argument("--pool", type=int, default=64, metavar="N", help="slots per switch (64)")
    agg_sub.add_parser("list", help="the jobs the switches hold")
    delete = agg_sub.add_parser("delete", help="remove a job from its switches")
    delete.add_argument("job", type=int, metavar="ID")
    tenant = sub.add_parser("tenant", help="tenants: meters and queues per host set (docs/tenants.md)")
    tenant_sub = tenant.add_subparsers(dest="tenant_action", metavar="add|list|set|delete",
                                       required=True)
    for name in ("add", "set"):
        t = tenant_sub.add_parser(name, help=f"{name} a tenant and reinstall all of them")
        t.add_argument("name")
        t.add_argument("--hosts", required=name == "add", metavar="H1,H2")
        t.add_argument("--guaranteed", type=float, required=name == "add", metavar="GBPS",
                       help="guaranteed share, Gb/s (meter CIR)")
        t.add_argument("--cap", type=float, required=name == "add", metavar="GBPS",
                       help="cap, Gb/s (meter PIR: above it packets are dropped)")
        t.add_argument("--queue", type=int, default=None if name == "set" else 1,
                       help="priority queue of its data (0..7)")
    tenant_sub.add_parser("list", help="the tenants and their colour counts per switch")
    tenant_del = tenant_sub.add_parser("delete", help="remove a tenant")
    tenant_del.add_argument("name")
    cc = sub.add_parser("cc", help="the congestion-control manager (docs/congestion.md)")
    cc_sub = cc.add_subparsers(dest="cc_action", metavar="start|observe|policy|status", required=True)
    cc_start = cc_sub.add_parser("start", help="ECN per port from rates and RTT, INT to host, notification")
    cc_start.add_argument("--policy", choices=("static", "adaptive"), default="static")
    cc_start.add_argument("--rtt-us", type=float, default=10.0, help="the fabric's base RTT, us (10)")
    cc_start.add_argument("--frame-bytes", type=int, default=1100, help="a full RoCE frame (1100)")
    cc_start.add_argument("--int-to-host", action="store_true", help="INT to the receiver for RoCE (HPCC)")
    cc_start.add_argument("--notify", type=int, metavar="DSCP", help="switch notification for this class")
    cc_start.add_argument("--notify-threshold", type=int, default=8, metavar="PKTS")
    cc_start.add_argument("--notify-interval-us", type=int, default=50, metavar="US")
    cc_obs = cc_sub.add_parser("observe", help="read queue depths; the adaptive policy retunes ports")
    cc_obs.add_argument("--every", type=float, metavar="S", help="repeat every S seconds (until Ctrl-C)")
    cc_obs.add_argument("--for", dest="duration", type=float, metavar="S", help="stop after S seconds")
    cc_obs.add_argument("--int-csv", type=Path, metavar="FILE",
                        help="an INT collector's CSV to take queue depths from as it grows "
                             "(default: int.csv in the run directory, if there is one)")
    cc_policy = cc_sub.add_parser("policy", help="switch the running manager's policy")
    cc_policy.add_argument("mode", choices=("static", "adaptive"))
    cc_status = cc_sub.add_parser("status", help="policy, per-port thresholds, the last decisions")
    cc_status.add_argument("--last", type=int, default=10, metavar="N", help="decisions to show (10)")
    fail = sub.add_parser("fail", help="fail a link (veths down) or a switch (process killed)")
    fail_sub = fail.add_subparsers(dest="fail_what", metavar="link|switch", required=True)
    fail_link = fail_sub.add_parser("link", help="take the link between A and B down")
    fail_link.add_argument("a")
    fail_link.add_argument("b")
    fail_switch = fail_sub.add_parser("switch", help="kill a switch's process, its links go dark")
    fail_switch.add_argument("switch")
    for f in (fail_link, fail_switch):
        f.add_argument("--at", type=float, default=0.0, metavar="S", help="after S seconds")
        f.add_argument("--for", dest="for_s", type=float, metavar="S",
                       help="restore after S seconds (default: stay down)")


def parse_watch(text: str) -> Watch:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise FabricError(f"--watch {text!r}: expected SRC:DST or SRC:DST:DPORT")
    src, dst = (None if p in ("*", "") else p for p in parts[:2])
    dport = None
    if len(parts) == 3 and parts[2] not in ("*", ""):
        if not parts[2].isdigit():
            raise FabricError(f"--watch {text!r}: UDP port {parts[2]!r} is not a number")
        dport = int(parts[2])
    return Watch(src, dst, dport)


def find_run(run: str | None) -> Path:
    """The run directory of a running `fabriclab net` (one whose processes are alive)."""
    live = live_runs()
    if run is None:
        runs = sorted(r for r in live if (RunDir(r).path / "topology.json").is_file())
        if len(runs) != 1:
            found = ", ".join(runs) or "none"
            raise FabricError(f"say which run with --run (running networks: {found})")
        run = runs[0]
    path = RunDir(run).path
    if run not in live or not (path / "topology.json").is_file():
        raise FabricError(f"no running network {run!r} (start one with `fabriclab net ... --run {run}`)")
    wait_until_installed(RunDir(run))
    return path


START_WAIT_S = 300.0  # a fabric of a few dozen switches installs in well under a minute


def wait_until_installed(rundir: RunDir, timeout_s: float = START_WAIT_S) -> None:
    """Wait while `fabriclab net` is still programming its switches: ctl's higher election
    id would take primary from it mid-install and make the net's bring-up fail."""
    if not rundir.starting:
        return
    print(f"fabriclab: waiting for net {rundir.run} to finish programming its switches",
          file=sys.stderr, flush=True)
    end = time.monotonic() + timeout_s
    while rundir.starting:
        if rundir.run not in live_runs():
            raise FabricError(f"network {rundir.run!r} stopped while it was starting")
        if time.monotonic() > end:
            raise FabricError(f"network {rundir.run!r} is still starting after {timeout_s:.0f} s")
        time.sleep(0.2)


def grpc_base_port(rundir: Path, given: int | None) -> int:
    """--grpc-base-port if given, else the port `fabriclab net` recorded for this run."""
    if given is not None:
        return given
    recorded = RunDir(rundir.name).recorded_grpc_base_port()
    return DEFAULT_GRPC_BASE_PORT if recorded is None else recorded


def connect(rundir: Path, base_port: int) -> FabricController:
    topo = Topology.from_json((rundir / "topology.json").read_text())
    config, down = _load_state(rundir)
    index = {sw.name: topo.switch_index(sw.name) for sw in topo.switches()}
    ctl = FabricController.connect(
        topo, {name: f"127.0.0.1:{base_port + i}" for name, i in index.items()}, config,
        device_ids=index, election_id=ELECTION_ID, timeout=5.0)
    if down:
        ctl.down = down
        ctl.regroup()  # plans now reflect the links ctl already took down
    return ctl


def _load_state(rundir: Path) -> tuple[FabricConfig, set[tuple[str, int]]]:
    """The routing-mode settings and down links earlier ctl commands left."""
    config = FabricConfig()
    try:
        state = json.loads((rundir / STATE_FILE).read_text())
        down = {(s, int(p)) for s, p in state.get("down", [])}
        config.mode = Mode(state.get("mode", Mode.ECMP))
        config.flowlet_gap_us = int(state.get("flowlet_gap_us", config.flowlet_gap_us))
        config.load_max_age_us = int(state.get("load_max_age_us", config.load_max_age_us))
        config.class_modes = {int(d): Mode(m) for d, m in state.get("class_modes", {}).items()}
    except FileNotFoundError:
        return config, set()
    except (ValueError, KeyError, TypeError, AttributeError):
        raise FabricError(f"{rundir / STATE_FILE} is corrupt; delete it") from None
    return config, down


STATS_LEGEND = """\
  rx/tx: frames and bytes in and out of the port (fabric.p4's port_rx/port_tx counters)
  drops: frames fabric.p4's ingress dropped on arrival at the port; why: the same drops by
         reason: not_ipv4 (the hosts' IPv6 neighbour discovery, so an idle fabric counts a
         few), arp (ARP replies), ttl (TTL expired), malformed (a parser or checksum error),
         no_route, no_path (no next hop, or every path down), tenant (a tenant's meter said
         red); queue overflows are not here:
         `fabriclab switch-cli --socket RUNDIR/SWITCH.sock show_queues`
  ecn: packets marked CE on the way out; maxq: deepest egress queue seen (packets)"""

# fabric.p4's DROP_* (p4src/fabric/ingress.p4), in index order: cell port * 8 + reason
DROP_REASONS = ("other", "malformed", "arp", "not_ipv4", "ttl", "no_route", "no_path", "tenant")


def drop_reasons(ctl: FabricController, switch: str) -> dict[int, dict[str, int]] | None:
    """Per port, the drops of each reason; None when the switch's program has no
    `drop_reasons` counter (basic.p4, an older fabric.p4)."""
    client = getattr(ctl, "clients", {}).get(switch)
    if client is None:
        return None
    try:
        cells = client.read_counter("FabricIngress.drop_reasons")
    except FabricError:
        return None
    out: dict[int, dict[str, int]] = {}
    for index, (_, packets) in cells.items():
        port, reason = divmod(index, len(DROP_REASONS))
        if packets:
            out.setdefault(port, {})[DROP_REASONS[reason]] = packets
    return out


def _why(reasons: dict[str, float]) -> str:
    return " ".join(f"{r}:{n:.0f}" if n == int(n) else f"{r}:{n:.2g}"
                    for r, n in sorted(reasons.items(), key=lambda rn: -rn[1]) if n) or "-"


def dci_from_int(ctl: FabricController, switch: str, path: Path) -> str | None:
    """`ctl stats` on a border: feed the run's INT collector CSV to `measure_dci`, since a
    fresh process has heard no report itself; the line to print under the table (None:
    not a border, or no CSV). An unreadable CSV is said, not raised: the counters stand."""
    if not ctl.plans[switch].dci_ports or not path.is_file():
        return None
    try:
        reports, _ = read_reports(path)
    except (FabricError, OSError) as err:
        return f"  measured: {err}"
    ctl.measure_dci(report for _, report in reports)
    return f"  measured from {len(reports)} INT report(s) in {path}"


def port_stats_table(ctl: FabricController, switch: str, rate_s: float | None) -> str:
    """`ctl stats`: the counters with what each means; with a rate period, per-second deltas."""
    if rate_s is not None and rate_s <= 0:
        raise FabricError(f"--rate: expected a period in seconds > 0, got {rate_s:g}")
    first, why = ctl.port_stats(switch), drop_reasons(ctl, switch)
    unit = ""
    if rate_s is not None:
        time.sleep(rate_s)
        later, why_later = ctl.port_stats(switch), drop_reasons(ctl, switch)
        first = {p: replace(s, **{f: (getattr(s, f) - getattr(first[p], f)) / rate_s
                                  for f in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
                                            "drops", "ecn_marks")})
                 for p, s in later.items()}
        if why is not None and why_later is not None:
            why = {p: {r: (n - why.get(p, {}).get(r, 0)) / rate_s for r, n in rs.items()}
                   for p, rs in why_later.items()}
        unit = "/s"
    lines = [f"{'port':>4} {'rx_pkts' + unit:>10} {'rx_bytes' + unit:>12} "
             f"{'tx_pkts' + unit:>10} {'tx_bytes' + unit:>12} {'drops' + unit:>8} "
             f"{'ecn' + unit:>8} {'maxq':>6}" + ("" if why is None else f"  why{unit}")]
    for port, s in first.items():
        maxq = "-" if s.max_qdepth is None else s.max_qdepth
        lines.append(f"{port:>4} {s.rx_packets:>10.0f} {s.rx_bytes:>12.0f} {s.tx_packets:>10.0f} "
                     f"{s.tx_bytes:>12.0f} {s.drops:>8.0f} {s.ecn_marks:>8.0f} {maxq:>6}"
                     + ("" if why is None else f"  {_why(why.get(port, {}))}"))
    return "\n".join([*lines, STATS_LEGEND])


def _save_state(rundir: Path, ctl: FabricController) -> None:
    c = ctl.config
    (rundir / STATE_FILE).write_text(json.dumps({
        "down": sorted(ctl.down), "mode": int(c.mode), "flowlet_gap_us": c.flowlet_gap_us,
        "load_max_age_us": c.load_max_age_us,
        "class_modes": {str(d): int(m) for d, m in c.class_modes.items()},
        # by name, for readers below the controller (`collective --run` says the fabric's mode)
        "routing": {"mode": c.mode.name.lower(),
                    "classes": {str(d): m.name.lower() for d, m in c.class_modes.items()}}}))


def set_mode(ctl: FabricController, args: argparse.Namespace,
             switches: list[str] | None) -> str:
    """`ctl mode`: the switch-wide mode, or one traffic class's with --dscp."""
    mode = Mode.parse(args.mode)
    if args.clear_classes:
        ctl.config.class_modes = {}
    if args.dscp is not None:
        ctl.config.class_modes[args.dscp] = mode
        ctl.set_mode(ctl.config.mode, args.flowlet_gap_us, args.load_max_age_us, switches)
        return f"DSCP {args.dscp}: mode {mode.name.lower()}"
    ctl.set_mode(mode, args.flowlet_gap_us, args.load_max_age_us, switches)
    return f"mode {mode.name.lower()}"


def watch_links(rundir: Path, ctl: FabricController, duration: float | None) -> None:
    """Follow the switches' port-status events (their P4Runtime streams: ctl is primary
    while it runs); mark the ports dead, regroup and remember, on every transition."""
    from controller.link_failure import PortStatusFollower, switch_ports

    handle = controller_handler(ctl)

    def on_event(event) -> None:
        handle(event)
        _save_state(rundir, ctl)
        print(f"{event.switch}:{event.port} {'up' if event.up else 'down'}: regrouped", flush=True)

    print(f"watching {len(switch_ports(ctl.topo))} switch ports (Ctrl-C to stop)", flush=True)
    with PortStatusFollower(ctl.clients, switch_ports(ctl.topo), on_event) as follower:
        try:
            follower.wait(duration)
        except KeyboardInterrupt:
            pass
    for err in follower.errors:
        print(f"error: {err}", file=sys.stderr)


def aggregation(ctl: FabricController, args: argparse.Namespace) -> None:
    """`ctl agg create|list|delete`: every call reads the jobs back from the switches."""
    from controller.aggregation import (create_installed, describe_installed, read_installed,
                                        remove_installed)

    if args.agg_action == "create":
        ranks = [h for h in args.ranks.split(",") if h]
        job = create_installed(ctl.clients, ctl.topo, ranks, args.job, args.pool)
        print(f"installed {job.describe()}; ranks send to {job.service_ip} UDP 9200")
    elif args.agg_action == "list":
        print("\n".join(describe_installed(read_installed(ctl.clients))) or "no aggregation jobs")
    else:
        print(f"job {args.job} removed from {', '.join(remove_installed(ctl.clients, args.job))}")


def tenants(ctl: FabricController, rundir: Path, args: argparse.Namespace) -> None:
    """`ctl tenant add|set|delete|list`: the run keeps the list, every change reinstalls it
    together with the tenants the topology declares (those cannot be changed here)."""
    from dataclasses import replace

    from controller.tenants import (TenantInstaller, Tenant, describe, effective_tenants,
                                    load_tenants, plan_tenants, save_tenants)

    path = rundir / TENANTS_FILE
    current = {t.name: t for t in load_tenants(path)}
    action = args.tenant_action
    if action == "list":
        every = effective_tenants(ctl.topo, current.values())
        plan = plan_tenants(ctl.topo, every)
        inst = TenantInstaller(ctl.clients)
        for line, t in zip(describe(every), every):
            counts = {sw: inst.color_counts(sw, plan.ids[t.name]) for sw in ctl.clients}
            pkts = {c: sum(v[c][1] for v in counts.values()) for c in ("green", "yellow", "red")}
            where = " (topology)" if t.name in ctl.topo.tenants else ""
            print(f"{line}{where}; packets green {pkts['green']} yellow {pkts['yellow']} red {pkts['red']}")
        if not every:
            print("no tenants")
        return
    if args.name in ctl.topo.tenants:
        raise FabricError(f"tenant {args.name!r} is declared in the topology; change it there")
    if action in ("set", "delete") and args.name not in current:
        raise FabricError(f"no tenant {args.name!r} (tenants: {', '.join(current) or 'none'})")
    if action == "add" and args.name in current:
        raise FabricError(f"tenant {args.name!r} exists; change it with `ctl tenant set`")
    if action == "delete":
        del current[args.name]
    else:
        old = current.get(args.name, Tenant(args.name, (), 0.0, 0.0))
        hosts = tuple(h for h in args.hosts.split(",") if h) if args.hosts else old.hosts
        current[args.name] = replace(
            old, hosts=hosts,
            guaranteed_bps=old.guaranteed_bps if args.guaranteed is None else args.guaranteed * 1e9,
            cap_bps=old.cap_bps if args.cap is None else args.cap * 1e9,
            queue=old.queue if args.queue is None else args.queue)
    every = effective_tenants(ctl.topo, current.values())  # bad input stops here, nothing written
    TenantInstaller(ctl.clients).install(plan_tenants(ctl.topo, every))
    save_tenants(path, current.values())
    print(f"tenant {args.name} {action}{'d' if action.endswith('e') else 'ed'}; "
          f"{len(every)} tenant(s) installed on {', '.join(ctl.clients)}")


def main(args: argparse.Namespace) -> int:
    rundir = find_run(args.run)
    switches = args.switches.split(",") if args.switches else None
    watches = [parse_watch(w) for w in getattr(args, "watch", [])]
    if args.action == "mode" and args.dscp is not None and not 0 <= args.dscp <= 63:
        raise FabricError(f"--dscp {args.dscp}: DSCP is 0..63")
    ecn = None
    if args.action == "ecn" and not args.off:
        if args.kmin is None or args.kmax is None:
            raise FabricError("ecn needs --kmin and --kmax (or --off)")
        ecn = Ecn(args.kmin, args.kmax, args.pmax)
    with connect(rundir, grpc_base_port(rundir, args.grpc_base_port)) as ctl:
        if args.action == "mode":
            done = set_mode(ctl, args, switches)
            _save_state(rundir, ctl)
            print(f"{done} on {', '.join(switches or ctl.clients)}")
        elif args.action == "ecn":
            ctl.set_ecn(ecn, switches)
            print("ECN off" if ecn is None else
                  f"ECN Kmin={ecn.kmin} Kmax={ecn.kmax} Pmax={ecn.pmax}")
        elif args.action == "int":
            ctl.set_watchlist([] if args.off else watches, args.collector)
            print(f"INT watchlist: {len(ctl.config.watchlist)} entries")
        elif args.action in ("link-down", "link-up"):
            changed = (ctl.link_down if args.action == "link-down" else ctl.link_up)(
                args.switch, args.port)
            _save_state(rundir, ctl)
            print(f"regrouped: {', '.join(changed) or 'nothing changed'}")
        elif args.action == "watch-links":
            watch_links(rundir, ctl, args.duration)
        elif args.action == "agg":
            aggregation(ctl, args)
        elif args.action == "tenant":
            tenants(ctl, rundir, args)
        elif args.action == "fail":
            from controller.failures import (apply_on_mininet, plan_link_failure,
                                             plan_switch_failure, run_failure,
                                             stop_switch_on_mininet)
            if args.fail_what == "link":
                failure = plan_link_failure(ctl.topo, args.a, args.b, args.at, args.for_s)
                driver = apply_on_mininet(rundir.name)
            else:
                failure = plan_switch_failure(ctl.topo, args.switch, args.at, args.for_s)
                if failure.for_s is not None:
                    raise FabricError(f"fail switch {args.switch}: --for: a killed switch does "
                                      "not come back on Mininet (fail its links with --for)")
                driver = stop_switch_on_mininet(rundir.name, args.switch)
            run_failure(failure, driver)
            print(f"{failure.what}: {len(failure.ports)} port(s) "
                  f"{'down' if failure.for_s is None else 'down and back up'}")
        elif args.action == "routes":
            from controller.routes_cli import print_routes

            print_routes(ctl.topo, ctl.clients, args.switch)
        elif args.action == "stats":
            print(port_stats_table(ctl, args.switch, args.rate))
            heard = dci_from_int(ctl, args.switch, rundir / RUN_CSV)
            print(ctl.border(args.switch))
            if heard:
                print(heard)
            from controller.congestion import pfc_table, read_pfc
            pfc = pfc_table(read_pfc(RunDir(rundir.name).admin_socket(args.switch)))
            if pfc:
                print(pfc)
        elif args.action == "cc":
            from controller.congestion import cc_command
            cc_command(ctl, rundir, args)
    return 0
