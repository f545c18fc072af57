"""INT report decoding, per-hop rows, CSV and plot, and the collector process."""

import csv
import pathlib
import socket
import subprocess
import sys
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from controller.int_collector import (CSV_FIELDS, INT_LAYERS, CsvLog, IntCollector, IntHop, IntMd,
                                      IntReportHeader, IntShim, decode_report, read_reports)
from controller.int_plot import load_series, plot_queue_depth
from fabriclab.errors import FabricError
from fabriclab.p4 import compile_file

FABRIC = pathlib.Path(__file__).resolve().parents[3] / "p4src" / "fabric.p4"


def hop(switch, inp, outp, latency, qdepth, ts, tx, qid=0):
    return IntHop(switchId=switch, ingressPort=inp, egressPort=outp, hopLatency=latency,
                  qid=qid, qdepth=qdepth, egressTs=ts, txBytes=tx)


def report(hops_newest_first, dport=4791, reporter=4, seq=7, exceeded=False):
    """A report as fabric.p4 builds it (see p4src/fabric/headers.p4)."""
    n = len(hops_newest_first)
    body = IntShim(len=4 + 6 * n, origPort=dport) / IntMd(e=int(exceeded), remainingHops=6 - n,
                                                          instructions=0xF500)
    for h in hops_newest_first:
        body = body / hop(*h)
    inner = bytes(Ether() / IP(src="10.0.1.1", dst="10.0.2.1") / UDP(sport=50000, dport=9099)
                  / body / b"payload")
    return bytes(IntReportHeader(hopCount=n, innerLen=len(inner), switchId=reporter, seqNo=seq,
                                 ingressTs=123)) + inner


def test_int_layers_are_fabric_p4s_headers():
    """The one declaration of the INT format agrees with the P4 program, field by field."""
    headers = {d.name: d for d in compile_file(FABRIC).program.decls
               if getattr(d, "kind", None) == "header"}
    for layer in INT_LAYERS:
        name = layer().name
        p4 = [(f.name, f.type.width) for f in headers[name].fields]
        assert [(f.name, f.size) for f in layer.fields_desc] == p4, name


def test_decode_puts_hops_in_path_order():
    data = report([(4, 3, 1, 9, 30, 1000, 5000), (2, 1, 2, 7, 12, 900, 4000),
                   (3, 1, 3, 5, 0, 800, 3000)])
    r = decode_report(data)
    assert [h.switch_id for h in r.hops] == [3, 2, 4]
    assert (r.src, r.dst, r.sport, r.dport) == ("10.0.1.1", "10.0.2.1", 50000, 4791)
    assert r.hops[1].qdepth == 12 and r.hops[1].egress_port == 2
    assert (r.reporter, r.seq, r.hop_budget_exceeded) == (4, 7, False)
    assert decode_report(report([], exceeded=True)).hop_budget_exceeded


@pytest.mark.parametrize("mangle, message", [
    (lambda d: d[:30], "too short"),
    (lambda d: b"\x20" + d[1:], "version"),
    (lambda d: d[:16 + 14 + 20 + 2] + b"\x00\x35" + d[16 + 14 + 20 + 4:], "INT port"),
    (lambda d: d[:16 + 14 + 20 + 8 + 1] + b"\x40" + d[16 + 14 + 20 + 8 + 2:], "exceeds"),
])
def test_malformed_reports_say_what_is_wrong(mangle, message):
    with pytest.raises(FabricError, match=message):
        decode_report(mangle(report([(1, 1, 2, 3, 4, 5, 6)])))


def test_bad_reports_are_counted_and_ignored_and_never_stop_the_collector():
    """Truncated stacks and stacks with more hops than fabric.p4 can write: counted, the next
    good report still decoded; a report naming a switch the CC manager does not know is its
    business (test_congestion: counted in unknown_telemetry)."""
    collector = IntCollector()
    good = report([(1, 1, 2, 3, 4, 5, 6)])
    too_many = report([(i + 1, 1, 2, 3, 4, 5, 6) for i in range(7)])
    for data in (good[:-30], too_many, b"", good[:16]):
        assert collector.feed(data, 0.0) is None
    assert collector.bad == 4
    with pytest.raises(FabricError, match="7 hops, more than fabric.p4's 6"):
        decode_report(too_many)
    assert collector.feed(good, 1.0) is not None and len(collector.reports) == 1


def test_rows_csv_and_plot(tmp_path):
    col = IntCollector()
    for t, depth in enumerate([0, 5, 20]):
        col.feed(report([(4, 3, 1, 9, depth, 1000, 5000), (3, 1, 3, 5, depth // 2, 800, 3000)]),
                 now=100.0 + t)
    assert col.feed(b"junk", now=104.0) is None and col.bad == 1
    path = col.write_csv(tmp_path / "int.csv")
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == CSV_FIELDS and len(rows) == 6
    series = load_series(path)
    assert series[(1, 4)] == [(0.0, 0), (1.0, 5), (2.0, 20)]
    png = plot_queue_depth(path, tmp_path / "int.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(FabricError):
        load_series(tmp_path / "missing.csv")


def test_collector_process_receives_on_localhost(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "int.csv"
    proc = subprocess.Popen([sys.executable, "-m", "controller.int_collector", "--bind",
                             "127.0.0.1", "--port", str(port), "--csv", str(out),
                             "--count", "2", "--duration", "20"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stdout.readline()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(2):
                s.sendto(report([(3, 1, 3, 5, 1, 800, 3000)]), ("127.0.0.1", port))
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(list(csv.DictReader(out.open()))) == 2


def test_the_csv_grows_while_the_collector_runs_and_read_reports_follows_it(tmp_path):
    """Each report's rows reach the CSV as the report arrives (the live view and `ctl cc
    observe` read a running collector); read_reports gives back whole reports, and from an
    offset only the new ones."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "int.csv"
    proc = subprocess.Popen([sys.executable, "-m", "controller.int_collector", "--bind",
                             "127.0.0.1", "--port", str(port), "--csv", str(out), "--duration", "60"],
                            stdout=subprocess.PIPE, text=True)

    def wait_for(n: int, offset: int):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got, end = read_reports(out, offset)
            if len(got) >= n:
                return got, end
            time.sleep(0.05)
        raise AssertionError(f"{n} report(s) not in the CSV after 20 s")

    try:
        assert "listening" in proc.stdout.readline()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(report([(4, 3, 1, 9, 30, 1000, 5000), (3, 1, 3, 5, 12, 800, 3000)], seq=1),
                     ("127.0.0.1", port))
            first, offset = wait_for(1, 0)  # the collector is still running
            assert proc.poll() is None
            s.sendto(report([(3, 1, 3, 5, 2, 800, 3000)], seq=2), ("127.0.0.1", port))
            second, _ = wait_for(1, offset)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    (t, r), = first
    assert abs(t - time.time()) < 60 and r == decode_report(
        report([(4, 3, 1, 9, 30, 1000, 5000), (3, 1, 3, 5, 12, 800, 3000)], seq=1))
    assert [r.seq for _, r in second] == [2] and second[0][1].hops[0].qdepth == 2
    assert [r.seq for _, r in read_reports(out)[0]] == [1, 2]


def test_read_reports_keeps_a_half_written_line_for_later_and_refuses_other_files(tmp_path):
    path = tmp_path / "int.csv"
    log = CsvLog(path)
    log.add(5.0, decode_report(report([(3, 1, 3, 5, 1, 800, 3000)], seq=9)))
    log.close()
    with path.open("a") as f:
        f.write("6.0,4,10,10.0.1.1")  # a row the collector is still writing
    got, end = read_reports(path)
    assert [r.seq for _, r in got] == [9] and end < path.stat().st_size
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\n")
    (tmp_path / "bad.csv").write_text(",".join(CSV_FIELDS) + "\n" + ",".join(["x"] * len(CSV_FIELDS)) + "\n")
    for name in ("other.csv", "binary.csv", "bad.csv"):
        with pytest.raises(FabricError, match="not an INT collector CSV"):
            read_reports(tmp_path / name)
