"""Per-case metrics of the congestion_control experiment: pure functions of a case's raw
record, which has the same shape in both modes (sim.run_case, emulate.run_case)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from experiments.congestion_control.params import Params

ROCE_OVERHEAD = 74  # bytes per packet on the wire besides payload: Ethernet, IPv4, UDP, BTH, RETH, ICRC


def jain(values: Sequence[float]) -> float:
    """Jain's fairness index: 1 when all are equal, 1/n when one takes everything."""
    v = np.asarray(values, dtype=float)
    if not len(v) or not v.any():
        return float("nan")
    return float(v.sum() ** 2 / (len(v) * (v ** 2).sum()))


def ideal_fct_ns(size: int, p: Params) -> float:
    """A message alone on the path: its bytes on the wire at line rate plus the base RTT."""
    wire = size + math.ceil(size / p.pmtu) * ROCE_OVERHEAD
    return wire * 8 / (p.link_gbps * 1e9) * 1e9 + p.base_rtt_ns


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def case_row(record: dict[str, Any], p: Params) -> dict[str, Any]:
    """One CSV row: bottleneck queue percentiles over the measured window, utilisation,
    long flows' goodput and fairness, the victim (incast), short flows' FCT slowdown (mix),
    retransmissions, drops, pauses. Keys starting with `_` carry the series the figure
    draws and stay out of the CSV."""
    start, end = record["marks"]["start"], record["marks"]["end"]
    span_s = (end["t"] - start["t"]) / 1e9
    window = [q for t, q in record["queue"] if start["t"] <= t <= end["t"]]
    goodput = {int(k): v for h in record["hosts"] for k, v in h["goodput_bps"].items()}
    fct = {int(k): v for h in record["hosts"] for k, v in h["fct_ns"].items()}
    flows = record["flows"]
    long = [f["index"] for f in flows if f["size"] is None]
    victim = p.senders if record["workload"] == "incast" else None
    fair = [goodput.get(i, 0.0) / 1e9 for i in long if i != victim]
    slowdowns = [(f["size"], fct[f["index"]] / ideal_fct_ns(f["size"], p)) for f in flows
                 if f["size"] is not None and fct.get(f["index"]) is not None]
    s = [x for _, x in slowdowns]
    errors = [h["error"] for h in record["hosts"] if h.get("error")] + [record.get("error") or ""]
    return {"workload": record["workload"], "scheme": record["scheme"], "seed": record["seed"],
            "queue_p50_kb": _percentile(window, 50) / 1000, "queue_p99_kb": _percentile(window, 99) / 1000,
            "utilisation_pct": 100 * (end["tx"] - start["tx"]) * 8 / span_s / record["link_bps"],
            "jain": jain(fair), "long_gbps_min": min(fair, default=float("nan")),
            "long_gbps_max": max(fair, default=float("nan")),
            "victim_gbps": goodput.get(victim, 0.0) / 1e9 if victim is not None else float("nan"),
            "short_flows": sum(f["size"] is not None for f in flows), "short_done": len(slowdowns),
            "slowdown_p50": _percentile(s, 50), "slowdown_p99": _percentile(s, 99),
            "retransmissions": sum(h["retransmissions"] for h in record["hosts"]),
            **{k: sum(h["nic"].get(k, 0) for h in record["hosts"])
               for k in ("ce_marked", "cnps_received", "switch_cnps", "int_echoed")},
            "drops": record["drops"], "pauses": end["pfc"]["pauses"],
            "switch_paused_us": end["pfc"]["paused_us"],
            "host_paused_us": sum(h["host_paused_us"] for h in record["hosts"]),
            "cc_decisions": record["cc_decisions"], "error": "; ".join(e for e in errors if e)[:300],
            "wall_s": record["wall_s"],
            **{k: v for k, v in sorted(end["pfc"].items()) if k.startswith("paused_us_")},  # per hop
            "_queue": record["queue"], "_slowdowns": slowdowns}
