"""The Vagrantfile's provisioning script ends with the self-check, in bash that parses, and
stops at the first failing step (set -e)."""

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def provision_script() -> str:
    text = (REPO / "Vagrantfile").read_text()
    (script,) = re.findall(r'provision "shell", inline: <<-SHELL\n(.*?)\n\s*SHELL', text, re.S)
    return script


def test_selfcheck_steps_in_order_after_setup():
    lines = [line.strip() for line in provision_script().splitlines()]
    assert lines[0] == "set -eux"
    steps = ["make setup", ".venv/bin/fabriclab doctor",
             '.venv/bin/fabriclab compile p4src/fabric.p4 -o "$check"',
             'p4c-bm2-ss --p4v 16 -o "$check/fabric.bmv2.json" p4src/fabric.p4',
             ".venv/bin/fabriclab lab check 1 --solution --target bmv2"]
    where = [next(i for i, line in enumerate(lines) if line.endswith(step)) for step in steps]
    assert where == sorted(where)


def test_provision_script_is_valid_bash():
    done = subprocess.run(["bash", "-n"], input=provision_script(), text=True,
                          capture_output=True)
    assert done.returncode == 0, done.stderr
