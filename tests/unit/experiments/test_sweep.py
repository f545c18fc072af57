"""experiments.sweep: --workers N gives the rows, CSV and progress order of a serial run; a
failing trial is recorded and the others go on; Ctrl-C keeps the finished trials; bad input
is a one-line error and exit 2."""

from __future__ import annotations

import json

import pytest

import experiments.adaptive_routing as ar
from experiments.sweep import Outcome, Sweep, run_trials
from fabriclab.cli import main
from fabriclab.errors import FabricError

# Two routing modes, one seed, small flows: two trials of a few seconds each.
QUICK = dict(schemes=("ecmp+ooo", "adaptive+ooo"), workloads=("permutation",), seeds=(1,),
             flow_bytes=32 << 10)


def quick_run(tmp_path, sweep: Sweep, name: str):
    lines: list[str] = []
    result = ar.run("quick", tmp_path / name, progress=lines.append, mode="sim", sweep=sweep, **QUICK)
    return result, lines


def test_two_workers_write_the_csv_of_one(tmp_path):
    one, lines_one = quick_run(tmp_path, Sweep(workers=1), "one")
    two, lines_two = quick_run(tmp_path, Sweep(workers=2), "two")
    assert not two.errors, two.errors
    assert [r["scheme"] for r in one.rows] == ["ecmp+ooo", "adaptive+ooo"]
    assert not one.errors and all(r["pct_ideal"] > 0 for r in one.rows)
    assert one.files.csv.read_bytes() == two.files.csv.read_bytes()
    trials = lambda lines: [ln for ln in lines if ln.startswith("[trial")]  # noqa: E731
    assert trials(lines_one) == trials(lines_two) == [
        "[trial 1/2] routing ecmp: fresh network, 1 cases",
        "[trial 2/2] routing adaptive: fresh network, 1 cases"]
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
