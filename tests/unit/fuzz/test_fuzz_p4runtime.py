"""Fuzz the P4Runtime server over real gRPC with random, well-typed but invalid messages.

Entities are filled field by field from their protobuf descriptors (ids mostly taken from
the P4Info so requests get past the first lookup, integers at their boundaries, byte
strings of every length). Every answer must be OK or a code the spec names for that RPC,
a failed Write batch must carry one p4.v1.Error per update with such a code, and the
server must keep answering (Capabilities after every round, a stream that still
arbitrates).
"""

from __future__ import annotations

import pathlib
import random
import sys

import grpc
import pytest
from fuzzing import scaled
from finsy.proto import U128, p4r

HERE = pathlib.Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2] / "integration" / "p4runtime"))

from p4rt_client import DEVICE_ID, Controller, batch_errors  # noqa: E402

from fabriclab.switch.p4runtime.loopback import LoopbackSwitch  # noqa: E402
from fabriclab.switch.p4runtime.server import serve, shutdown  # noqa: E402

PROGRAM = HERE.parents[2] / "integration" / "p4runtime" / "p4rt_test.p4"
C = grpc.StatusCode
WRITE_CODES = {C.INVALID_ARGUMENT, C.NOT_FOUND, C.ALREADY_EXISTS, C.OUT_OF_RANGE, C.RESOURCE_EXHAUSTED,
               C.PERMISSION_DENIED, C.FAILED_PRECONDITION, C.UNIMPLEMENTED}
READ_CODES = {C.INVALID_ARGUMENT, C.NOT_FOUND, C.OUT_OF_RANGE, C.RESOURCE_EXHAUSTED, C.UNIMPLEMENTED}
INTS = [0, 1, 2, 3, -1, 255, 256, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1, -(2**63)]
ENTITIES = [f.name for f in p4r.Entity.DESCRIPTOR.fields]


class Filler:
    """Random protobuf messages of a given type, ids drawn mostly from the P4Info."""

    def __init__(self, rng: random.Random, ids: list[int]) -> None:
        self.rng, self.ids = rng, ids

    def scalar(self, fd):
        rng = self.rng
        if fd.type == fd.TYPE_BYTES:
            return bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 1, 2, 4, 6, 9, 17))))
        if fd.type == fd.TYPE_STRING:
            return rng.choice(("", "x", "default", "\u00e9"))
        if fd.type == fd.TYPE_BOOL:
            return rng.random() < 0.5
        if fd.type == fd.TYPE_ENUM:
            return rng.choice([v.number for v in fd.enum_type.values] + [99])
        if fd.name.endswith("_id") and rng.random() < 0.7:
            value = rng.choice(self.ids + [0, 1])
        else:
            value = rng.choice(INTS)
        unsigned = fd.type in (fd.TYPE_UINT32, fd.TYPE_UINT64, fd.TYPE_FIXED32, fd.TYPE_FIXED64)
        bits = 32 if fd.type in (fd.TYPE_UINT32, fd.TYPE_INT32, fd.TYPE_FIXED32, fd.TYPE_SINT32,
                                 fd.TYPE_SFIXED32) else 64
        if unsigned:
            return value % (1 << bits)
        return max(-(1 << (bits - 1)), min((1 << (bits - 1)) - 1, value))

    def fill(self, msg, depth: int = 0) -> None:
        rng = self.rng
        oneofs = {o.name: rng.choice(o.fields) for o in msg.DESCRIPTOR.oneofs}
        for fd in msg.DESCRIPTOR.fields:
            if fd.containing_oneof is not None and oneofs[fd.containing_oneof.name] is not fd:
                continue
            if rng.random() < 0.3 or (fd.message_type is not None and depth > 4):
                continue
            if fd.message_type is not None and fd.message_type.full_name == "google.protobuf.Any":
                continue
            current = getattr(msg, fd.name)
            repeated = hasattr(current, "append") or hasattr(current, "add")
            count = rng.choice((1, 1, 2, 3)) if repeated else 1
            for _ in range(count):
                if fd.message_type is not None:
                    if fd.message_type.GetOptions().map_entry:
                        break
                    target = getattr(msg, fd.name).add() if repeated else getattr(msg, fd.name)
                    self.fill(target, depth + 1)
                    if not repeated:
                        target.SetInParent()
                elif repeated:
                    getattr(msg, fd.name).append(self.scalar(fd))
                else:
                    setattr(msg, fd.name, self.scalar(fd))

    def entity(self) -> p4r.Entity:
        which = self.rng.choice(ENTITIES)
        entity = p4r.Entity()
        inner = getattr(entity, which)
        self.fill(inner)
        inner.SetInParent()
        return entity


@pytest.fixture(scope="module")
def compiled():
    from fabriclab.p4 import compile_file

    return compile_file(str(PROGRAM))


def _code(err: grpc.RpcError) -> C:
    return err.code()


def test_random_invalid_requests_get_spec_codes_and_the_server_keeps_answering(compiled, tally):
    switch = LoopbackSwitch(device_id=DEVICE_ID, cpu_port=255)
    srv = serve(switch, "127.0.0.1:0", DEVICE_ID)
    address = f"127.0.0.1:{srv.bound_port}"
    ctl = Controller(address, 1)
    try:
        ctl.arbitrate()
        ctl.set_pipeline(compiled)
        ids = [o.preamble.id for kind in ("tables", "actions", "action_profiles", "counters", "direct_counters",
                                          "meters", "direct_meters", "registers", "digests")
               for o in getattr(compiled.p4info, kind)]
        rng = random.Random("p4runtime-fuzz")
        fill = Filler(rng, ids)
        for round_ in range(scaled(40)):
            for _ in range(10):
                if rng.random() < 0.6:
                    updates = [p4r.Update(type=rng.choice((0, 1, 2, 3, 7)), entity=fill.entity())
                               for _ in range(rng.randint(1, 5))]
                    try:
                        ctl.write(*updates)
                        tally["write ok"] += 1
                    except grpc.RpcError as err:
                        code = _code(err)
                        if code == C.UNKNOWN:
                            errors = batch_errors(err)
                            assert len(errors) == len(updates)
                            for e in errors:
                                assert e.canonical_code == 0 or C(next(c for c in C if c.value[0] == e.canonical_code)) \
                                    in WRITE_CODES, e
                            tally["write batch failed"] += 1
                        else:
                            assert code in WRITE_CODES, err
                            tally[f"write {code.name}"] += 1
                else:
                    request = p4r.ReadRequest(device_id=DEVICE_ID, entities=[fill.entity()])
                    try:
                        list(ctl.stub.Read(request, timeout=30))
                        tally["read ok"] += 1
                    except grpc.RpcError as err:
                        assert _code(err) in READ_CODES, err
                        tally[f"read {_code(err).name}"] += 1
            assert ctl.stub.Capabilities(p4r.CapabilitiesRequest()).p4runtime_api_version == "1.3.0"
            if round_ % 10 == 9:  # the stream side: random messages, then arbitration still works
                side = Controller(address, None)
                for _ in range(5):
                    msg = p4r.StreamMessageRequest()
                    fill.fill(msg)
                    side.send(msg)
                side.close()
                tally["stream messages"] += 5
        ctl.send(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
            device_id=DEVICE_ID, election_id=U128.encode(1))))
        assert ctl.next("arbitration").status.code == 0
    finally:
        ctl.close()
        shutdown(srv)
