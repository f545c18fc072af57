"""Fuzz target: `Topology.from_json` raises nothing but FabricError, and whatever it accepts
round-trips through JSON unchanged (issue 25: topology JSON is an input surface)."""

import json
import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabriclab.errors import FabricError
from topologies import builders
from topologies.graph import Topology

SEEDS = [builders.leaf_spine(), builders.fat_tree(4), builders.multi_site(),
         builders.rail_optimized(scaleup=builders.ScaleUp(2))]
DOCS = [t.to_dict() for t in SEEDS]
FUZZ_SCALE = int(os.environ.get("FABRICLAB_FUZZ_SCALE", "1"))
ODD = [None, True, False, 0, -1, 1, 1.5, -0.0, 2 ** 64, 1e308, float("inf"), float("nan"), "", "h1", "x" * 40,
       [], {}, [1], {"a": 1}, "host", "leaf", 254, 255, 16, 0.5]


def check(text: str) -> str:
    """'ok' or 'rejected'; any other exception fails the test."""
    try:
        topo = Topology.from_json(text)
    except FabricError as err:
        assert str(err) and "\n" not in str(err)
        return "rejected"
    again = Topology.from_json(topo.to_json())
    assert again.to_dict() == topo.to_dict()  # nothing accepted that JSON cannot carry back
    return "ok"


def mutate(rng: random.Random, doc):
    """Replace, delete or add one value somewhere in a valid document."""
    doc = json.loads(json.dumps(doc))
    node, path = doc, []
    while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if not path:
        return rng.choice(ODD)
    parent, key = path[-1]
    action = rng.randrange(4)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, list):
        parent.append(json.loads(json.dumps(parent[key])))  # a duplicate node or link
    elif action == 2 and isinstance(parent, dict):
        parent[rng.choice(["extra", "kind", "site", "a_port", "bw"])] = rng.choice(ODD)
    else:
        parent[key] = rng.choice(ODD)
    return doc


def test_fuzz_mutated_topology_documents(capsys):
    rng = random.Random(25)
    counts = {"ok": 0, "rejected": 0}
    n = 3000 * FUZZ_SCALE
    for i in range(n):
        doc = DOCS[i % len(DOCS)]
        for _ in range(rng.randint(1, 3)):
            doc = mutate(rng, doc)
        counts[check(json.dumps(doc))] += 1
    texts = ["", "[]", "null", "1" * 5000, "[" * 100_000 + "]" * 100_000, '{"format": "fabriclab-topology"',
             json.dumps(DOCS[0])[:-7], "\ud800"]
    for text in texts:
        counts[check(text)] += 1
    with capsys.disabled():
        print(f"\ntopology JSON fuzz: {n + len(texts)} documents, {counts['ok']} accepted, "
              f"{counts['rejected']} rejected with FabricError, 0 other exceptions")


@settings(max_examples=300 * FUZZ_SCALE, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                        st.sampled_from(["format", "version", "name", "nodes", "links", "a", "b", "kind"]), kids,
                        max_size=5), max_leaves=30))
def test_random_json_values_only_raise_fabric_error(value):
    if isinstance(value, dict):
        value = {"format": "fabriclab-topology", "version": 1, **value}
    check(json.dumps(value))
