"""Two scale-up domains of two accelerators on Mininet (root), through the front door:
`fabriclab net scale-up` (fabric.p4 on the built-in switches), `fabriclab ctl routes`, and
`fabriclab collective allreduce --run NAME --algo hier` with two NICs per rank.

Rail-optimised with G = 2: h1, h2 on u1 and h3, h4 on u2; rail 0 (r1) joins h1 and h3, rail 1
(r2) h2 and h4. The hierarchical all-reduce's domain passes run inside u1/u2 and its
cross-domain pass along r1/r2, so the spine carries none of it. The switches' P4Runtime
port counters (what `fabriclab ctl stats` prints) show where the bytes went.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]

SIZE = 64 << 10
FABRICLAB = [sys.executable, "-m", "fabriclab"]


def tx_bytes(ctl, switch: str) -> int:
    return sum(st.tx_bytes for st in ctl.port_stats(switch).values())


def switch_routes(text: str) -> dict[str, list[str]]:
    """`ctl routes` output -> switch -> ["PREFIX (NEIGHBOUR)", ...]."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(" "):
            current = out.setdefault(line.split(":")[0], [])
        elif "->" in line:
            prefix, via = line.split("->")
            current.append(f"{prefix.strip()} {via.split()[-1]}")
    return out


def test_hierarchical_allreduce_over_two_domains_of_two(tmp_path):
    from controller import cli as ctl_cli
    from fabriclab.net import clean

    run = f"t-scaleup-{os.getpid()}"
    port = 33000 + os.getpid() % 50 * 10
    net = subprocess.Popen([*FABRICLAB, "net", "scale-up", "--hosts", "4", "--scaleup-size", "2",
                            "--downlink-bw", "10", "--scaleup-bw", "40", "--spines", "1",
                            "--run", run, "--grpc-base-port", str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in net.stdout:
            if "fabriclab net: up" in line:
                break
        else:
            pytest.fail(f"net never came up (exit {net.wait()})")
        routes = subprocess.run([*FABRICLAB, "ctl", "--run", run, "routes"], capture_output=True,
                                text=True, timeout=120)
        assert routes.returncode == 0, routes.stdout + routes.stderr
        print(routes.stdout)
        table = switch_routes(routes.stdout)
        assert set(table) == {"u1", "u2", "r1", "r2", "s1"}
        assert sorted(table["u1"]) == ["10.0.3.1/32 (h1)", "10.0.3.2/32 (h2)"]  # intra-domain: scale-up
        assert "10.0.1.2/32 (h3)" in table["r1"]  # h1 -> h3 (same rail, other domain): the rail leaf
        assert not any(r.startswith("10.0.3.") for sw in ("r1", "r2", "s1") for r in table[sw])
        ctl = ctl_cli.connect(ctl_cli.find_run(run), port)
        try:
            before = {sw: tx_bytes(ctl, sw) for sw in ("u1", "u2", "r1", "r2", "s1")}
            out_json = tmp_path / "hier.json"
            out = subprocess.run([*FABRICLAB, "collective", "allreduce", "--run", run, "--algo", "hier",
                                  "--size", str(SIZE), "--dtype", "int", "--rate", "10M", "--iters", "1",
                                  "--warmup", "0", "--timeout", "120", "--json", str(out_json)],
                                 capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, out.stdout + out.stderr
            sent = {sw: tx_bytes(ctl, sw) - b for sw, b in before.items()}
        finally:
            ctl.close()
        print(out.stdout, "\nbytes sent per switch (P4Runtime port counters):", sent)
        assert "domains of 2, domain peers over the scale-up NICs" in out.stdout
        saved = json.loads(out_json.read_text())["runs"][0]
        assert saved["row"]["wrong"] == 0 and all(r["wrong"] == 0 and r["done"] for r in saved["ranks"])
        assert all(r["scaleup_nic"]["tx_packets"] > 0 for r in saved["ranks"])
        # inside a domain: reduce-scatter + all-gather move 2 x 1/2 of the buffer per rank;
        # across: 2 x 1/2 of a half. The scale-up switches carry most of the bytes.
        inside = sent["u1"] + sent["u2"]
        assert inside >= 4 * SIZE  # 4 ranks x (SIZE/2 + SIZE/2) of payload, plus headers
        assert inside > 1.5 * (sent["r1"] + sent["r2"])  # 2:1 in payload
        assert sent["s1"] < SIZE // 8  # no collective byte crosses the spine
    finally:
        net.terminate()
        try:
            net.wait(60)
        except subprocess.TimeoutExpired:
            net.kill()
        clean.clean_run(run)
