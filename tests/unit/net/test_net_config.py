"""NetConfig from Python: paths given as strings work like the CLI's Path arguments."""

from pathlib import Path

import pytest

from fabriclab.net.network import NetConfig
from fabriclab.net.program import load_program
from fabriclab.paths import p4src


def test_string_paths_become_paths(tmp_path):
    config = NetConfig(program="p4src/basic.p4", pcap_dir=str(tmp_path))
    assert config.program == Path("p4src/basic.p4") and config.pcap_dir == tmp_path
    assert NetConfig().program is None and NetConfig().pcap_dir is None


def test_a_string_program_compiles(tmp_path):
    config = NetConfig(program=str(p4src("basic.p4")))
    program = load_program(config.program, config.target, tmp_path)
    assert program.source.name == "basic.p4"
    assert any(t.preamble.name == "MyIngress.ipv4_lpm" for t in program.p4info.tables)


def test_a_start_that_fails_preflight_leaves_the_running_run_alone(monkeypatch):
    """`fabriclab net --run X` twice: the second fails its checks and must not tear down the
    first (stop() cleaned run X's processes and links by name)."""
    from fabriclab.errors import FabricError
    from fabriclab.net import clean
    from fabriclab.net.network import FabricNet
    from topologies.builders import leaf_spine

    cleaned: list[str] = []
    monkeypatch.setattr(clean, "clean_run", cleaned.append)

    def busy(self):
        raise FabricError("run 'r1' is already active")

    monkeypatch.setattr(FabricNet, "preflight", busy)
    net = FabricNet(leaf_spine(2, 2, 2), NetConfig(run="r1"))
    with pytest.raises(FabricError, match="already active"):
        net.start()
    net.stop()
    assert cleaned == [] and not net.owns_run
    net.owns_run = True  # what a passed preflight sets: now stop() is ours to do, once
    net.stop()
    net.stop()
    assert cleaned == ["r1"]
