"""A real `fabriclab clean` (no --run) leaves a standalone `fabriclab switch` alone and
removes what runs made: a marked switch, fl-named links and namespaces (issue 22).

A bare `clean` removes everything of every run on the machine, so the test gives it a
machine of its own: new PID, network and mount namespaces (`unshare`), with /proc, /sys
and /run/netns mounted for them and FABRICLAB_RUN_ROOT in a scratch folder. Everything in
the PID namespace dies with its first process, so nothing outlives the test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")]

FABRICLAB = [sys.executable, "-m", "fabriclab"]

# Runs as PID 1 of the new namespaces; prints what it found as one JSON line.
INSIDE = r"""
import json, os, subprocess, sys, time
from pathlib import Path

def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)

sh("mount", "-t", "sysfs", "sysfs", "/sys")            # /sys/class/net: this namespace's links
os.makedirs("/run/netns", exist_ok=True)
sh("mount", "-t", "tmpfs", "tmpfs", "/run/netns")      # `ip netns` sees only ours
sh("ip", "link", "set", "lo", "up")
sh("ip", "link", "add", "flvclean0", "type", "veth", "peer", "name", "flvclean1")  # a run's
sh("ip", "link", "add", "user0", "type", "veth", "peer", "name", "user1")          # a user's
for name in ("fl-clean-ns", "user-ns"):
    sh("ip", "netns", "add", name)
for dev in ("flvclean0", "user0"):
    sh("ip", "link", "set", dev, "up")
fabriclab = json.loads(sys.argv[1])

def switch(ifname, device, port, env):
    return subprocess.Popen([*fabriclab, "switch", "--no-p4", "-i", f"1@{ifname}",
                             "--device-id", str(device), "--grpc-server-addr", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

standalone = switch("user0", 1, 50051, dict(os.environ))
marked = switch("flvclean0", 2, 50052, {**os.environ, "FABRICLAB_RUN": "clean-test-run"})
for proc in (standalone, marked):
    line = proc.stdout.readline()
    assert "ready" in line, line + proc.stdout.read()
(Path(os.environ["FABRICLAB_RUN_ROOT"]) / "finished-run").mkdir()   # a finished run's folder
done = subprocess.run([*fabriclab, "clean", "--keep", "0"], capture_output=True, text=True)
links = os.listdir("/sys/class/net")
namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
print(json.dumps({
    "clean": [done.returncode, done.stdout.strip(), done.stderr.strip()],
    "standalone_alive": standalone.poll() is None,
    "marked_alive": marked.poll() is None,
    "links": sorted(links),
    "namespaces": sorted(line.split()[0] for line in namespaces.splitlines() if line.split()),
    "folders": sorted(p.name for p in Path(os.environ["FABRICLAB_RUN_ROOT"]).iterdir()),
}), flush=True)
standalone.terminate()
standalone.wait(timeout=30)
"""


def test_clean_leaves_a_standalone_switch_and_removes_a_runs_things(tmp_path):
    env = {**os.environ, "FABRICLAB_RUN_ROOT": str(tmp_path / "run")}
    env.pop("FABRICLAB_RUN", None)
    (tmp_path / "run").mkdir()
    done = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "--net", "--mount",
                           sys.executable, "-c", INSIDE, json.dumps(FABRICLAB)],
                          cwd=Path(__file__).resolve().parents[3], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    code, said, err = found["clean"]
    assert code == 0, err
    assert found["standalone_alive"], said
    assert not found["marked_alive"], said
    assert "user0" in found["links"] and "flvclean0" not in found["links"]
    assert found["namespaces"] == ["user-ns"]
    assert "finished-run" not in found["folders"]
