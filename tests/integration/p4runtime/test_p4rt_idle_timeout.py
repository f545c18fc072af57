"""Idle timeouts over gRPC in real time: the primary's StreamChannel receives an
IdleTimeoutNotification for an entry not hit within its TTL, and again while it stays idle
(as simple_switch_grpc's own test_idle_timeout.cpp, EntryExpire and NotifyAgain). Deadlines
are generous: sweeps run once a second on the switch's clock, on a possibly busy machine.
Exact sweep semantics: tests/unit/p4runtime/test_p4runtime_idle_timeouts.py."""

import time

from finsy.proto import p4r

from p4rt_client import action, exact, pid, update

TTL_NS = 100_000_000
DEADLINE_S = 10.0


def test_the_primary_is_notified_of_an_idle_entry_and_again_while_it_stays_idle(primary, compiled):
    info = compiled.p4info
    entry = p4r.TableEntry(table_id=pid(info, "tables", "smac"), match=[exact(1, b"\x0a")],
                           action=action(info, "NoAction"), idle_timeout_ns=TTL_NS)
    primary.write(update("INSERT", table_entry=entry))
    written = time.monotonic()
    first = primary.next("idle_timeout_notification", timeout=DEADLINE_S)
    assert list(first.table_entry) == [p4r.TableEntry(table_id=entry.table_id, match=entry.match,
                                                      idle_timeout_ns=TTL_NS)]
    assert abs(first.timestamp - time.time_ns()) < 60 * 10**9  # ns since the epoch
    second = primary.next("idle_timeout_notification", timeout=DEADLINE_S)
    assert list(second.table_entry) == list(first.table_entry) and second.timestamp > first.timestamp
    [got] = primary.read(p4r.Entity(table_entry=p4r.TableEntry(
        table_id=entry.table_id, time_since_last_hit=p4r.TableEntry.IdleTimeout())))
    elapsed = got.table_entry.time_since_last_hit.elapsed_ns
    assert got.table_entry.idle_timeout_ns == TTL_NS
    assert TTL_NS <= elapsed <= (time.monotonic() - written) * 1e9 + 1e9
