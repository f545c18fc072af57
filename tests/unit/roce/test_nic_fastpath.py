"""The NIC's per-packet shortcuts answer as the full scans would: `next_wakeup` right after
`poll` is the value poll's last pass noted (a packet, a post or a pause forgets it), the
count of queued ACK/NAK/CNPs that lets poll skip their scan matches the queues, and a
connection a request packet left out of poll's scans has nothing to do."""

import random

import pytest

from fabriclab.roce.dcqcn import DcqcnParams
from fabriclab.roce.hpcc import HpccParams
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig

LINE = 1e9
STEP = 700  # ns between polls: below a packet's time at line rate, so pacers hold some polls


def fresh_wakeup(nic: RoceNic) -> int | None:
    """next_wakeup from a full scan (the noted value dropped)."""
    nic._wakeup = None
    return nic.next_wakeup()


def check(nic: RoceNic) -> None:
    assert nic._control == sum(len(c.control) for c in nic._conns.values())
    for conn in nic._conns.values():  # a connection left out of poll's scans has nothing to do
        if conn.pos not in nic._active_set:
            qp, rp = conn.qp, conn.rp
            assert not (conn.control or qp.completions or qp.deadline() is not None or qp.can_send()
                        or (rp is not None and rp.deadline() is not None))
    noted = nic.next_wakeup()
    assert noted == fresh_wakeup(nic)


@pytest.mark.parametrize("cc,mode,loss", [("none", "gbn", 0.03), ("dcqcn", "gbn", 0.03), ("dcqcn", "ooo", 0.03),
                                          ("hpcc", "ooo", 0.03), ("hpcc", "gbn", 0.03)])
def test_noted_wakeup_and_control_count_match_full_scans(cc, mode, loss):
    """Three QPs each way, lossy and CE-marking links, posts at random times: after every poll,
    receive and post the shortcuts agree with the scans, and every transfer completes."""
    rng = random.Random(f"{cc}-{mode}")
    qp = QpConfig(pmtu=256, window=16, ack_every=4, rto_ns=200_000, mode=mode)
    cfg = dict(line_rate=LINE, qp=qp, dcqcn=DcqcnParams.scaled(LINE, 20_000) if cc == "dcqcn" else None,
               hpcc=HpccParams(LINE, 20_000) if cc == "hpcc" else None, cc=cc)
    a, b = RoceNic(NicConfig("10.0.0.1", **cfg)), RoceNic(NicConfig("10.0.0.2", **cfg))
    for i in range(3):
        b.register(i, 1 << 16)
        a.connect(0x10 + i, b.cfg.ip, 0x20 + i)
        b.connect(0x20 + i, a.cfg.ip, 0x10 + i)
    posted = 0
    now = 0
    while now < 40_000_000 and (posted < 12 or any(a.qp(0x10 + i).busy for i in range(3))):
        if posted < 12 and rng.random() < 0.01:
            a.qp(0x10 + posted % 3).post_write(posted, bytes([posted]) * rng.randint(1, 3000),
                                               va=(posted // 3) * 4096, rkey=posted % 3)
            posted += 1
            check(a)
        for src, dst in ((a, b), (b, a)):
            out = src.poll(now)
            check(src)
            for dg in out:
                if rng.random() < loss:
                    continue  # lost
                dst.receive(dg.payload, src.cfg.ip, dg.sport, rng.random() < 0.2, now)
                check(dst)
        now += STEP
    assert posted == 12
    assert sorted(c.wr_id for _, c in a.completions) == list(range(12))
    assert a.qp_counters()["retransmissions"] > 0 or not loss  # the loss was recovered from, not avoided
    if cc == "dcqcn":
        assert a.dcqcn_summary()["cnps_received"] > 0
