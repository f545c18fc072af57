"""`fabriclab demo`: the headline job behind `sudo make demo`.

Runs the adaptive-routing experiment at its quick scale (ECMP vs flowlet vs per-packet
adaptive routing for RoCEv2 collectives on a leaf-spine of fabric.p4 switches) and says
where its figure, CSV and JSON went. It is `fabriclab run adaptive_routing --quick`
under a name that never changes when the headline experiment does.
"""

from __future__ import annotations

import argparse
import pathlib

HEADLINE = "adaptive_routing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=pathlib.Path, metavar="DIR",
                        help=f"results folder (default results/{HEADLINE})")


def main(args: argparse.Namespace) -> int:
    from experiments import cli

    print(f"fabriclab demo: {HEADLINE}, quick scale (about 2-3 minutes on 2 cores)", flush=True)
    return cli.main(argparse.Namespace(experiment=HEADLINE, scale="quick", target=None,
                                       seeds=None, out=args.out))
