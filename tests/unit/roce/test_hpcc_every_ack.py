"""HPCC asks for an ACK on every data packet (the reference simulator's L2_ACK_INTERVAL 1).

With ACKs every Nth packet, an ACK that shrank W below the bytes still in flight left a QP
whose newest packets had asked for none: no ACK could come, no timer ran, and the run
stalled. This all-to-all (8 ranks, 7:1 incast on a leaf-spine, base RTT 400 us: a window of
a few packets) stopped at 98 simulated ms with every rank unfinished."""

import json

from fabriclab.cli import main


def test_hpcc_all_to_all_with_a_few_packet_window_finishes(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["collective", "alltoall", "--sim", "8", "--topology", "leaf-spine", "--leaves", "2",
                 "--spines", "2", "--hosts-per-leaf", "4", "--size", "64K", "--cc", "hpcc",
                 "--base-rtt", "4e-4", "--iters", "2", "--warmup", "0", "--json", str(out)]) == 0
    capsys.readouterr()
    run = json.loads(out.read_text())["runs"][0]
    assert run["row"]["wrong"] == 0
    for rank in run["ranks"]:
        assert rank["done"] and rank["error"] is None
        qp = rank["qp"]
        assert qp["timeouts"] == 0
        assert qp["acks_sent"] == qp["packets_sent"]  # as many data packets in as out, each ACKed
