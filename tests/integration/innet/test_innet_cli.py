"""`fabriclab collective allreduce --algo innet` in virtual time (no root): nccl-tests output
with #wrong 0, iterations that reuse the job, loss recovered by the chunk timers, and the
input it refuses (one line, exit 2 through the CLI)."""

from __future__ import annotations

import argparse

import pytest

from fabriclab.errors import FabricError
from fabriclab.launch import cli


def collective(capsys, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    code = cli.main(parser.parse_args(["allreduce", "--algo", "innet", *argv]))
    return code, capsys.readouterr().out


def row(out: str, size: int) -> list[str]:
    (line,) = [ln for ln in out.splitlines() if ln.split()[:1] == [str(size)]]
    return line.split()


def test_sim_allreduce_in_the_switch_with_warmup_and_two_sizes(capsys):
    code, out = collective(capsys, "--sim", "4", "--size", "8K:16K", "--rate", "1G",
                           "--iters", "2", "--warmup", "1")
    assert code == 0
    for size in (8192, 16384):
        assert row(out, size)[-1] == "0"                    # #wrong
    assert "retransmissions=0" in out


def test_sim_loss_is_recovered_by_chunk_timers(capsys):
    code, out = collective(capsys, "--sim", "8", "--size", "64K", "--rate", "1G",
                           "--iters", "1", "--warmup", "0", "--loss", "0.01")
    assert code == 0 and row(out, 65536)[-1] == "0"
    retrans = int(out.split("retransmissions=")[1].split()[0])
    assert retrans > 0


@pytest.mark.parametrize("argv, message", [
    (("--netns", "2"), "the --netns bridge cannot"),
    (("--sim", "2", "--dtype", "int32"), "sums float buffers"),
    (("--sim", "2", "--op", "max"), "--op sum"),
])
def test_refused_input(capsys, argv, message):
    with pytest.raises(FabricError, match=message):
        collective(capsys, "--size", "4K", *argv)
