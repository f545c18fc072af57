"""Packets per second of the built-in switch on basic IPv4 LPM forwarding (p4src/basic.p4).

  (a) core:       SwitchCore.process alone, and the real-time driver's receive path
                  (SwitchProcess: ingress -> TrafficManager -> egress -> send) with its
                  sockets stubbed, on one core, no I/O;
  (b) end to end: UDP blasted from namespace h1 through a SwitchProcess (AF_PACKET, epoll)
                  into namespace h2, counted there on a raw socket (root only; the bench
                  creates fl-bench-* namespaces and flvb* veths and removes them on exit);
  --bytecodes:    Python bytecodes per frame (opcode tracing: the same on every machine, so
                  a change's effect shows on a noisy one) of (a)'s two paths, the driver's
                  from a PACKET_MMAP ring laid out in memory as the kernel lays it out, by
                  function;
  (c) port I/O:   CPU time per frame of a switch port's reads alone, through its PACKET_MMAP
                  ring and through recvmsg (with PACKET_AUXDATA), frames queued in the kernel
                  beforehand, and of its sends (one send() each); root only, a flvio* veth
                  pair, removed on exit (and by `fabriclab clean` after a crash). CPU time, so it holds on a loaded machine.

Prints figures; never asserts. Usage: .venv/bin/python bench/switch_pps.py [--seconds S]
[--packets N] [--program PATH] [--offered-pps PPS] [--core-only] [--bytecodes]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

from fabriclab.switch.tm import TrafficManager  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAC = {1: "02:00:00:00:0b:01", 2: "02:00:00:00:0b:02"}
ROUTES = 256  # /24 routes in the LPM table besides the two hosts'


def build_core(program_path: str):
    from fabriclab.p4 import compile_file
    from fabriclab.switch.core import SwitchCore
    from fabriclab.switch.tables import Lpm

    core = SwitchCore(compile_file(program_path))
    table = core.tables["MyIngress.ipv4_lpm"]

    def route(prefix: int, length: int, port: int, mac: str) -> None:
        call = table.action_call("MyIngress.ipv4_forward",
                                 {"dstAddr": int(mac.replace(":", ""), 16), "port": port})
        table.insert({"hdr.ipv4.dstAddr": Lpm(prefix, length)}, call)

    for i in range(ROUTES):
        route((172 << 24) | (16 << 16) | (i << 8), 24, 1 + i % 2, MAC[1 + i % 2])
    route(0x0A000001, 32, 1, MAC[1])
    route(0x0A000002, 32, 2, MAC[2])
    return core


def frames(n: int) -> list[bytes]:
    """UDP frames to 10.0.0.2 and to the /24 routes, 100-byte payload."""
    out = []
    for i in range(n):
        dst = "10.0.0.2" if i % 2 == 0 else f"172.16.{i % ROUTES}.{1 + i % 200}"
        pkt = Ether(src=MAC[1], dst="02:00:00:00:00:fe") / IP(src="10.0.0.1", dst=dst) / \
            UDP(sport=49152 + i % 1000, dport=5001) / bytes(100)
        out.append(bytes(pkt))
    return out


def bench_core(core, count: int) -> None:
    pkts = frames(256)
    n = len(pkts)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        core.process(1, pkts[i % n], i)
    process_pps = count / (time.perf_counter() - start)
    process_cpu_pps = count / (time.process_time() - cpu)

    driver_pps, driver_cpu_pps = bench_driver(core, pkts, count)
    print(f"(a) core, basic.p4 LPM ({ROUTES + 2} routes), {count} packets, one core:")
    print(f"    SwitchCore.process:                     {process_pps:10,.0f} packets/s "
          f"({process_cpu_pps:,.0f} per CPU second)")
    print(f"    the driver, no sockets:                 {driver_pps:10,.0f} packets/s "
          f"({driver_cpu_pps:,.0f} per CPU second)")
    print("      (SwitchProcess's own path for batches of 64 ring frames: ingress, traffic "
          "manager, egress, send() to a stub)")


def opcode_counts(run: Callable[[], object]) -> collections.Counter[str]:
    """Bytecodes ``run()`` executes, by function (``file:name``; the generated pipeline's
    functions by their stage names)."""
    counts: collections.Counter[str] = collections.Counter()

    def trace(frame, event, arg):
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[f"{os.path.basename(code.co_filename)}:{code.co_name}"] += 1
        return trace

    sys.settrace(trace)
    try:
        run()
    finally:
        sys.settrace(None)
    return counts


def bench_bytecodes(core, pkts: list[bytes], top: int = 12) -> None:
    """Bytecodes per frame of SwitchCore.process and of the driver's path from a ring (the
    ring's reader over a buffer laid out as the kernel's, _accept, ingress, TM, egress, a
    stubbed send), after a first untraced pass (caches warm, as in the timed runs)."""
    from fabriclab.switch.process import SwitchProcess
    from fabriclab.switch.ring import HDR_LEN, TP_STATUS_USER, PacketRing

    batch = pkts[:64]
    slot, mac = 2048, HDR_LEN + 32
    buffer = bytearray(slot * len(batch) * 4)
    reader = PacketRing.on_buffer(buffer, slot, len(batch) * 4)

    def kernel_writes() -> None:  # as tests/integration/switch/test_ring_holes.py plays it
        for i, data in enumerate(batch):
            offset = (reader.rx + i) % reader.slots * slot
            buffer[offset + mac:offset + mac + len(data)] = data
            struct.pack_into("=IIIHHIIHH", buffer, offset, 0, len(data), len(data), mac, mac,
                             0, 0, 0, 0)
            buffer[offset + HDR_LEN + 10] = 0  # PACKET_HOST
            struct.pack_into("=I", buffer, offset, TP_STATUS_USER)

    switch = SwitchProcess(core, {}, TrafficManager())
    try:
        switch._socks = {1: _StubSocket(), 2: _StubSocket()}
        kernel_writes()
        switch._accept(1, reader.receive(len(batch)))  # untraced first pass
        kernel_writes()
        driver = opcode_counts(lambda: switch._accept(1, reader.receive(len(batch))))
    finally:
        switch._socks = {}
        switch.close()
    for data in batch:
        core.process(1, data, 5)
    process = opcode_counts(lambda: [core.process(1, data, 5) for data in batch])
    print(f"    bytecodes per frame, by function ({len(batch)} frames):")
    for name, counts in (("SwitchCore.process", process), ("the driver, from a ring", driver)):
        counts = collections.Counter({fn: n for fn, n in counts.items()
                                      if not fn.startswith("switch_pps.py:<")})  # this harness
        total = sum(counts.values()) / len(batch)
        parts = ", ".join(f"{fn} {n / len(batch):.0f}" for fn, n in counts.most_common(top))
        print(f"      {name:<24} {total:6.0f}  ({parts})")


class _StubSocket:
    """Takes the driver's sends: the port I/O is part (c)'s."""

    def send(self, data: bytes) -> int:
        return len(data)


def bench_driver(core, pkts: list[bytes], count: int) -> tuple[float, float]:
    """Packets/s (wall, CPU) through SwitchProcess's receive path with no interfaces."""
    from fabriclab.switch.process import SwitchProcess

    switch = SwitchProcess(core, {}, TrafficManager())
    try:
        switch._socks = {1: _StubSocket(), 2: _StubSocket()}  # what the routes send to
        batches = [pkts[i:i + 64] for i in range(0, len(pkts), 64)]
        done, start, cpu = 0, time.perf_counter(), time.process_time()
        while done < count:
            batch = batches[done // 64 % len(batches)]
            switch._accept(1, batch)
            done += len(batch)
        return done / (time.perf_counter() - start), done / (time.process_time() - cpu)
    finally:
        switch._socks = {}
        switch.close()


SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
seconds, pps = float(sys.argv[1]), float(sys.argv[2])
payload, start, n = bytes(100), time.monotonic(), 0
while (now := time.monotonic()) - start < seconds:
    due = int((now - start) * pps) + 1 if pps else n + 100
    while n < due:
        try:
            s.sendto(payload, ("10.0.0.2", 5001))
        except OSError:
            pass
        n += 1
    if pps:
        time.sleep(0.001)
print(n)
"""

RECEIVER = """
import json, os, select, socket, sys, time
sys.path.insert(0, os.environ["FABRICLAB_REPO"])
from fabriclab.switch.ring import PacketRing
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0x0800))
ring = PacketRing(s)  # a frame costs the counter ~0.5 us, not a recvfrom: it keeps up
print("listening", flush=True)
first = last = None; n = 0; end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    frames = ring.receive(256)
    if not frames:
        select.select([s], [], [], 0.2)
        continue
    k = sum(1 for data in frames if data[23] == 17)
    if k:
        last = time.monotonic(); first = first or last; n += k
print(json.dumps({"n": n, "span": (last - first) if n > 1 else 0}))
"""


def receiver_env() -> dict[str, str]:
    """The receiver imports fabriclab's ring from this checkout."""
    return {**os.environ, "FABRICLAB_REPO": REPO}


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def netns_topology(token: str) -> dict[int, str]:
    """h1 -- flvb<tok>s1 [switch] flvb<tok>s2 -- h2; returns the switch-side interfaces."""
    ports = {}
    for h in (1, 2):
        ns, sw_if, host_if = f"fl-bench{token}-h{h}", f"flvb{token}s{h}", f"flvb{token}h{h}"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", sw_if, "type", "veth", "peer", "name", host_if)
        sh("ip", "link", "set", host_if, "netns", ns)
        sh("ip", "link", "set", sw_if, "up")
        for cmd in (f"ip link set {host_if} name eth0", f"ip link set eth0 address {MAC[h]}",
                    f"ip addr add 10.0.0.{h}/24 dev eth0", "ip link set eth0 up",
                    "ethtool -K eth0 tx off",
                    f"ip neigh add 10.0.0.{3 - h} lladdr {MAC[3 - h]} dev eth0"):
            sh("ip", "netns", "exec", ns, *cmd.split())
        ports[h] = sw_if
    return ports


def remove_topology(token: str) -> None:
    for h in (1, 2):
        subprocess.run(["ip", "netns", "del", f"fl-bench{token}-h{h}"], capture_output=True)
        subprocess.run(["ip", "link", "del", f"flvb{token}s{h}"], capture_output=True)


def bench_end_to_end(core, seconds: float, offered_pps: float) -> None:
    from fabriclab.switch.process import SwitchProcess

    token = f"{os.getpid() % 100000}"
    switch = thread = None
    try:
        ports = netns_topology(token)
        switch = SwitchProcess(core, ports, TrafficManager(queue_depth=1024))
        thread = threading.Thread(target=switch.run, daemon=True)
        thread.start()
        receiver = subprocess.Popen(["ip", "netns", "exec", f"fl-bench{token}-h2", sys.executable,
                                     "-c", RECEIVER, str(seconds + 2)], env=receiver_env(),
                                    stdout=subprocess.PIPE, text=True)
        receiver.stdout.readline()
        sent = int(subprocess.run(["ip", "netns", "exec", f"fl-bench{token}-h1", sys.executable,
                                   "-c", SENDER, str(seconds), str(offered_pps)],
                                  capture_output=True, text=True, check=True).stdout)
        got = json.loads(receiver.communicate(timeout=seconds + 10)[0])
        c = switch.counters
        rate = got["n"] / got["span"] if got["span"] else 0.0
        print(f"(b) end to end, 2 namespaces, 128-byte UDP frames, {seconds:g} s:")
        print(f"    offered by h1:     {sent / seconds:10,.0f} packets/s")
        print(f"    delivered to h2:   {rate:10,.0f} packets/s  ({got['n']} packets)")
        print(f"    switch rx/tx:      {c.rx} / {c.tx}, queue drops "
              f"{sum(p.drops for p in switch.tm.ports.values())}")
    finally:
        if switch is not None:
            switch.stop()
            if thread is not None:
                thread.join(10)
            switch.close()
            print(f"    kernel rx drops:   {switch.counters.rx_overruns} (socket full: the "
                  "switch fell behind)")
        remove_topology(token)


def bench_port_io(count: int) -> None:
    """CPU microseconds per frame for the switch's two I/O paths on one veth pair."""
    import socket

    from fabriclab.switch.process import _AUX_SPACE, MAX_FRAME, open_port_socket
    from fabriclab.switch.ring import PacketRing

    a, b = f"flvio{os.getpid() % 100000}a", f"flvio{os.getpid() % 100000}b"
    data = frames(1)[0]
    count = min(count, 1000)  # what the ring (1024 slots) and the socket buffer both hold
    try:
        subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], check=True)
        for name in (a, b):
            subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1"], check=True)
            subprocess.run(["ip", "link", "set", name, "up"], check=True)
        figures = {}
        for kind in ("plain", "ring"):
            port = open_port_socket(a)
            ring = PacketRing(port) if kind == "ring" else None
            peer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            peer.bind((b, 0))
            try:
                for _ in range(count):
                    peer.send(data)
                time.sleep(0.2)
                got, cpu = 0, time.process_time()
                while got < count:
                    if ring is not None:
                        batch = ring.receive(64)
                        if not batch:
                            break
                        got += len(batch)
                    else:
                        try:
                            port.recvmsg(MAX_FRAME, _AUX_SPACE)
                        except BlockingIOError:
                            break
                        got += 1
                rx_us = (time.process_time() - cpu) * 1e6 / max(got, 1)
                cpu = time.process_time()
                for _ in range(count):
                    port.send(data)
                figures[kind] = (rx_us, (time.process_time() - cpu) * 1e6 / count, got)
            finally:
                if ring is not None:
                    ring.close()
                port.close()
                peer.close()
        print(f"(c) port I/O alone, {count} frames of {len(data)} bytes, CPU us per frame:")
        for kind, (rx_us, tx_us, got) in figures.items():
            how = "PACKET_MMAP ring" if kind == "ring" else "plain socket (recvmsg)"
            print(f"    {how:<40} receive {rx_us:5.2f}  send {tx_us:5.2f}  ({got} read)")
    finally:
        subprocess.run(["ip", "link", "del", a], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--program", default=os.path.join(REPO, "p4src", "basic.p4"))
    parser.add_argument("--packets", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--offered-pps", type=float, default=0,
                        help="end to end: pace h1 at this rate (default 0: as fast as it can)")
    parser.add_argument("--core-only", action="store_true")
    parser.add_argument("--bytecodes", action="store_true",
                        help="also count (a)'s bytecodes per frame, by function (machine-independent)")
    args = parser.parse_args()
    bench_core(build_core(args.program), args.packets)
    if args.bytecodes:
        bench_bytecodes(build_core(args.program), frames(256))
    if args.core_only:
        return
    if os.geteuid() != 0:
        print("(b) end to end: skipped (needs root for namespaces)")
        return
    bench_end_to_end(build_core(args.program), args.seconds, args.offered_pps)
    bench_port_io(args.packets)


if __name__ == "__main__":
    main()
