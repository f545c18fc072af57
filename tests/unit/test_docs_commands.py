"""Commands in docs are tests: every shell block of README.md and docs/*.md runs as written.

Blocks are taken in order per section (a `#` heading) and run as one `bash -e` script in a
scratch directory that links the repository's top-level entries (so `p4src/basic.p4` and
`tests/stf/...` resolve as in a clone, while anything written lands in the scratch
directory). `sudo` runs the command as is (the test runs as root; without root such sections
skip, saying so), `fabriclab` is the venv's, and FABRICLAB_RUN_ROOT points into the scratch
directory, so runs, sockets and logs stay there.

A block that cannot run as written says so in an HTML comment on the line before it:
`<!-- illustrative: REASON -->` (a synopsis, output, a placeholder, interactive, network),
or `<!-- slow: REASON -->` (runs only with FABRICLAB_DOCS_SLOW=1). Blocks in another
language (```python) are API sketches and are not shell. `test_every_shell_block_runs_or_
says_why` makes sure no shell block is silently left out.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL = ("", "sh", "bash", "shell", "console")
MARK = re.compile(r"^<!--\s*(illustrative|slow):\s*(.*?)\s*-->$")
SECTION_TIMEOUT_S = 300


@dataclass
class Block:
    doc: str      # path relative to the repository
    line: int     # the opening fence's line (1-based)
    section: str
    lang: str
    text: str
    mark: str | None    # "illustrative" / "slow"
    reason: str

    @property
    def runnable(self) -> bool:
        return self.lang in SHELL and self.mark is None


def blocks(path: Path) -> list[Block]:
    out, section, previous = [], "(top)", ""
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            section = line.lstrip("#").strip()
        if line.startswith("```"):
            start, lang, body = i, line[3:].strip(), []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            mark = MARK.match(previous.strip())
            out.append(Block(str(path.relative_to(REPO)), start + 1, section, lang,
                             "\n".join(body) + "\n", mark[1] if mark else None,
                             mark[2] if mark else ""))
        if line.strip():
            previous = line
        i += 1
    return out


ALL = [b for doc in DOCS for b in blocks(doc)]


def sections() -> dict[tuple[str, str], list[Block]]:
    grouped: dict[tuple[str, str], list[Block]] = {}
    for b in ALL:
        if b.lang in SHELL and b.mark != "illustrative":
            grouped.setdefault((b.doc, b.section), []).append(b)
    return grouped


def test_every_shell_block_runs_or_says_why():
    unmarked_reason = [f"{b.doc}:{b.line}" for b in ALL if b.mark and not b.reason]
    assert not unmarked_reason, f"a marked block needs its reason: {unmarked_reason}"
    shell = [b for b in ALL if b.lang in SHELL]
    assert shell and any(b.runnable for b in shell)
    for b in ALL:
        if b.lang in SHELL and b.mark is None:
            assert "$ " not in b.text.split("\n", 1)[0], f"{b.doc}:{b.line}: a transcript: mark it"


PREAMBLE = """\
set -euo pipefail
trap 'jobs -p | xargs -r kill 2>/dev/null; wait' EXIT
"""
# as root, `sudo CMD` is CMD itself (exec'd, so `sudo CMD &` gives CMD's pid to $!, as real
# sudo passes signals on); a script, not a function, since `CMD &` forks a function's shell
SUDO = '#!/bin/sh\nexec "$@"\n'


def scratch_dir(tmp_path: Path) -> Path:
    """A directory that looks like the clone for reading and keeps what commands write."""
    work = tmp_path / "work"
    work.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in (".git", "build", "results"):
            (work / entry.name).symlink_to(entry)
    return work


@pytest.mark.parametrize("key", sorted(sections()), ids=lambda k: f"{k[0]}:{k[1]}")
def test_section_commands_run_as_written(key, tmp_path):
    doc, section = key
    todo = sections()[key]
    if not os.environ.get("FABRICLAB_DOCS_SLOW"):  # slow blocks stay out, the rest runs
        todo = [b for b in todo if b.mark != "slow"]
        if not todo:
            pytest.skip(f"slow ({'; '.join(b.reason for b in sections()[key])}): "
                        "set FABRICLAB_DOCS_SLOW=1")
    script = "".join(f"# {b.doc}:{b.line}\n{b.text}" for b in todo)
    if re.search(r"(^|[\s;&|(])sudo\s", script, re.M) and os.geteuid() != 0:
        pytest.skip("needs root (sudo in the commands): run `sudo make test`")
    work = scratch_dir(tmp_path)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "sudo").write_text(SUDO)
    (tools / "sudo").chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}:{Path(sys.executable).parent}:{os.environ['PATH']}",
           "FABRICLAB_RUN_ROOT": str(tmp_path / "run"), "HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(["bash", "-c", PREAMBLE + script], cwd=work, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=SECTION_TIMEOUT_S)
    finally:  # whatever the commands left running (a background job) goes with them
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert done.returncode == 0, (f"{doc} / {section}: exit {done.returncode}\n--- script ---\n"
                                  f"{script}\n--- stdout ---\n{done.stdout[-3000:]}\n"
                                  f"--- stderr ---\n{done.stderr[-3000:]}")
