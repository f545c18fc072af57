"""`python -m fabriclab.roce.host`: one rank of a collective in this process's network namespace.

Meant to be started by `runs.launch` (or by hand in a Mininet host): it binds its sockets,
prints "ready", waits for a line "go" on stdin (unless --no-wait), runs the iterations and
prints one JSON object with its timings, #wrong and counters.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
from dataclasses import replace

from fabriclab.errors import FabricError
from fabriclab.roce.collectives import DTYPES, KINDS, OPS, CollectiveSpec
from fabriclab.roce.driver import UdpDriver
from fabriclab.roce.nic import RoceNic
from fabriclab.roce.placement import parse_address
from fabriclab.roce.qp import MODES, PMTUS
from fabriclab.roce.rank import Rank
from fabriclab.roce.runs import RunOptions
from fabriclab.roce.units import parse_rate, parse_size

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def parse_peers(text: str) -> list[tuple[str, int]]:
    """'10.0.0.1,10.0.0.2:4792' -> [(ip, port), ...]."""
    peers = [parse_address(item) for item in text.split(",") if item.strip()]
    if not peers:
        raise FabricError("no peers given")
    return peers


def add_stack_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by this entry point and `fabriclab collective`."""
    p.add_argument("--size", default="1M", help="buffer size in bytes, e.g. 64K, 1M (default 1M); "
                   "`fabriclab collective` also takes MIN:MAX like nccl-tests' -b/-e")
    p.add_argument("--dtype", default="float", choices=sorted(DTYPES))
    p.add_argument("--op", default="sum", choices=sorted(OPS))
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rate", default="100M", help="NIC line rate in bit/s (pacing), e.g. 10M, 100M")
    p.add_argument("--pmtu", type=int, default=1024, choices=PMTUS)
    p.add_argument("--window", type=int, default=64, help="outstanding packets per QP")
    p.add_argument("--mode", default="gbn", choices=MODES, help="receiver: go-back-N or out-of-order placement")
    p.add_argument("--rto", type=float, default=0.02, help="retransmission timeout in seconds")
    p.add_argument("--dcqcn-rtt", type=float, default=None, help="enable DCQCN scaled to this RTT in seconds")
    p.add_argument("--burst", type=int, default=None,
                   help="bytes the pacer lets a late event loop catch up (default: 1 ms at line rate, >= 3000)")
    p.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")


def options(args: argparse.Namespace) -> RunOptions:
    if args.burst is not None and args.burst < 1500:
        raise FabricError("--burst must be at least one full frame (1500 bytes)")
    return RunOptions(args.iters, args.warmup, parse_rate(args.rate), args.pmtu, args.window, args.mode, args.rto,
                      args.dcqcn_rtt, args.burst)


def _die_with_launcher() -> None:
    """SIGTERM when the launcher dies (`ip netns exec`, nsenter and mnexec exec, so it is our parent)."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # it died before we got here
        sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fabriclab.roce.host", description=__doc__.splitlines()[0])
    p.add_argument("--rank", type=int, required=True)
    p.add_argument("--peers", required=True, help="every rank's IP[:PORT], in rank order")
    p.add_argument("--collective", default="allreduce", choices=KINDS)
    p.add_argument("--no-wait", action="store_true", help="start at once instead of waiting for 'go'")
    add_stack_arguments(p)
    args = p.parse_args(argv)
    if not args.no_wait:
        _die_with_launcher()
    try:
        peers = parse_peers(args.peers)
        if not 0 <= args.rank < len(peers):
            raise FabricError(f"--rank {args.rank} is outside 0..{len(peers) - 1}")
        spec = CollectiveSpec(args.collective, len(peers), parse_size(args.size), args.dtype, args.op)
        opts = options(args)
        if opts.burst is None:  # this event loop wakes up late: let it catch up 1 ms of line rate
            opts = replace(opts, burst=max(3000, int(opts.line_rate * 1e-3 / 8)))
        ip, port = peers[args.rank]
        nic = RoceNic(opts.nic_config(ip, port))
        rank = Rank(nic, args.rank, peers, spec, opts.iters, opts.warmup)
        with UdpDriver(nic, rank) as driver:
            driver.open_qp_sockets()
            print("ready", flush=True)
            if not args.no_wait and sys.stdin.readline().strip() != "go":
                raise FabricError("launcher went away before 'go'")
            finished = driver.run(lambda: rank.done, args.timeout)
            summary = rank.summary()
            summary["send_errors"] = driver.send_errors
            if not finished:
                summary["error"] = summary["error"] or f"rank {args.rank}: timed out after {args.timeout} s"
        print(json.dumps(summary), flush=True)
        return 0 if summary["error"] is None else 1
    except FabricError as err:
        print(f"fabriclab.roce.host: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
