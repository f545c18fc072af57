"""A finished host keeps answering (UDP on 127.0.0.1, no root): the hang of issue 24's
capacity bench, where a rank that was done closed its sockets while its ACK of a peer's last
packet was lost or still paced, and the peer resent into a closed port until its timeout."""

from __future__ import annotations

import os
import socket
import threading

from fabriclab.launch.udp import UdpDriver, drive, linger
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig

LO = "127.0.0.1"
RKEY = 7


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LO, 0))
        return s.getsockname()[1]


class DropFirst:
    """A QP's sending socket that loses its first datagram (the responder's only ACK)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.dropped = sock, 0

    def sendto(self, data: bytes, addr: tuple[str, int]) -> int:
        if not self.dropped:
            self.dropped += 1
            return len(data)
        return self.sock.sendto(data, addr)

    def close(self) -> None:
        self.sock.close()


def test_a_done_responder_answers_the_retransmission_of_its_lost_last_ack():
    cfg = QpConfig(rto_ns=5_000_000)
    req = RoceNic(NicConfig(LO, free_port(), 100e6, cfg))
    resp = RoceNic(NicConfig(LO, free_port(), 100e6, cfg))
    resp.register(RKEY, 4096)
    qp = req.connect(0x11, LO, 0x22, resp.cfg.port, sport=free_port())
    resp.connect(0x22, LO, 0x11, req.cfg.port, sport=free_port())
    launcher, go_on = os.pipe()
    with UdpDriver(req) as a, UdpDriver(resp) as b:
        a.open_qp_sockets()
        b.open_qp_sockets()
        port = resp.sports[0x22]
        lossy = b._tx[port] = DropFirst(b._tx[port])  # type: ignore[assignment]

        def responder() -> None:  # done on the write's arrival, as a rank with all its data in
            assert drive([b], None, lambda: bool(resp.completions), 5)
            linger([b], launcher, 10)

        thread = threading.Thread(target=responder)
        thread.start()
        try:
            qp.post_write(1, b"x" * 1000, va=0, rkey=RKEY, imm=5)
            finished = drive([a], None, lambda: any(c.kind == "write" for _, c in req.completions), 5)
        finally:
            os.write(go_on, b"next job\n")  # the launcher moves on: the linger ends
            thread.join(10)
            os.close(launcher)
            os.close(go_on)
    assert not thread.is_alive()
    assert finished, "the requester never got the ACK its lost one was resent for"
    assert lossy.dropped == 1 and qp.counters.timeouts >= 1
    assert resp.qp(0x22).counters.duplicates >= 1  # the resend reached the lingering responder
