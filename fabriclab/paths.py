"""Where fabriclab keeps its run-time files (logs, admin sockets, run state): one place.

Not /tmp/fabriclab: a directory there named like the package shadows it for anyone who runs
`python -m fabriclab` with cwd=/tmp (Python puts the cwd first on sys.path).
FABRICLAB_RUN_ROOT overrides the location (tests point it at a temporary directory).
"""

from __future__ import annotations

import os
from pathlib import Path

RUN_DIR = Path(os.environ.get("FABRICLAB_RUN_ROOT", "/tmp/fabriclab-run"))


def run_dir(run: str) -> Path:
    """The files of one `fabriclab net` run: switch logs, topology.json, links, sockets."""
    return RUN_DIR / run


def run_switch_socket(run: str, switch: str) -> Path:
    """The admin socket of switch node `switch` in run `run`."""
    return run_dir(run) / f"{switch}.sock"


def switch_socket(device_id: int) -> Path:
    """A standalone `fabriclab switch`'s default admin socket (`switch-cli --device-id`)."""
    return RUN_DIR / f"switch-{device_id}.sock"
