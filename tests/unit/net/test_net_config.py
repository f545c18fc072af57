"""NetConfig from Python: paths given as strings work like the CLI's Path arguments."""

from pathlib import Path

from fabriclab.net.network import NetConfig
from fabriclab.net.pipeline import load_pipeline


def test_string_paths_become_paths(tmp_path):
    config = NetConfig(program="p4src/basic.p4", pcap_dir=str(tmp_path))
    assert config.program == Path("p4src/basic.p4") and config.pcap_dir == tmp_path
    assert NetConfig().program is None and NetConfig().pcap_dir is None


def test_a_string_program_compiles(tmp_path):
    root = Path(__file__).resolve().parents[3]
    config = NetConfig(program=str(root / "p4src" / "basic.p4"))
    pipeline = load_pipeline(config.program, config.target, tmp_path)
    assert pipeline.source.name == "basic.p4"
    assert any(t.preamble.name == "MyIngress.ipv4_lpm" for t in pipeline.p4info.tables)
