"""`fabriclab view --run` on a real `fabriclab net` (root): a 2x2x1 leaf-spine with one UDP
sender, the page in headless Chromium. The graph has the topology's nodes and link
directions, the loaded link's displayed load rises above an idle one's, the page keeps
updating, a `fabriclab ctl mode` change shows up (the view takes no mastership), INT paths
from the collector's CSV are drawn, and when the network stops the page says so while the
server keeps running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from controller.route_installer import RouteInstaller
from fabriclab.net import clean
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.paths import RunDir
from fabriclab.view.browser import ViewProcess, missing_browser, page
from fabriclab.view.model import direction_id
from topologies import builders
from topologies.addressing import Addressing

pytestmark = [pytest.mark.root, pytest.mark.timeout(400)]

ARTIFACTS = Path("results/view")
# ~4 Mb/s of 1000-byte UDP datagrams (40 % of a 10 Mb/s link) for `seconds`
SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    s.sendto(b"x" * 1000, (sys.argv[1], 9999))
    time.sleep(0.002)
"""


def write_int_csv(path: Path, topo, switches: list[str]) -> None:
    """One INT report of a packet h1 -> h2 through `switches`, as the collector writes it."""
    a = Addressing(topo)
    rows = ["recv_time_s,reporter,seq,src,dst,sport,dport,hop,switch_id"]
    for hop, sw in enumerate(switches):
        rows.append(f"1.0,3,1,{a.ip('h1')},{a.ip('h2')},5000,9999,{hop},{topo.switch_index(sw) + 1}")
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture
def run_name():
    run = f"t-view-{os.getpid()}"
    yield run
    clean.clean_run(run)
    shutil.rmtree(RunDir(run).path, ignore_errors=True)


def test_live_view_of_a_running_net(run_name):
    if reason := missing_browser():
        pytest.skip(reason)
    topo = builders.leaf_spine(leaves=2, spines=2, hosts_per_leaf=1, downlink_bw=10.0)
    loaded = direction_id(topo, "h1", "l1")
    uplinks = [direction_id(topo, "l1", s) for s in ("s1", "s2")]
    config = NetConfig(run=run_name, grpc_base_port=31000 + os.getpid() % 500)
    net = FabricNet(topo, config, controller=RouteInstaller())
    sender = view = None
    try:
        net.start()
        assert net.pingall() == 0
        sender = net.host("h1").popen([sys.executable, "-c", SENDER,
                                       str(Addressing(topo).ip("h2")), "120"])
        view = ViewProcess("--run", run_name, "--interval", "0.5")
        assert view.url and view.url.startswith("http://127.0.0.1:"), view.output
        with page(view.url) as tab:
            tab.wait_for_function("document.body.dataset.frames >= 2", timeout=60_000)
            nodes = tab.evaluate("fabricView.cy.nodes().map(n => n.id()).sort()")
            assert nodes == sorted(topo.nodes)
            assert tab.evaluate("fabricView.cy.edges('.dir').length") == 2 * len(topo.links)
            # h1 -> l1 carries the flow; ECMP puts it on one uplink, the other stays idle
            pcts = (f"['{loaded}', '{uplinks[0]}', '{uplinks[1]}']"
                    ".map(id => fabricView.cy.getElementById(id).data('pct'))")
            tab.wait_for_function(f"(([h, u1, u2]) => h > 10 && h > Math.min(u1, u2) + 5)({pcts})",
                                  timeout=60_000)
            busy, up1, up2 = tab.evaluate(pcts)
            label = tab.evaluate("fabricView.cy.getElementById('l1').data('label')")
            assert "ecmp" in label and "ECN off" in label, label
            # the view holds no mastership: ctl still programs the switches, the page shows it
            ctl = subprocess.run([sys.executable, "-m", "fabriclab", "ctl", "--run", run_name,
                                  "mode", "adaptive"], capture_output=True, text=True, timeout=60)
            assert ctl.returncode == 0, ctl.stderr
            tab.wait_for_function("fabricView.cy.getElementById('l1').data('label')"
                                  ".includes('adaptive')", timeout=30_000)
            # INT paths: the collector's CSV in the run directory is picked up when it changes
            write_int_csv(RunDir(run_name).path / "int.csv", topo, ["l1", "s2", "l2"])
            tab.wait_for_function("fabricView.cy.edges('.int').length === 4", timeout=30_000)
            seen, start = int(tab.evaluate("document.body.dataset.frames")), time.monotonic()
            tab.wait_for_function(f"document.body.dataset.frames >= {seen + 6}", timeout=30_000)
            print(f"page updates: {6 / (time.monotonic() - start):.2f} frames/s")
            assert tab.locator("#status").get_attribute("data-level") == "ok"
            tab.evaluate(f"fabricView.cy.getElementById('{loaded}').emit('tap'); null")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / "live.png"))
            print(f"displayed load: h1->l1 {busy} %, l1 uplinks {up1} % / {up2} %")
            sender.terminate()
            net.stop()  # the run ends while the page is open
            tab.wait_for_function(
                "document.getElementById('status').dataset.level === 'ended'", timeout=30_000)
            assert "has ended" in tab.locator("#status").inner_text()
        assert view.proc.poll() is None, view.output  # still serving after the run ended
    finally:
        if sender is not None and sender.poll() is None:
            sender.kill()
        net.stop()
        if view is not None:
            assert view.stop() == 0, view.output
