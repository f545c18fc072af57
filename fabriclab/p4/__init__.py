"""fabriclab's P4-16 toolchain: `compile_file`/`compile_source` -> `CompiledProgram`.

See docs/internals.md section 1 for the interface and `ir.py` for the typed IR.
"""

from fabriclab.p4.compiler import CompiledProgram, compile_file, compile_source, load_artifact
from fabriclab.p4.diagnostics import CompileError, TargetError

__all__ = ["CompiledProgram", "CompileError", "TargetError", "compile_file", "compile_source", "load_artifact"]
