"""A host with TX checksum offload on (the veth default) sends UDP with a partial checksum;
the switch counts such frames and warns once with the fix (root: a namespace and a veth)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from fabriclab.paths import NETNS_PREFIX

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]

SEND = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "[s.sendto(b'x' * 100, ('10.99.0.2', 9000)) for _ in range(3)]")


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def host(tmp_path):
    """Namespace `ns` with eth0 10.99.0.1/24, its peer `intf` in the root namespace."""
    ns, intf = f"{NETNS_PREFIX}pc{os.getpid()}", f"flvpc{os.getpid() % 100000}"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", intf, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", intf, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", "10.99.0.1/24", "dev", "eth0")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", ns, "ip", "neigh", "add", "10.99.0.2", "lladdr",
           "02:00:00:00:00:02", "dev", "eth0")
        yield ns, intf
    finally:
        subprocess.run(["ip", "link", "del", intf], capture_output=True)
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def switch_run(intf: str, tmp_path, send) -> tuple[str, str]:
    """Start a switch on `intf`, run `send`, stop it; its (stdout, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "fabriclab", "switch", "--no-p4", "-i",
                             f"1@{intf}", "--grpc-server-addr", "127.0.0.1:0",
                             "--admin-socket", str(tmp_path / "s.sock")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()
        assert "ready" in ready, ready + proc.stderr.read()
        send()
        # the 3 datagrams are on the switch's socket before its next wake-up; let it read them
        subprocess.run([sys.executable, "-c", "import time; time.sleep(1)"])
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    return ready + out, err


def test_partial_checksums_are_counted_and_the_fix_is_said_once(host, tmp_path):
    ns, intf = host
    out, err = switch_run(intf, tmp_path, lambda: sh("ip", "netns", "exec", ns, sys.executable,
                                                     "-c", SEND))
    assert "partial checksums 3" in out, out + err
    assert err.count("partial checksum") == 1 and "ethtool -K <host-if> tx off" in err


def test_with_offload_off_there_are_none(host, tmp_path):
    ns, intf = host
    sh("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off")
    out, err = switch_run(intf, tmp_path, lambda: sh("ip", "netns", "exec", ns, sys.executable,
                                                     "-c", SEND))
    assert "partial checksums 0" in out and int(re.search(r"rx (\d+)", out)[1]) >= 3, out + err
    assert "partial checksum" not in err
