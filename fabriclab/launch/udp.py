"""Real-time driver: one NIC engine over UDP sockets, in the host agent of whatever
host/namespace runs it.

One socket listens on the RoCE port (IP_RECVTOS delivers each datagram's TOS byte, so CE
marks reach the notification point); one socket per QP is bound to that QP's source port
(the ECMP entropy real NICs put there) and sends with TOS = ECT(0). Sockets are unconnected
with DF set, so Linux sends IP id 0: the ICRC's pseudo-header is fully known on both ends.
The clock is time.monotonic_ns() (the engines count integer ns). Every socket sends UDP
checksum 0 (SO_NO_CHECK), as RoCEv2 NICs do: the ICRC protects the payload (IBA Annex A17).

Congestion control the NIC runs needs two more inputs here, both optional:
- INT to the receiver (HPCC): fabric.p4 delivers a watched RoCE packet with its INT stack
  to UDP port 9099, so a NIC on the standard RoCE port also listens there and passes those
  datagrams on with their port (the NIC splits the stack off and echoes it in ACKs).
- PFC: a NIC that honours pauses (`NicConfig.pfc_priority`) gets the MAC control frames of
  its interface from an AF_PACKET socket bound to ethertype 0x8808 (the kernel has no
  handler of its own for them), as a RoCE NIC's MAC would see them; the interface is the
  one holding the NIC's address unless `pfc_iface` names it. That socket needs CAP_NET_RAW.
"""

from __future__ import annotations

import array
import errno
import fcntl
import selectors
import socket
import struct
import time
from typing import Callable

from fabriclab.errors import FabricError
from fabriclab.roce.framing import CE, ECT0, INT_UDP_PORT, ROCE_PORT
from fabriclab.roce.nic import App, RoceNic
from fabriclab.roce.pacer import NS_PER_S

IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2  # linux/in.h; Python does not export these
SO_NO_CHECK, SO_SNDBUFFORCE, SO_RCVBUFFORCE = 11, 32, 33  # asm-generic/socket.h
SIOCGIFADDR = 0x8915  # linux/sockios.h
ETH_P_MAC_CONTROL = 0x8808
BUFFER = 4 << 20
MAX_IDLE = 0.05


def iface_of(ip: str) -> str:
    """The interface holding IPv4 address `ip` in this network namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            req = array.array("B", struct.pack("256s", name.encode()[:15]))
            try:
                fcntl.ioctl(s.fileno(), SIOCGIFADDR, req)
            except OSError:  # no IPv4 address
                continue
            if socket.inet_ntoa(req[20:24].tobytes()) == ip:
                return name
    raise FabricError(f"no interface holds {ip}: cannot watch it for PFC pauses")


class UdpDriver:
    def __init__(self, nic: RoceNic, app: App | None = None, pfc_iface: str | None = None) -> None:
        self.nic, self.app = nic, app
        self.send_errors = 0
        self._tx: dict[int, socket.socket] = {}
        ip, port = nic.cfg.ip, nic.cfg.port
        self._rx = self._socket()
        self._rx.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        self._bind(self._rx, ip, port)
        self._int: socket.socket | None = None
        self._mac: socket.socket | None = None
        try:
            if port == ROCE_PORT:  # fabric.p4 sends INT-to-the-receiver datagrams of 4791 to 9099
                self._int = self._socket()
                self._int.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
                self._bind(self._int, ip, INT_UDP_PORT)
            if nic.cfg.pfc_priority is not None:
                self._mac = self._pause_socket(pfc_iface or iface_of(ip))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> UdpDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for s in [self._rx, self._int, self._mac, *self._tx.values()]:
            if s is not None:
                s.close()
        self._tx.clear()

    @staticmethod
    def _pause_socket(iface: str) -> socket.socket:
        """An AF_PACKET socket receiving the MAC control frames that arrive on `iface`."""
        try:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_MAC_CONTROL))
        except PermissionError:
            raise FabricError("honouring PFC pauses needs a packet socket (CAP_NET_RAW): run as root") from None
        try:
            s.bind((iface, ETH_P_MAC_CONTROL))
        except OSError as err:
            s.close()
            raise FabricError(f"cannot watch {iface} for PFC pauses: {err.strerror}") from None
        s.setblocking(False)
        return s

    @staticmethod
    def _socket() -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
        for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
            try:  # a whole window from every peer must fit; net.core.rmem_max is often 208 KiB
                s.setsockopt(socket.SOL_SOCKET, force, BUFFER)
            except PermissionError:
                s.setsockopt(socket.SOL_SOCKET, plain, BUFFER)
        s.setblocking(False)
        return s

    @staticmethod
    def _bind(s: socket.socket, ip: str, port: int) -> None:
        try:
            s.bind((ip, port))
        except OSError as err:
            s.close()
            raise FabricError(f"cannot bind UDP {ip}:{port}: {err.strerror}") from None

    def open_qp_sockets(self) -> None:
        """Bind a sending socket for every QP's source port (call after connecting QPs)."""
        for qpn, sport in self.nic.sports.items():
            if sport in self._tx:
                continue
            s = self._socket()
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, ECT0)
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
            for probe in range(64):  # another process may hold the port (loopback runs)
                port = 49152 + (sport - 49152 + probe) % 16384
                try:
                    s.bind((self.nic.cfg.ip, port))
                    break
                except OSError as err:
                    if err.errno != errno.EADDRINUSE:
                        s.close()
                        raise FabricError(f"cannot bind UDP {self.nic.cfg.ip}:{port}: {err.strerror}") from None
            else:
                s.close()
                raise FabricError(f"no free UDP source port near {sport} on {self.nic.cfg.ip}")
            self.nic.set_sport(qpn, port)
            self._tx[port] = s

    def run(self, stop: Callable[[], bool], timeout: float) -> bool:
        """Run until `stop()` (True) or `timeout` seconds pass (False)."""
        self.open_qp_sockets()
        return drive([self], self.app, stop, timeout)

    def _step(self, now: int) -> None:
        """Send whatever the NIC's pacers allow at `now`."""
        for dg in self.nic.poll(now):
            try:
                self._tx[dg.sport].sendto(dg.payload, (dg.dst_ip, dg.dst_port))
            except OSError as err:  # a full buffer or unreachable peer is a drop; RC recovers
                if err.errno not in (errno.EAGAIN, errno.ENOBUFS, errno.ECONNREFUSED, errno.EHOSTUNREACH,
                                     errno.ENETUNREACH, errno.EMSGSIZE):
                    raise
                self.send_errors += 1

    def sockets(self) -> list[socket.socket]:
        """The receiving sockets (RoCE port, INT port, PFC pauses)."""
        return [s for s in (self._rx, self._int, self._mac) if s is not None]

    def _drain(self) -> None:
        """Everything that is waiting: pauses first (they gate the data we answer with)."""
        if self._mac is not None:
            self._drain_pauses()
        self._drain_udp(self._rx, self.nic.cfg.port)
        if self._int is not None:
            self._drain_udp(self._int, INT_UDP_PORT)

    def _drain_udp(self, sock: socket.socket, dst_port: int) -> None:
        space = socket.CMSG_SPACE(4)
        for _ in range(256):
            try:
                data, anc, _, (src_ip, src_port) = sock.recvmsg(65535, space)
            except BlockingIOError:
                return
            tos = ECT0
            for level, kind, value in anc:
                if level == socket.IPPROTO_IP and kind == socket.IP_TOS and value:
                    tos = value[0]
            self.nic.receive(data, src_ip, src_port, (tos & 3) == CE, time.monotonic_ns(), dst_port=dst_port)

    def _drain_pauses(self) -> None:
        """Frames of ethertype 0x8808 on our interface (outgoing copies skipped)."""
        mac = self._mac
        for _ in range(256):
            try:
                frame, addr = mac.recvfrom(2048)  # type: ignore[union-attr]
            except BlockingIOError:
                return
            if addr[2] != socket.PACKET_OUTGOING:
                self.nic.receive_mac_control(frame, time.monotonic_ns())


def drive(drivers: list[UdpDriver], app: App | None, stop: Callable[[], bool], timeout: float,
          until_readable: int | None = None) -> bool:
    """The one event loop of a host: service the app, let every NIC send, service it again,
    then sleep until a datagram arrives on any NIC or the earliest NIC wants its `poll`.
    True when `stop()` or when file descriptor `until_readable` has input, False once
    `timeout` seconds have passed. A NIC whose app is done keeps sending what it owes
    (the last ACKs wait on its pacer like any packet) while this loop runs on: see `linger`."""
    sel = selectors.DefaultSelector()
    try:
        for d in drivers:
            for sock in d.sockets():
                sel.register(sock, selectors.EVENT_READ, d)
        if until_readable is not None:
            sel.register(until_readable, selectors.EVENT_READ, None)
        end = time.monotonic_ns() + round(timeout * NS_PER_S)
        while True:
            now = time.monotonic_ns()
            if app is not None:
                app.service(now)
            for d in drivers:
                d._step(now)
            if app is not None:
                app.service(now)
            if stop():
                return True
            if now >= end:
                return False
            # an app may finish by the clock alone (a workload of fixed duration): look at least
            # every MAX_IDLE; without one only packets, NIC timers and the end can wake us
            wait = MAX_IDLE if app is not None else (end - now) / NS_PER_S
            for d in drivers:
                wake = d.nic.next_wakeup()
                if wake is not None:
                    wait = min(wait, max(wake - now, 0) / NS_PER_S)
            ready = {id(key.data): key.data for key, _ in sel.select(wait)}
            if None in ready.values():
                return True
            for d in ready.values():
                d._drain()
    finally:
        sel.close()


def linger(drivers: list[UdpDriver], until_readable: int, timeout: float) -> None:
    """Keep finished NICs answering until the launcher moves on (`until_readable` has input:
    its next job, or end of input). A rank is done when its own writes are acknowledged and
    its peers' data is in; its ACK of a peer's last packet may still wait on its pacer or be
    lost, and the peer then retransmits to it. Closing the sockets at once would leave that
    peer resending into a closed port until its timeout; every rank's result is in only when
    every peer is done, so lingering until then answers every retransmission."""
    drive(drivers, None, lambda: False, timeout, until_readable)
