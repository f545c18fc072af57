"""Run-time files live under one directory (fabriclab.paths.RUN_DIR) that cannot shadow the
package: `python -m fabriclab` still works from the directory that holds it."""

from __future__ import annotations

import subprocess
import sys

from fabriclab import paths
from fabriclab.paths import RunDir
from fabriclab.switch import admin


def test_every_runtime_path_is_under_the_run_dir():
    run = RunDir("r1")
    assert run.path == paths.run_dir("r1") == paths.RUN_DIR / "r1"
    assert run.admin_socket("l1") == paths.RUN_DIR / "r1" / "l1.sock"
    assert admin.default_socket_path(2) == str(paths.RUN_DIR / "switch-2.sock")


def test_the_run_dir_does_not_shadow_the_package(tmp_path):
    """Python puts the cwd first on sys.path: a run dir named `fabriclab` in it would be
    imported instead of the package."""
    (tmp_path / paths.RUN_DIR.name).mkdir()
    (tmp_path / paths.RUN_DIR.name / "switch-0.sock").write_text("")
    done = subprocess.run([sys.executable, "-m", "fabriclab", "switch-cli", "--socket",
                           str(tmp_path / "none.sock"), "show_queues"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "no switch answering" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
