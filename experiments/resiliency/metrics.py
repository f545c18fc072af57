"""From a run's raw record to its CSV row: completion, wrong elements, bytes retransmitted,
time to recover after each failure, slowdown against the same collective without failures.

Time to recover (the goodput gap) of a failure at t, as time at zero goodput: from t to the
next failure (or the end of the collective), the time that passed minus the time the
failure-free run took to deliver the same bytes (the same stretch of its in-order progress).
A full stall of D costs D, half rate for D costs D/2. Before the first failure a run is the
failure-free run (same seed, same paths), so with one failure this is exactly the extra
completion time, whatever the shape of the progress: the goodput of a collective swings with
its phases (a ring's intra-leaf transfers finish first, an all-to-all slows down toward its
end), which a threshold on the per-bin goodput, or the failure-free run's mean goodput, would
mistake for failures or recoveries.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from experiments.report import value_at
from experiments.resiliency.params import Params


def mean_rate(record: dict[str, Any]) -> float:
    """Bytes per ns delivered in order over the whole run."""
    return sum(record["bins"]) / record["elapsed_ns"] if record["elapsed_ns"] else 0.0


def progress(record: dict[str, Any]) -> list[tuple[float, float]]:
    """The run's in-order progress as (time ns, bytes delivered by then) at its bin edges,
    linear in between; the last bin ends with the run when it ends inside it."""
    width, elapsed = record["bin_ns"], record["elapsed_ns"]
    points, done = [(0.0, 0.0)], 0.0
    for i, b in enumerate(record["bins"]):
        done += b
        end = (i + 1) * width
        points.append((min(end, elapsed) if i * width < elapsed else end, done))
    return points


def time_to(points: list[tuple[float, float]], nbytes: float, rate: float) -> float:
    """When the run had first delivered `nbytes` (past its total: at its mean rate after)."""
    if nbytes <= 0:
        return 0.0
    for (t0, b0), (t1, b1) in zip(points, points[1:]):
        if nbytes <= b1 and b1 > b0:
            return t0 + (t1 - t0) * max(0.0, nbytes - b0) / (b1 - b0)
    t_end, total = points[-1]
    return t_end + (nbytes - total) / rate if rate else t_end


def recoveries_ns(record: dict[str, Any], healthy: dict[str, Any]) -> list[int]:
    """One gap per failure, in failure order: the time between it and the next failure (or
    the end) beyond what the failure-free run `healthy` took to deliver the same bytes."""
    mine, theirs, rate = progress(record), progress(healthy), mean_rate(healthy)
    if not rate:
        return [0] * len(record["failures"])
    times = [t for t, _, _ in record["failures"]] + [record["elapsed_ns"]]
    gaps = []
    for start, end in zip(times, times[1:]):
        took = time_to(theirs, value_at(mine, end), rate) - time_to(theirs, value_at(mine, start), rate)
        gaps.append(max(0, round(end - start - took)))
    return gaps


def series(record: dict[str, Any], healthy_rate: float) -> str:
    """Goodput per bin as a fraction of the healthy mean (the figure's curves)."""
    width = record["bin_ns"]
    return " ".join(f"{b / (healthy_rate * width):.3g}" if healthy_rate else "0" for b in record["bins"])


def case_row(record: dict[str, Any], healthy: dict[str, Any], p: Params) -> dict[str, Any]:
    case, ranks = record["case"], record["ranks"]
    rate = mean_rate(healthy)
    gaps = recoveries_ns(record, healthy) if case["failures"] else []
    errors = [r["error"] or f"rank {r['rank']} did not finish" for r in ranks
              if r.get("error") or not r.get("done")]
    retx = sum(r["qp"]["retransmissions"] for r in ranks)
    scheme = f"{case['reroute']}+{case['routing']}" if case["failures"] else f"none+{case['routing']}"
    return {
        "collective": case["collective"], "scheme": scheme, "routing": case["routing"],
        "reroute": case["reroute"] if case["failures"] else "none", "failures": case["failures"],
        "seed": case["seed"], "completed": not errors, "wrong": sum(r["wrong"] for r in ranks),
        "elapsed_us": record["elapsed_ns"] / 1e3,
        "slowdown": record["elapsed_ns"] / healthy["elapsed_ns"] if healthy["elapsed_ns"] else 0.0,
        "retransmitted_kb": retx * p.pmtu / 1024, "timeouts": sum(r["qp"]["timeouts"] for r in ranks),
        "recovery_us_median": median(gaps) / 1e3 if gaps else 0.0,
        "recovery_us_max": max(gaps) / 1e3 if gaps else 0.0,
        "recoveries_us": " ".join(f"{g / 1e3:g}" for g in gaps),
        "failure_times_us": " ".join(f"{t / 1e3:g}" for t, _, _ in record["failures"]),
        "failed_links": " ".join(f"{a}-{b}" for _, a, b in record["failures"]),
        "bin_us": record["bin_ns"] / 1e3, "goodput_series": series(record, rate),
        "wall_s": round(record["wall_s"], 2), "error": "; ".join(errors)[:300],
    }
