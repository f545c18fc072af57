"""Recording a virtual-time fabric for replay: the loaded path shows load, idle links none,
and the file round-trips through `load`; damaged files are one-line errors. No root."""

from __future__ import annotations

import json

import pytest

from fabriclab.errors import FabricError
from fabriclab.view.model import direction_id
from fabriclab.view.recorder import Recorder, load
from fabriclab.vtime.fabric import Fabric
from fabriclab.vtime.frames import ip_bytes, mac_bytes, udp_frame
from topologies.addressing import Addressing
from topologies.builders import leaf_spine

US = 1000


def blast(fabric: Fabric, src: str, dst: str, count: int, gap_ns: int, size: int = 1000) -> None:
    """`count` UDP frames from host `src` to `dst`, one every `gap_ns` from t = 0."""
    nic = fabric.endpoint(src).addr
    frame = udp_frame(mac_bytes(nic.mac), mac_bytes(nic.gateway_mac), ip_bytes(str(nic.ip.ip)),
                      ip_bytes(str(Addressing(fabric.topo).ip(dst))), 40000, 50000,
                      bytes(size - 42))
    wire = fabric.endpoint(src).wire
    for i in range(count):
        fabric.at(i * gap_ns, lambda: wire.send(frame, fabric.now))


def recorded(tmp_path):
    topo = leaf_spine(2, 2, 2, downlink_bw=100.0)  # 100 Mb/s everywhere
    fabric = Fabric(topo, seed=1)
    blast(fabric, "h1", "h3", count=40, gap_ns=100 * US)  # 1000 B / 100 us = 80 Mb/s
    rec = Recorder(fabric, period_ns=500 * US)
    rec.start(until_ns=5_000 * US)
    fabric.run()
    return topo, rec.write(tmp_path / "rec.json")


def test_recording_shows_the_loaded_path_and_round_trips(tmp_path):
    topo, path = recorded(tmp_path)
    doc = load(path)
    frames = doc["frames"]
    assert [round(f["t"] * 1e6) for f in frames] == [i * 500 for i in range(11)]
    busy = frames[3]  # 1.0 .. 1.5 ms: the blast is on
    assert 70 <= busy["loads"][direction_id(topo, "h1", "l1")]["pct"] <= 90
    assert 70 <= busy["loads"][direction_id(topo, "l2", "h3")]["pct"] <= 90
    assert busy["loads"][direction_id(topo, "h2", "l1")]["pct"] == 0.0
    assert busy["loads"][direction_id(topo, "h4", "l2")]["pct"] == 0.0
    # one spine carries it (ECMP picks one path per flow), the other stays idle
    spines = [busy["loads"][direction_id(topo, "l1", s)]["pct"] for s in ("s1", "s2")]
    assert sorted(spines)[0] == 0.0 and 70 <= sorted(spines)[1] <= 90
    assert frames[-1]["loads"][direction_id(topo, "h1", "l1")]["pct"] == 0.0  # done by 4 ms
    assert busy["switches"]["l1"] == {"mode": "ecmp", "ecn": "off"}
    assert {n["id"] for n in doc["graph"]["nodes"]} == set(topo.nodes)


@pytest.mark.parametrize("content, message", [
    (None, "no recording"),
    ("{", "not a view recording"),
    (json.dumps({"format": "x"}), "not a fabriclab-view-recording"),
    (json.dumps({"format": "fabriclab-view-recording", "version": 1, "topology": {}}),
     "not a fabriclab-topology"),
])
def test_bad_recordings_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(FabricError, match=message):
        load(path)


def test_recording_without_frames_is_refused(tmp_path):
    topo, path = recorded(tmp_path)
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "frames": []}))
    with pytest.raises(FabricError, match="no frames"):
        load(path)
