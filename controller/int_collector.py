"""INT collector: decodes fabric.p4's telemetry reports and keeps per-hop time series.

A report is a UDP datagram (to the collector's port, 32766 by default) holding

    int_report (16 B) | Ethernet | IPv4 | UDP (dport 9099) | INT shim | INT-MD header |
    hop records (24 B each, newest first) | rest of the traced packet

The INT headers are declared once here as scapy layers whose fields are those of
p4src/fabric/headers.p4 (same names, same widths: a unit test checks them against the
compiler's header types of fabric.p4); the decoder and the tests both use them.
`IntCollector` is sans-I/O: feed it datagrams; `serve` is the thin socket driver;
`python -m controller.int_collector` runs it as a process (e.g. inside a Mininet host) and
appends each report's rows to its CSV as the report arrives, so `read_reports` (the live
view, `fabriclab ctl cc observe`) follows a running collector.
"""

from __future__ import annotations

import argparse
import csv
import io
import pathlib
import signal
import socket
import sys
import time
from dataclasses import astuple, dataclass, fields
from typing import Callable, TextIO

from scapy.fields import BitField
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from fabriclab.errors import FabricError
from fabriclab.roce.framing import INT_MD_FIELDS, INT_SHIM_FIELDS

INT_UDP_PORT = 9099
MAX_HOPS = 6  # fabric.p4's INT_MAX_HOPS: the size of its hop stack; no switch writes more


def _bit_fields(declared: tuple[tuple[str, int], ...], **defaults: int) -> list[BitField]:
    """Scapy fields from the one declaration of a header (fabriclab.roce.framing)."""
    return [BitField(name, defaults.get(name, 0), bits) for name, bits in declared]


class IntReportHeader(Packet):
    """fabric.p4 `int_report_t`: in front of the sink's copy of the traced packet."""

    name = "int_report_t"
    fields_desc = [BitField("ver", 1, 4), BitField("hopCount", 0, 4), BitField("rsvd", 0, 8),
                   BitField("innerLen", 0, 16), BitField("switchId", 0, 32),
                   BitField("seqNo", 0, 32), BitField("ingressTs", 0, 32)]


class IntShim(Packet):
    """fabric.p4 `int_shim_t`: after the UDP header whose dport says INT_UDP_PORT."""

    name = "int_shim_t"
    fields_desc = _bit_fields(INT_SHIM_FIELDS, intType=1, npt=1, len=4)


class IntMd(Packet):
    """fabric.p4 `int_md_t`: the INT-MD metadata header."""

    name = "int_md_t"
    fields_desc = _bit_fields(INT_MD_FIELDS, ver=2, hopMl=6)


class IntHop(Packet):
    """fabric.p4 `int_hop_t`: one switch's record (times in us of that switch's clock)."""

    name = "int_hop_t"
    fields_desc = [BitField("switchId", 0, 32), BitField("ingressPort", 0, 16),
                   BitField("egressPort", 0, 16), BitField("hopLatency", 0, 32),
                   BitField("qid", 0, 8), BitField("qdepth", 0, 24), BitField("egressTs", 0, 32),
                   BitField("txBytes", 0, 32)]


INT_LAYERS = (IntReportHeader, IntShim, IntMd, IntHop)


def layer_bytes(layer: type[Packet]) -> int:
    return sum(f.size for f in layer.fields_desc) // 8


REPORT_LEN, SHIM_LEN, MD_LEN, HOP_LEN = (layer_bytes(c) for c in INT_LAYERS)
_REPORT_LAYERS = (IntReportHeader, Ether, IP, UDP, IntShim, IntMd)  # hop records follow
# Ethernet, IPv4 without options, UDP: fixed (building an Ether() to measure it would make
# scapy look up a MAC address and warn on every import)
_LEN = {**{layer: layer_bytes(layer) for layer in INT_LAYERS}, Ether: 14, IP: 20, UDP: 8}


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
    if len(data) < sum(_LEN[c] for c in _REPORT_LAYERS):
        raise FabricError(f"INT report too short ({len(data)} bytes)")
    head, eth, ip, udp, shim, md = _layers(data, _REPORT_LAYERS, 0)
    if head.ver != 1:
        raise FabricError(f"INT report version {head.ver} is not 1")
    if eth.type != 0x0800:
        raise FabricError("INT report: inner packet is not IPv4")
    if ip.proto != 17 or ip.ihl != 5:
        raise FabricError("INT report: inner packet is not UDP over an option-less IPv4")
    if udp.dport != INT_UDP_PORT:
        raise FabricError(f"INT report: inner UDP port {udp.dport} is not the INT port "
                          f"{INT_UDP_PORT}")
    if shim.intType != 1:
        raise FabricError(f"INT report: shim type {shim.intType} is not INT-MD (1)")
    if md.hopMl != HOP_LEN // 4:
        raise FabricError(f"INT report: {md.hopMl} words per hop, expected {HOP_LEN // 4}")
    n_hops = (shim.len * 4 - SHIM_LEN - MD_LEN) // HOP_LEN
    start = sum(_LEN[c] for c in _REPORT_LAYERS)
    if n_hops < 0 or start + n_hops * HOP_LEN > len(data):
        raise FabricError(f"INT report: shim length {shim.len} words exceeds the packet")
    if n_hops > MAX_HOPS:
        raise FabricError(f"INT report: {n_hops} hops, more than fabric.p4's {MAX_HOPS}")
    hops = [HopRecord(r.switchId, r.ingressPort, r.egressPort, r.hopLatency, r.qid, r.qdepth,
                      r.egressTs, r.txBytes)
            for r in _layers(data, (IntHop,) * n_hops, start)]
    hops.reverse()
    return IntReport(head.switchId, head.seqNo, head.ingressTs, ip.src, ip.dst, udp.sport,
                     shim.origPort, tuple(hops), bool(md.e))


def _layers(data: bytes, layers: tuple[type[Packet], ...], offset: int) -> list[Packet]:
    """Dissect `layers` one after the other from `offset`, each from its own bytes only."""
    out = []
    for layer in layers:
        n = _LEN[layer]
        out.append(layer(data[offset:offset + n]))
        offset += n
    return out


RUN_CSV = "int.csv"  # where a run keeps its collector's CSV: the view, `int plot`, `ctl cc observe`
CSV_FIELDS = ["recv_time_s", "reporter", "seq", "src", "dst", "sport", "dport", "hop",
              *[f.name for f in fields(HopRecord)], "ingress_ts_us", "hop_budget_exceeded"]
_HOP_FIELDS = [f.name for f in fields(HopRecord)]


def report_rows(t: float, r: IntReport) -> list[list]:
    """One CSV row per hop of a report received at `t` (seconds), in CSV_FIELDS order."""
    return [[round(t, 6), r.reporter, r.seq, r.src, r.dst, r.sport, r.dport, i, *astuple(hop),
             r.ingress_ts_us, int(r.hop_budget_exceeded)] for i, hop in enumerate(r.hops)]


def read_reports(path: str | pathlib.Path, offset: int = 0) -> tuple[list[tuple[float, IntReport]], int]:
    """The reports a collector's CSV holds past byte `offset` (0: the whole file), with
    their receive times, and the offset after its last complete line: call again with it to
    follow a running collector. A report whose rows were still being written when read
    comes back as two reports of the same sequence number, each with its own hops."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    out: list[tuple[float, IntReport]] = []
    key, hops, head = None, [], None
    try:
        reader = csv.reader(io.StringIO(data[:end].decode(), newline=""))
        if offset == 0 and next(reader, None) not in (None, CSV_FIELDS):
            raise FabricError(f"{path}: not an INT collector CSV (its header differs)")
        for row in reader:
            if len(row) != len(CSV_FIELDS):
                raise FabricError(f"{path}: a row of {len(row)} fields, expected {len(CSV_FIELDS)}")
            rec = dict(zip(CSV_FIELDS, row))
            if (rec["recv_time_s"], rec["reporter"], rec["seq"]) != key or rec["hop"] == "0":
                if head is not None:
                    out.append(_report(head, hops))
                key, hops, head = (rec["recv_time_s"], rec["reporter"], rec["seq"]), [], rec
            hops.append(HopRecord(*(int(rec[name]) for name in _HOP_FIELDS)))
        if head is not None:
            out.append(_report(head, hops))
    except (UnicodeDecodeError, csv.Error, ValueError) as err:
        raise FabricError(f"{path}: not an INT collector CSV ({err})") from None
    return out, offset + end


def _report(rec: dict[str, str], hops: list[HopRecord]) -> tuple[float, IntReport]:
    return float(rec["recv_time_s"]), IntReport(
        int(rec["reporter"]), int(rec["seq"]), int(rec["ingress_ts_us"]), rec["src"], rec["dst"],
        int(rec["sport"]), int(rec["dport"]), tuple(hops), rec["hop_budget_exceeded"] == "1")


class CsvLog:
    """A collector's CSV, grown report by report and flushed each time."""

    def __init__(self, path: str | pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = self.path.open("w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(CSV_FIELDS)
        self._file.flush()

    def add(self, t: float, report: IntReport) -> None:
        self._writer.writerows(report_rows(t, report))
        self._file.flush()

    def close(self) -> None:
        self._file.close()


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
        return [row for t, r in self.reports for row in report_rows(t, r)]

    def write_csv(self, path: str | pathlib.Path) -> pathlib.Path:
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_FIELDS)
            writer.writerows(self.rows())
        return path


def serve(sock: socket.socket, collector: IntCollector, duration: float | None = None,
          count: int | None = None, on_report: Callable[[float, IntReport], None] | None = None) -> None:
    """Receive reports until `duration` seconds pass or `count` reports arrived; each good
    one also goes to `on_report(receive time, report)`."""
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
        t = time.time()
        report = collector.feed(data, t)
        if report is not None and on_report is not None:
            on_report(t, report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controller.int_collector",
                                     description="receive fabric.p4 INT reports, write a CSV")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=32766)
    parser.add_argument("--csv", required=True,
                        help="where to write the per-hop rows (each report as it arrives)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--count", type=int, help="stop after this many reports")
    args = parser.parse_args(argv)
    collector = IntCollector()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    log = None
    step = f"cannot listen on {args.bind}:{args.port}"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((args.bind, args.port))
            step = f"cannot write {args.csv}"
            log = CsvLog(args.csv)
            print(f"int_collector: listening on {args.bind}:{args.port}", flush=True)
            serve(sock, collector, args.duration, args.count, log.add)
    except OSError as err:
        print(f"int_collector: error: {step}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if log is not None:
            log.close()
    print(f"int_collector: {len(collector.reports)} reports, {collector.bad} malformed, "
          f"wrote {args.csv}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
