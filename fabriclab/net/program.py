"""The program a network's switches run, compiled for its target before Mininet creates anything,
so a bad program never leaves half a network behind.

Built-in target: fabriclab.switch.artifact.compile_builtin. BMv2: p4c-bm2-ss compiles it to BMv2
JSON and P4Info (only where p4c is installed, e.g. the Vagrant VM).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from finsy.proto import p4i
from google.protobuf import text_format

from fabriclab import paths
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import ForwardingConfig, compile_builtin


def default_program() -> Path:
    """The shipped fabric.p4 when there is one, else the basic router."""
    fabric = paths.p4src("fabric.p4")
    return fabric if fabric.exists() else paths.p4src("basic.p4")


def compile_bmv2(source: Path, outdir: Path) -> ForwardingConfig:
    p4c = shutil.which("p4c-bm2-ss")
    if p4c is None:
        raise FabricError("--target bmv2 needs p4c-bm2-ss on PATH to compile "
                          f"{source.name} (it is in the project's Vagrant VM)")
    outdir.mkdir(parents=True, exist_ok=True)
    out_json, out_info = outdir / f"{source.stem}.json", outdir / f"{source.stem}.p4info.txtpb"
    done = subprocess.run([p4c, "--p4runtime-files", str(out_info), "-o", str(out_json),
                           str(source)], capture_output=True, text=True)
    if done.returncode:
        raise FabricError(f"p4c-bm2-ss failed on {source}:\n{done.stderr.strip()}")
    p4info = text_format.Parse(out_info.read_text(), p4i.P4Info())
    return ForwardingConfig(source, p4info, out_json.read_bytes())


def load_program(source: Path | None, target: str, outdir: Path) -> ForwardingConfig:
    source = source or default_program()
    if not source.is_file():
        raise FabricError(f"no P4 program at {source}")
    return compile_bmv2(source, outdir) if target == "bmv2" else compile_builtin(source)
