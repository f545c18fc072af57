"""`python -m fabriclab.labs.bottleneck --run NAME SWITCH PORT PPS`: make one switch port
of a running `fabriclab net` a bottleneck (all its queues drained at PPS packets/s), on
either target, so the labs can build a queue on purpose.

The built-in switch takes `set_queue_rate` on its admin socket (`fabriclab switch-cli`);
simple_switch takes the same command on its Thrift CLI (`simple_switch_CLI`, port 9090 +
device id, as `fabriclab net` starts it). Which one runs is read from the run's files.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from fabriclab.errors import FabricError
from fabriclab.paths import RunDir, run_name

BMV2_THRIFT_BASE = 9090


def command(run: str, switch: str, port: int, pps: int) -> tuple[list[str], str | None]:
    """(argv, stdin) that sets the rate on whichever target runs `switch`."""
    from topologies.graph import Topology

    rundir = RunDir(run)
    socket = rundir.admin_socket(switch)
    if socket.exists():
        return ([sys.executable, "-m", "fabriclab", "switch-cli", "--socket", str(socket),
                 "set_queue_rate", str(pps), str(port)], None)
    try:
        topo = Topology.from_json((rundir.path / "topology.json").read_text())
    except FileNotFoundError:
        raise FabricError(f"no running network {run!r}") from None
    thrift = BMV2_THRIFT_BASE + topo.switch_index(switch)
    return (["simple_switch_CLI", "--thrift-port", str(thrift)],
            f"set_queue_rate {pps} {port}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fabriclab.labs.bottleneck",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, type=run_name)
    parser.add_argument("switch")
    parser.add_argument("port", type=int)
    parser.add_argument("pps", type=int, help="packets per second")
    args = parser.parse_args(argv)
    try:
        argv_, stdin = command(args.run, args.switch, args.port, args.pps)
    except FabricError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    done = subprocess.run(argv_, input=stdin, text=True)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
