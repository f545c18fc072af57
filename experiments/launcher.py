"""Long-lived agent processes, one per host, driven in lock-step over their stdin/stdout.

An agent prints "ready" when it has started. For each round the launcher sends every
agent its job (one line), waits until all print "bound" (their sockets are open, so no one
sends before everyone listens), sends "go" to all, and collects one JSON line from each.
Agents are killed and reaped on every exit path (`close`, `with`).
"""

from __future__ import annotations

import json
import select
import subprocess
import time

from fabriclab.errors import FabricError
from fabriclab.roce.placement import Spawn


class Agents:
    """`with Agents(spawns, argvs, timeout) as agents: agents.round(jobs, timeout)`."""

    def __init__(self, spawns: list[Spawn], argvs: list[list[str]], timeout: float) -> None:
        if len(spawns) != len(argvs):
            raise FabricError("need one spawn function per command line")
        self.procs: list[subprocess.Popen] = []
        try:
            for spawn, argv in zip(spawns, argvs):
                self.procs.append(spawn(argv))
            self._expect("ready", time.monotonic() + timeout)
        except BaseException:
            self.close()
            raise

    def round(self, jobs: list[str], timeout: float) -> list[dict]:
        """Give agent i the line jobs[i], start all together, return their results."""
        if len(jobs) != len(self.procs):
            raise FabricError("need one job per agent")
        deadline = time.monotonic() + timeout
        for p, job in zip(self.procs, jobs):
            self._send(p, job)
        self._expect("bound", deadline)
        for p in self.procs:
            self._send(p, "go")
        results = []
        for i, p in enumerate(self.procs):
            line = _readline(p, deadline)
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError:
                raise FabricError(f"agent {i} failed: {line.strip() or _stderr(p)}") from None
        return results

    def _expect(self, word: str, deadline: float) -> None:
        for i, p in enumerate(self.procs):
            line = _readline(p, deadline)
            if line.strip() != word:
                raise FabricError(f"agent {i}: expected {word!r}, got: {line.strip() or _stderr(p)}")

    @staticmethod
    def _send(p: subprocess.Popen, line: str) -> None:
        try:
            p.stdin.write(line + "\n")
            p.stdin.flush()
        except (BrokenPipeError, OSError):
            raise FabricError(f"an agent exited: {_stderr(p)}") from None

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream:
                    stream.close()
        self.procs.clear()

    def __enter__(self) -> "Agents":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _readline(p: subprocess.Popen, deadline: float) -> str:
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FabricError("timed out waiting for an agent")
        ready, _, _ = select.select([p.stdout], [], [], min(left, 1.0))
        if ready or p.poll() is not None:
            return p.stdout.readline()


def _stderr(p: subprocess.Popen) -> str:
    if p.poll() is None:
        p.kill()
        p.wait()
    err = p.stderr.read() if p.stderr else ""
    return err.strip().splitlines()[-1] if err.strip() else f"exit status {p.returncode}"
