"""`fabriclab doctor`: check this machine for what fabriclab needs and say what to fix.

Each check is (name, required, ok, detail/fix). Exit status 1 when a required check fails;
optional ones (BMv2, netem, tshark) only change what is available.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
from dataclasses import dataclass

from fabriclab.errors import FabricError
from fabriclab.net import linkparams
from fabriclab.net.p4node import BMV2_BINARY, port_is_free


@dataclass(frozen=True)
class Check:
    name: str
    required: bool
    ok: bool
    detail: str


def _tool(name: str, required: bool, why: str, fix: str) -> Check:
    path = shutil.which(name)
    return Check(name, required, path is not None, f"{path} ({why})" if path else fix)


def checks(grpc_base_port: int = 9559, switches: int = 8) -> list[Check]:
    root = os.geteuid() == 0
    out = [
        Check("root", True, root, "yes" if root else "Mininet and namespaces need root: sudo"),
        Check("mininet", True, importlib.util.find_spec("mininet") is not None,
              "importable" if importlib.util.find_spec("mininet")
              else "apt-get install mininet (and create .venv with --system-site-packages)"),
        _tool("cpp", True, "P4 preprocessor", "apt-get install cpp"),
        _tool("ip", True, "namespaces and veths", "apt-get install iproute2"),
        _tool("tc", True, "host-side rate shaping", "apt-get install iproute2"),
        _tool("ethtool", True, "turn off veth offloads", "apt-get install ethtool"),
        _tool("ping", True, "pingall and RTT checks", "apt-get install iputils-ping"),
        _tool("tshark", False, "decode pcaps", "apt-get install tshark (optional)"),
    ]
    if root:
        for kind, required, missing in (
                ("htb", False, "no htb: BMv2 links cannot be rate-limited by tc"),
                ("tbf", True, "no tbf: host egress cannot be shaped"),
                ("netem", False, "no netem (expected here): the built-in switch models link "
                                 "delay itself; BMv2 links cannot have delay")):
            ok = linkparams.kernel_has_qdisc(kind)
            out.append(Check(f"qdisc {kind}", required, ok, "available" if ok else missing))
    out.append(_tool(BMV2_BINARY, False, "--target bmv2",
                     "not installed: --target bmv2 unavailable (use the Vagrant VM); "
                     "the built-in target needs nothing"))
    busy = [p for p in range(grpc_base_port, grpc_base_port + switches) if not port_is_free(p)]
    out.append(Check(f"gRPC ports {grpc_base_port}-{grpc_base_port + switches - 1}", False,
                     not busy, "free" if not busy else
                     f"in use: {', '.join(map(str, busy))} (`fabriclab net` moves to the next "
                     "free block by itself; a run in the way stops with `sudo fabriclab clean "
                     "--run NAME`)"))
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grpc-base-port", type=int, default=9559,
                        help="first P4Runtime port to check (default 9559)")
    parser.add_argument("--switches", type=int, default=8,
                        help="how many consecutive ports to check (default 8)")


def main(args: argparse.Namespace) -> int:
    if args.switches < 1:
        raise FabricError(f"--switches: expected a count >= 1, got {args.switches}")
    last = args.grpc_base_port + args.switches - 1
    if args.grpc_base_port < 1 or last > 65535:
        raise FabricError(f"--grpc-base-port {args.grpc_base_port} with --switches "
                          f"{args.switches}: the ports must lie in 1..65535")
    results = checks(args.grpc_base_port, args.switches)
    for c in results:
        mark = "ok  " if c.ok else ("FAIL" if c.required else "warn")
        print(f"[{mark}] {c.name}: {c.detail}")
    failed = [c.name for c in results if c.required and not c.ok]
    if failed:
        print(f"fabriclab doctor: fix: {', '.join(failed)}")
        return 1
    print("fabriclab doctor: this machine can run fabriclab")
    return 0
