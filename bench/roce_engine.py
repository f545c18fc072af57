"""CPU per packet of the RoCE engine alone: RoceNic engines wired back to back in-process.

No root, sockets, switches or frames: each NIC's datagrams reach the peer after a fixed
propagation delay, serialised on the receiver's link (a queue builds instead of a drop), on a
virtual clock; the NICs' own pacers, timers and ACKs run as in any driver. Two workloads:

- `write`:    one 1 MiB RDMA WRITE from NIC 0 to NIC 1 (data path one way, ACKs back);
- `alltoall`: a 4-rank all-to-all of 1 MiB through `Rank` (the collective's numpy work too);
- one-way streams of 10x that many packets, each side alone: the sender polled once per
  packet time (its calls timed), the receiver fed prepared frames (its loop's CPU time), each
  call followed by poll and next_wakeup as a driver makes them.

For each it prints packets per CPU second on the send path (`poll` and `next_wakeup`: queue
pairs, pacers, framing with the ICRC) and the receive path (`receive`: ICRC check, decode, QP, placement),
each from the time inside those calls scaled by the run's CPU/wall ratio, the
whole run's packets per CPU and wall second and the load average. `--profile`: cProfile's
top 10 by own time. A benchmark: no assertions.

Run: .venv/bin/python bench/roce_engine.py [--size 1M] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import sys
import time
from dataclasses import dataclass, field, replace

from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.nic import ETH_HEADER, RoceNic
from fabriclab.roce.qp import QpConfig
from fabriclab.roce.rank import Rank
from fabriclab.roce.runs import RunOptions
from fabriclab.roce import framing as f

DELAY_NS = 2_000  # one-way propagation between any two NICs
LINE = 100e9  # bit/s: fast enough that pacing never idles the CPU-bound loop for long


@dataclass
class Path:
    """Nanoseconds spent inside one engine entry point and the packets it handled. Timed with
    perf_counter_ns (45 ns a call; a CPU clock costs 0.5 us, a tenth of a packet) and turned
    into CPU time with the run's CPU/wall ratio, so another process's load is left out."""

    ns: int = 0
    packets: int = 0

    def rate(self, cpu_per_wall: float) -> float:
        return self.packets / (self.ns * cpu_per_wall / 1e9) if self.ns else 0.0


@dataclass
class Wiring:
    """N NICs (and apps) on a virtual clock; a heap of (time, seq, action, args)."""

    nics: list[RoceNic]
    apps: list = field(default_factory=list)
    now: int = 0
    send: Path = field(default_factory=Path)
    recv: Path = field(default_factory=Path)
    _heap: list = field(default_factory=list)
    _seq: itertools.count = field(default_factory=itertools.count)
    _rx_free: dict = field(default_factory=dict)  # receiver NIC index -> its link's next free ns
    _wake_at: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_ip = {nic.cfg.ip: i for i, nic in enumerate(self.nics)}

    def at(self, when: int, fn, *args) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), fn, args))

    def run(self, done) -> None:
        for i in range(len(self.nics)):
            self.at(0, self.service, i)
        while self._heap and not done():
            self.now, _, fn, args = heapq.heappop(self._heap)
            fn(*args)

    def deliver(self, i: int, src_ip: str, sport: int, payload: bytes) -> None:
        clock = time.perf_counter_ns
        t = clock()
        self.nics[i].receive(payload, src_ip, sport, False, self.now, f.ROCE_PORT)
        self.recv.ns += clock() - t
        self.recv.packets += 1
        self.service(i)

    def service(self, i: int) -> None:
        nic, app, now = self.nics[i], self.apps[i] if self.apps else None, self.now
        if app is not None:
            app.service(now)
        clock = time.perf_counter_ns
        t = clock()
        out = nic.poll(now)
        self.send.ns += clock() - t
        self.send.packets += len(out)
        for dg in out:
            j = self._by_ip[dg.dst_ip]
            wire_ns = round((len(dg.payload) + f.IP_UDP_LEN + ETH_HEADER) * 8e9 / LINE)
            arrive = max(now + DELAY_NS, self._rx_free.get(j, 0)) + wire_ns
            self._rx_free[j] = arrive
            self.at(arrive, self.deliver, j, nic.cfg.ip, dg.sport, dg.payload)
        if out and app is not None:
            app.service(now)
        t = clock()
        wake = nic.next_wakeup()
        self.send.ns += clock() - t
        if wake is not None and self._wake_at.get(i) != wake:
            self._wake_at[i] = wake
            self.at(max(wake, now), self._wake, i, wake)

    def _wake(self, i: int, when: int) -> None:
        if self._wake_at.get(i) == when:
            del self._wake_at[i]
            self.service(i)


def options() -> RunOptions:
    return RunOptions(iters=1, warmup=0, line_rate=LINE, pmtu=1024, window=64, rto=0.001)


def write(size: int) -> Wiring:
    """One RDMA WRITE of `size` bytes, NIC 0 -> NIC 1."""
    nics = [RoceNic(options().nic_config(f"10.0.0.{i + 1}")) for i in range(2)]
    nics[1].register(1, size)
    nics[0].connect(1, nics[1].cfg.ip, 2)
    nics[1].connect(2, nics[0].cfg.ip, 1)
    nics[0].qp(1).post_write(1, bytes(size), va=0, rkey=1)
    w = Wiring(nics)
    w.run(lambda: bool(nics[0].completions))
    return w


def alltoall(size: int, ranks: int = 4) -> Wiring:
    """A `ranks`-rank all-to-all of `size` bytes through `Rank`, one iteration."""
    addrs = [(f"10.0.0.{i + 1}", f.ROCE_PORT) for i in range(ranks)]
    spec = CollectiveSpec("alltoall", ranks, size)
    nics = [RoceNic(options().nic_config(ip, port)) for ip, port in addrs]
    apps = [Rank(nic, i, addrs, spec, iters=1, warmup=0) for i, nic in enumerate(nics)]
    w = Wiring(nics, apps)
    w.run(lambda: all(a.done for a in apps))
    bad = [a.summary()["error"] or a.summary()["wrong"] for a in apps if a.summary()["error"] or a.summary()["wrong"]]
    if bad:
        raise SystemExit(f"roce_engine: all-to-all failed: {bad}")
    return w


def stream_send(npkts: int) -> tuple[float, float]:
    """A one-way WRITE of `npkts` full packets, polled about once per packet time as a driver
    does (poll, next_wakeup, and the ACKs the receiver sends back): (ns in the sender's calls,
    the run's CPU/wall ratio)."""
    a, b = (RoceNic(options().nic_config(f"10.0.0.{i + 1}")) for i in range(2))
    b.register(1, npkts * 1024)
    a.connect(1, b.cfg.ip, 2)
    b.connect(2, a.cfg.ip, 1)
    a.qp(1).post_write(1, bytes(npkts * 1024), va=0, rkey=1)
    clock, spent, now, acks = time.perf_counter_ns, 0, 0, []
    wall, cpu = time.perf_counter(), time.process_time()
    while not a.completions:
        now += round((1024 + 58) * 8e9 / LINE)  # one full frame's time: about a packet per poll
        t = clock()
        for payload, sport in acks:
            a.receive(payload, b.cfg.ip, sport, False, now)
        out = a.poll(now)
        a.next_wakeup()
        spent += clock() - t
        for dg in out:
            b.receive(dg.payload, a.cfg.ip, dg.sport, False, now)
        acks = [(dg.payload, dg.sport) for dg in b.poll(now)]
    return spent, (time.process_time() - cpu) / (time.perf_counter() - wall)


def stream_receive(npkts: int) -> float:
    """The receiving side of the same WRITE, fed its frames (made beforehand) one at a time
    with the driver's poll and next_wakeup after each: CPU seconds for all of them."""
    a = RoceNic(replace(options().nic_config("10.0.0.1"),
                        qp=QpConfig(pmtu=1024, window=1 << 22, ack_every=16, rto_ns=1 << 50)))
    a.connect(1, "10.0.0.2", 2)
    a.qp(1).post_write(1, bytes(npkts * 1024), va=0, rkey=1)
    frames, now = [], 0
    while len(frames) < npkts:
        now += 100
        frames += [(dg.payload, dg.sport) for dg in a.poll(now)]
    b = RoceNic(options().nic_config("10.0.0.2"))
    b.register(1, npkts * 1024)
    b.connect(2, "10.0.0.1", 1)
    cpu = time.process_time()
    for i, (payload, sport) in enumerate(frames):
        b.receive(payload, "10.0.0.1", sport, False, i)
        b.poll(i)
        b.next_wakeup()
    cpu = time.process_time() - cpu
    if b.qp(2).epsn != npkts & 0xFFFFFF or b.counters.icrc_errors:
        raise SystemExit(f"roce_engine: the receiver took {b.qp(2).epsn} of {npkts} packets")
    return cpu


def streams(npkts: int, repeat: int) -> None:
    send = min(ns * ratio for ns, ratio in (stream_send(npkts) for _ in range(repeat))) / 1e9
    recv = min(stream_receive(npkts) for _ in range(repeat))
    print(f"\none-way stream of {npkts} 1 KiB packets, the driver's calls per packet (best of {repeat}):")
    print(f"{'path':>9} {'pkt/cpu s':>10} {'us/pkt':>7}")
    for name, cpu in (("send", send), ("receive", recv)):
        print(f"{name:>9} {npkts / cpu:>10.0f} {cpu / npkts * 1e6:>7.2f}")


def measure(name: str, fn, size: int, repeat: int) -> None:
    best = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        w = fn(size)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if best is None or cpu < best[2]:
            best = (w, wall, cpu)
    w, wall, cpu = best
    pkts, ratio = w.send.packets, cpu / wall
    print(f"{name:>9} {pkts:>7} {w.send.rate(ratio):>10.0f} {w.recv.rate(ratio):>10.0f} {pkts / cpu:>10.0f} "
          f"{pkts / wall:>10.0f} {wall:>7.2f} {cpu:>7.2f} {w.now / 1e6:>8.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1M", help="bytes of the WRITE and of the all-to-all (K/M suffix)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per workload (the least CPU is shown)")
    parser.add_argument("--profile", action="store_true", help="cProfile both workloads: top 10 by own time")
    args = parser.parse_args()
    mult = {"K": 1 << 10, "M": 1 << 20}
    s = args.size.upper()
    try:
        size = int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)
    except ValueError:
        print(f"roce_engine: size must be bytes with an optional K/M suffix, not {args.size!r}", file=sys.stderr)
        return 2
    if size < 4096 or args.repeat < 1:
        print("roce_engine: --size must be at least 4K and --repeat at least 1", file=sys.stderr)
        return 2
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile(time.process_time)  # CPU time: other processes' load left out
        prof.runcall(write, size)
        prof.runcall(alltoall, size)
        pstats.Stats(prof).sort_stats("tottime").print_stats(10)
    with open("/proc/loadavg") as fh:
        load = " ".join(fh.read().split()[:3])
    print(f"RoceNic engines back to back in-process, {size} B, 1 KiB MTU, {LINE / 1e9:g} Gb/s, "
          f"best of {args.repeat} by CPU; load average {load}")
    print(f"{'workload':>9} {'packets':>7} {'send/cpu s':>10} {'recv/cpu s':>10} {'pkt/cpu s':>10} "
          f"{'pkt/wall s':>10} {'wall s':>7} {'cpu s':>7} {'sim ms':>8}")
    measure("write", write, size, args.repeat)
    measure("alltoall", alltoall, size, args.repeat)
    streams(max(1, size // 1024) * 10, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
