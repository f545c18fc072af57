"""The one host agent (real processes and UDP on 127.0.0.1, no root): a collective through
`collective.launch`, a program's own workload through `serve`, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fabriclab.launch.agent import agent_argv, collective_job
from fabriclab.launch.collective import launch
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import here
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions, summarize

LO = [("127.0.0.1", 24801), ("127.0.0.1", 24802)]
OPTS = RunOptions(iters=2, warmup=0, line_rate=200e6)


def test_a_collective_runs_in_two_agents_and_checks_its_data():
    spec = CollectiveSpec("allreduce", 2, 64 << 10)
    results = launch([here, here], LO, spec, OPTS, timeout=60)
    assert [r["rank"] for r in results] == [0, 1]
    assert all(r["done"] and r["error"] is None and r["wrong"] == 0 for r in results)
    assert summarize(spec, results).wrong == 0


def test_one_agent_serves_many_rounds_and_a_programs_own_workload():
    """What experiments do: `serve` with their workloads, several jobs per agent."""
    program = ("import sys; from fabriclab.launch.agent import serve, collective; "
               "sys.exit(serve({'mine': collective}, prog='mine'))")
    argvs = [[sys.executable, "-c", program, *agent_argv("x", i, LO)[3:]] for i in range(2)]
    spec = CollectiveSpec("allgather", 2, 16 << 10)
    job = json.loads(collective_job(spec, OPTS, 60))
    job["workload"] = "mine"
    with Lockstep([here, here], argvs, 60, what="agent") as agents:
        for _ in range(2):
            results = agents.round([json.dumps(job)] * 2, 60)
            assert all(r["done"] and r["wrong"] == 0 for r in results)


@pytest.mark.parametrize("args, stdin, message", [
    (["--me", "0", "--peers", "10.0.0.1:http"], "", "bad address"),
    (["--me", "3", "--peers", "127.0.0.1,127.0.0.1:5000"], "", "outside 0..1"),
    (["--me", "0", "--peers", "127.0.0.1"], '{"workload": "dance", "timeout": 1}\n',
     "unknown workload 'dance' (this agent serves: collective)"),
    (["--me", "0", "--peers", "127.0.0.1"], "[1, 2]\n", "a job is a JSON object"),
    (["--me", "0", "--peers", "192.0.2.77"],
     collective_job(CollectiveSpec("allreduce", 1, 4096), OPTS, 5) + "\n", "cannot bind"),
])
def test_bad_input_is_one_line_and_exit_2(args, stdin, message):
    done = subprocess.run([sys.executable, "-m", "fabriclab.launch.agent", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
