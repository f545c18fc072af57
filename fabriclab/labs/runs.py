"""The short Mininet runs that `lab check` uses, and the `lab start` command line.

Everything goes through public commands in subprocesses: `fabriclab net --cli` fed a
script on stdin (traffic from `python -m fabriclab.labs.traffic` in the hosts, `sh
fabriclab ctl ...` for the controller), with per-port pcaps that the check reads after the
network is down. So the labs never depend on how the net driver is built inside. A check
returns (passed, one-line detail).
"""

from __future__ import annotations

import shlex
import signal
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Callable

from fabriclab.labs.registry import Lab
from fabriclab.labs.traffic import DPORT

FABRICLAB = (sys.executable, "-m", "fabriclab")
TRAFFIC = (sys.executable, "-m", "fabriclab.labs.traffic")
INNET = (sys.executable, "-m", "fabriclab.labs.innet")
BOTTLENECK = (sys.executable, "-m", "fabriclab.labs.bottleneck")
#: `lab check` brings its topology up on these P4Runtime ports, away from a user's
#: `fabriclab net` on the default 9559..
CHECK_GRPC_BASE = 9760
RUN_TIMEOUT_S = 240
INT_REPORT_PORT = 32766   # the collector's UDP port (docs/fabric.md)
INT_UDP_PORT = 9099


def net_command(lab: Lab, program: Path, target: str, *extra: str) -> list[str]:
    """`fabriclab net` for this lab's topology with `program`."""
    return [*FABRICLAB, "net", *lab.topology, "--program", str(program), "--target", target,
            "--run", lab.run_name, *extra]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"


def run_net(cmd: list[str], stdin: str | None = None,
            timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run a `fabriclab net` that ends by itself (--pingall, or --cli with a script ending in
    `exit`); on timeout SIGTERM it (net tears its run down on SIGTERM) and report a failure."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else None,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate()
        return subprocess.CompletedProcess(cmd, 124, f"{out}\ntimed out after {timeout:.0f} s")
    return subprocess.CompletedProcess(cmd, proc.returncode, out)


def mininet_script(lab: Lab, program: Path, target: str, lines: list[str],
                   pcap_dir: Path) -> subprocess.CompletedProcess:
    """Bring the lab topology up with per-port pcaps, run `lines` in the Mininet CLI, stop."""
    cmd = net_command(lab, program, target, "--cli", "--pcap", str(pcap_dir),
                      "--grpc-base-port", str(CHECK_GRPC_BASE))
    return run_net(cmd, stdin="\n".join([*lines, "exit"]) + "\n")


def traffic(host: str, dst: str, **options: object) -> str:
    """A Mininet CLI line: paced UDP flows from `host` (fabriclab.labs.traffic)."""
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    return shlex.join([host, *TRAFFIC, "--dst", dst, *flags])


def ctl(lab: Lab, *words: str) -> str:
    return shlex.join(["sh", *FABRICLAB, "ctl", "--run", lab.run_name, *words])


def port_capture(pcap_dir: Path, switch: str, port: int,
                 direction: str = "out") -> list[tuple[float, bytes]]:
    """(time in s, frame) of what switch port `port` sent ("out") or received ("in"), from
    its pcap."""
    from scapy.utils import RawPcapReader

    frames: list[tuple[float, bytes]] = []
    for path in sorted(pcap_dir.glob(f"flv??{switch}-{port}_{direction}.pcap")):
        frames.extend((meta.sec + meta.usec / 1e6, data) for data, meta in RawPcapReader(str(path)))
    return frames


def port_frames(pcap_dir: Path, switch: str, port: int, direction: str = "out") -> list[bytes]:
    """The frames switch port `port` sent ("out") or received ("in"), from its pcap."""
    return [frame for _, frame in port_capture(pcap_dir, switch, port, direction)]


def udp(frame: bytes) -> tuple[int, int, int, int, bytes] | None:
    """(ECN bits, source port, destination port, IP total length, IP packet) of an
    Ethernet/IPv4/UDP frame without options, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[14] != 0x45 or frame[23] != 17:
        return None
    sport, dport = struct.unpack("!HH", frame[34:38])
    return frame[15] & 3, sport, dport, struct.unpack("!H", frame[16:18])[0], frame[14:]


def is_lab_frame(frame: bytes) -> bool:
    """A frame of the traffic generator's flows (UDP to its port)."""
    fields = udp(frame)
    return fields is not None and fields[2] == DPORT


def lab_flows(frames: list[bytes]) -> list[tuple[int, int]]:
    """(source port, ECN) of the frames that belong to the traffic generator's flows."""
    return [(u[1], u[0]) for u in map(udp, frames) if u and u[2] == DPORT]


def _failed_run(done: subprocess.CompletedProcess) -> str | None:
    if done.returncode != 0:
        return f"the network did not run: {_last_line(done.stdout)}"
    return None


# --------------------------------------------------------------------------- checks
def check_pingall(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """Every host reaches every other through the student's program on the lab topology."""
    done = run_net(net_command(lab, program, target, "--pingall",
                               "--grpc-base-port", str(CHECK_GRPC_BASE)))
    pings = [line.strip() for line in done.stdout.splitlines() if "Results:" in line]
    summary = pings[-1] if pings else _last_line(done.stdout)
    return done.returncode == 0, f"pingall on {' '.join(lab.topology)}: {summary}"


def check_ecmp_spread(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """16 UDP flows h1 -> h3 that differ in their source port: ECMP keeps each flow on one
    uplink of l1 and spreads the flows over both uplinks."""
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        pcaps = Path(tmp)
        done = mininet_script(lab, program, target,
                              [traffic("h1", "10.0.2.1", flows=16, packets=5, pps=200)], pcaps)
        uplinks = {port: lab_flows(port_frames(pcaps, "l1", port)) for port in (3, 4)}
    if (problem := _failed_run(done)):
        return False, problem
    flows = {port: {sport for sport, _ in pkts} for port, pkts in uplinks.items()}
    counts = {port: len(pkts) for port, pkts in uplinks.items()}
    split = sorted(flows[3] & flows[4])
    detail = (f"16 flows x 5 packets h1->h3: l1 uplink 3 carried {len(flows[3])} flows "
              f"({counts[3]} packets), uplink 4 {len(flows[4])} flows ({counts[4]} packets)")
    if sum(counts.values()) < 80:
        return False, f"{detail}; {80 - sum(counts.values())} packets never left l1"
    if split:
        return False, f"{detail}; flows split over both uplinks: {split[:4]}"
    return bool(flows[3]) and bool(flows[4]), detail


def check_adaptive_spray(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """In adaptive mode one flow's packets go out of both of l1's uplinks (per packet, by
    queue depth with random ties), and all of them arrive."""
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        pcaps = Path(tmp)
        done = mininet_script(lab, program, target, [
            ctl(lab, "mode", "adaptive"),
            traffic("h1", "10.0.2.1", flows=1, packets=60, pps=200),
        ], pcaps)
        per_port = {port: len(lab_flows(port_frames(pcaps, "l1", port))) for port in (3, 4)}
        delivered = len(lab_flows(port_frames(pcaps, "l2", 1)))
    if (problem := _failed_run(done)):
        return False, problem
    detail = (f"adaptive mode, one flow of 60 packets h1->h3: l1 uplink 3 {per_port[3]}, "
              f"uplink 4 {per_port[4]} packets; {delivered} delivered to h3")
    return per_port[3] > 0 and per_port[4] > 0 and delivered == 60, detail


def int_report(frame: bytes) -> tuple[int, list[int], bool] | None:
    """(hop count, switch ids of the hop records, lengths consistent) of an INT report
    frame (docs/fabric.md), else None."""
    outer = udp(frame)
    if outer is None or outer[2] != INT_REPORT_PORT or len(frame) < 58:
        return None
    hops = frame[42] & 0x0F
    inner = frame[58:]
    parsed = udp(inner)
    if parsed is None or parsed[2] != INT_UDP_PORT:
        return None
    records = inner[42 + 16:]
    ids = [struct.unpack("!I", records[24 * i:24 * i + 4])[0] for i in range(hops)
           if len(records) >= 24 * (i + 1)]
    shim_words = inner[43]
    ip_len = parsed[3]
    consistent = (shim_words == 4 + 6 * hops and ip_len == len(inner) - 14
                  and struct.unpack("!H", inner[38:40])[0] == ip_len - 20)
    return hops, ids, consistent


def check_int_reports(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """A watched flow h1 -> h3 (leaf, spine, leaf) makes l2 send reports to the collector
    h4 with three hop records from three different switches and consistent lengths."""
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        pcaps = Path(tmp)
        done = mininet_script(lab, program, target, [
            ctl(lab, "int", "--watch", "10.0.1.1:10.0.2.1", "--collector", "h4"),
            traffic("h1", "10.0.2.1", flows=1, packets=10, pps=50),
        ], pcaps)
        reports = [r for r in map(int_report, port_frames(pcaps, "l2", 2)) if r]
        delivered = lab_flows(port_frames(pcaps, "l2", 1))
    if (problem := _failed_run(done)):
        return False, problem
    if not reports:
        return False, f"no INT report reached the collector h4 ({len(delivered)} of 10 packets " \
                      f"reached h3)"
    good = [r for r in reports if r[0] == 3 and len(set(r[1])) == 3 and r[2]]
    hops = Counter(r[0] for r in reports)
    detail = (f"{len(reports)} reports at h4, hop counts {dict(hops)}, switch ids "
              f"{reports[0][1]}, lengths consistent in {sum(r[2] for r in reports)}; "
              f"{len(delivered)} of 10 packets reached h3")
    return len(good) == len(reports) and len(delivered) == 10, detail


#: check_ecn_marks: Kmax above the 64-packet queue, so every mark is a probabilistic one
#: (TODO 3): at most (64 - 3) / 197 = 31% of the packets a full queue holds; marking every
#: packet above Kmin, or the comparison inverted (69% or more), marks far more.
ECN_KMIN, ECN_KMAX, ECN_MOST_MARKED = 3, 200, 0.5


def check_ecn_marks(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """Kmin 3, Kmax 200, Pmax 1; l2's port to h3 drained at 100 packets/s and fed 300/s of
    ECT(0) packets: CE marks appear once its queue builds, below Kmax with probability
    (depth - Kmin) / (Kmax - Kmin), so some but at most half of the packets; Not-ECT
    packets sent through the same queue at the same time stay unmarked."""
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        pcaps = Path(tmp)
        done = mininet_script(lab, program, target, [
            ctl(lab, "ecn", "--kmin", str(ECN_KMIN), "--kmax", str(ECN_KMAX), "--pmax", "1"),
            shlex.join(["sh", *BOTTLENECK, "--run", lab.run_name, "l2", "1", "100"]),
            traffic("h1", "10.0.2.1", flows=1, packets=40, pps=60, tos=0, sport=50000) + " &",
            traffic("h1", "10.0.2.1", flows=1, packets=150, pps=300, tos=2),
            "h1 wait",
        ], pcaps)
        arrived = lab_flows(port_frames(pcaps, "l2", 1))
    if (problem := _failed_run(done)):
        return False, problem
    ect = [ecn for sport, ecn in arrived if sport == 49152]
    not_ect = [ecn for sport, ecn in arrived if sport == 50000]
    marked = sum(ecn == 3 for ecn in ect)
    first = next((i for i, ecn in enumerate(ect) if ecn == 3), None)
    detail = (f"ECT(0) at 300 pkt/s into 100 pkt/s, Kmin {ECN_KMIN}, Kmax {ECN_KMAX} (above the queue): "
              f"{marked} of {len(ect)} arrived CE (first at #{first}; expected some, at most "
              f"{ECN_MOST_MARKED:.0%}); Not-ECT: {sum(e != 0 for e in not_ect)} of {len(not_ect)} changed")
    return (0 < marked <= ECN_MOST_MARKED * len(ect) and all(e == 0 for e in not_ect) and len(not_ect) > 0,
            detail)


def check_innet_allreduce(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """An aggregation job over h1..h4 (leaves l1, l2, root a spine): every rank sends one
    chunk and gets back the sum of all four, added inside the switches."""
    ranks = ["h1", "h2", "h3", "h4"]
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        out = Path(tmp)
        rank_cmd = [*INNET, "rank", "--world", str(len(ranks)), "--timeout", "8"]
        done = mininet_script(lab, program, target, [
            shlex.join(["sh", *INNET, "job", "--run", lab.run_name, "--ranks", ",".join(ranks)]),
            *(shlex.join([h, *rank_cmd, "--rank", str(r), "--out", str(out / f"rank{r}")]) + " &"
              for r, h in enumerate(ranks[1:], 1)),
            shlex.join(["h1", *rank_cmd, "--rank", "0", "--out", str(out / "rank0")]),
            "sh sleep 1",
        ], out / "pcap")
        outcomes = [(out / f"rank{r}").read_text().strip() if (out / f"rank{r}").exists()
                    else "did not finish" for r in range(len(ranks))]
    if (problem := _failed_run(done)):
        return False, problem
    detail = ", ".join(f"{h}: {o}" for h, o in zip(ranks, outcomes))
    return all(o == "ok" for o in outcomes), f"all-reduce of 4 ranks through the fabric: {detail}"


#: fast_reroute: per direction, 16 flows at 100 packets/s for 16 s; the cut comes 1.5 s in
#: plus however long `ctl fail` takes to start and connect (measured: under 2 s idle, about
#: 7 s with both cores busy), so it falls mid-stream with seconds to spare.
REROUTE_FLOWS, REROUTE_PACKETS, REROUTE_PPS = 16, 100, 100
#: Time from the cut to the switch's own port signal (rtnetlink event -> port_down_signal):
#: 8-11 ms measured to the controller's stream on a loaded 2-core VM (docs/resiliency.md),
#: and the data plane hears it first. 0.5 s is that with a 50x margin for a busy machine.
DETECT_BUDGET_S = 0.5


def bounce_marked(frame: bytes) -> bool:
    """An IPv4 frame with the reserved flag bit set: liveness.p4's bounce mark."""
    return len(frame) > 20 and frame[12:14] == b"\x08\x00" and bool(frame[20] & 0x80)


def _reroute_direction(pcaps: Path, src_leaf: str, dst_leaf: str,
                       budget: int) -> tuple[bool, str]:
    """One direction of fast_reroute: the flows that left `src_leaf` by its uplink to s1
    (port 3) before the cut must also have left by its uplink to s2 (port 4) after it,
    and at most `budget` packets may be lost (counted at the destination host's port 1)."""
    on = {port: {sport for sport, _ in lab_flows(port_frames(pcaps, src_leaf, port))}
          for port in (3, 4)}
    sent = REROUTE_FLOWS * REROUTE_PACKETS
    lost = sent - len(lab_flows(port_frames(pcaps, dst_leaf, 1)))
    stuck = sorted(on[3] - on[4])
    detail = (f"{src_leaf}->{dst_leaf}: {len(on[3])} flows via s1, {len(stuck)} of them "
              f"never moved to s2, {lost} of {sent} lost")
    return bool(on[3]) and not stuck and lost <= budget, detail


#: Checks a target cannot pass whatever the program, and why: grade skips them there.
NOT_ON: dict[str, dict[str, str]] = {
    "fast_reroute": {"bmv2": "simple_switch_grpc has no agent here that writes port_down_signal when "
                             "a link goes down (docs/fabric.md), so only the built-in switch reroutes "
                             "on its own port signal"},
}


def check_fast_reroute(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """Flows h1 -> h3 and h3 -> h1 over both spines; the link l1-s1 is cut mid-stream with
    no controller reacting (nobody runs `ctl watch-links`), so only the data plane can
    reroute: l1 moves its s1 flows to s2 on its own port signal, and l2 moves its s1 flows
    once s1 bounces them back. Little may be lost: what was sent during the detection."""
    budget = int(REROUTE_PPS * DETECT_BUDGET_S)
    flows = dict(flows=REROUTE_FLOWS, packets=REROUTE_PACKETS, pps=REROUTE_PPS)
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        pcaps = Path(tmp)
        done = mininet_script(lab, program, target, [
            traffic("h1", "10.0.2.1", **flows) + " &",
            traffic("h3", "10.0.1.1", **flows) + " &",
            "sh sleep 1.5",
            ctl(lab, "fail", "link", "l1", "s1"),
            "h1 wait",
            "h3 wait",
        ], pcaps)
        forward = _reroute_direction(pcaps, "l1", "l2", budget)
        back = _reroute_direction(pcaps, "l2", "l1", budget)
        bounces = sum(map(bounce_marked, port_frames(pcaps, "s1", 2)))
    if (problem := _failed_run(done)):
        return False, problem
    if "port(s) down" not in done.stdout:
        return False, f"the link l1-s1 was not cut: {_last_line(done.stdout)}"
    detail = (f"l1-s1 cut mid-stream, {REROUTE_PPS} pkt/s each way: {forward[1]}; {back[1]}; "
              f"s1 bounced {bounces} packets back to l2 (at most {budget} lost each way)")
    return forward[0] and back[0] and bounces > 0, detail


#: tenant_meters: the noisy tenant h1 sends 400 packets/s for 5 s against a guarantee of
#: 100 kb/s and a cap of 200 kb/s (88 and 176 of our 142-byte frames a second); the quiet
#: tenant h2 sends 50 packets/s, all of its stream (35.5 kB) smaller than the committed
#: burst its 8 Gb/s guarantee gives (CIR x 100 us = 100 kB), so no stall of a busy machine
#: can make it anything but GREEN. Both send DSCP 8 (TOS 0x20), so a remark to 0 shows.
NOISY_GBPS, NOISY_CAP_GBPS, QUIET_GBPS, QUIET_CAP_GBPS = 0.0001, 0.0002, 8, 16
NOISY_FLOWS, NOISY_PACKETS, NOISY_PPS = 4, 500, 400
QUIET_PACKETS, QUIET_PPS = 250, 50
TENANT_TOS, FRAME_BYTES = 0x20, 142   # traffic's 100-byte payload + UDP, IPv4, Ethernet
METER_BURST_BYTES = 1500              # controller/tenants.py: the smallest meter burst
#: The noisy tenant's stream may be processed over a longer span than it was sent in (a
#: switch that stalls and catches up): 1 s of slack in the cap's bound.
METER_SLACK_S = 1.0


def dscp(frame: bytes) -> int:
    """The DSCP of an Ethernet/IPv4 frame (the upper 6 bits of the TOS byte)."""
    return frame[15] >> 2


def check_tenant_meters(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """Two tenants on l1 send to l2 at the same time: the noisy one (h1 -> h3) at twice its
    cap is cut to the cap (RED dropped) with part of what passes remarked (YELLOW: DSCP 8
    -> 0); every packet of the quiet one (h2 -> h4), well inside its guarantee, arrives
    unchanged. The bounds follow from the trTCM: over T seconds at most PIR * T + PBS bytes
    pass, and at least CIR * T are GREEN (half of it required, for a busy machine)."""
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        pcaps = Path(tmp)
        done = mininet_script(lab, program, target, [
            ctl(lab, "tenant", "add", "noisy", "--hosts", "h1", "--guaranteed", f"{NOISY_GBPS:g}",
                "--cap", f"{NOISY_CAP_GBPS:g}", "--queue", "1"),
            ctl(lab, "tenant", "add", "quiet", "--hosts", "h2", "--guaranteed", f"{QUIET_GBPS:g}",
                "--cap", f"{QUIET_CAP_GBPS:g}", "--queue", "2"),
            traffic("h2", "10.0.2.2", flows=1, packets=QUIET_PACKETS, pps=QUIET_PPS,
                    tos=TENANT_TOS) + " &",
            traffic("h1", "10.0.2.1", flows=NOISY_FLOWS, packets=NOISY_PACKETS, pps=NOISY_PPS,
                    tos=TENANT_TOS),
            "h2 wait",
        ], pcaps)
        sent_at = [t for t, f in port_capture(pcaps, "l1", 1, "in") if is_lab_frame(f)]
        noisy = [dscp(f) for f in port_frames(pcaps, "l2", 1) if is_lab_frame(f)]
        quiet = [dscp(f) for f in port_frames(pcaps, "l2", 2) if is_lab_frame(f)]
    if (problem := _failed_run(done)):
        return False, problem
    if not all(f"tenant {name} added" in done.stdout for name in ("noisy", "quiet")):
        return False, f"the tenants were not installed: {_last_line(done.stdout)}"
    sent = NOISY_FLOWS * NOISY_PACKETS
    span = (max(sent_at) - min(sent_at)) if sent_at else 0.0
    cir, pir = NOISY_GBPS * 1e9 / 8, NOISY_CAP_GBPS * 1e9 / 8
    most = int((pir * (span + METER_SLACK_S) + METER_BURST_BYTES) / FRAME_BYTES)
    least = int(cir * span / 2 / FRAME_BYTES)
    remarked = sum(d == 0 for d in noisy)
    quiet_changed = sum(d != TENANT_TOS >> 2 for d in quiet)
    detail = (f"noisy h1 ({NOISY_PPS} pkt/s over {span:.1f} s, cap {NOISY_CAP_GBPS * 1e6:g} "
              f"kb/s): {len(noisy)} of {sent} arrived (allowed {least}-{most}), {remarked} "
              f"remarked; quiet h2: {len(quiet)} of {QUIET_PACKETS} arrived, {quiet_changed} "
              f"remarked")
    return (least <= len(noisy) <= most and 0 < remarked < len(noisy)
            and len(quiet) == QUIET_PACKETS and quiet_changed == 0), detail


CHECKS: dict[str, Callable[[Lab, Path, str], tuple[bool, str]]] = {
    "pingall": check_pingall,
    "ecmp_spread": check_ecmp_spread,
    "adaptive_spray": check_adaptive_spray,
    "int_reports": check_int_reports,
    "ecn_marks": check_ecn_marks,
    "innet_allreduce": check_innet_allreduce,
    "fast_reroute": check_fast_reroute,
    "tenant_meters": check_tenant_meters,
}
