"""`fabriclab ctl cc ...` and the PFC section of `ctl stats`, against real switches: the
loopback fabric.p4 leaf-spine over P4Runtime (the manager's state and decision log live in
the run directory between invocations), and a traffic manager behind a real admin socket."""

from __future__ import annotations

import argparse
import threading
import time

import pytest

from controller import cli
from controller.congestion import CC_LOG, CC_STATE, cc_command, dcqcn_ecn, load_manager, pfc_table, read_pfc
from controller.fabric import EG
from controller.int_collector import CsvLog, HopRecord, IntReport
from fabriclab.errors import FabricError
from fabriclab.switch import admin
from fabriclab.switch.tm import TrafficManager

from test_congestion import ecn_entries


def ctl_args(*words: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(words))


def test_start_observe_policy_status_across_invocations(fabric, tmp_path):
    ctl, switches = fabric
    out: list[str] = []
    cc_command(ctl, tmp_path, ctl_args("cc", "start", "--policy", "adaptive", "--rtt-us", "2000",
                                       "--notify", "26"), out.append)
    up = dcqcn_ecn(ctl.topo.links[0].ab.bw * 1e6, 2_000_000, 1100)  # one rate: 100 Mb/s, a Mininet RTT
    assert ecn_entries(ctl.clients["l1"])[3] == (up.kmin, up.kmax)
    assert any("l1:3 ecn" in line and "RTT 2000 us" in line for line in out)
    assert any("notify DSCP 26" in line for line in out)
    assert (tmp_path / CC_STATE).is_file() and out[-1].startswith("CC manager started (adaptive)")

    # a deep queue in l1's port_qdepth register: the next observation halves that port, and says why
    switches["l1"].core.registers["port_qdepth"].write(3, 3 * up.kmax)
    out.clear()
    cc_command(ctl, tmp_path, ctl_args("cc", "observe"), out.append)
    assert out[0].startswith("cc l1:3 ecn") and f"queue {3 * up.kmax} pkts > 2 x Kmax" in out[0]
    assert ecn_entries(ctl.clients["l1"])[3] == (up.kmin // 2, up.kmax // 2)
    assert out[-1] == "1 observation(s); policy adaptive"

    # static: the same deep queue changes nothing any more
    cc_command(ctl, tmp_path, ctl_args("cc", "policy", "static"), out.append)
    out.clear()
    slept: list[float] = []
    cc_command(ctl, tmp_path, ctl_args("cc", "observe", "--every", "0.5", "--for", "1.5"), out.append,
               sleep=slept.append)
    assert out == ["3 observation(s); policy static"] and slept == [0.5, 0.5]
    assert ecn_entries(ctl.clients["l1"])[3] == (up.kmin // 2, up.kmax // 2)

    out.clear()
    cc_command(ctl, tmp_path, ctl_args("cc", "status", "--last", "2"), out.append)
    status = out[0].splitlines()
    assert status[0].startswith("policy static; RTT 2000 us") and "notification DSCP 26" in status[0]
    row = next(line.split() for line in status if line.split()[:2] == ["l1", "3"])
    assert row[2:4] == [str(up.kmin // 2), str(up.kmax // 2)] and row[5] == "1"
    assert status[-1].endswith("cc * policy static: set by `ctl cc policy` (was adaptive)")
    assert "halve the thresholds" in status[-2]
    logged = (tmp_path / CC_LOG).read_text().splitlines()
    assert len(logged) == len(load_manager(ctl, tmp_path, None).base) + 1 + 4 + 2  # ecn, prio, notify x4, 2
    assert all(line[:4].isdigit() and line[19] == "Z" for line in logged)


def test_observe_takes_queue_depths_from_a_running_collectors_csv(fabric, tmp_path):
    """simple_switch_grpc serves no registers: there `ctl cc observe` sees queues through
    INT only. It reads the reports the run's collector has written since the last round
    (reports older than one period are stale), and acts on them."""
    ctl, _ = fabric
    out: list[str] = []
    cc_command(ctl, tmp_path, ctl_args("cc", "start", "--policy", "adaptive", "--rtt-us", "2000"), out.append)
    up = dcqcn_ecn(ctl.topo.links[0].ab.bw * 1e6, 2_000_000, 1100)
    l1 = ctl.plans["l1"].switch_id

    def deep(seq: int) -> IntReport:
        return IntReport(l1, seq, 0, "10.0.1.1", "10.0.2.1", 50000, 4791,
                         (HopRecord(l1, 1, 3, 5, 0, 3 * up.kmax, 100, 0),), False)

    log = CsvLog(tmp_path / "int.csv")  # the run's collector CSV, still open as a collector keeps it
    log.add(time.time() - 600, deep(1))  # from an earlier experiment: stale
    out.clear()
    cc_command(ctl, tmp_path, ctl_args("cc", "observe"), out.append)
    assert ecn_entries(ctl.clients["l1"])[3] == (up.kmin, up.kmax)
    assert out == [f"1 observation(s); policy adaptive; 0 INT report(s) from {tmp_path / 'int.csv'}"]

    def more_reports(_: float) -> None:  # while observe sleeps, the collector receives one
        log.add(time.time(), deep(2))
    out.clear()
    cc_command(ctl, tmp_path, ctl_args("cc", "observe", "--every", "0.1", "--for", "0.2"), out.append,
               sleep=more_reports)
    log.close()
    assert any(line.startswith("cc l1:3 ecn") and f"queue {3 * up.kmax} pkts > 2 x Kmax" in line
               for line in out)
    assert ecn_entries(ctl.clients["l1"])[3] == (up.kmin // 2, up.kmax // 2)
    assert out[-1].endswith("; 1 INT report(s) from " + str(tmp_path / "int.csv"))


def test_ctl_cc_bad_input_is_one_line_errors(fabric, tmp_path):
    ctl, _ = fabric
    with pytest.raises(FabricError, match="no CC manager on this run"):
        cc_command(ctl, tmp_path, ctl_args("cc", "status"), print)
    with pytest.raises(FabricError, match="cannot read the INT CSV"):
        cc_command(ctl, tmp_path, ctl_args("cc", "observe", "--int-csv", str(tmp_path)), print)
    with pytest.raises(FabricError, match="DSCP 64 out of range"):
        cc_command(ctl, tmp_path, ctl_args("cc", "start", "--notify", "64"), print)
    (tmp_path / CC_STATE).write_text("{not json")
    with pytest.raises(FabricError, match="corrupt"):
        cc_command(ctl, tmp_path, ctl_args("cc", "policy", "adaptive"), print)
    with pytest.raises(SystemExit):
        ctl_args("cc", "policy", "magic")


def test_pfc_counters_per_port_and_priority_from_the_admin_socket(tmp_path):
    tm = TrafficManager(8)
    tm.set_port_rate(2, 10e9, None)
    admin.execute(tm, ["set_pfc", "1", "3", "4k", "2k", "8k"])
    admin.execute(tm, ["set_pfc", "1", "5", "4k", "2k", "8k"])

    class Item:
        port, qid, length = 2, 3, 1000

    for _ in range(6):
        tm.enqueue(Item(), 0, ingress_port=1)
    tm.poll(1000)
    path = tmp_path / "l1.sock"
    server = admin.AdminServer(str(path), lambda line: admin.handle_line(tm, line))
    server.sock.setblocking(True)

    def serve() -> None:
        conn, _ = server.sock.accept()
        with conn:
            conn.sendall(server._handler(admin._read_line(conn)))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        counters = read_pfc(path)
    finally:
        thread.join(5)
        server.close()
    assert set(counters) == {1} and set(counters[1]) == {3, 5}
    assert counters[1][3]["pauses_sent"] == 1 and counters[1][5]["pauses_sent"] == 0
    table = pfc_table(counters).splitlines()
    assert table[0].split()[:4] == ["port", "prio", "xoff_tx", "xon_tx"]
    assert table[1].split()[:3] == ["1", "3", "1"] and table[2].split()[:3] == ["1", "5", "0"]
    assert "hdrm_drops" in table[0] and any("headroom too small" in line for line in table)
    assert read_pfc(tmp_path / "gone.sock") == {} and pfc_table({}) == ""
