"""Exit codes of every command (issue 25): bad input is exit 2 with one error line, never a
traceback.

One table, a few bad invocations per command of `fabriclab --help` (argparse errors, values
out of range, files that do not exist, runs that are not running). Commands that end by
themselves run in this process through `fabriclab.cli.main`, the console script's entry;
the ones that serve until stopped (switch, net, view) run as subprocesses with a deadline,
so a bad value they accept shows as "kept running" instead of hanging the suite. The error
is the last line of stderr and the only one saying `error:`; argparse's usage lines may
come before it, as with every argparse program.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fabriclab import cli

REPO = Path(__file__).resolve().parents[2]
NO_RUN = "exit-codes-no-such-run"
SERVES = {"switch", "net", "view"}  # run until stopped: subprocess with a deadline
DEADLINE_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# (argv, why it is bad). A switch gets its own device id and a free gRPC port, so the value
# under test is the only thing wrong with it.
SWITCH = ["switch", "--device-id", "93", "--grpc-server-addr", "127.0.0.1:{port}"]
CASES: list[tuple[list[str], str]] = [
    (["compile"], "no program"),
    (["compile", "/nonexistent/prog.p4"], "missing file"),
    (["compile", "p4src"], "a directory"),
    (["compile", "p4src/basic.p4", "-o", "{tmp}/o", "--p4runtime-files", "x.xyz"], "unknown suffix"),
    (["compile", "p4src/basic.p4", "-o", "{tmp}/o", "--p4runtime-files", "{tmp}/no/x.txt"],
     "P4Info into a missing folder (p4c does not create it)"),
    (["compile", "p4src/basic.p4", "-o", "{tmp}/o", "-D", "1abc"], "bad macro"),
    (["compile", "p4src/basic.p4", "-o", "/dev/null/sub"], "output folder cannot exist"),
    (["compile", "--p4v", "14", "p4src/basic.p4", "-o", "{tmp}/o"], "P4-14 (P4-16 only)"),
    (["compile", "--arch", "psa", "p4src/basic.p4", "-o", "{tmp}/o"], "an architecture other than v1model"),
    (["compile", "--Wdisable=type-error", "p4src/basic.p4", "-o", "{tmp}/o"], "an error cannot be demoted"),
    (["compile", "p4src/basic.p4", "-o", "{tmp}/no/basic.json"], "output file in a missing folder (as p4c)"),
    (["stf"], "no program"),
    (["stf", "/nonexistent.p4", "x.stf"], "missing program"),
    (["stf", "p4src/basic.p4", "/nonexistent.stf"], "missing STF file"),
    (["stf", "p4src/basic.p4", "x.stf", "--drop-port", "abc"], "not a number"),
    ([*SWITCH, "/nonexistent.json"], "missing artifact"),
    ([*SWITCH], "no program"),
    ([*SWITCH, "--no-p4", "-i", "garbage"], "interface without a port"),
    ([*SWITCH, "--no-p4", "-i", "1@flnosuchif0"], "no such interface"),
    ([*SWITCH, "--no-p4", "--port-rate", "1@fast"], "not a rate"),
    ([*SWITCH, "--no-p4", "--port-delay", "1@-5ms"], "negative delay"),
    ([*SWITCH, "--no-p4", "--queue-depth", "1@0"], "empty queue"),
    ([*SWITCH, "--no-p4", "--queue-bytes", "1@abc"], "not a size"),
    ([*SWITCH, "--no-p4", "--priority-queues", "0"], "no queue"),
    ([*SWITCH, "--no-p4", "-L", "loud"], "unknown log level"),
    (["switch", "--no-p4", "--device-id", "93", "--grpc-server-addr", "garbage"], "no port"),
    (["switch", "--no-p4", "--device-id", "93", "--grpc-server-addr", "127.0.0.1:99999"],
     "port out of range"),
    (["switch-cli", "--socket", "{tmp}/none.sock", "show_queues"], "no switch there"),
    (["net"], "no topology"),
    (["net", "no-such-topology"], "unknown topology"),
    (["net", "/nonexistent-topology.json"], "missing topology file"),
    (["net", "leaf-spine", "--leaves", "0"], "no leaves"),
    (["net", "leaf-spine", "--hosts-per-leaf", "abc"], "not a number"),
    (["net", "fat-tree", "--k", "3"], "odd k"),
    (["net", "leaf-spine", "--downlink-bw", "0"], "rate 0"),
    (["net", "leaf-spine", "--program", "/nonexistent.p4"], "missing program"),
    (["net", "leaf-spine", "--mtu", "10", "--run", NO_RUN], "MTU below IPv4's"),
    (["net", "leaf-spine", "--grpc-base-port", "70000"], "port out of range"),
    (["net", "leaf-spine", "--target", "xyz"], "unknown target"),
    (["net", "leaf-spine", "--priority-queues", "0"], "no queue"),
    (["net", "leaf-spine", "--run", "bad/name"], "a path as run name"),
    (["net", "leaf-spine", "--run", ""], "an empty run name (not the default run)"),
    (["collective"], "no collective"),
    (["collective", "bogus", "--sim", "2"], "unknown collective"),
    (["collective", "allreduce", "--sim", "0"], "no rank"),
    (["collective", "allreduce", "--sim", "2", "--window", "0"], "no window"),
    (["collective", "allreduce", "--sim", "2", "--timeout", "-1"], "negative timeout"),
    (["collective", "allreduce", "--sim", "2", "--rto", "0"], "no retransmission timeout"),
    (["collective", "allreduce", "--sim", "2", "--json", "/no/such/dir/x.json"], "json into a missing folder"),
    (["collective", "allreduce", "--sim", "2", "--size", "abc"], "not a size"),
    (["collective", "allreduce", "--sim", "2", "--size", "64K:1K"], "range ends below its start"),
    (["collective", "allreduce", "--sim", "2", "--rate", "0"], "rate 0"),
    (["collective", "allreduce", "--sim", "2", "--run", "x"], "two placements"),
    (["collective", "allreduce", "--run", NO_RUN], "no such run"),
    (["collective", "allreduce", "--hosts", "garbage:::"], "bad address"),
    (["collective", "allreduce", "--sim", "2", "--ecn", "5:2"], "KMIN above KMAX"),
    (["collective", "allreduce", "--sim", "2", "--loss", "2"], "probability above 1"),
    (["collective", "allreduce", "--sim", "2", "--mode", "xyz"], "unknown receiver mode"),
    (["collective", "allreduce", "--sim", "2", "--window", "0"], "empty window"),
    (["collective", "allreduce", "--sim", "2", "--iters", "-1"], "negative iterations"),
    (["collective", "allreduce", "--sim", "2", "--pmtu", "100"], "not an IB MTU"),
    (["collective", "allreduce", "--sim", "2", "--topology", "nope"], "unknown topology"),
    (["ctl"], "no action"),
    (["ctl", "--run", NO_RUN, "stats", "l1"], "no such run"),
    (["ctl", "--run", NO_RUN, "mode", "bogus"], "unknown mode"),
    (["ctl", "--run", "", "mode", "ecmp"], "an empty run name"),
    (["ctl", "--run", NO_RUN, "watch-links"], "no such run"),
    (["ctl", "--run", NO_RUN, "link-down", "l1", "abc"], "port not a number"),
    (["ctl", "--run", NO_RUN, "agg", "delete", "abc"], "job not a number"),
    (["ctl", "--run", NO_RUN, "tenant", "add"], "missing arguments"),
    (["ctl", "--run", NO_RUN, "fail", "link", "A"], "one end only"),
    (["int"], "no action"),
    (["int", "plot"], "no source"),
    (["int", "plot", "/nonexistent.csv"], "missing CSV"),
    (["int", "plot", NO_RUN], "no such run"),
    (["run"], "no experiment"),
    (["run", "no_such_experiment"], "unknown experiment"),
    (["run", "adaptive_routing", "--mode", "bogus"], "unknown mode"),
    (["run", "adaptive_routing", "--mode", "sim", "--seeds", "a,b"], "seeds not numbers"),
    (["run", "adaptive_routing", "--mode", "sim", "--workers", "0"], "no worker"),
    (["run", "adaptive_routing", "--mode", "sim", "--cluster", "garbage"], "not a scheduler"),
    (["run", "adaptive_routing", "--quick", "--full"], "two scales"),
    (["demo", "--bogus"], "unknown flag"),
    (["demo", "--out"], "missing value"),
    (["clean", "--keep", "-1"], "negative count"),
    (["clean", "--bogus"], "unknown flag"),
    (["clean", "--run", ""], "an empty run name (not everything)"),
    (["doctor", "--grpc-base-port", "70000"], "port out of range"),
    (["doctor", "--switches", "0"], "no port to check"),
    (["doctor", "--switches", "abc"], "not a number"),
    (["lab"], "no action"),
    (["lab", "check", "9"], "no such lab"),
    (["lab", "start", "99"], "no such lab"),
    (["lab", "check", "abc"], "not a lab number"),
    (["lab", "--labs", "/nonexistent", "list"], "no labs folder"),
    (["view"], "neither --run nor --replay"),
    (["view", "--run", "a", "--replay", "b"], "both"),
    (["view", "--replay", "/nonexistent.json"], "missing recording"),
    (["view", "--run", NO_RUN], "no such run"),
    (["view", "--replay", "/nonexistent.json", "--port", "70000"], "port out of range"),
    (["view", "--replay", "/nonexistent.json", "--interval", "5"], "interval above 1 s"),
    (["view", "--replay", "/nonexistent.json", "--host", "8.8.8.8"], "not loopback"),
    ([*SWITCH, "--no-p4", "--device-id", "-1"], "negative device id"),
    ([*SWITCH, "--no-p4", "--cpu-port", "99999"], "CPU port beyond 9-bit ports"),
    ([*SWITCH, "--no-p4", "--drop-port", "99999"], "drop port beyond 9-bit ports"),
    (["stf", "-I", "tests/stf/include", "tests/stf/table_lpm.p4", "tests/stf/table_lpm.stf",
      "--drop-port=99999"], "drop port beyond 9-bit ports"),
]

class _Hung(BaseException):
    """Not an Exception (nor an OSError, which the dispatcher reports): it must escape."""


def _in_process(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()

    def hung(*_: object) -> None:
        raise _Hung(f"still running after {DEADLINE_S} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(DEADLINE_S)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as done:  # argparse
                code = done.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


def _subprocess(argv: list[str], tmp: Path) -> tuple[int | str, str]:
    """Run to its end, or until it says it is `ready` (it accepted the input) or the
    deadline passes; stdout and stderr in one stream, in order."""
    env = {**os.environ, "FABRICLAB_RUN_ROOT": str(tmp / "run")}
    proc = subprocess.Popen([sys.executable, "-m", "fabriclab", *argv], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    out, deadline, verdict = b"", time.monotonic() + DEADLINE_S, None
    try:
        while verdict is None:
            if not select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                verdict = f"kept running for {DEADLINE_S} s"
            elif not (chunk := os.read(proc.stdout.fileno(), 65536)):
                verdict = proc.wait()
            elif b"ready" in (out := out + chunk):
                verdict = "accepted it: ready"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    return verdict, out.decode(errors="replace")


def _check(argv: list[str], tmp: Path) -> None:
    argv = [a.format(tmp=tmp, port=_free_port()) for a in argv]
    run = _subprocess if argv[0] in SERVES else lambda a, _: _in_process(a)
    code, err = run(argv, tmp)
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    said = f"fabriclab {' '.join(argv)} -> {code}, stderr:\n{err[-2000:]}"
    assert code == 2, said
    assert "Traceback" not in err, said
    assert len(errors) == 1 and lines[-1] == errors[0], said
    assert errors[0].startswith(f"fabriclab {argv[0]}"), said


@pytest.mark.parametrize("argv", [c[0] for c in CASES], ids=[f"{c[0][0]}: {c[1]}" for c in CASES])
def test_bad_input_is_one_line_and_exit_2(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    _check(argv, tmp_path)


def test_every_command_has_bad_input_cases():
    covered = {argv[0] for argv, _ in CASES}
    assert set(cli.COMMANDS) <= covered, sorted(set(cli.COMMANDS) - covered)


def test_no_command_at_all_is_exit_2():
    code, err = _in_process([])
    assert code == 2 and "Traceback" not in err
    code, err = _in_process(["no-such-command"])
    assert code == 2 and "invalid choice" in err


def test_sigusr1_prints_where_a_command_is():
    """`kill -USR1 PID` on any fabriclab command prints its threads' stacks (faulthandler),
    so a command that hangs says where, and keeps running."""
    code = ("import os, signal, time\nfrom fabriclab import cli\n"
            "try:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
            "os.kill(os.getpid(), signal.SIGUSR1)\ntime.sleep(0.2)\nprint('still here')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0 and "still here" in done.stdout
    assert "most recent call first" in done.stderr and "<string>" in done.stderr
