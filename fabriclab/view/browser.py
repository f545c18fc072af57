"""Drive the view from outside, as a person would: start `fabriclab view` as a process and
open its page in the system's headless Chromium (Debian's `chromium`) through Playwright.

The browser tests and the README's screenshot use this; Playwright never downloads a
browser of its own here (`executable_path` points at the system one).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
from typing import Any, Iterator

from fabriclab.paths import ENV

URL_RE = re.compile(r"(http://\S+/)")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The system Chromium, or None (then the browser tests say how to install it)."""
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    return None


def missing_browser() -> str | None:
    """Why no page can be opened here, or None when it can."""
    if find_chromium() is None:
        return "no Chromium: `apt-get install chromium` (make setup does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no Playwright: pip install '.[test]'"
    return None


class ViewProcess:
    """`fabriclab view ARGS` in the background; `url` once it listens, `output` so far."""

    def __init__(self, *args: str, timeout: float = 60.0) -> None:
        with outside_the_run():
            self.proc = subprocess.Popen([sys.executable, "-m", "fabriclab", "view", *args],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.url: str | None = None
        threading.Thread(target=self._read, daemon=True).start()
        self._ready.wait(timeout)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if self.url is None and (m := URL_RE.search(line)):
                self.url = m.group(1)
                self._ready.set()
        self._ready.set()  # exited before listening

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self) -> "ViewProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def outside_the_run() -> Iterator[None]:
    """Start processes without the run marker a FabricNet in this process set: the view
    and its browser watch the run, they are not part of it (its tear-down kills those)."""
    marker = os.environ.pop(ENV, None)
    try:
        yield
    finally:
        if marker is not None:
            os.environ[ENV] = marker


@contextlib.contextmanager
def page(url: str, width: int = 1400, height: int = 800) -> Iterator[Any]:
    """A Playwright page on `url` in headless system Chromium."""
    from playwright.sync_api import sync_playwright

    with outside_the_run():
        pw_context = sync_playwright()
        pw = pw_context.__enter__()
    try:
        browser = pw.chromium.launch(executable_path=find_chromium(), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page(viewport={"width": width, "height": height})
            tab.goto(url)
            yield tab
        finally:
            browser.close()
    finally:
        pw_context.__exit__(None, None, None)
