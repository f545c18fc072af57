"""A packet's path is the same in both drivers (root: veths and a real switch process).

The same fabric.p4, the same entries (written by the same FabricController from the same
leaf-spine plan) and the same input frames go through

- the real-time switch: `fabriclab switch` on four veths, programmed over gRPC on
  127.0.0.1, frames injected with AF_PACKET on the veths' peers, outputs from its pcaps;
- the virtual-time fabric: leaf l1 of `fabriclab.vtime.Fabric`, outputs from its pcaps;

and every egress port must see the same frames, byte for byte, in the same order: ECMP
hashing, adaptive routing's pick (empty queues: the seeded tie-break), MAC rewrite, TTL,
checksum, traffic classes. No INT is configured, so no timestamp needs masking.
"""

from __future__ import annotations

import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from controller.client import P4RuntimeClient
from controller.fabric import FabricController
from controller.fabric_plan import FabricConfig, Mode
from fabriclab import paths
from fabriclab.roce import framing as f
from fabriclab.vtime.fabric import Fabric, FabricOptions, load_pipeline
from fabriclab.vtime.frames import ip_bytes, mac_bytes, udp_frame
from topologies.addressing import Addressing
from topologies.builders import leaf_spine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (veths, AF_PACKET)")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PORTS = (1, 2, 3, 4)  # l1: h1, h2, then the uplinks to s1, s2


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frames(topo) -> list[tuple[int, bytes]]:
    """(ingress port, frame): from local hosts to local and remote hosts, and from a spine
    down to a local host; data, ACKs and CNP-class packets over many source ports."""
    addr = Addressing(topo)
    nic = {h: addr.nics[(h, 0)] for h in ("h1", "h2", "h3", "h4")}
    out = []
    for i in range(24):
        src = "h1" if i % 2 == 0 else "h2"
        dst = ("h2", "h3", "h4")[i % 3] if src == "h1" else ("h1", "h3", "h4")[i % 3]
        sport = 49152 + 977 * i % 16384
        opcode = (f.WRITE_ONLY, f.ACKNOWLEDGE, f.SEND_ONLY)[i % 3]
        pkt = f.RocePacket(opcode, 0x100 + i, i * 7, payload=bytes([i]) * (64 + 8 * i),
                           syndrome=f.AETH_ACK)
        s, d = nic[src], nic[dst]
        payload = f.frame(pkt, str(s.ip.ip), str(d.ip.ip), sport)
        out.append((s.switch_port, udp_frame(mac_bytes(s.mac), mac_bytes(s.gateway_mac),
                                             ip_bytes(str(s.ip.ip)), ip_bytes(str(d.ip.ip)),
                                             sport, f.ROCE_PORT, payload)))
    for i in range(6):  # from spine s1 (l1 port 3) toward h1/h2
        d = nic[("h1", "h2")[i % 2]]
        s = nic["h3"]
        payload = f.frame(f.RocePacket(f.WRITE_ONLY, 0x200 + i, i, payload=b"z" * 100),
                          str(s.ip.ip), str(d.ip.ip), 50000 + i)
        out.append((3, udp_frame(mac_bytes("02:01:00:02:00:01"), mac_bytes(addr.port_mac("l1", 3)),
                                 ip_bytes(str(s.ip.ip)), ip_bytes(str(d.ip.ip)), 50000 + i,
                                 f.ROCE_PORT, payload)))
    return out


def read_pcap(path: str) -> list[bytes]:
    from scapy.all import rdpcap

    return [bytes(p) for p in rdpcap(path)] if os.path.exists(path) else []


def through_vtime(topo, tmp, inputs, mode: str) -> dict[int, list[bytes]]:
    fabric = Fabric(topo, FabricOptions(pcap_dir=tmp, config=FabricConfig(mode=Mode.parse(mode))))
    for i, (port, frame) in enumerate(inputs):
        fabric.at(i * 1_000_000, fabric.switches["l1"].receive, port, frame)
    fabric.run()
    fabric.close()
    return {p: read_pcap(str(tmp / f"l1-eth{p}_out.pcap")) for p in PORTS}


class RealSwitch:
    """`fabriclab switch` on veths flv<tok>e<port>; the test talks on flv<tok>p<port>."""

    def __init__(self, tmp) -> None:
        self.token = secrets.token_hex(3)
        self.links: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.pcap_dir = str(tmp)
        self.address = f"127.0.0.1:{free_port()}"

    def sw_if(self, port: int) -> str:
        return f"flv{self.token}e{port}"

    def peer_if(self, port: int) -> str:
        return f"flv{self.token}p{port}"

    def start(self) -> None:
        for port in PORTS:
            sh("ip", "link", "add", self.sw_if(port), "type", "veth", "peer", "name", self.peer_if(port))
            self.links.append(self.sw_if(port))
            for name in (self.sw_if(port), self.peer_if(port)):
                sh("sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1")
                sh("ip", "link", "set", name, "up")
        cmd = [sys.executable, "-m", "fabriclab", "switch", "--no-p4", "--priority-queues", "8",
               "--grpc-server-addr", self.address, "--pcap", self.pcap_dir]
        for port in PORTS:
            cmd += ["-i", f"{port}@{self.sw_if(port)}"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=REPO)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready and "ready" in self.proc.stdout.readline():
                return
            if self.proc.poll() is not None:
                break
        died = self.proc.poll() is not None
        raise AssertionError(f"switch did not start: {self.proc.stderr.read() if died else ''}")

    def inject(self, inputs) -> None:
        socks = {}
        try:
            for port in PORTS:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                s.bind((self.peer_if(port), 0))
                socks[port] = s
            for port, frame in inputs:
                socks[port].send(frame)
                time.sleep(0.02)  # one at a time: every queue is empty, as in virtual time
        finally:
            for s in socks.values():
                s.close()

    def outputs(self) -> dict[int, list[bytes]]:
        return {p: read_pcap(os.path.join(self.pcap_dir, f"{self.sw_if(p)}_out.pcap")) for p in PORTS}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for link in self.links:
            sh("ip", "link", "del", link, check=False)


@pytest.mark.parametrize("mode", ["ecmp", "adaptive"])
def test_same_egress_ports_and_bytes(tmp_path, mode):
    topo = leaf_spine(2, 2, 2)
    inputs = frames(topo)
    switch = RealSwitch(tmp_path / "real")
    try:
        switch.start()
        client = P4RuntimeClient(switch.address, 0)
        client.connect()
        try:
            ctl = FabricController(topo, {"l1": client}, FabricConfig(mode=Mode.parse(mode)))
            pipeline = load_pipeline(paths.p4src("fabric.p4"))
            ctl.push_pipeline(pipeline.p4info, pipeline.device_config)
            ctl.install()
            switch.inject(inputs)
            time.sleep(1.0)
        finally:
            client.close()
    finally:
        switch.stop()
    real = switch.outputs()
    sim = through_vtime(topo, tmp_path / "sim", inputs, mode)
    assert sum(len(v) for v in real.values()) == len(inputs)  # every frame came out once
    assert {p: len(v) for p, v in real.items()} == {p: len(v) for p, v in sim.items()}
    assert real == sim
    assert real[3] and real[4]  # ECMP / adaptive spread remote traffic over both uplinks
