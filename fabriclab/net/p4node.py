"""A Mininet switch node that runs a P4 switch process: `fabriclab switch` (the built-in
target) or BMv2's `simple_switch_grpc` (`target="bmv2"`), with the same flags.

The node lives in the root namespace; its ports are the veths `flv<node>-<port>`. The
process starts with no program (`--no-p4`): the controller pushes the pipeline over
P4Runtime, as on real hardware. Its stdout/stderr go to <node>.log in the run's directory
(`fabriclab.paths.run_dir`), and a switch that does not come up fails loudly with the
reason and that log's tail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mininet.node import Switch

from fabriclab import paths
from fabriclab.errors import FabricError
from fabriclab.paths import port_bindable as port_is_free  # noqa: F401 - the one port check

TARGETS = ("builtin", "bmv2")
BMV2_BINARY = "simple_switch_grpc"
LOG_TAIL_LINES = 20


def target_command(target: str) -> list[str]:
    """The executable for a target, or a FabricError saying how to get it."""
    if target == "builtin":
        return [sys.executable, "-m", "fabriclab", "switch"]
    if target == "bmv2":
        path = shutil.which(BMV2_BINARY)
        if path is None:
            raise FabricError(f"--target bmv2 needs {BMV2_BINARY} on PATH (it is in the "
                              "project's Vagrant VM); the built-in target needs nothing")
        return [path]
    raise FabricError(f"unknown target {target!r} (one of: {', '.join(TARGETS)})")


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(log is empty)"


def switch_command(target: str, executable: list[str], device_id: int, ports: dict[int, str],
                   grpc_address: str, cpu_port: int | None, pcap_dir: Path | None,
                   options: tuple[str, ...] = (), *, priority_queues: int = 1) -> list[str]:
    """A switch command line in simple_switch_grpc's form: BMv2 takes its target options
    (gRPC address, CPU port, priority queues) after `--` and needs its own Thrift port;
    `options` go before the target options (the built-in target's link model, user extras)."""
    cmd = [*executable, "--no-p4", "--device-id", str(device_id)]
    for port, intf in sorted(ports.items()):
        cmd += ["-i", f"{port}@{intf}"]
    if pcap_dir is not None:
        cmd += ["--pcap", str(pcap_dir)]
    target_opts = ["--grpc-server-addr", grpc_address, "--priority-queues", str(priority_queues)]
    if cpu_port is not None:
        target_opts += ["--cpu-port", str(cpu_port)]
    cmd += options
    if target == "bmv2":
        return cmd + ["--thrift-port", str(9090 + device_id), "--", *target_opts]
    return cmd + target_opts


READY_LINE = b"fabriclab switch: ready:"  # fabriclab/switch/cli.py, once P4Runtime is bound
PORT_TAKEN = b"cannot serve P4Runtime on"   # and when it cannot bind its gRPC port


class GrpcPortTaken(FabricError):
    """A switch's gRPC port was free at preflight and taken before the switch bound it
    (another run starting at the same moment): the network retries on the next free ports."""

    def __init__(self, port: int):
        super().__init__(f"gRPC port {port} was taken while the switches started")
        self.port = port


class P4Switch(Switch):
    """One P4 switch process behind a Mininet node.

    `options` carries the link model (`--port-rate/--port-delay/--queue-depth`, built-in
    target only) and any extra switch flags; `pcap_dir` turns on per-port captures;
    `priority_queues` is simple_switch's `--priority-queues` (the fabric controller uses
    priorities 0..7, and a priority without a queue is dropped).
    """

    def __init__(self, name: str, target: str = "builtin", device_id: int = 0,
                 grpc_port: int = 9559, cpu_port: int | None = 255, log: Path | None = None,
                 options: tuple[str, ...] = (), pcap_dir: Path | None = None,
                 mtu: int = 1500, priority_queues: int = 8, **params: object):
        self.target, self.device_id, self.grpc_port = target, device_id, grpc_port
        self.cpu_port, self.options, self.pcap_dir = cpu_port, tuple(options), pcap_dir
        self.priority_queues = priority_queues
        self.log = log or paths.RUN_DIR / f"{name}.log"
        self.mtu = mtu
        self.process: subprocess.Popen | None = None
        self.log_start = 0  # where this start's output begins in the (appended) log
        self.executable = target_command(target)  # fail before Mininet creates anything
        params["inNamespace"] = False  # ports stay in the root namespace, as with BMv2
        super().__init__(name, **params)

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def data_ports(self) -> dict[int, str]:
        """Port number -> interface name (the loopback control interface excluded)."""
        return {port: intf.name for intf, port in self.ports.items() if port > 0}

    def command(self) -> list[str]:
        return switch_command(self.target, self.executable, self.device_id,
                              self.data_ports(), self.grpc_address, self.cpu_port,
                              self.pcap_dir, self.options, priority_queues=self.priority_queues)

    def start(self, controllers: list) -> None:
        """Launch the process (readiness is checked by `wait_ready`, so all switches of a
        network start in parallel)."""
        for intf in self.data_ports().values():
            # The switch reads and writes whole frames on AF_PACKET sockets: no GRO/offload
            # merging or partial checksums.
            subprocess.run(["ethtool", "-K", intf, "rx", "off", "tx", "off", "tso", "off",
                            "gso", "off", "gro", "off"], capture_output=True)
            # a veth drops frames above its own MTU: match the hosts' (jumbo) MTU
            done = subprocess.run(["ip", "link", "set", "dev", intf, "mtu", str(self.mtu)],
                                  capture_output=True, text=True)
            if done.returncode:
                raise FabricError(f"switch {self.name}: cannot set MTU {self.mtu} on {intf}: "
                                  f"{done.stderr.strip()}")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            log.write(f"$ {' '.join(self.command())}\n".encode())
            log.flush()
            self.log_start = log.tell()
            # dies with this process even when it is SIGKILLed (no switch left on its ports)
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            preexec_fn=paths.die_with_parent)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the switch serves P4Runtime; raise with the reason and the log
        otherwise. The built-in switch says `ready` once bound: a port that merely answers
        may be another run's switch, started on it at the same moment."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None:
                self._fail("it was never started")
            code = self.process.poll()
            if code is not None:
                self._fail(f"the process exited with status {code}")
            if self.target == "builtin":
                if self._says_ready():
                    return
            else:  # simple_switch_grpc prints no ready line
                try:
                    socket.create_connection(("127.0.0.1", self.grpc_port), timeout=1).close()
                    return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                self._fail(f"its gRPC server did not answer on {self.grpc_address} "
                           f"within {timeout:.0f} s")
            time.sleep(0.1)

    def _output(self) -> bytes:
        """What this start of the switch wrote so far (the log holds earlier starts too)."""
        try:
            with open(self.log, "rb") as log:
                log.seek(self.log_start)
                return log.read()
        except OSError:
            return b""

    def _says_ready(self) -> bool:
        return READY_LINE in self._output()

    def _fail(self, reason: str) -> None:
        if PORT_TAKEN in self._output():
            raise GrpcPortTaken(self.grpc_port)
        raise FabricError(f"P4 switch {self.name} ({self.target}) did not start correctly: "
                          f"{reason}\n--- last lines of {self.log} ---\n{log_tail(self.log)}")

    def stop(self, deleteIntfs: bool = True) -> None:
        if self.process is not None:
            stop_group(self.process)
        super().stop(deleteIntfs)


def stop_group(process: subprocess.Popen, grace: float = 5.0, kill_wait: float = 10.0) -> None:
    """End a process started with start_new_session and everything in its group: SIGTERM,
    up to `grace` s, then SIGKILL to the whole group (stragglers included) and up to
    `kill_wait` s for the leader to be reaped. Bounded, so tear-down never hangs."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, kill_wait)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the whole group is gone
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
