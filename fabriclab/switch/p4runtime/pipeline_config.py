"""SetForwardingPipelineConfig / GetForwardingPipelineConfig (spec 14).

`p4_device_config` is what BMv2 calls the device config: for us either a pipeline artifact
(the JSON `fabriclab compile` writes) or P4-16 source text. The P4Info in the request must
agree with the program's own P4Info object by object (ids, names, sizes, widths, match kinds,
action parameters, units, type specs; docs and annotations may differ), so a controller can
never drive a program with a P4Info that would make later requests fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from finsy.proto import p4r
from google.protobuf.message import Message

from fabriclab.errors import FabricError
from fabriclab.switch.p4runtime import selector_limits
from fabriclab.switch.p4runtime.status import (
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    NOT_FOUND,
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


_COSMETIC = frozenset({"doc", "annotations", "structured_annotations", "annotation_locations", "alias"})


def _semantic(msg: Any) -> Any:
    """A copy of a P4Info object without what does not change how requests are served."""
    out = type(msg)()
    out.CopyFrom(msg)
    stack = [out]
    while stack:
        m = stack.pop()
        for fd, value in m.ListFields():
            if fd.name in _COSMETIC:
                m.ClearField(fd.name)
            elif fd.message_type is not None and not fd.message_type.GetOptions().map_entry:
                stack.extend([value] if isinstance(value, Message) else value)
    return out


def _first_difference(ours: Any, theirs: Any) -> str:
    for fd in type(ours).DESCRIPTOR.fields:
        if getattr(ours, fd.name) != getattr(theirs, fd.name):
            return fd.name
    return "?"


def check_p4info(given: Any, program_p4info: Any) -> None:
    """INVALID_ARGUMENT unless `given` describes every object as the program's P4Info does."""
    for kind in _CHECKED_KINDS:
        ours = {o.preamble.id: _semantic(o) for o in getattr(program_p4info, kind)}
        theirs = {o.preamble.id: _semantic(o) for o in getattr(given, kind)}
        if ours.keys() != theirs.keys():
            names = {o.preamble.id: o.preamble.name for o in getattr(program_p4info, kind)}
            names.update((o.preamble.id, o.preamble.name) for o in getattr(given, kind))
            diff = sorted(f"{names[i]} (id {i})" for i in ours.keys() ^ theirs.keys())
            raise P4RuntimeError(INVALID_ARGUMENT, f"the P4Info does not match the program in "
                                 f"p4_device_config: {kind} {', '.join(diff[:3])} only in one of them")
        for obj_id, mine in ours.items():
            if mine != theirs[obj_id]:
                field = _first_difference(mine, theirs[obj_id])
                raise P4RuntimeError(INVALID_ARGUMENT, f"the P4Info does not match the program in "
                                     f"p4_device_config: {kind} '{mine.preamble.name}' differs in {field}")


@dataclass
class PipelineConfigs:
    """The config of a device that requests refer to, and whether it still awaits a COMMIT.

    As spec 14 and PI (DeviceMgr::pipeline_config_set) have it, VERIFY_AND_SAVE makes the new
    config the one Read/Write/Get refer to at once; COMMIT then puts it in the data plane.
    """

    current: p4r.ForwardingPipelineConfig | None = None
    uncommitted: bool = False  # `current` was saved by VERIFY_AND_SAVE and not yet committed

    def verify(self, request: p4r.SetForwardingPipelineConfigRequest
               ) -> tuple[p4r.ForwardingPipelineConfig, Any] | None:
        """Check a VERIFY/VERIFY_AND_SAVE/VERIFY_AND_COMMIT/RECONCILE_AND_COMMIT request;
        (config, program) unless it is a VERIFY."""
        action = request.action
        if action not in (SetAction.VERIFY, SetAction.VERIFY_AND_SAVE, SetAction.VERIFY_AND_COMMIT,
                          SetAction.RECONCILE_AND_COMMIT):
            raise P4RuntimeError(INVALID_ARGUMENT, f"unknown SetForwardingPipelineConfig action {action}")
        if not request.HasField("config") or not request.config.HasField("p4info"):
            raise P4RuntimeError(INVALID_ARGUMENT, "the request carries no P4Info")
        program = load_program(request.config.p4_device_config)
        try:
            program_p4info = program.checked_p4info()
        except FabricError as err:
            raise P4RuntimeError(INVALID_ARGUMENT, f"p4_device_config has no valid P4Info: {err}") from err
        check_p4info(request.config.p4info, program_p4info)
        selector_limits.check_p4info(program_p4info)
        if action == SetAction.VERIFY:
            return None
        config = p4r.ForwardingPipelineConfig()
        config.CopyFrom(request.config)
        return config, program

    def check_commit(self, request: p4r.SetForwardingPipelineConfigRequest) -> None:
        """The spec's COMMIT errors: a config given (INVALID_ARGUMENT), none saved (NOT_FOUND)."""
        if request.HasField("config"):
            raise P4RuntimeError(INVALID_ARGUMENT, "COMMIT takes no config: it commits the saved one")
        if not self.uncommitted:
            raise P4RuntimeError(NOT_FOUND, "COMMIT without a config saved by VERIFY_AND_SAVE")

    def get(self, response_type: int) -> p4r.ForwardingPipelineConfig:
        """The current config trimmed to `response_type` (FAILED_PRECONDITION before any)."""
        reply = p4r.ForwardingPipelineConfig()
        if self.current is None:
            raise P4RuntimeError(FAILED_PRECONDITION, "no forwarding pipeline config has been set")
        if self.current.HasField("cookie"):
            reply.cookie.CopyFrom(self.current.cookie)
        if response_type in (ResponseType.ALL, ResponseType.P4INFO_AND_COOKIE):
            reply.p4info.CopyFrom(self.current.p4info)
        if response_type in (ResponseType.ALL, ResponseType.DEVICE_CONFIG_AND_COOKIE):
            reply.p4_device_config = self.current.p4_device_config
        if response_type not in ResponseType.values():
            raise P4RuntimeError(INVALID_ARGUMENT, f"unknown response_type {response_type}")
        return reply
