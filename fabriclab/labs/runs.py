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


def port_frames(pcap_dir: Path, switch: str, port: int, direction: str = "out") -> list[bytes]:
    """The frames switch port `port` sent ("out") or received ("in"), from its pcap."""
    from scapy.utils import RawPcapReader

    frames: list[bytes] = []
    for path in sorted(pcap_dir.glob(f"flv??{switch}-{port}_{direction}.pcap")):
        frames.extend(data for data, _meta in RawPcapReader(str(path)))
    return frames


def udp(frame: bytes) -> tuple[int, int, int, int, bytes] | None:
    """(ECN bits, source port, destination port, IP total length, IP packet) of an
    Ethernet/IPv4/UDP frame without options, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[14] != 0x45 or frame[23] != 17:
        return None
    sport, dport = struct.unpack("!HH", frame[34:38])
    return frame[15] & 3, sport, dport, struct.unpack("!H", frame[16:18])[0], frame[14:]


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


def check_ecn_marks(lab: Lab, program: Path, target: str) -> tuple[bool, str]:
    """Kmin 3, Kmax 30, Pmax 1; l2's port to h3 drained at 100 packets/s and fed 300/s of
    ECT(0) packets: CE marks appear once its queue builds; Not-ECT packets sent through the
    same queue at the same time stay unmarked."""
    with tempfile.TemporaryDirectory(prefix="fabriclab-lab-") as tmp:
        pcaps = Path(tmp)
        done = mininet_script(lab, program, target, [
            ctl(lab, "ecn", "--kmin", "3", "--kmax", "30", "--pmax", "1"),
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
    detail = (f"ECT(0) at 300 pkt/s into 100 pkt/s: {marked} of {len(ect)} arrived CE "
              f"(first at #{first}); Not-ECT: {sum(e != 0 for e in not_ect)} of "
              f"{len(not_ect)} changed")
    return marked > 0 and all(e == 0 for e in not_ect) and len(not_ect) > 0, detail


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


CHECKS: dict[str, Callable[[Lab, Path, str], tuple[bool, str]]] = {
    "pingall": check_pingall,
    "ecmp_spread": check_ecmp_spread,
    "adaptive_spray": check_adaptive_spray,
    "int_reports": check_int_reports,
    "ecn_marks": check_ecn_marks,
    "innet_allreduce": check_innet_allreduce,
}
