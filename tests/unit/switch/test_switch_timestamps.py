"""simple_switch's timestamps are microseconds since the switch started: the real-time driver
(not only the sans-I/O core) must pass the pipeline that unit. Runs the driver's loop with no
network ports, using the CPU port for packet-out/packet-in, so it needs no root."""

import pathlib
import queue
import threading
import time

import pytest

from fabriclab.p4 import compile_source
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.process import SwitchProcess
from fabriclab.switch.tm import TrafficManager

INCLUDE = pathlib.Path(__file__).resolve().parents[2] / "stf" / "include"
CPU_PORT = 64
SLEEP_S = 0.3

# f1 ++ h1 = ingress_global_timestamp, f2 = low 32 bits of egress_global_timestamp
PROGRAM = f"""
#include <core.p4>
#include <v1model.p4>
struct metadata {{ }}
#include "data_common.p4"
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {{
    apply {{
        hdr.data.f1 = sm.ingress_global_timestamp[47:16];
        hdr.data.h1 = sm.ingress_global_timestamp[15:0];
        sm.egress_spec = {CPU_PORT};
    }}
}}
control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {{
    apply {{ hdr.data.f2 = sm.egress_global_timestamp[31:0]; }}
}}
V1Switch(DataParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), DataDeparser()) main;
"""


@pytest.fixture
def switch():
    core = SwitchCore(compile_source(PROGRAM, "timestamps.p4", include_dirs=(INCLUDE,)),
                      cpu_port=CPU_PORT)
    sw = SwitchProcess(core, {}, TrafficManager(), cpu_port=CPU_PORT)
    loop = threading.Thread(target=sw.run, daemon=True)
    loop.start()
    try:
        yield sw
    finally:
        sw.stop()
        loop.join(timeout=5)
        sw.close()


def test_timestamps_are_microseconds_since_the_switch_started(switch):
    packets_in: queue.Queue[bytes] = queue.Queue()
    switch.add_packet_in_listener(packets_in.put)
    time.sleep(SLEEP_S)
    switch.inject_packet_out(bytes(12))
    data = packets_in.get(timeout=5)
    ingress_ts = int.from_bytes(data[0:4] + data[8:10], "big")
    egress_ts = int.from_bytes(data[4:8], "big")
    # at least SLEEP_S has passed since start: >= 300,000 in us (300 in ms); a nanosecond
    # clock or the Unix epoch would be far above the upper bound
    assert SLEEP_S * 1e6 <= ingress_ts < 1e9, ingress_ts
    assert ingress_ts <= egress_ts < 1e9, (ingress_ts, egress_ts)
