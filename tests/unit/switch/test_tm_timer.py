"""The switch loop's DeadlineTimer (a real timerfd in a real epoll): it fires at its absolute
deadline and never before, re-arming replaces the deadline, disarm and clear silence it."""

from __future__ import annotations

import select
import time

import pytest

from fabriclab.switch.process import DeadlineTimer

MS = 1_000_000


@pytest.fixture
def timer():
    t = DeadlineTimer()
    poller = select.epoll()
    poller.register(t.fd, select.EPOLLIN)
    try:
        yield t, poller
    finally:
        poller.close()
        t.close()


def test_fires_at_the_deadline_and_never_before(timer):
    t, poller = timer
    deadline = time.monotonic_ns() + 3 * MS
    t.arm(deadline)
    assert poller.poll(5.0) == [(t.fd, select.EPOLLIN)]
    woke = time.monotonic_ns()
    assert woke >= deadline
    print(f"\ntimerfd wake-up {(woke - deadline) / 1000:.0f} us after a 3 ms deadline")
    t.clear()
    assert poller.poll(0) == [] and t.armed_ns is None


def test_re_arming_replaces_the_deadline(timer):
    t, poller = timer
    now = time.monotonic_ns()
    t.arm(now + 3600_000 * MS)  # an hour away
    t.arm(now + 1 * MS)
    assert poller.poll(5.0) == [(t.fd, select.EPOLLIN)]  # the hour was forgotten
    assert time.monotonic_ns() >= now + 1 * MS


def test_a_disarmed_timer_stays_silent(timer):
    t, poller = timer
    t.arm(time.monotonic_ns() + 1 * MS)
    t.disarm()
    assert t.armed_ns is None
    assert poller.poll(0.02) == []


def test_an_already_passed_deadline_fires_at_once(timer):
    t, poller = timer
    t.arm(time.monotonic_ns() - 5 * MS)
    assert poller.poll(5.0) == [(t.fd, select.EPOLLIN)]


def test_edge_triggered_it_fires_once_per_arming_with_no_read():
    """The switch loop's way: EPOLLET and ``fired()`` instead of reading the expiry count."""
    t, poller = DeadlineTimer(), select.epoll()
    try:
        poller.register(t.fd, select.EPOLLIN | select.EPOLLET)
        deadline = time.monotonic_ns() + 2 * MS
        t.arm(deadline)
        assert poller.poll(5.0) == [(t.fd, select.EPOLLIN)]
        assert time.monotonic_ns() >= deadline
        t.fired()
        assert t.armed_ns is None
        assert poller.poll(0.02) == []  # unread, yet not reported again
        t.disarm()  # fired: nothing to disarm
        deadline = time.monotonic_ns() + 2 * MS
        t.arm(deadline)  # re-arming resets the unread count: a new edge at the new deadline
        assert poller.poll(0) == []
        assert poller.poll(5.0) == [(t.fd, select.EPOLLIN)]
        assert time.monotonic_ns() >= deadline
        t.fired()
        t.arm(time.monotonic_ns() + 1 * MS)
        time.sleep(0.005)  # it expires while the loop is busy: an edge not yet polled...
        t.arm(time.monotonic_ns() + 3600_000 * MS)
        assert poller.poll(0.02) == []  # ...that re-arming takes back
    finally:
        poller.close()
        t.close()
