"""`fabriclab run`: bad input is a one-line error and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from experiments.cli import EXPERIMENTS, experiment_module, parse_seeds
from experiments.trials import free_port_base
from fabriclab.errors import FabricError


def test_seeds_parse_and_bad_seeds_are_errors():
    assert parse_seeds("1, 2,3") == (1, 2, 3)
    assert parse_seeds(None) is None
    for bad in ("a,b", ",", "1.5", "1,2,1"):
        with pytest.raises(FabricError):
            parse_seeds(bad)


def test_experiment_names_accept_dashes():
    assert experiment_module("adaptive-routing").NAME == "adaptive_routing"
    with pytest.raises(FabricError, match="unknown experiment"):
        experiment_module("nope")


def _fabriclab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fabriclab", "run", *args], capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.mark.parametrize("args, message", [
    (("nope",), "unknown experiment"),
    (("adaptive_routing", "--seeds", "x"), "--seeds"),
    (("adaptive_routing", "--mode", "sim", "--seeds", "1,1"), "seed 1 given twice"),
    (("adaptive_routing", "--mode", "sim", "--out", __file__), "not a folder"),
])
def test_cli_errors_exit_non_zero_without_traceback(args, message):
    done = _fabriclab(*args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_a_target_this_machine_lacks_is_refused_before_any_trial(name, tmp_path):
    """Every experiment checks root and the target once, before its first trial and before
    it writes a file: one error line, not one per trial beside empty results."""
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}  # no simple_switch_grpc
    done = _fabriclab(name, "--mode", "emulate", "--target", "bmv2", "--out", str(tmp_path / "out"), env=env)
    said = done.stderr
    assert done.returncode == 2 and "Traceback" not in said and "trial" not in said, said
    assert any(why in said for why in ("need root", "simple_switch_grpc", "runs the built-in switch")), said
    assert len([line for line in said.splitlines() if "error:" in line]) == 1, said
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir()), "a refused run wrote files"


@pytest.mark.skipif(os.geteuid() == 0, reason="checks the message non-root users get")
@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_cli_says_root_is_needed(name):
    done = _fabriclab(name, "--mode", "emulate")
    assert done.returncode == 2 and "root" in done.stderr and "Traceback" not in done.stderr


def test_free_port_base_skips_ports_in_use():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        base = free_port_base(taken - 2, 4, step=8)
        assert not base <= taken < base + 4
