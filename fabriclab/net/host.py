"""A Mininet host configured for RoCEv2 traffic through P4 routers.

Each NIC (eth<n>) gets its address from `topologies.addressing`; the default route uses
NIC 0. All neighbours are static (the gateway -> the switch port's MAC, hosts in the same
subnet -> their MACs): P4 routers do not answer ARP, and a RoCE NIC must never wait on
resolution. IPv6 is off (no ND/MLD noise in captures), reverse-path filtering is off
(multi-rail hosts receive on a NIC other than the one they send on), offloads are off
(frames cross a software switch whole, with real checksums).
"""

from __future__ import annotations

from typing import Sequence

from mininet.node import Host

from fabriclab.errors import FabricError
from topologies.addressing import HostNic

SYSCTLS = {
    "net.ipv6.conf.all.disable_ipv6": 1,
    "net.ipv6.conf.default.disable_ipv6": 1,
    "net.ipv4.conf.all.rp_filter": 0,
    "net.ipv4.conf.default.rp_filter": 0,
}


def nic_commands(nic: HostNic, mtu: int, same_subnet: Sequence[HostNic]) -> list[str]:
    """Shell commands configuring one NIC (pure: unit-testable)."""
    dev = nic.intf
    cmds = [
        f"sysctl -qw net.ipv4.conf.{dev}.rp_filter=0",
        f"ethtool -K {dev} rx off tx off tso off gso off gro off",
        f"ip link set {dev} mtu {mtu} up",
        f"ip addr replace {nic.ip} dev {dev}",
        f"ip neigh replace {nic.gateway} lladdr {nic.gateway_mac} dev {dev} nud permanent",
    ]
    cmds += [f"ip neigh replace {peer.ip.ip} lladdr {peer.mac} dev {dev} nud permanent"
             for peer in same_subnet if peer != nic]
    return cmds


def host_commands(nics: Sequence[HostNic], mtu: int, peers: Sequence[HostNic]) -> list[str]:
    """All commands for a host: sysctls, every NIC, then the default route via NIC 0."""
    cmds = [f"sysctl -qw {key}={value}" for key, value in SYSCTLS.items()]
    for nic in nics:
        cmds += nic_commands(nic, mtu, [p for p in peers if p.ip.network == nic.ip.network])
    if nics:
        cmds.append(f"ip route replace default via {nics[0].gateway} dev {nics[0].intf}")
    return cmds


class FabricHost(Host):
    """A host whose NICs are configured from the topology's addressing."""

    def config(self, nics: Sequence[HostNic] = (), peers: Sequence[HostNic] = (),
               mtu: int = 1500, shaping: Sequence[str] = (), **params: object) -> dict:
        result = super().config(**params)
        for cmd in [*host_commands(nics, mtu, peers), *shaping]:
            out = self.cmd(f"{cmd} 2>&1 >/dev/null; echo rc=$?")
            if not out.strip().endswith("rc=0") and not cmd.startswith("ethtool"):
                raise FabricError(f"host {self.name}: `{cmd}` failed: {out.strip()}")
        for nic in nics:  # keep Mininet's view (IP(), pingAll, the CLI's dump) in sync
            intf = self.intf(nic.intf)
            intf.ip, intf.prefixLen = str(nic.ip.ip), nic.ip.network.prefixlen
        return result
