"""A host NIC in virtual time: the same `RoceNic` engine and app (collective `Rank`,
permutation flow, ...) the UDP driver runs, with the kernel's part done here: datagrams
become Ethernet/IPv4/UDP frames (ECT(0) out) toward the gateway's MAC, and a received
frame's CE bit is read back from its TOS byte.

Service follows the UDP driver: app, NIC poll (transmit what the pacers allow), app again,
then one wake-up at the NIC's `next_wakeup`.
"""

from __future__ import annotations

from typing import Any

from fabriclab.roce.framing import INT_UDP_PORT
from fabriclab.roce.nic import RoceNic
from fabriclab.vtime.events import EventLoop
from fabriclab.vtime.frames import ip_bytes, ip_text, mac_bytes, parse_udp, udp_frame
from fabriclab.vtime.links import Wire
from topologies.addressing import HostNic


class HostEndpoint:
    """One host interface (`addr`) with its link toward the switch."""

    def __init__(self, loop: EventLoop, addr: HostNic, wire: Wire | None = None) -> None:
        self.loop, self.addr, self.wire = loop, addr, wire
        self.name = f"{addr.host}-eth{addr.port}"
        self.ip = str(addr.ip.ip)
        self._mac = mac_bytes(addr.mac)
        self._gw_mac = mac_bytes(addr.gateway_mac)
        self._ip = ip_bytes(self.ip)
        self.nic: RoceNic | None = None
        self.app: Any = None
        self.ignored = 0  # frames that were not UDP to our RoCE port
        self._wake_at: int | None = None

    def attach(self, nic: RoceNic | None, app: Any = None) -> None:
        """Run `nic` (and `app`, anything with `service(now)`) on this interface; None
        detaches (frames still arriving are then ignored)."""
        self.nic, self.app = nic, app

    def kick(self) -> None:
        """Let the app and NIC act now (after work was posted from outside)."""
        self.loop.at(self.loop.now, self.service)

    def receive(self, port: int, frame: bytes) -> None:
        nic = self.nic
        if nic is not None and nic.receive_mac_control(frame, self.loop.now):  # PFC pause
            self.service()
            return
        parsed = parse_udp(frame)
        if nic is None or parsed is None or parsed[3] not in (nic.cfg.port, INT_UDP_PORT):
            self.ignored += 1
            return
        src, _, sport, dport, ce, payload = parsed
        nic.receive(payload, ip_text(src), sport, ce, self.loop.now, dport)
        self.service()

    def service(self) -> None:
        nic, app, now = self.nic, self.app, self.loop.now
        if nic is None:
            return
        if app is not None:
            app.service(now)
        out = nic.poll(now)
        if out:
            wire = self.wire
            for dg in out:
                frame = udp_frame(self._mac, self._gw_mac, self._ip, ip_bytes(dg.dst_ip),
                                  dg.sport, dg.dst_port, dg.payload)
                if wire is not None:
                    wire.send(frame, now)
            if app is not None:
                app.service(now)
        wake = nic.next_wakeup()
        if wake is not None and (self._wake_at is None or wake < self._wake_at or self._wake_at < now):
            self._wake_at = wake
            self.loop.at(wake, self._wake, wake)

    def _wake(self, when: int) -> None:
        if self._wake_at == when:
            self._wake_at = None
            self.service()
