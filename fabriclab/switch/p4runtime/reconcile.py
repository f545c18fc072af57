"""RECONCILE_AND_COMMIT (spec 14.1): a new pipeline that keeps the running one's forwarding state.

simple_switch_grpc's PI does it naively, and so do we (p4lang/PI proto/frontend/src/
device_mgr.cpp: DeviceMgrImp::pipeline_config_set and save_forwarding_state): wildcard Reads
of the running pipeline, in an order that puts what entries point at first (action profile
members, groups, table entries, meter cells, counter cells), then one Write batch of the
results into the new pipeline. Entities keep their P4 ids, so they map to the new P4Info by
id, never by name: a table renamed under the same id keeps its entries, and an entity the new
P4Info cannot take (its table, action, parameter or match field gone or changed, an index past
a shrunken array) fails exactly as that Write would. Any failure fails the request with
UNKNOWN, PI's "Error when reconciling config" (the spec says INVALID_ARGUMENT; we answer as
simple_switch_grpc). The device config need not differ: the same program is rebuilt and
refilled.

Not carried over, as on simple_switch_grpc: default entries (a wildcard read skips them: the
new program's defaults apply), direct counter and direct meter data (PI's read does not ask
for them: they restart at zero / unconfigured), registers (PI serves none; BMv2 rebuilds them
with the program), digest configs (PI's DigestMgr starts afresh), idle times (an entry's TTL
is kept, its idle time restarts as at any INSERT).

Where we differ from PI, and why:
- Counter and meter cells are replayed as MODIFY, and only those that hold something (a
  non-zero count, a meter config): PI replays every cell as INSERT, which its own counter and
  meter writes reject, so on simple_switch_grpc any program with an indexed counter or meter
  fails to reconcile: an accident, not a rule (save_forwarding_state reads them to keep them).
- A profile programmed with one-shot action sets: PI's wildcard member and group reads
  refuse it (INVALID_ARGUMENT: modes not mixed), failing every such reconcile; we read
  profile by profile and carry the sets with their table entries.
- Entries of const tables are not replayed: the program brings them (PI replays them and BMv2
  refuses writes to a table with const entries, failing every such program again).
- Multicast groups and clone sessions are carried over (after the meters and counters): BMv2
  keeps its PRE and mirroring sessions across a config swap (they belong to simple_switch, not
  to the program), so they keep replicating there; PI's own bookkeeping forgets them, so its
  reads stop showing them. We keep them replicating and readable.
- On failure nothing changes: the data plane and every request keep the old pipeline. PI
  leaves BMv2's data plane on the old program too, but moves its own state (and so Read and
  Write) to the new P4Info with whatever was replayed, a half state the spec does not allow.
- With a VERIFY_AND_SAVE config awaiting COMMIT, the state carried over is that config's (the
  one Read and Write refer to), as our VERIFY_AND_COMMIT then also proceeds; BMv2 refuses to
  load a config while another awaits its swap, so PI answers UNKNOWN there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from finsy.proto import p4r

from fabriclab.switch.p4runtime.indexed_externs import MAX_WILDCARD_CELLS
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, OK, UNKNOWN, P4RuntimeError

Update = p4r.Update
Reader = Callable[[p4r.Entity], Iterable[p4r.Entity]]  # the Read path, on the running pipeline
Writer = Callable[[p4r.Update], p4r.Error]  # the Write path, on the new pipeline


@dataclass(frozen=True)
class _Carry:
    """One wildcard read of state to carry over, and the update type that re-creates what it returns."""

    query: p4r.Entity
    update: int
    keep: Callable[[p4r.Entity], bool] = lambda entity: True
    refusable: bool = False  # a read refused INVALID_ARGUMENT carries nothing (one-shot profiles)


def _counter_counts(entity: p4r.Entity) -> bool:
    data = entity.counter_entry.data
    return bool(data.packet_count or data.byte_count)


def _cells(kind: str, index: P4InfoIndex, make: Callable[[int, p4r.Index | None], p4r.Entity]) -> Iterator[p4r.Entity]:
    """Reads covering every cell of each `kind` array: one wildcard (index None) per array, or
    one read per cell for an array too large for a wildcard (MAX_WILDCARD_CELLS)."""
    for info in index.all(kind):
        if info.size <= MAX_WILDCARD_CELLS:
            yield make(info.preamble.id, None)
        else:
            yield from (make(info.preamble.id, p4r.Index(index=i)) for i in range(info.size))


def _meter(meter_id: int, at: p4r.Index | None) -> p4r.Entity:
    return p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=meter_id, index=at))


def _counter(counter_id: int, at: p4r.Index | None) -> p4r.Entity:
    return p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter_id, index=at))


def _plan(index: P4InfoIndex) -> Iterator[_Carry]:
    """What to carry over, in replay order: what an entry points at comes before it."""
    profiles = [p.preamble.id for p in index.all("action_profiles")]
    for profile in profiles:
        yield _Carry(p4r.Entity(action_profile_member=p4r.ActionProfileMember(action_profile_id=profile)),
                     Update.INSERT, refusable=True)
    for profile in profiles:
        yield _Carry(p4r.Entity(action_profile_group=p4r.ActionProfileGroup(action_profile_id=profile)),
                     Update.INSERT, refusable=True)
    yield _Carry(p4r.Entity(table_entry=p4r.TableEntry()), Update.INSERT, lambda e: not e.table_entry.is_const)
    for query in _cells("meters", index, _meter):
        yield _Carry(query, Update.MODIFY, lambda e: e.meter_entry.HasField("config"))
    for query in _cells("counters", index, _counter):
        yield _Carry(query, Update.MODIFY, _counter_counts)
    yield _Carry(p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
        multicast_group_entry=p4r.MulticastGroupEntry())), Update.INSERT)
    yield _Carry(p4r.Entity(packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
        clone_session_entry=p4r.CloneSessionEntry())), Update.INSERT)


def forwarding_state(index: P4InfoIndex, read: Reader) -> list[p4r.Update]:
    """The running pipeline's forwarding state (`index` is its P4Info) as the Write updates
    that re-create it, in replay order."""
    updates = []
    for carry in _plan(index):
        try:
            found = list(read(carry.query))
        except P4RuntimeError as err:
            if not (carry.refusable and err.code == INVALID_ARGUMENT):
                raise
            continue  # a profile one-shot sets program: they come back with the table entries
        updates += [Update(type=carry.update, entity=entity) for entity in found if carry.keep(entity)]
    return updates


_OWNER = {  # entity kind -> (its P4Info kind, the field holding its P4 id)
    "table_entry": ("tables", "table_id"),
    "action_profile_member": ("action_profiles", "action_profile_id"),
    "action_profile_group": ("action_profiles", "action_profile_id"),
    "meter_entry": ("meters", "meter_id"),
    "counter_entry": ("counters", "counter_id"),
}


def _describe(index: P4InfoIndex, entity: p4r.Entity) -> str:
    """An entity as a controller knows it: by the running P4Info's name (the new may lack it)."""
    which = entity.WhichOneof("entity")
    if which not in _OWNER:
        return which
    kind, field = _OWNER[which]
    obj_id = getattr(getattr(entity, which), field)
    obj = index.by_id[kind].get(obj_id)
    return f"{which} of '{obj.preamble.name if obj is not None else obj_id}'"


def replay(index: P4InfoIndex, updates: list[p4r.Update], write: Writer) -> None:
    """Write every update (CONTINUE_ON_ERROR, as PI's one batch); UNKNOWN naming the first
    failure (by the running P4Info `index`) if any fails."""
    failed = [(u, e) for u in updates if (e := write(u)).canonical_code != OK]
    if failed:
        update, error = failed[0]
        raise P4RuntimeError(UNKNOWN, f"error when reconciling config: {len(failed)} of {len(updates)} entities of "
                             f"the running pipeline cannot be carried over to the new one (first: "
                             f"{_describe(index, update.entity)}: {error.message}); the running pipeline stays")
