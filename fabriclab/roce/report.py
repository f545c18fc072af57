"""nccl-tests style results: algbw = bytes / time, busbw = algbw * the collective's bus factor
(2(n-1)/n for all-reduce, (n-1)/n for all-gather, reduce-scatter and all-to-all). Rows keep
GB/s (nccl-tests' unit); the printed table uses the largest bit rate unit (Gb/s, Mb/s, kb/s)
its fastest row reaches, as the README and link rates talk in bits, not 0.0011 GB/s."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fabriclab.roce.collectives import CollectiveSpec

HEADER = (
    "#\n"
    "#       size         count      type   redop      time    algbw    busbw  #wrong\n"
    "#        (B)    (elements)                        (us)   ({unit:>4s})   ({unit:>4s})"
)
BIT_UNITS = ((1e9, "Gb/s"), (1e6, "Mb/s"), (1e3, "kb/s"))


@dataclass(frozen=True)
class Row:
    size: int
    count: int
    type: str
    redop: str
    time_us: float
    algbw: float
    busbw: float
    wrong: int

    def as_dict(self) -> dict:
        return asdict(self)


def make_row(spec: CollectiveSpec, time_s: float, wrong: int) -> Row:
    """One table row; the time is what the slowest rank measured per iteration."""
    algbw = spec.bytes / time_s / 1e9 if time_s > 0 else 0.0
    return Row(spec.bytes, spec.count, spec.dtype, spec.op if spec.kind in ("allreduce", "reducescatter") else "none",
               time_s * 1e6, algbw, algbw * spec.bus_factor, wrong)


def rate_unit(gbytes_per_s: float) -> tuple[float, str]:
    """(factor from GB/s, name) of the largest bit rate unit `gbytes_per_s` reaches (kb/s at least)."""
    bits = gbytes_per_s * 8e9
    scale, name = next(((s, n) for s, n in BIT_UNITS if bits >= s), BIT_UNITS[-1])
    return 8e9 / scale, name


def format_row(row: Row, factor: float = 8.0) -> str:
    return (f"{row.size:12d}  {row.count:12d}  {row.type:>8s}  {row.redop:>6s}  {row.time_us:9.1f}  "
            f"{row.algbw * factor:7.2f}  {row.busbw * factor:7.2f}  {row.wrong:6d}")


def format_table(title: str, rows: list[Row]) -> str:
    avg = sum(r.busbw for r in rows) / len(rows) if rows else 0.0
    wrong = sum(r.wrong for r in rows)
    factor, unit = rate_unit(max((max(r.algbw, r.busbw) for r in rows), default=0.0))
    footer = [f"# Out of bounds values : {wrong} {'OK' if wrong == 0 else 'FAILED'}",
              f"# Avg bus bandwidth    : {avg * factor:.2f} {unit}"]
    return "\n".join([f"# {title}", HEADER.format(unit=unit),
                      *(format_row(r, factor) for r in rows), "#", *footer])
