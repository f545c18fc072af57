"""`lab check`: grade a lab's program, one criterion after the other.

Criteria, in order: the program compiles (with p4c-bm2-ss too on --target bmv2); each of
the lab's hidden STF files passes on the built-in switch; the lab's short Mininet run
shows the behaviour (root only: without root, or with --no-run, it is SKIPped with the
reason). A criterion
that cannot run because an earlier one failed FAILs with that reason. `grade` yields each
result as soon as it is known, so the CLI prints while the Mininet run is still going.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from fabriclab.errors import FabricError
from fabriclab.labs import runs
from fabriclab.labs.registry import Lab

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


@dataclass(frozen=True)
class Result:
    status: str          # PASS, FAIL or SKIP
    criterion: str       # e.g. "compile", "stf ecmp.stf", "mininet pingall"
    detail: str          # what happened, one line
    hint: str = ""       # what to look at (FAIL only)

    def line(self) -> str:
        text = f"{self.status} {self.criterion}: {self.detail}"
        return f"{text} -- hint: {self.hint}" if self.status == FAIL and self.hint else text


@dataclass(frozen=True)
class Score:
    passed: int
    failed: int
    skipped: int

    @property
    def ok(self) -> bool:
        """Every criterion that ran passed (a SKIP counts neither way)."""
        return self.failed == 0

    def line(self) -> str:
        ran = self.passed + self.failed
        extra = f", {self.skipped} skipped" if self.skipped else ""
        return f"score: {self.passed}/{ran}{extra}"


def score(results: list[Result]) -> Score:
    return Score(sum(r.status == PASS for r in results), sum(r.status == FAIL for r in results),
                 sum(r.status == SKIP for r in results))


def _one_line(text: str) -> str:
    first = next((line.strip() for line in str(text).splitlines() if line.strip()), "")
    return first[:300]


def _compile(program: Path):
    from fabriclab.p4 import compile_file

    return compile_file(program)


def _p4c_bm2_ss(program: Path) -> Result:
    tool = shutil.which("p4c-bm2-ss")
    if tool is None:
        return Result(FAIL, "compile p4c-bm2-ss", "p4c-bm2-ss not found",
                      "--target bmv2 needs the reference toolchain (the Vagrant VM has it)")
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as out:
        done = subprocess.run([tool, "--p4v", "16", "-o", os.path.join(out, "prog.json"),
                               str(program)], capture_output=True, text=True)
    if done.returncode != 0:
        return Result(FAIL, "compile p4c-bm2-ss", _one_line(done.stderr or done.stdout),
                      "fix the first error p4c reports")
    return Result(PASS, "compile p4c-bm2-ss", f"{program.name} compiles")


def _stf(compiled, stf_file: Path, hint: str) -> Result:
    from fabriclab.switch.core import SwitchCore
    from fabriclab.switch.stf import StfRunner, parse_stf

    name = f"stf {stf_file.name}"
    try:
        result = StfRunner(SwitchCore(compiled)).run(parse_stf(stf_file.read_text()))
    except FabricError as err:
        return Result(FAIL, name, _one_line(str(err)), hint)
    if result.ok:
        return Result(PASS, name, f"{result.packets_sent} packets sent, "
                                  f"{result.expects_checked} expected packets matched")
    return Result(FAIL, name, _one_line(result.failures[0]), hint)


def grade(lab: Lab, program: Path, target: str = "builtin", mininet: bool = True,
          is_root: Callable[[], bool] = lambda: os.geteuid() == 0) -> Iterator[Result]:
    """The lab's criteria for `program`, in order, each as soon as it is known."""
    compiled = None
    try:
        compiled = _compile(program)
        yield Result(PASS, "compile", f"{program.name} compiles")
    except FabricError as err:
        yield Result(FAIL, "compile", _one_line(str(err)),
                     "fix the first error; `fabriclab compile` shows them all")
    if target == "bmv2":
        yield _p4c_bm2_ss(program)
    for stf in lab.stf:
        if compiled is None:
            yield Result(FAIL, f"stf {stf.file.name}", "not run: the program does not compile",
                         stf.hint)
        else:
            yield _stf(compiled, stf.file, stf.hint)
    if lab.run is None:
        return
    name = f"mininet {lab.run.check}"
    if not mininet:
        yield Result(SKIP, name, "not run (--no-run)")
    elif not is_root():
        yield Result(SKIP, name, "needs root (Mininet): run `sudo fabriclab lab check "
                                 f"{lab.number}` for the full grade")
    elif compiled is None:
        yield Result(FAIL, name, "not run: the program does not compile", lab.run.hint)
    elif target in runs.NOT_ON.get(lab.run.check, {}):
        yield Result(SKIP, name, f"not run on {target}: {runs.NOT_ON[lab.run.check][target]}")
    else:
        ok, detail = runs.CHECKS[lab.run.check](lab, program, target)
        yield Result(PASS if ok else FAIL, name, detail, lab.run.hint)
