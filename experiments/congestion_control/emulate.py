"""One scheme of the congestion_control experiment on Mininet, in a trial process of its own:
bring the leaf-spine up (fabric.p4 on the built-in switch, jumbo frames), configure the
scheme (PFC per port over each switch's admin socket, ECN or the CC manager or INT to the
receiver over P4Runtime), run each case's flows with one agent per host, tear down.

While a case runs, this process samples the bottleneck port's queue (bytes, admin socket)
every `sample_ns` and reads the port's tx bytes, the fabric's PFC counters and its drops
at the warmup and end marks; the CC manager (scheme dcqcn_pfc_ccm) observes every
`ccm_period_ns`. A case's raw record has the shape of sim.run_case's. Run as
`python -m experiments.congestion_control.emulate PARAMS.json CASES.json OUT.jsonl` by
`experiments.trials` (gRPC clients and Mininet's forks live in a process of their own).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

from controller.congestion import CcManager, CcPolicy, read_pfc
from controller.fabric import FabricController
from controller.fabric_plan import Ecn, FabricConfig, Watch
from experiments.congestion_control.host import job_line
from experiments.congestion_control.params import Params, topology
from experiments.congestion_control.sim import headroom
from experiments.congestion_control.workload import DATA_PRIORITY, plan_flows, roles
from experiments.emulation import fabric_net, start_agents
from experiments.trials import Emit, trial_main
from fabriclab.errors import FabricError
from fabriclab.launch.lockstep import Lockstep
from fabriclab.net.network import FabricNet
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.switch import admin

AGENT = "experiments.congestion_control.host"


def configure(net: FabricNet, p: Params, scheme: str) -> tuple[FabricController, CcManager | None]:
    """The scheme's switch settings: byte limits on lossy queues, PFC on the data priority of
    every port, then ECN / CC manager / INT to the receiver over P4Runtime."""
    topo = net.topo
    for sw in topo.switches():
        sock = str(net.rundir.admin_socket(sw.name))
        for port, link in topo.ports(sw.name).items():
            admin.request(sock, ["set_queue_bytes", str(p.queue_bytes), str(port), str(DATA_PRIORITY)])
            if scheme != "none":
                params = link.ab if link.a == sw.name else link.ba
                room = headroom((params.bw or 0) * 1e6, params.delay_us * 1000, p.pmtu + 100)
                admin.request(sock, ["set_pfc", str(port), str(DATA_PRIORITY), str(p.pfc_xoff), str(p.pfc_xon),
                                     str(room)])
    ecn = Ecn(p.ecn_kmin, p.ecn_kmax, p.ecn_pmax) if scheme == "dcqcn_pfc" else None
    ctl = FabricController(topo, net.clients, FabricConfig())
    if ecn is not None:
        ctl.set_ecn(ecn)
    manager = None
    if scheme == "dcqcn_pfc_ccm":
        manager = CcManager(ctl, CcPolicy(mode="adaptive", rtt_ns=p.base_rtt_ns, frame_bytes=p.pmtu + 76,
                                          notify_dscp=0, notify_interval_us=p.cnp_interval_ns // 1000))
        manager.start()
    if scheme == "hpcc":
        ctl.set_watchlist([Watch(dport=ROCE_PORT, to_host=True)])
    return ctl, manager


class Sampler(threading.Thread):
    """The bottleneck queue every `sample_ns`, the marks at warmup and end, the CC manager's
    observations: from the case's start ("go" to the hosts, whose warm-up and end count from
    it too) until `done`."""

    def __init__(self, net: FabricNet, p: Params, port: int, manager: CcManager | None) -> None:
        super().__init__(daemon=True)
        self.net, self.p, self.port, self.manager = net, p, port, manager
        self.queue: list[tuple[int, int]] = []
        self.marks: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self.done = threading.Event()
        self.start_ns = 0

    def go(self) -> None:
        """Start the clock and the sampling as the hosts are told "go"."""
        self.start_ns = time.monotonic_ns()
        self.start()

    def _port_state(self) -> dict[str, Any]:
        return admin.request(str(self.net.rundir.admin_socket("l2")), ["show_queues", str(self.port)])[str(self.port)]

    def _pfc(self) -> dict[str, float]:
        out: dict[str, float] = {"pauses": 0, "paused_us": 0.0}
        for sw in self.net.topo.switches():
            for per_prio in read_pfc(self.net.rundir.admin_socket(sw.name)).values():
                for s in per_prio.values():
                    out["pauses"] += s["pauses_sent"]
                    out["paused_us"] += s["paused_us"]
                    key = f"paused_us_{sw.name}"
                    out[key] = out.get(key, 0.0) + s["paused_us"]
        return out

    def run(self) -> None:
        p = self.p
        due = {"start": p.warmup_us * 1000, "end": p.duration_us * 1000}
        next_ccm = p.ccm_period_ns
        try:
            while not self.done.is_set():
                t = time.monotonic_ns() - self.start_ns
                state = self._port_state()
                self.queue.append((t, sum(q["queued_bytes"] for q in state["queues"])))
                for name, at in due.items():
                    if name not in self.marks and t >= at:
                        self.marks[name] = {"t": t, "tx": state["tx_bytes"], "pfc": self._pfc(),
                                            "drops": _drops(self.net)}
                if self.manager is not None and t >= next_ccm:
                    self.manager.observe()
                    next_ccm += p.ccm_period_ns
                if "end" in self.marks:
                    return
                self.done.wait(max(0.0, (p.sample_ns - (time.monotonic_ns() - self.start_ns - t)) / 1e9))
        except FabricError as err:  # a switch went away: the case's record says so
            self.errors.append(str(err))


def run_case(net: FabricNet, agents: Lockstep, p: Params, case: dict[str, Any], manager: CcManager | None,
             progress: Callable[[str], None]) -> dict[str, Any]:
    started = time.monotonic()
    hosts = [h.name for h in net.topo.hosts()]
    flows = plan_flows(p, case["workload"], case["seed"])
    _, receiver, _, _ = roles(p)
    port = next(n for n, link in net.topo.ports("l2").items() if hosts[receiver] in (link.a, link.b))
    drops_before = _drops(net)
    timeout = p.duration_us / 1e6 + p.timeout_s
    sampler = Sampler(net, p, port, manager)
    pfc_before = sampler._pfc()  # the switches count from their start: earlier cases ran on them
    # the counters as the case starts: the start mark if the hosts finish before the warm-up's
    first = {"t": 0, "tx": sampler._port_state()["tx_bytes"], "pfc": dict(pfc_before), "drops": drops_before}
    try:
        results = agents.round([job_line(p, case["scheme"], case["seed"], flows, timeout)] * len(hosts),
                               timeout + 30, on_go=sampler.go)
    finally:
        sampler.done.set()
        if sampler.is_alive():
            sampler.join(10)
    if "end" not in sampler.marks:  # the hosts finished before the sampler's last mark
        sampler.marks.setdefault("start", first)
        state = sampler._port_state()
        sampler.marks["end"] = {"t": time.monotonic_ns() - sampler.start_ns, "tx": state["tx_bytes"],
                                "pfc": sampler._pfc(), "drops": _drops(net)}
    for mark in sampler.marks.values():
        mark["pfc"] = {k: v - pfc_before.get(k, 0) for k, v in mark["pfc"].items()}
    return {**case, "flows": [vars(f) for f in flows], "hosts": results, "queue": sampler.queue,
            "error": "; ".join(sampler.errors),
            "marks": sampler.marks, "link_bps": p.link_gbps * 1e9, "drops": _drops(net) - drops_before,
            "cc_decisions": len(manager.decisions) if manager else 0, "wall_s": time.monotonic() - started}


def _drops(net: FabricNet) -> int:
    total = 0
    for sw in net.topo.switches():
        ports = admin.request(str(net.rundir.admin_socket(sw.name)), ["show_queues"])
        total += sum(q["drops"] for state in ports.values() for q in state["queues"])
    return total


def run_trial(p: Params, cases: list[dict[str, Any]], run: str, emit: Callable[[dict], None],
              progress: Callable[[str], None] = print) -> None:
    """Bring up the network for the cases' scheme, run every case (emitting its record),
    always tear down."""
    schemes = {c["scheme"] for c in cases}
    if len(schemes) != 1:
        raise FabricError("a trial runs the cases of one scheme")
    with fabric_net(topology(p), run, p.target, p.grpc_base_port, mtu=p.mtu) as net:
        _, manager = configure(net, p, schemes.pop())
        with start_agents(net, AGENT, 60) as agents:
            for case in cases:
                record = run_case(net, agents, p, case, manager, progress)
                emit(record)
                progress(f"  done: {case['workload']} {case['scheme']} seed {case['seed']} "
                         f"({record['wall_s']:.0f} s)")


def _body(raw: dict, cases: list, emit: Emit, progress: Callable[[str], None]) -> None:
    run_trial(Params.from_dict(raw["params"]), cases, raw["run"], emit, progress)


def main(argv: list[str] | None = None) -> int:
    return trial_main("experiments.congestion_control.emulate", _body, argv)


if __name__ == "__main__":
    sys.exit(main())
