"""From a run's raw record to its CSV row: completion, wrong elements, bytes retransmitted,
time to recover after each failure, slowdown against the same collective without failures.

Time to recover (the goodput gap) of a failure at t, as time at zero goodput: from t to the
next failure (or the end of the collective), the time that passed minus the time the bytes
delivered meanwhile would have taken at the failure-free run's mean goodput. A full stall of
D costs D, half rate for D costs D/2. Before the first failure a run is the failure-free
run (same seed, same paths), so with one failure this is exactly the extra completion time;
the goodput of a collective swings with its phases (a ring's intra-leaf transfers finish
first), which a threshold on the per-bin goodput would mistake for failures.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from experiments.resiliency.params import Params


def mean_rate(record: dict[str, Any]) -> float:
    """Bytes per ns delivered in order over the whole run."""
    return sum(record["bins"]) / record["elapsed_ns"] if record["elapsed_ns"] else 0.0


def recoveries_ns(record: dict[str, Any], healthy_rate: float) -> list[int]:
    """One gap per failure, in failure order (bins cut at the failure instants)."""
    bins, width = record["bins"], record["bin_ns"]
    times = [t for t, _, _ in record["failures"]] + [record["elapsed_ns"]]
    gaps = []
    for start, end in zip(times, times[1:]):
        delivered = sum(b * (min(end, (i + 1) * width) - max(start, i * width)) / width
                        for i, b in enumerate(bins[start // width:-(-end // width)], start // width))
        gaps.append(max(0, round(end - start - delivered / healthy_rate)) if healthy_rate else 0)
    return gaps


def series(record: dict[str, Any], healthy_rate: float) -> str:
    """Goodput per bin as a fraction of the healthy mean (the figure's curves)."""
    width = record["bin_ns"]
    return " ".join(f"{b / (healthy_rate * width):.3g}" if healthy_rate else "0" for b in record["bins"])


def case_row(record: dict[str, Any], healthy: dict[str, Any], p: Params) -> dict[str, Any]:
    case, ranks = record["case"], record["ranks"]
    rate = mean_rate(healthy)
    gaps = recoveries_ns(record, rate) if case["failures"] else []
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
