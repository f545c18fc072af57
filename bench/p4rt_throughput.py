"""P4Runtime server throughput: table-entry writes and reads per second over real gRPC.

Runs the server in-process on 127.0.0.1 with the loopback switch (the real SwitchCore) and
the basic IPv4 program; prints entries/s for batched INSERTs, single-update INSERTs and a
wildcard Read. Usage: .venv/bin/python bench/p4rt_throughput.py [N]
"""

from __future__ import annotations

import pathlib
import sys
import time

import grpc
from finsy.proto import p4r, p4r_grpc

from fabriclab.p4 import compile_file
from fabriclab.switch.p4runtime.loopback import LoopbackSwitch
from fabriclab.switch.p4runtime.server import serve

PROGRAM = pathlib.Path(__file__).resolve().parent.parent / "p4src" / "basic.p4"


def main(n: int) -> None:
    program = compile_file(str(PROGRAM))
    info = program.p4info
    table = next(t for t in info.tables if t.preamble.name.endswith("ipv4_lpm"))
    fwd = next(a for a in info.actions if a.preamble.name.endswith("ipv4_forward"))
    server = serve(LoopbackSwitch(), "127.0.0.1:0", 1)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.bound_port}")
    stub = p4r_grpc.P4RuntimeStub(channel)
    try:
        stub.SetForwardingPipelineConfig(p4r.SetForwardingPipelineConfigRequest(
            device_id=1, action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT,
            config=p4r.ForwardingPipelineConfig(p4info=info, p4_device_config=program.to_artifact())))

        def entry(i: int) -> p4r.Update:
            match = p4r.FieldMatch(field_id=1, lpm=p4r.FieldMatch.LPM(value=(0x0A000000 + (i << 8)).to_bytes(4, "big"),
                                                                      prefix_len=24))
            params = [p4r.Action.Param(param_id=1, value=b"\x00\x00\x00\x00\x00\x01"),
                      p4r.Action.Param(param_id=2, value=b"\x01")]
            te = p4r.TableEntry(table_id=table.preamble.id, match=[match],
                                action=p4r.TableAction(action=p4r.Action(action_id=fwd.preamble.id, params=params)))
            return p4r.Update(type=p4r.Update.INSERT, entity=p4r.Entity(table_entry=te))

        def write(updates: list[p4r.Update]) -> None:
            stub.Write(p4r.WriteRequest(device_id=1, updates=updates))

        start = time.perf_counter()
        for i in range(0, n, 100):
            write([entry(j) for j in range(i, min(i + 100, n))])
        batched = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(n, n + n // 10):
            write([entry(i)])
        single = (n // 10) / (time.perf_counter() - start)
        start = time.perf_counter()
        count = sum(len(r.entities) for r in stub.Read(p4r.ReadRequest(
            device_id=1, entities=[p4r.Entity(table_entry=p4r.TableEntry(table_id=table.preamble.id))])))
        read = count / (time.perf_counter() - start)
        print(f"p4runtime writes, batches of 100: {batched:8.0f} entries/s ({n} entries)")
        print(f"p4runtime writes, one per RPC:    {single:8.0f} entries/s ({n // 10} RPCs)")
        print(f"p4runtime wildcard read:          {read:8.0f} entries/s ({count} entries)")
    finally:
        channel.close()
        server.stop(0).wait()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 900)  # n + n/10 must fit ipv4_lpm (1024)
