"""`collective --run` first says the fabric's routing mode (kept by `fabriclab ctl`) and the
receiver mode, and warns when reordering routing meets go-back-N receivers."""

import json

import pytest

from fabriclab.launch.collective import routing_note
from fabriclab.paths import RunDir


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setattr("fabriclab.paths.RUN_DIR", tmp_path)
    RunDir("r1").create()
    return "r1"


def ctl_state(run, mode, classes=None):
    (RunDir(run).path / "ctl-state.json").write_text(
        json.dumps({"mode": 2, "routing": {"mode": mode, "classes": classes or {}}}))


def test_a_run_without_ctl_is_ecmp(run):
    assert routing_note(run, "gbn") == ["# fabric r1: routing ecmp; receivers gbn"]


def test_adaptive_with_go_back_n_warns(run):
    ctl_state(run, "adaptive")
    head, warning = routing_note(run, "gbn")
    assert head == "# fabric r1: routing adaptive; receivers gbn"
    assert "warning: adaptive routing reorders packets" in warning and "--mode ooo" in warning
    assert routing_note(run, "ooo") == ["# fabric r1: routing adaptive; receivers ooo"]


def test_a_flowlet_class_warns_too(run):
    ctl_state(run, "ecmp", {"48": "flowlet"})
    head, warning = routing_note(run, "gbn")
    assert head == "# fabric r1: routing ecmp, DSCP 48: flowlet; receivers gbn"
    assert "per-class routing reorders" in warning
