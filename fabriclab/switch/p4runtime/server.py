"""The gRPC face of the P4Runtime server: `serve(switch, address, device_id)`.

Moves messages between gRPC and `Device`: unary RPCs map `P4RuntimeError` to a call
status (Write batches to UNKNOWN + p4.v1.Error details); each StreamChannel gets an
outbound queue fed by its own request reader, arbitration advisories, packet-ins and a
poller thread (digests, idle-timeout sweeps), so nothing on the switch's packet path waits
for a slow client.

As simple_switch_grpc (PI pi_server.cpp process_stream_message_request, DigestMgr::ack),
packet-outs and digest acks from a stream that is not the primary, and acks of a digest or
list the switch does not know, are ignored without a StreamError (PI's stream error
reporting is off by default); they are only logged at debug level.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent import futures
from typing import Any, Iterator

import grpc
from finsy.proto import p4r, p4r_grpc

from fabriclab.errors import FabricError
from fabriclab.switch.p4runtime import port_status
from fabriclab.switch.p4runtime.device import API_VERSION, Device
from fabriclab.switch.p4runtime.status import (
    ERROR_SPACE,
    INVALID_ARGUMENT,
    PERMISSION_DENIED,
    STATUS_DETAILS_BUDGET,
    P4RuntimeError,
    abort_with_status,
    batch_status,
)

DIGEST_POLL_S = 0.05
STREAM_POLL_S = 0.5  # how often an idle StreamChannel handler checks that its call is still alive
STOP_GRACE_S = 0.5  # in-flight RPCs get this long when the server stops ...
STOP_WAIT_S = 2.0  # ... and shutdown waits at most this much more (grpc can leak a broken call)
PACKET_IN_BACKLOG = 10_000  # packet-ins queued for a slow controller before new ones are dropped
READ_CHUNK = 512  # entities per ReadResponse
_CLOSE = object()
_MAX_MESSAGE = 256 * 1024 * 1024

log = logging.getLogger("fabriclab.switch.p4runtime")


class _Stream:
    """One StreamChannel: its outbound queue (identity is the arbitration token)."""

    def __init__(self) -> None:
        self.out: queue.Queue = queue.Queue()

    def send(self, msg: Any) -> None:
        self.out.put(msg)

    def offer(self, msg: Any) -> None:
        """Queue a packet-in unless the client is PACKET_IN_BACKLOG behind (then drop it, as a NIC would)."""
        if self.out.qsize() < PACKET_IN_BACKLOG:
            self.out.put(msg)


def _stream_error(err: P4RuntimeError, **details: Any) -> p4r.StreamMessageResponse:
    return p4r.StreamMessageResponse(error=p4r.StreamError(canonical_code=err.code, message=err.message,
                                                           space=ERROR_SPACE, **details))


class P4RuntimeService(p4r_grpc.P4RuntimeServicer):
    """p4.v1.P4Runtime over a `Device`."""

    def __init__(self, device: Device) -> None:
        self.device = device

    # -------------------------------------------------------------- unary RPCs
    def Capabilities(self, request, context):
        return p4r.CapabilitiesResponse(p4runtime_api_version=API_VERSION)

    def SetForwardingPipelineConfig(self, request, context):
        try:
            self.device.set_pipeline(request)
        except P4RuntimeError as err:
            context.abort(err.grpc_code, err.message)
        return p4r.SetForwardingPipelineConfigResponse()

    def GetForwardingPipelineConfig(self, request, context):
        try:
            return self.device.get_pipeline(request)
        except P4RuntimeError as err:
            context.abort(err.grpc_code, err.message)

    def Write(self, request, context):
        try:
            errors = self.device.write(request)
        except P4RuntimeError as err:
            context.abort(err.grpc_code, err.message)
        if errors:
            abort_with_status(context, batch_status(errors, STATUS_DETAILS_BUDGET))
        return p4r.WriteResponse()

    def Read(self, request, context):
        try:
            entities = self.device.read(request)
        except P4RuntimeError as err:
            context.abort(err.grpc_code, err.message)
        if not entities:
            yield p4r.ReadResponse()
        for start in range(0, len(entities), READ_CHUNK):
            yield p4r.ReadResponse(entities=entities[start:start + READ_CHUNK])

    # -------------------------------------------------------------- stream
    def StreamChannel(self, request_iterator, context) -> Iterator[p4r.StreamMessageResponse]:
        stream = _Stream()
        context.add_callback(lambda: stream.send(_CLOSE))
        reader = threading.Thread(target=self._read_stream, args=(stream, request_iterator), daemon=True,
                                  name="p4rt-stream-reader")
        reader.start()
        try:
            while True:
                try:
                    item = stream.out.get(timeout=STREAM_POLL_S)
                except queue.Empty:
                    if not context.is_active():
                        return
                    continue
                if item is _CLOSE:
                    return
                if isinstance(item, P4RuntimeError):
                    context.abort(item.grpc_code, item.message)
                yield item
        finally:
            self._dispatch(self.device.close_stream(stream))

    def _read_stream(self, stream: _Stream, requests: Iterator[p4r.StreamMessageRequest]) -> None:
        try:
            for msg in requests:
                if not self._handle(stream, msg):
                    return
        except grpc.RpcError:
            pass  # the client went away; the generator's callback closes the stream
        finally:
            stream.send(_CLOSE)

    def _handle(self, stream: _Stream, msg: p4r.StreamMessageRequest) -> bool:
        """Process one client stream message; False once the stream must end."""
        which = msg.WhichOneof("update")
        try:
            if which == "arbitration":
                self._dispatch(self.device.arbitrate(stream, msg.arbitration))
            elif which in ("packet", "digest_ack") and not self.device.is_primary_stream(stream):
                log.debug("ignoring a %s from a stream that is not the primary", which)  # as PI
            elif which == "packet":
                self.device.packet_out(stream, msg.packet)
            elif which == "digest_ack":
                if self.device.digests is None:
                    log.debug("ignoring a digest ack: no pipeline config")  # no digest is known (PI)
                else:
                    self.device.digest_ack(msg.digest_ack)
            else:
                raise P4RuntimeError(INVALID_ARGUMENT, f"unsupported stream message {which}")
        except P4RuntimeError as err:
            if which in ("packet", "digest_ack") and err.code == PERMISSION_DENIED:
                log.debug("ignoring a %s: %s", which, err.message)  # lost the primary role meanwhile
                return True
            if which == "arbitration":
                stream.send(err)  # the spec ends the stream with this status
                return False
            if which == "packet":
                stream.send(_stream_error(err, packet_out=p4r.PacketOutError(packet_out=msg.packet)))
            elif which == "digest_ack":
                stream.send(_stream_error(err, digest_list_ack=p4r.DigestListAckError(digest_list_ack=msg.digest_ack)))
            else:
                stream.send(_stream_error(err))
        return True

    def _dispatch(self, advisories: list) -> None:
        for stream, msg in advisories:
            stream.send(p4r.StreamMessageResponse(arbitration=msg))

    # -------------------------------------------------------------- switch -> controller
    def on_packet_in(self, data: bytes) -> None:
        """Packet-in listener: called by the switch for each packet sent to the CPU port."""
        io, target = self.device.packet_io, self.device.packet_in_stream()
        if io is not None and target is not None:
            target.offer(p4r.StreamMessageResponse(packet=io.packet_in(data)))

    def on_port_status(self, port: int, up: bool) -> None:
        """Port-status listener: watched group members follow the port, then the carrier change
        goes to the primary controller (port_status.py)."""
        self.device.port_changed(port, up)
        target = self.device.packet_in_stream()
        if target is not None:
            target.send(port_status.notification(port, up))

    def poll_digests(self) -> None:
        target = self.device.packet_in_stream()
        for digest_list in self.device.poll_digests(time.monotonic_ns(), target is not None):
            digest_list.timestamp = time.time_ns()  # the spec's timestamp is wall-clock ns since the epoch
            target.send(p4r.StreamMessageResponse(digest=digest_list))

    def poll_idle_timeouts(self) -> None:
        target = self.device.packet_in_stream()
        msg = self.device.poll_idle_timeouts(target is not None)
        if msg is not None:
            target.send(p4r.StreamMessageResponse(idle_timeout_notification=msg))


def serve(switch: Any, address: str = "127.0.0.1:9559", device_id: int = 1, max_workers: int = 16) -> grpc.Server:
    """Start the P4Runtime server for `switch` on `address`; returns the started grpc.Server.

    `switch` follows the protocol in docs/internals.md ("P4Runtime seam"). Stop it with
    `shutdown(server)`; the poller (digests, idle timeouts) ends with it.
    """
    service = P4RuntimeService(Device(switch, device_id))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="p4rt"),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE),
                 # gRPC sets SO_REUSEPORT by default: two switches started at once on one port
                 # would both listen and the kernel would split a controller's connections
                 # between them (arbitration on one, writes on the other); the bind must fail
                 ("grpc.so_reuseport", 0)],
    )
    p4r_grpc.add_P4RuntimeServicer_to_server(service, server)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as err:
        raise FabricError(f"P4Runtime server cannot listen on {address}: {err}") from err
    if port == 0:
        raise FabricError(f"P4Runtime server cannot listen on {address} (in use or invalid)")
    server.start()
    server.bound_port = port  # the port actually bound (useful with "127.0.0.1:0")
    switch.add_packet_in_listener(service.on_packet_in)
    if hasattr(switch, "add_port_status_listener"):
        switch.add_port_status_listener(service.on_port_status)

    wake = threading.Event()
    switch.add_digest_listener(wake.set)

    def poller() -> None:
        # woken by the switch when digests appear; the timeout serves max_timeout_ns/ack
        # timeouts and the ageing sweeps (each second, on the switch's clock)
        while server.wait_for_termination(timeout=0):  # True (timed out) while the server runs
            wake.wait(DIGEST_POLL_S)
            wake.clear()
            service.poll_digests()
            service.poll_idle_timeouts()

    threading.Thread(target=poller, daemon=True, name="p4rt-notifications").start()
    return server


def shutdown(server: grpc.Server, grace: float = STOP_GRACE_S, wait: float = STOP_WAIT_S) -> bool:
    """Stop `server` within about `grace + wait` seconds whatever its clients did; True if it
    also finished cleanly. grpc's own `stop(grace).wait()` can wait forever: a stream that
    sent unparsable bytes can leave a call that never completes."""
    return server.stop(grace).wait(timeout=wait)

