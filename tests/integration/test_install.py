"""A non-editable install works outside the clone: the P4 programs ship in the package.

Builds the project from a copy of the tree into a fresh venv (no network: the venv reaches the
project venv's dependencies through a .pth file, and pip builds with --no-build-isolation),
then, from another directory, compiles the packaged fabric.p4 and asks where the default
program of `fabriclab net` is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TREE = ("fabriclab", "controller", "topologies", "experiments", "p4src", "pyproject.toml", "README.md")

pytestmark = pytest.mark.slow


def run(argv: list, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with fabriclab installed from a copy of this tree; returns its bin/."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in TREE:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(REPO / name, src / name)
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp)
    pyver = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = venv / "lib" / pyver / "site-packages"
    # the packages this interpreter sees (lark, finsy, grpc, setuptools, wheel...) but not the
    # editable fabriclab: a path line in a .pth is not itself scanned for .pth files
    (site / "deps.pth").write_text("".join(f"{p}\n" for p in sys.path
                                           if p.endswith(("site-packages", "dist-packages"))))
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
         "--no-deps", "--no-build-isolation", "--no-index", src], tmp)
    shutil.rmtree(src)  # nothing may still point into the copy
    return venv / "bin"


def test_the_packaged_fabric_p4_compiles_from_another_directory(installed, tmp_path):
    where = run([installed / "python", "-c",
                 "import fabriclab, fabriclab.paths as p; print(fabriclab.__file__); "
                 "print(p.p4src('fabric.p4'))"], tmp_path).stdout.split()
    package, fabric = Path(where[0]).parent, Path(where[1])
    assert package.is_relative_to(installed.parent), "the clone's fabriclab was imported"
    assert fabric == package / "p4src" / "fabric.p4" and fabric.is_file()
    out = tmp_path / "out"
    run([installed / "fabriclab", "compile", fabric, "-o", out], tmp_path)
    assert "FabricIngress.ipv4_routes" in (out / "fabric.p4info.txtpb").read_text()
    assert (out / "fabric.json").is_file()


def test_net_finds_its_default_program_once_installed(installed, tmp_path):
    done = run([installed / "python", "-c",
                "from fabriclab.net.program import default_program; print(default_program())"],
               tmp_path)
    assert Path(done.stdout.strip()).is_relative_to(installed.parent)
    assert Path(done.stdout.strip()).name == "fabric.p4"


@pytest.mark.root
def test_net_pingall_runs_from_the_installed_copy(installed, tmp_path):
    """The issue's own check: `fabriclab net leaf-spine --pingall` outside the clone, its
    switches running the installed package and the packaged fabric.p4."""
    name = f"t-install-{os.getpid()}"
    try:
        done = run([installed / "fabriclab", "net", "leaf-spine", "--leaves", "2", "--spines", "1",
                    "--hosts-per-leaf", "1", "--pingall", "--run", name,
                    "--grpc-base-port", 34000 + os.getpid() % 50 * 10], tmp_path)
        assert "0% dropped" in done.stdout + done.stderr
    finally:
        subprocess.run([installed / "fabriclab", "clean", "--run", name], capture_output=True)
