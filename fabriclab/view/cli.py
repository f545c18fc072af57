"""`fabriclab view`: the live fabric view in the browser, or the replay of a recorded sim.

    fabriclab view --run demo                  (a running `fabriclab net ... --run demo`)
    fabriclab view --run demo --port 8080 --int-csv /tmp/int.csv
    fabriclab view --replay results/sim-view.json

The page is served on 127.0.0.1 (a free port unless --port says which; the URL is printed).
It is read-only: P4Runtime reads without arbitration, never a write. Another address needs
--listen-any, because anyone who reaches the port sees the fabric.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from fabriclab.errors import FabricError
from fabriclab.paths import run_name

LOOPBACK = "127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--run", metavar="NAME", type=run_name, help="the running `fabriclab net` to show")
    what.add_argument("--replay", type=Path, metavar="FILE",
                      help="a recording of a virtual-time run (fabriclab.view.recorder)")
    parser.add_argument("--port", type=int, default=0,
                        help="TCP port of the page (default: a free one, printed)")
    parser.add_argument("--host", default=LOOPBACK,
                        help=f"address to listen on (default {LOOPBACK})")
    parser.add_argument("--listen-any", action="store_true",
                        help="allow a non-loopback --host (the page then shows the fabric to "
                        "anyone who reaches it)")
    parser.add_argument("--interval", type=float, default=0.5,
                        help="seconds between samples (default 0.5; at most 1)")
    parser.add_argument("--grpc-base-port", type=int,
                        help="first switch's P4Runtime port (default: the run's)")
    parser.add_argument("--int-csv", type=Path, metavar="FILE",
                        help="INT collector CSV to draw paths from (default: int.csv in the "
                        "run directory)")
    parser.add_argument("--int-paths", type=int, default=8, metavar="N",
                        help="how many of the latest INT paths to draw (default 8)")


def check_address(host: str, port: int, listen_any: bool) -> None:
    if not 0 <= port <= 65535:
        raise FabricError(f"--port {port}: a TCP port is 0..65535")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise FabricError(f"--host {host!r}: give an IP address, e.g. {LOOPBACK}") from None
    if not addr.is_loopback:
        if not listen_any:
            raise FabricError(f"--host {host} is not a loopback address: add --listen-any "
                              "if the fabric may be seen from other machines")
        print(f"fabriclab view: warning: listening on {host}: anyone who reaches this "
              "address sees the fabric", file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    check_address(args.host, args.port, args.listen_any)
    if not 0.05 <= args.interval <= 1.0:
        raise FabricError(f"--interval {args.interval}: give 0.05..1 s (the page updates at "
                          "least once a second)")
    if args.int_paths < 0:
        raise FabricError("--int-paths must be >= 0")
    from fabriclab.view import server

    server.check_assets()
    if args.replay is not None:
        from fabriclab.view.recorder import load

        rec = load(args.replay)
        info = {"mode": "replay", "run": args.replay.name, "graph": rec["graph"],
                "clock": rec.get("clock", "virtual")}
        server.serve(server.make_app(info, recording=rec), args.host, args.port)
        return 0
    from controller.cli import find_run, grpc_base_port
    from fabriclab.view.live import LiveSource, RunEnded
    from fabriclab.view.model import FrameMaker, graph

    rundir = find_run(args.run)  # FabricError for an unknown or stopped run
    source = LiveSource(rundir, grpc_base_port(rundir, args.grpc_base_port), args.int_csv,
                        args.int_paths)
    try:
        feed = server.LiveFeed(source.sample, FrameMaker(source.topo), args.interval,
                               ended_types=(RunEnded,))
        info = {"mode": "live", "run": source.run, "interval": args.interval,
                "graph": graph(source.topo)}
        server.serve(server.make_app(info, feed=feed), args.host, args.port)
    finally:
        source.close()
    return 0
