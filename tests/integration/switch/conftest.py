"""Fixtures for the switch process tests: two hosts in namespaces joined by `fabriclab switch`.

  h1 (ns fl-sw<tok>-h1, eth0 10.0.0.1) -- flv<tok>s1 = port 1 [switch] port 2 = flv<tok>s2 -- h2 (10.0.0.2)

Everything is created per test with a random token and removed on every exit path.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PROGRAM = os.path.join(REPO, "tests", "data", "switch", "forward.p4")
TRAFFIC = os.path.join(HERE, "switch_traffic.py")
MACS = {1: "02:00:00:00:00:01", 2: "02:00:00:00:00:02"}


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def switch_command(program: bool = True) -> list[str]:
    """`fabriclab switch` on forward.p4, or with --no-p4 for a controller to load one."""
    return [sys.executable, "-m", "fabriclab", "switch", PROGRAM if program else "--no-p4"]


@dataclass
class TwoHosts:
    token: str
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def ns(self, host: int) -> str:
        return f"fl-sw{self.token}-h{host}"

    def port_if(self, port: int) -> str:
        return f"flv{self.token}s{port}"

    def run(self, host: int, *cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.ns(host), *cmd],
                              capture_output=True, text=True, **kw)

    def popen(self, host: int, *cmd: str) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", self.ns(host), *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def traffic(self, host: int, *args: str) -> subprocess.Popen:
        return self.popen(host, sys.executable, TRAFFIC, *args)

    def kernel_objects(self) -> list[str]:
        """Our namespaces and links still present in the kernel."""
        left = [ns for ns in sh("ip", "netns", "list").stdout.split() if self.token in ns]
        left += [line for line in sh("ip", "-o", "link").stdout.splitlines() if self.token in line]
        return left

    def remove(self) -> None:
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)
        for link in self.links:
            sh("ip", "link", "del", link, check=False)


@pytest.fixture
def hosts():
    net = TwoHosts(secrets.token_hex(3))
    try:
        for h in (1, 2):
            ns, sw_if, host_if = net.ns(h), net.port_if(h), f"flv{net.token}h{h}"
            sh("ip", "netns", "add", ns)
            net.namespaces.append(ns)
            sh("ip", "link", "add", sw_if, "type", "veth", "peer", "name", host_if)
            net.links.append(sw_if)
            sh("ip", "link", "set", host_if, "netns", ns)
            sh("ip", "link", "set", sw_if, "up")
            sh("sysctl", "-qw", f"net.ipv6.conf.{sw_if}.disable_ipv6=1")
            for cmd in (["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],  # no stray RS/MLD
                        ["ip", "link", "set", host_if, "name", "eth0"],
                        ["ip", "link", "set", "eth0", "address", MACS[h]],
                        ["ip", "addr", "add", f"10.0.0.{h}/24", "dev", "eth0"],
                        ["ip", "link", "set", "eth0", "up"],
                        ["ip", "link", "set", "lo", "up"],
                        # The switch forwards whole frames: no partial checksums on the wire.
                        ["ethtool", "-K", "eth0", "tx", "off"],
                        ["ip", "neigh", "add", f"10.0.0.{3 - h}", "lladdr", MACS[3 - h],
                         "dev", "eth0"]):
                subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True, capture_output=True)
        yield net
    finally:
        net.remove()


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningSwitch:
    """A `fabriclab switch` child process started and waited for like Mininet does."""

    def __init__(self, net: TwoHosts, workdir: str, extra: list[str], program: bool = True):
        self.admin_socket = os.path.join(workdir, "admin.sock")
        self.pcap_dir = os.path.join(workdir, "pcap")
        self.stderr_path = os.path.join(workdir, "switch.err")
        self.grpc_address = f"127.0.0.1:{free_tcp_port()}"
        cmd = [*switch_command(program), "-i", f"1@{net.port_if(1)}", "-i", f"2@{net.port_if(2)}",
               "--pcap", self.pcap_dir, "--admin-socket", self.admin_socket,
               "--grpc-server-addr", self.grpc_address, *extra]
        with open(self.stderr_path, "w") as stderr:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                         cwd=REPO)
        self.ready_line = self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if "ready" in line:
                    return line
            if self.proc.poll() is not None:
                break
        self.kill()
        raise AssertionError(f"switch did not get ready: {self.stderr()}")

    def stderr(self) -> str:
        with open(self.stderr_path) as f:
            return f.read()

    def admin(self, *words: str) -> str:
        out = subprocess.run([sys.executable, "-m", "fabriclab", "switch-cli", "--socket",
                              self.admin_socket, *words], capture_output=True, text=True, cwd=REPO)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def terminate(self, timeout: float = 15.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def start_switch(hosts, tmp_path):
    started: list[RunningSwitch] = []

    def start(*extra: str, program: bool = True) -> RunningSwitch:
        sw = RunningSwitch(hosts, str(tmp_path), list(extra), program)
        started.append(sw)
        return sw

    try:
        yield start
    finally:
        for sw in started:
            sw.kill()


def finish(proc: subprocess.Popen, timeout: float = 30.0):
    """JSON printed last by a traffic tool."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def wait_listening(proc: subprocess.Popen) -> None:
    assert proc.stdout.readline().strip() == "listening", proc.stderr.read()
