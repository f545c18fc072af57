"""experiments.sweep: --workers N gives the rows, CSV and progress lines of a serial run, for
every experiment whose run() takes a `sweep`; a failing trial is recorded and the others go
on; Ctrl-C, SIGTERM and SIGHUP keep the finished trials; bad input is a one-line error and
exit 2."""

from __future__ import annotations

import csv
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import experiments.adaptive_routing as ar
from experiments.cli import EXPERIMENTS, experiment_module
from experiments.sweep import Outcome, Sweep, run_trials
from fabriclab.cli import main
from fabriclab.errors import FabricError

# Two routing modes, one seed, small flows: two trials of a few seconds each.
QUICK = dict(schemes=("ecmp+ooo", "adaptive+ooo"), workloads=("permutation",), seeds=(1,),
             flow_bytes=32 << 10)
# The smallest sim run of each experiment with at least two trials (overrides of its quick
# scale). An experiment that takes a `sweep` and is not listed runs at plain quick scale.
SMALLEST: dict[str, dict[str, Any]] = {
    "adaptive_routing": QUICK,
    "innet_allreduce": dict(ranks=(2, 4), loss_ranks=4, sizes=(), losses=(0.0,), nbytes=32 << 10),
    "scale_up": dict(accelerators=4, domain_sizes=(1, 2), nbytes=16 << 10, kinds=("allreduce",)),
    "congestion_control": dict(schemes=("pfc", "hpcc"), duration_us=100, warmup_us=50),
    "scale_across": dict(distances_km=(0, 300), schemes=("baseline",), nbytes=64 << 10, window=8),
    "isolation": dict(cases=("alone", "shared"), seeds=(1,), iters=1, allreduce_bytes=128 << 10),
    "resiliency": dict(collectives=("alltoall",), alltoall_bytes=256 << 10, failures=(1,), seeds=(1, 2),
                       schemes=("controller+ecmp", "fast+ecmp")),
}


def sweepable(name: str) -> bool:
    """Whether the experiment routes its trials through experiments.sweep (as the CLI checks)."""
    return "sweep" in inspect.signature(experiment_module(name).run).parameters


def small_run(name: str, out: Path, sweep: Sweep):
    lines: list[str] = []
    result = experiment_module(name).run("quick", out, progress=lines.append, mode="sim", sweep=sweep,
                                         **SMALLEST.get(name, {}))
    return result, lines


def without_wall_time(path: Path) -> list[list[str]]:
    """The CSV's cells but its wall-time columns (wall_s, wall_time_s, ...)."""
    header, *rows = list(csv.reader(path.open(newline="")))
    keep = [i for i, column in enumerate(header) if not column.startswith("wall")]
    return [[row[i] for i in keep] for row in [header, *rows]]


def comparable(lines: list[str]) -> list[str]:
    """Progress lines but what depends on the wall clock: a parenthesis that says `wall`
    ("(1.2 s wall, 11,201 events/s)") and the closing "wall time ...; results: FILES" line."""
    wall = re.compile(r"\([^()]*\bwall\b[^()]*\)")
    return [wall.sub("(wall)", ln) for ln in lines if not ln.startswith("wall time")]


def test_which_experiments_are_sweepable():
    spread = [name for name in EXPERIMENTS if sweepable(name)]
    print("through run_trials:", ", ".join(spread), "| not yet:",
          ", ".join(n for n in EXPERIMENTS if n not in spread) or "none")
    assert {"adaptive_routing", "innet_allreduce"} <= set(spread)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_two_workers_write_the_csv_of_one(name, tmp_path):
    if not sweepable(name):
        pytest.skip(f"{name}: run() takes no sweep (its trials do not go through run_trials yet)")
    print(f"{name}: --workers 1 and 2, sim, overrides {SMALLEST.get(name, 'none (quick scale)')}")
    one, lines_one = small_run(name, tmp_path / "one", Sweep(workers=1))
    two, lines_two = small_run(name, tmp_path / "two", Sweep(workers=2))
    assert one.rows and not one.errors and not two.errors, (one.errors, two.errors)
    assert without_wall_time(one.files.csv) == without_wall_time(two.files.csv)
    assert comparable(lines_one) == comparable(lines_two)
    assert json.loads(two.files.json.read_text())["partial"] is False


def test_a_failing_trial_is_recorded_and_the_others_go_on():
    p = ar.params_for("quick", "sim", **QUICK)
    cases = ar.plan(p)
    bad = [{"routing": "ecmp", "no_such_field": 1}]
    tasks = [(p, 0, 3, "ecmp", cases["ecmp"]), (p, 1, 3, "ecmp", bad), (p, 2, 3, "adaptive", cases["adaptive"])]
    lines: list[str] = []
    out = run_trials(ar.routing_trial, tasks, lines.append, "sim", Sweep(workers=2))
    assert [r["routing"] for r in out.rows] == ["ecmp", "adaptive"]
    assert len(out.errors) == 1 and "TypeError" in out.errors[0]
    assert not out.interrupted and out.finished == 3


def _waits_for_its_line_to_be_seen(task, progress):
    """Trial 0 says it waits, then waits until the parent has seen that line (a file the
    test's progress callback writes): only a live line lets it finish before 60 s."""
    flag, index = task
    if index == 0:
        progress("waiting")
        deadline = time.monotonic() + 60
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    progress(f"trial {index} ends")
    return [{"task": index, "seen": flag.exists()}], []


def test_the_head_trials_lines_print_while_it_runs(tmp_path):
    flag = tmp_path / "seen"
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        if line == "waiting":
            flag.touch()

    started = time.monotonic()
    out = run_trials(_waits_for_its_line_to_be_seen, [(flag, 0), (flag, 1)], progress, "sim", Sweep(workers=2))
    assert [r["task"] for r in out.rows] == [0, 1] and out.rows[0]["seen"]
    assert lines == ["waiting", "trial 0 ends", "trial 1 ends"]  # plan order, as a serial run's
    assert time.monotonic() - started < 50


def _interrupt_second(task, progress):
    if task == 2:
        raise KeyboardInterrupt
    progress(f"trial {task}")
    return [{"task": task}], []


def test_ctrl_c_keeps_the_finished_trials():
    lines: list[str] = []
    out = run_trials(_interrupt_second, [1, 2, 3], lines.append, "sim", Sweep(workers=1))
    assert out == Outcome(rows=[{"task": 1}], errors=[], interrupted=True, finished=1)
    assert lines == ["trial 1"]


def test_an_interrupted_run_writes_partial_results(tmp_path, monkeypatch):
    real = ar.routing_trial

    def first_then_ctrl_c(task, progress):
        if task[1] > 0:
            raise KeyboardInterrupt
        return real(task, progress)

    monkeypatch.setattr(ar, "routing_trial", first_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        ar.run("quick", tmp_path, progress=lambda s: None, mode="sim", sweep=Sweep(workers=1), **QUICK)
    (csv,) = tmp_path.glob("*.csv")
    (doc,) = tmp_path.glob("*.json")
    assert [ln.split(",")[1] for ln in csv.read_text().splitlines()[1:]] == ["ecmp+ooo"]
    assert json.loads(doc.read_text())["partial"] is True


def test_sighup_stops_a_parallel_run_and_keeps_the_finished_trials(tmp_path):
    """As a closed terminal would: SIGHUP to `fabriclab run` alone (not its workers) after the
    first trial; the workers are stopped, the finished trials written, exit 130."""
    proc = subprocess.Popen([sys.executable, "-m", "fabriclab", "run", "innet_allreduce", "--mode", "sim",
                             "--full", "--seeds", "1", "--workers", "2", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in proc.stdout:
            if line.startswith("  [1/"):
                break
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted: partial results of" in out and err.strip() == "fabriclab run: interrupted"
    (doc,) = tmp_path.glob("*.json")
    (table,) = tmp_path.glob("*.csv")
    rows = table.read_text().splitlines()[1:]
    assert json.loads(doc.read_text())["partial"] is True and 1 <= len(rows) < 20


@pytest.mark.parametrize("sweep, mode, message", [
    (dict(workers=0), "sim", "--workers 0: give at least 1"),
    (dict(workers=2), "emulate", "emulate mode runs one trial at a time"),
    (dict(cluster="127.0.0.1:8786"), "sim", "expected tcp://HOST:PORT"),
    (dict(cluster="tcp://127.0.0.1:8786"), "emulate", "--emulate-on-cluster"),
    (dict(emulate_on_cluster=True), "emulate", "needs --cluster"),
    (dict(workers=2, cluster="tcp://127.0.0.1:8786"), "sim", "not both"),
])
def test_bad_sweeps_are_refused(sweep, mode, message):
    with pytest.raises(FabricError, match=message):
        Sweep(**sweep).check_mode(mode)


def test_workers_default_to_the_cores_in_sim_and_one_in_emulate(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert Sweep().local_workers("sim") == 6
    assert Sweep().local_workers("emulate") == 1
    assert Sweep(workers=3).local_workers("sim") == 3


def test_workers_0_is_a_one_line_error_and_exit_2(tmp_path, capsys):
    code = main(["run", "adaptive_routing", "--mode", "sim", "--workers", "0", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == ["fabriclab run: error: --workers 0: give at least 1"]
