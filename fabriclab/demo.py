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


def run_arguments(out: pathlib.Path | None) -> argparse.Namespace:
    """`fabriclab run HEADLINE --quick [--out DIR]` as that command's own parser reads it:
    every option `run` gains later gets its default here too."""
    from experiments import cli

    parser = argparse.ArgumentParser(prog="fabriclab run")
    cli.add_arguments(parser)
    return parser.parse_args([HEADLINE, "--quick", *(["--out", str(out)] if out else [])])


def main(args: argparse.Namespace) -> int:
    from experiments import cli

    print(f"fabriclab demo: {HEADLINE}, quick scale (about 2-3 minutes on 2 cores)", flush=True)
    return cli.main(run_arguments(args.out))
