"""The replay page in a real browser (headless system Chromium via Playwright), on a
synthetic recording: the graph's nodes and link directions, the slider moving the displayed
load, INT paths, a link's time series; and `fabriclab view`'s bad input. No root."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fabriclab.view.cli import check_address
from fabriclab.view.browser import ViewProcess, missing_browser, page
from controller.fabric import PortStats
from fabriclab.view.model import FrameMaker, Snapshot, SwitchSettings
from fabriclab.view.recorder import FORMAT, VERSION
from topologies.builders import leaf_spine

ARTIFACTS = Path("results/view")
MS = 10**6


def synthetic_recording(path: Path) -> tuple[dict, str, str]:
    """h1 sends at 0, 50, 100, 50, 0 % of its 100 Mb/s link, one frame per ms; h2 idles.
    Returns the document and the direction ids of h1 -> l1 and h2 -> l1."""
    topo = leaf_spine(2, 2, 2, downlink_bw=100.0)
    ids = {}
    for i, ln in enumerate(topo.links):
        if ln.a in ("h1", "h2"):
            ids[ln.a] = (f"{i}:ab", (ln.b, ln.b_port))
    maker = FrameMaker(topo)
    received = 0
    for step, pct in enumerate([0, 0, 50, 100, 50, 0]):
        received += int(100e6 / 8 * pct / 100 / 1000)  # bytes in 1 ms
        ports = {ids["h1"][1]: PortStats(rx_bytes=received, max_qdepth=10), ids["h2"][1]: PortStats()}
        paths = [["h1", "l1", "s1", "l2", "h3"]] if pct else []
        maker.add(Snapshot(step * MS, ports, qdepth={ids["h1"][1]: pct // 10},
                           switches={"l1": SwitchSettings("adaptive", "5-40")}, int_paths=paths))
    doc = {"format": FORMAT, "version": VERSION, "clock": "virtual",
           "topology": topo.to_dict(), "frames": list(maker.frames)}
    path.write_text(json.dumps(doc))
    return doc, ids["h1"][0], ids["h2"][0]


def pct(tab, edge: str) -> float:
    return tab.evaluate(f"fabricView.cy.getElementById('{edge}').data('pct')")


@pytest.fixture
def browser_ok():
    if reason := missing_browser():
        pytest.skip(reason)


def test_replay_page_draws_the_graph_and_follows_the_slider(tmp_path, browser_ok):
    doc, busy, idle = synthetic_recording(tmp_path / "rec.json")
    with ViewProcess("--replay", str(tmp_path / "rec.json")) as view:
        assert view.url, view.output
        assert view.url.startswith("http://127.0.0.1:")
        with page(view.url) as tab:
            tab.wait_for_function("document.body.dataset.frames >= 1")
            nodes = tab.evaluate("fabricView.cy.nodes().map(n => n.id()).sort()")
            assert nodes == sorted(n["name"] for n in doc["topology"]["nodes"])
            dirs = tab.evaluate("fabricView.cy.edges('.dir').length")
            assert dirs == 2 * len(doc["topology"]["links"])
            assert pct(tab, busy) == 0 and tab.locator("#status").get_attribute("data-level") == "ok"
            tab.locator("#slider").fill("3")  # the 100 % frame
            tab.wait_for_function("document.body.dataset.frames >= 2")
            assert pct(tab, busy) == 100.0 > pct(tab, idle) == 0
            assert tab.evaluate("fabricView.cy.edges('.int').length") == 4  # h1 l1 s1 l2 h3
            label = tab.evaluate("fabricView.cy.getElementById('l1').data('label')")
            assert "adaptive" in label and "5-40" in label
            tab.evaluate(f"fabricView.cy.getElementById('{busy}').emit('tap'); null")
            assert tab.locator("#sel-load").inner_text() == "100.0"
            assert "h1:0 → l1" in tab.locator("#details").inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / "replay.png"))
            tab.locator("#slider").fill("5")
            tab.wait_for_function("document.body.dataset.frames >= 3")
            assert pct(tab, busy) == 0 and tab.evaluate("fabricView.cy.edges('.int').length") == 0
    assert view.proc.returncode is not None


def fabriclab_view(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fabriclab", "view", *args],
                          capture_output=True, text=True, timeout=60)


def test_port_in_use_is_a_clear_error(tmp_path):
    synthetic_recording(tmp_path / "rec.json")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = fabriclab_view("--replay", str(tmp_path / "rec.json"), "--port", str(port))
    assert out.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("args, message", [
    (["--run", "no-such-run"], "no running network 'no-such-run'"),
    (["--run", "bad/name"], "bad run name"),
    (["--replay", "/nonexistent.json"], "no recording at /nonexistent.json"),
    (["--replay", "x.json", "--host", "0.0.0.0"], "add --listen-any"),
    (["--replay", "x.json", "--host", "localhost"], "give an IP address"),
    (["--replay", "x.json", "--port", "70000"], "0..65535"),
    (["--replay", "x.json", "--interval", "5"], "at least once a second"),
    ([], "one of the arguments --run --replay is required"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    out = fabriclab_view(*args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_listen_any_warns(capsys):
    """Checked without listening: tests serve on loopback only."""
    check_address("0.0.0.0", 0, listen_any=True)
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().err
    check_address("127.0.0.2", 0, listen_any=False)  # all of 127/8 is loopback
