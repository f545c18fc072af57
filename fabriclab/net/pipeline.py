"""The program a network's switches run, in the form the controller pushes over P4Runtime.

Built-in target: `fabriclab.p4` compiles the P4 file; the device config is the pipeline
artifact JSON. BMv2: p4c-bm2-ss compiles it to BMv2 JSON and P4Info (only where p4c is
installed, e.g. the Vagrant VM). Both happen before Mininet creates anything, so a bad
program never leaves half a network behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from finsy.proto import p4i
from google.protobuf import text_format

from fabriclab.errors import FabricError

P4SRC = Path(__file__).resolve().parents[2] / "p4src"


@dataclass(frozen=True)
class Pipeline:
    """P4Info and device config of one compiled program."""

    source: Path
    p4info: p4i.P4Info
    device_config: bytes


def default_program() -> Path:
    """p4src/fabric.p4 when the tree has it, else the basic router."""
    fabric = P4SRC / "fabric.p4"
    return fabric if fabric.exists() else P4SRC / "basic.p4"


def _artifact_bytes(artifact: object) -> bytes:
    if isinstance(artifact, bytes):
        return artifact
    if isinstance(artifact, str):
        return artifact.encode()
    return json.dumps(artifact).encode()


def compile_builtin(source: Path) -> Pipeline:
    from fabriclab import p4

    if not hasattr(p4, "compile_file"):
        raise FabricError("this build's toolchain has no compile_file: cannot compile "
                          f"{source.name} for the built-in target")
    compiled = p4.compile_file(str(source))
    return Pipeline(source, compiled.p4info, _artifact_bytes(compiled.to_artifact()))


def compile_bmv2(source: Path, outdir: Path) -> Pipeline:
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
    return Pipeline(source, p4info, out_json.read_bytes())


def load_pipeline(source: Path | None, target: str, outdir: Path) -> Pipeline:
    source = source or default_program()
    if not source.is_file():
        raise FabricError(f"no P4 program at {source}")
    return compile_bmv2(source, outdir) if target == "bmv2" else compile_builtin(source)
