"""`python -m experiments.congestion_control.host --me I --peers IP[:PORT],...`: this
experiment's host agent (fabriclab's one agent protocol, `fabriclab.launch.agent.serve`).
Each round's job carries the parameters, the scheme and the case's flows; the host runs its
part with the same `FlowApp` the virtual-time runs use, over the UDP driver (which honours
PFC pauses on the host's interface and passes INT-to-the-receiver datagrams on)."""

from __future__ import annotations

import json
import sys

from experiments.congestion_control.params import Params
from experiments.congestion_control.workload import Flow, FlowApp, nic_config
from fabriclab.launch.agent import Peers, Workload, serve
from fabriclab.roce.nic import RoceNic


def job_line(p: Params, scheme: str, seed: int, flows: list[Flow], timeout: float) -> str:
    return json.dumps({"workload": "cc_flows", "timeout": timeout, "params": p.as_dict(), "scheme": scheme,
                       "seed": seed, "flows": [vars(f) for f in flows]})


def flows_app(job: dict, me: int, peers: Peers) -> tuple[RoceNic, FlowApp]:
    p = Params.from_dict(job["params"])
    nic = RoceNic(nic_config(p, job["scheme"], peers[me][0]))
    flows = [Flow(**f) for f in job["flows"]]
    return nic, FlowApp(nic, me, peers, flows, p.warmup_us * 1000, p.duration_us * 1000, p.pmtu,
                        sport_seed=job["seed"])


WORKLOADS: dict[str, Workload] = {"cc_flows": flows_app}


if __name__ == "__main__":
    sys.exit(serve(WORKLOADS, prog=f"python -m {__name__}"))
