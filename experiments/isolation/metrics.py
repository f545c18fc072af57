"""Per-case metrics of the isolation experiment (pure functions of the raw records)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def busbw_gbps(size: int, nranks: int, seconds: float) -> float:
    """nccl-tests' all-reduce bus bandwidth: algbw x 2(n-1)/n."""
    return size * 8 / seconds / 1e9 * 2 * (nranks - 1) / nranks if seconds > 0 else math.nan


def case_row(record: dict[str, Any], size: int, nranks: int) -> dict[str, Any]:
    """One CSV row: A's busbw (mean iteration) and p99 iteration time, B's throughput over
    A's run, drops (queue + meter), marks and retransmissions per tenant."""
    times = np.asarray(record["iter_times_s"], dtype=float)
    mean = float(times.mean()) if len(times) else math.nan
    return {"case": record["case"], "seed": record["seed"], "done": record["done"],
            "wrong": record["wrong"], "error": record["error"] or "",
            "a_busbw_gbps": busbw_gbps(size, nranks, mean),
            "a_iter_mean_us": mean * 1e6,
            "a_iter_p99_us": float(np.percentile(times, 99)) * 1e6 if len(times) else math.nan,
            "b_gbps": record["b_bytes"] * 8 / record["span_s"] / 1e9 if record["span_s"] else 0.0,
            **{f"{t}_drops": record["queue_drops"][t] + record["meter_drops"][t] for t in ("A", "B")},
            **{f"{t}_meter_drops": record["meter_drops"][t] for t in ("A", "B")},
            **{f"{t}_marks": record["marks"][t] for t in ("A", "B")},
            **{f"{t}_retx": record["retransmissions"][t] for t in ("A", "B")},
            "cc_decisions": record["cc_decisions"], "wall_s": record["wall_s"]}


def normalise(rows: list[dict[str, Any]]) -> None:
    """Add `a_norm_busbw`: A's busbw over A alone's in the same seed (nan without one)."""
    alone = {r["seed"]: r["a_busbw_gbps"] for r in rows if r["case"] == "alone"}
    for r in rows:
        base = alone.get(r["seed"])
        r["a_norm_busbw"] = r["a_busbw_gbps"] / base if base else math.nan
