"""The labs' Mininet criteria (root): each solution passes `lab check` in full, each
skeleton fails its Mininet run; one lab at a time, and nothing is left behind."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fabriclab.labs import runs
from fabriclab.labs.registry import all_labs, find
from fabriclab.paths import run_tag

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[3]
LABS = REPO / "labs"
NUMBERS = [lab.number for lab in all_labs(LABS)]


def fabriclab(*args, **kw):
    return subprocess.run([sys.executable, "-m", "fabriclab", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=400, **kw)


def leftovers(run: str) -> list[str]:
    """Veths and processes of `run` still around."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    veths = [w for w in links.split() if w.startswith(f"flv{run_tag(run)}")]
    procs = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"FABRICLAB_RUN={run}".encode() in env:
            procs.append(pid)
    return veths + procs


@pytest.mark.parametrize("number", NUMBERS)
def test_solution_passes_and_skeleton_fails_the_mininet_run(number):
    lab = find(number, LABS)
    full = fabriclab("lab", "check", str(number), "--solution")
    print(full.stdout)
    assert full.returncode == 0, full.stdout + full.stderr
    assert f"PASS mininet {lab.run.check}: " in full.stdout
    assert full.stdout.splitlines()[-1] == f"score: {2 + len(lab.stf)}/{2 + len(lab.stf)}"
    ok, detail = runs.CHECKS[lab.run.check](lab, lab.program(), "builtin")
    print("skeleton:", detail)
    assert not ok, detail
    assert leftovers(lab.run_name) == []


#: The lab's file with its subject left out (tables, registers and meters kept, so the
#: controller programs it as usual): its Mininet run must fail too, so a check cannot pass
#: on traffic that would have flowed anyway.
DO_NOTHING = {
    7: ("liveness.p4", """
#ifndef _FABRIC_LIVENESS_P4_
#define _FABRIC_LIVENESS_P4_
register<bit<64>>(1) port_down_signal;
register<bit<112>>(65536) remote_dead;
control FabricLiveness(inout headers_t hdr, inout metadata_t meta,
                       inout standard_metadata_t standard_metadata) {
    action set_dead_ports(bit<64> mask) { meta.deadPorts = mask; }
    table port_liveness {
        key = { }
        actions = { set_dead_ports; }
        default_action = set_dead_ports(0);
    }
    apply { port_liveness.apply(); }
}
control FabricLiveCandidates(inout headers_t hdr, inout metadata_t meta,
                             inout standard_metadata_t standard_metadata) {
    apply { }
}
#endif
"""),
    8: ("tenants.p4", """
#ifndef _FABRIC_TENANTS_P4_
#define _FABRIC_TENANTS_P4_
control FabricTenants(inout headers_t hdr, inout metadata_t meta,
                      inout standard_metadata_t standard_metadata) {
    meter(64, MeterType.bytes) tenant_bytes;
    meter(64, MeterType.packets) tenant_packets;
    counter(256, CounterType.packets_and_bytes) tenant_colors;
    action set_tenant(bit<8> tenant, bit<3> priority) {
        meta.tenant = tenant;
        meta.tenantPriority = priority;
    }
    table tenant_classify {
        key = { hdr.ipv4.srcAddr: lpm; }
        actions = { set_tenant; NoAction; }
        default_action = NoAction();
        size = 64;
    }
    action tenant_remark(bit<6> dscp, bit<3> priority) { }
    action tenant_drop() { }
    table tenant_policy {
        key = { meta.tenant: exact; meta.tenantColor: exact; }
        actions = { tenant_remark; tenant_drop; NoAction; }
        default_action = NoAction();
        size = 256;
    }
    apply {
        if (tenant_classify.apply().hit) {
            tenant_policy.apply();
        }
    }
}
#endif
"""),
}


@pytest.mark.parametrize("number", sorted(DO_NOTHING))
def test_a_program_without_the_subject_fails_the_mininet_run(number, tmp_path):
    lab = find(number, LABS)
    name, text = DO_NOTHING[number]
    for link in ("p4src", "tests"):   # the lab's includes are relative: ../../p4src/...
        (tmp_path / link).symlink_to(REPO / link)
    folder = tmp_path / "labs" / lab.folder.name
    folder.mkdir(parents=True)
    (folder / lab.program_name).write_text((lab.folder / lab.program_name).read_text())
    (folder / name).write_text(text)
    ok, detail = runs.CHECKS[lab.run.check](lab, folder / lab.program_name, "builtin")
    print("without the subject:", detail)
    assert not ok, detail
    assert leftovers(lab.run_name) == []


def _ecn_variant(kind: str) -> str:
    """fabric.p4's egress with lab 5's probabilistic marking (TODO 3) changed: left open as
    the skeleton has it, or marking every packet above Kmin."""
    from fabriclab.labs.skeletons import SKELETONS

    (skeleton,) = [sk for sk in SKELETONS if sk.lab.startswith("5-")]
    hole = skeleton.holes[2]
    assert "TODO 3" in hole.todo
    replacement = hole.todo if kind == "todo3-open" else \
        "                    } else if (depth > meta.ecnKmin) {\n                        mark_ce();\n                    }"
    return (REPO / "p4src" / skeleton.source).read_text().replace(hole.solution, replacement)


@pytest.mark.parametrize("kind", ["todo3-open", "marks-above-kmin"])
def test_lab5_grades_the_probabilistic_marking(kind, tmp_path):
    """With Kmax above the queue every mark is TODO 3's: none without it, far more than half
    with a mark on every packet above Kmin."""
    lab = find(5, LABS)
    for link in ("p4src", "tests"):
        (tmp_path / link).symlink_to(REPO / link)
    folder = tmp_path / "labs" / lab.folder.name
    folder.mkdir(parents=True)
    (folder / lab.program_name).write_text((lab.folder / lab.program_name).read_text())
    (folder / "egress.p4").write_text(_ecn_variant(kind))
    ok, detail = runs.CHECKS[lab.run.check](lab, folder / lab.program_name, "builtin")
    print(kind, detail)
    assert not ok, detail
    assert leftovers(lab.run_name) == []


def test_a_lab_started_while_another_runs():
    first = subprocess.Popen([sys.executable, "-m", "fabriclab", "lab", "start", "1", "--no-cli"],
                             cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        for line in first.stdout:
            if "Ctrl-C to stop" in line:
                break
        else:
            pytest.fail("lab 1 did not come up")
        for action in ("start", "check"):
            second = fabriclab("lab", action, "2")
            assert second.returncode == 2
            assert second.stderr.startswith(
                f"fabriclab lab: error: lab 1 is already running (pid {first.pid})"), second.stderr
            assert leftovers("lab2") == []
        assert first.poll() is None  # the running lab is left alone
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=120)
    assert first.returncode == 130  # stopped like a Ctrl-C: torn down
    assert leftovers("lab1") == []
