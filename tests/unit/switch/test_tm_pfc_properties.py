"""PFC invariants over random traffic (hypothesis): every packet is delivered or counted,
lossless classes lose packets only beyond their headroom, the ingress accounting returns to
zero, every pause is eventually lifted, and pauses alternate XOFF (refreshed) then XON."""

from __future__ import annotations

from hypothesis import event, given, settings
from hypothesis import strategies as st

from test_tm_pfc import MS, Item, pauses, run_until
from fabriclab.switch.tm import TrafficManager

# Bursts: (time, ingress, egress, priority, length, count), so queues build and drain.
bursts = st.lists(
    st.tuples(st.integers(0, 20 * MS), st.integers(1, 3), st.integers(2, 3),
              st.sampled_from([0, 2]), st.integers(64, 1500), st.integers(1, 12)),
    max_size=12,
)
arrivals = bursts.map(lambda bs: sorted(
    (t + i, ingress, egress, prio, length) for t, ingress, egress, prio, length, count in bs
    for i in range(count)))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(arrivals, st.integers(1, 8), st.integers(1500, 4000), st.integers(0, 3000),
       st.integers(0, 4000))
def test_accounting_conservation_and_pause_pairs(events, depth, xoff, xon_below, headroom):
    xon = max(0, xoff - 1500 - xon_below)
    tm = TrafficManager(priority_queues=3, queue_depth=depth)
    for port in (1, 2, 3):
        tm.set_port_rate(port, 8e6)
        tm.enable_pfc(port, 2, xoff, xon, headroom, quanta=50)  # priority 2 lossless everywhere
    offered = {2: 0, 0: 0}
    now = 0
    delivered = []
    for n, (t, ingress, egress, prio, length) in enumerate(events):
        delivered += run_until(tm, t - 1, now) if t > now else []
        now = max(now, t)
        tm.enqueue(Item(egress, prio, length, n), now, ingress_port=ingress)
        offered[prio] += 1
    delivered += run_until(tm, 10**12, now)

    data = [d for _, _, d in delivered if d[12:14] != b"\x88\x08"]
    stats = tm.pfc_stats(10**12)
    headroom_drops = sum(c["headroom_drops"] for port in stats.values() for c in port.values())
    queue_drops = {prio: sum(tm.port(p).queues[prio].drops for p in tm.ports) for prio in (0, 2)}
    got = {prio: sum(1 for d in data if d[4] == prio) for prio in (0, 2)}
    event(f"pauses sent: {sum(c['pauses_sent'] > 0 for port in stats.values() for c in port.values())}")
    event(f"headroom drops: {bool(headroom_drops)}, lossy drops: {bool(queue_drops[0])}")
    assert queue_drops[2] == 0  # lossless: no tail drop
    assert got[2] + headroom_drops == offered[2]
    assert got[0] + queue_drops[0] == offered[0]
    for port, classes in stats.items():
        c = classes[2]
        assert c["ingress_bytes"] == 0 and not c["pausing"]
        assert c["peak_bytes"] <= xoff + headroom
        quanta = [classes[2] for _, p, classes in pauses(delivered) if p == port]
        assert len(quanta) == c["pauses_sent"] + c["xons_sent"]
        assert c["xons_sent"] == quanta.count(0)
        if quanta:  # XOFF (refreshed while needed) ... XON: it ends lifted, never XON twice
            assert quanta[0] == 50 and quanta[-1] == 0
            assert all(a or b for a, b in zip(quanta, quanta[1:]))
