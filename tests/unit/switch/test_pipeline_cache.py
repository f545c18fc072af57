"""Switches running one program share its generated code but never its runtime state."""

import pathlib

from fabriclab.p4 import compile_file
from fabriclab.switch import codegen
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.tables import Exact

STF = pathlib.Path(__file__).resolve().parents[2] / "stf"


def test_second_core_reuses_code_with_its_own_tables_and_counters():
    program = compile_file(STF / "extern_direct.p4", include_dirs=(STF / "include",))
    first = SwitchCore(program)
    templates = dict(codegen._TEMPLATES)
    second = SwitchCore(compile_file(STF / "extern_direct.p4", include_dirs=(STF / "include",)))
    assert dict(codegen._TEMPLATES) == templates  # generated once, by content
    table = first.tables["MyIngress.t"]
    entry = table.insert({"hdr.data.b1": Exact(1)}, table.action_call("MyIngress.fwd", {"port": 3}))
    packet = bytes(10) + b"\x01\xff"
    assert [port for port, _ in first.process(0, packet, 0)] == [3]
    assert second.tables["MyIngress.t"].entries() == []
    assert 3 not in [port for port, _ in second.process(0, packet, 0)]
    assert entry.direct.counter.packets == 1
    other = second.tables["MyIngress.t"]
    mine = other.insert({"hdr.data.b1": Exact(1)}, other.action_call("MyIngress.fwd", {"port": 3}))
    assert [port for port, _ in second.process(0, packet, 1)] == [3]
    assert (entry.direct.counter.packets, mine.direct.counter.packets) == (1, 1)
