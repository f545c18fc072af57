"""`fabriclab int plot RUN|CSV`: queue depth per hop from the INT collector's CSV, one line
per (hop, switch), labelled with the switch names of the run's topology.

    fabriclab int plot demo                      (RUN: the run's int.csv and topology.json)
    fabriclab int plot /tmp/int.csv --topology t.json -o int.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from controller.int_collector import RUN_CSV
from controller.int_plot import plot_queue_depth, switch_names
from fabriclab.errors import FabricError
from fabriclab.paths import RUN_RE, RunDir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="action", metavar="plot", required=True)
    plot = sub.add_parser("plot", help="queue depth per hop with switch names (a PNG)")
    plot.add_argument("source", metavar="RUN|CSV",
                      help=f"a run name (its folder's {RUN_CSV}) or an INT collector CSV")
    plot.add_argument("--topology", type=Path, metavar="JSON",
                      help="topology JSON for the switch names (default: the run's)")
    plot.add_argument("-o", "--output", type=Path, metavar="PNG",
                      help="the figure (default: next to the CSV, .png)")


def sources(source: str, topology: Path | None) -> tuple[Path, Path | None]:
    """(CSV, topology JSON or None) for RUN|CSV."""
    path = Path(source)
    if path.is_file():
        return path, topology
    if not RUN_RE.match(source):
        raise FabricError(f"no INT CSV or run named {source!r}")
    folder = RunDir(source).path
    if not folder.is_dir():
        raise FabricError(f"no INT CSV or run named {source!r} (no {folder})")
    return folder / RUN_CSV, topology or folder / "topology.json"


def main(args: argparse.Namespace) -> int:
    csv_path, topology = sources(args.source, args.topology)
    names = {}
    if topology is not None:
        try:
            names = switch_names(topology.read_text())
        except OSError as err:
            raise FabricError(f"--topology: cannot read {topology}: {err.strerror}") from None
    out = plot_queue_depth(csv_path, args.output or csv_path.with_suffix(".png"), names=names)
    print(f"fabriclab int plot: wrote {out}")
    return 0
