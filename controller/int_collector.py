"""INT collector: decodes fabric.p4's telemetry reports and keeps per-hop time series.

A report is a UDP datagram (to the collector's port, 32766 by default) holding

    int_report (16 B) | Ethernet | IPv4 | UDP (dport 9099) | INT shim | INT-MD header |
    hop records (24 B each, newest first) | rest of the traced packet

(formats in p4src/fabric/headers.p4 and docs/fabric.md). `IntCollector` is sans-I/O:
feed it datagrams; `serve` is the thin socket driver; `python -m controller.int_collector`
runs it as a process (e.g. inside a Mininet host) and writes the CSV on exit.
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import pathlib
import signal
import socket
import struct
import sys
import time
from dataclasses import astuple, dataclass, fields

from fabriclab.errors import FabricError

REPORT_LEN = 16
SHIM_LEN, MD_LEN, HOP_LEN = 4, 12, 24
INT_UDP_PORT = 9099
_REPORT = struct.Struct("!BBHIII")
_HOP = struct.Struct("!IHHII" "II")  # switch, in, out, latency, qid<<24|depth, egress ts, tx


@dataclass(frozen=True)
class HopRecord:
    """One switch's INT record (times in microseconds of that switch's clock)."""

    switch_id: int
    ingress_port: int
    egress_port: int
    hop_latency_us: int
    qid: int
    qdepth: int
    egress_ts_us: int
    tx_bytes: int


@dataclass(frozen=True)
class IntReport:
    """A decoded report; `hops` are in path order (the first switch first)."""

    reporter: int
    seq: int
    ingress_ts_us: int
    src: str
    dst: str
    sport: int
    dport: int
    hops: tuple[HopRecord, ...]
    hop_budget_exceeded: bool


def decode_report(data: bytes) -> IntReport:
    """Parse one report datagram; FabricError says what is wrong with a bad one."""
    if len(data) < REPORT_LEN + 14 + 20 + 8 + SHIM_LEN + MD_LEN:
        raise FabricError(f"INT report too short ({len(data)} bytes)")
    ver_hops, _, inner_len, reporter, seq, ingress_ts = _REPORT.unpack_from(data)
    if ver_hops >> 4 != 1:
        raise FabricError(f"INT report version {ver_hops >> 4} is not 1")
    off = REPORT_LEN
    if data[off + 12:off + 14] != b"\x08\x00":
        raise FabricError("INT report: inner packet is not IPv4")
    ip = off + 14
    ihl = (data[ip] & 0x0F) * 4
    if data[ip + 9] != 17 or ihl != 20:
        raise FabricError("INT report: inner packet is not UDP over an option-less IPv4")
    src, dst = (str(ipaddress.IPv4Address(data[ip + 12:ip + 16])),
                str(ipaddress.IPv4Address(data[ip + 16:ip + 20])))
    udp = ip + ihl
    sport, dport = struct.unpack_from("!HH", data, udp)
    if dport != INT_UDP_PORT:
        raise FabricError(f"INT report: inner UDP port {dport} is not the INT port {INT_UDP_PORT}")
    shim = udp + 8
    int_type, length_words, orig_port = data[shim] >> 4, data[shim + 1], \
        struct.unpack_from("!H", data, shim + 2)[0]
    if int_type != 1:
        raise FabricError(f"INT report: shim type {int_type} is not INT-MD (1)")
    md = shim + SHIM_LEN
    exceeded = bool(data[md] & 0x04)
    hop_words = data[md + 2] & 0x1F
    if hop_words != HOP_LEN // 4:
        raise FabricError(f"INT report: {hop_words} words per hop, expected {HOP_LEN // 4}")
    n_hops = (length_words * 4 - SHIM_LEN - MD_LEN) // HOP_LEN
    start = md + MD_LEN
    if n_hops < 0 or start + n_hops * HOP_LEN > len(data):
        raise FabricError(f"INT report: shim length {length_words} words exceeds the packet")
    hops = []
    for i in range(n_hops):
        sw, inp, outp, lat, q, ts, tx = _HOP.unpack_from(data, start + i * HOP_LEN)
        hops.append(HopRecord(sw, inp, outp, lat, q >> 24, q & 0xFFFFFF, ts, tx))
    hops.reverse()
    return IntReport(reporter, seq, ingress_ts, src, dst, sport, orig_port, tuple(hops),
                     exceeded)


CSV_FIELDS = ["recv_time_s", "reporter", "seq", "src", "dst", "sport", "dport", "hop",
              *[f.name for f in fields(HopRecord)]]


@dataclass
class IntCollector:
    """Decoded reports and their per-hop rows; malformed datagrams are only counted."""

    reports: list[tuple[float, IntReport]]
    bad: int = 0

    def __init__(self) -> None:
        self.reports, self.bad = [], 0

    def feed(self, data: bytes, now: float) -> IntReport | None:
        try:
            report = decode_report(data)
        except FabricError:
            self.bad += 1
            return None
        self.reports.append((now, report))
        return report

    def rows(self) -> list[list]:
        """One row per hop per report, in CSV_FIELDS order."""
        out = []
        for t, r in self.reports:
            for i, hop in enumerate(r.hops):
                out.append([round(t, 6), r.reporter, r.seq, r.src, r.dst, r.sport, r.dport, i,
                            *astuple(hop)])
        return out

    def write_csv(self, path: str | pathlib.Path) -> pathlib.Path:
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_FIELDS)
            writer.writerows(self.rows())
        return path


def serve(sock: socket.socket, collector: IntCollector, duration: float | None = None,
          count: int | None = None) -> None:
    """Receive reports until `duration` seconds pass or `count` reports arrived."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while True:
        now = time.monotonic()
        if duration is not None and now - start >= duration:
            return
        if count is not None and len(collector.reports) >= count:
            return
        try:
            data = sock.recv(65535)
        except socket.timeout:
            continue
        collector.feed(data, time.time())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controller.int_collector",
                                     description="receive fabric.p4 INT reports, write a CSV")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=32766)
    parser.add_argument("--csv", required=True, help="where to write the per-hop rows")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--count", type=int, help="stop after this many reports")
    args = parser.parse_args(argv)
    collector = IntCollector()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((args.bind, args.port))
            print(f"int_collector: listening on {args.bind}:{args.port}", flush=True)
            serve(sock, collector, args.duration, args.count)
    except OSError as err:
        print(f"int_collector: error: cannot listen on {args.bind}:{args.port}: {err}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        collector.write_csv(args.csv)
    print(f"int_collector: {len(collector.reports)} reports, {collector.bad} malformed, "
          f"wrote {args.csv}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
