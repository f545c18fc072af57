"""One sample of a fabric's switches over P4Runtime reads only: per-port counters and queue
registers, and each switch's routing mode and ECN thresholds (the default actions of
fabric.p4's `routing_mode` and `ecn_config` tables).

The same reads serve a live `fabriclab net` (gRPC clients) and a virtual-time fabric
(in-process clients), so a replay shows what the live view would have shown.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from finsy.proto import p4r

from controller.client import P4RuntimeClient, decode
from controller.fabric import EG, IG, FabricController, PortStats
from controller.fabric_plan import Mode
from fabriclab.errors import FabricError
from fabriclab.view.model import Snapshot, SwitchSettings

QDEPTH_REGISTER = "port_qdepth"  # deq_qdepth of the last packet each port sent


Map = Callable[..., Iterable[Any]]


def sample(ctl: FabricController, clock: Callable[[], int],
           int_paths: list[list[str]] | None = None, map_: Map = map) -> Snapshot:
    """Every switch's ports and settings. `clock()` (ns) is read as each switch's counters
    come back, so a slow read does not skew the rates of other switches; `map_` may read
    the switches in parallel (a thread pool's map: they are separate servers)."""
    t_ns = clock()
    snap = Snapshot(t_ns, {}, int_paths=int_paths or [])
    for name, (stats, read_ns, current, switch) in zip(
            ctl.clients, map_(lambda n: _read_switch(ctl, n, clock), list(ctl.clients))):
        snap.read_ns[name] = read_ns
        snap.switches[name] = switch
        for port, counters in stats.items():
            snap.ports[(name, port)] = counters
            snap.qdepth[(name, port)] = None if current is None else current.get(port, 0)
    return snap


def _read_switch(ctl: FabricController, name: str, clock: Callable[[], int]
                 ) -> tuple[dict[int, PortStats], int, dict[int, int] | None, SwitchSettings]:
    stats = ctl.port_stats(name)
    read_ns = clock()
    client = ctl.clients[name]
    return stats, read_ns, _register(client, QDEPTH_REGISTER), settings(client)


def _register(client: P4RuntimeClient, name: str) -> dict[int, int] | None:
    """Register cells as ints; None where the target serves no registers (BMv2)."""
    try:
        cells = client.read_register(name)
    except FabricError:
        return None
    return {i: decode(d.bitstring) if d.HasField("bitstring") else 0 for i, d in cells.items()}


def settings(client: P4RuntimeClient) -> SwitchSettings:
    mode = _default_action(client, f"{IG}.routing_mode")
    ecn = _default_action(client, f"{EG}.ecn_config")
    mode_text = "?"
    if mode is not None and "mode" in mode[1]:
        try:
            mode_text = Mode(mode[1]["mode"]).name.lower()
        except ValueError:
            mode_text = str(mode[1]["mode"])
    ecn_text = "?"
    if ecn is not None:
        action, params = ecn
        ecn_text = (f"{params['kmin']}-{params['kmax']}" if "kmin" in params and "kmax" in params
                    else "off" if action.endswith("ecn_disabled") else "?")
    return SwitchSettings(mode_text, ecn_text)


def _default_action(client: P4RuntimeClient, table: str) -> tuple[str, dict[str, int]] | None:
    """(action name, params by name) of a table's default entry; None if unreadable."""
    try:
        index = client._p4()
        table_id = index.id("tables", table)
        (entity, *_) = client.read(p4r.Entity(table_entry=p4r.TableEntry(
            table_id=table_id, is_default_action=True)))
    except (FabricError, ValueError):
        return None
    action = entity.table_entry.action.action
    for info in index.p4info.actions:
        if info.preamble.id == action.action_id:
            names = {p.id: p.name for p in info.params}
            return info.preamble.name, {names.get(p.param_id, str(p.param_id)): decode(p.value)
                                        for p in action.params}
    return None
