"""The adaptive-routing experiment's per-host job lines."""

import json

from experiments.adaptive_routing.params import Params
from experiments.adaptive_routing.trial import Case, host_jobs


def test_host_jobs_cross_the_spine_with_the_case_settings():
    p = Params()
    perm = [json.loads(j) for j in host_jobs(p, Case("ecmp", "ooo", "permutation", 7))]
    assert [j["dst"] for j in perm] == [4, 5, 6, 7, 0, 1, 2, 3]
    assert all(j["receiver"] == "ooo" and j["seed"] == 7 and j["nbytes"] == p.flow_bytes for j in perm)
    ring = [json.loads(j) for j in host_jobs(p, Case("adaptive", "gbn", "allreduce", 2))]
    assert len(ring) == 8 and ring[0]["ring"] == [0, 4, 1, 5, 2, 6, 3, 7]
    assert ring[0]["line_rate"] == p.link_mbps * 1e6
