"""SwitchProcess's loop without ports (no root) running the real pipeline: the API the
P4Runtime server uses from other threads (packet-out/packet-in, digests, set_core) and a
core that raises on a packet."""

from __future__ import annotations

import os
import queue
import threading
import time

import pytest

from conftest import PROGRAM, REPO
from fabriclab.p4 import compile_file
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.process import SwitchProcess
from fabriclab.switch.tm import TrafficManager

CPU = 255
CPU_P4 = os.path.join(REPO, "tests", "data", "switch", "cpu.p4")
FRAME = bytes.fromhex("020000000002" "020000000001" "88b5") + b"loop test"


def packet_out(port: int, frame: bytes = FRAME) -> bytes:
    """cpu.p4's packet_out header (9-bit egress port, 7 bits pad) in front of the frame."""
    return (port << 7).to_bytes(2, "big") + frame


@pytest.fixture(scope="module")
def programs():
    return {"cpu": compile_file(CPU_P4), "forward": compile_file(PROGRAM)}


@pytest.fixture
def running(programs):
    switch = SwitchProcess(SwitchCore(programs["cpu"], cpu_port=CPU), {}, TrafficManager(),
                           cpu_port=CPU)
    thread = threading.Thread(target=switch.run, daemon=True)
    thread.start()
    try:
        yield switch
    finally:
        switch.stop()
        thread.join(10)
        switch.close()
    assert not thread.is_alive()


def test_packet_out_to_the_cpu_port_comes_back_as_packet_in_with_a_digest(running):
    frames, notices = queue.Queue(), queue.Queue()
    running.add_packet_in_listener(frames.put)
    running.add_digest_listener(lambda: notices.put(True))
    running.inject_packet_out(packet_out(CPU))
    assert frames.get(timeout=5) == FRAME
    assert notices.get(timeout=5)
    with running.lock:
        digest = running.core.digests.popleft()
    assert digest.fields == {"srcAddr": 0x020000000001, "port": CPU}
    assert running.counters.from_cpu == 1 and running.counters.to_cpu == 1


def test_set_core_from_another_thread_takes_effect_for_the_next_packet(running, programs):
    frames = queue.Queue()
    running.add_packet_in_listener(frames.put)
    running.set_core(SwitchCore(programs["forward"], cpu_port=CPU))  # drops CPU-port frames
    running.inject_packet_out(packet_out(CPU))
    running.call_in_loop(lambda: None)  # a round trip through the loop
    assert frames.empty()
    running.set_core(SwitchCore(programs["cpu"], cpu_port=CPU))
    running.inject_packet_out(packet_out(CPU))
    assert frames.get(timeout=5) == FRAME


def test_without_a_program_frames_are_counted_not_processed(running):
    running.set_core(None)
    running.inject_packet_out(packet_out(CPU))
    running.call_in_loop(lambda: None)
    assert running.counters.no_pipeline == 1


def test_a_core_that_raises_does_not_stop_the_switch(running, programs):
    class Faulty(SwitchCore):
        """Stands for a pipeline bug triggered by one packet."""

        def ingress(self, port, data, now_us):
            if data.endswith(b"crash"):
                raise RuntimeError("boom")
            return super().ingress(port, data, now_us)

    frames = queue.Queue()
    running.add_packet_in_listener(frames.put)
    running.set_core(Faulty(programs["cpu"], cpu_port=CPU))
    running.inject_packet_out(packet_out(CPU, FRAME + b"crash"))
    running.inject_packet_out(packet_out(CPU))
    assert frames.get(timeout=5) == FRAME
    assert running.counters.pipeline_errors == 1


def test_a_delayed_port_delivers_on_the_timer_never_early(running):
    """The loop sleeps on its timerfd until the modelled arrival: each packet-in comes after
    the CPU port's 10 ms delay (how late is printed: the timer's precision, not asserted)."""
    arrivals = queue.Queue()
    running.add_packet_in_listener(lambda frame: arrivals.put(time.monotonic_ns()))
    running.call_in_loop(lambda: running.tm.set_port_delay(CPU, 10_000_000))
    late = []
    for _ in range(5):
        sent = time.monotonic_ns()
        running.inject_packet_out(packet_out(CPU))
        arrived = arrivals.get(timeout=5)
        assert arrived - sent >= 10_000_000
        late.append((arrived - sent - 10_000_000) / 1000)
    print(f"\n10 ms CPU-port delay: delivered {sorted(late)} us late (inject to listener)")
