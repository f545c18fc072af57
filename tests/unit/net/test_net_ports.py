"""The one gRPC port check (paths.port_bindable): the switch's start-up check and `net`'s
preflight agree, a TIME_WAIT is free (gRPC binds with SO_REUSEADDR), a listener is busy,
and `net` moves to the next free block, saying which."""

import socket

import pytest

from fabriclab.errors import FabricError
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.paths import port_bindable
from fabriclab.switch.cli import _check_bindable
from topologies import builders


def time_wait_port(reuse: bool) -> int:
    """A 127.0.0.1 port left in TIME_WAIT by its server side (which closes first); `reuse`:
    the server had SO_REUSEADDR, as gRPC's (the switch's P4Runtime server) has."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse))
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = server.accept()
        conn.close()  # the server side closes first: its port goes to TIME_WAIT
        client.recv(1)
        client.close()
    return port


def test_a_time_wait_left_by_a_grpc_server_is_free_for_both_checks():
    port = time_wait_port(reuse=True)
    assert port_bindable(port)
    _check_bindable(f"127.0.0.1:{port}")  # the switch agrees: no error


def test_a_time_wait_left_by_a_plain_server_is_busy_for_both_checks():
    """Linux lets a bind reuse a TIME_WAIT port only if both sockets set SO_REUSEADDR."""
    port = time_wait_port(reuse=False)
    assert not port_bindable(port)
    with pytest.raises(FabricError, match="address already in use"):
        _check_bindable(f"127.0.0.1:{port}")


def test_a_listening_port_is_busy_for_both_checks():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not port_bindable(port)
        with pytest.raises(FabricError, match="address already in use"):
            _check_bindable(f"127.0.0.1:{port}")


def test_net_moves_to_the_next_free_block_and_says_so(capsys):
    topo = builders.leaf_spine(leaves=2, spines=1, hosts_per_leaf=1)  # 3 switches
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        base = busy - 1
        net = FabricNet(topo, NetConfig(grpc_base_port=base, run="unit-ports"))
        if not all(port_bindable(p) for p in (base, busy + 1, *range(base + 3, base + 6))):
            pytest.skip("neighbouring ports are taken on this machine")
        net._pick_grpc_ports()
    assert net.config.grpc_base_port == base + 3
    assert f"gRPC ports {busy} in use: using {base + 3}-{base + 5} instead" in capsys.readouterr().out
