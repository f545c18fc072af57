"""Port flag parsing and the admin commands (switch-cli) applied to a TrafficManager."""

from __future__ import annotations

import json
import threading

import pytest

from fabriclab.errors import FabricError
from fabriclab.switch import admin, ports
from fabriclab.switch.tm import TrafficManager


@pytest.mark.parametrize("call, message", [
    (lambda: ports.parse_port_rate("1@10furlongs"), "unknown rate unit 'furlongs'"),
    (lambda: ports.parse_port_rate("10mbit"), "expected PORT@RATE"),
    (lambda: ports.parse_port_delay("x@5ms"), "port 'x' is not a number"),
    (lambda: ports.parse_port_delay("1@fast"), "'fast' is not a time"),
    (lambda: ports.parse_queue_depth("1@0"), "at least 1"),
    (lambda: ports.parse_interface("600@veth0"), "out of range"),
    (lambda: ports.interface_map(["1@a", "1@b"]), "port 1 given twice"),
    (lambda: ports.interface_map(["1@a", "2@a"]), "interface a given twice"),
    (lambda: ports.parse_queue_bytes("1@5parsecs"), "unknown size unit"),
])
def test_bad_flags_name_the_problem(call, message):
    with pytest.raises(FabricError, match=message):
        call()


def test_port_flags_use_the_one_unit_grammar():
    assert ports.parse_port_rate("1@10Mb/s") == (1, ports.Rate(bps=10e6))
    assert ports.parse_port_delay("2@5ms") == (2, 5_000_000)
    assert ports.parse_queue_bytes("3@96k") == (3, 98304)


def test_interface_map():
    assert ports.interface_map(["1@s1-eth1", "2@s1-eth2"]) == {1: "s1-eth1", 2: "s1-eth2"}


def test_admin_commands_change_the_traffic_manager():
    tm = TrafficManager(priority_queues=2)
    tm.port(1)
    admin.execute(tm, ["set_port_rate", "1", "10mbit"])
    admin.execute(tm, ["set_port_delay", "1", "20ms"])
    admin.execute(tm, ["set_queue_depth", "16", "1", "1"])
    admin.execute(tm, ["set_queue_rate", "500", "1"])
    port = tm.port(1)
    assert (port.rate_bps, port.delay_ns, port.rate_pps) == (10e6, 20_000_000, None)
    assert [q.depth_pkts for q in port.queues] == [64, 16]
    assert [q.rate_pps for q in port.queues] == [500, 500]
    admin.execute(tm, ["set_queue_bytes", "3k", "1", "0"])
    assert [q.depth_bytes for q in port.queues] == [3072, None]
    admin.execute(tm, ["set_queue_bytes", "none", "1"])
    assert [q.depth_bytes for q in port.queues] == [None, None]
    admin.execute(tm, ["set_port_rate", "1", "2000pps"])
    assert (port.rate_bps, port.rate_pps) == (None, 2000)
    admin.execute(tm, ["set_port_rate", "1", "none"])
    assert (port.rate_bps, port.rate_pps) == (None, None)
    shown = admin.execute(tm, ["show_queues", "1"])
    assert shown["1"]["delay_us"] == 20_000 and shown["1"]["queues"][1]["depth_pkts"] == 16


@pytest.mark.parametrize("words, message", [
    (["set_queue_rate"], "usage"),
    (["set_queue_depth", "10", "1", "5"], "priority 5 out of range"),
    (["set_port_delay", "1"], "usage"),
    (["set_queue_bytes", "3k"], "usage"),
    (["show_queues", "9"], "not a port of this switch"),
    (["reboot"], "unknown command"),
])
def test_admin_errors(words, message):
    tm = TrafficManager(priority_queues=2)
    tm.port(1)
    with pytest.raises(FabricError, match=message):
        admin.execute(tm, words)


def test_admin_socket_round_trip(tmp_path):
    """The real unix socket: a client request served by AdminServer.on_readable."""
    tm = TrafficManager()
    tm.port(3)
    path = str(tmp_path / "sw.sock")
    server = admin.AdminServer(path, lambda line: admin.handle_line(tm, line))
    server.sock.setblocking(True)  # serve from a thread here instead of the switch's epoll

    def serve(n):
        for _ in range(n):
            conn, _ = server.sock.accept()
            with conn:
                conn.sendall(server._handler(admin._read_line(conn)))

    thread = threading.Thread(target=serve, args=(2,), daemon=True)
    thread.start()
    try:
        assert admin.request(path, ["set_port_delay", "3", "1ms"]) == "ok"
        with pytest.raises(FabricError, match="unknown command"):
            admin.request(path, ["nope"])
        thread.join(5)
        assert tm.port(3).delay_ns == 1_000_000
        with pytest.raises(FabricError, match="in use by a running switch"):
            admin.AdminServer(path, lambda line: b"")
    finally:
        server.close()
    with pytest.raises(FabricError, match="no switch answering"):
        admin.request(path, ["show_queues"])


def test_stale_admin_socket_is_taken_over(tmp_path):
    import socket
    path = str(tmp_path / "stale.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()  # the file stays, nobody listens: like a SIGKILLed switch
    server = admin.AdminServer(path, lambda line: b"")
    server.close()


def test_malformed_request_gets_an_error_line():
    reply = json.loads(admin.handle_line(TrafficManager(), b"not json\n"))
    assert "bad request" in reply["error"]
