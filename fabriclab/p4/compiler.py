"""The compile pipeline: cpp -> parse -> build IR -> check -> P4Info, with a content-hash cache.

`compile_source`/`compile_file` are the toolchain's public entry points (re-exported by
`fabriclab.p4`). Results are cached by the hash of the preprocessed text: in-process, so
loading the same artifact or program twice costs nothing, and on disk (`cache.py`), so a
fresh process skips lark, the parse and the checks for a program compiled before.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fabriclab import __version__
from fabriclab.p4 import cache, ir
from fabriclab.p4.diagnostics import CompileError, Diagnostic, SourceMap, TargetError, refine
from fabriclab.p4.preprocess import preprocess

ARTIFACT_FORMAT = "fabriclab-pipeline"
ARTIFACT_VERSION = 1
_CACHE_SIZE = 32


def p4runtime_bytes(message, kind: str) -> bytes:
    """A P4Runtime file as p4c writes it: "text" is protobuf text format (octal escapes) after
    p4c's `# proto-file:`/`# proto-message:` lines; "json" is C++ protobuf's JSON with
    whitespace (one space per level); "binary" the wire format."""
    if kind == "text":
        from google.protobuf import text_format
        d = message.DESCRIPTOR
        return (f"# proto-file: {d.file.name}\n# proto-message: {d.full_name}\n\n"
                + text_format.MessageToString(message, as_utf8=False)).encode()
    if kind == "json":
        from google.protobuf import json_format
        return json_format.MessageToJson(message, indent=1).encode()
    return message.SerializeToString()


@dataclass
class CompiledProgram:
    """A checked program: typed IR, its P4Info, and the preprocessed source it came from."""

    name: str
    source: str
    program: ir.Program
    p4info: object  # p4.config.v1.P4Info (finsy.proto.p4i.P4Info)
    warnings: list[Diagnostic] = field(default_factory=list)
    # Errors p4c reports only when asked for P4Info (e.g. a control instantiated twice gives
    # duplicate names): the data plane is fine, P4Info consumers must refuse the program.
    p4info_errors: list[Diagnostic] = field(default_factory=list)
    infos: list[Diagnostic] = field(default_factory=list)  # what p4c reports as infos (a table removed)
    # The table entries as P4Runtime writes (p4.v1.WriteRequest): --p4runtime-entries-files
    p4runtime_entries: object = None

    def checked_p4info(self):
        """The P4Info, or CompileError if p4c would refuse to generate it."""
        if self.p4info_errors:
            raise CompileError(self.p4info_errors)
        return self.p4info

    @property
    def p4info_text(self) -> str:
        """P4Info in protobuf text format, with the header p4c writes (`--p4runtime-files x.txt`)."""
        return p4runtime_bytes(self.p4info, "text").decode()

    def to_artifact(self) -> bytes:
        """The pipeline artifact (`prog.json`) that `load_artifact` turns back into this."""
        doc = {"format": ARTIFACT_FORMAT, "version": ARTIFACT_VERSION, "name": self.name,
               "source": self.source, "p4info": self.p4info_text, "fabriclab_version": __version__}
        return json.dumps(doc, indent=1).encode()


_cache: "OrderedDict[str, CompiledProgram]" = OrderedDict()
_cache_lock = threading.Lock()


def _compile_preprocessed(text: str, name: str, originals: dict[str, str] | None = None) -> CompiledProgram:
    key = hashlib.sha256(f"{name}\0{text}".encode()).hexdigest()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    disk_key = cache.key(name, text)
    result = _from_disk(cache.load(disk_key), name, text)
    if result is None:
        result = _check(text, name, originals)
        cache.store(disk_key, (result.program, result.p4info.SerializeToString(), result.warnings,
                               result.p4info_errors, result.infos, result.p4runtime_entries.SerializeToString()))
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _from_disk(entry: object, name: str, text: str) -> CompiledProgram | None:
    """A CompiledProgram from a disk cache entry, or None if the entry is not one of ours."""
    if not (isinstance(entry, tuple) and len(entry) == 6 and isinstance(entry[0], ir.Program)
            and isinstance(entry[1], bytes) and all(isinstance(e, list) for e in entry[2:5])
            and isinstance(entry[5], bytes)):
        return None
    from finsy.proto import p4i, p4r
    from google.protobuf.message import DecodeError

    program, p4info_bytes, warnings, p4info_errors, infos, entries_bytes = entry
    p4info, entries = p4i.P4Info(), p4r.WriteRequest()
    try:
        p4info.ParseFromString(p4info_bytes)
        entries.ParseFromString(entries_bytes)
    except DecodeError:
        return None
    return CompiledProgram(name, text, program, p4info, warnings, p4info_errors, infos, entries)


def _repeated_before(trees: list, smap: SourceMap, text: str) -> list[Diagnostic]:
    """The names repeated in lists (a struct expression's fields, parameters, ...) in the
    code parsed before a syntax error: p4c's parser reports each as it builds the list, so
    they come first."""
    from lark import Tree

    from fabriclab.p4.build_ir import IrBuilder
    from fabriclab.p4.validate import repeated_names

    def nodes(value) -> Iterable[ir.Node]:  # (a fragment of a rule's list stays a Tree of IR)
        if isinstance(value, ir.Node):
            yield value
        elif isinstance(value, (list, Tree)):
            for child in value.children if isinstance(value, Tree) else value:
                yield from nodes(child)

    built: list[ir.Node] = []
    for tree in trees:
        try:
            built += nodes(IrBuilder(smap, text).transform(tree))
        except Exception:  # (a fragment the builder cannot take alone: its errors come later)
            continue
    return [Diagnostic(pos, f"{name}: Duplicates declaration {name}")
            for pos, name in repeated_names(ir.Program(decls=built))]


def _p4runtime_first(err: CompileError, program: ir.Program, warnings: list[Diagnostic]) -> CompileError:
    """p4c writes P4Runtime files (here: always) between its front end and its mid end, and
    stops there on their errors: those come before the mid end's (not before a rule of the
    BMv2 back end, a TargetError: that one names the target the program cannot run on).
    Without such errors the files ride on the mid end's error, with the warnings p4c gave
    while writing them: p4c-bm2-ss leaves the files behind."""
    from fabriclab.p4.p4info import build_p4runtime
    if not err.in_mid_end:
        return err
    p4info, entries, problems = build_p4runtime(program)
    errors = [d for d in problems if d.severity != "warning"]
    if errors:
        return err if isinstance(err, TargetError) else CompileError(errors)
    warnings += problems
    err.p4runtime = (p4info, entries)
    return err


def _check(text: str, name: str, originals: dict[str, str] | None) -> CompiledProgram:
    """Parse, build the IR, check and build P4Info (imported here: a disk cache hit needs none of it)."""
    from fabriclab.p4.passes import check
    from fabriclab.p4.build_ir import build_ir
    from fabriclab.p4.p4info import build_p4runtime
    from fabriclab.p4.parser import ParseError, parse

    smap = SourceMap(text)
    warnings: list[Diagnostic] = []
    infos: list[Diagnostic] = []
    try:
        try:
            tree = parse(text, smap)
        except ParseError as err:
            raise CompileError(_repeated_before(err.before, smap, text) + err.diagnostics) from None
        program = build_ir(tree, smap, text, warnings)
        try:
            check(program, warnings, infos)
        except CompileError as err:
            raise _p4runtime_first(err, program, warnings) from None
        p4info, entries, p4info_errors = build_p4runtime(program)
        if program.main is None:  # p4c's P4Info serializer says so too
            warnings.append(Diagnostic(None, "Program does not contain a main module, so P4Info's "
                                             "'pkg_info' field will not be set"))
    except CompileError as err:
        for diag in warnings:
            diag.severity = "warning"
        refined = type(err)(refine(err.diagnostics, smap, originals), refine(warnings, smap, originals))
        refined.in_mid_end, refined.p4runtime = err.in_mid_end, err.p4runtime
        raise refined from None
    except RecursionError:
        raise CompileError([Diagnostic(None, f"{name}: expressions or statements nested too deeply "
                                             f"for fabriclab")]) from None
    warnings += [d for d in p4info_errors if d.severity == "warning"]
    for diag in warnings:
        diag.severity = "warning"
    return CompiledProgram(name, text, program, p4info, refine(warnings, smap, originals),
                           refine([d for d in p4info_errors if d.severity != "warning"], smap, originals),
                           refine(infos, smap, originals), entries)


def compile_source(text: str, name: str = "<string>", include_dirs: Iterable[str] = (),
                   defines: Mapping[str, str | None] | None = None) -> CompiledProgram:
    """Compile P4-16 source text; `name` is used in diagnostics and as the program name."""
    pre = preprocess(text, name, include_dirs, defines)
    return _compile_preprocessed(pre, pathlib.Path(name).stem if not name.startswith("<") else name,
                                 {name: text})


def compile_file(path: str | pathlib.Path, include_dirs: Iterable[str] = (),
                 defines: Mapping[str, str | None] | None = None, undefines: Iterable[str] = ()) -> CompiledProgram:
    path = pathlib.Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise CompileError([Diagnostic(None, f"cannot read {path}: {err}")]) from None
    pre = preprocess(text, str(path), include_dirs, defines, undefines)
    return _compile_preprocessed(pre, path.stem, {str(path): text})


def load_artifact(path_or_bytes: str | pathlib.Path | bytes) -> CompiledProgram:
    """Load a pipeline artifact; re-checks its preprocessed source (cached by content hash)."""
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
    else:
        try:
            data = pathlib.Path(path_or_bytes).read_bytes()
        except OSError as err:
            raise CompileError([Diagnostic(None, f"cannot read artifact {path_or_bytes}: {err}")]) from None
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CompileError([Diagnostic(None, "not a fabriclab pipeline artifact (invalid JSON)")]) from None
    if not isinstance(doc, dict) or doc.get("format") != ARTIFACT_FORMAT:
        raise CompileError([Diagnostic(None, "not a fabriclab pipeline artifact (wrong 'format')")])
    if doc.get("version") != ARTIFACT_VERSION:
        raise CompileError([Diagnostic(None, f"unsupported artifact version {doc.get('version')!r} "
                                             f"(this fabriclab reads version {ARTIFACT_VERSION})")])
    if not isinstance(doc.get("source"), str) or not isinstance(doc.get("name"), str):
        raise CompileError([Diagnostic(None, "corrupt artifact: missing 'source' or 'name'")])
    return _compile_preprocessed(doc["source"], doc["name"])
