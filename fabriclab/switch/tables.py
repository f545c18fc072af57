"""Match-action tables and action profiles: the runtime state behind `table.apply()`.

Runtime API (used by the P4Runtime server and the STF runner; all names are P4Info names):

    t = core.tables["MyIngress.ipv4_lpm"]
    call = t.action_call("MyIngress.ipv4_forward", {"dstAddr": 0x0a, "port": 1})
    t.insert({"hdr.ipv4.dstAddr": Lpm(0x0a000100, 24)}, call, priority=0) -> TableEntry
    t.modify(match, call, priority);  t.delete(match, priority);  t.get(match, priority)
    t.entries() -> list[TableEntry];  t.clear()
    t.set_default(call);  t.reset_default();  t.default_action -> ActionCall
    entry.direct.counter (CounterData) / entry.direct.meter.configure(MeterConfig | None)
        for tables with a direct counter / direct meter (t.direct_counter, t.direct_meter)
    t.set_idle_timeout(entry, ttl_ns, now_us)  # tables with support_timeout (t.support_timeout):
        entry.last_hit_us is its last hit (or ttl change); ageing.py finds the idle ones
    # tables with an implementation take MemberRef(member_id) / GroupRef(group_id) as action
    p = core.action_profiles["MyIngress.sel"]
    p.add_member(member_id, call); p.modify_member(..); p.delete_member(member_id)
    p.set_group(group_id, [(member_id, weight), ...]); p.delete_group(group_id)
    p.set_inactive(group_id, member_ids)   # out of the selection (watch port down)

A match is a dict field name -> Exact | Lpm | Ternary | Range | OptionalMatch; fields left
out of a non-exact key are wildcards, as P4Runtime's "don't care". Priorities: a higher
value wins (P4Runtime); entries of equal priority match in the order of their BMv2 entry
handles (handles.py: insertion order until a delete frees one). Errors raise
EntryExistsError, EntryNotFoundError or FabricError (invalid argument), which the
P4Runtime server maps to ALREADY_EXISTS, NOT_FOUND and INVALID_ARGUMENT.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple, Union

from fabriclab.errors import FabricError
from fabriclab.switch.externs import DirectState
from fabriclab.switch.handles import Handles
from fabriclab.switch.hashing import Item, pack_items


class EntryExistsError(FabricError):
    """An entry with the same match key and priority is already installed."""


class EntryNotFoundError(FabricError):
    """No entry (or member/group) with that key exists."""


class TargetRefusedError(FabricError):
    """simple_switch refuses this (a BMv2 error code, which PI reports as UNKNOWN)."""


# ---------------------------------------------------------------- match values
@dataclass(frozen=True)
class Exact:
    value: int


@dataclass(frozen=True)
class Lpm:
    value: int
    prefix_len: int


@dataclass(frozen=True)
class Ternary:
    value: int
    mask: int


@dataclass(frozen=True)
class Range:
    low: int
    high: int


@dataclass(frozen=True)
class OptionalMatch:
    value: int


FieldMatch = Union[Exact, Lpm, Ternary, Range, OptionalMatch]


@dataclass(frozen=True)
class KeyField:
    """One key element: P4Info match field name, match kind and width in bits."""

    name: str
    match_kind: str  # exact | lpm | ternary | range | optional | selector
    width: int


@dataclass(frozen=True)
class ActionSpec:
    """An action a table may run: its P4Info name and (param name, width) list."""

    name: str
    params: tuple[tuple[str, int], ...] = ()


class ActionCall(NamedTuple):
    """An action and its control-plane arguments. Generated code reads it by index (`[0]`
    the name, `[1]` the args): CPython 3.11 specialises a tuple's indexing, not a
    NamedTuple's field getters (measured: 2-3% of fabric.p4's packet time)."""

    name: str
    args: tuple[int, ...] = ()


# What a hit on a group that lost its members runs: nothing. BMv2 refuses an entry pointing
# to an empty group, but a group may be emptied later: its lookup logs "yielded empty group"
# and runs its empty_action, the table hit.
EMPTY_GROUP = ActionCall("", ())


class MemberRef(NamedTuple):
    member_id: int


class GroupRef(NamedTuple):
    group_id: int


EntryAction = Union[ActionCall, MemberRef, GroupRef]


@dataclass
class TableEntry:
    match: dict[str, FieldMatch]
    action: EntryAction
    priority: int
    direct: DirectState = field(default_factory=DirectState)
    handle: int = 0  # BMv2's entry handle: reads list entries, equal priorities match, by it
    idle_timeout_ns: int = 0  # 0: never idle (only tables with support_timeout age)
    last_hit_us: int = 0  # switch time of its last hit or idle-timeout setting


# ---------------------------------------------------------------- action profiles
class ActionProfile:
    """Members (action calls) and, for selectors, groups of members chosen by hash, as
    simple_switch_grpc keeps them.

    Each member has a BMv2 member handle (handles.py: the lowest free one). A weight w > 1
    is w handles of the member in the group: as PI's ActionProfAccessManual, the member's
    own and copies made when a group first needs them (the union of the group's old and new
    members in id order, each taking the lowest free handles), shared by every group and
    given back once no group needs them (its weight in no group that high any more). BMv2
    picks `hash(selector fields) % n` among a group's n active handles in ascending order:
    a weight-2 member A created before B selects A, B, A; a member created after another was
    deleted takes its handle and place.
    """

    def __init__(self, name: str, size: int = 0, with_selector: bool = False,
                 algorithm: Callable[[bytes], int] | None = None, max_group_size: int = 0) -> None:
        self.name, self.size, self.with_selector = name, size, with_selector
        self.algorithm = algorithm
        self.max_group_size = max_group_size
        self.members: dict[int, ActionCall] = {}
        self.groups: dict[int, tuple[tuple[int, int], ...]] = {}
        self._handles = Handles()  # BMv2's member handles
        self._group_handles = Handles()
        self.member_handles: dict[int, list[int]] = {}  # member id -> its own handle, then copies
        self.group_handle: dict[int, int] = {}
        self._inactive: dict[int, frozenset[int]] = {}  # group id -> members out of its selection
        self._group_choice: dict[int, tuple[ActionCall, ...]] = {}
        # (member/group reference, selector bytes) -> call, for generated code (`cached`);
        # emptied by every change of members or groups
        self._calls = _LookupCache(self._resolve_key)  # a bound method: deepcopy rebinds it
        self._field_calls: list[_LookupCache] = []  # `cached_fields` caches, emptied alike
        self._by_variants: dict[tuple, _LookupCache] = {}  # cached_fields'

    def add_member(self, member_id: int, call: ActionCall) -> None:
        if member_id in self.members:
            raise EntryExistsError(f"action profile '{self.name}': member {member_id} exists")
        if self.size and len(self.members) >= self.size:
            raise FabricError(f"action profile '{self.name}' is full ({self.size} members)")
        self.members[member_id] = call
        self.member_handles[member_id] = [self._handles.take()]
        self._changed()

    def modify_member(self, member_id: int, call: ActionCall) -> None:
        self._member(member_id)
        self.members[member_id] = call
        self._rebuild()

    def delete_member(self, member_id: int) -> None:
        self._member(member_id)
        if any(member_id == m for g in self.groups.values() for m, _ in g):
            raise FabricError(f"action profile '{self.name}': member {member_id} is in a group")
        del self.members[member_id]
        for handle in self.member_handles.pop(member_id):
            self._handles.give_back(handle)
        self._changed()

    def set_group(self, group_id: int, members: Iterable[tuple[int, int]]) -> None:
        """Create or replace a group from (member_id, weight) pairs."""
        if not self.with_selector:
            raise FabricError(f"action profile '{self.name}' has no selector: no groups")
        members = tuple((int(m), int(w)) for m, w in members)
        for m, w in members:
            self._member(m)
            if w < 1:
                raise FabricError(f"action profile '{self.name}': weight {w} must be >= 1")
        if self.max_group_size and sum(w for _, w in members) > self.max_group_size:
            raise FabricError(f"action profile '{self.name}': group {group_id} exceeds "
                              f"max_group_size {self.max_group_size}")
        if group_id not in self.groups:
            self.group_handle[group_id] = self._group_handles.take()
        touched = sorted({m for m, _ in self.groups.get(group_id, ())} | {m for m, _ in members})
        for m, w in sorted(members):  # copies first, in member id order (group_update_members)
            handles = self.member_handles[m]
            while len(handles) < w:
                handles.append(self._handles.take())
        self.groups[group_id] = members
        self._give_back_copies(touched)
        self._rebuild()

    def set_inactive(self, group_id: int, member_ids: Iterable[int]) -> None:
        """Leave these members out of the group's selection (PI's WatchPortEnforcer: their
        watch port is down) without changing the group; with every member out, the group
        selects among all of them."""
        self._inactive[group_id] = frozenset(member_ids)
        self._rebuild()

    def delete_group(self, group_id: int) -> None:
        members = self.groups.pop(group_id, None)
        if members is None:
            raise EntryNotFoundError(f"action profile '{self.name}': no group {group_id}")
        self._group_handles.give_back(self.group_handle.pop(group_id))
        self._group_choice.pop(group_id, None)
        self._inactive.pop(group_id, None)
        self._give_back_copies(sorted(m for m, _ in members))
        self._changed()

    def _give_back_copies(self, member_ids: list[int]) -> None:
        """Free each member's copies past the largest weight a group still gives it."""
        needed = {m: 1 for m in member_ids}
        for group in self.groups.values():
            for m, w in group:
                if m in needed:
                    needed[m] = max(needed[m], w)
        for m in member_ids:
            handles = self.member_handles[m]
            while len(handles) > needed[m]:
                self._handles.give_back(handles.pop())

    def _member(self, member_id: int) -> ActionCall:
        try:
            return self.members[member_id]
        except KeyError:
            raise EntryNotFoundError(
                f"action profile '{self.name}': no member {member_id}") from None

    def cached(self) -> Callable[[tuple[EntryAction, bytes]], ActionCall | None]:
        """`resolve` for generated code, taking one (reference, selector) tuple: a dict hit
        per packet (a flow's selector repeats; every algorithm is a function of its bytes)."""
        return self._calls.__getitem__

    def _resolve_key(self, key: tuple[EntryAction, bytes]) -> ActionCall | None:
        return self.resolve(*key)

    def cached_fields(self, variants: tuple[tuple[Item, ...], ...]
                      ) -> Callable[[tuple], ActionCall | None]:
        """`resolve` taking (reference, variant, values...): the selector data as values,
        packed (hashing.pack_items with `variants[variant]`'s items: field widths, or a
        header's slices) only on a miss; a dict hit per packet builds no bytes. One cache per
        `variants` (kept as an object, so a deep copy of the profile copies it; the bound
        method is made per call)."""
        found = self._by_variants.get(variants)
        if found is None:
            found = _LookupCache(functools.partial(self._resolve_fields, variants))
            self.empties(found)
            self._by_variants[variants] = found
        return found.__getitem__

    def empties(self, cache: dict) -> None:
        """Empty `cache` too at every member or group change (a cache of resolved calls)."""
        self._field_calls.append(cache)

    def _resolve_fields(self, variants: tuple[tuple[Item, ...], ...], key: tuple
                        ) -> ActionCall | None:
        return self.resolve(key[0], pack_items(key[2:], variants[key[1]]))

    def _changed(self) -> None:
        self._calls.clear()
        for cache in self._field_calls:
            cache.clear()

    def _rebuild(self) -> None:
        self._changed()
        self._group_choice = {gid: self._choice(gid, g) for gid, g in self.groups.items()}

    def _choice(self, group_id: int, members: tuple[tuple[int, int], ...]) -> tuple[ActionCall, ...]:
        """The group's calls in the order of its active handles."""
        out = self._inactive.get(group_id, frozenset())
        active = [mw for mw in members if mw[0] not in out] or list(members)
        handles = sorted((h, m) for m, w in active for h in self.member_handles[m][:w])
        return tuple(self.members[m] for _, m in handles)

    def resolve(self, ref: EntryAction, selector: bytes) -> ActionCall | None:
        """The action call for a member or group reference (EMPTY_GROUP for a group that
        lost its members, None for one that does not exist)."""
        if type(ref) is MemberRef:
            return self.members.get(ref.member_id)
        choices = self._group_choice.get(ref.group_id)
        if not choices:
            return None if choices is None else EMPTY_GROUP
        return choices[self.algorithm(selector) % len(choices)] if len(choices) > 1 else choices[0]


# ---------------------------------------------------------------- lookup engines
class _ExactEngine:
    """All-exact keys: one dict, keyed by the values' tuple, or by the value alone for a
    one-field key (generated code then builds no tuple per lookup: see Table.finder)."""

    def __init__(self, single: bool) -> None:
        self.single = single
        self.entries: dict = {}
        self.calls: dict = {}  # the same keys -> their entries' actions (Table.call_finder)

    def _key(self, key: tuple):
        return key[0][0] if self.single else tuple(v for v, _ in key)

    def add(self, key: tuple, entry: TableEntry) -> None:
        self.entries[self._key(key)] = entry
        self.calls[self._key(key)] = entry.action

    def remove(self, key: tuple, entry: TableEntry) -> None:
        del self.entries[self._key(key)]
        del self.calls[self._key(key)]

    def retarget(self, key: tuple, entry: TableEntry) -> None:
        """`entry`'s action changed."""
        self.calls[self._key(key)] = entry.action

    def call_finder(self) -> Callable:
        return self.calls.get

    def lookup(self, values: tuple) -> TableEntry | None:
        return self.entries.get(values[0] if self.single else values)


class _LookupCache(dict):
    """A search engine's results by key, for generated code to call `__getitem__` on: a C
    dict hit per packet instead of a Python search (a packet's key repeats per flow).
    The engine empties it whenever its entries change (a result depends on nothing else);
    bounded: emptied when full."""

    LIMIT = 1 << 14

    def __init__(self, search: Callable) -> None:
        super().__init__()
        self.search = search

    def __missing__(self, key):
        entry = self.search(key)
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = entry
        return entry


class _CachedCalls:
    """Key -> action call lookups of a cached search engine (Table.call_finder): from its
    entry cache, emptied with it, and when an entry's action changes."""

    cache: _LookupCache
    calls: _LookupCache

    def _call_of(self, key):
        entry = self.cache[key]
        return None if entry is None else entry.action

    def retarget(self, key: tuple, entry: TableEntry) -> None:
        self.calls.clear()

    def call_finder(self) -> Callable:
        return self.calls.__getitem__


class _LpmEngine(_CachedCalls):
    """Exact fields plus one LPM field: a dict per prefix length, longest first.

    A level's keys are the exact fields' values then the masked LPM value, as a tuple; for
    the common single-field key just the masked int (no tuple to build per level).
    """

    def __init__(self, lpm_index: int, width: int, nfields: int) -> None:
        self.index, self.width, self.single = lpm_index, width, nfields == 1
        self.by_len: dict[int, dict] = {}
        self.levels: list[tuple[int, dict]] = []
        self.cache = _LookupCache(self.lookup_value if self.single else self.lookup)
        self.calls = _LookupCache(self._call_of)  # key -> the action of the entry found

    def _split(self, key: tuple) -> tuple[tuple | int, int]:
        vals = tuple(v for v, _ in key)
        plen = bin(key[self.index][1]).count("1")
        if self.single:
            return vals[0], plen
        return vals[:self.index] + vals[self.index + 1:] + (vals[self.index],), plen

    def add(self, key: tuple, entry: TableEntry) -> None:
        k, plen = self._split(key)
        self.by_len.setdefault(plen, {})[k] = entry
        self._relevel()

    def remove(self, key: tuple, entry: TableEntry) -> None:
        k, plen = self._split(key)
        level = self.by_len[plen]
        del level[k]
        if not level:
            del self.by_len[plen]
        self._relevel()

    def _relevel(self) -> None:
        self.cache.clear()
        self.calls.clear()
        full = (1 << self.width) - 1
        self.levels = [(full ^ (full >> plen), self.by_len[plen])
                       for plen in sorted(self.by_len, reverse=True)]

    def lookup_value(self, v: int) -> TableEntry | None:
        """A one-field key's lookup by its value (generated code's finder: no tuple)."""
        for mask, level in self.levels:
            entry = level.get(v & mask)
            if entry is not None:
                return entry
        return None

    def lookup(self, values: tuple) -> TableEntry | None:
        if self.single:
            return self.lookup_value(values[0])
        i = self.index
        v = values[i]
        rest = values[:i] + values[i + 1:]
        for mask, level in self.levels:
            entry = level.get(rest + (v & mask,))
            if entry is not None:
                return entry
        return None


def key_matches(key: tuple[tuple[bool, int, int], ...], values: tuple) -> bool:
    """One field-by-field match: (True, low, high) is a range, (False, value, mask) a mask.

    The one matcher of ternary/range/optional table entries and parser value set members.
    """
    for (is_range, a, b), v in zip(key, values):
        if is_range:
            if not a <= v <= b:
                return False
        elif v & b != a:
            return False
    return True


class _PriorityEngine(_CachedCalls):
    """Ternary/range/optional keys: entries checked in priority order, first match wins."""

    def __init__(self, kinds: tuple[str, ...]) -> None:
        self.kinds = kinds
        self.entries: list[tuple[tuple, TableEntry, tuple]] = []
        self.cache = _LookupCache(self.lookup)
        self.calls = _LookupCache(self._call_of)  # key -> the action of the entry found

    def add(self, key: tuple, entry: TableEntry) -> None:
        plen = sum(bin(m).count("1") for (k, (v, m)) in zip(self.kinds, key) if k == "lpm")
        fields = tuple((k == "range", a, b) for k, (a, b) in zip(self.kinds, key))
        self.entries.append((fields, entry, (-entry.priority, -plen, entry.handle)))
        self.entries.sort(key=lambda e: e[2])
        self.cache.clear()
        self.calls.clear()

    def remove(self, key: tuple, entry: TableEntry) -> None:
        self.entries = [e for e in self.entries if e[1] is not entry]
        self.cache.clear()
        self.calls.clear()

    def lookup(self, values: tuple) -> TableEntry | None:
        for fields, entry, _ in self.entries:
            if key_matches(fields, values):
                return entry
        return None


# ---------------------------------------------------------------- tables
class Table:
    """One P4 table: entries, default action, direct resources, lookup."""

    def __init__(self, name: str, keys: Iterable[KeyField], actions: Iterable[ActionSpec],
                 default_action: ActionCall, *, const_default: bool = False,
                 const_entries: bool = False, size: int = 1024,
                 profile: ActionProfile | None = None, direct_counter: str | None = None,
                 direct_meter: str | None = None, meter_unit: str = "bytes",
                 support_timeout: bool = False) -> None:
        self.name = name
        all_keys = tuple(keys)
        self.keys = tuple(k for k in all_keys if k.match_kind != "selector")
        self.selector_keys = tuple(k for k in all_keys if k.match_kind == "selector")
        self.actions = {a.name: a for a in actions}
        self.initial_default = default_action
        self.default_action = default_action
        self.const_default = const_default
        self.const_entries = const_entries
        self.size = size
        self.profile = profile
        self.direct_counter = direct_counter
        self.direct_meter = direct_meter
        self.support_timeout = support_timeout
        self._meter_packets = meter_unit == "packets"
        self.last_color: int | None = None  # the colour of this packet's hit (None: a miss)
        self._key_index = {k.name: i for i, k in enumerate(self.keys)}
        self._entries: dict[tuple, TableEntry] = {}
        self._handles = Handles()  # BMv2's entry handles: equal priorities match by them
        kinds = tuple(k.match_kind for k in self.keys)
        if all(k == "exact" for k in kinds):
            self._engine = _ExactEngine(len(kinds) == 1)
        elif kinds.count("lpm") == 1 and all(k in ("exact", "lpm") for k in kinds):
            i = kinds.index("lpm")
            self._engine = _LpmEngine(i, self.keys[i].width, len(kinds))
        else:
            self._engine = _PriorityEngine(kinds)
        # a table without keys: the call every packet gets (its one entry's, or the
        # default), kept up to date by every change: generated code reads it straight
        self.keyless_call = default_action
        # the actions that do nothing (no parameters, no statements), and the module globals
        # generated code tests instead of looking up an empty table (see bind_flags)
        self.noop_actions: frozenset[str] = frozenset()
        self.flag_names: tuple[str, str] | None = None
        self._flags: dict | None = None
        self._selections: list[_LookupCache] = []  # cached_selection's caches
        if support_timeout:  # (a bound method: deepcopy rebinds it to the copy)
            self.apply = self._apply_marking_hits

    # ------------------------------------------------------------ control plane
    def action_call(self, action: str, params: dict[str, int] | None = None) -> ActionCall:
        """Validate an action and its named params for this table, in declaration order."""
        spec = self.actions.get(action)
        if spec is None:
            raise FabricError(f"table '{self.name}': action '{action}' is not one of "
                              f"{', '.join(self.actions) or '(none)'}")
        params = dict(params or {})
        args = []
        for pname, width in spec.params:
            if pname not in params:
                raise FabricError(f"action '{action}': missing parameter '{pname}'")
            value = int(params.pop(pname))
            if not 0 <= value < 1 << width:
                raise FabricError(f"action '{action}': parameter '{pname}' = {value} "
                                  f"does not fit in bit<{width}>")
            args.append(value)
        if params:
            raise FabricError(f"action '{action}': unknown parameter(s) {', '.join(params)}")
        return ActionCall(action, tuple(args))

    def _normalize(self, match: dict[str, FieldMatch]) -> tuple:
        unknown = set(match) - set(self._key_index)
        if unknown:
            raise FabricError(f"table '{self.name}': unknown match field(s) "
                              f"{', '.join(sorted(unknown))}")
        key = []
        for kf in self.keys:
            full = (1 << kf.width) - 1
            m = match.get(kf.name)
            kind = kf.match_kind
            if m is None:
                if kind == "exact":
                    raise FabricError(f"table '{self.name}': exact field '{kf.name}' needs a value")
                key.append((0, full) if kind == "range" else (0, 0))
                continue
            expected = {"exact": Exact, "lpm": Lpm, "ternary": Ternary, "range": Range,
                        "optional": OptionalMatch}[kind]
            if not isinstance(m, expected):
                raise FabricError(f"table '{self.name}': field '{kf.name}' is {kind}, "
                                  f"got {type(m).__name__}")
            if isinstance(m, Range):
                lo, hi = m.low, m.high
                if not 0 <= lo <= hi <= full:
                    raise FabricError(f"table '{self.name}': bad range {lo}..{hi} for "
                                      f"'{kf.name}' (bit<{kf.width}>)")
                key.append((lo, hi))
                continue
            value = m.value
            if isinstance(m, Lpm):
                if not 0 <= m.prefix_len <= kf.width:
                    raise FabricError(f"table '{self.name}': prefix length {m.prefix_len} "
                                      f"out of range for bit<{kf.width}>")
                mask = full ^ (full >> m.prefix_len)
            elif isinstance(m, Ternary):
                mask = m.mask
            else:
                mask = full
            if not 0 <= value <= full or not 0 <= mask <= full:
                raise FabricError(f"table '{self.name}': value {value:#x} does not fit "
                                  f"field '{kf.name}' (bit<{kf.width}>)")
            if value & ~mask:
                raise FabricError(f"table '{self.name}': field '{kf.name}' value {value:#x} "
                                  f"has bits outside its mask {mask:#x}")
            key.append((value, mask))
        return tuple(key)

    def _check_action(self, action: EntryAction) -> None:
        if isinstance(action, ActionCall):
            if self.profile is not None:
                raise FabricError(f"table '{self.name}' uses action profile "
                                  f"'{self.profile.name}': give a member or group")
            if action.name not in self.actions:
                raise FabricError(f"table '{self.name}': action '{action.name}' not allowed")
        elif self.profile is None:
            raise FabricError(f"table '{self.name}' has no action profile: give an action")
        elif isinstance(action, MemberRef):
            self.profile._member(action.member_id)
        elif action.group_id not in self.profile.groups:
            raise EntryNotFoundError(f"action profile '{self.profile.name}': "
                                     f"no group {action.group_id}")
        elif not self.profile.groups[action.group_id]:
            raise TargetRefusedError(f"action profile '{self.profile.name}': group {action.group_id} has no "
                                     "members (BMv2 refuses an entry pointing to an empty group: EMPTY_GRP)")

    def _mutable(self) -> None:
        if self.const_entries:
            raise FabricError(f"table '{self.name}' has const entries: it cannot be changed")

    def insert(self, match: dict[str, FieldMatch], action: EntryAction, priority: int = 0,
               *, _const: bool = False) -> TableEntry:
        if not _const:
            self._mutable()
        key = self._normalize(match)
        self._check_action(action)
        if (key, priority) in self._entries:
            raise EntryExistsError(f"table '{self.name}': entry already exists")
        if len(self._entries) >= self.size > 0 and not _const:
            raise FabricError(f"table '{self.name}' is full ({self.size} entries)")
        entry = TableEntry(dict(match), action, priority, handle=self._handles.take())
        self._entries[(key, priority)] = entry
        self._engine.add(key, entry)
        self._state_changed()
        return entry

    def _find(self, match: dict[str, FieldMatch], priority: int) -> tuple[tuple, TableEntry]:
        key = self._normalize(match)
        entry = self._entries.get((key, priority))
        if entry is None:
            raise EntryNotFoundError(f"table '{self.name}': no such entry")
        return key, entry

    def get(self, match: dict[str, FieldMatch], priority: int = 0) -> TableEntry:
        return self._find(match, priority)[1]

    def modify(self, match: dict[str, FieldMatch], action: EntryAction,
               priority: int = 0) -> TableEntry:
        self._mutable()
        key, entry = self._find(match, priority)
        self._check_action(action)
        entry.action = action
        self._engine.retarget(key, entry)
        self._state_changed()
        return entry

    def delete(self, match: dict[str, FieldMatch], priority: int = 0) -> None:
        self._mutable()
        key, entry = self._find(match, priority)
        del self._entries[(key, priority)]
        self._engine.remove(key, entry)
        self._handles.give_back(entry.handle)
        self._state_changed()

    def set_idle_timeout(self, entry: TableEntry, ttl_ns: int, now_us: int) -> None:
        """Age `entry` after `ttl_ns` without a hit (0: never), counting from `now_us`: as
        BMv2's set_entry_ttl, a new TTL restarts the entry's idle time."""
        if ttl_ns and not self.support_timeout:
            raise FabricError(f"table '{self.name}' does not support idle timeouts")
        if ttl_ns < 0:
            raise FabricError(f"table '{self.name}': idle timeout {ttl_ns} ns is negative")
        entry.idle_timeout_ns = ttl_ns
        entry.last_hit_us = now_us

    def entries(self) -> list[TableEntry]:
        return sorted(self._entries.values(), key=lambda e: e.handle)

    def clear(self) -> None:
        self._mutable()
        for (key, _), entry in list(self._entries.items()):
            self._engine.remove(key, entry)
        self._entries.clear()
        self._handles = Handles()  # as BMv2's table_clear
        self._state_changed()

    def set_default(self, call: ActionCall) -> None:
        if self.const_default:
            raise FabricError(f"table '{self.name}': the default action is const")
        if call.name not in self.actions:
            raise FabricError(f"table '{self.name}': action '{call.name}' not allowed")
        self.default_action = call
        self._state_changed()

    def reset_default(self) -> None:
        self.default_action = self.initial_default
        self._state_changed()

    def _state_changed(self) -> None:
        for cache in self._selections:
            cache.clear()
        if not self.keys:  # as the generated `calls(()) or default_action` would find it
            self.keyless_call = self.call_finder()(()) or self.default_action
        if self._flags is not None:
            empty, noop = self.flag_names
            call = None if self._entries else self.default_action
            self._flags[empty] = call
            self._flags[noop] = call if call is not None and call.name in self.noop_actions else None

    def bind_flags(self, module: dict) -> None:
        """Keep `flag_names` up to date in a loaded pipeline's globals, from now on at every
        entry or default change: the first holds the default call while the table has no
        entries (its key need not be built), the second the same when that call is one of
        `noop_actions` (a statement apply is skipped whole); None otherwise."""
        if self.flag_names is not None:
            self._flags = module
            self._state_changed()

    # ------------------------------------------------------------ data plane
    @property
    def hit_updates_entry(self) -> bool:
        """A hit changes its entry (counts, meters, or marks its last hit for idle
        timeouts): generated code calls `apply`; otherwise it inlines a lookup around
        `finder()` (see codegen_stmt.table_apply)."""
        return self.direct_counter is not None or self.direct_meter is not None or self.support_timeout

    @property
    def scalar_key(self) -> bool:
        """finder() takes the key's one value itself, not a 1-tuple."""
        return isinstance(self._engine, (_ExactEngine, _LpmEngine)) and self._engine.single

    def finder(self) -> Callable[[tuple], TableEntry | None]:
        """The key -> entry (or None) lookup of this table, for generated code to call
        directly: the values' tuple, or the value alone when `scalar_key`."""
        engine = self._engine
        if isinstance(engine, _ExactEngine):
            return engine.entries.get
        return engine.cache.__getitem__  # LPM and priority searches: cached per key

    def call_finder(self) -> Callable[[tuple], ActionCall | None]:
        """The key -> hit entry's action call (or None) lookup, for generated code of a
        table without an action profile or direct resources (`call or default_action`:
        no entry object, no test): the form of key as `finder`."""
        return self._engine.call_finder()

    def cached_selection(self, variants: tuple[tuple[Item, ...], ...]
                         ) -> Callable[[tuple], ActionCall | None]:
        """For generated code of a table with an action selector: (key, variant, selector
        values...) -> the call a hit on the key (`finder`'s form) resolves to, None for a
        miss. One dict hit per packet where a flow repeats, emptied at
        every entry change and every member or group change. A miss resolves through the
        profile's `cached_fields`."""
        cache = _LookupCache(functools.partial(self._select, variants))
        self._selections.append(cache)
        self.profile.empties(cache)
        return cache.__getitem__

    def _select(self, variants: tuple[tuple[Item, ...], ...], key: tuple) -> ActionCall | None:
        entry = self.finder()(key[0])
        if entry is None:
            return None
        return self.profile.cached_fields(variants)((entry.action, *key[1:]))

    def apply(self, values: tuple, selector: bytes, nbytes: int, now_us: int
              ) -> tuple[bool, ActionCall]:
        """Look up a key; count/meter a hit; return (hit, action call to run).

        `selector` is the selector fields packed as BMv2 hashes them (see hashing.py).
        As BMv2, a miss touches no direct resource (it keeps no cell for the default entry),
        and a hit on a group that lost its members is a hit that runs no action (EMPTY_GROUP).
        """
        entry = self._engine.lookup(values)
        if entry is None:
            self.last_color = None  # a miss meters nothing: a direct_meter read writes nothing
            return False, self.default_action
        direct = entry.direct
        if self.direct_counter is not None:
            direct.counter.packets += 1
            direct.counter.bytes += nbytes
        if self.direct_meter is not None:
            amount = 1 if self._meter_packets else nbytes
            self.last_color = direct.meter.execute(amount, now_us)
        action = entry.action
        if type(action) is ActionCall:
            return True, action
        return True, self.profile.resolve(action, selector)

    def _apply_marking_hits(self, values: tuple, selector: bytes, nbytes: int, now_us: int
                            ) -> tuple[bool, ActionCall]:
        """`apply` of a table with support_timeout (see __init__): the entry a packet hits
        was last hit now. Its own method, so that no other table's hits pay for ageing
        (one more lookup here: a dict hit)."""
        entry = self._engine.lookup(values)
        if entry is not None:
            entry.last_hit_us = now_us
        return Table.apply(self, values, selector, nbytes, now_us)
