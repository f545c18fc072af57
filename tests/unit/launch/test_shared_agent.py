"""All ranks of a collective in one agent process (`--agents shared`; real processes and UDP
on 127.0.0.x, no root): one process answers every rank, each rank's data checks, the
layout's bad inputs are one-line errors, and Lockstep reads several results per worker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fabriclab.cli import main
from fabriclab.errors import FabricError
from fabriclab.cpu_share import share_of
from fabriclab.launch.agent import Seat, agent_argv, collective_job, parse_seats
from fabriclab.launch.collective import launch
from fabriclab.launch.lockstep import Lockstep
from fabriclab.launch.placement import here, in_netns, in_pid_netns, netns_of
from fabriclab.launch.setns import entered
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions, summarize

LO = [("127.0.0.1", 24821), ("127.0.0.2", 24822), ("127.0.0.3", 24823)]
OPTS = RunOptions(iters=2, warmup=1, line_rate=200e6)


@pytest.mark.parametrize("kind", ["alltoall", "allreduce"])
def test_one_process_runs_every_rank_and_each_checks_its_data(kind):
    spec = CollectiveSpec(kind, 3, 96 << 10)
    results = launch([here] * 3, LO, spec, OPTS, timeout=60, agents="shared")
    assert [r["rank"] for r in results] == [0, 1, 2]
    assert all(r["done"] and r["error"] is None and r["wrong"] == 0 for r in results)
    assert [r["agent_ranks"] for r in results] == [3, 3, 3]  # one process answered for all
    assert len({r["cpu_s"] for r in results}) == 1  # its CPU, shared evenly
    assert all(r["nic"]["tx_packets"] > 0 and r["nic"]["rx_packets"] > 0 for r in results)
    assert summarize(spec, results).wrong == 0


def test_both_layouts_move_the_same_packets():
    spec = CollectiveSpec("allgather", 3, 48 << 10)
    counts = {}
    for agents in ("shared", "per-host"):
        results = launch([here] * 3, LO, spec, OPTS, timeout=60, agents=agents)
        assert all(r["done"] and r["wrong"] == 0 for r in results)
        counts[agents] = [r["nic"]["tx_packets"] - r["qp"]["retransmissions"] for r in results]
    assert counts["shared"] == counts["per-host"]


def test_the_shared_agent_is_one_process_for_many_rounds():
    """What an experiment would do: one agent process, several jobs, one result per rank each."""
    seats = [Seat(i) for i in range(3)]
    spec = CollectiveSpec("alltoall", 3, 24 << 10)
    with Lockstep([here], [agent_argv("fabriclab.launch.agent", seats, LO)], 60, "rank", answers=[3]) as ranks:
        pid = ranks.procs[0].pid
        for _ in range(2):
            results = ranks.round([collective_job(spec, OPTS, 60)], 60)
            assert [r["rank"] for r in results] == [0, 1, 2] and all(r["wrong"] == 0 for r in results)
            assert ranks.procs[0].pid == pid


def test_a_shared_agent_takes_the_cpu_weight_of_its_hosts():
    """One process for 3 hosts runs at the nice value of 3 per-host agents (root only; a
    one-rank agent keeps the launcher's)."""
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    seats = [Seat(i) for i in range(3)]
    spec = CollectiveSpec("alltoall", 3, 24 << 10)
    for argv, ranks_per_agent in ((agent_argv("fabriclab.launch.agent", seats, LO), 3),
                                  (agent_argv("fabriclab.launch.agent", 0, LO[:1]), 1)):
        with Lockstep([here], [argv], 60, "rank", answers=[ranks_per_agent]) as ranks:
            nice = os.getpriority(os.PRIO_PROCESS, ranks.procs[0].pid)
        if ranks_per_agent == 1:
            assert nice == mine
        else:
            assert nice == (min(share_of(3), mine) if os.geteuid() == 0 else mine)


def test_argv_names_each_ranks_namespace():
    argv = agent_argv("m", [Seat(0, "/run/netns/a"), Seat(1), Seat(2, "/proc/7/ns/net")], LO)
    assert argv[argv.index("--me") + 1] == "0,1,2"
    assert argv[argv.index("--netns") + 1] == "/run/netns/a,,/proc/7/ns/net"
    assert "--netns" not in agent_argv("m", [Seat(0), Seat(1)], LO)
    assert parse_seats("0,1,2", "/run/netns/a,,/proc/7/ns/net", 3) == [
        Seat(0, "/run/netns/a"), Seat(1, None), Seat(2, "/proc/7/ns/net")]


def test_spawn_functions_name_their_namespace():
    assert netns_of(here) is None
    assert netns_of(in_netns("fl-x-h0")) == "/run/netns/fl-x-h0"
    assert netns_of(in_pid_netns(42)) == "/proc/42/ns/net"
    with pytest.raises(FabricError, match="one agent per host"):
        netns_of(lambda argv: here(argv))
    with pytest.raises(FabricError, match="one agent per host"):
        launch([lambda argv: here(argv)] * 3, LO, CollectiveSpec("alltoall", 3, 4096), OPTS, agents="shared")


def test_the_default_layout_is_shared_where_namespaces_are_known_else_per_host():
    spec = CollectiveSpec("alltoall", 3, 24 << 10)
    known = launch([here] * 3, LO, spec, OPTS, timeout=60)
    assert [r.get("agent_ranks") for r in known] == [3, 3, 3]
    custom = launch([lambda argv: here(argv)] * 3, LO, spec, OPTS, timeout=60)  # may start anywhere
    assert [r.get("agent_ranks") for r in custom] == [None, None, None]
    assert all(r["done"] and r["wrong"] == 0 for r in known + custom)


@pytest.mark.parametrize("args, stdin, message", [
    (["--me", "0,0", "--peers", "127.0.0.1,127.0.0.2"], "", "names a rank twice"),
    (["--me", "0,x", "--peers", "127.0.0.1,127.0.0.2"], "", "expected I or I,J"),
    (["--me", "0,1", "--peers", "127.0.0.1,127.0.0.2", "--netns", "/a"], "", "1 namespaces for 2 ranks"),
    (["--me", "0", "--peers", "127.0.0.1", "--netns", "/no/such/netns"],
     collective_job(CollectiveSpec("allreduce", 1, 4096), OPTS, 5) + "\n", "no network namespace /no/such/netns"),
])
def test_bad_input_is_one_line_and_exit_2(args, stdin, message):
    done = subprocess.run([sys.executable, "-m", "fabriclab.launch.agent", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_one_rank_agent_refuses_several():
    done = subprocess.run([sys.executable, "-m", "fabriclab.launch.innet", "--me", "0,1", "--peers",
                           "127.0.0.1,127.0.0.2"], input="", capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "runs one rank per process" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("argv,msg", [
    (["collective", "allreduce", "--sim", "2", "--agents", "shared"], "--sim runs no agents"),
    (["collective", "allreduce", "--hosts", "127.0.0.1", "--algo", "innet", "--agents", "shared"],
     "--algo innet runs one agent per host"),
])
def test_cli_refuses_agents_where_there_are_none(capsys, argv, msg):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_entering_no_namespace_stays_here_and_a_missing_one_is_an_error():
    before = os.readlink("/proc/thread-self/ns/net")
    with entered(None):
        assert os.readlink("/proc/thread-self/ns/net") == before
    with pytest.raises(FabricError, match="no network namespace"):
        with entered("/no/such/netns"):
            pass
    assert os.readlink("/proc/thread-self/ns/net") == before


ECHO_TWO = """
import json, sys
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    print("bound", flush=True)
    assert sys.stdin.readline().strip() == "go"
    for k in range(int(sys.argv[1])):
        if job.get("die") == k:
            sys.exit(3)
        print(json.dumps({"worker": sys.argv[2], "k": k}), flush=True)
"""


def _workers(counts: list[int]) -> Lockstep:
    return Lockstep([here] * len(counts), [[sys.executable, "-c", ECHO_TWO, str(c), str(i)]
                                           for i, c in enumerate(counts)], 20, "rank", answers=counts)


def test_lockstep_reads_each_workers_results_in_order():
    with _workers([2, 1]) as group:
        assert group.round(["{}", "{}"], 20) == [{"worker": "0", "k": 0}, {"worker": "0", "k": 1},
                                                 {"worker": "1", "k": 0}]


def test_a_worker_dying_between_its_results_names_the_missing_one():
    with _workers([3]) as group:
        with pytest.raises(FabricError, match="rank 2 failed"):
            group.round(['{"die": 2}'], 20)


def test_lockstep_needs_a_count_per_worker():
    with pytest.raises(FabricError, match="one count of results"):
        Lockstep([here], [[sys.executable, "-c", ""]], 5, answers=[1, 1])
