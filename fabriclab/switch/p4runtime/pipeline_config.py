"""SetForwardingPipelineConfig / GetForwardingPipelineConfig (spec 14).

`p4_device_config` is what BMv2 calls the device config: for us either a pipeline artifact
(the JSON `fabriclab compile` writes) or P4-16 source text. The P4Info in the request must
agree with the program's own P4Info on every object's id and name, so a controller can never
drive a program with a P4Info from another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from finsy.proto import p4r

from fabriclab.errors import FabricError
from fabriclab.switch.p4runtime.status import (
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    UNIMPLEMENTED,
    P4RuntimeError,
)

_CHECKED_KINDS = ("tables", "actions", "action_profiles", "counters", "direct_counters",
                  "meters", "direct_meters", "registers", "digests", "controller_packet_metadata")

SetAction = p4r.SetForwardingPipelineConfigRequest.Action
ResponseType = p4r.GetForwardingPipelineConfigRequest.ResponseType


def load_program(device_config: bytes) -> Any:
    """The CompiledProgram a device config holds (artifact JSON or P4 source)."""
    from fabriclab import p4 as toolchain

    if not device_config:
        raise P4RuntimeError(INVALID_ARGUMENT, "p4_device_config is empty: send the artifact JSON or the P4 source")
    try:
        if device_config.lstrip().startswith(b"{"):
            if b'"header_types"' in device_config and b'"pipelines"' in device_config:
                raise P4RuntimeError(INVALID_ARGUMENT, "p4_device_config is a BMv2 JSON: the built-in switch takes "
                                     "the fabriclab artifact (`fabriclab compile`) or the P4 source")
            return toolchain.load_artifact(device_config)
        return toolchain.compile_source(device_config.decode("utf-8"), name="<p4_device_config>")
    except UnicodeDecodeError as err:
        raise P4RuntimeError(INVALID_ARGUMENT, f"p4_device_config is neither JSON nor UTF-8 P4 source: {err}") from err
    except FabricError as err:
        raise P4RuntimeError(INVALID_ARGUMENT, f"p4_device_config rejected: {err}") from err


def check_p4info(given: Any, program_p4info: Any) -> None:
    """INVALID_ARGUMENT unless `given` names every object as the program's P4Info does."""
    for kind in _CHECKED_KINDS:
        ours = {o.preamble.id: o.preamble.name for o in getattr(program_p4info, kind)}
        theirs = {o.preamble.id: o.preamble.name for o in getattr(given, kind)}
        if ours != theirs:
            diff = sorted(set(ours.items()) ^ set(theirs.items()))
            raise P4RuntimeError(
                INVALID_ARGUMENT,
                f"the P4Info does not match the program in p4_device_config ({kind}: {diff[:3]} differ)",
            )


@dataclass
class PipelineConfigs:
    """The saved (VERIFY_AND_SAVE) and committed pipeline configs of a device."""

    committed: p4r.ForwardingPipelineConfig | None = None
    saved: tuple[p4r.ForwardingPipelineConfig, Any] | None = None

    def prepare(self, request: p4r.SetForwardingPipelineConfigRequest) -> tuple[p4r.ForwardingPipelineConfig, Any] | None:
        """Verify/save per `request.action`; return (config, program) to commit now, if any."""
        action = request.action
        if action == SetAction.RECONCILE_AND_COMMIT:
            raise P4RuntimeError(UNIMPLEMENTED, "RECONCILE_AND_COMMIT is not supported (as simple_switch_grpc)")
        if action == SetAction.COMMIT:
            if self.saved is None:
                raise P4RuntimeError(FAILED_PRECONDITION, "COMMIT without a config saved by VERIFY_AND_SAVE")
            staged, self.saved = self.saved, None
            return staged
        if action not in (SetAction.VERIFY, SetAction.VERIFY_AND_SAVE, SetAction.VERIFY_AND_COMMIT):
            raise P4RuntimeError(INVALID_ARGUMENT, f"unknown SetForwardingPipelineConfig action {action}")
        if not request.HasField("config") or not request.config.HasField("p4info"):
            raise P4RuntimeError(INVALID_ARGUMENT, "the request carries no P4Info")
        program = load_program(request.config.p4_device_config)
        check_p4info(request.config.p4info, program.p4info)
        config = p4r.ForwardingPipelineConfig()
        config.CopyFrom(request.config)
        if action == SetAction.VERIFY_AND_SAVE:
            self.saved = (config, program)
        return (config, program) if action == SetAction.VERIFY_AND_COMMIT else None

    def get(self, response_type: int) -> p4r.ForwardingPipelineConfig:
        """The committed config trimmed to `response_type` (empty before any commit)."""
        reply = p4r.ForwardingPipelineConfig()
        if self.committed is None:
            return reply
        if self.committed.HasField("cookie"):
            reply.cookie.CopyFrom(self.committed.cookie)
        if response_type in (ResponseType.ALL, ResponseType.P4INFO_AND_COOKIE):
            reply.p4info.CopyFrom(self.committed.p4info)
        if response_type in (ResponseType.ALL, ResponseType.DEVICE_CONFIG_AND_COOKIE):
            reply.p4_device_config = self.committed.p4_device_config
        if response_type not in ResponseType.values():
            raise P4RuntimeError(INVALID_ARGUMENT, f"unknown response_type {response_type}")
        return reply
