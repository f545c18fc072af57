"""`fabriclab collective --sim` on the virtual-time fabric: any `fabriclab net` topology, the
seed, impairments as link parameters, and its one-line errors."""

import json

import pytest

from fabriclab.cli import main

LEAF_SPINE = ["--topology", "leaf-spine", "--leaves", "2", "--spines", "2", "--hosts-per-leaf", "2"]


def run_json(tmp_path, name, *argv):
    out = tmp_path / f"{name}.json"
    assert main(["collective", "allreduce", "--sim", "4", "--size", "16K", "--iters", "1", "--warmup", "0",
                 "--json", str(out), *argv]) == 0
    return json.loads(out.read_text())["runs"][0]


def test_leaf_spine_with_loss_is_correct_and_the_seed_repeats_it(tmp_path, capsys):
    argv = [*LEAF_SPINE, "--rate", "10M", "--loss", "0.02", "--mode", "ooo", "--rto", "0.01"]
    first = run_json(tmp_path, "a", *argv, "--seed", "3")
    out, err = capsys.readouterr()
    assert out.splitlines()[4].split()[-1] == "0"  # #wrong
    assert "on leaf-spine-2x2x2, seed 3: simulated" in err  # progress and the time reached: stderr
    assert first["row"]["wrong"] == 0 and sum(r["qp"]["retransmissions"] for r in first["ranks"]) > 0
    again = run_json(tmp_path, "b", *argv, "--seed", "3")
    assert again == first  # same command and seed: the same run
    other = run_json(tmp_path, "c", *argv, "--seed", "4")
    assert [r["sports"] for r in other["ranks"]] != [r["sports"] for r in first["ranks"]]


def test_star_delay_sets_the_round_trip(tmp_path):
    """A sendrecv ring of 2 at 1 Gb/s is latency bound: 20 ms per switch port -> >= 40 ms."""
    slow = tmp_path / "slow.json"
    assert main(["collective", "sendrecv", "--sim", "2", "--size", "4K", "--iters", "1", "--warmup", "0",
                 "--rate", "1G", "--delay", "0.02", "--json", str(slow)]) == 0
    assert json.loads(slow.read_text())["runs"][0]["row"]["time_us"] >= 40_000


@pytest.mark.parametrize("argv,msg", [
    (["--topology", "moebius"], "unknown topology 'moebius'"),
    (["--topology", "leaf-spine", "--k", "4"], "--k does not apply to leaf-spine"),
    (["--leaves", "2"], "--leaves describes a topology: give --topology too"),
    (["--rate", "0"], "--rate: rate must be positive"),
    (["--delay", "-1"], "--delay must be >= 0"),
    (["--loss", "1.5"], "loss probability must be in [0, 1]"),
    (["--queue", "0"], "--queue"),
    ([*LEAF_SPINE, "--hosts-per-leaf", "1"], "4 ranks need 4 hosts"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, msg):
    assert main(["collective", "allreduce", "--sim", "4", "--size", "16K", *argv]) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
