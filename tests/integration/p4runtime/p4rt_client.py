"""A minimal raw P4Runtime client and entity builders for the server tests."""

from __future__ import annotations

import queue
import threading

import grpc
from finsy.proto import U128, p4r, p4r_grpc, rpc_status
from google.protobuf import any_pb2

DEVICE_ID = 1


class Controller:
    """A minimal raw P4Runtime client: one channel, one stream, messages kept in a queue."""

    def __init__(self, address: str, election_id: int | None = 1, device_id: int = DEVICE_ID) -> None:
        self.channel = grpc.insecure_channel(address)
        self.stub = p4r_grpc.P4RuntimeStub(self.channel)
        self.device_id = device_id
        self.election_id = election_id
        self._requests: queue.Queue = queue.Queue()
        self.messages: queue.Queue = queue.Queue()
        self.stream_error: grpc.RpcError | None = None
        self._call = self.stub.StreamChannel(iter(self._requests.get, None))
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for msg in self._call:
                self.messages.put(msg)
        except grpc.RpcError as err:
            self.stream_error = err
        self.messages.put(None)

    def send(self, msg: p4r.StreamMessageRequest) -> None:
        self._requests.put(msg)

    def next(self, kind: str, timeout: float = 5.0):
        """The next stream message of `kind` (arbitration, packet, digest, error)."""
        while True:
            msg = self.messages.get(timeout=timeout)
            if msg is None:
                raise AssertionError(f"stream ended: {self.stream_error}")
            if msg.WhichOneof("update") == kind:
                return getattr(msg, kind)

    def arbitrate(self, election_id: int | None = None):
        election_id = self.election_id if election_id is None else election_id
        update = p4r.MasterArbitrationUpdate(device_id=self.device_id)
        if election_id is not None:
            update.election_id.CopyFrom(U128.encode(election_id))
        self.send(p4r.StreamMessageRequest(arbitration=update))
        return self.next("arbitration")

    def set_pipeline(self, compiled, action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT,
                     device_config: bytes | None = None, p4info=None, cookie: int = 7):
        req = p4r.SetForwardingPipelineConfigRequest(device_id=self.device_id, action=action)
        if self.election_id is not None:
            req.election_id.CopyFrom(U128.encode(self.election_id))
        if compiled is not None:
            req.config.p4info.CopyFrom(p4info or compiled.p4info)
            req.config.p4_device_config = device_config if device_config is not None else compiled.to_artifact()
            req.config.cookie.cookie = cookie
        return self.stub.SetForwardingPipelineConfig(req)

    def write(self, *updates: p4r.Update, **fields):
        req = p4r.WriteRequest(device_id=self.device_id, updates=updates, **fields)
        if self.election_id is not None and "election_id" not in fields:
            req.election_id.CopyFrom(U128.encode(self.election_id))
        return self.stub.Write(req)

    def read(self, *entities: p4r.Entity) -> list[p4r.Entity]:
        out = []
        for reply in self.stub.Read(p4r.ReadRequest(device_id=self.device_id, entities=entities)):
            out.extend(reply.entities)
        return out

    def close(self) -> None:
        self._requests.put(None)
        self.channel.close()


def batch_errors(err: grpc.RpcError) -> list[p4r.Error]:
    """The p4.v1.Error list of a failed Write (from grpc-status-details-bin)."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = rpc_status.Status.FromString(value)
            out = []
            for detail in status.details:
                error = p4r.Error()
                assert any_pb2.Any.Unpack(detail, error)
                out.append(error)
            return out
    raise AssertionError("no grpc-status-details-bin in the error")


def pid(p4info, kind: str, name: str) -> int:
    """The P4Info id of `name` (full name or alias) among `kind` ("tables", "actions", ...)."""
    for obj in getattr(p4info, kind):
        if name in (obj.preamble.name, obj.preamble.alias):
            return obj.preamble.id
    raise KeyError(f"{name} not in P4Info {kind}")


def exact(field_id: int, value: bytes) -> p4r.FieldMatch:
    return p4r.FieldMatch(field_id=field_id, exact=p4r.FieldMatch.Exact(value=value))


def action(p4info, name: str, *params: bytes) -> p4r.TableAction:
    return p4r.TableAction(action=p4r.Action(
        action_id=pid(p4info, "actions", name),
        params=[p4r.Action.Param(param_id=i, value=v) for i, v in enumerate(params, 1)]))


def update(kind: str, **entity) -> p4r.Update:
    return p4r.Update(type=getattr(p4r.Update, kind), entity=p4r.Entity(**entity))


def failure_code(call) -> grpc.StatusCode:
    """The status `call()` fails with; for a one-update Write batch, that update's own code."""
    try:
        call()
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.UNKNOWN:
            errors = batch_errors(err)
            if len(errors) == 1:
                return next(c for c in grpc.StatusCode if c.value[0] == errors[0].canonical_code)
        return err.code()
    raise AssertionError("the call succeeded")
