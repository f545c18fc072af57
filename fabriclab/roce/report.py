"""nccl-tests style results: algbw = bytes / time, busbw = algbw * the collective's bus factor
(2(n-1)/n for all-reduce, (n-1)/n for all-gather, reduce-scatter and all-to-all), in GB/s."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fabriclab.roce.collectives import CollectiveSpec

HEADER = (
    "#\n"
    "#       size         count      type   redop      time    algbw    busbw  #wrong\n"
    "#        (B)    (elements)                        (us)   (GB/s)   (GB/s)"
)


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


def format_row(row: Row) -> str:
    return (f"{row.size:12d}  {row.count:12d}  {row.type:>8s}  {row.redop:>6s}  {row.time_us:9.1f}  "
            f"{row.algbw:7.4f}  {row.busbw:7.4f}  {row.wrong:6d}")


def format_table(title: str, rows: list[Row]) -> str:
    avg = sum(r.busbw for r in rows) / len(rows) if rows else 0.0
    wrong = sum(r.wrong for r in rows)
    footer = [f"# Out of bounds values : {wrong} {'OK' if wrong == 0 else 'FAILED'}",
              f"# Avg bus bandwidth    : {avg:.4f}"]
    return "\n".join([f"# {title}", HEADER, *map(format_row, rows), "#", *footer])
