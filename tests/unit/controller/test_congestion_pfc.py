"""PFC as the CC manager turns it on in a running switch: the admin command `set_pfc`
(what `fabriclab switch-cli set_pfc` sends) makes a priority lossless, and the pause
frames the TM then sends are honoured by the next switch."""

from __future__ import annotations

import pytest

from fabriclab.errors import FabricError
from fabriclab.switch import admin, pfc
from fabriclab.switch.tm import TrafficManager


class Item:
    def __init__(self, port: int, qid: int, length: int) -> None:
        self.port, self.qid, self.length = port, qid, length


def test_set_pfc_makes_a_priority_lossless_and_pauses_upstream():
    tm = TrafficManager(8)
    tm.set_port_rate(2, 10e9, None)
    assert admin.execute(tm, ["set_pfc", "1", "3", "4k", "2k", "8k"]) == "ok"
    for _ in range(8):  # 8 KB enter on port 1 for port 2 at priority 3
        assert tm.enqueue(Item(2, 3, 1000), 0, ingress_port=1)
    tm.poll(0)
    sent = tm.take_pauses_sent()
    assert sent and sent[0].port == 1
    frame = pfc.decode(sent[0].data)
    assert frame is not None and frame.classes()[3] > 0
    stats = tm.pfc_stats(0)[1][3]
    assert stats["pausing"] and stats["pauses_sent"] == 1


def test_a_received_pause_holds_that_priority():
    tm = TrafficManager(8)
    admin.execute(tm, ["set_pfc", "2", "3", "4k", "2k", "8k"])
    other = TrafficManager(8)
    admin.execute(other, ["set_pfc", "1", "3", "1000", "500", "8k"])
    for _ in range(3):
        other.enqueue(Item(5, 3, 1000), 0, ingress_port=1)
    other.poll(0)
    frame = other.take_pauses_sent()[0].data
    assert tm.receive_mac_control(2, frame, 0)
    tm.enqueue(Item(2, 3, 1000), 0)
    departures, _ = tm.poll(1000)
    assert departures == []  # held by the pause


def test_set_pfc_off_and_bad_input():
    tm = TrafficManager(8)
    admin.execute(tm, ["set_pfc", "1", "3", "4k", "2k", "8k"])
    assert admin.execute(tm, ["set_pfc", "1", "3", "off"]) == "ok"
    assert 1 not in tm.pfc_stats(0) or 3 not in tm.pfc_stats(0).get(1, {})
    for words in (["set_pfc", "1"], ["set_pfc", "1", "3", "2k", "4k", "1k"],
                  ["set_pfc", "1", "9", "4k", "2k", "1k"], ["set_pfc", "1", "3", "on"]):
        with pytest.raises(FabricError):
            admin.execute(tm, words)
