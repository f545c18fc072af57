"""The import graph follows the layer order of docs/internals.md: no module imports a floor above
its own. Every import counts: top-level and inside functions, relative ones, importlib's
import_module("...") and __import__("..."), and any string that names a module of the tree
(modules loaded by name, e.g. a list of installers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("fabriclab", "controller", "topologies", "experiments")

#: Ground first. Modules of one floor may import each other.
LAYERS: list[tuple[str, ...]] = [
    ("fabriclab", "fabriclab.cpu_share", "fabriclab.errors", "fabriclab.paths", "fabriclab.units"),
    ("topologies",),
    ("fabriclab.p4",),
    ("fabriclab.switch",),
    ("fabriclab.roce",),  # protocol only: no sockets, namespaces, processes
    ("controller",),
    ("fabriclab.net", "fabriclab.vtime", "fabriclab.launch", "fabriclab.view"),  # drivers and orchestration
    ("experiments", "fabriclab.labs"),
]
CLI = len(LAYERS)  # cli.py, *_cli.py, __main__.py, fabriclab.demo: argument parsing on top
LOADERS = {"import_module", "__import__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    """The floor of a module (or module.attribute) of the tree (None: not ours, e.g. mininet)."""
    parts = module.split(".")
    if any(p in ("cli", "__main__") or p.endswith("_cli") for p in parts) or parts[:2] == ["fabriclab", "demo"]:
        return CLI
    best: tuple[int, int] | None = None  # (floor, length of the longest matching prefix)
    for floor, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and \
                    (best is None or len(prefix) > best[1]):
                best = (floor, len(prefix))
    if best is None:
        return None
    if best[1] == len("fabriclab") and module not in ("fabriclab", "fabriclab.__version__"):
        raise AssertionError(f"{module}: a fabriclab module on no floor; add it to LAYERS")
    return best[0]


def project_files() -> list[Path]:
    return sorted(p for top in PACKAGES for p in (REPO / top).rglob("*.py")
                  if "__pycache__" not in p.parts)


MODULES = {module_name(p) for p in project_files()}


def imported_names(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, module or module.attribute) for every import-like node."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in LOADERS:
                found += [(node.lineno, a.value) for a in node.args
                          if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in MODULES:
            found.append((node.lineno, node.value))  # a module handed around by name
    return found


def upward_imports(path: Path) -> list[str]:
    module = module_name(path)
    mine = layer_of(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    bad = []
    for line, name in imported_names(ast.parse(path.read_text(), str(path)), package):
        theirs = layer_of(name)
        if mine is not None and theirs is not None and theirs > mine:
            bad.append(f"{path.relative_to(REPO)}:{line}: floor {mine} imports {name} (floor {theirs})")
    return bad


def test_no_module_imports_a_floor_above_its_own():
    bad = [b for p in project_files() for b in upward_imports(p)]
    assert not bad, "upward imports:\n" + "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("source, expected", [
    ("from controller.client import P4RuntimeClient", "controller.client"),
    ("def f():\n    import fabriclab.net.network", "fabriclab.net.network"),
    ("import importlib\nimportlib.import_module('experiments.cli')", "experiments.cli"),
    ("from ..net import clean", "fabriclab.net.clean"),
    ("INSTALLERS = ('controller.basic_routing',)", "controller.basic_routing"),
])
def test_the_walk_sees_every_kind_of_import(source, expected):
    """The checker itself: each of these in fabriclab/roce/x.py is an upward import."""
    names = [n for _, n in imported_names(ast.parse(source), "fabriclab.roce")]
    assert expected in names
    assert layer_of(expected) > layer_of("fabriclab.roce.x")


def test_cli_modules_sit_on_top():
    assert layer_of("fabriclab.demo") == layer_of("controller.cli") == CLI
    assert layer_of("fabriclab.switch.admin_cli") == layer_of("fabriclab.__main__") == CLI
    assert layer_of("fabriclab.units") == 0 and layer_of("topologies.graph") == 1
