"""Real-time forwarding rate through veths, side by side, in one run (issue 24).

Two namespaces, h1 and h2, joined either directly by one veth pair (the generator ceiling) or
through a switch (h1 -- port 1 [switch] port 2 -- h2). A generator in h1 sends 64-byte UDP
frames as fast as it can (trafgen from netsniff-ng when installed, else a Python AF_PACKET
sender: the output says which); h2 counts what arrives at its interface (its rx_packets,
read every 0.5 ms). The switch runs in its own process pinned to one core (taskset), the
generator and the counter on the other. trafgen pins its workers itself (worker i on CPU i,
whatever taskset says), so its frames are bound to the generator CPU's worker. A veth runs
the receiving host's kernel receive in the sender's softirq, on the switch's CPU: a packet
socket in h2 (the earlier receiver) cost the switch 0.4-0.5 us more per frame, and waking
it more; steering that away with RPS costs an IPI per frame (a VM exit here, 12% of the
switch's CPU), more than it moves. The figure is delivered frames per second over the
active interval (the first to the last change of the counter).

Rows: the generator ceiling, fabriclab on basic.p4 and on fabric.p4 (adaptive routing, the
mode the experiments run), each through PACKET_MMAP rings and through plain sockets, and BMv2
when `simple_switch_grpc`, `simple_switch_CLI` and `p4c-bm2-ss` are on PATH (same bed,
programs and entries). `--layout N` instead runs a chain of N switches as one process (one
event loop) and as one process each (docs/speed.md). Beside the delivered rate, frames
the switch forwarded per CPU second it used: the figure that survives a loaded machine
(the load average is printed with the figures).
Needs root. The bench creates namespaces `fl-pps<pid>-*` and veths `flvp<pid>*` and removes
them, and every process it started, on every exit path. A benchmark: prints, never asserts.

`--rate 1000,5000,20000` instead paces the generator at each of those frame rates (moderate
rates: each frame arrives alone and pays a whole loop turn, as in a fabric run) and prints the
switch's CPU microseconds per frame on basic.p4 and fabric.p4; `--link-mbps M` gives the
switch's ports a modelled link of M Mb/s, so each frame also waits for its wire (a timer
wake-up), as in `fabriclab net`.

`--layout N --rate ...` paces frames through the chain in both layouts and prints the
switches' CPU microseconds per frame-hop.

Run: sudo .venv/bin/python bench/pps.py [--seconds 3] [--layout N] [--rate PPS,... [--link-mbps M]]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests" / "stf" / "fabric"), str(REPO)]

FRAME_LEN = 64  # bytes on the wire before the FCS: Ethernet + IPv4 + UDP + 22 bytes
SWITCH_CORE, GENERATOR_CORE = "0", "1"

SENDER = """
import socket, sys, time
frames = [bytes.fromhex(line) for line in open(sys.argv[2]).read().split()]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
send, n, k, end = s.send, 0, len(frames), time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    for i in range(256):
        try:
            send(frames[(n + i) % k])
        except OSError:
            pass
    n += 256
print(n)
"""

PACED_SENDER = """
import socket, sys, time
frames = [bytes.fromhex(line) for line in open(sys.argv[2]).read().split()]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
gap, n, k = 1 / float(sys.argv[3]), 0, len(frames)
start = time.monotonic(); end = start + float(sys.argv[1])
while (now := time.monotonic()) < end:
    due = start + n * gap
    if due > now:
        time.sleep(due - now)
    s.send(frames[n % k]); n += 1
print(n)
"""

COUNTER = """
import json, sys, time
def rx():
    with open("/sys/class/net/eth0/statistics/rx_packets") as f:
        return int(f.read())
seen = rx()
print("listening", flush=True)
first = last = None; base = seen; before = time.monotonic(); end = before + float(sys.argv[1])
while before < end:
    time.sleep(0.0005)
    now, count = time.monotonic(), rx()
    if count != seen:
        if first is None:
            first, base = before, seen  # the first frame came during the last sleep
        last, seen = now, count
    before = now
print(json.dumps({"n": seen - base, "span": (last - first) if first is not None else 0}))
"""


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


class Bed:
    """h1 and h2 namespaces, joined directly (``switches=0``) or through a chain of switches
    in the root namespace: h1 -- [port 1 s1 port 2] -- [port 1 s2 port 2] -- ... -- h2."""

    def __init__(self, token: str, switches: int = 1) -> None:
        self.token = token
        self.ns = {h: f"fl-pps{token}-h{h}" for h in (1, 2)}
        self.switch_ports: list[list[str]] = [[] for _ in range(switches)]
        try:
            for ns in self.ns.values():
                sh("ip", "netns", "add", ns)
            if not switches:
                sh("ip", "link", "add", f"flvp{token}a", "netns", self.ns[1], "type", "veth",
                   "peer", "name", f"flvp{token}b", "netns", self.ns[2])
                self._host(1, f"flvp{token}a")
                self._host(2, f"flvp{token}b")
                return
            for h in (1, 2):
                sw_if, host_if = f"flvp{token}s{h}", f"flvp{token}h{h}"
                sh("ip", "link", "add", sw_if, "type", "veth", "peer", "name", host_if,
                   "netns", self.ns[h])
                self._up(sw_if)
                self._host(h, host_if)
            self.switch_ports[0].append(f"flvp{token}s1")
            for i in range(1, switches):
                a, b = f"flvp{token}l{i}a", f"flvp{token}l{i}b"
                sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
                self._up(a)
                self._up(b)
                self.switch_ports[i - 1].append(a)
                self.switch_ports[i].append(b)
            self.switch_ports[-1].append(f"flvp{token}s2")
        except BaseException:
            self.remove()
            raise

    @property
    def ports(self) -> dict[int, str]:
        return {1: self.switch_ports[0][0], 2: self.switch_ports[0][1]}

    @staticmethod
    def _up(ifname: str) -> None:
        sh("sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1")
        sh("ip", "link", "set", ifname, "up")

    def _host(self, h: int, ifname: str) -> None:
        for cmd in (f"ip link set {ifname} name eth0", "ip link set eth0 up", "ethtool -K eth0 tx off"):
            sh("ip", "netns", "exec", self.ns[h], *cmd.split())

    def remove(self) -> None:
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for name in ["a", "s1", "s2"] + [f"l{i}a" for i in range(1, len(self.switch_ports))]:
            subprocess.run(["ip", "link", "del", f"flvp{self.token}{name}"], capture_output=True)


def basic_frames() -> list[bytes]:
    from switch_pps import MAC
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    return [bytes(Ether(src=MAC[1], dst="02:00:00:00:00:fe") / IP(src="10.0.0.1", dst="10.0.0.2")
                  / UDP(sport=49152 + i, dport=5001) / bytes(FRAME_LEN - 42)) for i in range(64)]


def fabric_frames() -> list[bytes]:
    from gen_fabric_stf import H1, H2, udp_pkt

    return [bytes(udp_pkt(H1[0], H2[0], 49152 + i, payload=bytes(FRAME_LEN - 42))) for i in range(64)]


def build_switch(program: str):
    """The SwitchCore of a program with the entries that send h1's frames to port 2."""
    from fabriclab.p4 import compile_file
    from fabriclab.switch.core import SwitchCore
    from fabriclab.switch.stf import run_stf

    core = SwitchCore(compile_file(REPO / "p4src" / f"{program}.p4"))
    result = run_stf(core, program_entries(program))
    if not result.ok:
        raise SystemExit(f"{program}.p4 entries rejected: {result.failures}")
    return core


def program_entries(program: str) -> str:
    """The entries of a program's run as STF lines (what our switch and BMv2 both load)."""
    if program == "basic":
        from switch_pps import MAC, ROUTES

        lines = [f"add ipv4_lpm hdr.ipv4.dstAddr:0xac10{i:02x}** ipv4_forward("
                 f"dstAddr:0x{MAC[1 + i % 2].replace(':', '')}, port:{1 + i % 2})" for i in range(ROUTES)]
        lines += [f"add ipv4_lpm hdr.ipv4.dstAddr:0x0a00000{h} ipv4_forward("
                  f"dstAddr:0x{MAC[h].replace(':', '')}, port:{h})" for h in (1, 2)]
        return "\n".join(lines) + "\n"
    from fabric_pps import CASES
    from gen_fabric_stf import SETUP

    return SETUP + CASES["adaptive"] + "\n"


def bmv2_commands(core, stf: str) -> list[str]:
    """simple_switch_CLI commands for the STF table lines our bench programs use (member,
    group, add with exact/LPM keys or a group, setdefault); names resolved on ``core``."""
    import re

    def full(names, short: str) -> str:
        return next(n for n in names if n == short or n.endswith("." + short))

    def arguments(text: str) -> str:
        inner = text[text.index("(") + 1:text.rindex(")")]
        return " ".join(p.split(":", 1)[1].strip() for p in inner.split(",") if p.strip())

    profiles = {t.profile.name: t for t in core.tables.values() if t.profile is not None}
    members: dict[str, int] = {}
    groups: dict[str, int] = {}
    out = []
    for line in stf.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] in ("member", "group"):
            profile = full(profiles, words[1])
            if words[0] == "member":
                action = full(profiles[profile].actions, words[3].split("(")[0])
                members[words[2]] = len(members)
                out.append(f"act_prof_create_member {profile} {action} {arguments(' '.join(words[3:]))}")
            else:
                groups[words[2]] = len(groups)
                out.append(f"act_prof_create_group {profile}")
                out += [f"act_prof_add_member_to_group {profile} {members[m]} {groups[words[2]]}"
                        for m in words[3:]]
            continue
        table = core.tables[full(core.tables, words[1])]
        call = " ".join(words[2 + (len(table.keys) if words[0] == "add" else 0):])
        if words[0] == "setdefault":
            action = full(table.actions, call.split("(")[0])
            out.append(f"table_set_default {table.name} {action} {arguments(call)}")
            continue
        keys = []
        for key, word in zip(table.keys, words[2:]):
            value = word.split(":", 1)[1]
            stars = len(re.findall(r"\*", value))
            keys.append(f"{value.replace('*', '0')}/{key.width - 4 * stars}"
                        if key.match_kind == "lpm" else value)
        if call.startswith("group("):
            group = groups[call[6:-1]]
            out.append(f"table_indirect_add_with_group {table.name} {' '.join(keys)} => {group}")
        else:
            action = full(table.actions, call.split("(")[0])
            out.append(f"table_add {table.name} {action} {' '.join(keys)} => {arguments(call)}")
    return out


def run_bmv2(program: str, token: str, seconds: float, workdir: str,
             procs: list[subprocess.Popen]) -> dict:
    """BMv2 (simple_switch_grpc) on the same bed, program and entries, pinned like ours."""
    from fabriclab.p4 import compile_file
    from fabriclab.switch.core import SwitchCore

    source = REPO / "p4src" / f"{program}.p4"
    compiled = os.path.join(workdir, f"{program}.json")
    subprocess.run(["p4c-bm2-ss", "--std", "p4-16", "-o", compiled, str(source)], check=True,
                   capture_output=True, timeout=600)
    commands = bmv2_commands(SwitchCore(compile_file(source)), program_entries(program))
    thrift = 9090 + os.getpid() % 1000
    bed = Bed(token)
    switch = None
    try:
        switch = subprocess.Popen(["taskset", "-c", SWITCH_CORE, "simple_switch_grpc", "--thrift-port",
                                   str(thrift), "-i", f"1@{bed.ports[1]}", "-i", f"2@{bed.ports[2]}",
                                   compiled, "--", "--grpc-server-addr", f"127.0.0.1:{thrift + 1}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(switch)
        for _ in range(100):
            cli = subprocess.run(["simple_switch_CLI", "--thrift-port", str(thrift)],
                                 input="\n".join(commands) + "\n", capture_output=True, text=True)
            if cli.returncode == 0 and "Could not connect" not in cli.stdout + cli.stderr:
                break
            time.sleep(0.3)
        else:
            raise SystemExit(f"BMv2 on {program}.p4 did not take its entries: {cli.stderr[-300:]}")
        cpu = process_cpu_s(switch.pid)
        result = measure(bed, basic_frames() if program == "basic" else fabric_frames(), seconds, procs)
        result["bmv2_cpu_s"] = process_cpu_s(switch.pid) - cpu
        return result
    finally:
        if switch is not None and switch.poll() is None:
            switch.terminate()
            try:
                switch.wait(10)
            except subprocess.TimeoutExpired:
                switch.kill()
                switch.wait()
        bed.remove()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(program: str, groups: list[list[str]], rings: bool, link_mbps: float = 0.0) -> None:
    """The switch process: one switch per group of ports (several share one event loop),
    forward until SIGTERM, then print their summed counters and the CPU seconds the process
    used while forwarding as JSON."""
    import threading

    from fabriclab.switch.process import SwitchProcess, run_switches
    from fabriclab.switch.tm import TrafficManager

    switches = [SwitchProcess(build_switch(program), {i + 1: p for i, p in enumerate(ports)},
                              TrafficManager(queue_depth=1024), rings=rings) for ports in groups]
    for switch in switches:
        for port in switch.interfaces if link_mbps else ():
            switch.tm.set_port_rate(port, bps=link_mbps * 1e6)
    if any(bool(switch._rings) != rings for switch in switches):
        raise SystemExit("pps: PACKET_MMAP rings asked for but not available")
    signal.signal(signal.SIGTERM, lambda *_: switches[0].stop())
    loop = switches[0].run if len(switches) == 1 else lambda: run_switches(switches)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    cpu = time.process_time()
    print("ready", flush=True)
    while thread.is_alive():
        thread.join(0.2)
    for switch in switches:
        switch.close()
    print(json.dumps({"rx": sum(sw.counters.rx for sw in switches),
                      "tx": sum(sw.counters.tx for sw in switches),
                      "overruns": sum(sw.counters.rx_overruns for sw in switches),
                      "holes": sum(getattr(sw.counters, "ring_holes", 0) for sw in switches),
                      "cpu_s": time.process_time() - cpu}), flush=True)


def generator(ns: str, seconds: float, frames_file: str, rate: int = 0) -> tuple[list[str], str]:
    """The command that sends frames from `ns`'s eth0 (paced at `rate` frames/s if given),
    and which generator it is."""
    pin = ["ip", "netns", "exec", ns, "taskset", "-c", GENERATOR_CORE]
    if rate:  # trafgen paces (--rate, --gap) with one worker only, pinned to CPU 0: the switch's
        return pin + [sys.executable, "-c", PACED_SENDER, str(seconds), frames_file, str(rate)], \
            "a paced Python AF_PACKET sender"
    if shutil.which("trafgen"):
        cfg = frames_file + ".trafgen"
        with open(frames_file) as src, open(cfg, "w") as out:
            for line in src.read().split():
                out.write(f"cpu({GENERATOR_CORE}): {{ "
                          + ", ".join(f"0x{line[i:i + 2]}" for i in range(0, len(line), 2)) + " }\n")
        # trafgen pins worker i to CPU i whatever taskset says (with --cpus 1 it sent from the
        # switch's CPU 0): start workers up to the generator CPU and give the frames to its one
        return pin + ["timeout", "-s", "INT", str(seconds), "trafgen", "--dev", "eth0", "--conf", cfg,
                      "--qdisc-path", "--cpus", str(int(GENERATOR_CORE) + 1)], "trafgen"
    return pin + [sys.executable, "-c", SENDER, str(seconds), frames_file], "Python AF_PACKET sender"


def generated(kind: str, output: str) -> int | None:
    """Frames the generator says it sent (trafgen: "N packets outgoing")."""
    words = output.split()
    if kind == "trafgen":
        return next((int(words[i - 1]) for i, w in enumerate(words)
                     if w == "packets" and i + 1 < len(words) and words[i + 1] == "outgoing"), None)
    return int(words[-1]) if words else None


def measure(bed: Bed, frames: list[bytes], seconds: float, procs: list[subprocess.Popen],
            rate: int = 0) -> dict:
    """Run the counter in h2 and the generator in h1; delivered frames/s at h2."""
    with tempfile.NamedTemporaryFile("w", suffix=".hex", delete=False) as f:
        f.write("\n".join(fr.hex() for fr in frames))
    try:
        receiver = subprocess.Popen(["ip", "netns", "exec", bed.ns[2], "taskset", "-c", GENERATOR_CORE,
                                     sys.executable, "-c", COUNTER, str(seconds + 2)],
                                    stdout=subprocess.PIPE, text=True)
        procs.append(receiver)
        receiver.stdout.readline()
        cmd, kind = generator(bed.ns[1], seconds, f.name, rate)
        gen = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
        got = json.loads(receiver.communicate(timeout=seconds + 10)[0])
        sent = generated(kind, gen.stdout + gen.stderr)
    finally:
        for path in (f.name, f.name + ".trafgen"):
            if os.path.exists(path):
                os.unlink(path)
    rate = got["n"] / got["span"] if got["span"] else 0.0
    return {"generator": kind, "delivered_pps": rate, "received": got["n"],
            "offered_pps": sent / seconds if sent is not None else None}


def run_fabriclab(program: str, io: str, token: str, seconds: float,
                  procs: list[subprocess.Popen], switches: int = 1, one_process: bool = True,
                  rate: int = 0, link_mbps: float = 0.0) -> dict:
    """Our switch(es) between h1 and h2: a chain of `switches`, all in one process (one
    event loop) or one process each, every process pinned to the switch CPU."""
    bed = Bed(token, switches)
    groups = [bed.switch_ports] if one_process else [[ports] for ports in bed.switch_ports]
    started: list[subprocess.Popen] = []
    try:
        for group in groups:
            started.append(subprocess.Popen(
                ["taskset", "-c", SWITCH_CORE, sys.executable, __file__, "--serve", program, "--io", io,
                 "--ports", ";".join(",".join(ports) for ports in group), "--link-mbps", str(link_mbps)],
                stdout=subprocess.PIPE, text=True))
            procs.append(started[-1])
        for switch in started:
            if switch.stdout.readline().strip() != "ready":
                raise SystemExit(f"the {program}.p4 switch did not start")
        result = measure(bed, basic_frames() if program == "basic" else fabric_frames(), seconds, procs,
                         rate)
        for switch in started:
            switch.send_signal(signal.SIGTERM)
        counts = [json.loads(switch.communicate(timeout=20)[0].split("\n")[-2]) for switch in started]
        result["switch"] = {key: sum(c[key] for c in counts) for key in counts[0]}
        return result
    finally:
        for switch in started:
            if switch.poll() is None:
                switch.kill()
                switch.wait()
        bed.remove()


def run_ceiling(token: str, seconds: float, procs: list[subprocess.Popen]) -> dict:
    bed = Bed(token, switches=0)
    try:
        return measure(bed, basic_frames(), seconds, procs)
    finally:
        bed.remove()


def row(name: str, r: dict | None, note: str = "") -> None:
    if r is None:
        print(f"  {name:<46} {'-':>12}  {note}")
        return
    offered = f"offered {r['offered_pps']:,.0f}/s" if r.get("offered_pps") else ""
    sw = r.get("switch")
    extra = (f"{sw['tx'] / sw['cpu_s']:9,.0f}/CPU-s  switch rx {sw['rx']} tx {sw['tx']} "
             f"kernel drops {sw['overruns']} ring holes {sw.get('holes', 0)}" if sw and sw["cpu_s"] else "")
    if r.get("bmv2_cpu_s"):
        extra = f"{r['received'] / r['bmv2_cpu_s']:9,.0f}/CPU-s (received / BMv2's CPU time)"
    print(f"  {name:<46} {r['delivered_pps']:12,.0f}  {offered}  {extra}")


def layout(n: int, token: str, seconds: float, procs: list[subprocess.Popen],
           rates: list[int] | None = None, link_mbps: float = 0.0) -> int:
    """A chain of `n` switches on the switch CPU: one process for all, then one each; at
    full speed, or paced at each of `rates` (frames/s; each frame arrives alone, as in a
    fabric), where the figure is the switches' CPU per frame-hop."""
    load_before = loadavg()
    results = {}
    try:
        for rate in rates or [0]:
            for one in (True, False):
                results[rate, one] = run_fabriclab("basic", "ring", token, seconds, procs, n, one,
                                                   rate=rate, link_mbps=link_mbps)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    print(f"{FRAME_LEN}-byte frames through a chain of {n} basic.p4 switches, all on CPU {SWITCH_CORE}, "
          f"{seconds:g} s per row; delivered frames/s at h2, frame-hops per CPU second of the switches"
          + (f"; ports modelled at {link_mbps:g} Mb/s" if link_mbps else ""))
    print(f"  load average {load_before} before, {loadavg()} after (on {os.cpu_count()} CPUs)")
    for (rate, one), r in results.items():
        name = f"{n} switches, {'one process' if one else 'one process each'}"
        if not rate:
            row(name, r)
            continue
        sw = r["switch"]
        per = sw["cpu_s"] * 1e6 / sw["tx"] if sw["tx"] else float("nan")
        print(f"  {name:<34} {rate:>7,} frames/s offered  delivered {r['delivered_pps']:9,.0f}/s  "
              f"{per:6.1f} us CPU per frame-hop  CPU {sw['cpu_s'] / seconds:5.1%} of the wall  "
              f"(frame-hops {sw['tx']}, CPU {sw['cpu_s']:.2f} s)")
    return 0


def paced(rates: list[int], link_mbps: float, token: str, seconds: float,
          procs: list[subprocess.Popen]) -> int:
    """The switch's CPU per frame at paced, moderate rates (one frame per wake-up)."""
    load_before = loadavg()
    results = {}
    try:
        for rate in rates:
            for program in ("basic", "fabric"):
                results[rate, program] = run_fabriclab(program, "ring", token, seconds, procs,
                                                       rate=rate, link_mbps=link_mbps)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    link = f"ports modelled at {link_mbps:g} Mb/s" if link_mbps else "no modelled link rate"
    print(f"{FRAME_LEN}-byte frames paced by {results[rates[0], 'basic']['generator']}, {seconds:g} s "
          f"per row, switch on CPU {SWITCH_CORE} (PACKET_MMAP rings, {link}); switch CPU us per "
          f"frame it sent, and its CPU share of the wall time")
    print(f"  load average {load_before} before, {loadavg()} after (on {os.cpu_count()} CPUs)")
    for (rate, program), r in results.items():
        sw = r["switch"]
        per = sw["cpu_s"] * 1e6 / sw["tx"] if sw["tx"] else float("nan")
        print(f"  {program + '.p4':<10} {rate:>7,} frames/s offered  delivered {r['delivered_pps']:9,.0f}/s  "
              f"{per:7.1f} us CPU per frame  CPU {sw['cpu_s'] / seconds:5.1%} of the wall  "
              f"(tx {sw['tx']}, CPU {sw['cpu_s']:.2f} s)")
    return 0


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="generator run per row (s)")
    parser.add_argument("--serve", choices=("basic", "fabric"), help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--io", choices=("ring", "plain"), default="ring", help=argparse.SUPPRESS)
    parser.add_argument("--layout", type=int, default=0, metavar="N",
                        help="instead: a chain of N basic.p4 switches, one process (one event "
                             "loop) against one process per switch (with --rate: paced, CPU "
                             "us per frame-hop)")
    parser.add_argument("--rate", metavar="PPS,...",
                        help="instead: pace the generator at each of these frame rates and print "
                             "the switch's CPU us per frame (basic.p4 and fabric.p4)")
    parser.add_argument("--link-mbps", type=float, default=0.0, metavar="M",
                        help="with --rate: the switch's ports modelled at M Mb/s (a timer "
                             "wake-up per frame, as in a fabric)")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, [group.split(",") for group in args.ports.split(";")], args.io == "ring",
              args.link_mbps)
        return 0
    if args.seconds <= 0:
        print("pps: --seconds must be > 0", file=sys.stderr)
        return 2
    if args.layout < 0:
        print("pps: --layout must be a number of switches (>= 1)", file=sys.stderr)
        return 2
    try:
        rates = [int(r) for r in args.rate.split(",")] if args.rate else []
    except ValueError:
        rates = [0]
    if any(r <= 0 for r in rates) or args.link_mbps < 0:
        print("pps: --rate takes frame rates > 0 (1000,5000,20000); --link-mbps >= 0", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("pps: needs root (network namespaces)", file=sys.stderr)
        return 2
    token = str(os.getpid() % 100000)
    procs: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if args.layout:
        return layout(args.layout, token, args.seconds, procs, rates, args.link_mbps)
    if args.rate:
        return paced(rates, args.link_mbps, token, args.seconds, procs)
    load_before = loadavg()
    bmv2 = all(shutil.which(tool) for tool in ("simple_switch_grpc", "p4c-bm2-ss", "simple_switch_CLI"))
    try:
        results = {"ceiling": run_ceiling(token, args.seconds, procs)}
        for program in ("basic", "fabric"):
            for io in ("ring", "plain"):
                results[program, io] = run_fabriclab(program, io, token, args.seconds, procs)
            if bmv2:
                with tempfile.TemporaryDirectory() as workdir:
                    results[program, "bmv2"] = run_bmv2(program, token, args.seconds, workdir, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    print(f"{FRAME_LEN}-byte frames, {args.seconds:g} s per row, switch on CPU {SWITCH_CORE}, generator "
          f"on CPU {GENERATOR_CORE} ({results['ceiling']['generator']}); delivered frames/s at h2, "
          f"and frames the switch sent per CPU second it used")
    print(f"  load average {load_before} before, {loadavg()} after (on {os.cpu_count()} CPUs)")
    row("generator ceiling (veth)", results["ceiling"])
    for program, name in (("basic", "basic.p4"), ("fabric", "fabric.p4 adaptive")):
        for io, how in (("ring", "PACKET_MMAP rings"), ("plain", "plain sockets")):
            row(f"fabriclab {name}, {how}", results[program, io])
    for program in ("basic", "fabric"):
        if bmv2:
            row(f"BMv2 {program}.p4", results[program, "bmv2"])
        else:
            row(f"BMv2 {program}.p4", None, "skipped: simple_switch_grpc / p4c-bm2-ss not on PATH")
    return 0


if __name__ == "__main__":
    sys.exit(main())
