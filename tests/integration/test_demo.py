"""`fabriclab demo`, what `sudo make demo` runs (root, Mininet, about 1.5 minutes): the
headline experiment at its quick scale through the front door, as a user starts it. It
broke once without any test noticing: `fabriclab run` gained options the demo did not pass
on. Only what survives a loaded machine is asserted here (it finishes, writes its figure,
CSV and JSON with the headline, and prints the headline last); the claim's shape is
asserted in virtual time (tests/unit/vtime/test_vtime_adaptive_routing.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from experiments.adaptive_routing import headline_text
from experiments.adaptive_routing.params import params_for

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(900)]


def test_demo_runs_the_headline_experiment_and_writes_its_figure(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fabriclab", "demo", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=850)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (png,) = tmp_path.glob("*.png")
    (doc,) = tmp_path.glob("*.json")
    assert png.stat().st_size > 10_000 and list(tmp_path.glob("*.csv"))
    document = json.loads(doc.read_text())
    assert document["headline"]["allreduce_wrong_elements"] == 0
    link_mbps = params_for("quick", "emulate").link_mbps
    assert proc.stdout.strip().splitlines()[-1] == headline_text(document["headline"], link_mbps)
