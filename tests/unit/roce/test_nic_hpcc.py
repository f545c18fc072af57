"""INT to the receiver end to end in virtual time: fabric.p4 (INT-to-the-receiver watch
entries written by the controller) puts one record per hop on RoCE data packets, the
receiving NIC echoes the stack in its ACKs, and an HPCC sender's window follows it."""

from __future__ import annotations

import pytest

from controller.fabric_plan import Watch
from fabriclab.errors import FabricError
from fabriclab.roce import framing as f
from fabriclab.roce.hpcc import HpccParams, HpccReactionPoint
from fabriclab.roce.nic import NicConfig, RoceNic
from fabriclab.roce.qp import QpConfig
from fabriclab.vtime.fabric import Fabric
from topologies.builders import leaf_spine

RATE = 1e9
RKEY, VA = 0x77, 0
MESSAGE = 96 << 10


def recording(nic: RoceNic, log: list) -> None:
    """Keep (destination port, payload) of every datagram the NIC receives."""
    receive = nic.receive

    def wrapped(payload, src_ip, src_port, ce, now, dst_port=None):
        log.append((dst_port, payload))
        receive(payload, src_ip, src_port, ce, now, dst_port)

    nic.receive = wrapped


def transfer(cc: str = "hpcc", watch: bool = True):
    topo = leaf_spine(2, 1, 1, downlink_bw=1000.0, delay_us=2)
    fabric = Fabric(topo, seed=1)
    ep_a, ep_b = fabric.endpoint("h1"), fabric.endpoint("h2")
    if watch:  # data toward h2 only: its ACKs back to h1 travel without INT
        fabric.controller.set_watchlist([Watch(dst=ep_b.ip, dport=f.ROCE_PORT, to_host=True)])
    qp_cfg = QpConfig(window=64)
    hpcc = HpccParams(RATE, base_rtt_ns=20_000, min_interval_ns=2_000)
    a = RoceNic(NicConfig(ep_a.ip, line_rate=RATE, qp=qp_cfg, hpcc=hpcc, cc=cc))
    b = RoceNic(NicConfig(ep_b.ip, line_rate=RATE, qp=qp_cfg))
    b.register(RKEY, MESSAGE)
    data = bytes(i % 251 for i in range(MESSAGE))
    a.connect(0x10, ep_b.ip, 0x20)
    b.connect(0x20, ep_a.ip, 0x10)
    at_a, at_b = [], []
    recording(a, at_a)
    recording(b, at_b)
    ep_a.attach(a)
    ep_b.attach(b)
    a.qp(0x10).post_write(1, data, VA, RKEY)
    ep_a.kick()
    fabric.run(until_ns=50_000_000, stop=lambda: not a.qp(0x10).busy)
    assert not a.qp(0x10).busy and bytes(b.regions[RKEY]) == data
    return fabric, a, b, at_a, at_b


def test_int_reaches_the_receiver_one_record_per_hop_and_the_ack_echoes_it():
    fabric, a, b, at_a, at_b = transfer()
    stacks = [f.split_int(p)[0] for port, p in at_b if port == f.INT_UDP_PORT]
    assert stacks and len(stacks) == b.counters.int_received == b.counters.rx_packets
    ids = {name: i + 1 for i, name in enumerate(n.name for n in fabric.topo.switches())}
    path = [ids["l1"], ids["s1"], ids["l2"]]
    for stack in stacks:
        assert [r["switchId"] for r in stack.records] == path  # one record per hop, in order
        assert [r["rateMbps"] for r in stack.records] == [1000, 1000, 1000]
        assert stack.declared == 3
    tx = [s.records[0]["txBytes"] for s in stacks]
    assert tx == sorted(tx) and tx[-1] > tx[0]  # the first hop's port counter grows
    echoes = [f.decode(p[:-f.ICRC_LEN]).payload for port, p in at_a if port == f.ROCE_PORT]
    echoes = [e for e in echoes if e]
    raws = {s.raw for s in stacks}
    assert echoes and all(e in raws for e in echoes)  # ACKs carry stacks B received
    assert b.counters.int_echoed == len(echoes)
    rp = a.reaction_point(0x10)
    assert isinstance(rp, HpccReactionPoint)
    assert rp.counters.updates > 0 and rp.counters.malformed == rp.counters.truncated == 0
    assert a.counters.int_malformed == 0


def test_tx_bytes_count_every_byte_each_port_sent_int_included():
    """HPCC's txRate is (txBytes - txBytes') / dt: each hop's counter must grow by what the
    port put on the wire, the INT bytes that hop added included, or a saturated link reads
    below line rate. Every data packet here takes the one path, so between two consecutive
    packets a hop's counter grows by the first one's length as it left that hop."""
    _, _, _, _, at_b = transfer()
    got = [(p, f.split_int(p)[0]) for port, p in at_b if port == f.INT_UDP_PORT]
    hops = len(got[0][1].records)
    for (payload, stack), (_, later) in zip(got, got[1:]):
        arrived = 14 + 20 + 8 + len(payload)  # the frame as the receiver got it
        for j in range(hops):  # records in path order; hop j's frame lacks later hops' records
            left = arrived - (hops - 1 - j) * f.INT_CC_HOP_LEN
            assert (later.records[j]["txBytes"] - stack.records[j]["txBytes"]) % (1 << 32) == left


def test_without_a_watch_entry_nothing_is_echoed_and_hpcc_sees_no_telemetry():
    _, a, b, _, _ = transfer(watch=False)
    assert b.counters.int_received == b.counters.int_echoed == 0
    rp = a.reaction_point(0x10)
    assert rp.counters.no_telemetry == rp.counters.acks > 0 and rp.window == rp.p.w_init


def test_cc_is_chosen_per_qp_and_bad_choices_are_errors():
    nic = RoceNic(NicConfig("10.0.0.1", hpcc=HpccParams(RATE, 10_000)))
    nic.connect(1, "10.0.0.2", 1)
    nic.connect(2, "10.0.0.2", 2, cc="dcqcn")
    nic.connect(3, "10.0.0.2", 3, cc="none")
    kinds = [type(nic.reaction_point(q)).__name__ for q in (1, 2, 3)]
    assert kinds == ["HpccReactionPoint", "ReactionPoint", "NoneType"]
    with pytest.raises(FabricError, match="one of none, dcqcn, hpcc"):
        NicConfig("10.0.0.1", cc="timely")
    with pytest.raises(FabricError, match="HPCC parameters"):
        NicConfig("10.0.0.1", cc="hpcc")
    with pytest.raises(FabricError, match="one of"):
        nic.connect(4, "10.0.0.2", 4, cc="bbr")


def test_bad_int_is_counted_and_ignored():
    nic = RoceNic(NicConfig("10.0.0.1", hpcc=HpccParams(RATE, 10_000)))
    nic.connect(1, "10.0.0.2", 1)
    nic.receive(b"\x14\x04", "10.0.0.2", 50000, False, 0, f.INT_UDP_PORT)  # shorter than shim + md
    nic.receive(bytes(40), "10.0.0.2", 50000, False, 0, f.INT_UDP_PORT)  # not INT-MD
    assert nic.counters.int_malformed == 2 and nic.counters.rx_packets == 2


def test_a_switch_generated_cnp_slows_the_dcqcn_sender_of_that_flow():
    """fabric.p4's notification: CNP for the peer's QP, from the peer's address, no ICRC."""
    from fabriclab.roce.dcqcn import DcqcnParams

    nic = RoceNic(NicConfig("10.0.0.1", line_rate=RATE, dcqcn=DcqcnParams(RATE)))
    nic.connect(1, "10.0.0.2", 0x20)
    nic.connect(2, "10.0.0.3", 0x20)
    cnp = bytearray(f.encode(f.RocePacket(f.CNP, 0x20, 0, becn=True)) + b"JUNK")
    cnp[4] |= f.BTH_FROM_SWITCH
    nic.receive(bytes(cnp), "10.0.0.2", 50000, False, 1000)
    assert nic.counters.switch_cnps == 1 and nic.counters.icrc_errors == 0
    assert nic.rate(1) < RATE and nic.rate(2) == RATE
    nic.receive(bytes(cnp), "10.0.0.9", 50000, False, 2000)  # no QP toward that peer
    assert nic.counters.unknown_qp == 1


def test_the_nic_honours_pfc_pauses_for_its_data_priority():
    from fabriclab.switch import pfc

    nic = RoceNic(NicConfig("10.0.0.1", line_rate=RATE, pfc_priority=0))
    nic.connect(1, "10.0.0.2", 0x20)
    nic.qp(1).post_send(1, bytes(4096))
    mac = bytes(6)
    assert nic.receive_mac_control(pfc.encode(mac, {0: 0xFFFF}), 0)
    assert nic.poll(0) == [] and nic.next_wakeup() == pfc.pause_ns(0xFFFF, RATE)
    assert not nic.receive_mac_control(bytes(60), 10)  # not MAC control: for the stack
    assert nic.receive_mac_control(pfc.encode(mac, {0: 0}), 1000)  # XON
    assert nic.poll(1000)  # data flows again
    other = RoceNic(NicConfig("10.0.0.1", line_rate=RATE, pfc_priority=0))
    other.connect(1, "10.0.0.2", 0x20)
    other.qp(1).post_send(1, bytes(4096))
    other.receive_mac_control(pfc.encode(mac, {3: 0xFFFF}), 0)  # another priority
    assert other.poll(0) and other.link_pause.ignored == 1


def _echo(records: int, declared: int | None = None) -> bytes:
    """An INT-to-the-receiver stack as a receiver echoes it (records of switch i, port 1)."""
    import struct

    declared = records if declared is None else declared
    shim = struct.pack("!BBH", 1 << 4 | 1 << 2, 4 + 6 * declared, f.ROCE_PORT)
    md = struct.pack("!IHHHH", 2 << 28 | 6 << 8, f.INT_CC_INSTRUCTIONS, 0, 0, 0)
    hops = b"".join(struct.pack("!IHHIIII", i + 1, 1, 0, 100_000, 0, 1000 * i, 5000 * i)
                    for i in range(records))
    return shim + md + hops


@pytest.mark.parametrize("echo, counter", [
    (_echo(2, declared=3), "truncated"),
    (_echo(9), "too_many_hops"),
    (b"", "no_telemetry"),
])
def test_bad_echoes_are_counted_and_ignored_by_hpcc(echo, counter):
    nic = RoceNic(NicConfig("10.0.0.1", line_rate=RATE, hpcc=HpccParams(RATE, 10_000)))
    qp = nic.connect(1, "10.0.0.2", 0x20)
    qp.post_send(1, bytes(1024))
    nic.poll(0)
    ack = f.RocePacket(f.ACKNOWLEDGE, 1, 0, payload=echo, syndrome=f.AETH_ACK)
    nic.receive(f.frame(ack, "10.0.0.2", "10.0.0.1", 50000), "10.0.0.2", 50000, False, 1000)
    rp = nic.reaction_point(1)
    assert getattr(rp.counters, counter) == 1 and rp.window == rp.p.w_init
    assert not qp.busy  # the ACK itself still counts


@pytest.mark.parametrize("mode", ["gbn", "ooo"])
@pytest.mark.parametrize("drop", [0, 2])
def test_a_loss_under_a_full_hpcc_window_is_resent(mode, drop):
    """Two wedges of a lost packet under HPCC's window (`collective --cc hpcc --loss` never
    finished). Drop 0: the packets after it fill W, the NAK (gbn) or the timeout (ooo) goes
    back, and the resend must leave: the window counts what go-back-N resends as lost (it
    counted every packet up to the highest sent, so W stayed full). Drop 2: the packet that
    fills W is the only one asking for an ACK: the timer must cover it (the NIC set its AckReq
    after the QP had built it, so no timer ran and nothing ever moved)."""
    params = HpccParams(RATE, 20_000)  # W = 2500 B: under three 1 KiB packets
    cfg = dict(line_rate=RATE, qp=QpConfig(window=64, rto_ns=200_000, mode=mode), hpcc=params, cc="hpcc")
    a, b = RoceNic(NicConfig("10.0.0.1", **cfg)), RoceNic(NicConfig("10.0.0.2", **cfg))
    b.register(RKEY, MESSAGE)
    a.connect(1, b.cfg.ip, 2).post_write(1, bytes(range(256)) * (MESSAGE // 256), VA, RKEY)
    b.connect(2, a.cfg.ip, 1)
    dropped, now = 0, 0
    while not a.completions and now < 100_000_000:
        for src, dst in ((a, b), (b, a)):
            for dg in src.poll(now):
                if src is a:
                    dropped += 1
                    if dropped == drop + 1:
                        continue  # data packet `drop` is lost
                dst.receive(dg.payload, src.cfg.ip, dg.sport, False, now)
        now += 1_000
    assert [c.wr_id for _, c in a.completions] == [1]
    assert bytes(b.regions[RKEY]) == bytes(range(256)) * (MESSAGE // 256)
    assert a.qp(1).counters.retransmissions >= 1
