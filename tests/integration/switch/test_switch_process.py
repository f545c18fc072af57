"""`fabriclab switch` between two namespaces: forwarding, link rate, queue depth, delay, pcaps,
clean shutdown and crash cleanup. Real veths, real AF_PACKET sockets, real processes."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import sys
import subprocess
import time

import pytest

from conftest import finish, sh, switch_command, wait_listening

pytestmark = pytest.mark.root


def udp_rtts(hosts, count: int = 10) -> list[float]:
    return finish(hosts.traffic(1, "ping", "10.0.0.2", str(count)))


@pytest.fixture
def echo(hosts):
    proc = hosts.traffic(2, "echo")
    try:
        wait_listening(proc)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def tshark_fields(path: str, *fields: str) -> list[list[str]]:
    cmd = ["tshark", "-r", path, "-T", "fields"] + [a for f in fields for a in ("-e", f)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines()]


def test_forwards_then_sigterm_flushes_pcaps_and_removes_its_socket(hosts, start_switch, echo):
    sw = start_switch()
    assert "ports [1@" in sw.ready_line
    rtts = udp_rtts(hosts)
    assert len(rtts) == 10  # every echo came back through the switch, both ways

    assert sw.terminate() == 0
    assert "stopped" in sw.proc.stdout.read()
    assert not os.path.exists(sw.admin_socket)
    # h1's requests enter on port 1 and leave on port 2; tshark decodes every record.
    for name in (f"{hosts.port_if(1)}_in.pcap", f"{hosts.port_if(2)}_out.pcap"):
        rows = tshark_fields(os.path.join(sw.pcap_dir, name), "ip.src", "ip.dst", "udp.dstport")
        assert rows.count(["10.0.0.1", "10.0.0.2", "7"]) == 10, (name, rows)
    replies = tshark_fields(os.path.join(sw.pcap_dir, f"{hosts.port_if(1)}_out.pcap"), "ip.src")
    assert replies.count(["10.0.0.2"]) == 10


def test_port_rate_holds_a_20mbit_stream_to_10mbit_and_the_queue_fills(hosts, start_switch):
    sw = start_switch("--port-rate", "2@10mbit")
    receiver = hosts.traffic(2, "recv", "eth0", "4")
    wait_listening(receiver)
    sender = hosts.traffic(1, "send-udp", "10.0.0.2", "20e6", "2.5", "1000")
    sent = finish(sender)["sent"]
    frames = finish(receiver)["frames"]

    assert 0.3 * sent < len(frames) < 0.75 * sent  # about half is dropped at the queue
    times = [t for t, *_ in frames]
    bits = sum(8 * length for _, length, *_ in frames[1:])
    rate = bits / (times[-1] - times[0])
    depths = [ident for _, _, ident, _ in frames]  # enq_qdepth written by the program
    print(f"\n10mbit port: {rate / 1e6:.2f} Mb/s delivered of {sent} frames sent, "
          f"{len(frames)} received, enq_qdepth first {depths[:3]} max {max(depths)}")
    assert 8.5e6 < rate < 10.8e6, rate
    assert min(depths[:3]) < 5 and max(depths) >= 48, depths[:80]
    stats = sw.admin("show_queues", "2")
    assert '"drops": 0' not in stats.split('"queues"')[0], stats


def test_priority_1_keeps_its_rate_while_priority_0_absorbs_the_loss(hosts, start_switch):
    start_switch("--port-rate", "2@10mbit", "--priority-queues", "2")
    receiver = hosts.traffic(2, "recv", "eth0", "3.5")
    wait_listening(receiver)
    # precedence 1 -> priority 1 (6 Mb/s offered), precedence 0 -> priority 0 (12 Mb/s
    # offered): the higher priority is served first, as on simple_switch
    high = hosts.traffic(1, "send-udp", "10.0.0.2", "6e6", "2", "1000", "32", "5001")
    low = hosts.traffic(1, "send-udp", "10.0.0.2", "12e6", "2", "1000", "0", "5002")
    sent_high, sent_low = finish(high)["sent"], finish(low)["sent"]
    frames = finish(receiver)["frames"]
    got_high = sum(1 for *_, dport in frames if dport == 5001)
    got_low = sum(1 for *_, dport in frames if dport == 5002)
    assert got_high >= 0.9 * sent_high, (got_high, sent_high)
    assert got_low < 0.6 * sent_low, (got_low, sent_low)


def test_port_delay_adds_one_way_latency_and_switch_cli_removes_it(hosts, start_switch, echo):
    sw = start_switch("--port-delay", "2@20ms")
    delayed = udp_rtts(hosts)
    print(f"\n20ms one way: RTT min {min(delayed) * 1e3:.1f} ms, "
          f"median {statistics.median(delayed) * 1e3:.1f} ms")
    assert len(delayed) == 10
    assert min(delayed) >= 0.020, delayed
    assert statistics.median(delayed) < 0.020 + 0.015, delayed

    assert sw.admin("set_port_delay", "2", "0").strip() == "ok"
    direct = udp_rtts(hosts)
    print(f"no delay: RTT median {statistics.median(direct) * 1e3:.2f} ms")
    assert statistics.median(direct) < 0.010, direct


def test_sigkill_mid_traffic_leaves_no_interface_or_process(hosts, start_switch):
    sw = start_switch("--port-rate", "2@10mbit", "--port-delay", "2@5ms")
    sender = hosts.traffic(1, "send-udp", "10.0.0.2", "20e6", "1.5", "1000")
    time.sleep(0.5)
    sw.proc.send_signal(signal.SIGKILL)
    sw.proc.wait(10)
    finish(sender)

    hosts.remove()  # what the fixture's finally does on every exit path
    assert hosts.kernel_objects() == []
    with pytest.raises(ProcessLookupError):
        os.kill(sw.proc.pid, 0)
    leftovers = [pid for pid in os.listdir("/proc") if pid.isdigit()
                 and hosts.token in _cmdline(pid)]
    assert leftovers == []


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def test_missing_interface_is_a_clear_startup_error(hosts, tmp_path):
    out = subprocess.run([*switch_command(), "-i", f"1@{hosts.port_if(1)}", "-i", "2@flvnosuch0",
                          "--admin-socket", str(tmp_path / "a.sock")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "interface flvnosuch0 does not exist" in out.stderr
    assert "Traceback" not in out.stderr


def test_admin_socket_in_use_is_a_clear_startup_error(hosts, start_switch):
    sw = start_switch()
    out = subprocess.run([*switch_command(), "-i", f"1@{hosts.port_if(1)}",
                          "--admin-socket", sw.admin_socket],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "in use by a running switch" in out.stderr
    assert sh("test", "-S", sw.admin_socket, check=False).returncode == 0  # not stolen


def test_grpc_port_in_use_is_a_clear_startup_error(hosts, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        out = subprocess.run([*switch_command(), "-i", f"1@{hosts.port_if(1)}",
                              "--admin-socket", str(tmp_path / "a.sock"),
                              "--grpc-server-addr", address],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert f"cannot serve P4Runtime on {address}: address already in use" in out.stderr
    assert not (tmp_path / "a.sock").exists()  # its own admin socket removed on the way out


def test_per_packet_log_only_when_asked_and_sigint_stops_cleanly(hosts, start_switch, echo):
    quiet = start_switch()
    assert len(udp_rtts(hosts, 3)) == 3
    assert quiet.terminate() == 0
    assert "port 1: in" not in quiet.stderr()

    chatty = start_switch("--log-console")
    assert len(udp_rtts(hosts, 3)) == 3
    chatty.proc.send_signal(signal.SIGINT)
    assert chatty.proc.wait(15) == 0
    log = chatty.stderr()
    assert log.count("port 1: in") >= 3 and log.count("port 2: out") >= 3, log


SEND_TAGGED = """
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
frame = bytes.fromhex("020000000002" "020000000001" "8100" "a064" "88b5") + b"vlan-test" * 6
for _ in range(3):
    s.send(frame)
"""


def test_vlan_tags_stripped_by_the_kernel_are_put_back(hosts, start_switch):
    sw = start_switch()
    out = hosts.run(1, sys.executable, "-c", SEND_TAGGED)
    assert out.returncode == 0, out.stderr
    time.sleep(0.5)
    assert sw.terminate() == 0
    for name in (f"{hosts.port_if(1)}_in.pcap", f"{hosts.port_if(2)}_out.pcap"):
        rows = tshark_fields(os.path.join(sw.pcap_dir, name), "vlan.id", "vlan.priority", "vlan.etype")
        assert rows == [["100", "5", "0x88b5"]] * 3, (name, rows)


def test_an_interface_deleted_under_the_switch_is_survived(hosts, start_switch):
    sw = start_switch()
    sh("ip", "link", "del", hosts.port_if(1))
    time.sleep(1.0)
    assert sw.proc.poll() is None
    assert '"2"' in sw.admin("show_queues")  # the loop still serves requests
    assert sw.terminate() == 0
    assert "Traceback" not in sw.stderr()
