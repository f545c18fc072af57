"""`fabriclab net --switch-procs shared` on real Mininet (root): all built-in switches in one
process. Frames cross leaf and spine, each switch answers P4Runtime on its own port, one
switch can fail alone (`ctl fail switch`'s way: its member process is killed), one can be
stopped and started again (then in a process of its own), and the stop leaves no process
or veth behind."""

import os
import signal
import time

import pytest

from controller.failures import switch_pids
from controller.route_installer import RouteInstaller
from fabriclab.net import clean
from fabriclab.net.network import FabricNet, NetConfig
from fabriclab.paths import RunDir
from topologies import builders

pytestmark = [pytest.mark.root, pytest.mark.timeout(300)]


def _argv(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def test_shared_switches_forward_serve_p4runtime_and_leave_nothing():
    run = f"t-shared-{os.getpid()}"
    topo = builders.leaf_spine(leaves=2, spines=2, hosts_per_leaf=2)
    config = NetConfig(run=run, grpc_base_port=31000 + os.getpid() % 500, switch_procs="shared")
    try:
        with FabricNet(topo, config, controller=RouteInstaller()) as net:
            assert net.pingall() == 0  # h1..h4: leaf -> spine -> leaf paths included
            procs = [p for p in clean.run_processes(run) if b"switch" in _argv(p)]
            groups = [p for p in procs if b"--group" in _argv(p)]
            members = [p for p in procs if b"--member-of" in _argv(p)]
            assert len(groups) == 1 and len(members) == 4 and len(procs) == 5
            for sw in topo.switches():
                info = net.clients[sw.name].get_p4info()  # its own port, its own device id
                assert info.tables
                log = RunDir(run).log(sw.name).read_text()
                assert f"ready: device {topo.switch_index(sw.name)}," in log
            victim = switch_pids(run, "s1")  # what `fabriclab ctl fail switch s1` kills
            assert victim and victim != groups and set(victim) <= set(members)
            os.kill(victim[0], signal.SIGKILL)
            log = RunDir(run).log("s1")
            end = time.monotonic() + 20
            while "stopped:" not in log.read_text() and time.monotonic() < end:
                time.sleep(0.1)
            assert "stopped:" in log.read_text()
            assert switch_pids(run, "s2") and not switch_pids(run, "s1")
            assert all("stopped:" not in RunDir(run).log(n).read_text() for n in ("s2", "l1", "l2"))
            s2 = net.mininet["s2"]  # Mininet's `switch s2 stop` / `switch s2 start`
            s2.stop(deleteIntfs=False)
            assert not switch_pids(run, "s2") and "stopped:" in RunDir(run).log("s2").read_text()
            s2.start([])
            s2.wait_ready(60)
            alone = switch_pids(run, "s2")  # back, in a process of its own
            assert len(alone) == 1 and b"--member-of" not in _argv(alone[0])
            assert switch_pids(run, "l1") and groups[0] in clean.run_processes(run)
            links = RunDir(run).recorded_links()
        assert clean.run_processes(run) == []
        assert not set(links) & set(clean.existing_links())
    finally:
        clean.clean_run(run)
