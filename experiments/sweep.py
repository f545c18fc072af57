"""Run an experiment's trials one after another, in N local processes, or on a Dask cluster.

A trial is a pure function of its task plus the project version: a module-level
`trial(task, progress) -> (rows, errors)`, so it pickles to another process or machine.
Whatever order trials finish in, their rows, errors and progress lines come back in plan
order, so a parallel run prints and writes what a serial one does. In local processes the
first unfinished trial's lines print as they come (the others' wait their turn), so a long
trial shows progress; a cluster's come when each trial ends. A trial that raises is
recorded as failed and the others go on. Ctrl-C stops the sweep and returns the trials that
finished, marked interrupted, so the experiment can still write (partial) results.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
from collections import defaultdict
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Callable, Iterable, Sequence

from fabriclab import __version__
from fabriclab.errors import FabricError

Progress = Callable[[str], None]
Trial = Callable[[Any, Progress], tuple[list[dict[str, Any]], list[str]]]

CLUSTER_ADDRESS = re.compile(r"^(tcp|tls)://[^\s:/]+:\d{1,5}$")
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Sweep:
    """Where trials run: `workers` local processes (None: the mode's default) or the Dask
    scheduler at `cluster`. Emulate-mode trials need root and a whole machine each, so they
    go to a cluster only when `emulate_on_cluster` says the workers are set up for that."""

    workers: int | None = None
    cluster: str | None = None
    emulate_on_cluster: bool = False

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise FabricError(f"--workers {self.workers}: give at least 1")
        if self.cluster is not None and not CLUSTER_ADDRESS.match(self.cluster):
            raise FabricError(f"--cluster {self.cluster!r}: expected tcp://HOST:PORT of a Dask scheduler")
        if self.cluster is not None and self.workers is not None:
            raise FabricError("give --workers or --cluster, not both (the cluster has its own workers)")
        if self.emulate_on_cluster and self.cluster is None:
            raise FabricError("--emulate-on-cluster needs --cluster tcp://HOST:PORT")

    def check_mode(self, mode: str) -> None:
        """Real-time emulation must not share cores: one trial at a time on this machine,
        and on a cluster only when asked for."""
        if mode != "emulate":
            return
        if self.workers is not None and self.workers > 1:
            raise FabricError(f"--workers {self.workers}: emulate mode runs one trial at a time "
                              "(real-time emulation must not share cores); use --mode sim")
        if self.cluster is not None and not self.emulate_on_cluster:
            raise FabricError("emulate-mode trials on a cluster need --emulate-on-cluster "
                              "(each worker must run as root on a machine of its own)")

    def local_workers(self, mode: str) -> int:
        """One process per core in sim mode, 1 in emulate mode, unless told."""
        if self.workers is not None:
            return self.workers
        return (os.cpu_count() or 1) if mode == "sim" else 1


@dataclass
class Outcome:
    """The finished trials' rows and errors, in plan order."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    finished: int = 0

    def raise_if_interrupted(self, trials: int, progress: Progress) -> None:
        """Call after writing the (partial) results: an interrupted run says how much it
        kept and ends as Ctrl-C (`fabriclab run` exits 130)."""
        if self.interrupted:
            progress(f"interrupted: partial results of {self.finished}/{trials} trials")
            raise KeyboardInterrupt


def run_trials(trial: Trial, tasks: Sequence[Any], progress: Progress, mode: str,
               sweep: Sweep | None = None) -> Outcome:
    """Run `trial` on every task where `sweep` says; see the module docstring."""
    sweep = sweep or Sweep()
    sweep.check_mode(mode)
    if sweep.cluster is not None:
        return _on_cluster(trial, tasks, progress, sweep.cluster)
    workers = min(sweep.local_workers(mode), len(tasks))
    if workers <= 1:
        return _serial(trial, tasks, progress)
    return _in_processes(trial, tasks, progress, workers)


def guarded(trial: Trial, task: Any, progress: Progress | None = None) -> tuple[list, list[str], list[str]]:
    """(rows, errors, progress lines) of one trial; an exception is the trial's error, not
    the sweep's. Lines go to `progress` as they come when given, else are kept."""
    lines: list[str] = []
    try:
        rows, errors = trial(task, progress or lines.append)
    except Exception as err:  # noqa: BLE001 - any trial failure is recorded, the sweep goes on
        message = _failure(err)
        (progress or lines.append)(f"  {message}")
        return [], [message], lines
    return list(rows), list(errors), lines


def _serial(trial: Trial, tasks: Sequence[Any], progress: Progress) -> Outcome:
    outcome = Outcome()
    try:
        for task in tasks:
            rows, errors, _ = guarded(trial, task, progress)
            _add(outcome, rows, errors)
    except KeyboardInterrupt:
        outcome.interrupted = True
    return outcome


#: in a worker process: where its trials' progress lines go, as (trial index, line); a
#: trial ends with (index, None)
_LINES: Any = None


def _init_worker(lines: Any) -> None:
    global _LINES
    _LINES = lines


def _streamed(trial: Trial, task: Any, index: int) -> tuple[list, list[str], list[str]]:
    """`guarded` in a worker, its progress lines sent to the parent as they come."""
    try:
        return guarded(trial, task, lambda line: _LINES.put((index, line)))
    finally:
        _LINES.put((index, None))


def _in_processes(trial: Trial, tasks: Sequence[Any], progress: Progress, workers: int) -> Outcome:
    # spawn, not fork: the parent may hold gRPC threads, and fork copies them half-alive
    context = get_context("spawn")
    lines = context.Queue()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(lines,))
    try:
        futures = [pool.submit(_streamed, trial, task, i) for i, task in enumerate(tasks)]
        return _collect(futures, progress, cancel=lambda: _stop_workers(pool), lines=lines)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        lines.close()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Interrupted: end the running trials now rather than wait minutes for them (a SIGTERM
    or SIGHUP reaches only this process; Ctrl-C's SIGINT the workers too, which then take
    their next task). Python 3.14 has pool.terminate_workers(); before it, the processes."""
    stop = getattr(pool, "terminate_workers", None)
    if stop is not None:
        stop()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _collect(futures: Sequence[Any], progress: Progress, cancel: Callable[[], None], lines: Any = None
             ) -> Outcome:
    """Results in plan order; on Ctrl-C, the ones already done (still in plan order). With
    `lines` (the workers' queue), the head trial's progress prints as it comes."""
    outcome = Outcome()
    taken = 0
    held: dict[int, list[str]] = defaultdict(list)
    ended: set[int] = set()
    try:
        for taken, future in enumerate(futures):
            if lines is not None:
                for line in held.pop(taken, []):
                    progress(line)
                _follow(taken, future, lines, held, ended, progress)
            rows, errors, said = _result(future)
            for line in said:
                progress(line)
            _add(outcome, rows, errors)
    except KeyboardInterrupt:
        outcome.interrupted = True
        if lines is not None:
            _settle(futures, taken, lines, ended)
        done = [future for future in futures[taken:] if _finished(future)]  # before cancel() breaks the rest
        cancel()
        for future in done:
            rows, errors, _ = _result(future)
            _add(outcome, rows, errors)
    return outcome


def _settle(futures: Sequence[Any], first: int, lines: Any, ended: set[int]) -> None:
    """Interrupted: a trial whose last line came, or comes within moments, may have printed
    its result already; wait for that result, on its way from its worker, not lose it."""
    with contextlib.suppress(queue.Empty, OSError, ValueError):
        while True:
            index, line = lines.get(timeout=0.5)
            if line is None:
                ended.add(index)
    for index in sorted(i for i in ended if i >= first):
        with contextlib.suppress(Exception):
            futures[index].exception(timeout=10)


def _follow(head: int, future: Any, lines: Any, held: dict[int, list[str]], ended: set[int],
            progress: Progress) -> None:
    """Print trial `head`'s lines as they come, keep the others', until it has ended (its
    last line is in) or its process died (no last line will come)."""
    while head not in ended and not (future.done() and future.exception() is not None):
        try:
            index, line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            ended.add(index)
        elif index == head:
            progress(line)
        else:
            held[index].append(line)


def _result(future: Any) -> tuple[list, list[str], list[str]]:
    """A trial whose process or worker died is a failed trial too."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001
        message = _failure(err)
        return [], [message], [f"  {message}"]


def _failure(err: Exception) -> str:
    return (f"trial failed: {type(err).__name__}: {err}".splitlines() or [""])[0][:300]


def _finished(future: Any) -> bool:
    if isinstance(future, Future):
        return future.done() and not future.cancelled()
    return future.status in ("finished", "error")


def _add(outcome: Outcome, rows: Iterable[dict[str, Any]], errors: Iterable[str]) -> None:
    outcome.rows += rows
    outcome.errors += errors
    outcome.finished += 1


def project_version() -> str:
    """What a trial's result depends on besides its parameters."""
    return __version__


def connect(address: str) -> Any:
    """A dask.distributed Client on `address` whose workers all run this fabriclab version."""
    try:
        from distributed import Client
    except ImportError:
        raise FabricError("--cluster needs dask.distributed: pip install 'dask[distributed]' "
                          "(make setup installs it)") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        raise FabricError(f"cannot reach the Dask scheduler at {address} "
                          f"({type(err).__name__}); is `dask scheduler` running there?") from None
    try:
        check_versions(client.run(project_version), project_version())
    except BaseException:
        client.close()
        raise
    return client


def check_versions(workers: dict[str, str], expected: str) -> None:
    if not workers:
        raise FabricError("the Dask cluster has no workers: start some with `dask worker tcp://HOST:PORT`")
    wrong = {addr: v for addr, v in sorted(workers.items()) if v != expected}
    if wrong:
        addr, version = next(iter(wrong.items()))
        raise FabricError(f"{len(wrong)} of {len(workers)} Dask workers run another fabriclab "
                          f"(worker {addr}: {version}, here: {expected}); install the same version everywhere")


def _on_cluster(trial: Trial, tasks: Sequence[Any], progress: Progress, address: str) -> Outcome:
    client = connect(address)
    try:
        futures = [client.submit(guarded, trial, task, pure=False) for task in tasks]
        return _collect(futures, progress, cancel=lambda: client.cancel(futures))
    finally:
        client.close()
