"""`ctl stats`: every counter labelled, and --rate prints per-second deltas."""

import pytest

from controller import cli
from controller.fabric import PortStats
from fabriclab.errors import FabricError


class Reads:
    """A controller whose switch counters advance between reads."""

    def __init__(self, *snapshots):
        self.snapshots = list(snapshots)

    def port_stats(self, switch):
        assert switch == "l1"
        return self.snapshots.pop(0)


BEFORE = {1: PortStats(10, 1000, 20, 2000, 3, 0, 4), 2: PortStats()}
AFTER = {1: PortStats(30, 3000, 60, 6000, 5, 2, 9), 2: PortStats()}


def test_stats_say_what_each_counter_means():
    text = cli.port_stats_table(Reads(BEFORE), "l1", None)
    header, row1, row2 = text.splitlines()[:3]
    assert header.split() == ["port", "rx_pkts", "rx_bytes", "tx_pkts", "tx_bytes", "drops", "ecn", "maxq"]
    assert row1.split() == ["1", "10", "1000", "20", "2000", "3", "0", "4"]
    assert "IPv6 neighbour discovery" in text and "TTL expired" in text and "show_queues" in text


def test_rate_prints_deltas_per_second(monkeypatch):
    slept = []
    monkeypatch.setattr(cli.time, "sleep", slept.append)
    text = cli.port_stats_table(Reads(BEFORE, AFTER), "l1", 2.0)
    header, row1 = text.splitlines()[:2]
    assert slept == [2.0] and "rx_pkts/s" in header
    assert row1.split() == ["1", "10", "1000", "20", "2000", "1", "1", "9"]


def test_rate_must_be_positive():
    with pytest.raises(FabricError, match="--rate"):
        cli.port_stats_table(Reads(BEFORE), "l1", 0)
