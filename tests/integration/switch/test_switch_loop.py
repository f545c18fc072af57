"""SwitchProcess's loop without ports (no root): the API the P4Runtime server uses from
other threads (packet-out/packet-in, set_core, digests) and stopping from a signal-safe call."""

from __future__ import annotations

import queue
import threading
from collections import namedtuple

import pytest

from fabriclab.switch.process import SwitchProcess
from fabriclab.switch.tm import TrafficManager
from switch_standin import EgressItem, StandInCore

CPU = 255
Digest = namedtuple("Digest", "name fields")


class CpuEcho(StandInCore):
    """Sends CPU-port frames back to the CPU with a tag and leaves a digest for each."""

    def __init__(self, tag: bytes):
        super().__init__()
        self.tag = tag

    def ingress(self, port, data, now_us):
        if port != CPU:
            return super().ingress(port, data, now_us)
        self.digests.append(Digest("seen", {"len": len(data)}))
        return [EgressItem(CPU, 0, len(data), self.tag + data)]


@pytest.fixture
def running():
    tm = TrafficManager()
    switch = SwitchProcess(CpuEcho(b"A"), {}, tm, cpu_port=CPU)
    thread = threading.Thread(target=switch.run, daemon=True)
    thread.start()
    try:
        yield switch
    finally:
        switch.stop()
        thread.join(10)
        switch.close()
    assert not thread.is_alive()


def test_packet_out_comes_back_as_packet_in_with_digest_notice(running):
    frames, notices = queue.Queue(), queue.Queue()
    running.add_packet_in_listener(frames.put)
    running.add_digest_listener(lambda: notices.put(True))
    running.inject_packet_out(b"hello")
    assert frames.get(timeout=5) == b"Ahello"
    assert notices.get(timeout=5)
    assert running.counters.from_cpu == 1 and running.counters.to_cpu == 1


def test_set_core_from_another_thread_takes_effect_for_the_next_packet(running):
    frames = queue.Queue()
    running.add_packet_in_listener(frames.put)
    running.set_core(CpuEcho(b"B"))  # returns once the loop has installed it
    running.inject_packet_out(b"x")
    assert frames.get(timeout=5) == b"Bx"


def test_without_a_program_frames_are_counted_not_processed(running):
    running.set_core(None)
    running.inject_packet_out(b"x")
    running.call_in_loop(lambda: None)  # a round trip through the loop
    assert running.counters.no_pipeline == 1


def test_a_crashing_pipeline_does_not_stop_the_switch(running):
    class Broken(CpuEcho):
        def ingress(self, port, data, now_us):
            if data == b"bad":
                raise RuntimeError("boom")
            return super().ingress(port, data, now_us)

    frames = queue.Queue()
    running.add_packet_in_listener(frames.put)
    running.set_core(Broken(b"C"))
    running.inject_packet_out(b"bad")
    running.inject_packet_out(b"good")
    assert frames.get(timeout=5) == b"Cgood"
    assert running.counters.pipeline_errors == 1
