"""Host agents in lock-step (real processes, no root): jobs, 'bound', 'go', results, and
clear errors when an agent dies or stalls; every process is reaped."""

from __future__ import annotations

import sys

import pytest

from experiments.adaptive_routing.params import Params
from experiments.adaptive_routing.trial import Case, host_jobs
from experiments.launcher import Agents
from fabriclab.errors import FabricError
from fabriclab.roce.placement import here

ECHO_AGENT = """
import json, sys
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    if job.get("die"):
        sys.exit(3)
    print("bound", flush=True)
    assert sys.stdin.readline().strip() == "go"
    print(json.dumps({"me": int(sys.argv[1]), "echo": job["x"]}), flush=True)
"""


def _agents(n: int, timeout: float = 20.0) -> Agents:
    return Agents([here] * n, [[sys.executable, "-c", ECHO_AGENT, str(i)] for i in range(n)], timeout)


def test_rounds_return_one_result_per_agent_in_order():
    with _agents(3) as agents:
        procs = list(agents.procs)
        for x in (1, 2):
            results = agents.round([f'{{"x": {x * 10 + i}}}' for i in range(3)], 20.0)
            assert results == [{"me": i, "echo": x * 10 + i} for i in range(3)]
    assert all(p.returncode is not None for p in procs)


def test_a_dying_agent_is_a_clear_error():
    with _agents(2) as agents:
        with pytest.raises(FabricError, match="agent 1"):
            agents.round(['{"x": 1}', '{"die": true}'], 20.0)


def test_an_agent_that_never_starts_times_out():
    with pytest.raises(FabricError, match="timed out"):
        Agents([here], [[sys.executable, "-c", "import time; time.sleep(30)"]], 0.5)


def test_job_count_must_match():
    with _agents(1) as agents, pytest.raises(FabricError):
        agents.round([], 5.0)


def test_host_jobs_cross_the_spine_with_the_case_settings():
    import json

    p = Params()
    perm = [json.loads(j) for j in host_jobs(p, Case("ecmp", "ooo", "permutation", 7))]
    assert [j["dst"] for j in perm] == [4, 5, 6, 7, 0, 1, 2, 3]
    assert all(j["receiver"] == "ooo" and j["seed"] == 7 and j["nbytes"] == p.flow_bytes for j in perm)
    ring = [json.loads(j) for j in host_jobs(p, Case("adaptive", "gbn", "allreduce", 2))]
    assert len(ring) == 8 and ring[0]["ring"] == [0, 4, 1, 5, 2, 6, 3, 7]
    assert ring[0]["line_rate"] == p.link_mbps * 1e6
