"""Every tests/stf/NAME.stf runs against tests/stf/NAME.p4 on the built-in switch.

A program whose first line is `// skip: REASON` is skipped with that reason (constructs
the toolchain does not accept yet).
"""

import pathlib

import pytest

from fabriclab.p4 import compile_file
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import run_stf

STF_DIR = pathlib.Path(__file__).resolve().parents[2] / "stf"
CASES = sorted(STF_DIR.glob("*.stf"))


@pytest.mark.parametrize("stf", CASES, ids=[c.stem for c in CASES])
def test_stf(stf: pathlib.Path):
    program = stf.with_suffix(".p4")
    first = program.read_text().splitlines()[0]
    if first.startswith("// skip:"):
        pytest.skip(first[len("// skip:"):].strip())
    core = SwitchCore(compile_file(program, include_dirs=(STF_DIR / "include",)))
    result = run_stf(core, stf.read_text())
    assert result.ok, "\n".join(result.failures)
    assert result.packets_sent > 0


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
