"""CounterEntry, MeterEntry and RegisterEntry: indexed extern arrays (spec 9.4, 9.6, 9.9).

All three are MODIFY-only arrays: an unset index means every cell (wildcard read, and a
write to all cells); an id of 0 reads every instance. Negative indexes are INVALID_ARGUMENT,
indexes past the end OUT_OF_RANGE (spec 9.4). A wildcard over more than MAX_WILDCARD_CELLS
cells is RESOURCE_EXHAUSTED: the answer would not fit in memory (arrays may have 2**32 cells).
simple_switch_grpc does not serve registers over P4Runtime; we do (read and write).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from finsy.proto import p4d, p4r

from fabriclab.switch import externs
from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.context import RuntimeContext
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, OUT_OF_RANGE, RESOURCE_EXHAUSTED, P4RuntimeError
from fabriclab.switch.p4runtime.table_entries import meter_config, meter_config_msg, unit_filtered

Update = p4r.Update
MAX_WILDCARD_CELLS = 1 << 16  # what one request may cover while it holds the switch lock (a fraction of a second)


def _indexes(info: Any, msg: Any) -> range:
    if not msg.HasField("index"):
        if info.size > MAX_WILDCARD_CELLS:
            raise P4RuntimeError(RESOURCE_EXHAUSTED, f"'{info.preamble.name}' has {info.size} cells: wildcards "
                                 f"cover at most {MAX_WILDCARD_CELLS}; give an index")
        return range(info.size)
    i = msg.index.index
    if i < 0:
        raise P4RuntimeError(INVALID_ARGUMENT, f"'{info.preamble.name}': negative index {i}")
    if i >= info.size:
        raise P4RuntimeError(OUT_OF_RANGE, f"'{info.preamble.name}': index {i} outside 0..{info.size - 1}")
    return range(i, i + 1)


def _instances(ctx: RuntimeContext, kind: str, obj_id: int) -> list[Any]:
    return ctx.index.all(kind) if obj_id == 0 else [ctx.index.get(kind, obj_id)]


def _modify_only(kind: int) -> None:
    if kind != Update.MODIFY:
        raise P4RuntimeError(INVALID_ARGUMENT, "counters, meters and registers can only be modified")


def _write(ctx: RuntimeContext, kind: int, p4info_kind: str, obj_id: int, msg: Any, apply: Callable[[Any, Any, int], None]) -> None:
    _modify_only(kind)
    info = ctx.index.get(p4info_kind, obj_id)
    target = getattr(ctx.core, p4info_kind)[info.preamble.name]
    for i in _indexes(info, msg):
        apply(info, target, i)


def _read(ctx: RuntimeContext, p4info_kind: str, obj_id: int, msg: Any) -> Iterator[tuple[Any, Any, int]]:
    instances = _instances(ctx, p4info_kind, obj_id)
    if not msg.HasField("index") and sum(info.size for info in instances) > MAX_WILDCARD_CELLS:
        raise P4RuntimeError(RESOURCE_EXHAUSTED, f"a wildcard read of {p4info_kind} covers more than "
                             f"{MAX_WILDCARD_CELLS} cells; read them by id or index")
    for info in instances:
        target = getattr(ctx.core, p4info_kind)[info.preamble.name]
        for i in _indexes(info, msg):
            yield info, target, i


# ------------------------------------------------------------------ counters


def write_counter(ctx: RuntimeContext, kind: int, msg: p4r.CounterEntry) -> None:
    if not msg.HasField("data"):  # spec 9.4: an unset data leaves the counter as it is
        _write(ctx, kind, "counters", msg.counter_id, msg, lambda info, ctr, i: None)
        return
    data = externs.CounterData(msg.data.packet_count, msg.data.byte_count)  # int64 -> uint64 as PI
    _write(ctx, kind, "counters", msg.counter_id, msg, lambda info, ctr, i: ctr.write(i, data))


def read_counter(ctx: RuntimeContext, msg: p4r.CounterEntry) -> Iterator[p4r.Entity]:
    for info, ctr, i in _read(ctx, "counters", msg.counter_id, msg):
        yield p4r.Entity(counter_entry=p4r.CounterEntry(
            counter_id=info.preamble.id, index=p4r.Index(index=i), data=unit_filtered(info.spec.unit, ctr.read(i))))


# ------------------------------------------------------------------ meters


def write_meter(ctx: RuntimeContext, kind: int, msg: p4r.MeterEntry) -> None:
    config = meter_config(msg.config) if msg.HasField("config") else None
    _write(ctx, kind, "meters", msg.meter_id, msg, lambda info, mtr, i: mtr.set_config(i, config))


def read_meter(ctx: RuntimeContext, msg: p4r.MeterEntry) -> Iterator[p4r.Entity]:
    for info, mtr, i in _read(ctx, "meters", msg.meter_id, msg):
        out = p4r.MeterEntry(meter_id=info.preamble.id, index=p4r.Index(index=i))
        config = mtr.config(i)
        if config is not None:
            out.config.CopyFrom(meter_config_msg(config))
        yield p4r.Entity(meter_entry=out)


# ------------------------------------------------------------------ registers


def _register_width(info: Any) -> int:
    spec = info.type_spec
    if spec.WhichOneof("type_spec") == "bitstring":
        bits = spec.bitstring
        return getattr(bits, bits.WhichOneof("type_spec")).bitwidth
    raise P4RuntimeError(INVALID_ARGUMENT, f"register '{info.preamble.name}': only bit<W>/int<W> cells are served")


def write_register(ctx: RuntimeContext, kind: int, msg: p4r.RegisterEntry) -> None:
    info = ctx.index.get("registers", msg.register_id)
    if msg.data.WhichOneof("data") != "bitstring":
        raise P4RuntimeError(INVALID_ARGUMENT, f"register '{info.preamble.name}': data must be a bitstring")
    value = bytestrings.decode(msg.data.bitstring, _register_width(info), f"register '{info.preamble.name}' value")
    _write(ctx, kind, "registers", msg.register_id, msg, lambda _, reg, i: reg.write(i, value))


def read_register(ctx: RuntimeContext, msg: p4r.RegisterEntry) -> Iterator[p4r.Entity]:
    for info, reg, i in _read(ctx, "registers", msg.register_id, msg):
        yield p4r.Entity(register_entry=p4r.RegisterEntry(
            register_id=info.preamble.id, index=p4r.Index(index=i),
            data=p4d.P4Data(bitstring=bytestrings.encode(reg.read(i)))))
