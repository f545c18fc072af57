"""Port status on the P4Runtime stream: the switch tells its controller a port's carrier
changed (docs/resiliency.md).

P4Runtime has no port-status message; targets report it over gNMI (Stratum streams
OpenConfig `/interfaces/interface[name=N]/state/oper-status`, which ONOS turns into port
events). fabriclab's switch serves no gNMI, so it sends that same gNMI `Notification` in the
slot P4Runtime keeps for target-specific messages, `StreamMessageResponse.other` (a
`google.protobuf.Any`), to the primary controller, like a packet-in. A client that does not
know it ignores it. `notification` / `parse` are the two ends; nothing here does I/O.
"""

from __future__ import annotations

import time

from finsy.proto import p4r
from finsy.proto.gnmi1 import gnmi_pb2

OPER_STATUS = ("state", "oper-status")
PORT_ID = ("state", "id")


def _path(port: int, leaf: tuple[str, ...]) -> gnmi_pb2.Path:
    return gnmi_pb2.Path(elem=[gnmi_pb2.PathElem(name="interfaces"),
                               gnmi_pb2.PathElem(name="interface", key={"name": str(port)}),
                               *(gnmi_pb2.PathElem(name=n) for n in leaf)])


def notification(port: int, up: bool, timestamp_ns: int | None = None) -> p4r.StreamMessageResponse:
    """The stream message saying port `port` is now UP or DOWN."""
    note = gnmi_pb2.Notification(
        timestamp=time.time_ns() if timestamp_ns is None else timestamp_ns,
        update=[gnmi_pb2.Update(path=_path(port, PORT_ID), val=gnmi_pb2.TypedValue(uint_val=port)),
                gnmi_pb2.Update(path=_path(port, OPER_STATUS),
                                val=gnmi_pb2.TypedValue(string_val="UP" if up else "DOWN"))])
    msg = p4r.StreamMessageResponse()
    msg.other.Pack(note)
    return msg


def parse(msg: p4r.StreamMessageResponse) -> tuple[int, bool] | None:
    """(port, up) if `msg` is a port-status message, else None."""
    if msg.WhichOneof("update") != "other" or not msg.other.Is(gnmi_pb2.Notification.DESCRIPTOR):
        return None
    note = gnmi_pb2.Notification()
    msg.other.Unpack(note)
    for update in note.update:
        names = tuple(e.name for e in update.path.elem)
        if names[:2] == ("interfaces", "interface") and names[2:] == OPER_STATUS:
            name = update.path.elem[1].key.get("name", "")
            if name.isdigit():
                return int(name), update.val.string_val == "UP"
    return None
