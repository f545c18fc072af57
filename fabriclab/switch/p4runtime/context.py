"""What entity codecs work on: the P4Info index, the switch core, and P4Runtime-only state.

The switch core keeps the data-plane state (entries, members, cells); this context keeps
what only P4Runtime sees (entry metadata and controller_metadata, multicast groups and
clone sessions as PI keeps them, group max sizes, one-shot selector groups) so reads give
back what was written, in simple_switch_grpc's order.
Fresh for every saved or committed pipeline.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from fabriclab.errors import FabricError
from fabriclab.switch.p4runtime.hash_map_order import HashMapOrder
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    NOT_FOUND,
    RESOURCE_EXHAUSTED,
    UNIMPLEMENTED,
    UNKNOWN,
    P4RuntimeError,
)
from fabriclab.switch.tables import EntryExistsError, EntryNotFoundError, TargetRefusedError


HIDDEN_ID = 1 << 31  # member/group ids from here up are one-shot sets' own, unseen by clients


@dataclass
class OneShot:
    """The hidden group (and its members) behind a table entry's action_profile_action_set."""

    profile: str
    group_id: int
    member_ids: tuple[int, ...]
    action_set: Any  # p4r.ActionProfileActionSet as written


@dataclass
class WrittenReplicas:
    """A multicast group or clone session as PI keeps it (replication.py): a node per
    instance in PI's table order, each with its ports as written (port, width: `port` bytes
    of that many bytes, 0 for the deprecated `egress_port`) in PI's std::set order; the
    instances in the order of BMv2's nodes (which it replicates in); a session's
    packet_length_bytes as PI stored it."""

    nodes: list[tuple[int, list[tuple[int, int]]]]
    switch_order: list[int]
    packet_length_bytes: int = 0


@dataclass
class WatchedGroup:
    """A selector group written with watch ports: its members and each member's watch port
    (`watch` or `watch_port`, as written, what a read returns). The switch core selects
    among the members whose watch port is up (PI's WatchPortEnforcer)."""

    members: list[tuple[int, int]]  # (member id, weight)
    watches: dict[int, tuple[str, Any]]  # member id -> ("watch" | "watch_port", value)

    def down(self, ports_down: set[int]) -> list[int]:
        """The members whose watch port is down: out of the selection."""
        return [m for m, _ in self.members if self.port(m) in ports_down]

    def port(self, member_id: int) -> int | None:
        watch = self.watches.get(member_id)
        if watch is None:
            return None
        kind, value = watch
        return int.from_bytes(value, "big") if kind == "watch_port" else value


@dataclass
class RuntimeContext:
    index: P4InfoIndex
    core: Any
    entry_metadata: dict[tuple, tuple[bytes, int]] = field(default_factory=dict)  # (metadata, controller_metadata)
    # ("group" | "session", id) -> as written; the ids of PI's tables of groups (with each
    # clone session's group, at 2**15 + its id) and of sessions, in their iteration order
    replicas: dict[tuple[str, int], WrittenReplicas] = field(default_factory=dict)
    group_order: HashMapOrder = field(default_factory=HashMapOrder)
    session_order: HashMapOrder = field(default_factory=HashMapOrder)
    # (profile id, group id) -> the group as written, for groups with watch ports
    watched_groups: dict[tuple[int, int], WatchedGroup] = field(default_factory=dict)
    # ports whose carrier is down (the device's set, shared by every pipeline it installs)
    ports_down: set[int] = field(default_factory=set)
    group_max_size: dict[tuple[int, int], int] = field(default_factory=dict)  # (profile id, group id)
    one_shots: dict[tuple, OneShot] = field(default_factory=dict)
    next_hidden_id: int = HIDDEN_ID
    clock: Callable[[], int] | None = None  # the switch's now_ns(): the time its packets carry

    def now_us(self, needed: bool = True) -> int:
        """The switch's time in the unit tables stamp hits with (v1model microseconds);
        without a clock 0 when not `needed`, else UNIMPLEMENTED."""
        if self.clock is None:
            if not needed:
                return 0
            raise P4RuntimeError(UNIMPLEMENTED, "this switch driver has no clock (now_ns): "
                                 "idle timeouts and time_since_last_hit need one")
        return self.clock() // 1000

    def hidden_id(self) -> int:
        """A member/group id from the range P4Runtime clients do not see (>= 2**31)."""
        self.next_hidden_id += 1
        return self.next_hidden_id

    def action_id(self, name: str) -> int:
        action = self.index.action_named(name)
        if action is None:
            raise P4RuntimeError(NOT_FOUND, f"action '{name}' is not in the P4Info")
        return action.preamble.id


@contextmanager
def core_errors() -> Iterator[None]:
    """Map the switch core's errors to P4Runtime codes."""
    try:
        yield
    except EntryExistsError as err:
        raise P4RuntimeError(ALREADY_EXISTS, str(err)) from err
    except EntryNotFoundError as err:
        raise P4RuntimeError(NOT_FOUND, str(err)) from err
    except TargetRefusedError as err:  # PI: "Error when ... on target"
        raise P4RuntimeError(UNKNOWN, str(err)) from err
    except FabricError as err:
        if isinstance(err, P4RuntimeError):
            raise
        code = RESOURCE_EXHAUSTED if "is full" in str(err) else INVALID_ARGUMENT
        raise P4RuntimeError(code, str(err)) from err
