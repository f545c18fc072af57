"""One P4Runtime device: request semantics without gRPC (spec 5, 11, 12, 14, 16).

`Device` validates and applies Write/Read/SetForwardingPipelineConfig requests and
stream messages against the switch it wraps; `server.py` only moves messages. Every call
into the switch core holds `switch.lock` (the switch process's packet loop holds it too).
See docs/internals.md, "P4Runtime seam", for the `switch` protocol.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable, Iterator

from finsy.proto import U128, p4r

from fabriclab.errors import FabricError
from fabriclab.switch.ageing import AgeingMonitor
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.p4runtime import (
    action_profiles,
    idle_timeouts,
    indexed_externs,
    reconcile,
    replication,
    table_entries,
)
from fabriclab.switch.p4runtime.arbitration import Advisory, Arbitration, role_key
from fabriclab.switch.p4runtime.context import RuntimeContext
from fabriclab.switch.p4runtime.digests import DigestEngine
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.packet_io import PacketIO
from fabriclab.switch.p4runtime.pipeline_config import PipelineConfigs, SetAction
from fabriclab.switch.p4runtime.status import (
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OK,
    PERMISSION_DENIED,
    UNIMPLEMENTED,
    P4RuntimeError,
)

API_VERSION = "1.3.0"  # what simple_switch_grpc (PI) answers

_WRITERS: dict[str, Callable[[Any, Any, int, Any], None]] = {
    "table_entry": lambda d, ctx, kind, msg: table_entries.write(ctx, kind, msg),
    "action_profile_member": lambda d, ctx, kind, msg: action_profiles.write_member(ctx, kind, msg),
    "action_profile_group": lambda d, ctx, kind, msg: action_profiles.write_group(ctx, kind, msg),
    "counter_entry": lambda d, ctx, kind, msg: indexed_externs.write_counter(ctx, kind, msg),
    "direct_counter_entry": lambda d, ctx, kind, msg: table_entries.write_direct_counter(ctx, kind, msg),
    "meter_entry": lambda d, ctx, kind, msg: indexed_externs.write_meter(ctx, kind, msg),
    "direct_meter_entry": lambda d, ctx, kind, msg: table_entries.write_direct_meter(ctx, kind, msg),
    "register_entry": lambda d, ctx, kind, msg: indexed_externs.write_register(ctx, kind, msg),
    "packet_replication_engine_entry": lambda d, ctx, kind, msg: replication.write(ctx, kind, msg),
    "digest_entry": lambda d, ctx, kind, msg: d.digests.write(kind, msg),
}

_READERS: dict[str, Callable[[Any, Any, Any], Iterator[p4r.Entity]]] = {
    "table_entry": lambda d, ctx, msg: table_entries.read(ctx, msg),
    "action_profile_member": lambda d, ctx, msg: action_profiles.read_members(ctx, msg),
    "action_profile_group": lambda d, ctx, msg: action_profiles.read_groups(ctx, msg),
    "counter_entry": lambda d, ctx, msg: indexed_externs.read_counter(ctx, msg),
    "direct_counter_entry": lambda d, ctx, msg: table_entries.read_direct_counter(ctx, msg),
    "meter_entry": lambda d, ctx, msg: indexed_externs.read_meter(ctx, msg),
    "direct_meter_entry": lambda d, ctx, msg: table_entries.read_direct_meter(ctx, msg),
    "register_entry": lambda d, ctx, msg: indexed_externs.read_register(ctx, msg),
    "packet_replication_engine_entry": lambda d, ctx, msg: replication.read(ctx, msg),
    "digest_entry": lambda d, ctx, msg: d.digests.read(msg),
}


class Device:
    """P4Runtime state of one switch: arbitration, pipeline configs and runtime context."""

    def __init__(self, switch: Any, device_id: int) -> None:
        self.switch = switch
        self.device_id = device_id
        self.arbitration = Arbitration(device_id)
        self.configs = PipelineConfigs()
        self.ctx: RuntimeContext | None = None
        self.packet_io: PacketIO | None = None
        self.digests: DigestEngine | None = None
        self.ageing: AgeingMonitor | None = None
        self.streams_lock = threading.Lock()  # arbitration; never held while taking switch.lock
        self.config_lock = threading.Lock()  # one SetForwardingPipelineConfig at a time
        self.ports_down: set[int] = set()  # from the switch's port events: watch ports (action_profiles)

    # -------------------------------------------------------------- checks
    def _check_device(self, device_id: int) -> None:
        if device_id != self.device_id:
            raise P4RuntimeError(NOT_FOUND, f"no device with device_id {device_id} (this switch is {self.device_id})")

    def _check_primary(self, role: str, election_id: p4r.Uint128 | None) -> None:
        with self.streams_lock:
            primary = self.arbitration.primary_election_id(role)
            anyone = self.arbitration.has_clients(role)
        given = U128.decode(election_id) if election_id is not None else None
        if primary is None and not anyone and given is None:
            return  # as PI: with no controller connected, writes without an election_id are allowed for debugging
        if given is None or given != primary:
            raise P4RuntimeError(
                PERMISSION_DENIED, f"election_id {given} is not the primary's ({primary}) for role '{role or 'default'}'"
            )

    def _context(self) -> RuntimeContext:
        if self.ctx is None:
            raise P4RuntimeError(FAILED_PRECONDITION, "no forwarding pipeline config has been set")
        return self.ctx

    # -------------------------------------------------------------- RPCs
    def set_pipeline(self, request: p4r.SetForwardingPipelineConfigRequest) -> None:
        """Verify (compile) outside the switch lock. VERIFY_AND_SAVE makes the new pipeline the
        one requests refer to (entries written now go into it) and COMMIT swaps it into the
        switch's loop, as spec 14 and PI order them; VERIFY_AND_COMMIT does both at once, and
        RECONCILE_AND_COMMIT also carries the forwarding state over (reconcile.py)."""
        self._check_device(request.device_id)
        election = request.election_id if request.HasField("election_id") else None
        self._check_primary(role_key(request.role, request.role_id), election)
        with self.config_lock:
            if request.action == SetAction.COMMIT:
                self.configs.check_commit(request)
                self.switch.set_core(self.ctx.core)
                self.configs.uncommitted = False
                return
            staged = self.configs.verify(request)
            if staged is None:
                return
            config, program = staged
            try:
                core = SwitchCore(program, drop_port=self.switch.drop_port, cpu_port=self.switch.cpu_port)
            except FabricError as err:
                raise P4RuntimeError(INVALID_ARGUMENT, f"the switch cannot run this program: {err}") from err
            ctx = RuntimeContext(P4InfoIndex(config.p4info), core, clock=getattr(self.switch, "now_ns", None),
                                 ports_down=self.ports_down)
            if request.action == SetAction.RECONCILE_AND_COMMIT:
                self._reconcile(config, ctx)
                return
            commit = request.action == SetAction.VERIFY_AND_COMMIT
            if commit:
                self.switch.set_core(core)
            with self.switch.lock:
                self._install(config, ctx, uncommitted=not commit)

    def _install(self, config: p4r.ForwardingPipelineConfig, ctx: RuntimeContext, uncommitted: bool) -> None:
        """Make `ctx` the pipeline requests refer to (under switch.lock)."""
        self.ctx = ctx
        self.packet_io = PacketIO(ctx.index)
        self.digests = DigestEngine(ctx.index)
        self.ageing = AgeingMonitor(ctx.core.tables.values())
        self.configs.current, self.configs.uncommitted = config, uncommitted

    def _reconcile(self, config: p4r.ForwardingPipelineConfig, new: RuntimeContext) -> None:
        """Fill the new pipeline with the current one's forwarding state through the Read and
        Write paths, then commit it; if anything cannot be carried over, raise and leave
        everything as it was. Under switch.lock from the first read until requests refer to
        the new pipeline, so no Write lands in the old one after its state was read; the data
        plane gets the new core after that (set_core must not be called under the lock)."""
        with self.switch.lock:
            old = self.ctx
            if old is not None:
                updates = reconcile.forwarding_state(old.index, lambda query: self._read_entity(old, query))
                reconcile.replay(old.index, updates, lambda update: self._update(new, update))
            self._install(config, new, uncommitted=False)
        self.switch.set_core(new.core)

    def get_pipeline(self, request: p4r.GetForwardingPipelineConfigRequest) -> p4r.GetForwardingPipelineConfigResponse:
        self._check_device(request.device_id)
        with self.switch.lock:
            return p4r.GetForwardingPipelineConfigResponse(config=self.configs.get(request.response_type))

    def write(self, request: p4r.WriteRequest) -> list[p4r.Error] | None:
        """Apply a batch; return one Error per update if any failed (else None)."""
        self._check_device(request.device_id)
        election = request.election_id if request.HasField("election_id") else None
        self._check_primary(role_key(request.role, request.role_id), election)
        if request.atomicity != p4r.WriteRequest.CONTINUE_ON_ERROR:
            raise P4RuntimeError(UNIMPLEMENTED, "only CONTINUE_ON_ERROR atomicity is supported (as simple_switch_grpc)")
        with self.switch.lock:
            ctx = self._context()
            self._drain_digests(time.monotonic_ns())  # digests from before this batch see the old config
            errors = [self._update(ctx, update) for update in request.updates]
        return errors if any(e.canonical_code != OK for e in errors) else None

    def _update(self, ctx: RuntimeContext, update: p4r.Update) -> p4r.Error:
        which = update.entity.WhichOneof("entity")
        try:
            writer = _WRITERS.get(which)
            if writer is None:
                raise P4RuntimeError(UNIMPLEMENTED if which else INVALID_ARGUMENT,
                                     f"writing {which} is not supported" if which else "the update has no entity")
            if update.type == p4r.Update.UNSPECIFIED:
                raise P4RuntimeError(INVALID_ARGUMENT, "update type is UNSPECIFIED")
            writer(self, ctx, update.type, getattr(update.entity, which))
        except P4RuntimeError as err:
            return err.to_error()
        return p4r.Error(canonical_code=OK)

    def read(self, request: p4r.ReadRequest) -> list[p4r.Entity]:
        self._check_device(request.device_id)
        out: list[p4r.Entity] = []
        with self.switch.lock:
            ctx = self._context()
            for entity in request.entities:
                out.extend(self._read_entity(ctx, entity))
        return out

    def _read_entity(self, ctx: RuntimeContext, entity: p4r.Entity) -> Iterator[p4r.Entity]:
        which = entity.WhichOneof("entity")
        reader = _READERS.get(which)
        if reader is None:
            raise P4RuntimeError(UNIMPLEMENTED if which else INVALID_ARGUMENT,
                                 f"reading {which} is not supported" if which else "empty entity in read")
        return reader(self, ctx, getattr(entity, which))

    # -------------------------------------------------------------- stream
    def arbitrate(self, stream: Hashable, msg: p4r.MasterArbitrationUpdate) -> list[Advisory]:
        with self.streams_lock:
            return self.arbitration.update(stream, msg)

    def close_stream(self, stream: Hashable) -> list[Advisory]:
        with self.streams_lock:
            return self.arbitration.remove(stream)

    def is_primary_stream(self, stream: Hashable) -> bool:
        with self.streams_lock:
            return self.arbitration.is_primary(stream)

    def packet_in_stream(self) -> Hashable | None:
        """Where packet-ins go: the default role's primary (as PI)."""
        with self.streams_lock:
            return self.arbitration.primary("")

    def packet_out(self, stream: Hashable, msg: p4r.PacketOut) -> None:
        if not self.is_primary_stream(stream):
            raise P4RuntimeError(PERMISSION_DENIED, "only the primary controller may send packet-outs")
        io = self.packet_io
        if io is None:
            raise P4RuntimeError(FAILED_PRECONDITION, "no forwarding pipeline config has been set")
        self.switch.inject_packet_out(io.packet_out_bytes(msg))

    def port_changed(self, port: int, up: bool) -> None:
        """A port's carrier changed (the switch's port event): selector groups stop or resume
        selecting the members that watch it, in the pipeline and in one saved for COMMIT."""
        with self.switch.lock:
            (self.ports_down.discard if up else self.ports_down.add)(port)
            if self.ctx is not None:
                action_profiles.apply_watch_ports(self.ctx)

    def digest_ack(self, msg: p4r.DigestListAck) -> None:
        with self.switch.lock:
            if self.digests is None:
                raise P4RuntimeError(FAILED_PRECONDITION, "no forwarding pipeline config has been set")
            self.digests.ack(msg)

    def poll_digests(self, now_ns: int, deliverable: bool) -> list[p4r.DigestList]:
        """Move the pipeline's new digests into the engine; return the lists due now
        (none while nobody can receive them: they wait for a primary)."""
        with self.switch.lock:
            self._drain_digests(now_ns)
            return self.digests.due(now_ns) if self.digests is not None and deliverable else []

    def poll_idle_timeouts(self, deliverable: bool) -> p4r.IdleTimeoutNotification | None:
        """The entries a due ageing sweep found idle, on the switch's clock (none between
        sweeps, or when the data plane does not run this pipeline yet). As BMv2 and PI, a
        sweep runs whoever listens: with no primary (`deliverable` False) its report is lost."""
        if self.ageing is None or not self.ageing.tables:  # no support_timeout table: no lock taken
            return None
        with self.switch.lock:
            ctx, ageing = self.ctx, self.ageing
            if ctx is None or ctx.clock is None or ageing is None or self.switch.core is not ctx.core:
                return None
            idle = ageing.due(ctx.now_us())
            if not idle or not deliverable:
                return None
            return idle_timeouts.notification(ctx, idle, time.time_ns())

    def _drain_digests(self, now_ns: int) -> None:
        core, engine = self.switch.core, self.digests
        if core is None or engine is None:
            return
        while core.digests:
            digest = core.digests.popleft()
            engine.offer(digest.name, digest.fields, now_ns)
