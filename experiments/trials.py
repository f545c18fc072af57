"""Run one trial in a fresh process and clean up after it, whatever happens.

gRPC's threads and fork do not mix, and a trial owns kernel objects (namespaces, veths)
and processes: so each trial is `python -m <module> PARAMS.json CASES.json OUT.jsonl` in
its own process group, with gRPC's fork handlers off. The trial appends one JSON record
per finished case to OUT.jsonl and prints progress lines, which are passed on. After it
exits (or times out, or we are interrupted) its process group is killed and
`fabriclab clean --run` removes what it left: records of finished cases survive a crash.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from fabriclab.errors import FabricError
from fabriclab.net import clean
from topologies.graph import Topology

ENV = {"GRPC_ENABLE_FORK_SUPPORT": "false", "PYTHONUNBUFFERED": "1"}


def run_trial(module: str, run: str, params: dict[str, Any], cases: list[dict[str, Any]],
              timeout: float, progress: Callable[[str], None] = print) -> tuple[list[dict], str | None]:
    """(records of the cases that finished, error or None)."""
    with tempfile.TemporaryDirectory(prefix="fl-trial-") as tmp:
        params_path, cases_path, out_path = (Path(tmp) / n for n in ("params.json", "cases.json", "out.jsonl"))
        params_path.write_text(json.dumps({"run": run, "params": params}))
        cases_path.write_text(json.dumps(cases))
        out_path.touch()
        error = _run(module, run, [str(params_path), str(cases_path), str(out_path)], timeout, progress)
        records = [json.loads(line) for line in out_path.read_text().splitlines() if line.strip()]
    return records, error


def emulate_trial(module: str, tag: str, index: int, params: dict[str, Any], switches: int,
                  cases: list[dict[str, Any]], timeout: float, progress: Callable[[str], None] = print
                  ) -> tuple[list[dict], str | None]:
    """An experiment's emulate-mode trial through run_trial: its run name `TAG-PID-INDEX` is
    unique on this machine, and its `switches` gRPC ports are the first free ones from
    `params["grpc_base_port"]` (which the trial is given instead)."""
    ports = free_port_base(params["grpc_base_port"], switches)
    return run_trial(module, f"{tag}-{os.getpid()}-{index}", {**params, "grpc_base_port": ports}, cases,
                     timeout, progress)


Emit = Callable[[dict[str, Any]], None]
Body = Callable[[dict[str, Any], Any, Emit, Callable[[str], None]], None]


def trial_main(module: str, body: Body, argv: list[str] | None = None) -> int:
    """The child's side of run_trial, for `python -m MODULE PARAMS.json CASES.json OUT.jsonl`:
    `body(raw, cases, emit, progress)` runs the cases (`raw` is {"run", "params"}), `emit`
    appends a record at once so finished cases survive a crash; SIGTERM tears the network
    down through the body's `finally` like Ctrl-C. Exit 2 on a FabricError, 130 if stopped."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(f"usage: python -m {module} PARAMS.json CASES.json OUT.jsonl", file=sys.stderr)
        return 2
    params_path, cases_path, out_path = map(Path, args)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        raw = json.loads(params_path.read_text())
        cases = json.loads(cases_path.read_text())
        with out_path.open("a") as out:
            def emit(record: dict[str, Any]) -> None:
                out.write(json.dumps(record) + "\n")
                out.flush()
            body(raw, cases, emit, lambda line: print(line, flush=True))
    except FabricError as err:
        print(f"trial: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trial: error: interrupted", file=sys.stderr)
        return 130
    return 0


def _run(module: str, run: str, args: list[str], timeout: float,
         progress: Callable[[str], None]) -> str | None:
    """Run the trial; SIGTERM to us is turned into KeyboardInterrupt so `finally` cleans up."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _supervise(module, run, args, timeout, progress)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _supervise(module: str, run: str, args: list[str], timeout: float,
               progress: Callable[[str], None]) -> str | None:
    stderr_path = Path(args[-1]).with_suffix(".stderr")
    with stderr_path.open("w+") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                                stderr=stderr, text=True, start_new_session=True,
                                env={**os.environ, **ENV})
        try:
            deadline = time.monotonic() + timeout
            while True:
                if time.monotonic() > deadline:
                    return f"trial {run} timed out after {timeout:.0f} s"
                ready, _, _ = select.select([proc.stdout], [], [], 1.0)
                if ready:
                    line = proc.stdout.readline()
                    if not line:
                        break
                    progress(line.rstrip())
                elif proc.poll() is not None:
                    break  # exited; a leftover child may still hold the pipe open
            proc.wait()
            if proc.returncode:
                stderr.seek(0)
                lines = [ln for ln in stderr.read().strip().splitlines() if "error" in ln.lower()]
                return f"trial {run} failed: {lines[-1] if lines else f'exit status {proc.returncode}'}"
            return None
        finally:
            _stop(proc)
            clean.clean_run(run)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the trial's process group (its `with` blocks tear the network down), then
    SIGKILL whatever is left."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def free_port_base(start: int, count: int, step: int = 32, tries: int = 64) -> int:
    """The first base >= start (in steps) with `count` free TCP ports on 127.0.0.1: gRPC
    ports of networks other people run on this machine are left alone."""
    from fabriclab.net.p4node import port_is_free

    for i in range(tries):
        base = start + i * step
        if base + count <= 65535 and all(port_is_free(base + k) for k in range(count)):
            return base
    raise FabricError(f"no {count} free TCP ports from {start} on (is something holding them?)")


def require_root() -> None:
    if os.geteuid() != 0:
        raise FabricError("experiments run Mininet networks and need root: run with sudo")


def preflight(mode: str, target: str, topology: Topology | None = None) -> None:
    """What would fail in every emulate trial fails here, once, before a run writes any file:
    root, the target's switch on PATH and, given a topology, whether the target can model its
    links on this machine. Sim mode needs none of them."""
    if mode != "emulate":
        return
    require_root()
    from fabriclab.net.linkparams import check_target_supports
    from fabriclab.net.p4node import target_command  # Mininet's modules: emulate mode only

    target_command(target)
    if topology is not None:
        check_target_supports(topology, target)
