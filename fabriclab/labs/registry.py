"""The labs and where their files are: labs/<n>-<slug>/lab.json, read into `Lab`.

lab.json is the lab's grader definition:

    {"number": 1, "name": "...", "goal": "one line",
     "program": "basic.p4",                       # the student's program; solution/<same name>
     "topology": ["leaf-spine", "--leaves", "2"],  # `fabriclab net` arguments
     "stf": [{"file": "grader/x.stf", "hint": "..."}],   # hidden tests, run on the solution too
     "run": {"check": "pingall", "hint": "..."},   # the short Mininet run (fabriclab.labs.runs)
     "needs": "in-network aggregation"}           # optional: not ready yet, listed but not run

The labs folder is `--labs DIR`, else ./labs when the current directory holds lab folders
(a student's clone), else the labs/ next to the installed package (this checkout).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fabriclab.errors import FabricError
from fabriclab.paths import PACKAGE


@dataclass(frozen=True)
class StfCriterion:
    """A hidden STF file and what to look at when it fails."""

    file: Path
    hint: str


@dataclass(frozen=True)
class RunCriterion:
    """The lab's short Mininet run: a check name from fabriclab.labs.runs and its hint."""

    check: str
    hint: str


@dataclass(frozen=True)
class Lab:
    number: int
    slug: str
    name: str
    goal: str
    folder: Path
    program_name: str
    topology: tuple[str, ...]
    stf: tuple[StfCriterion, ...]
    run: RunCriterion | None
    needs: str | None = None

    def program(self, solution: bool = False) -> Path:
        """The student's program, or the solution's."""
        return (self.folder / "solution" if solution else self.folder) / self.program_name

    @property
    def run_name(self) -> str:
        """The `fabriclab net --run` name of this lab's topology."""
        return f"lab{self.number}"


def default_root(cwd: Path | None = None) -> Path:
    here = (cwd or Path.cwd()) / "labs"
    if any(here.glob("*/lab.json")):
        return here
    return PACKAGE.parent / "labs"


def _load(path: Path) -> Lab:
    try:
        data = json.loads(path.read_text())
        folder = path.parent
        run = data.get("run")
        return Lab(
            number=int(data["number"]),
            slug=folder.name.split("-", 1)[-1],
            name=data["name"],
            goal=data["goal"],
            folder=folder,
            program_name=data["program"],
            topology=tuple(data["topology"]),
            stf=tuple(StfCriterion(folder / s["file"], s["hint"]) for s in data.get("stf", ())),
            run=RunCriterion(run["check"], run["hint"]) if run else None,
            needs=data.get("needs"),
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise FabricError(f"{path}: not a lab definition ({err})") from None


def all_labs(root: Path | None = None) -> list[Lab]:
    root = root or default_root()
    labs = sorted((_load(p) for p in root.glob("*/lab.json")), key=lambda lab: lab.number)
    if not labs:
        raise FabricError(f"no labs in {root} (each lab is a folder with a lab.json)")
    return labs


def find(number: str | int, root: Path | None = None) -> Lab:
    """The lab with this number; a one-line error naming the labs that exist otherwise."""
    labs = all_labs(root)
    for lab in labs:
        if str(lab.number) == str(number):
            return lab
    known = ", ".join(str(lab.number) for lab in labs)
    raise FabricError(f"no lab {number}: the labs are {known} (`fabriclab lab list`)")
