"""The order in which PI's std::unordered_map tables list their integer keys.

simple_switch_grpc's P4Runtime front end (PI: proto/frontend/src/pre_mc_mgr.cpp,
pre_clone_mgr.cpp) keeps multicast groups, clone sessions and each group's nodes (one per
replica instance) in std::unordered_map tables. It answers wildcard reads, lists a group's
replicas and creates the group's nodes in BMv2 (whose node list is the order it replicates
in) by iterating them, so that order is visible on the wire.

With libstdc++ it is a fact of the hash table: an integer key hashes to itself and lands in
bucket key % bucket count; all nodes form one list in which each bucket's nodes are
adjacent; a new node goes first in its bucket's run, or first in the whole list when its
bucket is empty (small keys come out in the reverse of their insertion); erasing unlinks a
node and nothing else; a rehash inserts the nodes again, by the same rule, in list order.
A default-constructed table has no buckets: its first insert sizes it to 13, and an insert
that would make the elements outnumber the buckets (max_load_factor 1) grows it to the next
count of `BUCKET_COUNTS`, the primes libstdc++ picks as the count doubles. That is the
libstdc++ of GCC 12 (Ubuntu 22.04's, what the Vagrantfile's BMv2 VM runs; checked against it
with random inserts and erases of up to 3,000 keys) and of its releases since 2020; earlier
ones sized the first table differently.
"""

from __future__ import annotations

from typing import Iterator

BUCKET_COUNTS = (13, 29, 59, 127, 257, 541, 1109, 2357, 5087, 10273, 20753, 42043, 85229)


class HashMapOrder:
    """The keys of one std::unordered_map<uint32_t, T>, in its iteration order."""

    def __init__(self) -> None:
        self._buckets = 0  # none until the first insert
        self._runs: list[int] = []  # buckets in list order, last first (a new run is appended)
        self._keys: dict[int, list[int]] = {}  # bucket -> its keys in list order, last first
        self._count = 0

    def add(self, key: int) -> None:
        """Insert `key` (nothing if present), as emplace/operator[] do."""
        if key in self:
            return
        count = self._count + 1
        if count > self._buckets:
            grown = next((b for b in BUCKET_COUNTS if b >= count), None)
            if grown is None:
                raise ValueError(f"{count} keys: more than this model of libstdc++'s table holds")
            old, self._buckets = list(self), grown
            self._runs, self._keys = [], {}
            for k in old:
                self._link(k)
        self._link(key)
        self._count = count

    def discard(self, key: int) -> None:
        """Erase `key` if present: the others keep their places (and the bucket count)."""
        bucket = key % self._buckets if self._buckets else 0
        run = self._keys.get(bucket)
        if run is None or key not in run:
            return
        run.remove(key)
        self._count -= 1
        if not run:
            del self._keys[bucket]
            self._runs.remove(bucket)

    def _link(self, key: int) -> None:
        bucket = key % self._buckets
        run = self._keys.get(bucket)
        if run is None:
            self._keys[bucket] = [key]
            self._runs.append(bucket)
        else:
            run.append(key)

    def __iter__(self) -> Iterator[int]:
        for bucket in reversed(self._runs):
            yield from reversed(self._keys[bucket])

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int) or not self._buckets:
            return False
        return key in self._keys.get(key % self._buckets, ())
