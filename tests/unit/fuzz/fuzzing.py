"""Shared by the fuzz targets: how many inputs to try (FABRICLAB_FUZZ_SCALE multiplies them)."""

from __future__ import annotations

import os

SCALE = float(os.environ.get("FABRICLAB_FUZZ_SCALE", "1"))


def scaled(count: int) -> int:
    return max(1, int(count * SCALE))
