"""Per-port pcap capture (``<ifname>_in.pcap`` / ``<ifname>_out.pcap``), like simple_switch --pcap.

Classic libpcap format (magic 0xa1b2c3d4, microsecond timestamps, LINKTYPE_ETHERNET) so
tcpdump, tshark and scapy read it. Records go through a buffered file; the driver calls
``flush`` when idle and ``close`` on every exit path, so a SIGTERM leaves complete files.
"""

from __future__ import annotations

import os
import struct
import time
from typing import BinaryIO

from fabriclab.errors import FabricError

_GLOBAL_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
_RECORD = struct.Struct("<IIII")
SNAPLEN = 65535


class PcapWriter:
    """Appends Ethernet frames with wall-clock timestamps to one pcap file."""

    def __init__(self, path: str):
        self.path = path
        try:
            self._file: BinaryIO = open(path, "wb", buffering=1 << 16)
        except OSError as err:
            raise FabricError(f"--pcap: cannot write {path}: {err.strerror}") from None
        self._file.write(_GLOBAL_HEADER)

    def write(self, data: bytes, wall_time: float | None = None) -> None:
        t = time.time() if wall_time is None else wall_time
        sec = int(t)
        captured = data[:SNAPLEN]
        self._file.write(_RECORD.pack(sec, int((t - sec) * 1e6), len(captured), len(data)))
        self._file.write(captured)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class PortCapture:
    """The in/out writers of every named port, opened in ``directory``."""

    def __init__(self, directory: str, ports: dict[int, str]):
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as err:
            raise FabricError(f"--pcap: cannot create {directory}: {err.strerror}") from None
        self.inbound: dict[int, PcapWriter] = {}
        self.outbound: dict[int, PcapWriter] = {}
        try:
            for port, name in ports.items():
                self.inbound[port] = PcapWriter(os.path.join(directory, f"{name}_in.pcap"))
                self.outbound[port] = PcapWriter(os.path.join(directory, f"{name}_out.pcap"))
        except FabricError:
            self.close()
            raise

    def flush(self) -> None:
        for writer in (*self.inbound.values(), *self.outbound.values()):
            writer.flush()

    def close(self) -> None:
        for writer in (*self.inbound.values(), *self.outbound.values()):
            writer.close()
