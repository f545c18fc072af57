"""P4Runtime errors as the spec names them, and their google.rpc encodings.

Library code raises `P4RuntimeError(code, message)`; the gRPC layer turns it into a call
status, and a batch of per-update errors into UNKNOWN with one `p4.v1.Error` per update
in the `grpc-status-details-bin` trailer (what PI/BMv2 and every client library expect).
"""

from __future__ import annotations

import grpc
from finsy.proto import p4r, rpc_code, rpc_status
from google.protobuf import any_pb2

from fabriclab.errors import FabricError

OK = rpc_code.OK
CANCELLED = rpc_code.CANCELLED
UNKNOWN = rpc_code.UNKNOWN
INVALID_ARGUMENT = rpc_code.INVALID_ARGUMENT
NOT_FOUND = rpc_code.NOT_FOUND
ALREADY_EXISTS = rpc_code.ALREADY_EXISTS
PERMISSION_DENIED = rpc_code.PERMISSION_DENIED
RESOURCE_EXHAUSTED = rpc_code.RESOURCE_EXHAUSTED
FAILED_PRECONDITION = rpc_code.FAILED_PRECONDITION
OUT_OF_RANGE = rpc_code.OUT_OF_RANGE
UNIMPLEMENTED = rpc_code.UNIMPLEMENTED
INTERNAL = rpc_code.INTERNAL

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# The `space` PI puts in every failed update's p4.v1.Error and every StreamError
# (proto/frontend/src/device_mgr.cpp P4ErrorReporter, packet_io_mgr.cpp); `code` stays 0.
ERROR_SPACE = "ALL-sswitch-p4org"
# gRPC clients refuse response metadata over 8 KiB by default (grpc.max_metadata_size), and
# binary metadata travels base64-encoded: 4 KiB of serialized status leaves room for the rest.
STATUS_DETAILS_BUDGET = 4096
_MESSAGE_LIMITS = (None, 200, 60, 20, 0)  # per-update message lengths tried, longest first


class P4RuntimeError(FabricError):
    """A request the spec says must fail with `code` (a google.rpc.Code value)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def grpc_code(self) -> grpc.StatusCode:
        return grpc_code(self.code)

    def to_error(self) -> p4r.Error:
        return p4r.Error(canonical_code=self.code, message=self.message, space=ERROR_SPACE)


def grpc_code(code: int) -> grpc.StatusCode:
    """Map a google.rpc.Code number to grpc.StatusCode."""
    for status in grpc.StatusCode:
        if status.value[0] == code:
            return status
    return grpc.StatusCode.UNKNOWN


def batch_status(errors: list[p4r.Error], budget: int | None = None) -> rpc_status.Status:
    """The Write status for a batch with at least one failed update (spec 12.3).

    With a `budget` (bytes), per-update messages are shortened (and their `space` dropped)
    until the status fits, so the client still gets one p4.v1.Error per update with its code;
    only if the codes alone do not fit are the details dropped, and the message then names the
    first failure.
    """
    failed = [(i, e) for i, e in enumerate(errors) if e.canonical_code != OK]
    summary = f"{len(failed)} of {len(errors)} updates failed"
    for limit in _MESSAGE_LIMITS:
        details = []
        for error in errors:
            shown = error if limit is None else \
                p4r.Error(canonical_code=error.canonical_code, message=error.message[:limit])
            packed = any_pb2.Any()
            packed.Pack(shown)
            details.append(packed)
        status = rpc_status.Status(code=UNKNOWN, message=summary, details=details)
        if budget is None or status.ByteSize() <= budget:
            return status
    first, error = failed[0]
    return rpc_status.Status(code=UNKNOWN, message=f"{summary} (too many for per-update details); first: "
                             f"update {first}: {error.message[:200]}")


def abort_with_status(context: grpc.ServicerContext, status: rpc_status.Status) -> None:
    """End the call with `status`, its details in the standard trailer."""
    context.set_trailing_metadata(((STATUS_DETAILS_KEY, status.SerializeToString()),))
    context.abort(grpc_code(status.code), status.message)
