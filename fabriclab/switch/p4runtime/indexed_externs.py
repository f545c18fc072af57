"""CounterEntry, MeterEntry and RegisterEntry: indexed extern arrays (spec 9.4, 9.6, 9.9).

Writes are MODIFY (and, for counters, DELETE, which resets the cell to zero and is OK, as PI's
counter_write). An unset index is a wildcard in reads; an id of 0 reads every instance. A
counter or meter write without an index is UNIMPLEMENTED, as PI ("Wildcard write is not
supported"); a register write without one writes every cell. A counter MODIFY writes the
fields of the counter's unit (an unset `data` writes zeros), as PI and BMv2. Negative indexes
are INVALID_ARGUMENT, indexes past the end OUT_OF_RANGE (spec 9.4; PI answers UNKNOWN). A
wildcard over more than MAX_WILDCARD_CELLS cells is RESOURCE_EXHAUSTED: the answer would not
fit in memory (arrays may have 2**32 cells). simple_switch_grpc does not serve registers over
P4Runtime; we do (read and write).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from finsy.proto import p4d, p4r

from fabriclab.switch import externs
from fabriclab.switch.p4runtime import bytestrings
from fabriclab.switch.p4runtime.context import RuntimeContext
from fabriclab.switch.p4runtime.status import (
    INVALID_ARGUMENT,
    OUT_OF_RANGE,
    RESOURCE_EXHAUSTED,
    UNIMPLEMENTED,
    P4RuntimeError,
)
from fabriclab.switch.p4runtime.table_entries import (
    counter_write_data,
    meter_config,
    meter_config_msg,
    target_accepts,
    unit_filtered,
)

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


def _write(ctx: RuntimeContext, kind: int, p4info_kind: str, obj_id: int, msg: Any,
           apply: Callable[[Any, Any, int], None], kinds: tuple[int, ...] = (Update.MODIFY,),
           wildcard: bool = False, validate: Callable[[], None] | None = None) -> None:
    """Check the id, the update type (one of `kinds`), the index (unset: every cell if
    `wildcard`, else UNIMPLEMENTED as PI's counter_write/meter_write) and `validate`, then
    `apply` to each cell."""
    info = ctx.index.get(p4info_kind, obj_id)
    if kind not in kinds:
        allowed = " or ".join(Update.Type.Name(k) for k in kinds)
        raise P4RuntimeError(INVALID_ARGUMENT, f"'{info.preamble.name}' takes {allowed} only")
    if not wildcard and not msg.HasField("index"):
        raise P4RuntimeError(UNIMPLEMENTED, f"'{info.preamble.name}': a write without an index (wildcard write) "
                             "is not supported for counters and meters (as simple_switch_grpc): give an index")
    indexes = _indexes(info, msg)
    if validate is not None:
        validate()
    target = getattr(ctx.core, p4info_kind)[info.preamble.name]
    for i in indexes:
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
    """MODIFY writes `data` to the fields of the counter's unit, zeros if `data` is unset (PI
    counter_data_proto_to_pi of an empty message); DELETE resets the cell to zero (PI)."""
    def apply(info: Any, ctr: Any, i: int) -> None:
        if kind == Update.DELETE:
            ctr.write(i, externs.CounterData(0, 0))
        else:
            ctr.write(i, counter_write_data(info.spec.unit, msg.data, ctr.read(i)))

    _write(ctx, kind, "counters", msg.counter_id, msg, apply, kinds=(Update.MODIFY, Update.DELETE))


def read_counter(ctx: RuntimeContext, msg: p4r.CounterEntry) -> Iterator[p4r.Entity]:
    for info, ctr, i in _read(ctx, "counters", msg.counter_id, msg):
        yield p4r.Entity(counter_entry=p4r.CounterEntry(
            counter_id=info.preamble.id, index=p4r.Index(index=i), data=unit_filtered(info.spec.unit, ctr.read(i))))


# ------------------------------------------------------------------ meters


def write_meter(ctx: RuntimeContext, kind: int, msg: p4r.MeterEntry) -> None:
    config: list[externs.MeterConfig | None] = [None]

    def validate() -> None:  # PI meter_write: validate_meter_spec, then the target's own refusal
        if msg.HasField("config"):
            config[0] = meter_config(msg.config)
        target_accepts(config[0])

    _write(ctx, kind, "meters", msg.meter_id, msg, lambda info, mtr, i: mtr.set_config(i, config[0]),
           validate=validate)


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
    _write(ctx, kind, "registers", msg.register_id, msg, lambda _, reg, i: reg.write(i, value), wildcard=True)


def read_register(ctx: RuntimeContext, msg: p4r.RegisterEntry) -> Iterator[p4r.Entity]:
    for info, reg, i in _read(ctx, "registers", msg.register_id, msg):
        yield p4r.Entity(register_entry=p4r.RegisterEntry(
            register_id=info.preamble.id, index=p4r.Index(index=i),
            data=p4d.P4Data(bitstring=bytestrings.encode(reg.read(i)))))
