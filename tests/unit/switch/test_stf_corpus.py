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
    compiled = compile_file(program, include_dirs=(STF_DIR / "include",))
    core = SwitchCore(compiled)
    result = run_stf(core, stf.read_text())
    assert result.ok, "\n".join(result.failures)
    assert result.packets_sent > 0
    assert_runtime_names_are_p4info_names(core, compiled.p4info)


def assert_runtime_names_are_p4info_names(core, info):
    """The control plane addresses everything by P4Info name: both sides must agree."""
    assert set(core.tables) == {t.preamble.name for t in info.tables}
    assert {a for t in core.tables.values() for a in t.actions} <= {
        a.preamble.name for a in info.actions}
    assert set(core.counters) == {c.preamble.name for c in info.counters}
    assert set(core.meters) == {m.preamble.name for m in info.meters}
    assert set(core.action_profiles) == {a.preamble.name for a in info.action_profiles}
    assert set(core.value_sets) == {v.preamble.name for v in info.value_sets}
    assert set(core.registers) == {r.preamble.name for r in info.registers}


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
