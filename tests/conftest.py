"""Shared test configuration: root-only tests skip with a clear reason elsewhere."""

import os
import pathlib

import pytest

import fabriclab  # noqa: F401  (gRPC's fork handlers off before any test imports grpc)

REPO = pathlib.Path(__file__).resolve().parent.parent


# Tests that may share the machine with others (`make test` runs them on every core at once,
# pytest-xdist): unit tests with no kernel objects. Root tests, the docs' commands (veths in
# the root namespace, `fabriclab clean`) and everything under integration/ and e2e/ (real-time
# margins) run one at a time.
_SERIAL_FILES = {"test_docs_commands.py"}


def pytest_addoption(parser):
    parser.addoption("--part", choices=("parallel", "serial"),
                     help="only the tests that may run beside others (unit tests without root), or only the rest")


def _parallel_safe(item) -> bool:
    path = pathlib.Path(str(item.fspath)).resolve()
    return (path.is_relative_to(REPO / "tests" / "unit") and path.name not in _SERIAL_FILES
            and "root" not in item.keywords)


def pytest_collection_modifyitems(config, items):
    part = config.getoption("--part")
    if part is not None:
        want = part == "parallel"
        config.hook.pytest_deselected(items=[i for i in items if _parallel_safe(i) != want])
        items[:] = [i for i in items if _parallel_safe(i) == want]
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces / Mininet): run `sudo make test`")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def repo() -> pathlib.Path:
    return REPO
