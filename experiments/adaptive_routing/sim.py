"""The adaptive-routing cases in virtual time (`--mode sim`): no root, no processes.

As in an emulated trial, one `fabriclab.vtime.Fabric` of the leaf-spine (fabric.p4 on every
switch, programmed by the unchanged FabricController through in-process P4Runtime) serves
the cases of one routing mode in order; each case runs the same host apps the emulated
agents run (`host.make_app`: permutation flow or ring all-reduce rank, source ports
reseeded per case seed) and yields the same raw record: every host's JSON, the leaves'
port counter deltas (read over P4Runtime) and the uplink map. Everything is a function of
the parameters and the case list, so the same command gives byte-identical CSVs.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from controller.fabric_plan import FabricConfig, Mode
from experiments.adaptive_routing.host import HostJob, make_app
from experiments.adaptive_routing.network import leaf_port_bytes, uplinks
from experiments.adaptive_routing.params import Params, topology
from experiments.adaptive_routing.trial import Case, host_jobs
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.runs import run_apps


def new_fabric(p: Params, routing: str) -> Fabric:
    """The leaf-spine in virtual time, programmed for `routing` (links are unimpaired, so
    the fabric's own seed draws nothing: the case seeds pick the source ports)."""
    config = FabricConfig(mode=Mode.parse(routing), flowlet_gap_us=p.flowlet_gap_us,
                          load_max_age_us=p.load_max_age_us)
    return Fabric(topology(p), FabricOptions(queue_bytes=p.queue_bytes, config=config))


def run_case(fabric: Fabric, p: Params, case: Case,
             progress: Callable[[str], None] | None = None) -> tuple[dict[str, Any], dict[str, float]]:
    """(the case's raw record, what it cost: wall s, simulated ms, packets, events/s)."""
    started = time.monotonic()
    topo, ctl, loop = fabric.topo, fabric.controller, fabric.loop
    ctl.set_mode(case.routing, p.flowlet_gap_us, p.load_max_age_us)
    names = [h.name for h in topo.hosts()]
    peers = [(fabric.endpoint(n).ip, ROCE_PORT) for n in names]
    jobs = [HostJob(**json.loads(line)) for line in host_jobs(p, case)]
    apps = {name: make_app(job, i, peers) for i, (name, job) in enumerate(zip(names, jobs))}
    before = leaf_port_bytes(ctl, topo)
    t0, packets, events = loop.now, loop.packets, loop.events
    run_apps(fabric, apps, round(p.timeout_s * 1e9),
             (lambda report: progress(f"    {report}")) if progress else None)
    sim_ns = loop.now - t0
    for name in names:  # let the last frames land on no NIC before counting
        fabric.endpoint(name).attach(None)
    fabric.run()
    after = leaf_port_bytes(ctl, topo)
    hosts = []
    for i, (nic, app) in enumerate(apps.values()):
        summary = app.summary()
        if not app.done:
            summary["error"] = summary.get("error") or f"host {i}: timed out after {p.timeout_s} simulated s"
        hosts.append(summary)
    tx = {leaf: {str(port): after[leaf][port] - before[leaf][port] for port in ports}
          for leaf, ports in after.items()}
    record = {"case": vars(case), "hosts": hosts, "leaf_tx_bytes": tx,
              "uplinks": {leaf: {str(k): v for k, v in ports.items()}
                          for leaf, ports in uplinks(topo).items()}}
    wall = time.monotonic() - started
    cost = {"wall_s": wall, "sim_ms": sim_ns / 1e6, "packets": loop.packets - packets,
            "events_per_s": (loop.events - events) / wall if wall else 0.0}
    return record, cost


def run_cases(p: Params, cases: list[Case],
              progress: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run `cases` in order on one fabric per routing mode (building a fabric compiles a
    pipeline per switch, which costs more than a small case)."""
    records = []
    fabrics: dict[str, Fabric] = {}
    for case in cases:
        fabric = fabrics.get(case.routing) or fabrics.setdefault(case.routing, new_fabric(p, case.routing))
        record, cost = run_case(fabric, p, case, progress)
        records.append(record)
        progress(f"  done: {case.label} ({cost['wall_s']:.1f} s wall, {cost['sim_ms']:.3f} "
                 f"simulated ms, {cost['packets']} packets, {cost['events_per_s']:,.0f} events/s)")
    return records
