"""Traffic manager invariants over random traffic (hypothesis): nothing is lost or invented,
queues stay FIFO, the link never beats its rate and depths stay within the limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from test_tm_queues import MS, Item, run
from fabriclab.switch.tm import TrafficManager

arrivals = st.lists(
    st.tuples(st.integers(0, 20 * MS), st.integers(0, 2), st.integers(60, 1500)),
    max_size=120,
).map(lambda xs: sorted(xs))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(arrivals, st.integers(1, 16), st.sampled_from([1e6, 8e6, 100e6]),
       st.integers(0, 5 * MS))
def test_conservation_fifo_rate_and_depth(events, depth, bps, delay_ns):
    tm = TrafficManager(priority_queues=3, queue_depth=depth)
    tm.set_port_rate(1, bps)
    tm.set_port_delay(1, delay_ns)
    items = [(t, Item(1, prio, length, i)) for i, (t, prio, length) in enumerate(events)]
    out = run(tm, 10**12, items)

    delivered = [tag for _, _, tag, _ in out]
    assert len(delivered) == len(set(delivered))
    assert len(delivered) + tm.port(1).drops == len(items)  # every packet accounted for
    by_tag = {it.tag: it for _, it in items}
    for prio in range(3):  # FIFO within a priority queue
        tags = [tag for tag in delivered if by_tag[tag].qid == prio]
        assert tags == sorted(tags)
    for _, _, _, info in out:
        assert 0 <= info.enq_qdepth < depth and 0 <= info.deq_qdepth < depth
    # The link never carries more than its rate: bytes delivered by any arrival time t fit
    # in the wire time since the first departure.
    if out:
        first = out[0][0] - delay_ns - round(by_tag[out[0][2]].length * 8e9 / bps)
        sent = 0
        for t, _, tag, _ in out:
            sent += by_tag[tag].length
            assert sent * 8e9 / bps <= (t - delay_ns - first) + 1_000 * len(out)
