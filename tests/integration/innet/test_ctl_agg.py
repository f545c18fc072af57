"""`fabriclab ctl agg create|list|delete` against switches running fabric.p4 (the vtime
fabric's in-process P4Runtime servers, no root): each call works from what the switches
hold, as separate `ctl` processes do, and bad input is a one-line FabricError."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest

from controller.cli import add_arguments, aggregation
from fabriclab.errors import FabricError
from fabriclab.vtime.fabric import Fabric
from topologies.builders import leaf_spine


@pytest.fixture(scope="module")
def ctl():
    fabric = Fabric(leaf_spine(2, 2, 2))
    yield SimpleNamespace(clients=fabric.clients, topo=fabric.topo)
    fabric.close()


def agg(ctl, capsys, *argv: str) -> str:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    aggregation(ctl, parser.parse_args(["agg", *argv]))
    return capsys.readouterr().out.strip()


def test_create_list_delete_across_calls(ctl, capsys):
    assert agg(ctl, capsys, "list") == "no aggregation jobs"
    out = agg(ctl, capsys, "create", "--ranks", "h1,h2,h3,h4", "--pool", "500")
    assert out.startswith("installed job 1: 4 ranks, root s") and "slots 0..499" in out
    # a second call knows job 1 holds 500 of each switch's 512 slots
    out = agg(ctl, capsys, "create", "--ranks", "h1,h3", "--job", "7", "--pool", "12")
    assert "job 7" in out and "slots 500..511" in out
    listed = agg(ctl, capsys, "list").splitlines()
    assert [line.split(":")[0] for line in listed] == ["job 1", "job 7"]
    with pytest.raises(FabricError, match="slot budget exhausted: job 2 needs 1 slots, 0 of 512"):
        agg(ctl, capsys, "create", "--ranks", "h1,h2", "--pool", "1")
    assert agg(ctl, capsys, "delete", "1").startswith("job 1 removed from ")
    assert agg(ctl, capsys, "list").startswith("job 7:")
    assert "job 1" in agg(ctl, capsys, "create", "--ranks", "h2,h4", "--pool", "8")
    agg(ctl, capsys, "delete", "1")
    agg(ctl, capsys, "delete", "7")
    assert agg(ctl, capsys, "list") == "no aggregation jobs"


@pytest.mark.parametrize("argv, message", [
    (("create", "--ranks", "h1,h9"), "'h9' is not a host"),
    (("create", "--ranks", "h1,h1"), "a host appears twice"),
    (("create", "--ranks", "h1,h2", "--pool", "0"), "pool size must be 1..512"),
    (("delete", "3"), "no aggregation job 3 on the switches"),
])
def test_bad_input_is_one_line(ctl, capsys, argv, message):
    with pytest.raises(FabricError, match=message) as err:
        agg(ctl, capsys, *argv)
    assert "\n" not in str(err.value)
