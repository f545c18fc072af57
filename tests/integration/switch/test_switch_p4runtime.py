"""A controller drives `fabriclab switch --no-p4` over real gRPC: it pushes basic.p4 and
LPM routes while the switch's loop forwards, and traffic between the namespaces flows."""

from __future__ import annotations

import os
import sys

import pytest

from conftest import MACS, REPO, finish, wait_listening

pytestmark = pytest.mark.root


def test_controller_loads_lpm_routes_and_traffic_flows(hosts, start_switch):
    from controller.client import Entry, P4RuntimeClient
    from fabriclab.p4 import compile_file

    sw = start_switch("--device-id", "3", program=False)
    echo = hosts.traffic(2, "echo")
    try:
        wait_listening(echo)
        assert finish(hosts.traffic(1, "ping", "10.0.0.2", "2")) == []  # no program: no path

        program = compile_file(os.path.join(REPO, "p4src", "basic.p4"))
        with P4RuntimeClient(sw.grpc_address, device_id=3) as ctl:
            ctl.set_pipeline(program.p4info, program.to_artifact())
            ctl.insert(Entry("MyIngress.ipv4_lpm", {"hdr.ipv4.dstAddr": f"10.0.0.{h}/32"},
                             "MyIngress.ipv4_forward", {"dstAddr": MACS[h], "port": h})
                       for h in (1, 2))
            assert len(finish(hosts.traffic(1, "ping", "10.0.0.2", "5"))) == 5
    finally:
        echo.kill()
        echo.wait()


SEND_FRAME = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(bytes.fromhex(sys.argv[1]))
"""

RECV_FRAME = """
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind(("eth0", 0x88b5)); s.settimeout(10)
print("listening", flush=True)
print(s.recv(2048).hex())
"""


def test_packet_in_and_packet_out_cross_the_grpc_stream(hosts, start_switch):
    import queue

    import grpc
    from finsy.proto import p4r
    from finsy.proto.p4.v1 import p4runtime_pb2_grpc

    from fabriclab.p4 import compile_file

    sw = start_switch("--cpu-port", "255", program=False)
    program = compile_file(os.path.join(REPO, "tests", "data", "switch", "cpu.p4"))
    frame = bytes.fromhex("020000000002" "020000000001" "88b5") + b"fabriclab packet io" * 3
    requests: queue.Queue = queue.Queue()
    with grpc.insecure_channel(sw.grpc_address) as channel:
        stub = p4runtime_pb2_grpc.P4RuntimeStub(channel)
        stream = stub.StreamChannel(iter(requests.get, None))
        try:
            election = p4r.Uint128(high=0, low=1)
            requests.put(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
                device_id=0, election_id=election)))
            assert next(stream).arbitration.status.code == 0
            stub.SetForwardingPipelineConfig(p4r.SetForwardingPipelineConfigRequest(
                device_id=0, election_id=election,
                action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT,
                config=p4r.ForwardingPipelineConfig(p4info=program.p4info,
                                                    p4_device_config=program.to_artifact())))

            sent = hosts.run(1, sys.executable, "-c", SEND_FRAME, frame.hex())
            assert sent.returncode == 0, sent.stderr
            packet_in = next(stream).packet
            assert packet_in.payload == frame
            assert {m.metadata_id: m.value for m in packet_in.metadata}[1] == b"\x01"  # port 1

            receiver = hosts.popen(2, sys.executable, "-c", RECV_FRAME)
            wait_listening(receiver)
            requests.put(p4r.StreamMessageRequest(packet=p4r.PacketOut(
                payload=frame, metadata=[p4r.PacketMetadata(metadata_id=1, value=b"\x02"),
                                         p4r.PacketMetadata(metadata_id=2, value=b"\x00")])))
            out, err = receiver.communicate(timeout=15)
            assert bytes.fromhex(out.split()[-1]) == frame, err
        finally:
            requests.put(None)
