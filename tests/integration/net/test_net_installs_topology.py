"""`fabriclab net` installs what its topology declares: a multi-site net's border switches
carry their DCI role from the start, and the topology's tenants are metered before any
`fabriclab ctl tenant` command. Without root: RouteInstaller against switch processes on
127.0.0.1, entries read back. As root (Mininet): what ctl reads back over P4Runtime and a
ping flood's colour counters show both, and a net started again under the same run name
does not inherit ctl's state of the last one."""

import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager

import pytest

from controller.fabric import FABRIC_P4, FabricController
from controller.route_installer import RouteInstaller
from fabriclab.launch.collective import hosts_of_run
from fabriclab.net import clean
from fabriclab.paths import RunDir
from fabriclab.switch.artifact import compile_builtin
from fabriclab.switch.spawn import start_switch, stop_switch
from topologies import builders
from topologies.addressing import Addressing

pytestmark = [pytest.mark.timeout(300)]

PY = sys.executable
# ping's 1428-byte frames at 50 pps or more exceed the cap: greens, then yellows and reds
GUARANTEED_BPS, CAP_BPS = 200e3, 500e3


def ctl(run: str, *args: str) -> str:
    """A ctl command on the run (it finds the run's gRPC ports itself); its stdout."""
    done = subprocess.run([PY, "-m", "fabriclab", "ctl", "--run", run, *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def small_multi_site():
    """Two sites of one leaf, spine, host and border each, host h1 a tenant."""
    topo = builders.multi_site(sites=2, leaves=1, spines=1, hosts_per_leaf=1, borders=1, dci_delay_us=1000)
    topo.add_tenant("A", ["h1"], GUARANTEED_BPS, CAP_BPS, queue=1)
    return topo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_route_installer_writes_the_border_role_and_tenants(tmp_path):
    topo = small_multi_site()
    addresses = {sw.name: f"127.0.0.1:{free_port()}" for sw in topo.switches()}
    switches, installer = [], RouteInstaller()
    try:
        for sw in topo.switches():
            switches.append(start_switch(["--no-p4", "--grpc-server-addr", addresses[sw.name],
                                          "--device-id", str(topo.switch_index(sw.name)),
                                          "--admin-socket", str(tmp_path / f"{sw.name}.sock")])[0])
        installer.start(topo, Addressing(topo), addresses, compile_builtin(FABRIC_P4))
        assert installer.declared == ["border role on b1, b2", "tenants A"]
        ctl = FabricController(topo, installer.clients)  # what `fabriclab ctl` computes
        for border in ("b1", "b2"):
            assert "role border" in ctl.border(border) and "NOT installed" not in ctl.border(border)
        h1 = str(Addressing(topo).ip("h1"))
        for name, client in installer.clients.items():
            (entry,) = client.read_table("FabricIngress.tenants.tenant_classify")
            assert int.from_bytes(entry.match[0].lpm.value, "big") == int(ipaddress.IPv4Address(h1))
            assert len(client.read_table("FabricIngress.tenants.tenant_policy")) == 2  # yellow, red
    finally:
        installer.stop()
        for proc in switches:
            stop_switch(proc)


def colours(listing: str, tenant: str) -> dict[str, int]:
    (line,) = [ln for ln in listing.splitlines() if ln.startswith(f"{tenant}:")]
    return {c: int(n) for c, n in re.findall(r"(green|yellow|red) (\d+)", line)}


@contextmanager
def running_net(run: str, *topology: str):
    """`fabriclab net TOPOLOGY... --run RUN` up until the block ends; then Ctrl-C, and
    nothing of the run may be left."""
    net = subprocess.Popen([PY, "-m", "fabriclab", "net", *topology, "--run", run,
                            "--grpc-base-port", str(36000 + 10 * (os.getpid() % 400))],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in net.stdout:
            if "fabriclab net: up" in line:
                break
        else:
            pytest.fail(f"net never came up (exit {net.wait()})")
        yield
    finally:
        net.send_signal(signal.SIGINT)
        try:
            net.wait(timeout=60)
        except subprocess.TimeoutExpired:
            net.kill()
            net.wait()
        net.stdout.close()
        clean.clean_run(run)
    assert clean.run_processes(run) == []


@pytest.mark.root
def test_multi_site_net_starts_with_border_roles_and_tenants(tmp_path):
    run = f"t-declared-{os.getpid()}"
    topo = small_multi_site()
    topo_file = tmp_path / "topo.json"
    topo_file.write_text(topo.to_json())
    with running_net(run, str(topo_file)):
        dci = next(p for p, peer, _, _ in topo.neighbors("b1") if peer == "b2")
        stats = ctl(run, "stats", "b1")
        assert "b1: site 0, role border" in stats
        assert re.search(rf"^\s*{dci}\s+b2\s+1\s", stats, re.M), stats  # the DCI port's row
        assert "NOT installed" not in stats, stats

        before = ctl(run, "tenant", "list")
        assert "A: hosts h1" in before and "(topology)" in before, before
        (spawn,), _ = hosts_of_run(run, ["h1"])
        ping = spawn(["ping", "-q", "-c", "300", "-i", "0.002", "-s", "1400", "-W", "1",
                      str(Addressing(topo).ip("h2"))])
        out, err = ping.communicate(timeout=60)
        assert "packets transmitted" in out, out + err
        after = colours(ctl(run, "tenant", "list"), "A")
        moved = {c: after[c] - colours(before, "A")[c] for c in after}
        print(f"\ntenant A's packets over the flood, summed over the switches: {moved}; ping: "
              f"{out.strip().splitlines()[-2]}")
        # counted under A's id: classified by the topology's entries, metered at its rates
        assert moved["green"] > 0 and moved["yellow"] > 0 and moved["red"] > 0, moved
        assert not re.search(r"(?<![\d.])0% packet loss", out), out  # the reds were dropped
    shutil.rmtree(RunDir(run).path, ignore_errors=True)  # passed: its logs are not needed


@pytest.mark.root
def test_a_run_started_again_forgets_what_ctl_kept_for_the_last_one():
    """ctl keeps its tenants (and down links, modes) in the run's folder; a new net of the
    same run name starts from its topology only, so ctl does not claim what it lacks."""
    run, small = f"t-restart-{os.getpid()}", ("leaf-spine", "--leaves", "1", "--spines", "1")
    with running_net(run, *small):
        ctl(run, "tenant", "add", "B", "--hosts", "h2", "--guaranteed", "1", "--cap", "2")
        assert "B: hosts h2" in ctl(run, "tenant", "list")
    with running_net(run, *small):
        assert ctl(run, "tenant", "list").strip() == "no tenants"
    shutil.rmtree(RunDir(run).path, ignore_errors=True)
