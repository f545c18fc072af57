"""The view's sans-I/O core: tier layout, per-direction load from counters, peak queues,
the 60 s history and INT paths from collector rows."""

from __future__ import annotations

import csv
import io

from controller.fabric import PortStats
from controller.int_collector import CsvLog, HopRecord, IntReport
from fabriclab.view.live import TAIL_BYTES, tail_rows
from fabriclab.view.model import FrameMaker, Snapshot, SwitchSettings, direction_id, graph, int_paths
from topologies.builders import leaf_spine, multi_site

S = 10**9


def test_graph_lays_out_tiers_top_down_and_sites_side_by_side():
    topo = multi_site(sites=2, leaves=2, spines=2, hosts_per_leaf=1, borders=1)
    g = graph(topo)
    y = {n["id"]: n["y"] for n in g["nodes"]}
    kind = {n["id"]: n["kind"] for n in g["nodes"]}
    by_kind = lambda k: {y[n] for n in y if kind[n] == k}
    (border_y,), (spine_y,), (leaf_y,), (host_y,) = (by_kind(k) for k in ("border", "spine", "leaf", "host"))
    assert border_y < spine_y < leaf_y < host_y
    x_site = {}
    for n in g["nodes"]:
        x_site.setdefault(n["site"], []).append(n["x"])
    assert max(x_site[0]) < min(x_site[1])  # site 0 left of site 1, no overlap
    assert len(g["links"]) == len(topo.links)
    assert all(len(link["dirs"]) == 2 for link in g["links"])


def test_load_is_percent_of_the_direction_rate_from_switch_and_host_counters():
    topo = leaf_spine(1, 1, 2, downlink_bw=10.0)  # 10 Mb/s links
    maker = FrameMaker(topo)
    (i_h1,) = [i for i, ln in enumerate(topo.links) if "h1" in (ln.a, ln.b)]
    ln = topo.links[i_h1]
    host_dir, switch_dir = (f"{i_h1}:ab", f"{i_h1}:ba") if ln.a == "h1" else (f"{i_h1}:ba", f"{i_h1}:ab")
    sw, port = (ln.b, ln.b_port) if ln.a == "h1" else (ln.a, ln.a_port)
    first = maker.add(Snapshot(0, {(sw, port): PortStats()}))
    assert first["loads"] == {}  # one sample gives no rate yet
    # 1 s later: 1.25 MB received from h1 (100 % of 10 Mb/s), 0.3125 MB sent to it (25 %)
    frame = maker.add(Snapshot(S, {(sw, port): PortStats(rx_bytes=1_250_000, tx_bytes=312_500,
                                                         max_qdepth=7, drops=2)},
                               qdepth={(sw, port): 3}, switches={sw: SwitchSettings("adaptive", "5-40")}))
    assert frame["loads"][host_dir] == {"bps": 10e6, "pct": 100.0}
    assert frame["loads"][switch_dir] == {"bps": 2.5e6, "pct": 25.0}
    assert frame["ports"][f"{sw}:{port}"] == {"q": 3, "qmax": 7, "drops": 2, "ecn": 0}
    assert frame["switches"][sw] == {"mode": "adaptive", "ecn": "5-40"}
    # the register's peak can be unreadable (BMv2): the sampled queues still give one
    frame = maker.add(Snapshot(2 * S, {(sw, port): PortStats(rx_bytes=1_250_000, tx_bytes=312_500,
                                                             max_qdepth=None)}, qdepth={(sw, port): 9}))
    assert frame["ports"][f"{sw}:{port}"]["qmax"] == 9
    assert frame["loads"][host_dir]["pct"] == 0.0


def test_each_switch_rate_uses_its_own_read_time():
    """Live reads go switch after switch: a switch read 0.25 s late has a longer interval."""
    topo = leaf_spine(2, 1, 1, downlink_bw=10.0)
    maker = FrameMaker(topo)
    l1_h1 = direction_id(topo, "l1", "h1")
    l2_h2 = direction_id(topo, "l2", "h2")
    p1, p2 = topo.links[int(l1_h1.split(":")[0])], topo.links[int(l2_h2.split(":")[0])]
    port1, port2 = p1.port_of("l1"), p2.port_of("l2")
    maker.add(Snapshot(0, {("l1", port1): PortStats(), ("l2", port2): PortStats()},
                       read_ns={"l1": 0, "l2": 0}))
    frame = maker.add(Snapshot(S, {("l1", port1): PortStats(tx_bytes=625_000),
                                   ("l2", port2): PortStats(tx_bytes=781_250)},
                               read_ns={"l1": S, "l2": S + S // 4}))
    assert frame["loads"][l1_h1]["pct"] == 50.0  # 5 Mb in 1 s
    assert frame["loads"][l2_h2]["pct"] == 50.0  # 6.25 Mb in 1.25 s, not 62.5 %


def test_history_keeps_sixty_seconds():
    topo = leaf_spine(1, 1, 1)
    maker = FrameMaker(topo)
    for t in range(0, 100):
        maker.add(Snapshot(t * S, {}))
    assert [f["t"] for f in maker.frames][0] == 39.0 and maker.frames[-1]["t"] == 99.0


def test_int_paths_from_collector_rows_skip_torn_lines():
    text = ("recv_time_s,reporter,seq,src,dst,sport,dport,hop,switch_id\n"
            "1.0,3,1,10.0.1.1,10.0.2.1,5,9,1,3\n"
            "1.0,3,1,10.0.1.1,10.0.2.1,5,9,0,1\n"
            "1.1,3,2,10.0.1.1,10.0.2.1,5,9,0,1\n"
            "1.1,3,2,10.0.1.1,10.0.2.1,5,9,1,4\n"
            "1.2,3,3,10.0.1.1,10.0.2.1,5,9,0,x\n")
    rows = csv.DictReader(io.StringIO(text))
    names = {1: "l1", 3: "s1", 4: "s2"}
    hosts = {"10.0.1.1": "h1", "10.0.2.1": "h3"}
    assert int_paths(rows, names, hosts, last=8) == [["h1", "l1", "s1", "h3"], ["h1", "l1", "s2", "h3"]]
    rows = csv.DictReader(io.StringIO(text))
    assert int_paths(rows, names, hosts, last=1) == [["h1", "l1", "s2", "h3"]]
    rows = csv.DictReader(io.StringIO(text))
    assert int_paths(rows, names, hosts, last=0) == []


def test_a_growing_collector_csv_is_read_from_its_tail(tmp_path):
    """A running collector's CSV grows without end: each sample reads only its last bytes,
    whole lines under the header, and gets the same last paths as a full read."""
    path = tmp_path / "int.csv"
    log = CsvLog(path)
    for seq in range(3000):
        hops = (HopRecord(1, 1, 3, 5, 0, 2, 100, 0), HopRecord(3 + seq % 2, 1, 2, 5, 0, 1, 100, 0))
        log.add(1000.0 + seq, IntReport(1, seq, 0, "10.0.1.1", "10.0.2.1", 50000, 4791, hops, False))
    log.close()
    assert path.stat().st_size > 5 * TAIL_BYTES
    tail = tail_rows(path, TAIL_BYTES)
    assert 0 < len(tail) < 2000 and tail[-1]["seq"] == "2999" and tail[0]["hop"] in ("0", "1")
    names, hosts = {1: "l1", 3: "s1", 4: "s2"}, {"10.0.1.1": "h1", "10.0.2.1": "h3"}
    with path.open(newline="") as f:
        whole = int_paths(csv.DictReader(f), names, hosts, last=8)
    assert int_paths(tail, names, hosts, last=8) == whole and whole[-1] == ["h1", "l1", "s2", "h3"]
