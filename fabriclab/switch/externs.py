"""Stateful v1model externs: registers, counters and two-rate three-colour meters.

Runtime API (used by the P4Runtime server and the STF runner; names are P4Info names,
values plain ints, indexes 0-based):

    reg = core.registers["MyIngress.r"];  reg.read(i) -> int;  reg.write(i, v);  reg.reset()
    ctr = core.counters["MyIngress.c"];   ctr.read(i) -> CounterData;  ctr.write(i, CounterData)
    mtr = core.meters["MyIngress.m"];     mtr.set_config(i, MeterConfig(cir, cburst, pir, pburst))
                                          mtr.config(i) -> MeterConfig | None;  mtr.reset(i)

Meter rates are per second (P4Runtime units: packets or bytes per second, bursts in
packets or bytes); BMv2's CLI gives rates per microsecond, which the STF runner converts.
Out-of-range indexes from the data plane are ignored (reads give 0); from the control
plane they raise FabricError.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fabriclab.errors import FabricError

GREEN, YELLOW, RED = 0, 1, 2


def _check_index(kind: str, name: str, index: int, size: int) -> None:
    if not 0 <= index < size:
        raise FabricError(f"{kind} '{name}': index {index} out of range (size {size})")


DENSE_REGISTER_CELLS = 1 << 16  # up to this size a register is a list (see Register)


class Register:
    """A register array of `size` cells of `width` bits, all starting at 0.

    Up to DENSE_REGISTER_CELLS cells they are a list (`dense`: generated code reads a cell
    by subscript, no call); larger registers are stored sparsely in a dict (only cells
    written hold memory), so a `register<T>(2**31-1)` costs nothing until used. The
    semantics are those of a dense zeroed array either way; `cells` is never replaced.
    """

    def __init__(self, name: str, size: int, width: int) -> None:
        self.name, self.size, self.width = name, size, width
        self.mask = (1 << width) - 1
        self.dense = size <= DENSE_REGISTER_CELLS
        self.cells: list[int] | dict[int, int] = [0] * size if self.dense else {}

    def read(self, index: int) -> int:
        _check_index("register", self.name, index, self.size)
        return self.cells[index] if self.dense else self.cells.get(index, 0)

    def write(self, index: int, value: int) -> None:
        _check_index("register", self.name, index, self.size)
        self.cells[index] = value & self.mask

    def reset(self) -> None:
        if self.dense:
            self.cells[:] = [0] * self.size
        else:
            self.cells.clear()

    # data-plane accessors: out-of-range is not an error on the packet path
    def dp_read(self, index: int) -> int:
        if not 0 <= index < self.size:
            return 0
        return self.cells[index] if self.dense else self.cells.get(index, 0)

    def dp_write(self, index: int, value: int) -> None:
        if 0 <= index < self.size:
            self.cells[index] = value & self.mask


COUNTER_MODULUS = 1 << 64  # BMv2 keeps counter cells as uint64_t: they wrap, never saturate
DENSE_COUNTER_CELLS = 1 << 10  # up to this size a counter's cells exist from the start
# a counter cell's packets unit (Counter): its bytes below it could only reach it after
# 2**96 bytes, more than any link carries in the lifetime of the universe
COUNTER_PACKET = 1 << 96


@dataclass
class CounterData:
    """One counter cell; both fields are kept whatever the counter type (0 <= value < 2**64)."""

    packets: int = 0
    bytes: int = 0

    def __post_init__(self) -> None:
        self.packets %= COUNTER_MODULUS
        self.bytes %= COUNTER_MODULUS

    def __deepcopy__(self, memo) -> "CounterData":  # a dense counter copies many of them
        new = CounterData.__new__(CounterData)
        new.packets, new.bytes = self.packets, self.bytes
        return new


class Counter:
    """An indexed counter array; `unit` is "packets", "bytes" or "packets_and_bytes".

    A cell is one int, packets times COUNTER_PACKET plus bytes, so the data plane counts
    with one add (`cells[i] += COUNTER_PACKET + nbytes`). Counts wrap modulo 2**64 as
    BMv2's uint64_t cells do: the data plane adds without a mask and `read` takes each
    part modulo 2**64 (CounterData), the same values as wrapping at each count; every
    reader goes through `read`. Up to DENSE_COUNTER_CELLS cells they are a list made up
    front (`dense`: generated code takes a cell by subscript); larger counters are a dict
    (a `counter(32w4294967295, ...)` allocates nothing until packets hit it). `cells` is
    never replaced.
    """

    def __init__(self, name: str, size: int, unit: str = "packets_and_bytes") -> None:
        self.name, self.size, self.unit = name, size, unit
        self.dense = size <= DENSE_COUNTER_CELLS
        self.cells: list[int] | dict[int, int] = [0] * size if self.dense else {}

    def count(self, index: int, nbytes: int) -> None:
        """A data-plane count (generated code inlines it, see codegen_externs.counter_count)."""
        if 0 <= index < self.size:
            if self.dense:
                self.cells[index] += COUNTER_PACKET + nbytes
            else:
                self.cells[index] = self.cells.get(index, 0) + COUNTER_PACKET + nbytes

    def read(self, index: int) -> CounterData:
        _check_index("counter", self.name, index, self.size)
        cell = self.cells[index] if self.dense else self.cells.get(index, 0)
        return CounterData(cell // COUNTER_PACKET, cell % COUNTER_PACKET)

    def write(self, index: int, data: CounterData) -> None:
        _check_index("counter", self.name, index, self.size)
        data = CounterData(data.packets, data.bytes)  # each part modulo 2**64
        self.cells[index] = data.packets * COUNTER_PACKET + data.bytes

    def reset(self) -> None:
        if self.dense:
            self.cells[:] = [0] * self.size
        else:
            self.cells.clear()


@dataclass(frozen=True)
class MeterConfig:
    """trTCM rates per second and bursts (packets or bytes, as the meter's unit)."""

    cir: int
    cburst: int
    pir: int
    pburst: int


@dataclass
class MeterState:
    """The two token buckets of one meter cell; unconfigured cells colour everything GREEN.

    As BMv2: whole tokens, refilled from the time since the switch started
    (floor(now_us * rate_per_us) minus what was already credited), buckets full when set.
    """

    config: MeterConfig | None = None
    committed: int = 0
    peak: int = 0
    credited_c: int = 0
    credited_p: int = 0

    def configure(self, config: MeterConfig | None) -> None:
        self.config = config
        self.credited_c = self.credited_p = 0
        if config is not None:
            self.committed, self.peak = config.cburst, config.pburst

    def execute(self, amount: int, now_us: int) -> int:
        """trTCM (color-blind): RED if the peak bucket is short, else YELLOW if the committed is."""
        cfg = self.config
        if cfg is None:
            return GREEN
        total = now_us * cfg.pir // 1_000_000
        self.peak = min(self.peak + total - self.credited_p, cfg.pburst)
        self.credited_p = total
        if self.peak < amount:
            return RED
        self.peak -= amount
        total = now_us * cfg.cir // 1_000_000
        self.committed = min(self.committed + total - self.credited_c, cfg.cburst)
        self.credited_c = total
        if self.committed < amount:
            return YELLOW
        self.committed -= amount
        return GREEN


class Meter:
    """An indexed meter array; `unit` is "packets" or "bytes".

    Sparse: a cell exists once configured; `set_all` configures every cell at once (BMv2's
    meter_array_set_rates) without touching `size` cells.
    """

    def __init__(self, name: str, size: int, unit: str = "bytes") -> None:
        self.name, self.size, self.unit = name, size, unit
        self.cells: dict[int, MeterState] = {}
        self.all_config: MeterConfig | None = None  # what cells not configured one by one use

    def _cell(self, index: int) -> MeterState:
        cell = self.cells.get(index)
        if cell is None:
            cell = self.cells[index] = MeterState()
            cell.configure(self.all_config)
        return cell

    def execute(self, index: int, packet_length: int, now_us: int) -> int:
        if not 0 <= index < self.size:
            return GREEN
        if index not in self.cells and self.all_config is None:
            return GREEN
        amount = 1 if self.unit == "packets" else packet_length
        return self._cell(index).execute(amount, now_us)

    def set_config(self, index: int, config: MeterConfig | None) -> None:
        _check_index("meter", self.name, index, self.size)
        self._cell(index).configure(config)

    def set_all(self, config: MeterConfig | None) -> None:
        self.cells.clear()
        self.all_config = config

    def config(self, index: int) -> MeterConfig | None:
        _check_index("meter", self.name, index, self.size)
        cell = self.cells.get(index)
        return cell.config if cell is not None else self.all_config

    def reset(self, index: int) -> None:
        self.set_config(index, None)


@dataclass
class DirectState:
    """Per-table-entry state of direct counters and direct meters."""

    counter: CounterData = field(default_factory=CounterData)
    meter: MeterState = field(default_factory=MeterState)
