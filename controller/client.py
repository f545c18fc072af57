"""A small synchronous P4Runtime client for the controller and the tests.

Works with any P4Runtime server (`fabriclab switch`, simple_switch_grpc): it only speaks
the standard p4.v1 protobufs (finsy's generated modules). Names are P4Info fully qualified
names; values are Python ints, or strings for IPv4 ("10.0.1.1"), MAC ("02:00:...") and
LPM prefixes ("10.0.1.0/24"); encoding follows the spec's canonical byte strings.
Server errors become FabricError with the per-update details the server sent.
"""

from __future__ import annotations

import ipaddress
import queue
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

import grpc
from finsy.proto import p4i, p4r, rpc_status
from finsy.proto.p4.v1 import p4runtime_pb2_grpc

from fabriclab.errors import FabricError

Value = int | str | bytes


def encode(value: Value, bitwidth: int) -> bytes:
    """A value as the P4Runtime canonical byte string (no leading zeros, >= 1 byte)."""
    if isinstance(value, bytes):
        value = int.from_bytes(value, "big")
    elif isinstance(value, str):
        value = _parse_str(value)
    if value < 0 or value >> bitwidth:
        raise FabricError(f"value {value} does not fit in {bitwidth} bits")
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _parse_str(text: str) -> int:
    try:
        if ":" in text and len(text.split(":")) == 6:
            return int(text.replace(":", ""), 16)
        if text.count(".") == 3:
            return int(ipaddress.IPv4Address(text))
        return int(text, 0)
    except ValueError:
        raise FabricError(f"cannot read {text!r} as a number, IPv4 or MAC address") from None


def decode(data: bytes) -> int:
    return int.from_bytes(data, "big")


class P4InfoIndex:
    """Name -> P4Info object lookups (tables, actions, externs) with clear errors."""

    _KINDS = ("tables", "actions", "action_profiles", "counters", "direct_counters",
              "meters", "registers", "digests")

    def __init__(self, p4info: p4i.P4Info):
        self.p4info = p4info
        self._by_name: dict[tuple[str, str], Any] = {}
        for kind in self._KINDS:
            for obj in getattr(p4info, kind):
                self._by_name[(kind, obj.preamble.name)] = obj
                self._by_name.setdefault((kind, obj.preamble.alias), obj)

    def get(self, kind: str, name: str) -> Any:
        try:
            return self._by_name[(kind, name)]
        except KeyError:
            what = kind[:-1].replace("_", " ")
            raise FabricError(f"P4Info has no {what} named {name!r}") from None

    def id(self, kind: str, name: str) -> int:
        return self.get(kind, name).preamble.id


@dataclass
class Entry:
    """A table entry in names: match maps key names to a value, (value, prefix_len) or
    "a.b.c.d/len" for LPM, (value, mask) for ternary, (low, high) for range."""

    table: str
    match: Mapping[str, Any]
    action: str
    params: Mapping[str, Value]
    priority: int = 0


class P4RuntimeClient:
    """One connection to one device as primary controller (highest election id wins)."""

    def __init__(self, address: str, device_id: int = 0, election_id: int = 1,
                 timeout: float = 10.0):
        self.address, self.device_id, self.election_id = address, device_id, election_id
        self.timeout = timeout
        self.index: P4InfoIndex | None = None
        self._channel: grpc.Channel | None = None
        self._requests: queue.Queue[p4r.StreamMessageRequest | None] = queue.Queue()
        self.stream_messages: queue.Queue[p4r.StreamMessageResponse] = queue.Queue()

    # --- connection ----------------------------------------------------------------------
    def __enter__(self) -> "P4RuntimeClient":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        """Open the channel and the stream, and become primary for the device."""
        self._channel = grpc.insecure_channel(self.address)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.timeout)
        except grpc.FutureTimeoutError:
            self.close()
            raise FabricError(f"no P4Runtime server at {self.address} "
                              f"(waited {self.timeout:.0f} s)") from None
        self.stub = p4runtime_pb2_grpc.P4RuntimeStub(self._channel)
        responses = self.stub.StreamChannel(iter(self._requests.get, None))
        threading.Thread(target=self._pump, args=(responses,), daemon=True).start()
        self._requests.put(p4r.StreamMessageRequest(arbitration=p4r.MasterArbitrationUpdate(
            device_id=self.device_id, election_id=p4r.Uint128(high=0, low=self.election_id))))
        try:
            reply = self.stream_messages.get(timeout=self.timeout)
        except queue.Empty:
            self.close()
            raise FabricError(f"{self.address}: no arbitration answer") from None
        if not reply.HasField("arbitration"):
            self.close()
            raise FabricError(f"{self.address}: stream failed: {reply}")
        if reply.arbitration.status.code != grpc.StatusCode.OK.value[0]:
            self.close()
            raise FabricError(f"{self.address}: not primary for device {self.device_id}: "
                              f"{reply.arbitration.status.message}")

    def _pump(self, responses: Iterator[p4r.StreamMessageResponse]) -> None:
        try:
            for msg in responses:
                self.stream_messages.put(msg)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                self.stream_messages.put(p4r.StreamMessageResponse(
                    error=p4r.StreamError(canonical_code=err.code().value[0],
                                          message=str(err.details()))))

    def close(self) -> None:
        self._requests.put(None)
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise FabricError(f"{self.address}: {method} failed: {_describe(err)}") from None

    # --- pipeline ------------------------------------------------------------------------
    def set_pipeline(self, p4info: p4i.P4Info, device_config: bytes) -> None:
        """SetForwardingPipelineConfig(VERIFY_AND_COMMIT) and remember the P4Info."""
        self._call("SetForwardingPipelineConfig", p4r.SetForwardingPipelineConfigRequest(
            device_id=self.device_id, election_id=self._election(),
            action=p4r.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT,
            config=p4r.ForwardingPipelineConfig(p4info=p4info, p4_device_config=device_config)))
        self.index = P4InfoIndex(p4info)

    def get_p4info(self) -> p4i.P4Info:
        """Fetch the device's P4Info (and use it for name lookups)."""
        reply = self._call("GetForwardingPipelineConfig", p4r.GetForwardingPipelineConfigRequest(
            device_id=self.device_id,
            response_type=p4r.GetForwardingPipelineConfigRequest.P4INFO_AND_COOKIE))
        self.index = P4InfoIndex(reply.config.p4info)
        return reply.config.p4info

    def _election(self) -> p4r.Uint128:
        return p4r.Uint128(high=0, low=self.election_id)

    def _p4(self) -> P4InfoIndex:
        if self.index is None:
            self.get_p4info()
        assert self.index is not None
        return self.index

    # --- write / read --------------------------------------------------------------------
    def write(self, entities: Iterable[p4r.Entity], kind: str = "INSERT") -> None:
        """One WriteRequest with an update of type `kind` per entity."""
        update_type = p4r.Update.Type.Value(kind)
        updates = [p4r.Update(type=update_type, entity=e) for e in entities]
        if updates:
            self._call("Write", p4r.WriteRequest(device_id=self.device_id,
                                                 election_id=self._election(), updates=updates))

    def upsert(self, entities: Iterable[p4r.Entity]) -> None:
        """MODIFY what exists, INSERT what does not (one entity at a time: a batch's failed
        MODIFY would not say which entities were missing)."""
        for entity in entities:
            try:
                self.write([entity], "MODIFY")
            except FabricError:
                self.write([entity], "INSERT")

    def read(self, entity: p4r.Entity) -> list[p4r.Entity]:
        request = p4r.ReadRequest(device_id=self.device_id, entities=[entity])
        try:
            return [e for reply in self.stub.Read(request, timeout=self.timeout)
                    for e in reply.entities]
        except grpc.RpcError as err:
            raise FabricError(f"{self.address}: Read failed: {_describe(err)}") from None

    # --- entity builders -----------------------------------------------------------------
    def table_entry(self, entry: Entry) -> p4r.Entity:
        p4 = self._p4()
        table = p4.get("tables", entry.table)
        fields = {f.name: f for f in table.match_fields}
        matches = []
        for name, value in entry.match.items():
            if name not in fields:
                raise FabricError(f"table {entry.table!r} has no key {name!r} "
                                  f"(keys: {', '.join(fields)})")
            matches.append(_field_match(fields[name], value))
        return p4r.Entity(table_entry=p4r.TableEntry(
            table_id=table.preamble.id, match=matches, priority=entry.priority,
            action=p4r.TableAction(action=self.action(entry.action, entry.params))))

    def action(self, name: str, params: Mapping[str, Value]) -> p4r.Action:
        action = self._p4().get("actions", name)
        known = {p.name: p for p in action.params}
        unknown = set(params) - set(known)
        missing = set(known) - set(params)
        if unknown or missing:
            raise FabricError(f"action {name!r}: unknown params {sorted(unknown)}, "
                              f"missing {sorted(missing)}")
        return p4r.Action(action_id=action.preamble.id, params=[
            p4r.Action.Param(param_id=p.id, value=encode(params[p.name], p.bitwidth))
            for p in action.params])

    def insert(self, entries: Iterable[Entry]) -> None:
        self.write((self.table_entry(e) for e in entries), "INSERT")

    def read_table(self, table: str) -> list[p4r.TableEntry]:
        table_id = self._p4().id("tables", table)
        return [e.table_entry for e in
                self.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=table_id)))]

    def member(self, profile: str, member_id: int, action: str,
               params: Mapping[str, Value]) -> p4r.Entity:
        return p4r.Entity(action_profile_member=p4r.ActionProfileMember(
            action_profile_id=self._p4().id("action_profiles", profile), member_id=member_id,
            action=self.action(action, params)))

    def group(self, profile: str, group_id: int, members: Iterable[int],
              max_size: int = 0) -> p4r.Entity:
        return p4r.Entity(action_profile_group=p4r.ActionProfileGroup(
            action_profile_id=self._p4().id("action_profiles", profile), group_id=group_id,
            max_size=max_size,
            members=[p4r.ActionProfileGroup.Member(member_id=m, weight=1) for m in members]))

    def multicast_group(self, group_id: int, ports: Iterable[tuple[int, int]]) -> p4r.Entity:
        """A multicast group of (egress port, instance) replicas."""
        return p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
            multicast_group_entry=p4r.MulticastGroupEntry(
                multicast_group_id=group_id,
                replicas=[p4r.Replica(egress_port=p, instance=i) for p, i in ports])))

    def read_counter(self, counter: str, index: int | None = None) -> dict[int, tuple[int, int]]:
        """Counter cells as index -> (bytes, packets); all cells when index is None."""
        entry = p4r.CounterEntry(counter_id=self._p4().id("counters", counter))
        if index is not None:
            entry.index.index = index
        return {e.counter_entry.index.index: (e.counter_entry.data.byte_count,
                                              e.counter_entry.data.packet_count)
                for e in self.read(p4r.Entity(counter_entry=entry))}

    def read_register(self, register: str, index: int | None = None) -> dict[int, p4r.Entity]:
        """Register cells (P4Data) by index; simple_switch_grpc does not serve these."""
        entry = p4r.RegisterEntry(register_id=self._p4().id("registers", register))
        if index is not None:
            entry.index.index = index
        return {e.register_entry.index.index: e.register_entry.data
                for e in self.read(p4r.Entity(register_entry=entry))}


def _field_match(field: p4i.MatchField, value: Any) -> p4r.FieldMatch:
    kind, width = p4i.MatchField.MatchType.Name(field.match_type), field.bitwidth
    fm = p4r.FieldMatch(field_id=field.id)
    if kind == "EXACT":
        fm.exact.value = encode(value, width)
    elif kind == "LPM":
        if isinstance(value, str) and "/" in value:
            addr, length = value.split("/")
            value = (addr, int(length))
        addr, length = value
        fm.lpm.value, fm.lpm.prefix_len = encode(addr, width), length
    elif kind == "TERNARY":
        fm.ternary.value, fm.ternary.mask = encode(value[0], width), encode(value[1], width)
    elif kind == "RANGE":
        fm.range.low, fm.range.high = encode(value[0], width), encode(value[1], width)
    elif kind == "OPTIONAL":
        fm.optional.value = encode(value, width)
    else:
        raise FabricError(f"match field {field.name!r}: unsupported match kind {kind}")
    return fm


def _describe(err: grpc.RpcError) -> str:
    """The status code and message, plus each failed update's error from the details."""
    text = f"{err.code().name}: {err.details()}"
    for key, raw in (err.trailing_metadata() or ()):
        if key != "grpc-status-details-bin":
            continue
        status = rpc_status.Status.FromString(raw)
        for i, any_msg in enumerate(status.details):
            error = p4r.Error()
            if any_msg.Unpack(error) and error.canonical_code:
                text += f"\n  update {i}: {_code_name(error.canonical_code)}: {error.message}"
    return text


def _code_name(number: int) -> str:
    return next((c.name for c in grpc.StatusCode if c.value[0] == number), str(number))
