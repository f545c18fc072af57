"""`fabriclab collective` in virtual time (no root) and its error messages."""

import json

import pytest

from fabriclab.cli import main


def test_sim_prints_an_nccl_tests_table(capsys, tmp_path):
    out = tmp_path / "r.json"
    assert main(["collective", "reduce_scatter", "--sim", "3", "--size", "48K", "--iters", "2", "--dtype", "int",
                 "--op", "max", "--json", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "reducescatter: 3 ranks" in lines[0] and "busbw" in lines[2]
    size, count, dtype, op, time_us, algbw, busbw, wrong = lines[4].split()
    assert (size, count, dtype, op, wrong) == ("49152", "12288", "int", "max", "0")
    assert float(busbw) == pytest.approx(float(algbw) * 2 / 3, abs=0.01)  # printed to 2 decimals
    assert "(Mb/s)" in lines[3]  # the largest bit rate unit the row reaches
    saved = json.loads(out.read_text())["runs"][0]
    assert [r["rank"] for r in saved["ranks"]] == [0, 1, 2] and saved["row"]["wrong"] == 0
    assert lines[-1].startswith("# retransmissions=") and "Out of bounds values : 0 OK" in lines[-3]


def test_size_sweep_prints_one_row_per_size(capsys):
    assert main(["collective", "alltoall", "--sim", "4", "--size", "16K:64K", "--iters", "1"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    assert [int(r[0]) for r in rows] == [16384, 32768, 65536] and all(r[-1] == "0" for r in rows)


def test_sim_with_loss_still_correct(capsys):
    assert main(["collective", "allgather", "--sim", "4", "--size", "32K", "--iters", "1", "--loss", "0.02",
                 "--mode", "ooo", "--rto", "0.002"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[4].split()[-1] == "0" and "retransmissions=0" not in out


@pytest.mark.parametrize("argv,msg", [
    (["collective", "allreduce"], "say where the ranks run"),
    (["collective", "broadcast", "--sim", "2"], "unknown collective"),
    (["collective", "allreduce", "--sim", "2", "--size", "1X"], "--size: unknown size unit 'x' in '1X'"),
    (["collective", "allreduce", "--sim", "2", "--size", "1M:64K"], "ends below"),
    (["collective", "allreduce", "--sim", "2", "--rate", "fast"], "--rate: 'fast' is not a rate"),
    (["collective", "allreduce", "--sim", "4", "--size", "8"], "too small"),
    (["collective", "allreduce", "--sim", "2", "--pcap", "/tmp/x"], "--pcap works with --netns"),
    (["collective", "allreduce", "--hosts", "127.0.0.1:x"], "bad address"),
    (["collective", "allreduce", "--hosts", "127.0.0.1", "--loss", "0.1"], "use them with --sim"),
    (["collective", "allreduce", "--sim", "2", "--ecn", "50K:5K"], "KMIN <= KMAX"),
    (["collective", "allreduce", "--sim", "2", "--ecn", "5K"], "bad --ecn"),
    (["collective", "allreduce", "--run", "no-such-run-here"], "no running network"),
])
def test_bad_input_is_a_clear_error(capsys, argv, msg):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_incast_with_ecn_and_dcqcn_sends_cnps_and_loses_less(capsys):
    def gather(*extra):
        assert main(["collective", "gather", "--sim", "6", "--size", "512K", "--iters", "1", "--queue", "128K",
                     *extra]) == 0
        out = capsys.readouterr().out
        return {k: int(v) for k, v in (kv.split("=") for kv in out.splitlines()[-1][2:].split())}

    plain = gather()
    dcqcn = gather("--ecn", "5K:50K:0.1", "--dcqcn-rtt", "2e-4")
    assert plain["cnps"] == 0 and dcqcn["cnps"] > 0
    assert dcqcn["retransmissions"] * 2 < plain["retransmissions"]
