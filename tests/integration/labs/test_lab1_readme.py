"""A newcomer follows labs/1-ipv4-lpm/README.md in a fresh clone (root): every command of
its `sh` blocks, exactly as written, with the holes filled between the two blocks the way
the reference fills them (p4src/basic.p4)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[3]
README = "labs/1-ipv4-lpm/README.md"


def sh_blocks(text: str) -> list[list[str]]:
    return [[line for line in block.splitlines() if line.strip()]
            for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def run(line: str, clone: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    # as root already: `sudo` runs the command as it is (sudo itself would reset PATH)
    script = 'sudo() { "$@"; }\n' + line
    return subprocess.run(["bash", "-c", script], cwd=clone, env=env, input=stdin,
                          capture_output=True, text=True, timeout=400)


def test_lab1_readme_commands_from_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    before, after = sh_blocks((clone / README).read_text())
    assert before[0] == "fabriclab lab list" and "sudo fabriclab lab start 1" in after

    for line in before:
        done = run(line, clone)
        if line.startswith("fabriclab lab check"):  # the skeleton: holes not filled yet
            assert done.returncode == 1 and "FAIL stf forwarding.stf" in done.stdout, done.stdout
        else:
            assert done.returncode == 0, (line, done.stdout, done.stderr)
    assert (clone / "build" / "lab1" / "basic.json").is_file()

    shutil.copy(clone / "p4src" / "basic.p4", clone / "labs" / "1-ipv4-lpm" / "basic.p4")
    for line in after:
        interactive = "lab start" in line
        done = run(line, clone, stdin="pingall\nexit\n" if interactive else "")
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        if interactive:
            assert "Results: 0% dropped (12/12 received)" in done.stdout + done.stderr
        else:
            assert done.stdout.splitlines()[-1].startswith("score: ")
            assert "FAIL" not in done.stdout
