"""One emulate-mode trial process: bring the leaf-spine up in Mininet, run the isolation
cases given (tenants and CC manager installed over P4Runtime as the case says), tear down.

Every host runs `experiments.isolation.host` (one agent per host, in lock-step): tenant A's
hosts a rank of the ring all-reduce, tenant B's the all-to-all for `noise_s` seconds (none
in `alone`), then `drain_s` more receiving and acknowledging what is still in flight, with
nothing new posted. B's throughput is what B's hosts received during A's run: from A's
first rank's start to its last rank's end (`time.monotonic_ns`, one clock for all the
hosts' network namespaces), out of B's (time, bytes received) samples. Per tenant: frames
lost = frames its NICs sent minus frames they received (ACKs included; all of a tenant's
traffic stays inside it) minus what its senders still had unacknowledged when they
reported, of which the meters' RED drops are read from `tenant_colors`; marks are the
CE-marked frames its NICs received. Run as
`python -m experiments.isolation.trial PARAMS.json CASES.json OUT.jsonl` by
`experiments.trials`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Callable

from controller.congestion import CcManager, CcPolicy
from controller.fabric import FabricController
from controller.fabric_plan import FabricConfig, Mode
from controller.tenants import TenantInstaller, effective_tenants, plan_tenants
from experiments.emulation import fabric_net, start_agents
from experiments.isolation.metrics import frames_lost, noise_over_window
from experiments.isolation.params import Params, topology
from experiments.trials import Emit, trial_main
from fabriclab.launch.agent import Stack
from fabriclab.launch.lockstep import Lockstep
from fabriclab.net.network import FabricNet
from fabriclab.roce.runs import RunOptions

AGENT = "experiments.isolation.host"
HEADERS = 76


def frame_s(p: Params) -> float:
    return (p.pmtu + HEADERS) * 8 / (p.link_mbps * 1e6)


def drain_s(p: Params) -> float:
    """How long B's hosts keep receiving after they stop posting: B's writes still posted
    (2 x 64 KiB per queue pair) take ~2-3 s at B's capped rate, and a lost frame an RTO."""
    return max(5.0, 10 * p.rto_us / 1e6)


def host_jobs(p: Params, case: str, names: list[str]) -> list[str]:
    """Each host's job line for one case (host order = `names`)."""
    a, b = p.tenant_hosts()
    rtt = 8 * frame_s(p)  # a frame's serialisation on each of 4 hops, both ways
    stack = Stack(RunOptions(iters=p.iters, warmup=1, line_rate=p.link_mbps * 1e6, pmtu=p.pmtu,
                             window=p.window, rto=p.rto_us / 1e6),
                  "dcqcn" if case == "meters_cc" else None, rtt)
    common = {"timeout": p.timeout_s, **stack.as_dict()}
    jobs = []
    for n in names:
        if n in a:
            jobs.append({"workload": "victim", "members": [names.index(h) for h in a],
                         "size": p.allreduce_bytes, **common})
        else:
            jobs.append({"workload": "noise", "members": [names.index(h) for h in b],
                         "message": p.noise_message, "duration": 0 if case == "alone" else p.noise_s,
                         "drain": 0 if case == "alone" else drain_s(p), **common})
    return [json.dumps(j) for j in jobs]


def run_case(agents: Lockstep, net: FabricNet, ctl: FabricController, p: Params, case: str,
             seed: int) -> dict[str, Any]:
    started = time.monotonic()
    topo = net.topo
    names = [h.name for h in topo.hosts()]
    a, b = p.tenant_hosts()
    installer = TenantInstaller(net.clients)
    plan = plan_tenants(topo, effective_tenants(topo))
    if case in ("meters", "meters_cc"):
        installer.install(plan)
    else:
        installer.clear()
    manager, stop = None, threading.Event()
    if case == "meters_cc":
        manager = CcManager(ctl, CcPolicy(mode="adaptive", rtt_ns=round(8 * frame_s(p) * 1e9),
                                          frame_bytes=p.pmtu + HEADERS))
        manager.start()

        def observe() -> None:
            while not stop.wait(p.cc_period_us / 1e6):
                manager.observe()

        watcher = threading.Thread(target=observe, daemon=True)
        watcher.start()
    red_before = {t: sum(installer.color_counts(sw, plan.ids[t])["red"][1] for sw in net.clients)
                  for t in ("A", "B")}
    try:
        results = agents.round(host_jobs(p, case, names), p.timeout_s + 30)
    finally:
        stop.set()
    by_host = dict(zip(names, results))
    red = {t: sum(installer.color_counts(sw, plan.ids[t])["red"][1] for sw in net.clients) - red_before[t]
           for t in ("A", "B")}
    ranks = [by_host[h] for h in a]
    noise = [by_host[h] for h in b]
    tenants = {"A": [by_host[h] for h in a], "B": noise if case != "alone" else []}

    def total(t: str, part: str, key: str) -> int:
        return sum(r.get(part, {}).get(key, 0) for r in tenants[t])

    lost = {t: frames_lost(total(t, "nic", "tx_packets"), total(t, "nic", "rx_packets"), red[t],
                           sum(r.get("unsettled", 0) for r in tenants[t])) for t in ("A", "B")}
    done = all(r.get("done") for r in ranks)
    error = next((r["error"] for r in results if r.get("error")), None)
    b_bytes, span_s = noise_over_window(ranks, tenants["B"])
    return {"case": case, "seed": seed, "done": done, "error": error or (None if done else "A did not finish"),
            "wrong": sum(r.get("wrong", 0) for r in ranks),
            "rank_times_s": [r.get("times", []) for r in ranks],
            "span_s": span_s, "b_bytes": b_bytes,
            "b_unsettled": sum(r.get("unsettled", 0) for r in tenants["B"]),
            "queue_drops": lost, "meter_drops": red,
            "marks": {t: total(t, "nic", "ce_marked") for t in ("A", "B")},
            "retransmissions": {t: total(t, "qp", "retransmissions") for t in ("A", "B")},
            "cc_decisions": len(manager.decisions) if manager else 0, "wall_s": time.monotonic() - started}


def run_trial(p: Params, cases: list[dict], run: str, emit: Callable[[dict], None],
              progress: Callable[[str], None] = print) -> None:
    """Bring up the network, run every case (emitting its record), always tear down."""
    topo = topology(p)
    with fabric_net(topo, run, p.target, p.grpc_base_port, mtu=p.mtu) as net:
        ctl = FabricController(topo, net.clients, FabricConfig(mode=Mode.parse(p.routing)))
        ctl.set_mode(p.routing)
        with start_agents(net, AGENT, p.timeout_s) as agents:
            for c in cases:
                started = time.monotonic()
                emit(run_case(agents, net, ctl, p, c["case"], c["seed"]))
                progress(f"  done: {c['case']} seed {c['seed']} ({time.monotonic() - started:.1f} s)")


def _body(raw: dict, cases: list, emit: Emit, progress: Callable[[str], None]) -> None:
    run_trial(Params.from_dict(raw["params"]), cases, raw["run"], emit, progress)


def main(argv: list[str] | None = None) -> int:
    return trial_main("experiments.isolation.trial", _body, argv)


if __name__ == "__main__":
    sys.exit(main())
