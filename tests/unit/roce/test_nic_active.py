"""A NIC with many idle queue pairs: work posted on any of them, at any time and through any
reference, still goes out (poll and next_wakeup look only at connections with work)."""

from fabriclab.roce.nic import NicConfig, RoceNic

QPS = 40
STEP = 1_000  # ns between polls


def pump(a: RoceNic, b: RoceNic, now: int, until: int) -> int:
    """Poll both NICs every STEP ns, handing each one's datagrams to the other."""
    while now < until:
        for src, dst in ((a, b), (b, a)):
            for dg in src.poll(now):
                dst.receive(dg.payload, src.cfg.ip, dg.sport, False, now)
        now += STEP
    return now


def test_posts_on_idle_queue_pairs_are_sent_and_an_idle_nic_sleeps():
    a, b = RoceNic(NicConfig("10.0.0.1", line_rate=1e9)), RoceNic(NicConfig("10.0.0.2", line_rate=1e9))
    held = {}
    for i in range(QPS):
        b.register(i, 4096)
        held[i] = a.connect(0x100 + i, "10.0.0.2", 0x200 + i)
        b.connect(0x200 + i, "10.0.0.1", 0x100 + i)
    now = pump(a, b, 0, 20 * STEP)
    assert a.next_wakeup() is None and b.next_wakeup() is None  # nothing to do anywhere
    held[7].post_write(1, b"seven" * 100, va=0, rkey=7)  # the reference connect returned
    a.qp(0x100 + 31).post_send(2, b"late")  # and one looked up by QPN
    assert a.next_wakeup() is not None
    pump(a, b, now, now + 200 * STEP)
    assert bytes(b.regions[7][:500]) == b"seven" * 100
    assert [(qpn, c.wr_id) for qpn, c in a.completions] == [(0x107, 1), (0x11F, 2)]
    assert [c.data for _, c in b.completions if c.kind == "recv"] == [b"late"]
    assert a.next_wakeup() is None and not a.qp(0x107).busy
