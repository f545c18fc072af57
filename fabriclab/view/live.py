"""The live source: samples a running `fabriclab net` over P4Runtime without touching it.

The clients open no stream channel, so they take part in no arbitration: the net's own
controller stays primary, and `write` is refused here, so the view cannot change a switch
even by mistake (the spec lets any client Read). INT paths come from the collector's CSV
(`python -m controller.int_collector --csv FILE`), re-read whenever it changes.
"""

from __future__ import annotations

import csv
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable

import grpc
from finsy.proto.p4.v1 import p4runtime_pb2_grpc

from controller.client import P4RuntimeClient
from controller.fabric import FabricController
from controller.int_collector import RUN_CSV
from fabriclab.errors import FabricError
from fabriclab.paths import run_of
from fabriclab.view import reads
from fabriclab.view.model import Snapshot, int_paths
from topologies.addressing import Addressing
from topologies.graph import Topology


TAIL_BYTES = 1 << 16  # the last paths' rows fit many times over (a hop's row is about 70 B)


def tail_rows(path: Path, nbytes: int) -> list[dict[str, str]]:
    """The rows of a CSV's last `nbytes` (whole lines only), read under its header: a
    running collector's CSV grows without end, and a sample needs only its last reports."""
    with path.open("rb") as f:
        header = f.readline()
        start = max(f.tell(), os.fstat(f.fileno()).st_size - nbytes)
        f.seek(start)
        data = f.read()
    if start > len(header):  # mid-file: the first line may be a part of one
        data = data[data.find(b"\n") + 1:]
    return list(csv.DictReader(io.StringIO((header + data).decode(), newline="")))


class ReadOnlyClient(P4RuntimeClient):
    """A P4Runtime client that only reads: no arbitration, no writes."""

    def connect(self) -> None:
        """A channel and the device's P4Info; no stream, so no arbitration."""
        self._channel = grpc.insecure_channel(self.address)
        self.stub = p4runtime_pb2_grpc.P4RuntimeStub(self._channel)
        try:
            self.get_p4info()
        except FabricError:
            self.close()
            raise FabricError(f"no P4Runtime server answers at {self.address}") from None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def write(self, entities: Iterable[Any], kind: str = "INSERT") -> None:
        raise FabricError("the live view is read-only: it never writes to a switch")


class RunEnded(FabricError):
    """The run's processes are gone (the network was stopped)."""


class LiveSource:
    """Samples the switches of the run in `rundir`; `sample()` raises RunEnded once the
    run is gone."""

    def __init__(self, rundir: Path, port: int, int_csv: Path | None = None,
                 int_last: int = 8, timeout: float = 3.0) -> None:
        """`rundir`: a running run's directory; `port`: its first switch's P4Runtime port
        (`fabriclab ctl`'s find_run and grpc_base_port find both)."""
        self.rundir, self.run = rundir, rundir.name
        self.topo = Topology.from_json((rundir / "topology.json").read_text())
        index = {sw.name: self.topo.switch_index(sw.name) for sw in self.topo.switches()}
        clients: dict[str, P4RuntimeClient] = {
            name: ReadOnlyClient(f"127.0.0.1:{port + i}", i, timeout=timeout)
            for name, i in index.items()}
        try:
            for client in clients.values():
                client.connect()
        except BaseException:
            for client in clients.values():
                client.close()
            raise
        self.ctl = FabricController(self.topo, clients)
        self._pool = ThreadPoolExecutor(max_workers=min(16, len(clients)) or 1,
                                        thread_name_prefix="view-read")
        self.int_csv = int_csv or self.rundir / RUN_CSV
        self.int_last = int_last
        self._int_seen: tuple[float, list[list[str]]] = (-1.0, [])
        self.switch_names = {i + 1: name for name, i in index.items()}  # INT ids (fabric_plan)
        self.host_of_ip = {str(n.ip.ip): n.host for n in Addressing(self.topo).nics.values()}

    def alive(self) -> bool:
        """Some process other than this one still carries the run's marker (a view started
        from inside the run, e.g. by `fabriclab net --view`, inherits it too)."""
        me = os.getpid()
        return any(int(p.name) != me and run_of(int(p.name)) == self.run
                   for p in Path("/proc").iterdir() if p.name.isdigit())

    def sample(self) -> Snapshot:
        if not self.alive():
            raise RunEnded(f"run {self.run!r} has ended (its network was stopped)")
        try:
            return reads.sample(self.ctl, time.monotonic_ns, self._int_paths(), self._pool.map)
        except FabricError as err:
            if not self.alive():
                raise RunEnded(f"run {self.run!r} has ended (its network was stopped)") from None
            raise FabricError(f"cannot read the switches: {str(err).splitlines()[0]}") from None

    def _int_paths(self) -> list[list[str]]:
        try:
            mtime = self.int_csv.stat().st_mtime
        except OSError:
            return []
        if mtime != self._int_seen[0]:
            try:
                paths = int_paths(tail_rows(self.int_csv, TAIL_BYTES), self.switch_names,
                                  self.host_of_ip, self.int_last)
            except (OSError, csv.Error, UnicodeDecodeError):
                paths = []
            self._int_seen = (mtime, paths)
        return self._int_seen[1]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.ctl.close()
