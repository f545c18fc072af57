"""From a case's raw record (every host's JSON, the leaves' counter deltas) to one CSV row.

- permutation: each flow's goodput (bytes / time until its last packet was acknowledged)
  as % of the link rate; the row's `pct_ideal` is the mean over flows. With n flows on
  N links that equals (links used) / N, the quantity behind ECMP's ~1-(1-1/N)^N.
- allreduce: nccl-tests busbw of the slowest rank; `pct_ideal` is busbw / link rate.
- every case: retransmissions, timeouts, NAKs and out-of-order arrivals summed over hosts
  (from the RoCE engines), and each leaf uplink's load as % of its capacity over the case's
  duration (from the switches' port counters).
"""

from __future__ import annotations

from typing import Any

from experiments.adaptive_routing.params import Params
from fabriclab.roce.collectives import BUS_FACTOR

QP_COUNTERS = ("retransmissions", "timeouts", "naks_sent", "out_of_order")


def uplink_column(leaf: str, spine: str) -> str:
    return f"up_{leaf}_{spine}_pct"


def case_row(record: dict[str, Any], p: Params) -> dict[str, Any]:
    case, hosts = record["case"], record["hosts"]
    rate = p.link_mbps * 1e6
    row: dict[str, Any] = {"workload": case["workload"], "scheme": f"{case['routing']}+{case['receiver']}",
                           "routing": case["routing"], "receiver": case["receiver"], "seed": case["seed"]}
    errors = [h["error"] for h in hosts if h.get("error")]
    row["error"] = "; ".join(errors)[:200]
    if case["workload"] == "permutation":
        times = [h["time"] for h in hosts if h.get("time")]
        pcts = [100 * h["bytes"] * 8 / h["time"] / rate for h in hosts if h.get("time")]
        duration = max(times) if times else 0.0
        row.update(pct_ideal=mean(pcts) if not errors else None, min_flow_pct=min(pcts, default=None),
                   max_flow_pct=max(pcts, default=None), time_s=duration)
    else:
        duration = max((h["avg_time"] for h in hosts), default=0.0)
        n = len(hosts)
        busbw = hosts[0]["size"] * 8 / duration * BUS_FACTOR["allreduce"](n) if duration and not errors else None
        row.update(busbw_mbps=None if busbw is None else busbw / 1e6,
                   pct_ideal=None if busbw is None else 100 * busbw / rate, time_s=duration,
                   wrong=sum(h.get("wrong", 0) for h in hosts))
    for counter in QP_COUNTERS:
        row[counter] = sum(h["qp"].get(counter, 0) for h in hosts)
    # the uplinks' counters cover every iteration of an all-reduce, its duration only one
    span = duration if case["workload"] == "permutation" else max(
        (h["avg_time"] * h.get("iters", 1) for h in hosts), default=0.0)
    uplink_rate = rate * p.hosts_per_leaf / p.spines
    for leaf, ports in record["uplinks"].items():
        for port, spine in ports.items():
            sent = record["leaf_tx_bytes"][leaf][port]
            row[uplink_column(leaf, spine)] = 100 * sent * 8 / span / uplink_rate if span else 0.0
    return row


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def uplink_loads(row: dict[str, Any]) -> dict[str, float]:
    """'leaf-spine' -> % load, from a row's uplink columns."""
    return {k[3:-4].replace("_", "-"): float(v) for k, v in row.items()
            if k.startswith("up_") and k.endswith("_pct") and v not in (None, "")}
