"""The switch's port-status signal without a kernel: netlink link messages -> (ifindex, up),
and the set of dead ports -> the program's `port_down_signal` register."""

import struct

from fabriclab.switch.externs import Register
from fabriclab.switch.ports import PortSignal
from fabriclab.switch.process import IFF_LOWER_UP, IFF_UP, RTM_DELLINK, RTM_NEWLINK, link_states


def link_msg(kind: int, index: int, flags: int) -> bytes:
    body = struct.pack("=BxHiII", 0, 1, index, flags, 0xFFFFFFFF) + b"\0" * 6  # + attributes
    body += b"\0" * (-len(body) % 4)  # the kernel aligns every message to 4 bytes
    return struct.pack("=IHHII", 16 + len(body), kind, 0, 0, 0) + body


def test_link_states_need_admin_up_and_carrier():
    data = (link_msg(RTM_NEWLINK, 7, IFF_UP | IFF_LOWER_UP)
            + link_msg(RTM_NEWLINK, 8, IFF_UP) + link_msg(RTM_DELLINK, 9, IFF_UP | IFF_LOWER_UP)
            + struct.pack("=IHHII", 16, 3, 0, 0, 0))  # NLMSG_DONE: not a link message
    assert link_states(data) == [(7, True), (8, False), (9, False)]
    assert link_states(b"\x01\x00") == []


class Core:
    def __init__(self) -> None:
        self.registers = {"FabricIngress.x": Register("x", 1, 8),
                          "port_down_signal": Register("port_down_signal", 1, 64)}


def test_signal_tracks_changes_and_writes_the_register():
    signal, core = PortSignal(), Core()
    assert signal.update(3, False) and not signal.update(3, False)
    assert signal.update(70, False)  # beyond the register: kept, not written
    assert signal.write(core) and core.registers["port_down_signal"].read(0) == 1 << 3
    assert signal.update(3, True) and signal.write(core)
    assert core.registers["port_down_signal"].read(0) == 0
    assert not signal.write(object())  # a program without the register is left alone


def test_disabled_signal_never_writes():
    signal, core = PortSignal(enabled=False), Core()
    assert signal.update(2, False) and signal.down == {2}
    assert not signal.write(core) and core.registers["port_down_signal"].read(0) == 0
