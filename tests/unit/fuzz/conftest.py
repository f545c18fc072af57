"""Fuzz targets: deterministic seeds, bounded counts, and a summary of what ran.

Every target draws from `random.Random(seed)` so a failure reproduces; FABRICLAB_FUZZ_SCALE
multiplies the counts for a longer run outside the suite (e.g. `FABRICLAB_FUZZ_SCALE=20
pytest tests/unit/fuzz`). The counts and outcomes of each target are printed at the end of
the session, so the suite's output says how much was fuzzed.
"""

from __future__ import annotations

from collections import Counter

import pytest
from fuzzing import SCALE

_TALLY: dict[str, Counter] = {}


@pytest.fixture
def tally(request):
    """tally[outcome] += 1 for each input; shown per test in the session summary."""
    counts = _TALLY.setdefault(request.node.name, Counter())
    return counts


def pytest_terminal_summary(terminalreporter):
    if not _TALLY:
        return
    terminalreporter.section(f"fuzz counts (scale {SCALE:g})")
    for name, counts in sorted(_TALLY.items()):
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        terminalreporter.write_line(f"{name}: {detail}")
