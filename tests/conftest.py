"""Shared test configuration: root-only tests skip with a clear reason elsewhere."""

import os
import pathlib

import pytest

import fabriclab  # noqa: F401  (gRPC's fork handlers off before any test imports grpc)

REPO = pathlib.Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces / Mininet): run `sudo make test`")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def repo() -> pathlib.Path:
    return REPO
