"""A group of worker processes driven in lock-step over their stdin/stdout.

The launcher's side of the one host-agent protocol (`fabriclab.launch.agent`), for
`collective.launch` (one round: a collective) and experiments' agents (many rounds): a worker
prints "ready" once it has started; for each round the launcher sends every worker a job
line and waits until all print "bound" (their sockets are open, so no one sends before
everyone listens); then it sends "go" to all and collects one JSON line from each (or, from
a worker running several ranks, one per rank: `answers`).
Workers are killed and reaped on every exit path (`close`, `with`).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from typing import Callable

from fabriclab.errors import FabricError
from fabriclab.launch.placement import Spawn


class Lockstep:
    """`with Lockstep(spawns, argvs, timeout) as group: group.round(jobs, timeout)`.

    `what` names a worker in error messages ("rank", "agent"); `answers[i]`: how many
    results worker i gives per round (default 1 each)."""

    def __init__(self, spawns: list[Spawn], argvs: list[list[str]], timeout: float,
                 what: str = "worker", answers: list[int] | None = None) -> None:
        if len(spawns) != len(argvs):
            raise FabricError("need one spawn function per command line")
        self.what = what
        self.answers = answers or [1] * len(argvs)
        if len(self.answers) != len(argvs) or min(self.answers, default=1) < 1:
            raise FabricError("need one count of results (at least 1) per command line")
        self.procs: list[subprocess.Popen] = []
        self._pending: dict[int, bytes] = {}  # pid -> what a worker wrote past its last line read
        try:
            for spawn, argv in zip(spawns, argvs):
                self.procs.append(spawn(argv))
            self._expect("ready", time.monotonic() + timeout)
        except BaseException:
            self.close()
            raise

    def round(self, jobs: list[str], timeout: float, on_go: Callable[[], None] | None = None) -> list[dict]:
        """Give worker i the line jobs[i], start all together, return their results in order
        (worker by worker, each one's `answers` results). `on_go` runs once every worker is
        bound, just before "go": a launcher's own clock (a sampler) starts with the workers'."""
        deadline = time.monotonic() + timeout
        if len(jobs) != len(self.procs):
            raise FabricError(f"need one job per {self.what}")
        for p, job in zip(self.procs, jobs):
            self._send(p, job)
        self._expect("bound", deadline)
        if on_go is not None:
            on_go()
        for p in self.procs:
            self._send(p, "go")
        results: list[dict] = []
        for p, count in zip(self.procs, self.answers):
            for _ in range(count):
                line = self._readline(p, deadline)
                try:
                    results.append(json.loads(line))
                except json.JSONDecodeError:
                    raise FabricError(f"{self.what} {len(results)} failed: {line.strip() or _stderr(p)}") from None
        return results

    def _expect(self, word: str, deadline: float) -> None:
        for i, p in enumerate(self.procs):
            line = self._readline(p, deadline)
            if line.strip() != word:
                raise FabricError(f"{self.what} {i}: expected {word!r}, got: "
                                  f"{line.strip() or _stderr(p)}")

    def _send(self, p: subprocess.Popen, line: str) -> None:
        try:
            p.stdin.write(line + "\n")
            p.stdin.flush()
        except (BrokenPipeError, OSError):
            raise FabricError(f"a {self.what} exited: {_stderr(p)}") from None

    def _readline(self, p: subprocess.Popen, deadline: float) -> str:
        """The worker's next line ('' or a partial line once it has exited). Read from the
        pipe itself, never through the file object: a worker writing several lines at once
        (a shared agent's results) would leave them in its buffer, unseen by `select`."""
        fd = p.stdout.fileno()
        buf, gone = self._pending.pop(p.pid, b""), False
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self._pending[p.pid] = buf
                raise FabricError(f"timed out waiting for a {self.what} (is every host reachable?)")
            ready, _, _ = select.select([fd], [], [], 0 if gone else min(left, 1.0))
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:  # end of output: the worker has exited
                    break
                buf += chunk
            elif gone:  # exited, and nothing more came after
                break
            else:
                gone = p.poll() is not None
        line, newline, rest = buf.partition(b"\n")
        if rest:
            self._pending[p.pid] = rest
        return (line + newline).decode(errors="replace")

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream:
                    stream.close()
        self.procs.clear()

    def __enter__(self) -> "Lockstep":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stderr(p: subprocess.Popen) -> str:
    """The last line a dead (or now killed) worker wrote to stderr, or its exit status."""
    if p.poll() is None:
        p.kill()
        p.wait()
    err = p.stderr.read() if p.stderr else ""
    return err.strip().splitlines()[-1] if err.strip() else f"exit status {p.returncode}"
