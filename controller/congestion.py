"""The CC manager: congestion-control settings the controller owns, and why it chose them.

`CcManager(controller, policy)` runs on top of a `FabricController` (its P4Runtime clients,
its topology) and turns telemetry into per-port settings of fabric.p4:

- `start()`: ECN Kmin/Kmax/Pmax on every linked port from the port's link rate and the
  fabric's RTT (DCQCN's guideline, below), CNPs and ACKs in their priority queues (the
  controller's traffic classes), and, if the policy asks, INT to the receiver for RoCE
  traffic (HPCC) and switch-generated notification for a DSCP class.
- `observe(reports)`: reads queue depths (INT reports from the collector, which `ctl cc
  observe` reads from the run's collector CSV as it grows; the `port_qdepth` register
  over P4Runtime where the target serves it, not simple_switch_grpc) and, with the
  adaptive policy, retunes a port's thresholds when its queue leaves the band: deeper
  than `deep_factor` x Kmax -> halve them (mark earlier); below Kmin for `calm_rounds`
  observations -> double them back toward the rate-based setting.

Every change is a `Decision` with its reason; `log` receives one line per decision.
Telemetry from switches this controller does not know is counted and ignored.

DCQCN's guideline (Zhu et al., SIGCOMM 2015, and the vendors' RoCE tuning notes): Kmin
5 KB, Kmax 200 KB, Pmax 1% at 40 Gb/s. We scale the byte thresholds with the link rate,
keep Kmin at least two frames, and Kmax at least one bandwidth-delay product so marking
does not cost throughput; fabric.p4 compares them with a queue depth in packets, so they
are written in frames of `policy.frame_bytes`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, astuple, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from controller.client import Entry, P4RuntimeClient
from controller.fabric import EG, IG, FabricController, notify_sessions
from controller.fabric_plan import DSCP_CNP, Ecn, Watch
from controller.int_collector import RUN_CSV, IntReport, read_reports
from fabriclab.errors import FabricError
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.switch import admin

DCQCN_REF_RATE = 40e9  # bit/s at which the guideline values below hold
DCQCN_KMIN_BYTES = 5_000
DCQCN_KMAX_BYTES = 200_000
DCQCN_PMAX = 0.01
POLICIES = ("static", "adaptive")


@dataclass(frozen=True)
class CcPolicy:
    mode: str = "static"  # static | adaptive
    rtt_ns: int = 10_000  # the fabric's base round trip
    frame_bytes: int = 1100  # a full RoCE frame (payload MTU 1024 + headers)
    deep_factor: float = 2.0  # adaptive: a queue above this x Kmax tightens the port
    calm_rounds: int = 3  # adaptive: observations below Kmin before relaxing
    int_to_host: bool = False  # HPCC: INT to the receiver for RoCE traffic
    notify_dscp: int | None = None  # switch notification for this DSCP class
    notify_threshold: int = 8  # packets in the egress queue
    notify_interval_us: int = 50  # per flow

    def __post_init__(self) -> None:
        if self.mode not in POLICIES:
            raise FabricError(f"CC policy must be one of {', '.join(POLICIES)}, not {self.mode!r}")
        if self.rtt_ns <= 0 or self.frame_bytes <= 0 or self.deep_factor <= 1 or self.calm_rounds < 1:
            raise FabricError("CC policy needs RTT > 0, frame bytes > 0, deep factor > 1, calm rounds >= 1")
        if self.notify_dscp is not None and not 0 <= self.notify_dscp < 64:
            raise FabricError(f"DSCP {self.notify_dscp} out of range 0..63")


def dcqcn_ecn(rate_bps: float, rtt_ns: int, frame_bytes: int) -> Ecn:
    """DCQCN's thresholds for one port, in frames (see the module docstring)."""
    scale = rate_bps / DCQCN_REF_RATE
    kmin = max(2 * frame_bytes, DCQCN_KMIN_BYTES * scale)
    kmax = max(DCQCN_KMAX_BYTES * scale, rate_bps * rtt_ns / 8e9)
    kmin_f = math.ceil(kmin / frame_bytes)
    return Ecn(kmin_f, max(kmin_f + 1, math.ceil(kmax / frame_bytes)), DCQCN_PMAX)


@dataclass(frozen=True)
class Decision:
    switch: str
    port: int | None
    what: str  # ecn | priorities | int_to_host | notify
    setting: str
    reason: str

    def line(self) -> str:
        where = self.switch if self.port is None else f"{self.switch}:{self.port}"
        return f"cc {where} {self.what} {self.setting}: {self.reason}"


def _ecn_text(e: Ecn) -> str:
    return f"Kmin={e.kmin} Kmax={e.kmax} Pmax={e.pmax:g}"


@dataclass
class CcManager:
    controller: FabricController
    policy: CcPolicy = field(default_factory=CcPolicy)
    log: Callable[[str], None] | None = None
    decisions: list[Decision] = field(default_factory=list)
    unknown_telemetry: int = 0  # INT records from switch ids this fabric does not have
    base: dict[tuple[str, int], Ecn] = field(default_factory=dict)
    current: dict[tuple[str, int], Ecn] = field(default_factory=dict)
    _calm: dict[tuple[str, int], int] = field(default_factory=dict)
    _level: dict[tuple[str, int], int] = field(default_factory=dict)  # halvings below base

    def _decide(self, *args: object) -> Decision:
        d = Decision(*args)  # type: ignore[arg-type]
        self.decisions.append(d)
        if self.log:
            self.log(d.line())
        return d

    # --- start ----------------------------------------------------------------------------
    def start(self) -> list[Decision]:
        first = len(self.decisions)
        p, topo = self.policy, self.controller.topo
        for name, c in self.controller.clients.items():
            for port, link in topo.ports(name).items():
                rate = (link.ab if link.a == name else link.ba).bw
                if not rate:
                    continue
                ecn = self.base[(name, port)] = dcqcn_ecn(rate * 1e6, p.rtt_ns, p.frame_bytes)
                self._write_ecn(c, name, port, ecn,
                                f"link {rate:g} Mb/s, RTT {p.rtt_ns / 1000:g} us: DCQCN's 5 KB/200 KB/1% "
                                f"at 40 Gb/s scaled to the rate, Kmax >= one BDP")
        prio = {(d, o): q for d, o, q in self.controller.config.priorities}
        ok = prio.get((DSCP_CNP, None)) == 7 and prio.get((None, 0x81)) == 7 and prio.get((None, 0x11)) == 6
        self._decide("*", None, "priorities", "CNP->7 ACK->6",
                     "the controller's traffic classes already do this" if ok else
                     "NOT installed: the controller's traffic classes differ (check FabricConfig.priorities)")
        if p.int_to_host:
            watches = [w for w in self.controller.config.watchlist if not w.to_host]
            self.controller.set_watchlist([*watches, Watch(dport=ROCE_PORT, to_host=True)])
            self._decide("*", None, "int_to_host", f"UDP {ROCE_PORT}",
                         "HPCC senders need per-hop telemetry echoed by the receiver")
        if p.notify_dscp is not None:
            for name, c in self.controller.clients.items():
                self._write_notify(c, name)
        return self.decisions[first:]

    def _write_ecn(self, c: P4RuntimeClient, switch: str, port: int, ecn: Ecn, reason: str) -> None:
        entry = Entry(f"{EG}.ecn_config", {"standard_metadata.egress_port": port}, f"{EG}.ecn_thresholds",
                      {"kmin": ecn.kmin, "kmax": ecn.kmax, "slope": ecn.slope})
        c.upsert([c.table_entry(entry)])
        self.current[(switch, port)] = ecn
        self._decide(switch, port, "ecn", _ecn_text(ecn), reason)

    def _write_notify(self, c: P4RuntimeClient, switch: str) -> None:
        p = self.policy
        c.upsert([c.table_entry(Entry(f"{IG}.switch_notify", {"hdr.ipv4.dscp": p.notify_dscp},
                                        f"{IG}.notify_on", {"threshold": p.notify_threshold,
                                                            "interval_us": p.notify_interval_us,
                                                            "cnp_dscp": DSCP_CNP}))])
        c.upsert(notify_sessions(self.controller.topo.ports(switch)))
        self._decide(switch, None, "notify", f"DSCP {p.notify_dscp} at {p.notify_threshold} pkts, "
                     f"1 per {p.notify_interval_us} us per flow",
                     "DCQCN senders hear of congestion one hop away instead of one RTT")

    # --- telemetry ------------------------------------------------------------------------
    def observe(self, reports: Iterable[IntReport] = (), read_registers: bool = True) -> list[Decision]:
        """Take queue depths from INT reports and the switches' registers; the adaptive
        policy retunes ports whose queue left the band."""
        first = len(self.decisions)
        depths = self._depths(reports, read_registers)
        if self.policy.mode != "adaptive":
            return []
        for key, depth in sorted(depths.items()):
            if key in self.current:
                self._adapt(key, depth)
        return self.decisions[first:]

    def _depths(self, reports: Iterable[IntReport], read_registers: bool) -> dict[tuple[str, int], int]:
        names = {plan.switch_id: name for name, plan in self.controller.plans.items()}
        depths: dict[tuple[str, int], int] = {}
        for report in reports:
            for hop in report.hops:
                name = names.get(hop.switch_id)
                if name is None:
                    self.unknown_telemetry += 1
                    continue
                key = (name, hop.egress_port)
                depths[key] = max(depths.get(key, 0), hop.qdepth)
        if read_registers:
            for name, c in self.controller.clients.items():
                try:
                    cells = c.read_register("port_qdepth")
                except FabricError:  # simple_switch_grpc serves no registers: INT only
                    continue
                for port, data in cells.items():
                    value = int.from_bytes(data.bitstring, "big") if data.HasField("bitstring") else 0
                    key = (name, port)
                    if key in self.current:
                        depths[key] = max(depths.get(key, 0), value)
        return depths

    def _adapt(self, key: tuple[str, int], depth: int) -> None:
        cur, p = self.current[key], self.policy
        level = self._level.get(key, 0)
        if depth > p.deep_factor * cur.kmax and cur.kmax > 1:
            self._set_level(key, level + 1, f"queue {depth} pkts > {p.deep_factor:g} x Kmax {cur.kmax}: "
                                            "halve the thresholds to mark earlier")
        elif depth < cur.kmin or depth == 0:
            self._calm[key] = calm = self._calm.get(key, 0) + 1
            if calm >= p.calm_rounds and level > 0:
                self._set_level(key, level - 1, f"queue below Kmin for {calm} observations: "
                                                "back toward the rate-based setting")
        else:
            self._calm[key] = 0

    def _set_level(self, key: tuple[str, int], level: int, reason: str) -> None:
        """The base (rate-based) setting halved `level` times."""
        base = self.base[key]
        kmin = base.kmin >> level
        self._level[key], self._calm[key] = level, 0
        self._write_ecn(self.controller.clients[key[0]], *key,
                        Ecn(kmin, max(kmin + 1, base.kmax >> level), base.pmax), reason)



# --- PFC counters (`ctl stats`) ---------------------------------------------------------------

PFC_COLUMNS = (("xoff_tx", "pauses_sent"), ("xon_tx", "xons_sent"), ("xoff_rx", "pauses_received"),
               ("xon_rx", "xons_received"), ("pausing_us", "xoff_us"), ("paused_us", "paused_us"),
               ("peak_B", "peak_bytes"), ("hdrm_drops", "headroom_drops"))
PFC_LEGEND = """\
  PFC, per port and lossless priority (the switch's traffic manager, over its admin socket):
  xoff/xon_tx: pause/resume frames this port sent upstream; xoff/xon_rx: received from the
  neighbour; pausing_us: time we held the neighbour paused; paused_us: time this port's queue
  of that priority was held by the neighbour's pauses; peak_B: deepest ingress accounting;
  hdrm_drops: packets beyond XOFF + headroom (headroom too small for the link)"""


def read_pfc(admin_socket: Path) -> dict[int, dict[int, dict[str, Any]]]:
    """Per port and lossless priority, the PFC counters of the built-in switch listening on
    `admin_socket` ({} where there is none: BMv2, or no PFC configured)."""
    if not admin_socket.exists():
        return {}
    try:
        ports = admin.request(str(admin_socket), ["show_queues"])
    except FabricError:  # the switch is gone or is not ours: no PFC counters to show
        return {}
    return {int(port): {int(prio): s for prio, s in state["pfc"].items()}
            for port, state in ports.items() if state.get("pfc")}


def pfc_table(counters: dict[int, dict[int, dict[str, Any]]]) -> str:
    """The PFC section of `ctl stats` ('' when no port has a lossless priority)."""
    if not counters:
        return ""
    lines = [f"{'port':>4} {'prio':>4} " + " ".join(f"{name:>10}" for name, _ in PFC_COLUMNS)]
    for port, prios in sorted(counters.items()):
        for prio, s in sorted(prios.items()):
            lines.append(f"{port:>4} {prio:>4} " + " ".join(f"{s[key]:>10.0f}" for _, key in PFC_COLUMNS))
    return "\n".join([*lines, PFC_LEGEND])


# --- `ctl cc`: the manager across invocations on a running fabric -------------------------------

CC_STATE = "cc-state.json"  # the policy and every port's setting, kept between ctl runs
CC_LOG = "cc-decisions.log"  # every decision with its time and reason, appended


def save_manager(mgr: CcManager, rundir: Path) -> None:
    def ports(d: dict[tuple[str, int], Any], value: Callable[[Any], Any]) -> list[list[Any]]:
        return [[s, p, value(v)] for (s, p), v in sorted(d.items())]

    (rundir / CC_STATE).write_text(json.dumps({
        "policy": asdict(mgr.policy), "unknown_telemetry": mgr.unknown_telemetry,
        "base": ports(mgr.base, astuple), "current": ports(mgr.current, astuple),
        "level": ports(mgr._level, int), "calm": ports(mgr._calm, int)}, indent=1))


def load_manager(ctl: FabricController, rundir: Path, log: Callable[[str], None] | None) -> CcManager:
    """The manager `ctl cc start` left on this run."""
    try:
        state = json.loads((rundir / CC_STATE).read_text())
        policy = CcPolicy(**state["policy"])
        mgr = CcManager(ctl, policy, log, unknown_telemetry=int(state["unknown_telemetry"]))
        mgr.base = {(s, int(p)): Ecn(*v) for s, p, v in state["base"]}
        mgr.current = {(s, int(p)): Ecn(*v) for s, p, v in state["current"]}
        mgr._level = {(s, int(p)): int(v) for s, p, v in state["level"]}
        mgr._calm = {(s, int(p)): int(v) for s, p, v in state["calm"]}
    except FileNotFoundError:
        raise FabricError("no CC manager on this run: start one with `fabriclab ctl cc start`") from None
    except (ValueError, KeyError, TypeError):
        raise FabricError(f"{rundir / CC_STATE} is corrupt; delete it and run `ctl cc start` again") from None
    return mgr


def decision_log(rundir: Path, out: Callable[[str], None]) -> Callable[[str], None]:
    """Print a decision and append it, with its UTC time, to the run's decision log."""
    def log(line: str) -> None:
        out(line)
        with (rundir / CC_LOG).open("a") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + line + "\n")
    return log


def cc_policy(args: Any) -> CcPolicy:
    """`ctl cc start`'s options as a policy (CcPolicy checks them)."""
    return CcPolicy(mode=args.policy, rtt_ns=round(args.rtt_us * 1000), frame_bytes=args.frame_bytes,
                    int_to_host=args.int_to_host, notify_dscp=args.notify,
                    notify_threshold=args.notify_threshold, notify_interval_us=args.notify_interval_us)


def cc_command(ctl: FabricController, rundir: Path, args: Any, out: Callable[[str], None] = print,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """`fabriclab ctl cc start|observe|policy|status` (controller/cli.py parses the arguments)."""
    log = decision_log(rundir, out)
    if args.cc_action == "start":
        mgr = CcManager(ctl, cc_policy(args), log)
        mgr.start()
        save_manager(mgr, rundir)
        out(f"CC manager started ({mgr.policy.mode}): {len(mgr.decisions)} decisions, "
            f"log in {rundir / CC_LOG}")
    elif args.cc_action == "observe":
        if args.every is not None and args.every <= 0:
            raise FabricError(f"--every {args.every:g}: give a period in seconds > 0")
        if args.every is None:
            rounds: int | None = 1
        else:  # until --for runs out, or Ctrl-C
            rounds = max(1, math.ceil(args.duration / args.every)) if args.duration else None
        done, mode, heard = 0, "?", 0
        int_csv = args.int_csv or rundir / RUN_CSV
        since, offset = time.time() - (args.every or 1.0), 0  # older reports are stale
        try:
            while rounds is None or done < rounds:
                if done:
                    sleep(args.every)
                reports, offset = fresh_reports(int_csv, offset, since)
                mgr = load_manager(ctl, rundir, log)  # `ctl cc policy` may have changed it meanwhile
                mgr.observe(reports)
                save_manager(mgr, rundir)
                done, mode, heard = done + 1, mgr.policy.mode, heard + len(reports)
        except KeyboardInterrupt:
            pass
        out(f"{done} observation(s); policy {mode}"
            + (f"; {heard} INT report(s) from {int_csv}" if int_csv.is_file() else ""))
    elif args.cc_action == "policy":
        mgr = load_manager(ctl, rundir, log)
        old = mgr.policy.mode
        mgr.policy = replace(mgr.policy, mode=args.mode)
        mgr._decide("*", None, "policy", args.mode, f"set by `ctl cc policy` (was {old})")
        save_manager(mgr, rundir)
    elif args.cc_action == "status":
        out(cc_status(load_manager(ctl, rundir, None), rundir, args.last))


def fresh_reports(path: Path, offset: int, since: float) -> tuple[list[IntReport], int]:
    """The reports an INT collector (`python -m controller.int_collector --csv PATH`) wrote
    past byte `offset` and received at or after `since` (time.time()), and the offset to
    read on from; none while there is no such file. A shorter file is a new collector's."""
    try:
        if path.stat().st_size < offset:
            offset = 0
        got, offset = read_reports(path, offset)
    except FileNotFoundError:
        return [], 0
    except OSError as err:
        raise FabricError(f"cannot read the INT CSV {path}: {err.strerror}") from None
    return [r for t, r in got if t >= since], offset


def cc_status(mgr: CcManager, rundir: Path, last: int) -> str:
    """The policy, each port's thresholds against its rate-based base, the last decisions."""
    p = mgr.policy
    notify = "off" if p.notify_dscp is None else \
        f"DSCP {p.notify_dscp} at {p.notify_threshold} pkts, 1 per {p.notify_interval_us} us per flow"
    lines = [f"policy {p.mode}; RTT {p.rtt_ns / 1000:g} us; frame {p.frame_bytes} B; "
             f"INT to host {'on' if p.int_to_host else 'off'}; notification {notify}; "
             f"telemetry from unknown switches: {mgr.unknown_telemetry}",
             f"{'switch':>8} {'port':>4} {'Kmin':>6} {'Kmax':>6} {'Pmax':>6} {'halved':>6}   base Kmin/Kmax"]
    for (switch, port), e in sorted(mgr.current.items()):
        base = mgr.base[(switch, port)]
        lines.append(f"{switch:>8} {port:>4} {e.kmin:>6} {e.kmax:>6} {e.pmax:>6g} "
                     f"{mgr._level.get((switch, port), 0):>6}   {base.kmin}/{base.kmax}")
    try:
        logged = (rundir / CC_LOG).read_text().splitlines()
    except FileNotFoundError:
        logged = []
    lines.append(f"last {min(last, len(logged))} of {len(logged)} decisions ({rundir / CC_LOG}):")
    lines += [f"  {line}" for line in logged[-last:]] if last > 0 else []
    return "\n".join(lines)
