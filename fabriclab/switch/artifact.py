"""What a controller pushes to a switch (P4Runtime's ForwardingPipelineConfig), and how the
built-in target's is made: fabriclab.p4 compiles the program, its pipeline artifact JSON is the
device config that `fabriclab switch` loads.

Below the controller and the Mininet driver on purpose: both compile programs for the built-in
target (`fabriclab net`, the fabric controller's tests, experiments), and neither may import
the other. BMv2's equivalent (p4c-bm2-ss) is in fabriclab.net.program.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ForwardingConfig:
    """P4Info and device config of one compiled program, and the file it came from."""

    source: Path
    p4info: Any  # p4.config.v1.P4Info (finsy.proto.p4i.P4Info)
    device_config: bytes


def compile_builtin(source: Path | str) -> ForwardingConfig:
    """Compile a P4 file for the built-in target (CompileError on a bad program)."""
    from fabriclab.p4 import compile_file  # imported late: `fabriclab ctl` never compiles

    compiled = compile_file(str(source))
    return ForwardingConfig(Path(source), compiled.p4info, compiled.to_artifact())
