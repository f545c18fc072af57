"""`fabriclab net` on real Mininet with built-in P4 switches (root).

Every test uses its own run name and gRPC ports, and checks that the run left no
process, veth or namespace behind, including when the run is SIGKILLed mid-way.
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from controller.route_installer import RouteInstaller
from fabriclab.errors import FabricError
from fabriclab.net import clean
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.net.program import default_program
from fabriclab.paths import RunDir, p4src
from topologies import builders
from topologies.addressing import Addressing

pytestmark = [pytest.mark.root, pytest.mark.timeout(300)]

BASIC = p4src("basic.p4")
NET = [sys.executable, "-m", "fabriclab", "net"]


def needs_toolchain():
    from fabriclab import p4

    if not hasattr(p4, "compile_file"):
        pytest.skip("toolchain (fabriclab.p4.compile_file) not in this tree yet")


def base_port(offset: int) -> int:
    return 29000 + 100 * offset + os.getpid() % 50


def assert_nothing_left(run: str, links: list[str]) -> None:
    """No process of the run (Mininet's host shells hold its namespaces), no veth of it.
    Other engineers' fl-* objects may exist meanwhile: only ours are checked."""
    assert clean.run_processes(run) == []
    assert not set(links) & set(clean.existing_links())


@pytest.fixture
def run_name(request):
    run = f"t-{request.node.name[:30]}-{os.getpid()}".replace("[", "-").replace("]", "")
    failed_before = request.session.testsfailed
    yield run
    done = clean.clean_run(run)  # make sure, whatever happened
    links = RunDir(run).recorded_links()
    assert_nothing_left(run, links)
    assert done.processes == [], f"the run left processes behind: {done}"
    if request.session.testsfailed == failed_before:  # keep the logs of failed tests only
        shutil.rmtree(RunDir(run).path, ignore_errors=True)


def ping_rtts(host, ip: str, count: int = 20) -> list[float]:
    out = host.cmd(f"ping -c {count} -i 0.1 -W 2 {ip}")
    rtts = [float(x) for x in re.findall(r"time=([0-9.]+) ms", out)]
    assert rtts, f"no ping replies from {ip}:\n{out}"
    return rtts


@pytest.mark.parametrize("program", sorted({BASIC, default_program()}), ids=lambda p: p.stem)
def test_leaf_spine_pingall(run_name, program):
    needs_toolchain()
    topo = builders.leaf_spine(leaves=2, spines=2, hosts_per_leaf=2)
    config = NetConfig(program=program, run=run_name, grpc_base_port=base_port(1))
    with FabricNet(topo, config, controller=RouteInstaller()) as net:
        assert net.pingall() == 0
        # 8 priority queues by default: the fabric controller uses priorities 0..7
        assert "--priority-queues 8" in net.rundir.log("l1").read_text().splitlines()[0]
        # the route really crosses the fabric: TTL drops by 3 switches (leaf, spine, leaf)
        out = net.host("h1").cmd(f"ping -c 1 -W 2 {Addressing(topo).ip('h4')}")
        assert "ttl=61" in out


def test_rail_and_scaleup_nics_reach_their_own_switch(run_name):
    needs_toolchain()
    topo = builders.rail_optimized(hosts=2, rails=2, spines=1, scaleup=builders.ScaleUp(2))
    a = Addressing(topo)
    with FabricNet(topo, NetConfig(program=BASIC, run=run_name, grpc_base_port=base_port(5)),
                   controller=RouteInstaller()) as net:
        h1 = net.host("h1")
        for nic in (0, 1, 2):  # rail 0, rail 1, scale-up: one router each (TTL 64 -> 63)
            out = h1.cmd(f"ping -c 1 -W 2 {a.ip('h2', nic)}")
            assert "ttl=63" in out, out
        assert net.pingall() == 0


def test_multi_site_rtt_is_twice_the_dci_delay_higher(run_name):
    needs_toolchain()
    topo = builders.multi_site(sites=2, leaves=2, spines=1, hosts_per_leaf=1, dci_delay_us=10_000)
    a = Addressing(topo)
    with FabricNet(topo, NetConfig(program=BASIC, run=run_name, grpc_base_port=base_port(2)),
                   controller=RouteInstaller()) as net:
        h1 = net.host("h1")
        ping_rtts(h1, str(a.ip("h3")), 2)  # warm up
        local = ping_rtts(h1, str(a.ip("h2")))
        remote = ping_rtts(h1, str(a.ip("h3")))
    print(f"RTT within site min {min(local):.2f} / median {statistics.median(local):.2f} ms, "
          f"across sites min {min(remote):.2f} / median {statistics.median(remote):.2f} ms")
    # min: the path's own latency, without the scheduling noise of a shared 2-core machine
    local, remote = min(local), min(remote)
    assert abs((remote - local) - 20.0) <= 3.0


def test_jumbo_mtu_crosses_the_fabric(run_name):
    """Both ends of every veth get the MTU (a veth drops frames above its receiving end's
    MTU) and a host's tbf holds two jumbo frames even where 1 ms of its rate is less (tbf
    drops a frame larger than its bucket)."""
    needs_toolchain()
    topo = builders.leaf_spine(leaves=2, spines=1, hosts_per_leaf=1, downlink_bw=10)
    config = NetConfig(program=BASIC, run=run_name, grpc_base_port=base_port(8), mtu=9000)
    with FabricNet(topo, config, controller=RouteInstaller()) as net:
        switch_ends = {name: int(Path(f"/sys/class/net/{name}/mtu").read_text()) for name in net.veth_names()}
        assert switch_ends == dict.fromkeys(net.veth_names(), 9000)
        for host in topo.hosts():
            h = net.host(host.name)
            for port, _, _, _ in topo.neighbors(host.name):
                assert h.cmd(f"cat /sys/class/net/eth{port}/mtu").strip() == "9000"
                (qdisc,) = json.loads(h.cmd(f"tc -j qdisc show dev eth{port} root"))
                assert qdisc["kind"] == "tbf" and qdisc["options"]["burst"] >= 2 * 9000
        out = net.host("h1").cmd(f"ping -c 3 -i 0.2 -W 2 -M do -s 8972 {Addressing(topo).ip('h2')}")
    assert "3 received" in out, out


def test_bad_parameters_create_nothing(run_name):
    ours = FabricNet(builders.leaf_spine(), NetConfig(run=run_name)).veth_names()
    for argv, message in ((["leaf-spine", "--leaves", "0"], "leaves must be >= 1"),
                          (["multi-site", "--sites", "1"], "sites must be >= 2"),
                          (["leaf-spine", "--program", "/nonexistent.p4"], "no P4 program at"),
                          (["leaf-spine", "--target", "bmv2"], "needs simple_switch_grpc"),
                          (["leaf-spine", "--priority-queues", "0"],
                           "priority queues must be at least 1")):
        done = subprocess.run([*NET, *argv, "--run", run_name], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2, done
        assert message in done.stderr and "Traceback" not in done.stderr
    assert not set(ours) & set(clean.existing_links())
    assert not RunDir(run_name).path.exists()


def test_switch_that_fails_to_start_says_why(run_name):
    needs_toolchain()
    config = NetConfig(program=BASIC, run=run_name, grpc_base_port=base_port(6),
                       switch_args=("--queue-depth", "1@0"))
    with pytest.raises(FabricError) as err:
        FabricNet(builders.leaf_spine(leaves=1, spines=1, hosts_per_leaf=1), config,
                  controller=RouteInstaller()).start()
    assert "P4 switch s1 (builtin) did not start correctly" in str(err.value)
    assert "--queue-depth: queue depth must be at least 1" in str(err.value)  # the log's tail


def switches_of(run: str) -> list[int]:
    return [p for p in clean.run_processes(run) if clean.is_switch_process(p)]


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP], ids=["SIGKILL", "SIGHUP"])
def test_killed_net_leaves_no_switch_and_the_run_restarts(run_name, sig):
    """A SIGKILLed or hung-up `fabriclab net`: its switches die with it (PR_SET_PDEATHSIG,
    SIGHUP handled like SIGTERM) within 5 s, and the same run name comes up again (its
    start removes what the killed run left)."""
    needs_toolchain()
    topo = builders.leaf_spine(leaves=2, spines=1, hosts_per_leaf=1)
    argv = [*NET, "leaf-spine", "--leaves", "2", "--spines", "1", "--hosts-per-leaf", "1",
            "--run", run_name, "--program", str(BASIC), "--grpc-base-port", str(base_port(3))]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if "Ctrl-C to stop" in line:
                break
        assert len(switches_of(run_name)) == len(topo.switches())
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert wait_until(lambda: not switches_of(run_name), 5.0), switches_of(run_name)
    again = subprocess.run([*argv, "--pingall"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0% dropped (2/2 received)" in again.stdout + again.stderr


def test_net_prints_its_switch_table_and_comes_up_beside_a_time_wait(run_name):
    """A TIME_WAIT left by an earlier run's gRPC server on the first port (the controller
    connected, the server closed first) does not stop `net --pingall`; a port held by a live
    listener moves the run to the next free block, and `net` says which."""
    needs_toolchain()
    base = base_port(8)
    with socket.socket() as grpc_like:
        grpc_like.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        grpc_like.bind(("127.0.0.1", base))
        grpc_like.listen()
        client = socket.create_connection(("127.0.0.1", base))
        conn, _ = grpc_like.accept()
        conn.close()
        client.recv(1)
        client.close()  # base is now in TIME_WAIT
    argv = [*NET, "leaf-spine", "--leaves", "2", "--spines", "1", "--hosts-per-leaf", "1",
            "--pingall", "--run", run_name, "--program", str(BASIC)]
    done = subprocess.run([*argv, "--grpc-base-port", str(base)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"s1\s+0\s+127\.0\.0\.1:{base}\s+1:l1 2:l2", done.stdout), done.stdout
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", base + 1))
        holder.listen()
        moved = subprocess.run([*argv, "--grpc-base-port", str(base)], capture_output=True,
                               text=True, timeout=120)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert (f"gRPC ports {base + 1} in use: using {base + 3}-{base + 5} instead"
            in moved.stdout)
    assert f"127.0.0.1:{base + 3}" in moved.stdout


def test_a_grpc_port_taken_during_start_up_moves_the_run(run_name, monkeypatch, capsys):
    """Another run takes a port between preflight and the switches binding it (two runs
    started at once): the switch refuses to share it, and the network comes up again on
    the next free block, saying so."""
    needs_toolchain()
    base = base_port(9)
    holder = socket.socket()
    pick = FabricNet._pick_grpc_ports

    def pick_then_lose_one(self: FabricNet) -> None:
        pick(self)
        if self.config.grpc_base_port == base:  # the first start only
            holder.bind(("127.0.0.1", base + 1))
            holder.listen()

    monkeypatch.setattr(FabricNet, "_pick_grpc_ports", pick_then_lose_one)
    topo = builders.leaf_spine(leaves=2, spines=1, hosts_per_leaf=1)
    try:
        with FabricNet(topo, NetConfig(program=BASIC, run=run_name, grpc_base_port=base),
                       controller=RouteInstaller()) as net:
            assert net.config.grpc_base_port == base + 3
            assert net.pingall() == 0
    finally:
        holder.close()
    assert (f"gRPC port {base + 1} was taken while the switches started: starting again "
            "on the next free ports") in capsys.readouterr().out


def test_cli_pingall(run_name, tmp_path):
    needs_toolchain()
    saved = tmp_path / "topo.json"
    done = subprocess.run([*NET, "leaf-spine", "--leaves", "2", "--spines", "1",
                           "--hosts-per-leaf", "1", "--pingall", "--run", run_name,
                           "--program", str(BASIC), "--grpc-base-port", str(base_port(7)),
                           "--save-topology", str(saved)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "h2 eth0 10.0.2.1/24 -> l2 port 1" in done.stdout
    assert "0% dropped (2/2 received)" in done.stdout + done.stderr
    assert "leaf-spine-2x1x1" in saved.read_text()


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_sigint_tears_down(run_name, inherited):
    """Ctrl-C ends the net, also when it was started with SIGINT ignored (`fabriclab net &`
    from a non-interactive script): net re-arms it."""
    needs_toolchain()
    proc = subprocess.Popen([*NET, "leaf-spine", "--leaves", "1", "--spines", "1", "--run", run_name,
                             "--program", str(BASIC), "--grpc-base-port", str(base_port(4))],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_ignore_sigint if inherited == "ignored" else None)
    try:
        for line in proc.stdout:
            if "fabriclab net: up" in line:
                break
        else:
            pytest.fail(f"never came up (exit {proc.wait()})")
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)  # read on: a full pipe would stall its prints
        except subprocess.TimeoutExpired:  # where it hangs: fabriclab dumps its stacks on SIGUSR1
            proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
            proc.kill()
            pytest.fail("net still running 60 s after SIGINT; its output, stacks last:\n"
                        + proc.communicate()[0][-6000:])
        assert proc.returncode == 130, rest[-3000:]
    finally:
        proc.kill()
    assert clean.run_processes(run_name) == []
    assert not set(RunDir(run_name).recorded_links()) & set(clean.existing_links())


def test_doctor_on_this_machine():
    done = subprocess.run([*NET[:-1], "doctor", "--grpc-base-port", str(base_port(9))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    assert "[ok  ] root" in done.stdout and "[ok  ] mininet" in done.stdout
    netem = next(line for line in done.stdout.splitlines() if "qdisc netem" in line)
    assert "ok" in netem or "models link delay itself" in netem
    assert not [n for n in clean.existing_links() if n.startswith("flq")]  # probes removed


def test_bmv2_link_shaping_needs_the_kernels_qdiscs():
    from fabriclab.net import linkparams

    topo = builders.multi_site()  # 10 ms DCI links: netem on BMv2
    if linkparams.kernel_has_qdisc("netem"):
        linkparams.check_target_supports(topo, "bmv2")
    else:
        with pytest.raises(FabricError, match="tc netem, which this kernel lacks"):
            linkparams.check_target_supports(topo, "bmv2")
    linkparams.check_target_supports(topo, "builtin")  # the switch models it: always fine
