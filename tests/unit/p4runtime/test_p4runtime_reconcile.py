"""reconcile.py without gRPC: what RECONCILE_AND_COMMIT reads, in which order, and how a failed replay reads."""

from __future__ import annotations

import pytest
from finsy.proto import p4i, p4r

from fabriclab.switch.p4runtime import reconcile
from fabriclab.switch.p4runtime.indexed_externs import MAX_WILDCARD_CELLS
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, OK, UNKNOWN, P4RuntimeError

SMALL, HUGE, METER, TABLE = 0x12000001, 0x12000002, 0x15000001, 0x02000001
MANUAL, ONE_SHOT = 0x11000001, 0x11000002  # action profiles: with a member; with one-shot sets


def index() -> P4InfoIndex:
    info = p4i.P4Info(
        counters=[p4i.Counter(preamble=p4i.Preamble(id=SMALL, name="c.small"), size=4),
                  p4i.Counter(preamble=p4i.Preamble(id=HUGE, name="c.huge"), size=MAX_WILDCARD_CELLS + 2)],
        meters=[p4i.Meter(preamble=p4i.Preamble(id=METER, name="m"), size=2)],
        tables=[p4i.Table(preamble=p4i.Preamble(id=TABLE, name="t"))],
        action_profiles=[p4i.ActionProfile(preamble=p4i.Preamble(id=MANUAL, name="p.manual")),
                         p4i.ActionProfile(preamble=p4i.Preamble(id=ONE_SHOT, name="p.one_shot"))])
    return P4InfoIndex(info)


def fake_read(query: p4r.Entity) -> list[p4r.Entity]:
    """A running pipeline: one entry and one const entry, one counting cell per array, one
    configured meter, a member in one profile and one-shot sets in the other (whose reads PI
    refuses)."""
    which = query.WhichOneof("entity")
    if which in ("action_profile_member", "action_profile_group"):
        profile = getattr(query, which).action_profile_id
        if profile == ONE_SHOT:
            raise P4RuntimeError(INVALID_ARGUMENT, "one-shot action sets program this profile")
        if which == "action_profile_member":
            return [p4r.Entity(action_profile_member=p4r.ActionProfileMember(action_profile_id=profile, member_id=1))]
    if which == "table_entry":
        return [p4r.Entity(table_entry=p4r.TableEntry(table_id=TABLE, priority=1)),
                p4r.Entity(table_entry=p4r.TableEntry(table_id=TABLE, priority=2, is_const=True))]
    if which == "counter_entry":
        q = query.counter_entry
        cells = [q.index.index] if q.HasField("index") else range(4)
        return [p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=q.counter_id, index=p4r.Index(index=i),
                                                          data=p4r.CounterData(packet_count=int(i == 1))))
                for i in cells]
    if which == "meter_entry":
        return [p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=METER, index=p4r.Index(index=0))),
                p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=METER, index=p4r.Index(index=1),
                                                      config=p4r.MeterConfig(cir=1, pir=1)))]
    return []


def test_state_is_read_in_pi_order_and_keeps_only_what_the_new_pipeline_lacks():
    queries: list[p4r.Entity] = []
    updates = reconcile.forwarding_state(index(), lambda q: queries.append(q) or fake_read(q))
    kinds = [q.WhichOneof("entity") for q in queries]
    # PI's save_forwarding_state order (members, groups, entries, meters, counters), then the
    # PRE; profile by profile, as PI's wildcard read refuses one that one-shot sets program
    assert kinds[:7] == ["action_profile_member"] * 2 + ["action_profile_group"] * 2 + [
        "table_entry", "meter_entry", "counter_entry"]
    assert kinds[-2:] == ["packet_replication_engine_entry"] * 2
    counter_queries = [q.counter_entry for q in queries if q.HasField("counter_entry")]
    assert not counter_queries[0].HasField("index")  # one wildcard for a small array
    assert [q.index.index for q in counter_queries[1:]] == list(range(MAX_WILDCARD_CELLS + 2))  # cell by cell
    carried = [(u.type, u.entity.WhichOneof("entity")) for u in updates]
    assert carried == [(p4r.Update.INSERT, "action_profile_member"),  # none from the one-shot profile
                       (p4r.Update.INSERT, "table_entry"),  # not the const entry: the program brings it
                       (p4r.Update.MODIFY, "meter_entry"),  # only the configured cell
                       (p4r.Update.MODIFY, "counter_entry"), (p4r.Update.MODIFY, "counter_entry")]  # cell 1 of each
    assert updates[2].entity.meter_entry.index.index == 1


def test_replay_writes_everything_then_answers_unknown_naming_the_first_failure():
    updates = reconcile.forwarding_state(index(), fake_read)
    written: list[p4r.Update] = []

    def write(update: p4r.Update) -> p4r.Error:
        written.append(update)
        if update.entity.HasField("counter_entry"):
            return P4RuntimeError(INVALID_ARGUMENT, "invalid P4 id").to_error()
        return p4r.Error(canonical_code=OK)

    with pytest.raises(P4RuntimeError) as err:
        reconcile.replay(index(), updates, write)
    assert written == updates  # CONTINUE_ON_ERROR, as PI's one Write batch
    assert err.value.code == UNKNOWN
    assert "2 of 5" in err.value.message and "counter_entry of 'c.small': invalid P4 id" in err.value.message
    reconcile.replay(index(), updates, lambda update: p4r.Error(canonical_code=OK))  # all carried over: no error
