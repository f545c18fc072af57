"""All ranks in one agent process over real network namespaces (root): each rank's sockets
live in its own namespace (its address exists only there, and its packets cross its own
veth), every rank's data checks, and a signal ends the run with nothing left behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.utils import rdpcap

from fabriclab.launch.collective import launch
from fabriclab.launch.netns import BridgeFabric
from fabriclab.launch.placement import in_pid_netns
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.runs import RunOptions, summarize

pytestmark = [pytest.mark.root, pytest.mark.timeout(240)]

OPTS = RunOptions(iters=2, warmup=0, line_rate=200e6, mode="ooo")


def addresses_here() -> str:
    return subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout


def test_an_alltoall_over_three_namespaces_in_one_process(tmp_path):
    spec = CollectiveSpec("alltoall", 3, 192 << 10)
    with BridgeFabric(3, pcap_dir=tmp_path) as fabric:
        addrs = [ip for ip, _ in fabric.addrs]
        assert not any(f"inet {ip}/" in addresses_here() for ip in addrs)  # bindable only in its namespace
        results = launch(fabric.spawns, fabric.addrs, spec, OPTS, timeout=120, agents="shared")
        pcaps = list(fabric.pcaps)
    assert [r["rank"] for r in results] == [0, 1, 2]
    assert all(r["done"] and r["error"] is None and r["wrong"] == 0 for r in results)
    assert [r.get("agent_ranks") for r in results] == [3, 3, 3]
    assert summarize(spec, results).wrong == 0
    for me, pcap in enumerate(pcaps):  # host me's port carries its rank's packets, from its address
        sent = [p for p in rdpcap(str(pcap)) if UDP in p and p[UDP].dport == ROCE_PORT and p[IP].src == addrs[me]]
        assert {p[IP].dst for p in sent} == set(addrs) - {addrs[me]}
        assert len(sent) >= results[me]["nic"]["tx_packets"] * 0.9  # a busy capture may miss a few


def test_namespaces_of_processes_too():
    """As on a Mininet net: each rank's namespace is a process's (/proc/PID/ns/net)."""
    spec = CollectiveSpec("allreduce", 2, 64 << 10)
    with BridgeFabric(2) as fabric:
        shells = [subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", "echo up; exec sleep 120"],
                                   stdout=subprocess.PIPE, text=True) for ns in fabric.namespaces]
        try:
            assert all(s.stdout.readline() == "up\n" for s in shells)
            results = launch([in_pid_netns(s.pid) for s in shells], fabric.addrs, spec, OPTS, timeout=120,
                             agents="shared")
        finally:
            for s in shells:
                s.kill()
                s.wait()
                s.stdout.close()
    assert all(r["done"] and r["wrong"] == 0 and r["agent_ranks"] == 2 for r in results)


def shared_agents_of(pid: int) -> list[int]:
    """Children of `pid` that are shared agents (`--me` with several ranks)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("PPid:")))
        if ppid == pid and b"fabriclab.launch.agent" in args and b"--netns" in args:
            found.append(int(proc.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_a_shared_run_and_removes_everything(sig):
    proc = subprocess.Popen([sys.executable, "-m", "fabriclab", "collective", "allreduce", "--netns", "2",
                             "--agents", "shared", "--size", "4M", "--rate", "10M", "--iters", "50",
                             "--timeout", "300"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, agents = time.monotonic() + 60, []
        while not agents and time.monotonic() < deadline and proc.poll() is None:
            agents = shared_agents_of(proc.pid)
            time.sleep(0.2)
        assert len(agents) == 1, f"no shared agent started ({proc.poll()})"
        args = Path(f"/proc/{agents[0]}/cmdline").read_bytes().split(b"\0")
        first = args[args.index(b"--netns") + 1].decode().split(",")[0]  # /run/netns/fl-<tag>-h0
        tag = first.rsplit("/", 1)[-1].split("-")[1]
        time.sleep(1.0)  # running: every rank bound and sending
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not Path(f"/proc/{agents[0]}").exists() or "zombie" in Path(f"/proc/{agents[0]}/status").read_text()
    assert not list(Path("/run/netns").glob(f"fl-{tag}-*")), "namespaces left behind"


@pytest.mark.parametrize("extra, layout", [([], [None, None]), (["--agents", "shared"], [2, 2])])
def test_netns_runs_one_agent_per_host_unless_told(tmp_path, extra, layout):
    """A kernel bridge leaves every core to the hosts: --netns keeps a process per host."""
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "fabriclab", "collective", "alltoall", "--netns", "2",
                           "--size", "32K", "--iters", "1", "--json", str(out), *extra],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ranks = json.loads(out.read_text())["runs"][0]["ranks"]
    assert [r.get("agent_ranks") for r in ranks] == layout and all(r["wrong"] == 0 for r in ranks)
