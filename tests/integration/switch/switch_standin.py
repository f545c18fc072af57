"""`fabriclab switch` with a stand-in pipeline, for use until fabriclab.switch.core exists.

Same API as SwitchCore (docs/internals.md section 2) and the same behaviour as
tests/data/switch/forward.p4: port 1 <-> port 2, egress writes enq_qdepth into the IPv4
identification field and fixes the header checksum, IP precedence selects the queue.
"""

import struct
import sys
from collections import deque
from typing import Any, NamedTuple

from fabriclab import cli
from fabriclab.switch import cli as switch_cli


class EgressItem(NamedTuple):
    port: int
    qid: int
    length: int
    state: Any


class StandInCore:
    def __init__(self):
        self.digests = deque()

    def ingress(self, port, data, now_us):
        out = {1: 2, 2: 1}.get(port)
        ipv4 = len(data) >= 34 and data[12:14] == b"\x08\x00"
        priority = data[15] >> 5 if ipv4 else 0
        return [] if out is None else [EgressItem(out, priority, len(data), data)]

    def egress(self, item, now_us, queue):
        data = bytearray(item.state)
        if len(data) >= 34 and data[12:14] == b"\x08\x00":
            struct.pack_into("!H", data, 18, queue.enq_qdepth & 0xFFFF)
            struct.pack_into("!H", data, 24, 0)
            words = struct.unpack_from("!10H", data, 14)
            total = sum(words)
            while total >> 16:
                total = (total & 0xFFFF) + (total >> 16)
            struct.pack_into("!H", data, 24, ~total & 0xFFFF)
        return [(item.port, bytes(data))], []


if __name__ == "__main__":
    switch_cli.load_core = lambda args: StandInCore()
    sys.exit(cli.main(["switch", *sys.argv[1:]]))
