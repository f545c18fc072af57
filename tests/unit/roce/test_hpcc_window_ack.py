"""An HPCC window closed with no ACK asked for lets one packet go, asking for one.

ACKs are asked for every Nth packet. An ACK that shrank W below the bytes still in flight,
when the newest of those had asked for none, left a QP with no ACK to come and no timer to
run: the run stalled. This all-to-all (8 ranks, 7:1 incast on a leaf-spine, base RTT 400 us:
a window of a few packets) stopped at 98 simulated ms with every rank unfinished."""

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
        assert rank["qp"]["timeouts"] == 0
        assert rank["qp"]["acks_sent"] < rank["qp"]["packets_sent"]  # ACKs still coalesced
