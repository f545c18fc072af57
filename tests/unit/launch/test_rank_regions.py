"""Registered memory per peer follows the schedule (`CollectiveSpec.max_put`): every put a
rank makes fits the region its receiver registered for it, every pair with a region is
used, and a large hierarchical all-reduce registers megabytes, not gigabytes. (Kept with
the launch tests: tests/unit/roce belongs to the protocol's owner.)"""

import pytest

from fabriclab.roce.collectives import HIER_KINDS, KINDS, Collective, CollectiveSpec
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.rank import RKEY_BASE, Rank


def puts(spec):
    """(src, dst) -> largest put, running every rank's schedule to the end in memory."""
    colls = [Collective(spec, r) for r in range(spec.nranks)]
    queue = [(r, p) for r in range(spec.nranks) for p in colls[r].start()]
    seen = {}
    while queue:
        src, p = queue.pop(0)
        seen[src, p.dst] = max(seen.get((src, p.dst), 0), len(p.data))
        queue += [(p.dst, x) for x in colls[p.dst].on_data(src, p.tag, p.data)]
    assert all(c.done for c in colls)
    return seen


@pytest.mark.parametrize("n,g", [(2, 1), (2, 2), (4, 2), (6, 3), (8, 4), (8, 8), (12, 4), (6, 2)])
def test_max_put_is_exactly_what_the_schedule_sends(n, g):
    for kind in KINDS:
        for algo in ("ring", "hier"):
            if algo == "hier" and kind not in HIER_KINDS:
                continue
            spec = CollectiveSpec(kind, n, 4096 * n, algo=algo, local=g if algo == "hier" else 1)
            seen = puts(spec)
            for a in range(n):
                for b in range(n):
                    assert seen.get((a, b), 0) <= spec.max_put(a, b)
                    assert (spec.max_put(a, b) > 0) == ((a, b) in seen), (kind, algo, a, b)


def test_a_large_hierarchical_rank_registers_only_its_neighbours_regions():
    spec = CollectiveSpec("allreduce", 144, 1 << 20, algo="hier", local=2)
    nic = RoceNic(NicConfig("10.0.0.1"))
    Rank(nic, 0, [(f"10.0.0.{i + 1}", 4791) for i in range(144)], spec, 1, 0)
    sizes = {rkey - RKEY_BASE: len(mem) for rkey, mem in nic.regions.items()}
    assert sizes[1] == 2 * spec.count // 2 * 4  # the domain neighbour: two domain-ring steps
    assert sizes[142] == 2 * spec.chunk * 4  # the rail predecessor (rank 142 of rail 0)
    assert sum(sizes.values()) < 2 << 20  # was 143 x 1 MiB
