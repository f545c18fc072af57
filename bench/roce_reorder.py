"""What fabric reordering costs a go-back-N receiver versus out-of-order placement.

A 4-rank ring all-reduce of 1 MiB in virtual time at 100 Mb/s on a fabric.p4 star; each switch
port holds back a fraction of packets by up to 300 us (as adaptive routing / packet spraying
would). Prints the time, busbw and retransmission counters per receiver mode, plus simulator
speed.

Run: .venv/bin/python bench/roce_reorder.py
"""

import time

from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.runs import RunOptions, summarize
from fabriclab.vtime.fabric import FabricOptions
from fabriclab.vtime.links import Impairments
from fabriclab.vtime.runs import run_collective, star


def main() -> None:
    spec = CollectiveSpec("allreduce", 4, 1 << 20)
    print(f"{'reorder':>8} {'mode':>4} {'time(us)':>10} {'busbw(Mb/s)':>12} {'retx':>6} {'naks':>5} "
          f"{'ooo pkts':>8} {'wall(s)':>7} {'pkts/s sim':>10}")
    for reorder in (0.0, 0.01, 0.05, 0.2):
        for mode in ("gbn", "ooo"):
            faults = FabricOptions(queue_bytes=256 << 10, impairments=Impairments(reorder=reorder, reorder_ns=300_000))
            t = time.perf_counter()
            res = run_collective(star(4, bw_mbps=100, delay_us=50), spec,
                                 RunOptions(iters=2, warmup=0, mode=mode, rto=0.005), seed=1, fabric_options=faults)
            wall = time.perf_counter() - t
            row = summarize(spec, res)
            retx = sum(r["qp"]["retransmissions"] for r in res)
            naks = sum(r["qp"]["naks_sent"] for r in res)
            ooo = sum(r["qp"]["out_of_order"] for r in res)
            pkts = sum(r["nic"]["tx_packets"] for r in res)
            print(f"{reorder:8.2f} {mode:>4} {row.time_us:10.0f} {row.busbw * 8e3:12.1f} {retx:6d} {naks:5d} "
                  f"{ooo:8d} {wall:7.2f} {pkts / wall:10.0f}")


if __name__ == "__main__":
    main()
