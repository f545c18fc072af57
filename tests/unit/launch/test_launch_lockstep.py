"""Workers in lock-step (real processes, no root): jobs, 'bound', 'go', results, and clear
errors when a worker dies or stalls; every process is reaped."""

from __future__ import annotations

import sys
import time

import pytest

from fabriclab.errors import FabricError
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import here

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


def _agents(n: int, timeout: float = 20.0) -> Lockstep:
    return Lockstep([here] * n, [[sys.executable, "-c", ECHO_AGENT, str(i)] for i in range(n)], timeout, what="agent")


def test_rounds_return_one_result_per_agent_in_order():
    with _agents(3) as agents:
        procs = list(agents.procs)
        for x in (1, 2):
            results = agents.round([f'{{"x": {x * 10 + i}}}' for i in range(3)], 20.0)
            assert results == [{"me": i, "echo": x * 10 + i} for i in range(3)]
    assert all(p.returncode is not None for p in procs)


TIMED_AGENT = """
import json, sys, time
print("ready", flush=True)
sys.stdin.readline()
bound = time.monotonic_ns()
print("bound", flush=True)
assert sys.stdin.readline().strip() == "go"
print(json.dumps({"bound": bound, "go": time.monotonic_ns()}), flush=True)
"""


def test_on_go_runs_once_between_every_bound_and_go():
    """A launcher's sampler starts on the workers' clock: after all are bound, before any goes."""
    calls: list[int] = []
    with Lockstep([here] * 2, [[sys.executable, "-c", TIMED_AGENT]] * 2, 20.0) as agents:
        results = agents.round(["{}", "{}"], 20.0, on_go=lambda: calls.append(time.monotonic_ns()))
    assert len(calls) == 1
    assert max(r["bound"] for r in results) < calls[0] < min(r["go"] for r in results)


def test_a_dying_agent_is_a_clear_error():
    with _agents(2) as agents:
        with pytest.raises(FabricError, match="agent 1"):
            agents.round(['{"x": 1}', '{"die": true}'], 20.0)


def test_an_agent_that_never_starts_times_out():
    with pytest.raises(FabricError, match="timed out"):
        Lockstep([here], [[sys.executable, "-c", "import time; time.sleep(30)"]], 0.5)


def test_job_count_must_match():
    with _agents(1) as agents, pytest.raises(FabricError):
        agents.round([], 5.0)


RANK = """
import json, sys
print("ready", flush=True)
"""


def test_a_worker_that_fails_to_start_names_itself_and_its_error():
    argvs = [[sys.executable, "-c", RANK, "0"], [sys.executable, "-c", "import sys; sys.exit('no socket')"]]
    with pytest.raises(FabricError, match="rank 1: expected 'ready', got: no socket"):
        Lockstep([here] * 2, argvs, 20.0, "rank")
