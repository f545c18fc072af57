"""One scale-up case in virtual time: ranks with two NICs on a `scale_up_fabric`.

Rank i runs on accelerator i. Its scale-out NIC (eth0) carries every peer in the flat
scheme; in the hierarchical scheme its scale-up NIC (eth1, at the scale-up rate) carries
the peers of its own domain (`fabriclab.launch.domains.run_two_nic`, which `fabriclab
collective --sim --algo hier` runs too). The share of bytes that stayed inside domains is
read from the switches' transmit counters on ports toward hosts: what the scale-up switches
delivered over what all switches did.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from fabriclab.launch.domains import run_two_nic
from fabriclab.roce.collectives import CollectiveSpec
from fabriclab.roce.framing import ROCE_PORT
from fabriclab.roce.runs import RunOptions
from fabriclab.vtime.fabric import Fabric
from fabriclab.vtime.runs import DEFAULT_LIMIT_NS


def run_case(fabric: Fabric, spec: CollectiveSpec, options: RunOptions, scaleup_bps: float,
             seed: int = 0, limit_ns: int = DEFAULT_LIMIT_NS,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run `spec` once on `fabric` (ranks on its first nranks hosts) -> per-rank summaries,
    intra-domain byte share and what the case cost."""
    up_options = dataclasses.replace(options, line_rate=scaleup_bps)
    return run_two_nic(fabric, spec, options, lambda ip, _mbps: up_options.nic_config(ip, ROCE_PORT),
                       seed=seed, limit_ns=limit_ns, progress=progress)
