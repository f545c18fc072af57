"""A Mininet switch node that runs a P4 switch process: `fabriclab switch` (the built-in
target) or BMv2's `simple_switch_grpc` (`target="bmv2"`), with the same flags.

The node lives in the root namespace; its ports are the veths `flv<node>-<port>`. The
process starts with no program (`--no-p4`): the controller pushes the pipeline over
P4Runtime, as on real hardware. Its stdout/stderr go to <node>.log in the run's directory
(`fabriclab.paths.run_dir`), and a switch that does not come up fails loudly with the
reason and that log's tail.

With the built-in target the switches can also share one process (`start_shared`,
`fabriclab switch --group`, one event loop): each node's log still gets its switch's lines
and ready line, and stopping one node stops its switch only (by ending the member process
the group keeps for it).
"""

from __future__ import annotations

import json
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
SWITCH_PROCS = ("shared", "per-switch")  # how the built-in switches of a net run (start_shared)
# the built-in target's layout when none is asked for. Shared saves a quarter to a third of
# the switches' CPU at 100-140 Mb/s, but its one thread cannot use the second core when
# something else takes the first, and then ACKs come late (resends) where a process per
# switch only slows down (bench/fabric_capacity.py, docs/speed.md "Process layout")
DEFAULT_SWITCH_PROCS = "per-switch"
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
STOPPED_LINE = b"fabriclab switch: stopped:"  # and once it has let go of everything
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
    priorities 0..7, and a priority without a queue is dropped). `shared`: `start` only
    prepares the ports, and `start_shared` runs this switch with the others in one process.
    """

    def __init__(self, name: str, target: str = "builtin", device_id: int = 0,
                 grpc_port: int = 9559, cpu_port: int | None = 255, log: Path | None = None,
                 options: tuple[str, ...] = (), pcap_dir: Path | None = None,
                 mtu: int = 1500, priority_queues: int = 8, shared: bool = False,
                 **params: object):
        self.target, self.device_id, self.grpc_port = target, device_id, grpc_port
        self.cpu_port, self.options, self.pcap_dir = cpu_port, tuple(options), pcap_dir
        self.priority_queues = priority_queues
        self.log = log or paths.RUN_DIR / f"{name}.log"
        self.mtu = mtu
        self.process: subprocess.Popen | None = None
        self.shared = shared
        self.group_log: Path | None = None  # the shared process's own output (start_shared)
        self.group_log_start = 0
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
        network start in parallel). A shared switch's first start only prepares its ports
        (`start_shared` runs it); a start after its stop (Mininet's `switch NAME start`)
        runs it in a process of its own, the shared one having let go of it."""
        if self.shared and self.process is not None:
            self.shared, self.group_log = False, None
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
            shared = " (in the shared switch process)" if self.shared else ""
            log.write(f"$ {' '.join(self.command())}{shared}\n".encode())
            log.flush()
            self.log_start = log.tell()
            if self.shared:
                return
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
        return _read_from(self.log, self.log_start)

    def _says_ready(self) -> bool:
        return READY_LINE in self._output()

    def _fail(self, reason: str) -> None:
        shared = b"" if self.group_log is None else _read_from(self.group_log, self.group_log_start)
        if PORT_TAKEN in self._output() or PORT_TAKEN in shared:  # this switch's, or another's
            raise GrpcPortTaken(self.grpc_port)
        logs = [self.log] + ([self.group_log] if self.group_log is not None else [])
        tails = "".join(f"\n--- last lines of {log} ---\n{log_tail(log)}" for log in logs)
        raise FabricError(f"P4 switch {self.name} ({self.target}) did not start correctly: "
                          f"{reason}{tails}")

    def admin_socket(self) -> str | None:
        command = self.command()
        return command[command.index("--admin-socket") + 1] if "--admin-socket" in command else None

    def stop(self, deleteIntfs: bool = True) -> None:
        if self.process is not None:
            if self.shared:
                self._stop_member()
            else:
                stop_group(self.process)
        super().stop(deleteIntfs)

    def _stop_member(self, timeout: float = 10.0) -> None:
        """Stop this switch alone in the shared process: end the member process standing
        for it, and wait (bounded) for the switch's `stopped` line."""
        pid = member_pid(self.process.pid, self.admin_socket())
        if pid is None:
            return  # the group is gone, or stopped this switch already
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while STOPPED_LINE not in self._output() and self.process.poll() is None:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)

    @classmethod
    def batchShutdown(cls, switches: tuple["P4Switch", ...]) -> list["P4Switch"]:
        """Mininet's stop of a whole net: one stop per shared process, not one per switch."""
        done = []
        for switch in switches:
            if switch.shared and switch.process is not None:
                stop_group(switch.process)  # a no-op for the group's other switches
                done.append(switch)
        return done


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read()
    except OSError:
        return b""


def member_pid(group_pid: int, admin_socket: str | None) -> int | None:
    """The member process `fabriclab switch --group` keeps for the switch on `admin_socket`."""
    want = [b"--member-of", str(group_pid).encode(), b"--admin-socket", str(admin_socket).encode()]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[-len(want) - 1:-1] == want:
            return int(entry)
    return None


def start_shared(switches: list[P4Switch], folder: Path) -> subprocess.Popen:
    """Run the built-in `switches` (started with `shared=True`) in one process, `fabriclab
    switch --group`: its list in `folder`/switch-group.json, its own output in
    `folder`/switch-group.log, each switch's lines and ready line in its node's log."""
    executable = target_command("builtin")
    spec = {"switches": [{"name": sw.name, "log": str(sw.log),
                          "args": sw.command()[len(executable):]} for sw in switches]}
    group_file, group_log = folder / "switch-group.json", folder / "switch-group.log"
    group_file.write_text(json.dumps(spec, indent=1))
    with open(group_log, "ab") as log:
        start = log.tell()
        process = subprocess.Popen([*executable, "--group", str(group_file)], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, preexec_fn=paths.die_with_parent)
    for switch in switches:
        switch.process, switch.group_log, switch.group_log_start = process, group_log, start
    return process


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
