"""``fabriclab switch``: start a v1model switch the way simple_switch_grpc is started.

Accepts simple_switch_grpc's flags (so Mininet glue such as p4-utils or the tutorials'
``p4runtime_switch.py`` can launch it unchanged, including target options after ``--``)
plus ours for the modelled links: ``--port-rate``, ``--port-delay``, ``--queue-depth``.
Prints one ``ready`` line on stdout once ports, admin socket and P4Runtime are up; any
failure before that is a one-line reason and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any

from fabriclab import paths
from fabriclab.errors import FabricError
from fabriclab.switch import admin, ports
from fabriclab.switch.process import SwitchProcess
from fabriclab.switch.tm import DEFAULT_QUEUE_DEPTH, TrafficManager

LOG_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO,
              "warn": logging.WARNING, "error": logging.ERROR, "off": logging.CRITICAL + 1}


def _target_options(parser: argparse.ArgumentParser) -> None:
    """Options simple_switch_grpc takes after ``--`` (accepted before it too)."""
    parser.add_argument("--grpc-server-addr", default="127.0.0.1:9559",
                        help="P4Runtime address (default 127.0.0.1:9559)")
    parser.add_argument("--cpu-port", type=int, help="port whose packets go to P4Runtime packet-in")
    parser.add_argument("--drop-port", type=int, default=511, help="port that drops (default 511)")
    parser.add_argument("--priority-queues", type=int, default=1,
                        help="strict-priority queues per egress port: priority p uses queue p, "
                        "the highest served first (default 1; a priority without a queue "
                        "is dropped)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("program", nargs="?",
                        help="pipeline artifact (prog.json from `fabriclab compile`) or a .p4 file")
    parser.add_argument("target_args", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--no-p4", action="store_true",
                        help="start without a program; P4Runtime SetForwardingPipelineConfig loads one")
    parser.add_argument("-i", "--interface", action="append", default=[], metavar="N@IFNAME",
                        help="attach interface IFNAME as port N (repeatable)")
    parser.add_argument("--device-id", type=int, default=0, help="P4Runtime device id (default 0)")
    _target_options(parser)
    parser.add_argument("--pcap", nargs="?", const=".", metavar="DIR",
                        help="write <ifname>_in.pcap / <ifname>_out.pcap per port into DIR")
    parser.add_argument("--log-console", action="store_true", help="log to stderr (per packet at -L debug)")
    parser.add_argument("--log-file", metavar="PATH", help="log to PATH (per packet at -L debug)")
    parser.add_argument("-L", "--log-level", choices=sorted(LOG_LEVELS),
                        help="log level (default debug when logging is asked for, else warn)")
    parser.add_argument("--thrift-port", type=int, help="accepted for compatibility and ignored")
    parser.add_argument("--nanolog", metavar="ADDR", help="accepted for compatibility and ignored")
    parser.add_argument("--port-rate", action="append", default=[], metavar="N@RATE",
                        help="link rate of port N: 10mbit, 1gbit, 5000pps ... (repeatable)")
    parser.add_argument("--port-delay", action="append", default=[], metavar="N@DELAY",
                        help="one-way propagation delay of port N: 5ms, 200us ... (repeatable)")
    parser.add_argument("--queue-depth", action="append", default=[], metavar="N@PKTS",
                        help=f"egress queue depth of port N in packets (default {DEFAULT_QUEUE_DEPTH})")
    parser.add_argument("--queue-bytes", action="append", default=[], metavar="N@BYTES",
                        help="also limit port N's egress queues in bytes: 96k, 1m ... (repeatable)")
    parser.add_argument("--no-port-signal", action="store_true",
                        help="do not put carrier changes in the program's port_down_signal "
                        "register (the controller still hears of them): no fast reroute")
    parser.add_argument("--admin-socket", metavar="PATH",
                        help="switch-cli socket (default "
                        f"{paths.RUN_DIR}/switch-<device-id>.sock)")
    parser.add_argument("--group", metavar="FILE",
                        help="run all the switches FILE lists in this one process, on one event "
                        "loop (what `fabriclab net --switch-procs shared` starts): JSON "
                        '{"switches": [{"name": N, "log": PATH, "args": [flags as above]}]}; '
                        "each keeps its P4Runtime port, admin socket, pcaps, and its log file "
                        "(which gets its ready line); no other flag goes with it")
    parser.add_argument("--member-of", type=int, metavar="PID", help=argparse.SUPPRESS)


def _merge_target_args(args: argparse.Namespace) -> None:
    """simple_switch_grpc puts target options after ``--``; argparse hands them over as positionals."""
    positionals = [w for w in (args.program, *args.target_args) if w is not None]
    split = next((i for i, w in enumerate(positionals) if w.startswith("-")), len(positionals))
    programs, target = positionals[:split], positionals[split:]
    if len(programs) > 1:
        raise FabricError(f"more than one program given: {' '.join(programs)}")
    args.program = programs[0] if programs else None
    if not target:
        return
    extra = argparse.ArgumentParser(prog="fabriclab switch -- ", add_help=False)
    _target_options(extra)
    names = ("grpc_server_addr", "cpu_port", "drop_port", "priority_queues")
    extra.set_defaults(**dict.fromkeys(names))  # None marks "not given after --"
    try:
        parsed, unknown = extra.parse_known_args(target)
    except SystemExit:
        raise FabricError(f"bad target options after '--': {' '.join(target)}") from None
    if unknown:
        raise FabricError(f"unknown target options after '--': {' '.join(unknown)}")
    for name in names:
        if getattr(parsed, name) is not None:
            setattr(args, name, getattr(parsed, name))


def load_core(args: argparse.Namespace) -> Any:
    """The SwitchCore for the positional program, or None with --no-p4."""
    if args.no_p4:
        if args.program:
            raise FabricError("give either a program or --no-p4, not both")
        return None
    if not args.program:
        raise FabricError("no program: give a pipeline artifact or .p4 file, or --no-p4")
    from fabriclab.p4 import compile_file, load_artifact
    from fabriclab.switch.core import SwitchCore

    try:
        if args.program.endswith(".p4"):
            program = compile_file(args.program)
        else:
            program = load_artifact(args.program)
    except OSError as err:
        raise FabricError(f"cannot read program {args.program}: {err.strerror}") from None
    except FabricError:
        if _is_bmv2_json(args.program):
            raise FabricError(
                f"{args.program} is a p4c BMv2 JSON: the built-in switch runs P4 itself; give "
                "the .p4 file, or the prog.json that `fabriclab compile` writes") from None
        raise
    return SwitchCore(program, drop_port=args.drop_port, cpu_port=args.cpu_port)


def _is_bmv2_json(path: str) -> bool:
    """Users of simple_switch_grpc pass p4c-bm2-ss output by habit: recognise it."""
    try:
        with open(path, "rb") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "header_types" in doc and "pipelines" in doc


def configure_tm(args: argparse.Namespace, known_ports: set[int]) -> TrafficManager:
    if args.priority_queues < 1:
        raise FabricError("--priority-queues must be at least 1")
    tm = TrafficManager(priority_queues=args.priority_queues)

    def check(port: int, flag: str) -> int:
        if port not in known_ports:
            raise FabricError(f"{flag}: port {port} has no interface (add -i {port}@IFNAME)")
        return port

    for spec in args.port_rate:
        port, rate = ports.parse_port_rate(spec)
        tm.set_port_rate(check(port, "--port-rate"), rate.bps, rate.pps)
    for spec in args.port_delay:
        port, delay = ports.parse_port_delay(spec)
        tm.set_port_delay(check(port, "--port-delay"), delay)
    for spec in args.queue_depth:
        port, depth = ports.parse_queue_depth(spec)
        tm.set_queue_depth(depth, check(port, "--queue-depth"))
    for spec in args.queue_bytes:
        port, size = ports.parse_queue_bytes(spec)
        tm.set_queue_bytes(size, check(port, "--queue-bytes"))
    return tm


def configure_logging(args: argparse.Namespace) -> bool:
    """Set up handlers; returns whether per-packet logging was asked for."""
    asked = args.log_console or args.log_file
    level = LOG_LEVELS[args.log_level or ("debug" if asked else "warn")]
    logger = logging.getLogger("fabriclab.switch")
    logger.setLevel(level)
    fmt = logging.Formatter("%(asctime)s.%(msecs)03d [%(levelname)s] %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if args.log_file:
        try:
            handlers = [logging.FileHandler(args.log_file)] + (handlers if args.log_console else [])
        except OSError as err:
            raise FabricError(f"--log-file: cannot write {args.log_file}: {err.strerror}") from None
    for handler in handlers:
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    return bool(asked) and level <= logging.DEBUG


def _check_bindable(address: str) -> None:
    """Fail early and clearly if the gRPC address is taken (grpc's own error is vague); the
    same check `fabriclab net` runs before it starts switches (paths.port_bindable)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise FabricError(f"--grpc-server-addr: expected HOST:PORT, got '{address}'")
    host = host.strip("[]") or "0.0.0.0"
    if not paths.port_bindable(int(port), host):
        raise FabricError(f"cannot serve P4Runtime on {address}: address already in use "
                          "(pick another port with --grpc-server-addr)")


def start_p4runtime(switch: SwitchProcess, address: str) -> Any:
    """The started P4Runtime gRPC server for ``switch``."""
    _check_bindable(address)
    from fabriclab.switch.p4runtime import server

    try:
        return server.serve(switch, address, switch.device_id)
    except FabricError:
        raise
    except Exception as err:  # noqa: BLE001 - grpc raises RuntimeError on bind failures
        raise FabricError(f"cannot serve P4Runtime on {address}: {err}") from None


def _bound_address(address: str, server: Any) -> str:
    """The address actually served (with ``HOST:0`` the kernel picks the port)."""
    port = getattr(server, "bound_port", None)
    return f"{address.rpartition(':')[0]}:{port}" if port else address


@dataclass
class RunningSwitch:
    """A started switch: its event loop, admin socket and P4Runtime server."""

    switch: SwitchProcess
    ready_line: str
    admin_server: Any
    grpc_server: Any

    def close(self) -> str:
        """Stop serving and release everything (on every exit path); the `stopped` line."""
        if self.grpc_server is not None:
            from fabriclab.switch.p4runtime.server import shutdown
            shutdown(self.grpc_server)  # bounded: a stuck gRPC call must not keep the switch alive
            self.grpc_server = None
        if self.admin_server is not None:
            self.admin_server.close()
            self.admin_server = None
        self.switch.close()
        c, tm = self.switch.counters, self.switch.tm
        return (f"fabriclab switch: stopped: rx {c.rx}, tx {c.tx}, queue drops "
                f"{sum(p.drops for p in tm.ports.values())}, rx overruns {c.rx_overruns}, "
                f"pipeline errors {c.pipeline_errors}, partial checksums {c.partial_checksums}")


def check_arguments(args: argparse.Namespace) -> None:
    """The checks of a switch's flags that need no kernel object (bad input: FabricError)."""
    _merge_target_args(args)
    if args.device_id < 0:
        raise FabricError(f"--device-id {args.device_id}: a P4Runtime device id is 0 or more")
    for flag, port in (("--cpu-port", args.cpu_port), ("--drop-port", args.drop_port)):
        if port is not None:
            ports.parse_port_number(str(port), flag)


def open_switch(args: argparse.Namespace, packet_log: bool,
                logger: logging.Logger = logging.getLogger("fabriclab.switch")) -> RunningSwitch:
    """Ports, admin socket and P4Runtime server of the switch ``args`` describe (checked by
    ``check_arguments``), ready to run; nothing is left open if a step fails."""
    interfaces = ports.interface_map(args.interface)
    known = set(interfaces) | ({args.cpu_port} if args.cpu_port is not None else set())
    tm = configure_tm(args, known)
    core = load_core(args)
    admin_path = args.admin_socket or admin.default_socket_path(args.device_id)
    switch = SwitchProcess(core, interfaces, tm, device_id=args.device_id,
                           cpu_port=args.cpu_port, drop_port=args.drop_port,
                           pcap_dir=args.pcap, packet_log=packet_log,
                           port_signal=not args.no_port_signal, logger=logger)
    running = RunningSwitch(switch, "", None, None)
    try:
        running.admin_server = admin.AdminServer(admin_path, lambda line: admin.handle_line(tm, line))
        switch.add_reader(running.admin_server, running.admin_server.on_readable)
        running.grpc_server = start_p4runtime(switch, args.grpc_server_addr)
    except BaseException:
        running.close()
        raise
    port_list = " ".join(f"{p}@{name}" for p, name in sorted(interfaces.items()))
    running.ready_line = (f"fabriclab switch: ready: device {args.device_id}, ports [{port_list}], "
                          f"P4Runtime on {_bound_address(args.grpc_server_addr, running.grpc_server)}, "
                          f"admin {admin_path}")
    return running


def main(args: argparse.Namespace) -> int:
    if args.member_of is not None or args.group is not None:
        from fabriclab.switch import group_cli as group

        return group.main(args)
    check_arguments(args)
    packet_log = configure_logging(args)
    if args.thrift_port is not None:
        print(f"fabriclab switch: note: --thrift-port {args.thrift_port} ignored (no Thrift here; "
              "use `fabriclab switch-cli` for queue settings)", file=sys.stderr)
    running: RunningSwitch | None = None
    asked = False

    def stop(*_: object) -> None:  # also while the ports and servers open: the loop then ends at once
        nonlocal asked
        asked = True
        if running is not None:
            running.switch.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        running = open_switch(args, packet_log)
        if asked:
            running.switch.stop()
        print(running.ready_line, flush=True)
        running.switch.run()
    finally:
        stopped = running.close() if running is not None else None
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(stopped, flush=True)
    return 0
