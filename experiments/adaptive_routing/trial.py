"""One trial process: bring the leaf-spine up, run a list of cases on it, tear it down.

A case is (routing mode, receiver, workload, seed). The routing mode is switched over
P4Runtime between cases and the receiver mode is a host setting, so one network serves a
whole batch. Each case yields a raw record: every host's JSON and the leaf ports' counter
deltas. Run as `python -m experiments.adaptive_routing.trial PARAMS.json CASES.json OUT.jsonl`
by `experiments.trials`, so gRPC clients and Mininet's forks live in a process of their own.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from finsy.proto import p4r

from controller.fabric import FABRIC_P4, FabricController
from controller.fabric_plan import FabricConfig
from experiments.adaptive_routing.host import HostJob
from experiments.adaptive_routing.params import Params, topology
from experiments.adaptive_routing.workload import cross_leaf_permutation, interleaved_ring
from experiments.launcher import Agents
from fabriclab.errors import FabricError
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.placement import in_pid_netns
from topologies.addressing import Addressing
from topologies.graph import NodeKind, Topology


@dataclass(frozen=True)
class Case:
    routing: str
    receiver: str
    workload: str
    seed: int

    @property
    def label(self) -> str:
        return f"{self.workload} {self.routing}+{self.receiver} seed {self.seed}"


def leaf_port_bytes(ctl: FabricController, topo: Topology) -> dict[str, dict[int, int]]:
    """tx bytes of every leaf port (uplinks and host ports)."""
    return {leaf.name: {port: s.tx_bytes for port, s in ctl.port_stats(leaf.name).items()}
            for leaf in topo.switches() if leaf.kind is NodeKind.LEAF}


def uplinks(topo: Topology) -> dict[str, dict[int, str]]:
    """leaf -> {port: spine} for every leaf-to-spine port."""
    return {leaf.name: {port: peer for port, peer, _, _ in topo.neighbors(leaf.name)
                        if topo.nodes[peer].kind is NodeKind.SPINE}
            for leaf in topo.switches() if leaf.kind is NodeKind.LEAF}


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


def run_case(agents: Agents, ctl: FabricController, p: Params, case: Case) -> dict:
    topo = ctl.topo
    ctl.set_mode(case.routing, p.flowlet_gap_us, p.load_max_age_us)
    before = leaf_port_bytes(ctl, topo)
    results = agents.round(host_jobs(p, case), p.timeout_s + 30)
    after = leaf_port_bytes(ctl, topo)
    tx = {leaf: {str(port): after[leaf][port] - before[leaf][port] for port in ports}
          for leaf, ports in after.items()}
    return {"case": vars(case), "hosts": results, "leaf_tx_bytes": tx,
            "uplinks": {leaf: {str(k): v for k, v in ports.items()} for leaf, ports in uplinks(topo).items()}}


def warm_up(agents: Agents, ctl: FabricController, p: Params, first: Case) -> None:
    """One short untimed permutation first: the switches' and agents' first packets pay
    for cold caches and lazy set-up, which should not count against the first case."""
    run_case(agents, ctl, replace(p, flow_bytes=min(p.flow_bytes, 32 << 10)),
             replace(first, workload="permutation"))


def start_agents(net: FabricNet, timeout: float) -> Agents:
    """One agent per host, entered with nsenter: a plain fork+exec, never Mininet's popen
    (whose pre-exec Python code crashes next to gRPC's threads)."""
    names = [h.name for h in net.topo.hosts()]
    addressing = Addressing(net.topo)
    peers = ",".join(f"{addressing.ip(n)}:{ROCE_PORT}" for n in names)
    argv = [sys.executable, "-m", "experiments.adaptive_routing.host", "--peers", peers]
    return Agents([in_pid_netns(net.host(n).pid) for n in names],
                  [[*argv, "--me", str(i)] for i in range(len(names))], timeout)


def enable_jumbo_frames(net: FabricNet, mtu: int) -> None:
    """Adapter for jumbo frames, which fabriclab.net does not fully set up: NetConfig.mtu
    sets only the host ends of the veths (a veth drops frames above its receiving end's
    MTU), and the hosts' tbf shapers get a 3000-byte burst (tbf drops any larger frame)."""
    for name in net.veth_names():
        _run(["ip", "link", "set", "dev", name, "mtu", str(mtu)])
    for node in net.topo.hosts():
        for port, _, _, link in net.topo.neighbors(node.name):
            bw = link.params_from(node.name).bw
            if bw is not None:
                out = net.host(node.name).cmd(
                    f"tc qdisc replace dev eth{port} root tbf rate {bw:g}mbit burst {2 * mtu} "
                    f"latency 50ms 2>&1; echo rc=$?")
                if not out.strip().endswith("rc=0"):
                    raise FabricError(f"{node.name}: cannot reshape eth{port}: {out.strip()}")


def single_traffic_class(ctl: FabricController) -> None:
    """Adapter: the controller's default traffic classes put ACKs and CNPs in priorities 6
    and 7, but `fabriclab net` starts switches with one queue per port, and a priority
    without a queue is dropped (BMv2 semantics). Every packet shares queue 0 instead."""
    table = "FabricIngress.traffic_class"
    for client in ctl.clients.values():
        old = [p4r.Entity(table_entry=e) for e in client.read_table(table) if not e.is_default_action]
        client.write(old, "DELETE")


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise FabricError(f"`{' '.join(cmd)}` failed: {done.stderr.strip()}")


def run_trial(p: Params, cases: list[Case], run: str, emit: Callable[[dict], None],
              progress: Callable[[str], None] = print) -> None:
    """Bring up the network, run every case (emitting its record), always tear down."""
    topo = topology(p)
    net = FabricNet(topo, NetConfig(target=p.target, program=FABRIC_P4, run=run,
                                    grpc_base_port=p.grpc_base_port, mtu=p.mtu))
    with net:
        enable_jumbo_frames(net, p.mtu)
        ctl = FabricController(topo, net.clients, FabricConfig())
        single_traffic_class(ctl)
        with start_agents(net, p.timeout_s) as agents:
            warm_up(agents, ctl, p, cases[0])
            for case in cases:
                emit(run_case(agents, ctl, p, case))
                progress(f"  done: {case.label}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m experiments.adaptive_routing.trial PARAMS.json CASES.json OUT.jsonl",
              file=sys.stderr)
        return 2
    params_path, cases_path, out_path = map(Path, args)
    signal.signal(signal.SIGTERM, _interrupt)  # tear the network down on SIGTERM too
    try:
        raw = json.loads(params_path.read_text())
        p = Params.from_dict(raw["params"])
        cases = [Case(**c) for c in json.loads(cases_path.read_text())]
        with out_path.open("a") as out:
            def emit(record: dict) -> None:
                out.write(json.dumps(record) + "\n")
                out.flush()
            run_trial(p, cases, raw["run"], emit, lambda s: print(s, flush=True))
    except FabricError as err:
        print(f"trial: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trial: error: interrupted", file=sys.stderr)
        return 130
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
