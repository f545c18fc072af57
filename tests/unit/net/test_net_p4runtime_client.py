"""controller.client against a real gRPC P4Runtime servicer on 127.0.0.1 that records what
it receives (the switch's own server is tested by its owners)."""

from concurrent import futures

import grpc
import pytest
from finsy.proto import p4i, p4r, rpc_status
from finsy.proto.p4.v1 import p4runtime_pb2_grpc
from google.protobuf import any_pb2

from controller.client import Entry, P4RuntimeClient, encode
from fabriclab.errors import FabricError

P4INFO = p4i.P4Info(
    tables=[p4i.Table(preamble=p4i.Preamble(id=37375156, name="MyIngress.ipv4_lpm", alias="ipv4_lpm"),
                      match_fields=[p4i.MatchField(id=1, name="hdr.ipv4.dstAddr", bitwidth=32,
                                                   match_type=p4i.MatchField.LPM)])],
    actions=[p4i.Action(preamble=p4i.Preamble(id=28792405, name="MyIngress.ipv4_forward", alias="ipv4_forward"),
                        params=[p4i.Action.Param(id=1, name="dstAddr", bitwidth=48),
                                p4i.Action.Param(id=2, name="port", bitwidth=9)])])


class Recorder(p4runtime_pb2_grpc.P4RuntimeServicer):
    def __init__(self):
        self.writes, self.entries, self.fail_next = [], [], False

    def StreamChannel(self, requests, context):
        for req in requests:
            if req.HasField("arbitration"):
                yield p4r.StreamMessageResponse(arbitration=req.arbitration)

    def SetForwardingPipelineConfig(self, request, context):
        self.config = request.config
        return p4r.SetForwardingPipelineConfigResponse()

    def Write(self, request, context):
        if self.fail_next:
            details = any_pb2.Any()
            details.Pack(p4r.Error(canonical_code=grpc.StatusCode.ALREADY_EXISTS.value[0],
                                   message="entry exists"))
            status = rpc_status.Status(code=2, message="write failed", details=[details])
            context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
            context.abort(grpc.StatusCode.UNKNOWN, "write failed")
        self.writes.append(request)
        self.entries += [u.entity for u in request.updates]
        return p4r.WriteResponse()

    def Read(self, request, context):
        yield p4r.ReadResponse(entities=self.entries)


@pytest.fixture
def server():
    recorder = Recorder()
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    p4runtime_pb2_grpc.add_P4RuntimeServicer_to_server(recorder, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    try:
        yield recorder, f"127.0.0.1:{port}"
    finally:
        srv.stop(0)


def test_encode_canonical():
    assert encode(0, 9) == b"\x00"
    assert encode(3, 9) == b"\x03"
    assert encode("10.0.1.0", 32) == b"\x0a\x00\x01\x00"
    assert encode("00:00:00:00:01:02", 48) == b"\x01\x02"
    with pytest.raises(FabricError, match="does not fit in 9 bits"):
        encode(512, 9)
    with pytest.raises(FabricError, match="cannot read"):
        encode("ten", 8)


def test_pipeline_write_read(server):
    recorder, address = server
    with P4RuntimeClient(address, device_id=3, election_id=7) as client:
        client.set_pipeline(P4INFO, b"cfg")
        client.insert([Entry("MyIngress.ipv4_lpm", {"hdr.ipv4.dstAddr": "10.0.2.0/24"},
                             "MyIngress.ipv4_forward", {"dstAddr": "02:01:00:00:00:03", "port": 3})])
        (entry,) = client.read_table("MyIngress.ipv4_lpm")
    assert recorder.config.p4_device_config == b"cfg"
    request = recorder.writes[0]
    assert (request.device_id, request.election_id.low) == (3, 7)
    assert entry.table_id == 37375156
    assert (entry.match[0].lpm.value, entry.match[0].lpm.prefix_len) == (b"\x0a\x00\x02\x00", 24)
    params = entry.action.action.params
    assert [(p.param_id, p.value) for p in params] == [(1, b"\x02\x01\x00\x00\x00\x03"), (2, b"\x03")]


def test_errors_name_the_problem(server):
    recorder, address = server
    with P4RuntimeClient(address) as client:
        client.set_pipeline(P4INFO, b"")
        with pytest.raises(FabricError, match="no table named 'nope'"):
            client.insert([Entry("nope", {}, "x", {})])
        with pytest.raises(FabricError, match="has no key 'dst'"):
            client.insert([Entry("ipv4_lpm", {"dst": 1}, "ipv4_forward", {})])
        with pytest.raises(FabricError, match=r"missing \['port'\]"):
            client.insert([Entry("ipv4_lpm", {}, "ipv4_forward", {"dstAddr": 1})])
        recorder.fail_next = True
        with pytest.raises(FabricError, match="update 0: ALREADY_EXISTS: entry exists"):
            client.insert([Entry("ipv4_lpm", {"hdr.ipv4.dstAddr": ("10.0.0.0", 8)},
                                 "ipv4_forward", {"dstAddr": 1, "port": 1})])


def test_no_server_is_a_clear_error():
    with pytest.raises(FabricError, match="no P4Runtime server at 127.0.0.1:1"):
        P4RuntimeClient("127.0.0.1:1", timeout=0.5).connect()
