"""Idle-timeout sweeps of table entries, as BMv2's AgeingMonitor (bm_sim/ageing.cpp).

Sans-I/O: the driver calls `due(now_us)` on the switch's clock (the one its packets are
stamped with) as often as it likes; every `interval_us` (BMv2: 1 s) a sweep returns the
entries of `support_timeout` tables with a TTL that have not been hit for that long
(`Table.apply` marks hits, `Table.set_idle_timeout` restarts the idle time).

BMv2 does not restart an entry's idle time when it reports it: it skips an entry that the
previous sweep of its table reported, so an entry that stays idle is reported every
second sweep (every 2 s) until a hit, a new TTL (a MODIFY) or its deletion. simple_switch_grpc's
own test (test_idle_timeout.cpp, NotifyAgain) relies on it; the spec would wait one more TTL.
"""

from __future__ import annotations

from typing import Iterable

from fabriclab.switch.tables import Table, TableEntry

SWEEP_INTERVAL_US = 1_000_000  # BMv2's default sweep_interval_ms (1000)


class AgeingMonitor:
    """The sweeps of one pipeline's tables that support idle timeouts."""

    def __init__(self, tables: Iterable[Table], interval_us: int = SWEEP_INTERVAL_US) -> None:
        self.tables = [t for t in tables if t.support_timeout]
        self.interval_us = interval_us
        self.next_sweep_us: int | None = None
        # per table, the entries its previous sweep reported (by id; the value keeps the
        # entry alive, so a new entry never takes a reported one's id)
        self._reported: dict[str, dict[int, TableEntry]] = {t.name: {} for t in self.tables}

    def due(self, now_us: int) -> list[tuple[Table, list[TableEntry]]]:
        """The idle entries to report now, per table (nothing between sweeps). The first
        call starts the schedule; a late call sweeps once and keeps the cadence."""
        if not self.tables:
            return []
        if self.next_sweep_us is None:
            self.next_sweep_us = now_us
        if now_us < self.next_sweep_us:
            return []
        self.next_sweep_us += self.interval_us
        if self.next_sweep_us <= now_us:
            self.next_sweep_us = now_us + self.interval_us
        return self.sweep(now_us)

    def sweep(self, now_us: int) -> list[tuple[Table, list[TableEntry]]]:
        out = []
        for table in self.tables:
            idle = [e for e in table.entries()
                    if e.idle_timeout_ns and (now_us - e.last_hit_us) * 1000 >= e.idle_timeout_ns]
            before = self._reported[table.name]
            new = [e for e in idle if id(e) not in before]
            self._reported[table.name] = {id(e): e for e in new}  # BMv2 keeps only these
            if new:
                out.append((table, new))
        return out
