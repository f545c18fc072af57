"""The live feed without a network: frames and status reach every open page, a failed read
is reported and retried, the run's end stops sampling; the read-only client never writes."""

from __future__ import annotations

import asyncio

import pytest

from fabriclab.errors import FabricError
from fabriclab.view.live import ReadOnlyClient, RunEnded
from fabriclab.view.model import FrameMaker, Snapshot
from fabriclab.view.server import LiveFeed
from topologies.builders import leaf_spine


def test_feed_reports_errors_recovers_and_stops_when_the_run_ends():
    results = iter([Snapshot(0, {}), FabricError("cannot read the switches: l1 gone"),
                    Snapshot(10**9, {}), RunEnded("run 'x' has ended")])
    calls = []

    def sample():
        calls.append(1)
        item = next(results)
        if isinstance(item, Exception):
            raise item
        return item

    feed = LiveFeed(sample, FrameMaker(leaf_spine(1, 1, 1)), interval=0.0, ended_types=(RunEnded,))
    page: asyncio.Queue = asyncio.Queue()
    feed.subscribers.add(page)
    asyncio.run(asyncio.wait_for(feed.run(), 10))
    events = []
    while not page.empty():
        event, data = page.get_nowait()
        events.append((event, data.get("level") if event == "status" else data["t"]))
    assert events == [("frame", 0.0), ("status", "error"), ("status", "ok"), ("frame", 1.0),
                      ("status", "ended")]
    assert feed.status == {"level": "ended", "text": "run 'x' has ended"}
    assert len(calls) == 4  # no sampling after the end


def test_read_only_client_refuses_writes():
    with pytest.raises(FabricError, match="read-only"):
        ReadOnlyClient("127.0.0.1:1").write([])
