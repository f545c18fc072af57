"""IdleTimeoutNotification (spec 9.1.3, 16.4): the idle entries a sweep found, for the stream.

The sweeps themselves are the switch's (switch/ageing.py, as BMv2's AgeingMonitor); as PI
does with BMv2's per-table reports, one sweep's entries of every table go in one message.
Each entry is named by its key and metadata with its idle_timeout_ns, as the spec asks
(PI leaves `metadata` out; a client compares keys).
"""

from __future__ import annotations

from typing import Any

from finsy.proto import p4r

from fabriclab.switch.p4runtime.context import RuntimeContext
from fabriclab.switch.p4runtime.table_entries import encode_key


def notification(ctx: RuntimeContext, idle: list[tuple[Any, list[Any]]], timestamp_ns: int
                 ) -> p4r.IdleTimeoutNotification:
    """The message for `idle` ((core table, [core entry, ...]) pairs, from AgeingMonitor.due)."""
    tables = {t.preamble.name: t for t in ctx.index.all("tables")}
    msg = p4r.IdleTimeoutNotification(timestamp=timestamp_ns)
    for core_table, entries in idle:
        table = tables[core_table.name]
        for entry in entries:
            out = encode_key(ctx, table, entry)
            out.idle_timeout_ns = entry.idle_timeout_ns
            msg.table_entry.append(out)
    return msg
