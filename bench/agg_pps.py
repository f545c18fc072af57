"""CPU time per in-network aggregation packet on the built-in switch core (one CPU, no I/O):
p4src/fabric.p4 as the root of a 2-rank job (tests/stf/fabric's aggregation setup), fed
contributions of 256 int32 lanes from ports 1 and 2, a new chunk per pair, so every second
packet completes a slot and is multicast to both ranks. Best of `--repeat` rounds of
`--chunks` chunks, per CPU second of this process (steady on a shared machine). Prints
figures; never asserts.

    .venv/bin/python bench/agg_pps.py [--chunks 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "stf" / "fabric"))

import gen_fabric_stf as stf  # noqa: E402

from fabriclab.p4 import compile_file  # noqa: E402
from fabriclab.switch.core import SwitchCore  # noqa: E402
from fabriclab.switch.stf import run_stf  # noqa: E402


def contributions(first_seq: int, chunks: int) -> list[tuple[int, bytes]]:
    """(ingress port, frame) of `chunks` chunks from ranks on ports 1 and 2."""
    a = list(range(1, stf.AGG_LANES + 1))
    b = [1000 * i for i in range(stf.AGG_LANES)]
    out = []
    for seq in range(first_seq, first_seq + chunks):
        for port, lanes in ((1, a), (2, b)):
            body = stf.agg_body(1, seq % 2, seq, lanes, worker=port - 1)
            out.append((port, bytes(stf.agg_in(port, body))))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100, help="chunks per round (2 packets each)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best counts")
    args = parser.parse_args()
    if args.chunks < 1 or args.repeat < 1:
        print("error: --chunks and --repeat must be >= 1", file=sys.stderr)
        return 2
    core = SwitchCore(compile_file(REPO / "p4src" / "fabric.p4"))
    setup = stf.aggregation().split("# A slot completes")[0]  # tables and multicast groups
    result = run_stf(core, setup)
    assert result.ok, result.failures
    rounds = [contributions(r * args.chunks, args.chunks) for r in range(args.repeat)]
    best, sent = float("inf"), 0
    for r, packets in enumerate(rounds):
        cpu0, out = time.process_time(), 0
        for i, (port, frame) in enumerate(packets):
            out += len(core.process(port, frame, (r * len(packets) + i) * 10))
        best = min(best, time.process_time() - cpu0)
        sent = out
    n = 2 * args.chunks
    print(f"load average {open('/proc/loadavg').read().split()[0]}")
    print(f"fabric.p4 aggregation root, 2 ranks, {len(rounds[0][0][1])}-byte contributions: "
          f"{best / n * 1e6:.1f} us per packet, {n / best:.0f} pkt/CPU-s "
          f"({sent} frames out of {n} in, {args.chunks} results multicast to 2 ranks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
