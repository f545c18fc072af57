"""Record a virtual-time fabric for `fabriclab view --replay FILE`.

    fabric = Fabric(topo, ...)
    recorder = Recorder(fabric, period_ns=1_000_000)
    recorder.start(until_ns=50_000_000)      # samples every period of *virtual* time
    fabric.run(...)
    recorder.write("results/sim-view.json")

Each sample reads the switches through the fabric's in-process P4Runtime clients with the
same reads as the live view, so a replay shows what the live view would have shown. The
file is JSON: the graph and every frame (times in virtual seconds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fabriclab.errors import FabricError
from fabriclab.view import reads
from fabriclab.view.model import FrameMaker, graph
from topologies.graph import Topology

FORMAT = "fabriclab-view-recording"
VERSION = 1


class Recorder:
    def __init__(self, fabric: Any, period_ns: int = 1_000_000) -> None:
        if period_ns <= 0:
            raise FabricError(f"recording period must be > 0 ns, got {period_ns}")
        self.fabric, self.period_ns = fabric, period_ns
        self.maker = FrameMaker(fabric.topo, history_ns=1 << 62)  # keep every frame
        self.until_ns = 0

    def start(self, until_ns: int) -> None:
        """Sample now and every period up to `until_ns` (a bound, so the event loop still
        runs dry when the traffic is done)."""
        self.until_ns = until_ns
        self.fabric.at(self.fabric.now, self._sample)

    def _sample(self) -> None:
        now = self.fabric.now
        self.maker.add(reads.sample(self.fabric.controller, lambda: now))
        if now + self.period_ns <= self.until_ns:
            self.fabric.at(now + self.period_ns, self._sample)

    def recording(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "clock": "virtual",
                "topology": self.fabric.topo.to_dict(), "graph": graph(self.fabric.topo),
                "frames": list(self.maker.frames)}

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.recording()))
        return path


def load(path: Path) -> dict[str, Any]:
    """A recording, checked enough that the page never gets something it cannot draw."""
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FabricError(f"no recording at {path}") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise FabricError(f"{path}: not a view recording ({str(err)[:120]})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise FabricError(f"{path}: not a {FORMAT} v{VERSION} file")
    topo = Topology.from_dict(doc.get("topology"))  # FabricError for a damaged graph
    frames = doc.get("frames")
    if not isinstance(frames, list) or not all(
            isinstance(f, dict) and isinstance(f.get("t"), (int, float)) for f in frames):
        raise FabricError(f"{path}: 'frames' must be a list of frames with a time 't'")
    if not frames:
        raise FabricError(f"{path}: the recording has no frames")
    return {**doc, "graph": graph(topo)}
