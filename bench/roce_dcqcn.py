"""DCQCN in an incast, in virtual time: 3 senders at 100 Mb/s into one 100 Mb/s port.

Prints, per ECN setting, the completion time of 1 MiB from each sender, drops, marks, CNPs
and one sender's rate trajectory (R_C sampled every 20 ms). Parameters are the paper's,
scaled by `DcqcnParams.scaled(100 Mb/s, RTT)` (see fabriclab/roce/dcqcn.py).

Run: .venv/bin/python bench/roce_dcqcn.py
"""

from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig
from fabriclab.roce.sim import PortParams, Simulator

LINE = 100e6
SENDERS = ("10.0.0.1", "10.0.0.2", "10.0.0.3")
RX = "10.0.0.9"


def incast(ecn: tuple[int, int, float] | None, rtt: float | None):
    sim = Simulator(1)
    params = DcqcnParams.scaled(LINE, round(rtt * 1e9)) if rtt else None  # the engines count ns
    qcfg = QpConfig(pmtu=1024, window=128, ack_every=16, rto_ns=50_000_000)
    nics = {ip: RoceNic(NicConfig(ip, line_rate=LINE, qp=qcfg, dcqcn=params)) for ip in (*SENDERS, RX)}
    kmin, kmax, pmax = ecn or (None, None, 1.0)
    for nic in nics.values():
        sim.add(nic, PortParams(rate=LINE, delay=100e-6, queue_bytes=150_000, ecn_kmin=kmin, ecn_kmax=kmax,
                                ecn_pmax=pmax))
    rx = nics[RX]
    rx.register(1, 3 << 20)
    for i, ip in enumerate(SENDERS):
        rx.connect(10 + i, ip, 1)
        nics[ip].connect(1, RX, 10 + i)
        nics[ip].qp(1).post_write(i, bytes(1 << 20), va=i << 20, rkey=1)
    trace, finish = [], {}
    t = 0.0
    while len(finish) < len(SENDERS) and t < 5.0:
        t += 0.02
        sim.run(until=t)
        trace.append(nics[SENDERS[0]].rate(1) / 1e6)
        for ip in SENDERS:
            if nics[ip].completions and ip not in finish:
                finish[ip] = t
    st = sim.port_stats(RX)
    retx = sum(nics[ip].qp(1).counters.retransmissions for ip in SENDERS)
    return finish, st, retx, rx.counters.cnps_sent, trace


def main() -> None:
    cases = [("no ECN, no DCQCN", None, None),
             ("RED 5K-200K 1%, DCQCN rtt 0.2 ms", (5_000, 200_000, 0.01), 0.2e-3),
             ("RED 5K-50K 10%, DCQCN rtt 0.2 ms", (5_000, 50_000, 0.1), 0.2e-3),
             ("step 20K, DCQCN rtt 0.2 ms", (20_000, 20_000, 1.0), 0.2e-3)]
    for name, ecn, rtt in cases:
        finish, st, retx, cnps, trace = incast(ecn, rtt)
        done = max(finish.values()) if len(finish) == len(SENDERS) else float("nan")
        print(f"{name:36s} done {done * 1e3:7.0f} ms  drops {st.dropped:5d}  marks {st.marked:5d}  "
              f"CNPs {cnps:4d}  retx {retx:5d}")
        print("   sender 1 rate (Mb/s, every 20 ms): " + " ".join(f"{r:.0f}" for r in trace[:25]))


if __name__ == "__main__":
    main()
