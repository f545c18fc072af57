"""Link parameters (Mininet's names: bw Mb/s, delay, max_queue_size) for each target.

The built-in switch models every direction that leaves a switch port itself (this kernel
has no netem): rate, one-way delay and queue depth become `--port-rate`, `--port-delay`
and `--queue-depth` of the sending switch. A direction that leaves a host is shaped by tbf
in the host (rate only; its queue is tbf's). On BMv2 the same numbers become Mininet
TCIntf/tc parameters: htb for rate, netem for delay and queue size. We check for those
qdiscs up front and say so instead of failing late.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache

from fabriclab.errors import FabricError
from topologies.graph import LinkParams, Topology


def switch_port_flags(port: int, params: LinkParams) -> list[str]:
    """`fabriclab switch` flags modelling the link that leaves `port`."""
    flags: list[str] = []
    if params.bw is not None:
        flags += ["--port-rate", f"{port}@{params.bw:g}mbit"]
    if params.delay_us:
        flags += ["--port-delay", f"{port}@{params.delay_us}us"]
    if params.max_queue_size is not None:
        flags += ["--queue-depth", f"{port}@{params.max_queue_size}"]
    return flags


def tc_params(params: LinkParams) -> dict[str, object]:
    """Mininet TCIntf keyword arguments for one direction (BMv2 target)."""
    out: dict[str, object] = {}
    if params.bw is not None:
        out["bw"] = params.bw
    if params.delay_us:
        out["delay"] = f"{params.delay_us}us"
    if params.max_queue_size is not None:
        out["max_queue_size"] = params.max_queue_size
    return out


def host_shaping_cmds(intf: str, params: LinkParams, mtu: int = 1500) -> list[str]:
    """tc commands that shape a host's egress (rate only: delay needs netem). The bucket
    holds ~1 ms of traffic and at least two full frames (tbf drops larger packets)."""
    if params.bw is None:
        return []
    burst = max(2 * (mtu + 18), int(params.bw * 1e6 / 8 / 1000))
    return [f"tc qdisc replace dev {intf} root tbf rate {params.bw:g}mbit burst {burst} "
            f"latency 50ms"]


QDISC_PROBES = {"netem": "netem", "htb": "htb",
                "tbf": "tbf rate 1mbit burst 10k latency 50ms"}


@lru_cache(maxsize=None)
def kernel_has_qdisc(kind: str) -> bool:
    """Whether the running kernel has qdisc `kind` (tries it on a throwaway veth)."""
    dev = f"flq{kind[:8]}{os.getpid() % 1000}"
    try:
        subprocess.run(["ip", "link", "add", dev, "type", "veth", "peer", "name", dev + "b"],
                       capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    try:
        spec = QDISC_PROBES.get(kind, kind).split()
        return subprocess.run(["tc", "qdisc", "add", "dev", dev, "root", *spec],
                              capture_output=True).returncode == 0
    finally:
        subprocess.run(["ip", "link", "del", dev], capture_output=True)


def check_target_supports(topo: Topology, target: str) -> None:
    """Fail before building if a link needs what the target lacks on this machine."""
    for link in topo.links:
        for src, params in ((link.a, link.ab), (link.b, link.ba)):
            where = f"link {link.a}-{link.b} (leaving {src})"
            if target != "bmv2":
                if params.delay_us and not topo.nodes[src].is_switch:
                    raise FabricError(f"{where}: the built-in target models delay in the "
                                      "sending switch, and a host cannot delay its own egress "
                                      "without netem: put the delay on the switch's side")
                continue
            needs = (["netem"] if params.delay_us or params.max_queue_size is not None else []) \
                + (["htb"] if params.bw is not None else [])
            for qdisc in needs:
                if not kernel_has_qdisc(qdisc):
                    raise FabricError(f"{where}: --target bmv2 shapes links with tc {qdisc}, "
                                      "which this kernel lacks; use the built-in target (its "
                                      "switch models rate, delay and queue depth)")
