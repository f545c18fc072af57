"""Per-case metrics of the congestion_control experiment (pure functions of a record)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def jain(values: Sequence[float]) -> float:
    """Jain's fairness index: 1 when all are equal, 1/n when one takes everything."""
    v = np.asarray(values, dtype=float)
    if not len(v) or not v.any():
        return float("nan")
    return float(v.sum() ** 2 / (len(v) * (v ** 2).sum()))


def case_row(record: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: bottleneck queue percentiles (over the measured window), utilisation,
    fairness of the incast flows, victim throughput, retransmissions, drops, pauses."""
    q = np.asarray(record["queue_window"], dtype=float)
    return {"scheme": record["scheme"], "seed": record["seed"],
            "queue_p50_kb": float(np.percentile(q, 50)) / 1000 if len(q) else float("nan"),
            "queue_p99_kb": float(np.percentile(q, 99)) / 1000 if len(q) else float("nan"),
            "utilisation_pct": 100 * record["utilisation"],
            "jain": jain(record["incast_gbps"]),
            "incast_gbps_min": min(record["incast_gbps"]), "incast_gbps_max": max(record["incast_gbps"]),
            "victim_gbps": record["victim_gbps"], "retransmissions": record["retransmissions"],
            "drops": record["drops"], "pauses": record["pauses"],
            "switch_paused_us": record["switch_paused_us"], "host_paused_us": record["host_paused_us"],
            "cc_decisions": record["cc_decisions"], "wall_s": record["wall_s"]}
