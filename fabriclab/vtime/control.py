"""The controller's P4Runtime client, in process: the same requests, no gRPC.

`InProcessClient` is a `controller.client.P4RuntimeClient` whose stub calls the switch's
`fabriclab.switch.p4runtime.device.Device` directly, so the controller (route plans,
groups, modes, ECN, INT, link failures) runs unchanged against simulated switches, with
P4Runtime's semantics (arbitration, canonical byte strings, per-update errors) intact.
It is synchronous like the real client; in virtual time a write takes effect at the
instant it is made, which is what scheduled control actions (`Fabric.at`) rely on.
"""

from __future__ import annotations

from typing import Any, Iterator

from finsy.proto import p4r

from controller.client import P4RuntimeClient
from fabriclab.errors import FabricError
from fabriclab.switch.p4runtime.device import Device
from fabriclab.switch.p4runtime.status import P4RuntimeError


class _DeviceStub:
    """The four unary RPCs the client uses, answered by a Device."""

    def __init__(self, device: Device, name: str) -> None:
        self.device, self.name = device, name

    def _fail(self, method: str, err: P4RuntimeError) -> FabricError:
        return FabricError(f"{self.name}: {method} failed: {err.grpc_code.name}: {err.message}")

    def SetForwardingPipelineConfig(self, request: Any, timeout: float | None = None) -> Any:
        try:
            self.device.set_pipeline(request)
        except P4RuntimeError as err:
            raise self._fail("SetForwardingPipelineConfig", err) from None
        return p4r.SetForwardingPipelineConfigResponse()

    def GetForwardingPipelineConfig(self, request: Any, timeout: float | None = None) -> Any:
        try:
            return self.device.get_pipeline(request)
        except P4RuntimeError as err:
            raise self._fail("GetForwardingPipelineConfig", err) from None

    def Write(self, request: Any, timeout: float | None = None) -> Any:
        try:
            errors = self.device.write(request)
        except P4RuntimeError as err:
            raise self._fail("Write", err) from None
        if errors:
            details = "".join(f"\n  update {i}: {e.message}" for i, e in enumerate(errors)
                              if e.canonical_code)
            raise FabricError(f"{self.name}: Write failed:{details}")
        return p4r.WriteResponse()

    def Read(self, request: Any, timeout: float | None = None) -> Iterator[Any]:
        try:
            entities = self.device.read(request)
        except P4RuntimeError as err:
            raise self._fail("Read", err) from None
        return iter([p4r.ReadResponse(entities=entities)])


class InProcessClient(P4RuntimeClient):
    """A P4RuntimeClient bound to one simulated switch's Device."""

    def __init__(self, device: Device, name: str, election_id: int = 1) -> None:
        super().__init__(f"vtime:{name}", device.device_id, election_id)
        self.device = device
        self.stub = _DeviceStub(device, name)

    def connect(self) -> None:
        """Become primary, as the real client does over its stream."""
        self.device.arbitrate(self, p4r.MasterArbitrationUpdate(
            device_id=self.device_id, election_id=p4r.Uint128(high=0, low=self.election_id)))

    def close(self) -> None:
        self.device.close_stream(self)

    def _call(self, method: str, request: Any) -> Any:
        return getattr(self.stub, method)(request)

    def read(self, entity: p4r.Entity) -> list[p4r.Entity]:
        request = p4r.ReadRequest(device_id=self.device_id, entities=[entity])
        return [e for reply in self.stub.Read(request) for e in reply.entities]
