"""Per-case metrics of the isolation experiment (pure functions of the raw records)."""

from __future__ import annotations

import math
from typing import Any, Sequence

from experiments.report import nearest_rank, value_at


def busbw_gbps(size: int, nranks: int, seconds: float) -> float:
    """nccl-tests' all-reduce bus bandwidth: algbw x 2(n-1)/n."""
    return size * 8 / seconds / 1e9 * 2 * (nranks - 1) / nranks if seconds > 0 else math.nan


def slowest_mean(rank_times: Sequence[Sequence[float]]) -> float:
    """The slowest rank's mean iteration time (what fabriclab.roce.runs.summarize takes for
    busbw); nan if a rank timed nothing."""
    if not rank_times or any(not t for t in rank_times):
        return math.nan
    return max(sum(t) / len(t) for t in rank_times)


def iteration_times(rank_times: Sequence[Sequence[float]]) -> list[float]:
    """Per timed iteration k, the slowest rank's k-th time: the collective's iteration as
    the last rank to finish it sees it (the tail metric's samples)."""
    n = min((len(t) for t in rank_times), default=0)
    return [max(t[k] for t in rank_times) for k in range(n)]


def window_bytes(samples: Sequence[Sequence[int]], start_ns: int, end_ns: int) -> float:
    """What a (time, bytes so far) counter grew by between `start_ns` and `end_ns`."""
    return value_at(samples, end_ns) - value_at(samples, start_ns)


def victim_window(ranks: Sequence[dict[str, Any]]) -> tuple[int, int] | None:
    """A's run on the shared clock: (first rank's start, last rank's end), in ns; None if a
    rank has no start or no end (it did not finish)."""
    starts = [r.get("start_ns") for r in ranks]
    ends = [r.get("end_ns") for r in ranks]
    if not ranks or None in starts or None in ends:
        return None
    return min(starts), max(ends)


def noise_over_window(ranks: Sequence[dict[str, Any]],
                      noise: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """(bytes B's hosts received during A's run, A's run in s), from the victims' start/end
    times and the noise hosts' (time, bytes received) samples; (0, 0) without a window."""
    window = victim_window(ranks)
    if window is None:
        return 0.0, 0.0
    start, end = window
    return sum(window_bytes(n.get("samples", []), start, end) for n in noise), (end - start) / 1e9


def frames_lost(tx: int, rx: int, red: int, unsettled: int) -> int:
    """A tenant's frames lost in queues: what its NICs sent minus what they received (all its
    traffic stays inside it), minus the meters' RED drops (counted apart) and minus the
    packets its senders still had unacknowledged when they reported (in flight or not yet
    resent: of unknown fate)."""
    return max(0, tx - rx - red - unsettled)


def case_row(record: dict[str, Any], size: int, nranks: int) -> dict[str, Any]:
    """One CSV row: A's busbw (the slowest rank's mean iteration), A's iteration times (per
    iteration the slowest rank's; their nearest-rank p99 and count, pooled over seeds by
    `summarize`), B's throughput over A's run, drops (queue + meter), marks and
    retransmissions per tenant."""
    rank_times = record["rank_times_s"]
    mean = slowest_mean(rank_times)
    iters = iteration_times(rank_times)
    span = record["span_s"]
    return {"case": record["case"], "seed": record["seed"], "done": record["done"],
            "wrong": record["wrong"], "error": record["error"] or "",
            "a_busbw_gbps": busbw_gbps(size, nranks, mean),
            "a_iter_mean_us": mean * 1e6,
            "a_iter_p99_us": _p99(iters) * 1e6,
            "a_iter_n": len(iters),
            "a_iter_us": [round(t * 1e6, 3) for t in iters],
            "b_gbps": record["b_bytes"] * 8 / span / 1e9 if span else math.nan,
            **{f"{t}_drops": record["queue_drops"][t] + record["meter_drops"][t] for t in ("A", "B")},
            **{f"{t}_meter_drops": record["meter_drops"][t] for t in ("A", "B")},
            **{f"{t}_marks": record["marks"][t] for t in ("A", "B")},
            **{f"{t}_retx": record["retransmissions"][t] for t in ("A", "B")},
            "cc_decisions": record["cc_decisions"], "wall_s": record["wall_s"]}


def pooled_p99(rows: Sequence[dict[str, Any]]) -> tuple[float, int]:
    """(nearest-rank p99 in us, n) of every row's iteration times together."""
    samples = [t for r in rows for t in r["a_iter_us"]]
    return _p99(samples), len(samples)


def normalise(rows: list[dict[str, Any]]) -> None:
    """Add `a_norm_busbw`: A's busbw over A alone's in the same seed (nan without a
    finished A alone)."""
    alone = {r["seed"]: r["a_busbw_gbps"] for r in rows if r["case"] == "alone" and r["done"]}
    for r in rows:
        base = alone.get(r["seed"])
        r["a_norm_busbw"] = r["a_busbw_gbps"] / base if base else math.nan


def _p99(values: Sequence[float]) -> float:
    """Nearest-rank p99 (below 100 samples: the largest); nan without samples."""
    v = nearest_rank(values, 99)
    return math.nan if v is None else v
