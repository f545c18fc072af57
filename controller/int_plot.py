"""Queue depth per hop over time, from the INT collector's CSV (one line per switch hop)."""

from __future__ import annotations

import csv
import pathlib
from collections import defaultdict

from fabriclab.errors import FabricError


def load_series(csv_path: str | pathlib.Path) -> dict[tuple[int, int], list[tuple[float, int]]]:
    """(hop index, switch id) -> [(seconds since the first report, queue depth)]."""
    path = pathlib.Path(csv_path)
    if not path.is_file():
        raise FabricError(f"no INT CSV at {path}")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    try:
        t0 = min((float(r["recv_time_s"]) for r in rows), default=0.0)
        series: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
        for r in rows:
            series[(int(r["hop"]), int(r["switch_id"]))].append(
                (float(r["recv_time_s"]) - t0, int(r["qdepth"])))
    except (KeyError, ValueError) as err:
        raise FabricError(f"{path}: not an INT collector CSV ({err})") from None
    return dict(sorted(series.items()))


def switch_names(topology_json: str) -> dict[int, str]:
    """INT switch id -> switch name: the controller gives switch i (topology order) id i + 1."""
    from topologies.graph import Topology

    return {i + 1: sw.name for i, sw in enumerate(Topology.from_json(topology_json).switches())}


def hop_labels(series: dict[tuple[int, int], list], names: dict[int, str]) -> list[str]:
    """One legend label per (hop, switch id) series: the switch's name, else its id."""
    return [f"hop {hop}: {names.get(switch_id, f'switch {switch_id}')}" for hop, switch_id in series]


def plot_queue_depth(csv_path: str | pathlib.Path, png_path: str | pathlib.Path,
                     title: str = "INT: queue depth at dequeue, per hop",
                     names: dict[int, str] | None = None) -> pathlib.Path:
    """Draw one line per (hop, switch), labelled with the switch's name when `names` has it,
    and save a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = load_series(csv_path)
    if not series:
        raise FabricError(f"{csv_path}: no INT records to plot")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for ((hop, switch_id), points), label in zip(series.items(), hop_labels(series, names or {})):
        ts, depths = zip(*points)
        ax.plot(ts, depths, marker=".", linewidth=1, label=label)
    ax.set_xlabel("time since first report (s)")
    ax.set_ylabel("queue depth (packets)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    out = pathlib.Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
