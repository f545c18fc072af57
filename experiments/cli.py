"""`fabriclab run EXPERIMENT [--mode emulate|sim] [--quick|--full] [--target builtin|bmv2]
[--seeds 1,2,3] [--out DIR] [--workers N | --cluster tcp://HOST:PORT [--emulate-on-cluster]]`.

Each experiment is a module with `run(scale, out_dir, progress, mode=..., **overrides) ->
result`; it writes results/<experiment>/<run>.csv, .json and .png and prints a summary
table. `--mode emulate` (the default) runs Mininet in real time and needs root; `--mode sim`
runs the same switches, controller and hosts in virtual time (fabriclab.vtime), no root.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import signal
from pathlib import Path

from experiments.sweep import Sweep
from fabriclab.errors import FabricError

EXPERIMENTS = {"adaptive_routing": "experiments.adaptive_routing", "scale_up": "experiments.scale_up",
               "congestion_control": "experiments.congestion_control",
               "innet_allreduce": "experiments.innet_allreduce",
               "scale_across": "experiments.scale_across",
               "isolation": "experiments.isolation",
               "resiliency": "experiments.resiliency"}
MODES = ("emulate", "sim")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("experiment", metavar="EXPERIMENT", help=f"one of: {', '.join(EXPERIMENTS)}")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--quick", dest="scale", action="store_const", const="quick",
                       help="the small run (`make demo`; the default)")
    scale.add_argument("--full", dest="scale", action="store_const", const="full",
                       help="more seeds and longer transfers")
    parser.set_defaults(scale="quick")
    parser.add_argument("--mode", default="emulate", metavar="emulate|sim",
                        help="emulate: Mininet in real time (root; the default); "
                             "sim: virtual time, no root")
    parser.add_argument("--target", choices=("builtin", "bmv2"), default=None,
                        help="switch target (default: builtin)")
    parser.add_argument("--seeds", metavar="S1,S2,...", help="replace the scale's seed list")
    parser.add_argument("--out", type=Path, metavar="DIR", help="results folder (default results/EXPERIMENT)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="trials in N local processes (default: one per core in sim mode, 1 in emulate)")
    parser.add_argument("--cluster", metavar="tcp://HOST:PORT", help="run the trials on this Dask scheduler")
    parser.add_argument("--emulate-on-cluster", action="store_true",
                        help="allow emulate-mode trials on --cluster (each worker: root, a machine of its own)")


def parse_seeds(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise FabricError(f"--seeds {text!r}: expected comma-separated integers") from None
    if not seeds:
        raise FabricError("--seeds: give at least one seed")
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:  # a repeated seed would count one run twice in every mean and percentile
        raise FabricError(f"--seeds {text}: seed {twice[0]} given twice")
    return seeds


def experiment_module(name: str):
    key = name.replace("-", "_")
    if key not in EXPERIMENTS:
        raise FabricError(f"unknown experiment {name!r} (one of: {', '.join(EXPERIMENTS)})")
    return importlib.import_module(EXPERIMENTS[key])


def parse_mode(text: str) -> str:
    if text not in MODES:
        raise FabricError(f"unknown mode {text!r} (one of: {', '.join(MODES)})")
    return text


def main(args: argparse.Namespace) -> int:
    mode = parse_mode(args.mode)
    module = experiment_module(args.experiment)
    if mode == "sim" and args.target not in (None, "builtin"):
        raise FabricError("--mode sim runs the built-in switch; --target bmv2 needs --mode emulate")
    sweep = Sweep(args.workers, args.cluster, args.emulate_on_cluster)
    sweep.check_mode(mode)
    spread = "sweep" in inspect.signature(module.run).parameters
    if not spread and (args.workers or args.cluster):
        raise FabricError(f"{args.experiment} runs its cases in one process: no --workers/--cluster yet")
    seeds = parse_seeds(args.seeds)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM and SIGHUP (a closed terminal, a lost SSH session) stop the run as Ctrl-C does:
    # the sweep writes the finished trials' results and emulate trials tear their nets down.
    # SIGINT is re-armed because `fabriclab run ... &` from a script inherits it ignored
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        result = module.run(scale=args.scale, out_dir=args.out, progress=lambda s: print(s, flush=True),
                            mode=mode, target=args.target, seeds=seeds,
                            **({"sweep": sweep} if spread else {}))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not result.rows:
        raise FabricError("no case finished: " + "; ".join(result.errors[:3]))
    return 1 if result.errors else 0
