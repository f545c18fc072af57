"""Per-case metrics of the congestion_control experiment: pure functions of a case's raw
record, which has the same shape in both modes (sim.run_case, emulate.run_case).

Every metric covers the measured window [warm-up mark, end mark]: the queue samples in it,
the bottleneck's tx bytes and the long flows' acknowledged bytes between the marks, short
flows that started at or after the warm-up, and pause, drop, retransmission and NIC
counters as their difference between the marks. A record without a warm-up snapshot of a
counter (written before the snapshots existed) falls back to its whole-run count."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from experiments.congestion_control.params import Params
from experiments.congestion_control.workload import roles

# A RoCEv2 data frame is its payload plus Ethernet (14) + IPv4 (20) + UDP (8) + BTH (12) +
# ICRC (4) = 58 bytes (fabriclab/roce/nic.py WIRE_OVERHEAD + framing's BTH and ICRC): 1082 B
# for a 1024 B payload. The RETH (16 B) rides only on a WRITE's first (or only) packet.
FRAME_OVERHEAD = 58
RETH = 16
HOST_COUNTERS = ("retransmissions", "ce_marked", "cnps_received", "switch_cnps", "int_echoed", "host_paused_us")


def jain(values: Sequence[float]) -> float:
    """Jain's fairness index: 1 when all are equal, 1/n when one takes everything."""
    v = np.asarray(values, dtype=float)
    if not len(v) or not v.any():
        return float("nan")
    return float(v.sum() ** 2 / (len(v) * (v ** 2).sum()))


def wire_bytes(size: int, p: Params) -> tuple[int, int]:
    """(every frame's bytes, the last frame's bytes) of one RDMA WRITE of `size` bytes."""
    packets = max(1, -(-size // p.pmtu))
    last = size - (packets - 1) * p.pmtu + FRAME_OVERHEAD + (RETH if packets == 1 else 0)
    return size + packets * FRAME_OVERHEAD + RETH, last


def ideal_fct_ns(size: int, p: Params) -> float:
    """A message alone on the path, from its post to its ACK. `base_rtt_ns` is the first
    ACK's time of one full data frame (F = pmtu + 58 B): F serialised at the sender's link
    (rate R), stored and forwarded by the two uplinks (uplink_factor x R) and the receiver's
    link (R), the propagation and the ACK. The message's frames leave the sender back to
    back, and only its last frame (L bytes) is stored and forwarded after that, so

        ideal = base_rtt + (wire - F) / R + (L - F) x (1 / R + 2 / (uplink_factor x R))

    with wire = size + 58 B per packet + 16 B of RETH once. For 1024 B at 100 Gb/s: 4.2 us
    + 2.9 ns; for 10 KB: + 780 ns (ten 1082 B frames and a RETH, less the one in the
    base RTT). HPCC's INT bytes (88 B per frame on the receiver's link) are not in it."""
    rate = p.link_gbps * 1e9 / 8 / 1e9  # bytes per ns
    frame = p.pmtu + FRAME_OVERHEAD
    wire, last = wire_bytes(size, p)
    return p.base_rtt_ns + (wire - frame) / rate + (last - frame) * (1 + 2 / p.uplink_factor) / rate


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def short_slowdowns(record: dict[str, Any], p: Params) -> list[tuple[int, float, bool]]:
    """(size, slowdown, finished) of every short flow that started at or after the warm-up.
    A flow that had not finished by the run's end counts with its lower bound, (end -
    start) / ideal, rather than being left out (which would lower the tail)."""
    fct = {int(k): v for h in record["hosts"] for k, v in h["fct_ns"].items()}
    warmup, end = p.warmup_us * 1000, p.duration_us * 1000
    out = []
    for f in record["flows"]:
        if f["size"] is None or f["start_ns"] < warmup:
            continue
        done = fct.get(f["index"])
        took = done if done is not None else max(end - f["start_ns"], 0)
        out.append((f["size"], took / ideal_fct_ns(f["size"], p), done is not None))
    return out


def _host_counts(h: dict[str, Any]) -> dict[str, float]:
    """A host's counters over [warm-up, end] (its summary's `window`), or over the whole run
    for a record without one."""
    if h.get("window"):
        return {k: h["window"].get(k, 0) for k in HOST_COUNTERS}
    return {"retransmissions": h["retransmissions"], "host_paused_us": h["host_paused_us"],
            **{k: h["nic"].get(k, 0) for k in HOST_COUNTERS[1:-1]}}


def case_row(record: dict[str, Any], p: Params) -> dict[str, Any]:
    """One CSV row: bottleneck queue percentiles over the measured window, the long flows'
    goodput into the receiver (% of its link) and the receiver link's wire utilisation
    (INT included), the long flows' fairness, the victim (incast), short flows' FCT
    slowdown (mix), retransmissions, drops, pauses. Keys starting with `_` carry the series
    the figure draws and stay out of the CSV."""
    start, end = record["marks"]["start"], record["marks"]["end"]
    span_s = (end["t"] - start["t"]) / 1e9
    window = [q for t, q in record["queue"] if start["t"] <= t <= end["t"]]
    goodput = {int(k): v for h in record["hosts"] for k, v in h["goodput_bps"].items()}
    flows = record["flows"]
    _, receiver, _, _ = roles(p)
    long = [f["index"] for f in flows if f["size"] is None]
    into_receiver = [f["index"] for f in flows if f["size"] is None and f["dst"] == receiver]
    victim = p.senders if record["workload"] == "incast" else None
    fair = [goodput.get(i, 0.0) / 1e9 for i in long if i != victim]
    slowdowns = short_slowdowns(record, p)
    s = [x for _, x, _ in slowdowns]
    hosts = [_host_counts(h) for h in record["hosts"]]
    drops = end["drops"] - start["drops"] if "drops" in start and "drops" in end else record["drops"]
    pfc = {k: v - start["pfc"].get(k, 0) for k, v in end["pfc"].items()}
    errors = [h["error"] for h in record["hosts"] if h.get("error")] + [record.get("error") or ""]
    return {"workload": record["workload"], "scheme": record["scheme"], "seed": record["seed"],
            "queue_p50_kb": _percentile(window, 50) / 1000, "queue_p99_kb": _percentile(window, 99) / 1000,
            "goodput_pct": 100 * sum(goodput.get(i, 0.0) for i in into_receiver) / record["link_bps"],
            "wire_util_pct": 100 * (end["tx"] - start["tx"]) * 8 / span_s / record["link_bps"],
            "jain": jain(fair), "long_gbps_min": min(fair, default=float("nan")),
            "long_gbps_max": max(fair, default=float("nan")),
            "victim_gbps": goodput.get(victim, 0.0) / 1e9 if victim is not None else float("nan"),
            "short_flows": sum(f["size"] is not None for f in flows), "short_n": len(slowdowns),
            "short_unfinished": sum(not done for _, _, done in slowdowns),
            "slowdown_p50": _percentile(s, 50), "slowdown_p99": _percentile(s, 99),
            **{k: sum(c[k] for c in hosts) for k in HOST_COUNTERS},
            "drops": drops, "pauses": pfc["pauses"], "switch_paused_us": pfc["paused_us"],
            "cc_decisions": record["cc_decisions"], "error": "; ".join(e for e in errors if e)[:300],
            "wall_s": record["wall_s"],
            **{k: v for k, v in sorted(pfc.items()) if k.startswith("paused_us_")},  # per hop
            "_queue": record["queue"], "_slowdowns": slowdowns}
