"""In-network all-reduce on Mininet (root): `fabriclab collective allreduce --algo innet
--run NAME` on a running `fabriclab net leaf-spine` (2 leaves, 2 spines, 2 hosts each, the
built-in switches on fabric.p4), twice on one net. Every rank checks its result (#wrong 0),
and the switch
counters show the tree did the sums: the root spine added exactly one partial per leaf per
chunk, each leaf added one contribution per local rank per chunk, the other spine none."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.root, pytest.mark.timeout(600)]

SIZE = 16 << 10
CHUNKS = SIZE // 4 // 256 + SIZE // 16 // 256     # both runs
ADDED = 0   # agg_stats index: contributions added


def test_four_ranks_allreduce_in_the_network_over_a_2x2_leaf_spine():
    from controller import cli as ctl_cli

    run = f"t-innet-{os.getpid()}"
    port = 33400 + os.getpid() % 50
    net = subprocess.Popen([sys.executable, "-m", "fabriclab", "net", "leaf-spine", "--run", run,
                            "--grpc-base-port", str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in net.stdout:
            if "fabriclab net: up" in line:
                break
        else:
            pytest.fail(f"net never came up (exit {net.wait()})")
        # twice: the second job reuses the first one's id and slots, never its sums
        for size in (SIZE, SIZE // 4):
            out = subprocess.run([sys.executable, "-m", "fabriclab", "collective", "allreduce",
                                  "--run", run, "--algo", "innet", "--size", str(size),
                                  "--iters", "1", "--warmup", "0", "--timeout", "120"],
                                 capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, out.stdout + out.stderr
            row = [ln for ln in out.stdout.splitlines() if ln.strip().startswith(str(size))]
            assert len(row) == 1 and row[0].split()[-1] == "0", out.stdout     # #wrong
        ctl = ctl_cli.connect(ctl_cli.find_run(run), port)
        try:
            added = {name: c.read_counter("FabricIngress.aggregation.agg_stats", ADDED)
                     .get(ADDED, (0, 0))[1] for name, c in ctl.clients.items()}   # (bytes, packets)
            spine_rx = {s: sum(st.rx_packets for st in ctl.port_stats(s).values())
                        for s in ("s1", "s2")}
        finally:
            ctl.close()
        root = max(("s1", "s2"), key=lambda s: added[s])
        other = "s2" if root == "s1" else "s1"
        assert added[root] == 2 * CHUNKS, added        # one partial per leaf per chunk
        assert added[other] == 0, added
        assert added["l1"] == added["l2"] == 2 * CHUNKS, added   # two ranks per leaf
        # what crossed the spines is the partials (plus any retransmitted ones), not the data
        assert 2 * CHUNKS <= spine_rx[root] < 4 * CHUNKS + 16, spine_rx
        print(f"agg contributions added: {added}; packets into spines: {spine_rx}")
        # the job is gone again
        listing = subprocess.run([sys.executable, "-m", "fabriclab", "ctl", "--run", run, "agg", "list"],
                                 capture_output=True, text=True, timeout=60)
        assert listing.stdout.strip() == "no aggregation jobs", listing.stdout + listing.stderr
    finally:
        net.terminate()
        try:
            net.wait(60)
        except subprocess.TimeoutExpired:
            net.kill()
