"""Deterministic IPv4 addresses and MACs derived from a topology graph.

Scheme (private ranges, used only inside the network namespaces Mininet creates):
- every switch with hosts attached (a leaf, rail or scale-up switch) owns the subnet
  10.<site>.<n>.0/24, n = 1, 2, ... in node order within the site;
- the host NIC on its k-th host-facing port (by port number) is 10.<site>.<n>.<k>/24, with
  MAC 02:00:0a:<site>:<n>:<k> (the IP in the MAC makes captures easy to read);
- the gateway of that subnet is 10.<site>.<n>.254: nothing answers ARP for it, hosts get a
  static neighbour entry mapping it to the switch port's MAC;
- switch port MACs are 02:01:<switch index, 16 bits>:00:<port>.
Routers route on the /24s; the switch owning a subnet has one /32 per attached NIC.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property

from fabriclab.errors import FabricError
from topologies.graph import Topology

GATEWAY_HOST = 254


@dataclass(frozen=True)
class HostNic:
    """One host interface: its address, MAC, and the switch port it plugs into."""

    host: str
    port: int  # NIC index: eth<port>
    ip: ipaddress.IPv4Interface
    mac: str
    gateway: ipaddress.IPv4Address
    gateway_mac: str
    switch: str
    switch_port: int

    @property
    def intf(self) -> str:
        return f"eth{self.port}"


def switch_mac(index: int, port: int) -> str:
    return f"02:01:{index >> 8:02x}:{index & 0xFF:02x}:00:{port:02x}"


def _mac_of(ip: ipaddress.IPv4Address) -> str:
    return "02:00:" + ":".join(f"{b:02x}" for b in ip.packed)


@dataclass(frozen=True)
class Addressing:
    """All addresses of one topology; build with `Addressing(topo)`."""

    topo: Topology

    @cached_property
    def subnets(self) -> dict[str, ipaddress.IPv4Network]:
        """Access switch -> its host subnet."""
        per_site: dict[int, int] = {}
        out: dict[str, ipaddress.IPv4Network] = {}
        for sw in self.topo.switches():
            peers = [self.topo.nodes[p] for _, p, _, _ in self.topo.neighbors(sw.name)]
            if all(p.is_switch for p in peers):
                continue
            if sw.site > 255:
                raise FabricError(f"switch {sw.name!r}: site {sw.site} does not fit 10.<site>.x.y")
            n = per_site[sw.site] = per_site.get(sw.site, 0) + 1
            if n > 253:
                raise FabricError(f"site {sw.site} has more than 253 host-facing switches")
            out[sw.name] = ipaddress.IPv4Network(f"10.{sw.site}.{n}.0/24")
        return out

    @cached_property
    def nics(self) -> dict[tuple[str, int], HostNic]:
        """(host, NIC index) -> HostNic, in host then NIC order."""
        found: list[HostNic] = []
        for sw, net in self.subnets.items():
            index = self.topo.switch_index(sw)
            k = 0
            for port, peer, peer_port, _ in self.topo.neighbors(sw):
                if self.topo.nodes[peer].is_switch:
                    continue
                k += 1
                if k >= GATEWAY_HOST:
                    raise FabricError(f"switch {sw!r} has more than {GATEWAY_HOST - 1} hosts")
                ip = net.network_address + k
                found.append(HostNic(peer, peer_port, ipaddress.IPv4Interface(f"{ip}/24"),
                                     _mac_of(ip), net.network_address + GATEWAY_HOST,
                                     switch_mac(index, port), sw, port))
        order = {name: i for i, name in enumerate(self.topo.nodes)}
        found.sort(key=lambda n: (order[n.host], n.port))
        return {(n.host, n.port): n for n in found}

    def host_nics(self, host: str) -> list[HostNic]:
        return [n for (h, _), n in self.nics.items() if h == host]

    def ip(self, host: str, nic: int | None = None) -> ipaddress.IPv4Address:
        """A host's address: NIC `nic`, or its first NIC (the one its default route uses)."""
        nics = self.host_nics(host)
        if not nics:
            raise FabricError(f"no host named {host!r} with addresses")
        if nic is None:
            return nics[0].ip.ip
        for n in nics:
            if n.port == nic:
                return n.ip.ip
        raise FabricError(f"host {host!r} has no NIC {nic}")

    def port_mac(self, switch: str, port: int) -> str:
        return switch_mac(self.topo.switch_index(switch), port)
