"""StreamChannel over real gRPC: packet-out/packet-in with metadata, digests and acks."""

import threading
import time

import grpc
from finsy.proto import p4r
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from p4rt_client import action, exact, pid, update

FRAME = bytes(Ether(dst="00:00:00:00:00:0b", src="00:00:00:00:00:0a") / IP(dst="10.1.2.3") / UDP() / b"payload!")


def transmitted(switch, timeout=5.0):
    """Wait for the switch to send the packet-out (it runs on the stream's reader thread)."""
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if switch.transmitted:
            return switch.transmitted
        done.wait(0.01)
    return switch.transmitted


def packet_out(egress_port: bytes, payload=FRAME, metadata=True):
    md = [p4r.PacketMetadata(metadata_id=1, value=egress_port), p4r.PacketMetadata(metadata_id=2, value=b"\x00")]
    return p4r.StreamMessageRequest(packet=p4r.PacketOut(payload=payload, metadata=md if metadata else []))


def test_packet_out_goes_through_the_data_plane(primary, switch_and_address):
    switch, _ = switch_and_address
    primary.send(packet_out(b"\x00\x02"))
    assert transmitted(switch) == [(2, FRAME)]


def test_packet_out_errors_are_reported_on_the_stream(primary, connect, switch_and_address):
    switch, _ = switch_and_address
    unknown = p4r.StreamMessageRequest(packet=p4r.PacketOut(
        payload=FRAME, metadata=[p4r.PacketMetadata(metadata_id=9, value=b"\x02")]))
    primary.send(unknown)
    error = primary.next("error")
    assert error.canonical_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert error.packet_out.packet_out.payload == FRAME
    assert switch.transmitted == []


def test_packet_in_carries_the_controller_header_metadata(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    info = compiled.p4info
    primary.write(update("INSERT", table_entry=p4r.TableEntry(
        table_id=pid(info, "tables", "dmac"), match=[exact(1, b"\x0b")], action=action(info, "to_cpu"))))
    switch.receive(4, FRAME)
    packet = primary.next("packet")
    assert packet.payload == FRAME
    assert [(m.metadata_id, m.value) for m in packet.metadata] == [(1, b"\x04"), (2, b"\x00")]


def test_digest_delivered_and_acked(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    digest_id = pid(compiled.p4info, "digests", "learn_t")
    config = p4r.DigestEntry.Config(max_timeout_ns=0, max_list_size=1, ack_timeout_ns=10**9)
    primary.write(update("INSERT", digest_entry=p4r.DigestEntry(digest_id=digest_id, config=config)))
    got = primary.read(p4r.Entity(digest_entry=p4r.DigestEntry(digest_id=digest_id)))
    assert [e.digest_entry.config for e in got] == [config]

    switch.receive(6, FRAME)  # smac misses: the default action learn() sends a digest
    digest = primary.next("digest")
    assert digest.digest_id == digest_id and len(digest.data) == 1
    assert abs(digest.timestamp - time.time_ns()) < 60 * 10**9  # wall clock, not switch uptime
    members = [m.bitstring for m in digest.data[0].struct.members]
    assert members == [bytes.fromhex("0a"), b"\x06"]  # srcAddr 00:..:0a canonical, port 6
    primary.send(p4r.StreamMessageRequest(digest_ack=p4r.DigestListAck(digest_id=digest_id, list_id=digest.list_id)))
    # an invalid packet-out (unknown metadata id) answers a StreamError: it tells us the ack
    # before it was handled (the stream's messages are handled in order)
    primary.send(p4r.StreamMessageRequest(packet=p4r.PacketOut(
        payload=FRAME, metadata=[p4r.PacketMetadata(metadata_id=9, value=b"\x02")])))
    assert primary.next("error").HasField("packet_out")

    switch.receive(6, FRAME)  # acked, so the same value is reported again
    again = primary.next("digest")
    assert again.list_id != digest.list_id and again.data == digest.data


def test_digests_before_configuration_are_dropped(primary, compiled, switch_and_address):
    switch, _ = switch_and_address
    switch.receive(6, FRAME)  # no DigestEntry yet: this digest goes nowhere
    digest_id = pid(compiled.p4info, "digests", "learn_t")
    config = p4r.DigestEntry.Config(max_timeout_ns=0, max_list_size=1)
    primary.write(update("INSERT", digest_entry=p4r.DigestEntry(digest_id=digest_id, config=config)))
    switch.receive(7, bytes(Ether(src="00:00:00:00:00:0c") / b"later"))
    members = [m.bitstring for m in primary.next("digest").data[0].struct.members]
    assert members == [b"\x0c", b"\x07"]
