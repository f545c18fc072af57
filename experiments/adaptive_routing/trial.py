"""One trial process: bring the leaf-spine up, run a list of cases on it, tear it down.

A case is (routing mode, receiver, workload, seed). The routing mode is switched over
P4Runtime between cases and the receiver mode is a host setting, so one network serves a
whole batch. Each case yields a raw record: every host's JSON and the leaf ports' counter
deltas. Run as `python -m experiments.adaptive_routing.trial PARAMS.json CASES.json OUT.jsonl`
by `experiments.trials`, so gRPC clients and Mininet's forks live in a process of their own.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from typing import Callable

from controller.fabric import FabricController
from controller.fabric_plan import FabricConfig
from experiments.adaptive_routing.host import HostJob
from experiments.adaptive_routing.params import Params, topology
from experiments.adaptive_routing.workload import cross_leaf_permutation, interleaved_ring
from experiments.adaptive_routing.network import leaf_port_bytes, uplinks
from experiments.emulation import fabric_net, start_agents
from experiments.trials import Emit, trial_main
from fabriclab.launch.lockstep import Lockstep

AGENT = "experiments.adaptive_routing.host"


@dataclass(frozen=True)
class Case:
    routing: str
    receiver: str
    workload: str
    seed: int

    @property
    def label(self) -> str:
        return f"{self.workload} {self.routing}+{self.receiver} seed {self.seed}"


def host_jobs(p: Params, case: Case) -> list[str]:
    """Each host's job line for one case."""
    common = dict(seed=case.seed, line_rate=p.link_mbps * 1e6, pmtu=p.pmtu, window=p.window,
                  receiver=case.receiver, rto=p.rto_s, timeout=p.timeout_s)
    if case.workload == "allreduce":
        ring = interleaved_ring(p.leaves, p.hosts_per_leaf)
        job = HostJob("allreduce", p.allreduce_bytes, iters=p.allreduce_iters, ring=ring, **common).to_json()
        return [job] * p.hosts
    dst = cross_leaf_permutation(p.leaves, p.hosts_per_leaf)
    src = {d: i for i, d in enumerate(dst)}
    return [HostJob("permutation", p.flow_bytes, dst=dst[i], src=src[i], **common).to_json()
            for i in range(p.hosts)]


def run_case(agents: Lockstep, ctl: FabricController, p: Params, case: Case) -> dict:
    topo = ctl.topo
    ctl.set_mode(case.routing, p.flowlet_gap_us, p.load_max_age_us)
    before = leaf_port_bytes(ctl, topo)
    results = agents.round(host_jobs(p, case), p.timeout_s + 30)
    after = leaf_port_bytes(ctl, topo)
    tx = {leaf: {str(port): after[leaf][port] - before[leaf][port] for port in ports}
          for leaf, ports in after.items()}
    return {"case": vars(case), "hosts": results, "leaf_tx_bytes": tx,
            "uplinks": {leaf: {str(k): v for k, v in ports.items()} for leaf, ports in uplinks(topo).items()}}


def warm_up(agents: Lockstep, ctl: FabricController, p: Params, first: Case) -> None:
    """One short untimed permutation first: the switches' and agents' first packets pay
    for cold caches and lazy set-up, which should not count against the first case."""
    run_case(agents, ctl, replace(p, flow_bytes=min(p.flow_bytes, 32 << 10)),
             replace(first, workload="permutation"))


def run_trial(p: Params, cases: list[Case], run: str, emit: Callable[[dict], None],
              progress: Callable[[str], None] = print) -> None:
    """Bring up the network, run every case (emitting its record), always tear down."""
    topo = topology(p)
    with fabric_net(topo, run, p.target, p.grpc_base_port, mtu=p.mtu) as net:
        ctl = FabricController(topo, net.clients, FabricConfig())
        with start_agents(net, AGENT, p.timeout_s) as agents:
            warm_up(agents, ctl, p, cases[0])
            for case in cases:
                started = time.monotonic()
                emit(run_case(agents, ctl, p, case))
                progress(f"  done: {case.label} ({time.monotonic() - started:.1f} s)")


def _body(raw: dict, cases: list, emit: Emit, progress: Callable[[str], None]) -> None:
    run_trial(Params.from_dict(raw["params"]), [Case(**c) for c in cases], raw["run"], emit, progress)


def main(argv: list[str] | None = None) -> int:
    return trial_main("experiments.adaptive_routing.trial", _body, argv)


if __name__ == "__main__":
    sys.exit(main())
