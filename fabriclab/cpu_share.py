"""One process standing in for several: the nice value that gives it their CPU weight.

A busy CPU shares time by task (CFS), so one process that runs what N processes ran (all
switches in `fabriclab switch --group`, all ranks in a shared rank agent) gets one task's
share for all N beside other load unless it weighs N times more. Root only; without the
privilege the process keeps its share.
"""

from __future__ import annotations

import math
import os

NICE_STEP = 1.25  # CFS: each nice level down weighs about 1.25 times more
MOST_NICE = -10   # a big group still leaves the machine's own daemons room


def share_of(count: int) -> int:
    """The nice value with the CPU weight of `count` processes at nice 0."""
    return max(MOST_NICE, -round(math.log(count) / math.log(NICE_STEP))) if count > 1 else 0


def take_share(count: int) -> str | None:
    """Lower this process's nice value to `share_of(count)` (never raise it), before any
    thread starts: Linux keeps a nice value per thread and new threads inherit it. Returns
    why it could not (no privilege), else None."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, min(share_of(count), os.getpriority(os.PRIO_PROCESS, 0)))
    except OSError as err:
        return err.strerror
    return None
