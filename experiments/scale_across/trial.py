"""One emulate trial: bring up one DCI distance's sites on Mininet, run its cases, tear down.

A trial is one distance: `params.topology(p, km)` (the DCI links delayed by netem, 5 us per
km) with fabric.p4 on the built-in switches, the controller's border role written (DCI ECN
and near-source notification thresholds from the topology), one host agent per rank
(`fabriclab.launch.agent`, started once and given one job per case); the borders'
near-source notifications are read over P4Runtime around each case. Run as
`python -m experiments.scale_across.trial PARAMS.json CASES.json OUT.jsonl` by
`experiments.trials`, so gRPC clients and Mininet's forks live in a process of their own.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

from controller.fabric import FabricController
from controller.fabric_plan import BorderPolicy, FabricConfig
from experiments.emulation import fabric_net, start_agents, warm_up
from experiments.scale_across.params import Params, rank_hosts, spec_for, stack_for, topology
from experiments.trials import Emit, trial_main
from fabriclab.launch.agent import collective_job

AGENT = "fabriclab.launch.agent"
START_TIMEOUT_S = 120


def run_trial(p: Params, km: float, cases: list[dict], run: str, emit: Callable[[dict], None],
              progress: Callable[[str], None] = print) -> None:
    """Bring up the sites, run every case (emitting its record), always tear down."""
    topo = topology(p, km)
    with fabric_net(topo, run, p.target, p.grpc_base_port) as net:
        ctl = FabricController(topo, net.clients, FabricConfig(border=BorderPolicy(frame_bytes=p.pmtu + 100)))
        ctl.apply_config()
        hosts = rank_hosts(p, topo)
        with start_agents(net, AGENT, START_TIMEOUT_S, hosts, "rank") as ranks:
            warm_up(ranks, len(hosts), stack_for(p, "adaptive"), p.timeout_s)
            for case in cases:
                started, cnps = time.monotonic(), ctl.border_notifications()
                job = collective_job(spec_for(p, case["kind"], case["scheme"]), stack_for(p, case["scheme"]),
                                     p.timeout_s)
                results = ranks.round([job] * len(hosts), p.timeout_s + 30)
                wall = time.monotonic() - started
                emit({"case": case, "ranks": results, "wall_s": wall,
                      "border_cnps": ctl.border_notifications() - cnps})
                progress(f"  done: {km:g} km {case['kind']} {case['scheme']} seed {case['seed']} ({wall:.1f} s)")


def _body(raw: dict, cases: list, emit: Emit, progress: Callable[[str], None]) -> None:
    run_trial(Params.from_dict(raw["params"]), raw["params"]["km"], cases, raw["run"], emit, progress)


def main(argv: list[str] | None = None) -> int:
    return trial_main("experiments.scale_across.trial", _body, argv)


if __name__ == "__main__":
    sys.exit(main())
