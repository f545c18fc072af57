"""The real-time driver of one switch: AF_PACKET ports, one epoll loop, the traffic manager.

``SwitchProcess`` owns the kernel side (a raw socket per ``-i N@ifname``, read through a
PACKET_MMAP ring where the kernel gives one (``ring.py``), pcap files, a wake-up pipe) and feeds the sans-I/O parts: ``core.ingress`` -> ``TrafficManager`` ->
``core.egress`` -> the TM's modelled link -> the socket. The loop sleeps in epoll until a
socket is readable or the TM's next deadline (pacing, propagation delay) comes due; that
deadline is a timerfd in the same epoll, because epoll's own timeout is whole milliseconds
(every paced departure and delayed hop would be up to 1 ms late) and spinning would burn a
core.

API for the P4Runtime server (which runs in gRPC threads):

- ``switch.lock``: an RLock; hold it for every call into ``switch.core`` (tables, counters...).
  The loop holds it around each ``core.ingress``/``core.egress`` call.
- ``switch.core``: the ``SwitchCore``, or None with ``--no-p4`` until a pipeline is set.
- ``switch.set_core(core)``: install a new pipeline (SetForwardingPipelineConfig). It runs in
  the loop thread (queued packets of the old program are dropped) and returns once done.
- ``switch.inject_packet_out(data)``: inject a frame as if it arrived on the CPU port
  (ingress sees ``ingress_port == cpu_port``). Thread-safe, non-blocking.
- ``switch.add_packet_in_listener(fn)``: ``fn(data)`` is called in the loop thread for every
  frame the pipeline sends to the CPU port; it must not block (put the frame on a queue).
- ``switch.add_digest_listener(fn)``: ``fn()`` is called in the loop thread after a batch
  of packets that left entries in ``core.digests``; drain them under ``switch.lock``.
- ``switch.add_port_status_listener(fn)``: ``fn(port, up)`` is called in the loop thread when
  a port's carrier changes (netlink RTM_NEWLINK on its interface), after ``port_signal``
  has put the new mask in the program's ``port_down_signal`` register (fast reroute); the
  P4Runtime server forwards it to the controller. It must not block.
- ``switch.device_id``, ``switch.cpu_port``, ``switch.drop_port``, ``switch.tm``,
  ``switch.interfaces`` ({port: ifname}), ``switch.counters``.
"""

from __future__ import annotations

import ctypes
import logging
import os
import select
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from fabriclab.errors import FabricError
from fabriclab.switch.pcap import PortCapture
from fabriclab.switch.ports import PortSignal
from fabriclab.switch.ring import TP_STATUS_CSUMNOTREADY, PacketRing, with_vlan_tag
from fabriclab.switch.tm import TrafficManager

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_IGNORE_OUTGOING = 23  # Linux >= 4.20: do not even queue our own transmissions
PACKET_OUTGOING = 4
PACKET_AUXDATA = 8
PACKET_STATISTICS = 6
_AUXDATA = struct.Struct("=IIIHHHH")  # struct tpacket_auxdata
_AUX_SPACE = socket.CMSG_SPACE(_AUXDATA.size)
RECV_BATCH = 64  # frames read from one socket before looking at the others
MAX_FRAME = 65536
IDLE_WAKE_S = 0.5  # idle wake-up, to flush pcaps now and then
CLOCK_MONOTONIC = 1  # time.monotonic_ns()'s clock
TFD_TIMER_ABSTIME = 1
RTMGRP_LINK = 1  # netlink: link (interface) notifications
RTM_NEWLINK, RTM_DELLINK = 16, 17
IFF_UP, IFF_LOWER_UP = 0x1, 0x10000  # administratively up; carrier
_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")

log = logging.getLogger("fabriclab.switch")


@dataclass
class Counters:
    rx: int = 0
    tx: int = 0
    to_cpu: int = 0
    from_cpu: int = 0
    no_pipeline: int = 0  # frames received while no program was loaded
    pipeline_errors: int = 0  # exceptions raised by the core (the switch never dies on a packet)
    tx_errors: int = 0  # sends refused by the kernel (interface down, no buffer space)
    no_port: int = 0  # frames to a port with no interface
    rx_overruns: int = 0  # frames the kernel dropped because the loop fell behind (full socket)
    partial_checksums: int = 0  # frames that arrived with a partial L4 checksum, sent on as is
    truncated: int = 0  # frames longer than a ring slot (MTU grew, GRO/GSO): dropped
    ring_holes: int = 0  # ring slots the kernel never handed over, skipped (ring.py)
    port_events: int = 0  # carrier changes of our ports (each one updates the port signal)


def open_port_socket(ifname: str) -> socket.socket:
    """A non-blocking raw socket bound to ``ifname``, promiscuous, blind to our own sends."""
    try:
        index = socket.if_nametoindex(ifname)
    except OSError:
        raise FabricError(f"interface {ifname} does not exist") from None
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        sock.bind((ifname, ETH_P_ALL))
        mreq = index.to_bytes(4, "little") + PACKET_MR_PROMISC.to_bytes(2, "little") + bytes(10)
        sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        try:
            sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass  # older kernel: the pkttype filter in _receive still applies
        sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.setblocking(False)
    except OSError as err:
        sock.close()
        raise FabricError(f"cannot open interface {ifname}: {err.strerror}") from None
    return sock


def interface_mtu(ifname: str) -> int:
    try:
        with open(f"/sys/class/net/{ifname}/mtu") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 1500


def open_port_ring(port: int, ifname: str, sock: socket.socket,
                   logger: logging.Logger = log) -> PacketRing | None:
    """A PACKET_MMAP receive ring on the port's socket, or None (and a log line) where the kernel
    refuses them: the port then runs on plain recvmsg/send, as before."""
    try:
        return PacketRing(sock, interface_mtu(ifname))
    except (OSError, ValueError) as err:
        logger.warning("port %d (%s): no PACKET_MMAP ring (%s): plain socket I/O", port, ifname,
                    getattr(err, "strerror", None) or err)
        return None


def auxdata(ancillary: list) -> tuple[int, int, int]:
    """(tp_status, vlan tci, vlan tpid) of a received frame's PACKET_AUXDATA, zeros without."""
    for level, kind, payload in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(payload) >= _AUXDATA.size:
            status, _, _, _, _, tci, tpid = _AUXDATA.unpack_from(payload)
            return status, tci, tpid
    return 0, 0, 0


def open_link_monitor() -> socket.socket:
    """A non-blocking rtnetlink socket subscribed to link changes (no polling: the kernel
    sends RTM_NEWLINK when an interface's flags or carrier change)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK,
                         socket.NETLINK_ROUTE)
    try:
        sock.bind((0, RTMGRP_LINK))
    except OSError as err:
        sock.close()
        raise FabricError(f"cannot watch port status (netlink): {err.strerror}") from None
    return sock


def link_states(data: bytes) -> list[tuple[int, bool]]:
    """(ifindex, up) of every link message in a netlink datagram; up = administratively up
    with carrier (a veth whose peer went down has lost carrier)."""
    states, offset = [], 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind = _NLMSGHDR.unpack_from(data, offset)[:2]
        if length < _NLMSGHDR.size:
            break
        body = offset + _NLMSGHDR.size
        if kind in (RTM_NEWLINK, RTM_DELLINK) and body + _IFINFOMSG.size <= len(data):
            _, _, index, flags, _ = _IFINFOMSG.unpack_from(data, body)
            up = kind == RTM_NEWLINK and bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)
            states.append((index, up))
        offset += (length + 3) & ~3
    return states


_libc = ctypes.CDLL(None, use_errno=True)
_libc.timerfd_create.argtypes = (ctypes.c_int, ctypes.c_int)
# struct itimerspec as four longs (interval sec, nsec; value sec, nsec), passed by address:
# no Structure built per call (a timer is armed about once per frame-hop on a modelled link)
_libc.timerfd_settime.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


class DeadlineTimer:
    """A timerfd armed at an absolute ``time.monotonic_ns()`` instant, for an epoll loop.

    It becomes readable at that instant with the kernel's hrtimer precision (microseconds),
    with no busy waiting. Python < 3.13 has no ``os.timerfd_*``, hence ctypes.

    The switch loop registers it edge-triggered (EPOLLET) and calls ``fired()`` on its event
    instead of reading the expiry count (``clear()``): epoll reports each expiry once, and
    the next ``arm`` resets the count, so a fired timer costs no read syscall.
    """

    def __init__(self) -> None:
        fd = _libc.timerfd_create(CLOCK_MONOTONIC, os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise FabricError(f"cannot create a timer: {os.strerror(ctypes.get_errno())}")
        self.fd = fd
        self.armed_ns: int | None = None  # None: disarmed, or fired
        self._spec = (ctypes.c_long * 4)()
        self._spec_address = ctypes.addressof(self._spec)

    def arm(self, when_ns: int) -> None:
        """Fire at ``when_ns`` (monotonic, > 0) instead of any earlier setting."""
        if when_ns != self.armed_ns:
            self._set(when_ns)
            self.armed_ns = when_ns

    def disarm(self) -> None:
        if self.armed_ns is not None:
            self._set(0)  # an it_value of zero disarms
            self.armed_ns = None

    def fired(self) -> None:
        """The timer fired (an edge-triggered event): a one-shot timer is disarmed by that."""
        self.armed_ns = None

    def clear(self) -> None:
        """Consume an expiry (a level-triggered epoll reports the fd until then)."""
        try:
            os.read(self.fd, 8)
        except BlockingIOError:
            pass
        self.armed_ns = None

    def _set(self, when_ns: int) -> None:
        spec = self._spec
        spec[2], spec[3] = divmod(when_ns, 1_000_000_000)
        if _libc.timerfd_settime(self.fd, TFD_TIMER_ABSTIME, self._spec_address, None) < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class SwitchProcess:
    """One switch's event loop; see the module docstring for the API other threads use."""

    def __init__(self, core: Any, interfaces: dict[int, str], tm: TrafficManager, *,
                 device_id: int = 0, cpu_port: int | None = None, drop_port: int = 511,
                 pcap_dir: str | None = None, packet_log: bool = False,
                 port_signal: bool = True, rings: bool = True,
                 logger: logging.Logger = log):
        """``port_signal=False``: carrier changes still reach the controller, but the data
        plane is not told (controller-only reroute, for comparison). ``rings=False``: plain
        socket I/O even where PACKET_MMAP rings work (for comparison). ``logger``: where this
        switch's lines go (one per switch when several share a process)."""
        self.core = core
        self.log = logger
        self.interfaces = dict(interfaces)
        self.tm = tm
        self.device_id = device_id
        self.cpu_port = cpu_port
        self.drop_port = drop_port
        self.counters = Counters()
        self.lock = threading.RLock()
        self._packet_log = packet_log
        self._packet_in: list[Callable[[bytes], None]] = []
        self._digest: list[Callable[[], None]] = []
        self._port_status: list[Callable[[int, bool], None]] = []
        self.port_signal = PortSignal(port_signal)
        self._ifindex_port: dict[int, int] = {}
        self._links: socket.socket | None = None
        self._injected: deque[bytes] = deque()
        self._calls: deque[tuple[Callable[[], None], threading.Event]] = deque()
        self._readers: dict[int, Callable[[], None]] = {}
        self._tx_errors_seen: set[tuple[int, int]] = set()
        self._warned_priority = False
        self._stop = False
        self._loop_thread: int | None = None
        self._t0 = time.monotonic_ns()
        self._last_housekeeping_ns = 0  # now_ns() of the last housekeeping
        self._socks: dict[int, socket.socket] = {}
        self._rings: dict[int, PacketRing] = {}
        self._fd_port: dict[int, int] = {}
        self._capture: PortCapture | None = None
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._epoll = select.epoll()
        self._timer = DeadlineTimer()
        self._epoll.register(self._timer.fd, select.EPOLLIN | select.EPOLLET)
        try:
            for port, ifname in self.interfaces.items():
                sock = open_port_socket(ifname)
                self._socks[port] = sock
                ring = open_port_ring(port, ifname, sock, self.log) if rings else None
                if ring is not None:
                    self._rings[port] = ring
                self._fd_port[sock.fileno()] = port
                self._epoll.register(sock.fileno(), select.EPOLLIN)
                tm.port(port)  # so switch-cli shows every port from the start
            if pcap_dir is not None:
                self._capture = PortCapture(pcap_dir, self.interfaces)
            self._epoll.register(self._wake_r, select.EPOLLIN)
            if self.interfaces:
                self._watch_links()
                if core is not None:
                    self.port_signal.write(core)  # ports that start without carrier
        except BaseException:
            self.close()
            raise

    # -- API for other threads --

    def now_ns(self) -> int:
        """Nanoseconds since the switch started (v1model timestamps are this / 1000)."""
        return time.monotonic_ns() - self._t0

    def inject_packet_out(self, data: bytes) -> None:
        self._injected.append(bytes(data))
        self._wake()

    def add_packet_in_listener(self, fn: Callable[[bytes], None]) -> None:
        self._packet_in.append(fn)

    def add_digest_listener(self, fn: Callable[[], None]) -> None:
        self._digest.append(fn)

    def add_port_status_listener(self, fn: Callable[[int, bool], None]) -> None:
        self._port_status.append(fn)

    def set_core(self, core: Any) -> None:
        def install() -> None:
            with self.lock:
                self.core = core
                self.port_signal.write(core)  # a new program starts knowing the dead ports
            self.tm.clear_queues()
        self.call_in_loop(install)

    def call_in_loop(self, fn: Callable[[], None], timeout: float = 10.0) -> None:
        """Run ``fn`` in the loop thread (directly if the loop is not running) and wait."""
        if self._loop_thread in (None, threading.get_ident()):
            fn()
            return
        done = threading.Event()
        self._calls.append((fn, done))
        self._wake()
        if not done.wait(timeout):
            raise FabricError("switch event loop did not answer")

    def add_reader(self, fileobj: Any, on_readable: Callable[[], None]) -> None:
        """Have the loop call ``on_readable()`` when ``fileobj`` is readable (admin socket)."""
        fd = fileobj.fileno()
        self._readers[fd] = on_readable
        self._epoll.register(fd, select.EPOLLIN)

    def stop(self) -> None:
        """Ask the loop to return; safe from signal handlers and other threads."""
        self._stop = True
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # the pipe is full, so the loop is awake anyway

    # -- the loop --

    def run(self) -> None:
        """Forward frames until ``stop()``; the caller then calls ``close()``."""
        self._loop_thread = threading.get_ident()
        try:
            self._run()
        finally:
            self._loop_thread = None
            self._serve_pending_calls()

    def _run(self) -> None:
        timeout = self._poll_timeout_s(self.tm.next_deadline_ns(), self.now_ns())
        while not self._stop:
            timeout = self.step(timeout)

    def fileno(self) -> int:
        """The loop's epoll fd: readable when this switch has work (a frame, its timer, a
        wake-up), so one thread can drive several switches (``run_switches``)."""
        return self._epoll.fileno()

    def step(self, timeout_s: float) -> float:
        """One turn of the loop: wait up to ``timeout_s`` for work and do it; arms the timer
        for what is due next and returns how long the next turn may wait.

        At moderate rates every frame arrives alone and pays a whole turn (and on a modelled
        link a second one, its delivery), so the turn's own work is kept to what is due:
        the TM is polled only when its next deadline has come."""
        events = self._epoll.poll(timeout_s)
        fd_port = self._fd_port
        for fd, mask in events:
            port = fd_port.get(fd)
            if port is not None:
                self._receive(port, self._socks[port], mask)
            elif fd == self._timer.fd:
                self._timer.fired()
            elif fd == self._wake_r:
                self._drain_wake()
            elif self._links is not None and fd == self._links.fileno():
                self._read_links()
            else:
                self._readers[fd]()
        tm = self.tm
        now = time.monotonic_ns() - self._t0
        deadline = tm.next_deadline_ns()
        if deadline is not None and deadline <= now:
            self._service(now)
            deadline = tm.next_deadline_ns()
        else:
            tm.last_poll_ns = now  # what a poll with nothing to do leaves
        if self._digest and self.core is not None and self.core.digests:
            for fn in self._digest:
                fn()
        if not events or now - self._last_housekeeping_ns > 1_000_000_000:
            self._housekeeping()
            self._last_housekeeping_ns = now
        return self._poll_timeout_s(deadline, now)

    def _serve_pending_calls(self) -> None:
        while self._calls:  # nobody will serve these: let their callers go
            fn, done = self._calls.popleft()
            fn()
            done.set()

    def _housekeeping(self) -> None:
        """Now and then (at most once a second when busy): flush pcaps, read kernel drops."""
        if self._capture is not None:
            self._capture.flush()
        for sock in self._socks.values():
            try:
                stats = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
            except OSError:
                continue
            self.counters.rx_overruns += struct.unpack("II", stats)[1]  # reading resets them

    def _watch_links(self) -> None:
        """Subscribe to our interfaces' link changes and take their present state."""
        self._links = open_link_monitor()
        self._epoll.register(self._links.fileno(), select.EPOLLIN)
        for port, ifname in self.interfaces.items():
            index = socket.if_nametoindex(ifname)
            self._ifindex_port[index] = port
            try:
                with open(f"/sys/class/net/{ifname}/operstate") as f:
                    up = f.read().strip() in ("up", "unknown")
            except OSError:
                up = True
            if not up:
                self.port_signal.update(port, False)

    def _read_links(self) -> None:
        while True:
            try:
                data = self._links.recv(65536)
            except BlockingIOError:
                return
            except OSError as err:  # ENOBUFS: events were lost; the next one corrects the state
                self.log.warning("port status: netlink receive failed: %s", err)
                return
            for index, up in link_states(data):
                port = self._ifindex_port.get(index)
                if port is not None:
                    self.port_status(port, up)

    def port_status(self, port: int, up: bool) -> None:
        """A port's carrier changed (loop thread): data plane first, then the listeners."""
        if not self.port_signal.update(port, up):
            return
        self.counters.port_events += 1
        with self.lock:
            self.port_signal.write(self.core)
        self.log.warning("port %d (%s): carrier %s", port, self.interfaces.get(port, "?"),
                         "up" if up else "down")
        for fn in self._port_status:
            fn(port, up)

    def _poll_timeout_s(self, deadline: int | None, now_ns: int) -> float:
        """Arm the timer for the TM's next ``deadline`` (from ``next_deadline_ns``, read at
        ``now_ns``); epoll's own timeout is only the idle wake-up (or zero when the deadline
        has passed already; one that passes while we arm fires at once). The timer keeps
        its setting when the deadline did not move (no syscall), and a fired timer is
        disarmed already."""
        if deadline is None:
            self._timer.disarm()
        elif deadline <= now_ns:
            return 0.0
        else:
            self._timer.arm(self._t0 + deadline)
        return IDLE_WAKE_S

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        while self._calls:
            fn, done = self._calls.popleft()
            try:
                fn()
            finally:
                done.set()
        while self._injected:
            data = self._injected.popleft()
            self.counters.from_cpu += 1
            if self.cpu_port is not None:
                with self.lock:
                    self._forward(self.cpu_port, data, self.now_ns())

    def _receive(self, port: int, sock: socket.socket, mask: int = select.EPOLLIN) -> None:
        ring = self._rings.get(port)
        if ring is None:
            self._receive_plain(port, sock)
            return
        if mask & select.EPOLLERR:  # e.g. ENETDOWN: reading it clears it (else epoll spins)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.log.warning("port %d (%s): receive failed: %s", port, self.interfaces[port],
                                 os.strerror(err))
        truncated, holes, partial = ring.truncated, ring.holes, ring.partial
        self._accept(port, ring.receive(RECV_BATCH))
        if ring.partial != partial:
            self._partial_checksum(port, ring.partial - partial)
        if ring.truncated != truncated:
            self._truncated(port, ring.truncated - truncated)
        if ring.holes != holes:
            if not self.counters.ring_holes:
                self.log.warning("port %d (%s): skipped a receive ring slot the kernel never handed "
                                 "over (overload); further ones are only counted", port,
                                 self.interfaces[port])
            self.counters.ring_holes += ring.holes - holes

    def _accept(self, port: int, frames: list[bytes]) -> None:
        """Frames read from one port, as they were on the wire. Each one is forwarded at its
        own clock reading, the TM serviced before the next (queues build from congestion,
        never from our read batching); the lock is taken once for the batch (P4Runtime waits
        at most a batch)."""
        if not frames:
            return
        self.counters.rx += len(frames)
        forward, clock, t0 = self._forward, time.monotonic_ns, self._t0
        capture = self._capture.inbound[port] if self._capture is not None else None
        with self.lock:
            for data in frames:
                if capture is not None:
                    capture.write(data)
                forward(port, data, clock() - t0)

    def _forward(self, port: int, data: bytes, now_ns: int) -> None:
        """A received frame through ingress and the TM (the caller holds the lock).

        The usual case, one packet out of ingress into a TM with nothing to do, takes the
        TM's fast path: ``cut_through`` gives the QueueInfo that enqueue + poll would, and
        egress and the send follow at once, with no queue or heap work. Anything else
        (several packets, a queue with packets, rates and pauses having a say) is
        enqueued and serviced as before."""
        tm = self.tm
        if data[12:14] == b"\x88\x08" and tm.receive_mac_control(port, data, now_ns):
            return  # PFC pauses stop at the MAC
        core = self.core
        if core is None:
            self.counters.no_pipeline += 1
            return
        if self._packet_log:
            self.log.info("port %d: in %d bytes", port, len(data))
        try:
            items = core.ingress(port, data, now_ns // 1000)
        except Exception:  # noqa: BLE001 - a bad packet or program bug must not kill the switch
            self._pipeline_error("ingress", port)
            return
        if len(items) == 1 and items[0].port != self.drop_port:
            item = items[0]
            queue = tm.cut_through(item, now_ns, port)
            if queue is None and tm.only_deliveries_due(now_ns):
                self._service(now_ns)  # a late turn: earlier frames' wires first, then try again
                queue = tm.cut_through(item, now_ns, port)
            if queue is not None:
                # egress of a packet that left its (empty) queue at now_ns, and its send
                try:
                    outputs, items = core.egress(item, now_ns // 1000, queue)
                except Exception:  # noqa: BLE001
                    self._pipeline_error("egress", item.port)
                    return
                waiting = bool(items)
                for out, data in outputs:
                    if out != self.drop_port:
                        if tm.transmit(out, data, now_ns, hand_back=True):
                            self._deliver(out, data)
                        else:
                            waiting = True
                # A frame on a modelled link (it arrives after its serialisation) waits for the
                # turn's deadline: a poll now would find nothing due (1 Gb/s links: every hop).
                if waiting and (items or tm.arrivals_waiting()):
                    for new in items:
                        self._enqueue(new, now_ns)
                    self._service(now_ns)
                return
        for item in items:
            self._enqueue(item, now_ns, port)
        self._service(now_ns)

    def _truncated(self, port: int, count: int) -> None:
        self.counters.truncated += count
        if self.counters.truncated == count:
            self.log.warning("port %d (%s): frames longer than the ring's slots are dropped (the "
                             "MTU raised after the switch started, or offload super-frames: "
                             "`ethtool -K <if> gro off` here, tso/gso off at the sender); further "
                             "ones are only counted", port, self.interfaces[port])

    def _receive_plain(self, port: int, sock: socket.socket) -> None:
        frames, partial = [], 0
        for _ in range(RECV_BATCH):
            try:
                data, ancillary, _, address = sock.recvmsg(MAX_FRAME, _AUX_SPACE)
            except BlockingIOError:
                break
            except OSError as err:  # e.g. ENETDOWN while the interface bounces
                self.log.warning("port %d (%s): receive failed: %s", port, self.interfaces[port], err)
                break
            if address[2] != PACKET_OUTGOING:
                status, tci, tpid = auxdata(ancillary)
                if status & TP_STATUS_CSUMNOTREADY:
                    partial += 1
                frames.append(with_vlan_tag(data, status, tci, tpid))
        if partial:
            self._partial_checksum(port, partial)
        self._accept(port, frames)

    def _partial_checksum(self, port: int, count: int) -> None:
        """A sender with TX checksum offload on (the veth default) hands over UDP/TCP with only
        the pseudo-header sum filled in; a NIC would finish it, a software switch sees it
        unfinished. Like BMv2 we forward the frame as it came (the receiving host then drops
        it: ping works, UDP does not), so count it and say the fix once."""
        self.counters.partial_checksums += count
        if self.counters.partial_checksums == count:
            self.log.warning("port %d (%s): frames arrive with a partial checksum (the sender's TX "
                             "checksum offload is on); receivers will drop them. Fix: `ethtool -K "
                             "<host-if> tx off` on the host interface behind this port "
                             "(fabriclab net's hosts do this already)", port, self.interfaces[port])

    def _enqueue(self, item: Any, now_ns: int, ingress_port: int | None = None) -> None:
        """``ingress_port``: where the packet entered (PFC's ingress accounting)."""
        if item.port == self.drop_port or self.tm.enqueue(item, now_ns, ingress_port):
            return
        queues = self.tm.priority_queues
        if not 0 <= item.qid < queues and not self._warned_priority:
            self._warned_priority = True
            self.log.warning("priority %d out of range (%d queue(s) per port): dropping such packets "
                             "as simple_switch does; start with --priority-queues 8", item.qid, queues)
        elif self._packet_log:
            self.log.info("port %d: queue %d full, dropped %d bytes", item.port, item.qid, item.length)

    def _service(self, now_ns: int) -> None:
        """Move everything that is due: queue -> egress -> wire -> socket."""
        tm = self.tm
        while True:
            departures, deliveries = tm.poll(now_ns)
            for dep in departures:
                self._egress(dep, now_ns)
            for port, data in deliveries:
                self._deliver(port, data)
            if not departures:  # only egress makes new work (transmit); delivering does not
                return

    def _egress(self, dep: Any, now_ns: int) -> None:
        core = self.core
        if core is None:
            return
        try:
            with self.lock:
                outputs, items = core.egress(dep.item, dep.time_ns // 1000, dep.queue)
        except Exception:  # noqa: BLE001
            self._pipeline_error("egress", dep.item.port)
            return
        for port, data in outputs:
            if port != self.drop_port:
                self.tm.transmit(port, data, dep.time_ns)
        for item in items:
            self._enqueue(item, now_ns)

    def _deliver(self, port: int, data: bytes) -> None:
        if self._packet_log:
            self.log.info("port %d: out %d bytes", port, len(data))
        if port == self.cpu_port:
            self.counters.to_cpu += 1
            for fn in self._packet_in:
                fn(data)
            return
        sock = self._socks.get(port)
        if sock is None:
            self.counters.no_port += 1
            return
        try:
            sock.send(data)  # a TX ring costs more per frame (see ring.py)
        except OSError as err:  # e.g. ENOBUFS, ENETDOWN, EMSGSIZE: lost, as on a wire
            self._tx_error(port, err.errno, err.strerror)
            return
        self.counters.tx += 1
        if self._capture is not None:
            self._capture.outbound[port].write(data)

    def _tx_error(self, port: int, errno: int, reason: str) -> None:
        self.counters.tx_errors += 1
        if (port, errno) not in self._tx_errors_seen or self._packet_log:
            self._tx_errors_seen.add((port, errno))
            self.log.warning("port %d (%s): send failed: %s (further ones are only counted)",
                             port, self.interfaces[port], reason)

    def _pipeline_error(self, stage: str, port: int) -> None:
        self.counters.pipeline_errors += 1
        if self.counters.pipeline_errors <= 10 or self._packet_log:
            self.log.exception("%s pipeline failed on a packet of port %d (dropped)", stage, port)

    # -- shutdown --

    def close(self) -> None:
        """Close sockets and flush/close pcaps; idempotent, for every exit path."""
        self._housekeeping()
        for ring in self._rings.values():
            ring.close()
        self._rings.clear()
        for sock in self._socks.values():
            sock.close()
        self._socks.clear()
        self._fd_port.clear()
        if self._links is not None:
            self._links.close()
            self._links = None
        if self._capture is not None:
            self._capture.close()
        if self._wake_r >= 0:
            self._epoll.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._wake_r = self._wake_w = -1
            self._timer.close()


def run_switches(switches: list[SwitchProcess],
                 on_stop: Callable[[SwitchProcess], None] | None = None) -> None:
    """Drive several switches from this thread and one epoll: the virtual-time fabric's
    layout in real time, and `fabriclab switch --group`'s (docs/speed.md measures it against
    a process per switch). Each switch keeps its own ports, timer and traffic manager.

    Without ``on_stop`` it returns as soon as one switch is stopped. With it, a stopped
    switch leaves the loop and goes to ``on_stop`` (called in this thread; the caller
    closes it) while the others go on, and it returns once none is left."""
    outer = select.epoll()
    running: dict[int, SwitchProcess] = {}
    try:
        for switch in switches:
            switch._loop_thread = threading.get_ident()
            outer.register(switch.fileno(), select.EPOLLIN)
            running[switch.fileno()] = switch
        waits = {switch: switch._poll_timeout_s(switch.tm.next_deadline_ns(), switch.now_ns())
                 for switch in switches}
        while running:
            stopped = [fd for fd, switch in running.items() if switch._stop]
            if stopped:
                if on_stop is None:
                    return
                for fd in stopped:
                    switch = running.pop(fd)
                    outer.unregister(fd)
                    del waits[switch]
                    _leave_loop(switch)
                    on_stop(switch)
                continue
            ready = {fd for fd, _ in outer.poll(min(waits.values()))}
            for fd, switch in running.items():  # all of them when idle: their housekeeping
                if not ready or fd in ready or waits[switch] == 0.0:
                    waits[switch] = switch.step(0.0)
    finally:
        outer.close()
        for switch in running.values():
            _leave_loop(switch)


def _leave_loop(switch: SwitchProcess) -> None:
    """The loop no longer runs ``switch``: calls from other threads run directly again."""
    switch._loop_thread = None
    switch._serve_pending_calls()
