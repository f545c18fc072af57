"""Property: arbitrary bytes into compiled fabric-style programs never raise out of the
pipeline, and whatever leaves goes to a real port."""

import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabriclab.p4 import compile_file
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import run_stf

REPO = pathlib.Path(__file__).resolve().parents[3]
STF_DIR = REPO / "tests" / "stf"
ETH_IPV4 = bytes.fromhex("000000000001" "000000000002" "0800")


@pytest.fixture(scope="module")
def fabric_style() -> SwitchCore:
    core = SwitchCore(compile_file(STF_DIR / "fabric_style.p4", include_dirs=(STF_DIR / "include",)))
    setup = "\n".join(line for line in (STF_DIR / "fabric_style.stf").read_text().splitlines()
                      if line.split(" ", 1)[0] in ("member", "group", "add"))
    run_stf(core, setup)  # routes, ECMP members and group installed
    return core


@pytest.fixture(scope="module")
def fabric() -> SwitchCore:
    path = REPO / "p4src" / "fabric.p4"
    if not path.exists():
        pytest.skip("p4src/fabric.p4 is not in this checkout")
    return SwitchCore(compile_file(path))


packets = st.one_of(
    st.binary(max_size=120),
    st.binary(min_size=0, max_size=80).map(lambda b: ETH_IPV4 + b),
    st.tuples(st.binary(min_size=9, max_size=9), st.sampled_from([6, 17, 1]),
              st.binary(max_size=60)).map(
        lambda t: ETH_IPV4 + b"\x45" + t[0] + bytes([t[1]]) + bytes(10) + t[2]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=packets, port=st.integers(0, 63))
def test_fabric_style_never_raises(fabric_style, data, port):
    for out_port, out in fabric_style.process(port, data, 0):
        assert 0 <= out_port < 511
        assert isinstance(out, bytes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=packets, port=st.integers(0, 31))
def test_project_fabric_never_raises(fabric, data, port):
    for out_port, out in fabric.process(port, data, 0):
        assert 0 <= out_port < 511
