"""The P4Runtime Python packages as REFERENCE_FACTS.md describes them: finsy's modern stubs with
the standard p4.v1 names (so they are wire-compatible with any P4Runtime peer), and no
`p4runtime` PyPI package in our environment (its old _pb2 modules break under protobuf >= 4
and would register the same proto files twice)."""

import importlib.metadata
import pathlib

import google.protobuf
import pytest
from finsy.proto import p4i, p4r
from finsy.proto.p4.v1 import p4runtime_pb2_grpc

from fabriclab.switch.p4runtime.server import P4RuntimeService


def test_finsy_messages_have_the_standard_full_names():
    assert p4r.WriteRequest.DESCRIPTOR.full_name == "p4.v1.WriteRequest"
    assert p4r.TableEntry.DESCRIPTOR.full_name == "p4.v1.TableEntry"
    assert p4i.P4Info.DESCRIPTOR.full_name == "p4.config.v1.P4Info"
    assert p4r.DESCRIPTOR.services_by_name["P4Runtime"].full_name == "p4.v1.P4Runtime"


def test_finsy_ships_the_proto_files():
    root = pathlib.Path(p4r.__file__).resolve().parent
    while root.name != "proto":
        root = root.parent
    for rel in ("p4/v1/p4runtime.proto", "p4/v1/p4data.proto", "p4/config/v1/p4info.proto",
                "google/rpc/status.proto"):
        assert (root / rel).is_file(), rel


def test_our_server_implements_finsy_s_servicer_on_modern_protobuf():
    assert issubclass(P4RuntimeService, p4runtime_pb2_grpc.P4RuntimeServicer)
    assert int(google.protobuf.__version__.split(".")[0]) >= 4


def test_the_p4runtime_pypi_package_is_not_installed_next_to_finsy():
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.version("p4runtime")

