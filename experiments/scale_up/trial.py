"""One emulate trial: bring up one domain size's fabric on Mininet, run its cases, tear down.

A trial is one domain size G: `params.topology(p, G)` with fabric.p4 on the built-in
switches, one host agent per accelerator (`fabriclab.launch.agent`, started once and given
one job per case), every case a collective round: flat (every peer over the scale-out NIC)
or hierarchical (the domain's peers over the scale-up NIC, `ScaleUpJob`). The bytes the
switches sent toward hosts are read from fabric.p4's port counters over P4Runtime around
each case, so the share that stayed inside domains is measured as in sim. Run as
`python -m experiments.scale_up.trial PARAMS.json CASES.json OUT.jsonl` by
`experiments.trials`, so gRPC clients and Mininet's forks live in a process of their own.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

from controller.fabric import FabricController
from controller.fabric_plan import FabricConfig
from experiments.emulation import fabric_net, start_agents, warm_up
from experiments.scale_up.params import Params, topology
from experiments.trials import Emit, trial_main
from fabriclab.launch.agent import ScaleUpJob, Stack, collective_job
from fabriclab.launch.domains import scaleup_port
from fabriclab.net.network import FabricNet
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.runs import RunOptions
from topologies.graph import NodeKind, Topology

AGENT = "fabriclab.launch.agent"
START_TIMEOUT_S = 120  # 16 agents starting Python on a busy machine


def host_tx_bytes(ctl: FabricController, topo: Topology) -> dict[str, int]:
    """Per switch: bytes its ports toward hosts have sent (fabric.p4's port_tx counter)."""
    out = {}
    for sw in topo.switches():
        hosts = {port for port, peer, _, _ in topo.neighbors(sw.name) if not topo.nodes[peer].is_switch}
        out[sw.name] = sum(st.tx_bytes for port, st in ctl.port_stats(sw.name).items() if port in hosts)
    return out


def scaleup_job(topo: Topology, net: FabricNet, hosts: list[str]) -> ScaleUpJob | None:
    """Each accelerator's scale-up NIC address and rate (None on a fabric without domains)."""
    ups = [scaleup_port(topo, h) for h in hosts]
    if not all(ups):
        return None
    return ScaleUpJob([(str(net.addressing.ip(h, u[0])), ROCE_PORT) for h, u in zip(hosts, ups)],
                      [u[2] * 1e6 for u in ups])


def run_trial(p: Params, domain: int, cases: list[dict], run: str, emit: Callable[[dict], None],
              progress: Callable[[str], None] = print) -> None:
    """Bring up G's fabric, run every case (emitting its record), always tear down."""
    topo = topology(p, domain)
    stack = Stack(RunOptions(iters=p.iters, warmup=p.warmup, line_rate=p.nic_mbps * 1e6, pmtu=p.pmtu,
                             window=p.window, rto=p.rto_s))
    with fabric_net(topo, run, p.target, p.grpc_base_port) as net:
        ctl = FabricController(topo, net.clients, FabricConfig())
        hosts = [h.name for h in topo.hosts()][:p.accelerators]
        up = scaleup_job(topo, net, hosts)
        with start_agents(net, AGENT, START_TIMEOUT_S, hosts, "rank") as ranks:
            warm_up(ranks, len(hosts), stack, p.timeout_s)
            for case in cases:
                started = time.monotonic()
                hier = case["scheme"] == "hier"
                spec = CollectiveSpec(case["kind"], len(hosts), p.nbytes, algo="hier" if hier else "ring",
                                      local=domain)
                before = host_tx_bytes(ctl, topo)
                results = ranks.round([collective_job(spec, stack, p.timeout_s, up if hier else None)]
                                      * len(hosts), p.timeout_s + 30)
                after = host_tx_bytes(ctl, topo)
                delivered = {sw: after[sw] - before[sw] for sw in after}
                inside = sum(v for sw, v in delivered.items() if topo.nodes[sw].kind is NodeKind.SCALEUP)
                total = sum(delivered.values())
                wall = time.monotonic() - started
                emit({"case": case, "ranks": results, "intra_domain_bytes": inside, "host_bytes": total,
                      "intra_share": inside / total if total else 0.0, "wall_s": wall, "sim_ms": None,
                      "packets": None})
                progress(f"  done: G={domain} {case['kind']} {case['scheme']} seed {case['seed']} ({wall:.1f} s)")


def _body(raw: dict, cases: list, emit: Emit, progress: Callable[[str], None]) -> None:
    run_trial(Params.from_dict(raw["params"]), raw["params"]["domain"], cases, raw["run"], emit, progress)


def main(argv: list[str] | None = None) -> int:
    return trial_main("experiments.scale_up.trial", _body, argv)


if __name__ == "__main__":
    sys.exit(main())
