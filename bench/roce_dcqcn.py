"""DCQCN in an incast, in virtual time: 3 senders at 100 Mb/s into one 100 Mb/s port of a
fabric.p4 switch (ECN thresholds in 1 KiB-payload frames of queue depth, as fabric.p4 marks).

Prints, per ECN setting, the completion time of 1 MiB from each sender, drops, marks, CNPs
and one sender's rate trajectory (R_C sampled every 20 ms). Parameters are the paper's,
scaled by `DcqcnParams.scaled(100 Mb/s, RTT)` (see fabriclab/roce/dcqcn.py).

Run: .venv/bin/python bench/roce_dcqcn.py
"""

from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig
from controller.fabric_plan import Ecn, FabricConfig
from fabriclab.vtime.fabric import Fabric, FabricOptions
from fabriclab.vtime.runs import star

LINE = 100e6
SENDERS = ("h1", "h2", "h3")
RX = "h4"
FRAME = 1024 + 58  # bytes per full frame on the wire: ECN thresholds count these


def incast(ecn: tuple[int, int, float] | None, rtt: float | None):
    config = FabricConfig(ecn=Ecn(ecn[0] // FRAME, max(ecn[0] // FRAME + 1, round(ecn[1] / FRAME)), ecn[2])) if ecn else None
    fabric = Fabric(star(4, bw_mbps=LINE / 1e6, delay_us=100), FabricOptions(queue_bytes=150_000, config=config), 1)
    params = DcqcnParams.scaled(LINE, round(rtt * 1e9)) if rtt else None  # the engines count ns
    qcfg = QpConfig(pmtu=1024, window=128, ack_every=16, rto_ns=50_000_000)
    nics = {h: RoceNic(NicConfig(fabric.endpoint(h).ip, line_rate=LINE, qp=qcfg, dcqcn=params))
            for h in (*SENDERS, RX)}
    rx = nics[RX]
    rx.register(1, 3 << 20)
    for i, h in enumerate(SENDERS):
        rx.connect(10 + i, nics[h].cfg.ip, 1)
        nics[h].connect(1, rx.cfg.ip, 10 + i)
        nics[h].qp(1).post_write(i, bytes(1 << 20), va=i << 20, rkey=1)
    for h, nic in nics.items():
        fabric.endpoint(h).attach(nic)
        fabric.endpoint(h).kick()
    trace, finish = [], {}
    t = 0
    while len(finish) < len(SENDERS) and t < 5_000_000_000:
        t += 20_000_000
        fabric.run(until_ns=t)
        trace.append(nics[SENDERS[0]].rate(1) / 1e6)
        for h in SENDERS:
            if nics[h].completions and h not in finish:
                finish[h] = t / 1e9
    tm_port = fabric.switches["sw1"].tm.ports[4]
    retx = sum(nics[h].qp(1).counters.retransmissions for h in SENDERS)
    return finish, tm_port, rx.counters.ce_marked, retx, rx.counters.cnps_sent, trace


def main() -> None:
    cases = [("no ECN, no DCQCN", None, None),
             ("RED 5K-200K 1%, DCQCN rtt 0.2 ms", (5_000, 200_000, 0.01), 0.2e-3),
             ("RED 5K-50K 10%, DCQCN rtt 0.2 ms", (5_000, 50_000, 0.1), 0.2e-3),
             ("step 20K, DCQCN rtt 0.2 ms", (20_000, 20_000, 1.0), 0.2e-3)]
    for name, ecn, rtt in cases:
        finish, port, marks, retx, cnps, trace = incast(ecn, rtt)
        done = max(finish.values()) if len(finish) == len(SENDERS) else float("nan")
        print(f"{name:36s} done {done * 1e3:7.0f} ms  drops {port.drops:5d}  marks {marks:5d}  "
              f"CNPs {cnps:4d}  retx {retx:5d}")
        print("   sender 1 rate (Mb/s, every 20 ms): " + " ".join(f"{r:.0f}" for r in trace[:25]))


if __name__ == "__main__":
    main()
