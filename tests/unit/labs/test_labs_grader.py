"""The labs without root: every lab's grader passes its solution and fails its skeleton
(naming the failing criteria), skeletons have TODO holes, compile and keep the P4Info the
control plane programs; `fabriclab lab` bad input exits 2 and creates nothing."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fabriclab.labs.grader import FAIL, PASS, SKIP, grade, score
from fabriclab.labs.lock import one_lab
from fabriclab.labs.registry import all_labs, find
from fabriclab.p4 import compile_file

REPO = Path(__file__).resolve().parents[3]
LABS = REPO / "labs"
NUMBERS = [lab.number for lab in all_labs(LABS)]


def fabriclab(*args, env=None, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "fabriclab", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def not_root():
    return False


def test_eight_labs_listed_number_first():
    assert NUMBERS == [1, 2, 3, 4, 5, 6, 7, 8]
    out = fabriclab("lab", "list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    for lab, line in zip(all_labs(LABS), lines):
        assert lab.slug in line and lab.goal in line


@pytest.mark.parametrize("number", NUMBERS)
def test_solution_passes_every_criterion_that_runs(number):
    lab = find(number, LABS)
    results = list(grade(lab, lab.program(solution=True), is_root=not_root))
    assert [r.status for r in results if r.status != SKIP] == [PASS] * (1 + len(lab.stf))
    assert [r.criterion for r in results if r.status == SKIP] == [f"mininet {lab.run.check}"]
    assert score(results).ok


def test_a_run_a_target_cannot_pass_is_skipped_with_the_reason(monkeypatch):
    """Lab 7's reroute needs the switch's own port signal, which BMv2 lacks here: on bmv2
    the Mininet criterion is skipped, not run to a certain FAIL."""
    from fabriclab.labs import runs

    monkeypatch.setitem(runs.CHECKS, "fast_reroute", lambda *a: pytest.fail("ran on bmv2"))
    lab = find(7, LABS)
    last = list(grade(lab, lab.program(solution=True), "bmv2", is_root=lambda: True))[-1]
    assert last.status == SKIP and last.criterion == "mininet fast_reroute"
    assert "not run on bmv2" in last.detail and "port_down_signal" in last.detail


@pytest.mark.parametrize("number", NUMBERS)
def test_skeleton_fails_its_hidden_stf_tests_by_name(number):
    lab = find(number, LABS)
    results = list(grade(lab, lab.program(), is_root=not_root))
    assert results[0].status == PASS and results[0].criterion == "compile"
    failed = [r for r in results if r.status == FAIL]
    assert failed, [r.line() for r in results]
    assert all(r.criterion.startswith("stf ") and r.hint for r in failed)
    assert {r.criterion for r in failed} <= {f"stf {s.file.name}" for s in lab.stf}
    assert all(f"FAIL {r.criterion}: " in r.line() and "-- hint: " in r.line() for r in failed)
    assert not score(results).ok


@pytest.mark.parametrize("number", NUMBERS)
def test_skeleton_has_holes_compiles_and_keeps_the_control_plane_interface(number, tmp_path):
    lab = find(number, LABS)
    student = [p for p in lab.folder.glob("*.p4") if "TODO" in p.read_text()]
    assert student, "no TODO holes"
    holes = sum(p.read_text().count("TODO ") for p in student)
    assert holes >= 2
    skeleton = compile_file(lab.program())
    solution = compile_file(lab.program(solution=True))
    # same tables, actions, ids: the route installer of `fabriclab net` programs both
    assert str(skeleton.p4info) == str(solution.p4info)


def test_check_cli_prints_lines_and_score_exit_code():
    out = fabriclab("lab", "check", "1", "--solution", "--no-run")
    assert out.stdout.splitlines()[1:] == [
        "PASS compile: basic.p4 compiles",
        "PASS stf forwarding.stf: 3 packets sent, 3 expected packets matched",
        "PASS stf lpm.stf: 4 packets sent, 3 expected packets matched",
        "SKIP mininet pingall: not run (--no-run)",
        "score: 3/3, 1 skipped"]
    assert out.returncode == 0
    failing = fabriclab("lab", "check", "1", "--no-run")
    assert failing.returncode == 1
    assert [line.split(":")[0] for line in failing.stdout.splitlines()[1:-1]] == [
        "PASS compile", "FAIL stf forwarding.stf", "FAIL stf lpm.stf", "SKIP mininet pingall"]
    assert failing.stdout.splitlines()[-1] == "score: 1/3, 1 skipped"


def test_no_such_lab_exits_2():
    for action in ("check", "start"):
        out = fabriclab("lab", action, "9")
        assert out.returncode == 2
        assert out.stderr.strip() == ("fabriclab lab: error: no lab 9: the labs are "
                                      "1, 2, 3, 4, 5, 6, 7, 8 (`fabriclab lab list`)")


def _broken_lab1(tmp_path):
    labs = tmp_path / "labs"
    shutil.copytree(LABS / "1-ipv4-lpm", labs / "1-ipv4-lpm")
    program = labs / "1-ipv4-lpm" / "basic.p4"
    program.write_text(program.read_text().replace("        packet.emit(hdr.ethernet);",
                                                   "        packet.emit(hdr.ethernet)"))
    return labs


def test_program_that_does_not_compile(tmp_path):
    labs = _broken_lab1(tmp_path)
    env = {**os.environ, "FABRICLAB_RUN_ROOT": str(tmp_path / "run")}
    check = fabriclab("lab", "--labs", str(labs), "check", "1", "--no-run", env=env)
    assert check.returncode == 1
    lines = check.stdout.splitlines()
    assert lines[1].startswith("FAIL compile: ") and "basic.p4:" in lines[1]
    assert "not run: the program does not compile" in lines[2]
    assert lines[-1].startswith("score: 0/")
    start = fabriclab("lab", "--labs", str(labs), "start", "1", env=env)
    assert start.returncode == 2 and "error" in start.stderr and "Traceback" not in start.stderr
    assert not (tmp_path / "run" / "lab1").exists()


def test_start_while_another_lab_runs_exits_2_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("fabriclab.labs.lock.RUN_DIR", tmp_path)
    env = {**os.environ, "FABRICLAB_RUN_ROOT": str(tmp_path)}
    with one_lab(3):
        out = fabriclab("lab", "start", "1", env=env)
    assert out.returncode == 2
    assert out.stderr.startswith(f"fabriclab lab: error: lab 3 is already running (pid {os.getpid()})")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.lock"]


def test_placeholder_lab_is_listed_but_not_run(tmp_path):
    labs = tmp_path / "labs"
    shutil.copytree(LABS / "1-ipv4-lpm", labs / "9-future")
    spec = json.loads((labs / "9-future" / "lab.json").read_text())
    spec.update(number=9, needs="a feature")
    (labs / "9-future" / "lab.json").write_text(json.dumps(spec))
    listed = fabriclab("lab", "--labs", str(labs), "list")
    assert listed.stdout.startswith("9  future") and "[needs a feature]" in listed.stdout
    out = fabriclab("lab", "--labs", str(labs), "check", "9", "--no-run")
    assert out.returncode == 2 and "lab 9 needs a feature" in out.stderr


def test_labs_folder_from_the_current_directory(tmp_path):
    shutil.copytree(LABS / "1-ipv4-lpm", tmp_path / "labs" / "1-ipv4-lpm")
    out = fabriclab("lab", "list", cwd=tmp_path)
    assert out.stdout.splitlines() == [next(iter(
        line for line in fabriclab("lab", "list").stdout.splitlines() if line.startswith("1 ")))]


def _one_hole_lab(tmp_path: Path, skeleton, hole) -> Path:
    """A copy of the skeleton's lab in tmp_path/labs whose program has only `hole` open
    (p4src/ and tests/ linked beside it, so its relative includes and STF paths hold)."""
    from fabriclab.labs.skeletons import Skeleton, derive

    for name in ("p4src", "tests"):
        (tmp_path / name).symlink_to(REPO / name)
    folder = tmp_path / "labs" / skeleton.lab
    shutil.copytree(LABS / skeleton.lab, folder)
    one = Skeleton(skeleton.lab, skeleton.source, skeleton.target, skeleton.header, (hole,))
    source = (REPO / "p4src" / skeleton.source).read_text()
    (folder / skeleton.target).write_text(derive(one, source))
    return tmp_path / "labs"


def _holes_of(*labs: str) -> list:
    """One parameter per hole of these labs, named by its TODO number."""
    from fabriclab.labs.skeletons import SKELETONS

    todo = re.compile(r"TODO (\d)")
    return [pytest.param(sk, hole, id=f"{sk.lab}-TODO{todo.search(hole.todo)[1]}")
            for sk in SKELETONS if sk.lab in labs for hole in sk.holes]


@pytest.mark.parametrize("skeleton,hole", _holes_of("7-fast-reroute", "8-tenant-isolation"))
def test_each_hole_alone_fails_the_hidden_tests(skeleton, hole, tmp_path):
    """No hole of labs 7-8 can be left open with the STF grade passing (lab 5's third hole,
    for one, is graded by its Mininet run only)."""
    labs = _one_hole_lab(tmp_path, skeleton, hole)
    lab = find(skeleton.lab.split("-")[0], labs)
    results = list(grade(lab, lab.program(), is_root=not_root))
    assert results[0].status == PASS
    assert any(r.status == FAIL and r.criterion.startswith("stf ") for r in results), \
        [r.line() for r in results]


#: Plausible wrong answers (a passage of the solution and what a student might write instead)
#: and the hidden test that must catch each.
WRONG_ANSWERS = {
    "3-stale-port-not-idle": ("3-adaptive-routing", """bit<32> load = (standard_metadata.ingress_global_timestamp - seen > meta.loadMaxAge)
                       ? 32w0 : depth;""", "bit<32> load = depth;", "stf fabric_modes.stf"),
    "5-ect1-never-marked": ("5-ecn-dcqcn", "hdr.ipv4.ecn != 0 && hdr.ipv4.ecn != 3", "hdr.ipv4.ecn == 2",
                            "stf fabric_ecn.stf"),
    "5-ce-marked-again": ("5-ecn-dcqcn", "hdr.ipv4.ecn != 0 && hdr.ipv4.ecn != 3", "hdr.ipv4.ecn != 0",
                          "stf fabric_ecn.stf"),
    "8-remark-keeps-the-queue": ("8-tenant-isolation", """        hdr.ipv4.dscp = dscp;
        standard_metadata.priority = priority;""", "        hdr.ipv4.dscp = dscp;", "stf fabric_tenant_queues.stf"),
}


@pytest.mark.parametrize("case", sorted(WRONG_ANSWERS))
def test_plausible_wrong_answers_fail_a_hidden_test(case, tmp_path):
    from fabriclab.labs.skeletons import SKELETONS

    lab_dir, right, wrong, criterion = WRONG_ANSWERS[case]
    (skeleton,) = [sk for sk in SKELETONS if sk.lab == lab_dir]
    source = (REPO / "p4src" / skeleton.source).read_text()
    assert source.count(right) == 1
    for name in ("p4src", "tests"):
        (tmp_path / name).symlink_to(REPO / name)
    folder = tmp_path / "labs" / lab_dir
    shutil.copytree(LABS / lab_dir, folder)
    (folder / skeleton.target).write_text(source.replace(right, wrong))
    lab = find(lab_dir.split("-")[0], tmp_path / "labs")
    results = {r.criterion: r for r in grade(lab, lab.program(), is_root=not_root)}
    assert results["compile"].status == PASS
    assert results[criterion].status == FAIL, [r.line() for r in results.values()]


def test_skeletons_are_derived_from_the_current_p4src():
    from fabriclab.labs.skeletons import stale

    assert stale(REPO) == [], "run `python -m fabriclab.labs.skeletons` and commit labs/"


def test_a_moved_passage_names_the_lab(tmp_path):
    from fabriclab.errors import FabricError
    from fabriclab.labs.skeletons import SKELETONS, derive

    ecmp = next(sk for sk in SKELETONS if sk.lab == "2-ecmp")
    source = (REPO / "p4src" / ecmp.source).read_text().replace("hdr.ipv4.protocol: selector;",
                                                                "hdr.ipv4.protocol : selector;")
    with pytest.raises(FabricError, match="2-ecmp: p4src/fabric/ingress.p4 no longer has"):
        derive(ecmp, source)
