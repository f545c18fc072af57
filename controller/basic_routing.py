"""Routes for p4src/basic.p4, the tutorial-style IPv4 router.

basic.p4 has one LPM table, `MyIngress.ipv4_lpm` -> `MyIngress.ipv4_forward(dstAddr, port)`,
and no ECMP: of a prefix's equal-cost next hops it takes one, spread by the prefix's own
bits (subnet n goes to hop n mod k) so different destinations use different spines.
"""

from __future__ import annotations

from typing import Iterable

from finsy.proto import p4i

from controller.client import Entry, P4RuntimeClient
from controller.routes import NextHop, Prefix

TABLE = "MyIngress.ipv4_lpm"
ACTION = "MyIngress.ipv4_forward"
KEY = "hdr.ipv4.dstAddr"


def supports(p4info: p4i.P4Info) -> bool:
    """Whether a program looks like basic.p4 (has its table and action)."""
    return (any(t.preamble.name == TABLE for t in p4info.tables)
            and any(a.preamble.name == ACTION for a in p4info.actions))


def pick(prefix: Prefix, hops: tuple[NextHop, ...]) -> NextHop:
    """One next hop per prefix, deterministic and spread across prefixes."""
    return hops[(int(prefix.network_address) >> (32 - prefix.prefixlen)) % len(hops)]


def entries(routes: dict[Prefix, tuple[NextHop, ...]]) -> Iterable[Entry]:
    for prefix, hops in sorted(routes.items(), key=lambda kv: (kv[0].prefixlen, kv[0])):
        if not hops:
            continue
        hop = pick(prefix, hops)
        yield Entry(TABLE, {KEY: (str(prefix.network_address), prefix.prefixlen)}, ACTION,
                    {"dstAddr": hop.mac, "port": hop.port})


def install(client: P4RuntimeClient, routes: dict[Prefix, tuple[NextHop, ...]]) -> int:
    """Write one switch's routes; returns how many entries were written."""
    batch = list(entries(routes))
    client.insert(batch)
    return len(batch)
