"""A throw-away fabric for real-socket runs without Mininet: N host namespaces joined by veths
to a Linux bridge that lives in its own namespace, optionally with a token-bucket link rate
on each bridge port toward a host (no ECN: the kernel here has no marking qdisc).

Everything is named with the `fl` prefix (namespaces `fl-<tag>-h<i>`, `fl-<tag>-sw`, veths
`flv<tag><i>`) so `fabriclab clean` can find leftovers, and `BridgeFabric` removes all of it
on exit, whatever happened. Optional tcpdump captures write one pcap per host port.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from fabriclab.errors import FabricError
from fabriclab.paths import ENV as RUN_ENV
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.launch.placement import Spawn, in_netns

SUBNET = "10.77.0"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode:
        raise FabricError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
    return proc


@dataclass
class BridgeFabric:
    """`with BridgeFabric(4) as fab:` gives fab.spawns and fab.addrs for `collective.launch`."""

    hosts: int
    pcap_dir: Path | None = None
    link_rate: float | None = None  # bit/s: shape the bridge's port toward each host (tbf)
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    namespaces: list[str] = field(default_factory=list)
    pcaps: list[Path] = field(default_factory=list)
    _dumps: list[subprocess.Popen] = field(default_factory=list)

    @property
    def switch_ns(self) -> str:
        return f"fl-{self.tag}-sw"

    @property
    def addrs(self) -> list[tuple[str, int]]:
        return [(f"{SUBNET}.{i + 1}", ROCE_PORT) for i in range(self.hosts)]

    @property
    def spawns(self) -> list[Spawn]:
        return [in_netns(ns) for ns in self.namespaces]

    def __enter__(self) -> BridgeFabric:
        if os.geteuid() != 0:
            raise FabricError("creating network namespaces needs root")
        if not 1 <= self.hosts <= 200:
            raise FabricError("between 1 and 200 hosts")
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build(self) -> None:
        sw = self.switch_ns
        _ip("netns", "add", sw)
        _ip("-n", sw, "link", "add", "flbr0", "type", "bridge")
        _ip("-n", sw, "link", "set", "flbr0", "up")
        for i, (addr, _) in enumerate(self.addrs):
            ns = f"fl-{self.tag}-h{i}"
            _ip("netns", "add", ns)
            self.namespaces.append(ns)
            host_if, sw_if = f"flv{self.tag}h{i}", f"flv{self.tag}s{i}"
            _ip("link", "add", host_if, "netns", ns, "type", "veth", "peer", "name", sw_if, "netns", sw)
            _ip("-n", sw, "link", "set", sw_if, "master", "flbr0", "up")
            if self.link_rate:
                self._shape(sw_if)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", host_if)
            _ip("-n", ns, "link", "set", host_if, "up")
            if self.pcap_dir is not None:
                self._capture(ns, host_if, self.pcap_dir / f"h{i}.pcap")
        self._wait_carrier()

    def _shape(self, dev: str) -> None:
        """A token bucket on the switch port: the downlink is the bottleneck of an incast."""
        rate = f"{int(self.link_rate)}bit"
        burst = max(15000, int(self.link_rate / 8 * 5e-3))  # ~5 ms: tbf releases on timers
        proc = subprocess.run(["ip", "netns", "exec", self.switch_ns, "tc", "qdisc", "add", "dev", dev, "root",
                               "tbf", "rate", rate, "burst", str(burst), "limit", "262144"],
                              capture_output=True, text=True)
        if proc.returncode:
            raise FabricError(f"cannot shape {dev} to {rate}: {proc.stderr.strip()}")

    def _capture(self, ns: str, dev: str, path: Path) -> None:
        if shutil.which("tcpdump") is None:
            raise FabricError("tcpdump is not installed (apt-get install tcpdump)")
        path.parent.mkdir(parents=True, exist_ok=True)
        # marked like a `fabriclab net` run's processes, so `fabriclab clean` finds a capture
        # that outlived a killed launcher
        env = {**os.environ, RUN_ENV: f"roce-{self.tag}"}
        p = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", dev, "-w", str(path), "-U",
                              "--immediate-mode", "-B", "32768", "udp"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=env)
        self._dumps.append(p)
        self.pcaps.append(path)
        assert p.stderr is not None
        p.stderr.readline()  # "listening on ..." once the capture is armed

    def _wait_carrier(self) -> None:
        """Wait until every bridge port forwards (no STP on flbr0, so this is quick)."""
        for _ in range(100):
            out = subprocess.run(["bridge", "-n", self.switch_ns, "link", "show"], capture_output=True,
                                 text=True).stdout
            if out.count("state forwarding") == self.hosts:
                return
            time.sleep(0.05)
        raise FabricError("bridge ports did not come up")

    def _settle_captures(self) -> None:
        """tcpdump may lag behind the traffic; stopping it drops what it has not read yet."""
        sizes: list[int] = []
        for _ in range(50):
            now = [p.stat().st_size if p.exists() else 0 for p in self.pcaps]
            if now == sizes:
                return
            sizes = now
            time.sleep(0.2)

    def close(self) -> None:
        if self._dumps:
            self._settle_captures()
        for p in self._dumps:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stderr:
                p.stderr.close()
        self._dumps.clear()
        for ns in [*self.namespaces, self.switch_ns]:
            _ip("netns", "del", ns, check=False)  # deleting a namespace removes its veth ends
        self.namespaces.clear()
