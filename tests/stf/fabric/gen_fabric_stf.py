"""Writes the fabric.p4 STF tests into this directory (or the one given): run it after
changing the INT format or the test setup: `.venv/bin/python tests/stf/fabric/gen_fabric_stf.py`.

Expected packets are built here from the formats in p4src/fabric/headers.p4 with scapy
and struct, and the ECMP choice from CRC-16/ARC over the selector fields, as BMv2 does;
`*` nibbles cover the timestamps, which depend on the runner's clock.
"""

from __future__ import annotations

import pathlib
import struct

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

HERE = pathlib.Path(__file__).resolve().parent
H1, H2 = ("10.0.1.1", "02:00:0a:00:01:01"), ("10.0.1.2", "02:00:0a:00:01:02")
REMOTE = "10.0.2.1"
PORT_MACS = {1: ("02:01:00:02:00:01", H1[1]), 2: ("02:01:00:02:00:02", H2[1]),
             3: ("02:01:00:02:00:03", "02:01:00:00:00:01"),
             4: ("02:01:00:02:00:04", "02:01:00:01:00:01")}
INT_PORT, ROCE_PORT = 9099, 4791
SWITCH_ID = 3

SETUP = """\
# A leaf: hosts 10.0.1.1 on port 1 and 10.0.1.2 on port 2, spines on ports 3 and 4;
# 10.0.2.0/24 is reached through the ECMP group {3, 4}. Eight queues per port, as
# `fabriclab net` starts its switches (simple_switch --priority-queues 8).
priority_queues 8
member ecmp_selector 1 set_port(port:1)
member ecmp_selector 2 set_port(port:2)
member ecmp_selector 3 set_port(port:3)
member ecmp_selector 4 set_port(port:4)
group ecmp_selector 10 3 4
group ecmp_selector 11 1
group ecmp_selector 12 2
add ipv4_routes hdr.ipv4.dstAddr:0x0a0002** set_group(group:10)
add ipv4_routes hdr.ipv4.dstAddr:0x0a000101 set_group(group:11)
add ipv4_routes hdr.ipv4.dstAddr:0x0a000102 set_group(group:12)
add ecmp_groups meta.group:10 group(10)
add ecmp_groups meta.group:11 group(11)
add ecmp_groups meta.group:12 group(12)
add group_candidates meta.group:10 set_candidates(count:2, p0:3, p1:4, p2:0, p3:0, p4:0, p5:0, p6:0, p7:0)
add group_candidates meta.group:11 set_candidates(count:1, p0:1, p1:0, p2:0, p3:0, p4:0, p5:0, p6:0, p7:0)
""" + "".join(
    f"add port_macs standard_metadata.egress_port:{p} set_port_macs("
    f"smac:0x{s.replace(':', '')}, dmac:0x{d.replace(':', '')})\n"
    for p, (s, d) in PORT_MACS.items())


def crc16_arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def ecmp_port(src: str, dst: str, proto: int, sport: int, dport: int) -> int:
    """Member (port 3 or 4) the selector picks: crc16 over the selector fields % 2."""
    data = (bytes(map(int, src.split("."))) + bytes(map(int, dst.split(".")))
            + struct.pack("!BHH", proto, sport, dport))
    return (3, 4)[crc16_arc(data) % 2]


def hx(pkt) -> str:
    return bytes(pkt).hex().upper()


def udp_pkt(src, dst, sport, dport=5000, ttl=64, tos=0, payload=b"fabriclab-stf-payload",
            smac=H1[1], dmac=PORT_MACS[1][0]):
    return (Ether(src=smac, dst=dmac) / IP(src=src, dst=dst, ttl=ttl, tos=tos, id=1)
            / UDP(sport=sport, dport=dport) / Raw(payload))


def routed(pkt, port: int):
    """What the switch sends on `port`: MACs of that port, TTL - 1, fresh IP checksum."""
    out = pkt.copy()
    out[Ether].src, out[Ether].dst = PORT_MACS[port]
    out[IP].ttl -= 1
    del out[IP].chksum
    return out


def bth(opcode=0x04, qp=0x12, psn=7) -> bytes:
    return struct.pack("!BBHII", opcode, 0, 0xFFFF, qp, psn)


def hop(switch, inp, outp, qdepth=0, tx=0, latency=0, ts=0) -> bytes:
    return struct.pack("!IHHIIII", switch, inp, outp, latency, qdepth, ts, tx)


def cc_hop(switch, outp, rate_mbps=0, qlen=0, tx=0, ts=0) -> bytes:
    """An INT-to-the-receiver record (int_cc_hop_t)."""
    return struct.pack("!IHHIIII", switch, outp, 0, rate_mbps, qlen, ts, tx)


INT_INSTRUCTIONS, INT_CC_INSTRUCTIONS = 0xF500, 0xA701


def int_headers(orig_dport: int, hops: list[bytes], instructions: int = INT_INSTRUCTIONS) -> bytes:
    n = len(hops)
    shim = struct.pack("!BBH", 1 << 4 | 1 << 2, 4 + 6 * n, orig_dport)
    md = struct.pack("!IHHHH", 2 << 28 | 6 << 8 | (6 - n), instructions, 0, 0, 0)
    return shim + md + b"".join(hops)


def with_int(src, dst, sport, orig_dport, hops, payload, ttl=64, smac=None, dmac=None,
             instructions=INT_INSTRUCTIONS, tos=0):
    """A UDP packet carrying INT (UDP checksum 0 as the source switch leaves it)."""
    body = int_headers(orig_dport, hops, instructions) + payload
    return (Ether(src=smac or PORT_MACS[3][1], dst=dmac or PORT_MACS[3][0])
            / IP(src=src, dst=dst, ttl=ttl, id=1, tos=tos)
            / UDP(sport=sport, dport=INT_PORT, chksum=0)
            / Raw(body))


def wild(hexstr: str, byte_offset: int, nbytes: int) -> str:
    """Replace bytes [offset, offset + n) of a hex string by wildcards."""
    return hexstr[:2 * byte_offset] + "*" * (2 * nbytes) + hexstr[2 * (byte_offset + nbytes):]


def wild_hop_times(hexstr: str, hop_offset: int) -> str:
    """Wildcard hop latency and egress timestamp of the record at `hop_offset`."""
    return wild(wild(hexstr, hop_offset + 8, 4), hop_offset + 16, 4)


def forwarding() -> str:
    to_h1 = udp_pkt("10.0.2.1", H1[0], 50000, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    roce = (Ether(src=PORT_MACS[3][1], dst=PORT_MACS[3][0]) / IP(src="10.0.2.1", dst=H1[0], id=1)
            / UDP(sport=50001, dport=ROCE_PORT, chksum=0)
            / Raw(bth(opcode=0x0A) + struct.pack("!QII", 0x1000, 0x77, 64) + b"\x00" * 64
                  + b"ICRC"))
    tcp = (Ether(src=PORT_MACS[3][1], dst=PORT_MACS[3][0]) / IP(src="10.0.2.1", dst=H2[0], id=1)
           / TCP(sport=40000, dport=80, flags="S"))
    ttl1 = udp_pkt("10.0.2.1", H1[0], 50000, ttl=1, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    unknown = udp_pkt(H1[0], "192.168.0.1", 50000)
    bad_csum = udp_pkt("10.0.2.1", H1[0], 50000, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    bad_csum = Ether(bytes(bad_csum))
    bad_csum[IP].chksum ^= 0x0101
    options = (Ether(src=PORT_MACS[3][1], dst=PORT_MACS[3][0])
               / IP(src="10.0.2.1", dst=H1[0], options=b"\x01\x01\x01\x00") / UDP() / Raw(b"x"))
    arp_req = Ether(src=H1[1], dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=H1[1], psrc=H1[0], hwdst="00:00:00:00:00:00", pdst="10.0.1.254")
    arp_rep = Ether(src=PORT_MACS[1][0], dst=H1[1]) / ARP(
        op=2, hwsrc=PORT_MACS[1][0], psrc="10.0.1.254", hwdst=H1[1], pdst=H1[0])
    return f"""{SETUP}
# Routed to a host: MACs of port 1, TTL 64 -> 63, checksum recomputed.
packet 3 {hx(to_h1)}
expect 1 {hx(routed(to_h1, 1))}$
# RoCEv2 RDMA WRITE only (BTH + RETH) and TCP go through unchanged apart from L2/L3.
packet 3 {hx(roce)}
expect 1 {hx(routed(roce, 1))}$
packet 3 {hx(tcp)}
expect 2 {hx(routed(tcp, 2))}$
# Dropped: TTL 1, no route, bad IPv4 checksum, IPv4 options.
packet 3 {hx(ttl1)}
packet 1 {hx(unknown)}
packet 3 {hx(bad_csum)}
packet 3 {hx(options)}
# ARP requests get the port's MAC as the answer (hosts send everything to their leaf).
packet 1 {hx(arp_req)}
expect 1 {hx(arp_rep)}$
check_counter port_rx(3) packets == 6
check_counter port_drops(3) packets == 3
check_counter port_drops(1) packets == 1
check_counter port_tx(1) packets == 3
"""


def ecmp() -> str:
    lines = [SETUP, "# 16 flows differing only in the UDP source port (RoCE entropy) spread over"
             " both uplinks;\n# the member is crc16(selector fields) % 2, as in BMv2."]
    ports = []
    for sport in range(49152, 49168):
        pkt = udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT)
        port = ecmp_port(H1[0], REMOTE, 17, sport, ROCE_PORT)
        ports.append(port)
        lines += [f"packet 1 {hx(pkt)}", f"expect {port} {hx(routed(pkt, port))}$"]
    assert set(ports) == {3, 4}, ports
    pkt = udp_pkt(H1[0], REMOTE, 49152, dport=ROCE_PORT)
    lines += ["# One flow stays on one path.",
              *[f"packet 1 {hx(pkt)}\nexpect {ports[0]} {hx(routed(pkt, ports[0]))}$"
                for _ in range(3)],
              f"check_counter port_tx(3) packets == {ports.count(3) + 3 * (ports[0] == 3)}",
              f"check_counter port_tx(4) packets == {ports.count(4) + 3 * (ports[0] == 4)}"]
    return "\n".join(lines) + "\n"


def ecn() -> str:
    ect0 = udp_pkt("10.0.2.1", H1[0], 50000, tos=0x02, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    plain = udp_pkt("10.0.2.1", H1[0], 50000, tos=0x00, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    ect1 = udp_pkt("10.0.2.1", H1[0], 50000, tos=0x01, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    already = udp_pkt("10.0.2.1", H1[0], 50000, tos=0x03, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    ce = routed(ect0, 1)
    ce[IP].tos = 0x03
    ce1 = routed(ect1, 1)
    ce1[IP].tos = 0x03
    return f"""{SETUP}
# Default: no marking.
packet 3 {hx(ect0)}
expect 1 {hx(routed(ect0, 1))}$
# Kmax 0: every ECN-capable packet, ECT(0) or ECT(1), is above Kmax (the STF queue is
# empty) -> CE; a not-ECT packet is never marked, and one already CE is not marked again
# (nor counted).
setdefault ecn_config ecn_thresholds(kmin:0, kmax:0, slope:0)
packet 3 {hx(ect0)}
expect 1 {hx(ce)}$
packet 3 {hx(ect1)}
expect 1 {hx(ce1)}$
packet 3 {hx(plain)}
expect 1 {hx(routed(plain, 1))}$
packet 3 {hx(already)}
expect 1 {hx(routed(already, 1))}$
check_counter port_ecn_marks(1) packets == 2
# A per-port entry overrides the default: depth 0 is not above Kmin 0, below Kmax 1.
add ecn_config standard_metadata.egress_port:1 ecn_thresholds(kmin:0, kmax:1, slope:65536)
packet 3 {hx(ect0)}
expect 1 {hx(routed(ect0, 1))}$
check_counter port_ecn_marks(1) packets == 2
"""


def modes() -> str:
    sport = next(s for s in range(49152, 50000)
                 if ecmp_port(H1[0], REMOTE, 17, s, ROCE_PORT) == 3)
    pkt = udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT)
    on3, on4 = hx(routed(pkt, 3)), hx(routed(pkt, 4))
    never_stale = "0xffffffffffff"
    return f"""{SETUP}
# ECMP (the default mode): this flow hashes to port 3 whatever the loads.
register_write port_qdepth 3 100
packet 1 {hx(pkt)}
expect 3 {on3}$
# Adaptive: per packet, the candidate with the lower queue depth.
setdefault routing_mode set_mode(mode:2, flowlet_gap:0, load_max_age:{never_stale})
register_write port_qdepth 3 100
packet 1 {hx(pkt)}
expect 4 {on4}$
register_write port_qdepth 4 200
packet 1 {hx(pkt)}
expect 3 {on3}$
# A port that sent nothing for longer than load_max_age (10 s) counts as idle: port 4 sent
# the next packet just now and then has depth 50; port 3's depth 100 is stale, its last
# packet left 2^47 us ago (modulo the 48-bit clock), so it counts as 0 and wins.
setdefault routing_mode set_mode(mode:2, flowlet_gap:0, load_max_age:10000000)
register_write port_qdepth 3 100
register_write port_qdepth 4 0
packet 1 {hx(pkt)}
expect 4 {on4}$
register_write port_qdepth 4 50
register_write port_qdepth 3 100
register_write port_seen 3 140737488355328
packet 1 {hx(pkt)}
expect 3 {on3}$
setdefault routing_mode set_mode(mode:2, flowlet_gap:0, load_max_age:{never_stale})
# A DSCP class can keep ECMP while the switch default is adaptive.
add routing_mode hdr.ipv4.dscp:0 set_mode(mode:0, flowlet_gap:0, load_max_age:0)
register_write port_qdepth 3 100
register_write port_qdepth 4 0
packet 1 {hx(pkt)}
expect 3 {on3}$
remove routing_mode hdr.ipv4.dscp:0
# Flowlet (gap 0.5 s): the first packet picks the less loaded port 4 ...
setdefault routing_mode set_mode(mode:1, flowlet_gap:500000, load_max_age:{never_stale})
register_write port_qdepth 3 100
register_write port_qdepth 4 0
packet 1 {hx(pkt)}
expect 4 {on4}$
# ... and the flow stays there while packets keep coming, even if port 4 gets loaded ...
register_write port_qdepth 3 0
register_write port_qdepth 4 200
packet 1 {hx(pkt)}
expect 4 {on4}$
# ... until a gap longer than 0.5 s starts a new flowlet on the now less loaded port 3.
wait
register_write port_qdepth 4 200
packet 1 {hx(pkt)}
expect 3 {on3}$
"""


def int_test() -> str:
    payload = bth() + b"\x00" * 32 + b"ICRC"
    src_sport = next(s for s in range(49152, 50000)
                     if ecmp_port(H1[0], REMOTE, 17, s, ROCE_PORT) == 3)
    # 1. source: watched flow from h1 gets shim + md + this switch's record
    src_in = udp_pkt(H1[0], REMOTE, src_sport, dport=ROCE_PORT, payload=payload)
    src_out = routed(src_in, 3)
    src_out[UDP].dport, src_out[UDP].chksum = INT_PORT, 0
    src_out[UDP].remove_payload()

    def src_expect(tx: int) -> str:  # tx: the bytes port 3 sent before this packet
        out = src_out / Raw(int_headers(ROCE_PORT, [hop(SWITCH_ID, 1, 3, tx=tx)]) + payload)
        del out[IP].len, out[UDP].len
        return wild_hop_times(hx(Ether(bytes(out))), 14 + 20 + 8 + 16)
    src_hex = src_expect(0)
    src_hex2 = src_expect(len(src_in) + 40)  # the first packet as it left, INT included

    # 2. transit: a packet with one record from switch 4, routed up again
    sport2 = next(s for s in range(49152, 50000)
                  if ecmp_port("10.0.2.9", REMOTE, 17, s, ROCE_PORT) == 4)
    tr_in = with_int("10.0.2.9", REMOTE, sport2, ROCE_PORT, [hop(4, 1, 3, 0, 999, 5, 77)],
                     payload)
    tr_out = with_int("10.0.2.9", REMOTE, sport2, ROCE_PORT,
                      [hop(SWITCH_ID, 3, 4), hop(4, 1, 3, 0, 999, 5, 77)],
                      payload, ttl=63, smac=PORT_MACS[4][0], dmac=PORT_MACS[4][1])
    tr_hex = wild_hop_times(hx(tr_out), 14 + 20 + 8 + 16)

    # 3. sink: INT from two switches arrives for h1 in queue 2 (DSCP 10): h1 gets the
    #    original packet back, the collector (h2, port 2) a report with the sink's record
    #    added, whose qid is the original's queue (a clone's own priority is 0)
    hops_in = [hop(1, 2, 1, 3, 5000, 11, 111), hop(4, 1, 3, 1, 4000, 7, 100)]
    sink_in = with_int("10.0.2.1", H1[0], 50007, ROCE_PORT, hops_in, payload, tos=40)
    plain = (Ether(src=PORT_MACS[1][0], dst=H1[1])
             / IP(src="10.0.2.1", dst=H1[0], ttl=63, id=1, tos=40)
             / UDP(sport=50007, dport=ROCE_PORT, chksum=0) / Raw(payload))
    inner = with_int("10.0.2.1", H1[0], 50007, ROCE_PORT,
                     [hop(SWITCH_ID, 3, 1, qdepth=2 << 24)] + hops_in, payload, tos=40)
    inner_b = bytes(inner)
    report = (Ether(src=PORT_MACS[2][0], dst=PORT_MACS[2][1])
              / IP(src="10.255.0.3", dst=H2[0], ttl=64, id=0, flags="DF")
              / UDP(sport=32766, dport=32766, chksum=0)
              / Raw(struct.pack("!BBHIII", 1 << 4 | 3, 0, len(inner_b), SWITCH_ID, 0, 0)
                    + inner_b))
    rep_hex = hx(report)
    rec_at = 14 + 20 + 8 + 16 + 14 + 20 + 8 + 16
    rep_hex = wild(rep_hex, 14 + 20 + 8 + 12, 4)          # report ingress timestamp
    rep_hex = wild_hop_times(rep_hex, rec_at)
    rep_hex = wild(rep_hex, rec_at + 20, 4)                # tx bytes: depends on egress order
    return f"""{SETUP}
setdefault int_config int_configure(switch_id:{SWITCH_ID}, report_src_ip:0x0aff0003, collector_ip:0x0a000102, collector_port:32766)
add int_sink_ports standard_metadata.egress_spec:1 int_sink()
add int_sink_ports standard_metadata.egress_spec:2 int_sink()
add int_watchlist 10 hdr.ipv4.srcAddr:0x0a000101&&&0xffffffff hdr.ipv4.dstAddr:0x0a000201&&&0xffffffff meta.l4DstPort:0x12b7&&&0xffff int_watch()
add traffic_class 5 hdr.ipv4.dscp:10&&&0x3f meta.bthValid:0&&&0 meta.bthOpcode:0&&&0 set_priority(priority:2)
mirroring_add 100 2
# Source: UDP dport becomes 9099 (the original 4791 goes into the shim), UDP checksum 0,
# lengths +40 (shim 4 + md 12 + record 24); the record says switch 3, port 1 -> 3, and
# tx bytes 0: what port 3 sent before this packet.
packet 1 {hx(src_in)}
expect 3 {src_hex}$
# The same again: port 3 counted the first one as it left, its 40 INT bytes included.
packet 1 {hx(src_in)}
expect 3 {src_hex2}$
# Transit: this switch's record goes in front of switch 4's; shim length 10 -> 16 words.
packet 3 {hx(tr_in)}
expect 4 {tr_hex}$
# Sink: the host gets the packet without INT (dport 4791 again, original lengths) ...
packet 3 {hx(sink_in)}
expect 1 {hx(plain)}$
# ... and the collector a report: Ethernet/IPv4/UDP 32766, report header (3 hops), then the
# packet as it arrived with the sink's record (port 3 -> 1, queue 2) in front.
expect 2 {rep_hex}$
"""


def int_to_host() -> str:
    """INT to the receiver (HPCC): the stack is kept at the sink, nothing is reported."""
    payload = bth() + b"\x00" * 32 + b"ICRC"
    cc = INT_CC_INSTRUCTIONS
    sport = next(s for s in range(49152, 50000) if ecmp_port(H1[0], REMOTE, 17, s, ROCE_PORT) == 3)
    # 1. source: shim + md (CC instructions) + this switch's record with port 3's rate
    src_in = udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT, payload=payload)

    def src_expect(tx: int) -> str:  # tx: the bytes port 3 sent before this packet
        out = with_int(H1[0], REMOTE, sport, ROCE_PORT, [cc_hop(SWITCH_ID, 3, 100000, 0, tx)],
                       payload, ttl=63, smac=PORT_MACS[3][0], dmac=PORT_MACS[3][1],
                       instructions=cc)
        return wild(hx(out), 14 + 20 + 8 + 16 + 16, 4)
    src_hex = src_expect(0)
    src_hex2 = src_expect(len(src_in) + 40)  # HPCC's txRate needs the INT bytes counted
    # 2. sink: two records arrive for h1; h1 gets three (ours in front), the collector nothing
    hops_in = [cc_hop(1, 2, 100000, 2048, 5000, 11), cc_hop(4, 3, 100000, 0, 4000, 7)]
    sink_in = with_int("10.0.2.1", H1[0], 50007, ROCE_PORT, hops_in, payload, instructions=cc)
    sink_out = with_int("10.0.2.1", H1[0], 50007, ROCE_PORT,
                        [cc_hop(SWITCH_ID, 1, 25000, 0, 0)] + hops_in,
                        payload, ttl=63, smac=PORT_MACS[1][0], dmac=PORT_MACS[1][1], instructions=cc)
    sink_hex = wild(hx(sink_out), 14 + 20 + 8 + 16 + 16, 4)
    # 3. source and sink on one switch: h1 -> h2 gets the header and one record
    local_in = udp_pkt(H1[0], H2[0], 50008, dport=ROCE_PORT, payload=payload)
    local_out = with_int(H1[0], H2[0], 50008, ROCE_PORT, [cc_hop(SWITCH_ID, 2, 0, 0, 0)],
                         payload, ttl=63, smac=PORT_MACS[2][0], dmac=PORT_MACS[2][1], instructions=cc)
    local_hex = wild(hx(local_out), 14 + 20 + 8 + 16 + 16, 4)
    return f"""{SETUP}
setdefault int_config int_configure(switch_id:{SWITCH_ID}, report_src_ip:0x0aff0003, collector_ip:0x0a000102, collector_port:32766)
add int_sink_ports standard_metadata.egress_spec:1 int_sink()
add int_sink_ports standard_metadata.egress_spec:2 int_sink()
add int_watchlist 10 hdr.ipv4.srcAddr:0x0a000101&&&0xffffffff hdr.ipv4.dstAddr:0x00000000&&&0x00000000 meta.l4DstPort:0x12b7&&&0xffff int_watch_to_host()
add port_rate standard_metadata.egress_port:3 set_port_rate(rate_mbps:100000)
add port_rate standard_metadata.egress_port:1 set_port_rate(rate_mbps:25000)
mirroring_add 100 2
# Source: INT-MD with the CC instruction bitmap 0xA701; the record (int_cc_hop_t) says
# switch 3, egress port 3, 100000 Mb/s, queue 0 bytes, tx bytes before this packet (0).
packet 1 {hx(src_in)}
expect 3 {src_hex}$
# The same again: port 3 counted the first one as it left, its 40 INT bytes included.
packet 1 {hx(src_in)}
expect 3 {src_hex2}$
# Sink: the host gets the whole stack, the sink's record (port 1, 25000 Mb/s) first; no
# report goes to the collector on port 2.
packet 3 {hx(sink_in)}
expect 1 {sink_hex}$
# One switch is both source and sink: header and one record (port 2 has no rate entry: 0).
packet 1 {hx(local_in)}
expect 2 {local_hex}$
check_counter port_tx(2) packets == 1
"""


def cnp_from_switch(data, out_port: int):
    """The notification fabric.p4 builds from `data`: a CNP from its destination to its
    source for its destination QP (BTH resv6 = 1: from a switch), 16 zero bytes, and the 4
    bytes that followed in the data packet where the ICRC would be (truncated at 74)."""
    d = Ether(bytes(data))
    body = bytes(d[UDP].payload)
    bth_out = bytes([0x81, 0]) + body[2:4] + bytes([0x41]) + body[5:8] + bytes(4)
    rest = body[12 + 16:12 + 16 + 4]
    out = (Ether(src=PORT_MACS[out_port][0], dst=PORT_MACS[out_port][1])
           / IP(src=d[IP].dst, dst=d[IP].src, tos=48 << 2, ttl=64, id=d[IP].id, flags=d[IP].flags)
           / UDP(sport=d[UDP].sport, dport=ROCE_PORT, chksum=0) / Raw(bth_out + bytes(16) + rest))
    return Ether(bytes(out))


def switch_notification() -> str:
    """Switch-generated notification: rate limit per flow, nothing below the threshold."""
    def write(qp: int):
        return (Ether(src=PORT_MACS[3][1], dst=PORT_MACS[3][0])
                / IP(src="10.0.2.1", dst=H1[0], tos=26 << 2 | 2, id=1)
                / UDP(sport=50001, dport=ROCE_PORT, chksum=0)
                / Raw(bth(opcode=0x0A, qp=qp) + struct.pack("!QII", 0x1000, 0x77, 64)
                      + bytes(range(1, 65)) + b"ICRC"))
    flow_a, flow_b = write(0x12), write(0x13)
    fwd_a, fwd_b = hx(routed(flow_a, 1)), hx(routed(flow_b, 1))
    cnp_a, cnp_b = hx(cnp_from_switch(flow_a, 3)), hx(cnp_from_switch(flow_b, 3))
    ack = (Ether(src=PORT_MACS[3][1], dst=PORT_MACS[3][0]) / IP(src="10.0.2.1", dst=H1[0], id=1)
           / UDP(sport=50001, dport=ROCE_PORT, chksum=0)
           / Raw(bth(opcode=0x11) + struct.pack("!I", 0x1F000000) + b"ICRC"))
    other_class = write(0x12)
    other_class[IP].tos = 2
    other_class = Ether(bytes(other_class))
    return f"""{SETUP}
# DSCP 26 gets notifications: queue >= 5 packets, one per flow per 0.5 s, CNPs in DSCP 48.
add switch_notify hdr.ipv4.dscp:26 notify_on(threshold:5, interval_us:500000, cnp_dscp:48)
mirroring_add 203 3
# Below the threshold (4 packets queued on port 1): forwarded, no notification.
register_write port_qdepth 1 4
packet 3 {hx(flow_a)}
expect 1 {fwd_a}$
# At the threshold: forwarded, and a CNP for QP 0x12 goes back out of port 3 to 10.0.2.1.
register_write port_qdepth 1 5
packet 3 {hx(flow_a)}
expect 1 {fwd_a}$
expect 3 {cnp_a}$
# The same flow again within 0.5 s: rate-limited; another flow (QP 0x13) is not.
register_write port_qdepth 1 9
packet 3 {hx(flow_a)}
expect 1 {fwd_a}$
register_write port_qdepth 1 9
packet 3 {hx(flow_b)}
expect 1 {fwd_b}$
expect 3 {cnp_b}$
# ACKs and other traffic classes never cause one.
register_write port_qdepth 1 9
packet 3 {hx(ack)}
expect 1 {hx(routed(ack, 1))}$
register_write port_qdepth 1 9
packet 3 {hx(other_class)}
expect 1 {hx(routed(other_class, 1))}$
# After the interval the first flow is notified again.
wait
register_write port_qdepth 1 9
packet 3 {hx(flow_a)}
expect 1 {fwd_a}$
expect 3 {cnp_a}$
check_counter port_notifications(1) packets == 3
check_counter port_tx(3) packets == 3
"""


AGG_PORT, SERVICE, AGG_LANES = 9200, "10.255.255.1", 256
AGG_STATS = {"contrib": 0, "complete": 1, "replay": 2, "resend_up": 3, "duplicate": 4,
             "result_in": 5, "short": 8, "unknown": 9, "not_member": 10, "bad_slot": 11,
             "stale": 12}
HOST_IPS = {1: H1[0], 2: H2[0]}


def agg_body(job, slot, seq, lanes, worker=0, count=2, result=0, ver=0, bitmap=0) -> bytes:
    """agg_t + agg_lanes_t as in headers.p4; lanes are ints taken mod 2^32."""
    flags = result << 7 | ver << 6
    return (struct.pack("!HHIBBBBI", job, slot, seq, worker, count, flags, 0, bitmap)
            + struct.pack(f"!{AGG_LANES}I", *[v & 0xFFFFFFFF for v in lanes]))


def agg_in(port: int, body: bytes):
    """A contribution from the host on `port` (or a packet from the spine on port 3)."""
    peer_mac, src = (PORT_MACS[port][1], HOST_IPS.get(port, "10.0.2.9"))
    return (Ether(src=peer_mac, dst=PORT_MACS[port][0]) / IP(src=src, dst=SERVICE, id=1)
            / UDP(sport=AGG_PORT, dport=AGG_PORT, chksum=0) / Raw(body))


def agg_out(port: int, body: bytes) -> str:
    """What the switch emits on `port`: from the service address, to the host's address on
    host ports (results) and to the service address toward the spine."""
    dst = HOST_IPS.get(port, SERVICE) if body[10] & 0x80 else SERVICE
    pkt = (Ether(src=PORT_MACS[port][0], dst=PORT_MACS[port][1])
           / IP(src=SERVICE, dst=dst, id=1, ttl=64)
           / UDP(sport=AGG_PORT, dport=AGG_PORT, chksum=0) / Raw(body))
    return f"expect {port} {hx(pkt)}$"


def aggregation() -> str:
    """Job 1: this switch is the root, ranks on ports 1 and 2, pool of 2 slots.
    Job 2: this switch is a leaf, ranks on ports 1 and 2, parent (spine) on port 3."""
    n = AGG_LANES
    a = list(range(1, n + 1))
    b = [1000 * i for i in range(n)]
    c, d, e = [7] * n, [-5] * n, [3 * i for i in range(n)]
    plus = lambda x, y: [(p + q) & 0xFFFFFFFF for p, q in zip(x, y)]   # noqa: E731
    wrap_a = [0x7FFFFFFF, -1, -0x80000000, 0xFFFFFFFF] + [0] * (n - 4)
    wrap_b = [1, 1, -1, 0xFFFFFFFF] + [0] * (n - 4)
    wrapped = [0x80000000, 0, 0x7FFFFFFF, 0xFFFFFFFE] + [0] * (n - 4)
    assert plus(wrap_a, wrap_b) == wrapped
    # results carry the emitting switch's child index: 0 for job 1 (root), 1 for job 2
    r = lambda job, slot, seq, lanes, ver=0, bm=3: agg_body(  # noqa: E731
        job, slot, seq, lanes, worker=job - 1, result=1, ver=ver, bitmap=bm)
    short = agg_in(1, agg_body(1, 0, 9, a)[:16 + 4 * n - 1])
    plain = udp_pkt("10.0.2.1", H1[0], 50000, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    stats = "\n".join(f"check_counter agg_stats({AGG_STATS[k]}) packets == {n}" for k, n in [
        ("contrib", 12), ("complete", 6), ("replay", 3), ("resend_up", 1), ("duplicate", 1),
        ("result_in", 1), ("short", 1), ("unknown", 1), ("not_member", 1), ("bad_slot", 1),
        ("stale", 2)])
    return f"""{SETUP}
add agg_jobs hdr.agg.jobId:1 agg_job(tag:1, slot_base:0, pool_size:2, fan_in:2, is_root:1, parent_port:0, child_id:0, group:1, service_ip:0x0affff01)
add agg_children hdr.agg.jobId:1 standard_metadata.ingress_port:1 agg_child(index:0)
add agg_children hdr.agg.jobId:1 standard_metadata.ingress_port:2 agg_child(index:1)
add agg_hosts hdr.agg.jobId:1 standard_metadata.egress_port:1 agg_to_host(ip:0x0a000101)
add agg_hosts hdr.agg.jobId:1 standard_metadata.egress_port:2 agg_to_host(ip:0x0a000102)
add agg_jobs hdr.agg.jobId:2 agg_job(tag:2, slot_base:2, pool_size:2, fan_in:2, is_root:0, parent_port:3, child_id:1, group:2, service_ip:0x0affff01)
add agg_children hdr.agg.jobId:2 standard_metadata.ingress_port:1 agg_child(index:0)
add agg_children hdr.agg.jobId:2 standard_metadata.ingress_port:2 agg_child(index:1)
add agg_hosts hdr.agg.jobId:2 standard_metadata.egress_port:1 agg_to_host(ip:0x0a000101)
add agg_hosts hdr.agg.jobId:2 standard_metadata.egress_port:2 agg_to_host(ip:0x0a000102)
mc_mgrp_create 1
mc_node_create 0 1 2
mc_node_associate 1 0
mc_mgrp_create 2
mc_node_create 0 1 2
mc_node_associate 2 1
# A slot completes after n = 2 distinct workers: the first contribution is absorbed, the
# second makes the sum, multicast to both ranks (each with its own address).
packet 1 {hx(agg_in(1, agg_body(1, 0, 0, a, worker=0)))}
packet 2 {hx(agg_in(2, agg_body(1, 0, 0, b, worker=1)))}
{agg_out(1, r(1, 0, 0, plus(a, b)))}
{agg_out(2, r(1, 0, 0, plus(a, b)))}
# A duplicate contribution (its bit is set) is not added twice: chunk 1 = a + b, not 2a + b.
packet 1 {hx(agg_in(1, agg_body(1, 1, 1, a, worker=0)))}
packet 1 {hx(agg_in(1, agg_body(1, 1, 1, a, worker=0)))}
packet 2 {hx(agg_in(2, agg_body(1, 1, 1, b, worker=1)))}
{agg_out(1, r(1, 1, 1, plus(a, b)))}
{agg_out(2, r(1, 1, 1, plus(a, b)))}
# A retransmission after completion is answered with the stored result, to its sender only.
packet 2 {hx(agg_in(2, agg_body(1, 0, 0, b, worker=1)))}
{agg_out(2, r(1, 0, 0, plus(a, b)))}
# Shadow sets: chunk 2 reuses slot 0 in set 1, so chunk 0's result (set 0) survives ...
packet 1 {hx(agg_in(1, agg_body(1, 0, 2, c, ver=1)))}
packet 2 {hx(agg_in(2, agg_body(1, 0, 2, d, worker=1, ver=1)))}
{agg_out(1, r(1, 0, 2, plus(c, d), ver=1))}
{agg_out(2, r(1, 0, 2, plus(c, d), ver=1))}
packet 1 {hx(agg_in(1, agg_body(1, 0, 0, a)))}
{agg_out(1, r(1, 0, 0, plus(a, b)))}
# ... until chunk 4 takes set 0 over: it starts from zero (d + e, not a + b + d + e), and
# a late retransmission of chunk 0 is then stale and dropped.
packet 2 {hx(agg_in(2, agg_body(1, 0, 4, d, worker=1)))}
packet 1 {hx(agg_in(1, agg_body(1, 0, 0, a)))}
packet 1 {hx(agg_in(1, agg_body(1, 0, 4, e)))}
{agg_out(1, r(1, 0, 4, plus(d, e)))}
{agg_out(2, r(1, 0, 4, plus(d, e)))}
# Lanes wrap as bit<32>: 0x7fffffff + 1 = 0x80000000, -1 + 1 = 0, INT_MIN - 1 = INT_MAX.
packet 1 {hx(agg_in(1, agg_body(1, 1, 3, wrap_a, ver=1)))}
packet 2 {hx(agg_in(2, agg_body(1, 1, 3, wrap_b, worker=1, ver=1)))}
{agg_out(1, r(1, 1, 3, wrapped, ver=1))}
{agg_out(2, r(1, 1, 3, wrapped, ver=1))}
# Malformed, dropped and counted: too short, unknown job, port 4 is no child of job 1,
# slot 2 outside the pool of 2.
packet 1 {hx(short)}
packet 1 {hx(agg_in(1, agg_body(7, 0, 0, a)))}
packet 4 {hx(agg_in(4, agg_body(1, 0, 5, a)))}
packet 1 {hx(agg_in(1, agg_body(1, 2, 5, a)))}
# Leaf of a 2-level tree (job 2): the local sum goes up to the parent on port 3 as one
# partial carrying the leaf's child index (1) ...
packet 1 {hx(agg_in(1, agg_body(2, 0, 0, a)))}
packet 2 {hx(agg_in(2, agg_body(2, 0, 0, b, worker=1)))}
{agg_out(3, agg_body(2, 0, 0, plus(a, b), worker=1, bitmap=3))}
# ... a retransmission before the result came back sends the partial up again ...
packet 1 {hx(agg_in(1, agg_body(2, 0, 0, a)))}
{agg_out(3, agg_body(2, 0, 0, plus(a, b), worker=1, bitmap=3))}
# ... the parent's result is multicast to the local ranks and kept for replays.
packet 3 {hx(agg_in(3, r(2, 0, 0, e, bm=1)))}
{agg_out(1, r(2, 0, 0, e))}
{agg_out(2, r(2, 0, 0, e))}
packet 2 {hx(agg_in(2, agg_body(2, 0, 0, b, worker=1)))}
{agg_out(2, r(2, 0, 0, e))}
# A "result" from a rank's port is not believed.
packet 1 {hx(agg_in(1, r(2, 0, 0, e)))}
{stats}
check_counter port_drops(1) packets == 0
# Ordinary traffic is still routed.
packet 3 {hx(plain)}
expect 1 {hx(routed(plain, 1))}$
"""

TENANTS = """\
# Tenants (tenants.p4): tenant 1 = h1 (10.0.1.1/32, queue 2), tenant 2 = h2 (queue 5);
# YELLOW is remarked to DSCP 8 in queue 0, RED is dropped.
add tenant_classify hdr.ipv4.srcAddr:0x0a000101/32 set_tenant(tenant:1, priority:2)
add tenant_classify hdr.ipv4.srcAddr:0x0a000102/32 set_tenant(tenant:2, priority:5)
""" + "".join(
    f"add tenant_policy meta.tenant:{t} meta.tenantColor:1 tenant_remark(dscp:8, priority:0)\n"
    f"add tenant_policy meta.tenant:{t} meta.tenantColor:2 tenant_drop()\n" for t in (1, 2))


def tenant_meters() -> str:
    """trTCM colours per tenant at the configured rates, in packets (tenant 1) and bytes (2)."""
    a = udp_pkt(H1[0], H2[0], 50000)                                   # tenant 1, to port 2
    b = udp_pkt(H2[0], H1[0], 50000, smac=H2[1], dmac=PORT_MACS[2][0])  # tenant 2, to port 1
    a_green, b_green = hx(routed(a, 2)), hx(routed(b, 1))
    a_yellow, b_yellow = routed(a, 2), routed(b, 1)
    a_yellow[IP].tos = b_yellow[IP].tos = 8 << 2
    a_yellow, b_yellow = hx(Ether(bytes(a_yellow))), hx(Ether(bytes(b_yellow)))
    n = len(b)
    lines = [SETUP + TENANTS,
             "# Tenant 1 in packets: CIR 1/s burst 2, PIR 2/s burst 4. A burst of 6 packets is",
             "# 2 GREEN, 2 YELLOW (remarked), 2 RED (dropped); one second later the buckets hold",
             "# 1 committed and 2 peak tokens: GREEN, YELLOW, RED.",
             "meter_set_rates tenant_packets 1 0.000001:2 0.000002:4"]
    lines += [f"packet 1 {hx(a)}"] * 6 + ["wait"] + [f"packet 1 {hx(a)}"] * 3
    lines.append(f"# Tenant 2 in bytes ({n} B packets): CIR {n} B/s burst {2 * n}, PIR {2 * n} B/s "
                 f"burst {3 * n}: GREEN GREEN YELLOW RED, then after a second GREEN YELLOW RED.")
    lines.append(f"meter_set_rates tenant_bytes 2 {n / 1e6}:{2 * n} {2 * n / 1e6}:{3 * n}")
    lines += [f"packet 2 {hx(b)}"] * 4 + ["wait"] + [f"packet 2 {hx(b)}"] * 3
    lines += [f"expect 2 {x}$" for x in (a_green, a_green, a_yellow, a_yellow, a_green, a_yellow)]
    lines += [f"expect 1 {x}$" for x in (b_green, b_green, b_yellow, b_green, b_yellow)]
    for tenant, (g, y, r), size in ((1, (3, 3, 3), len(a)), (2, (3, 2, 2), n)):
        for colour, count in enumerate((g, y, r)):
            lines.append(f"check_counter tenant_colors({tenant * 4 + colour}) packets == {count}")
            lines.append(f"check_counter tenant_colors({tenant * 4 + colour}) bytes == {count * size}")
    return "\n".join(lines) + "\n"


def tenant_queues() -> str:
    """Each tenant's data goes to its queue (INT's qid shows the TM's queue); others to 0;
    a YELLOW packet to the queue its remark names (0), with its DSCP."""
    payload = bth() + b"\x00" * 32 + b"ICRC"
    out = []
    for src, smac, port, qid in ((H1[0], H1[1], 1, 2), (H2[0], H2[1], 2, 5),
                                 ("10.0.1.3", H2[1], 2, 0), (H1[0], H1[1], 1, 2), (H1[0], H1[1], 1, 2),
                                 (H1[0], H1[1], 1, 0)):
        sport = next(s for s in range(49152, 50000)
                     if ecmp_port(src, REMOTE, 17, s, ROCE_PORT) == 3)
        pkt = udp_pkt(src, REMOTE, sport, dport=ROCE_PORT, payload=payload, smac=smac,
                      dmac=PORT_MACS[port][0])
        exp = routed(pkt, 3)
        if len(out) == 5:  # the third of tenant 1's metered packets: YELLOW, remarked
            exp[IP].tos = 8 << 2
        exp[UDP].dport, exp[UDP].chksum = INT_PORT, 0
        exp[UDP].remove_payload()
        exp = exp / Raw(int_headers(ROCE_PORT, [hop(SWITCH_ID, port, 3, qdepth=qid << 24)])
                        + payload)
        del exp[IP].len, exp[UDP].len
        rec = 14 + 20 + 8 + 16
        exp_hex = wild_hop_times(hx(Ether(bytes(exp))), rec)
        exp_hex = wild(exp_hex, rec + 20, 4)       # tx bytes
        out.append((port, hx(pkt), exp_hex))
    body = "\n".join(f"packet {port} {pkt}\nexpect 3 {exp}$" for port, pkt, exp in out[:3])
    metered = "\n".join(f"packet {port} {pkt}\nexpect 3 {exp}$" for port, pkt, exp in out[3:])
    return f"""{SETUP}{TENANTS}setdefault int_config int_configure(switch_id:{SWITCH_ID}, report_src_ip:0x0aff0003, collector_ip:0x0a000102, collector_port:32766)
add int_watchlist 10 hdr.ipv4.srcAddr:0x00000000&&&0x00000000 hdr.ipv4.dstAddr:0x0a000201&&&0xffffffff meta.l4DstPort:0x12b7&&&0xffff int_watch()
# h1 (tenant 1) -> queue 2, h2 (tenant 2) -> queue 5, 10.0.1.3 (no tenant) -> queue 0:
# the record's qid byte says which queue the packet was sent from.
{body}
# Tenant 1 metered at CIR 1/s burst 2, PIR 2/s burst 4: GREEN, GREEN in queue 2, then
# YELLOW, remarked to DSCP 8 in queue 0 (tenant_remark sets both).
meter_set_rates tenant_packets 1 0.000001:2 0.000002:4
{metered}
"""


def liveness() -> str:
    """Fast reroute: each routing mode skips a port the controller (table) or the switch's
    port signal (register) says is dead, on the next packet; nothing live -> back to the
    switch the packet came from, marked, or dropped if it came from a host or was marked."""
    sport = next(s for s in range(49152, 50000)
                 if ecmp_port(H1[0], REMOTE, 17, s, ROCE_PORT) == 3)
    pkt = hx(udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT))
    on3 = hx(routed(udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT), 3))
    on4 = hx(routed(udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT), 4))
    never_stale = "0xffffffffffff"
    load4 = "register_write port_qdepth 3 0\nregister_write port_qdepth 4 200"
    spine_to_h1 = udp_pkt(REMOTE, H1[0], 50000, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    sent_back = routed(spine_to_h1, 3)
    sent_back[IP].flags = "evil"   # the bounce mark: IPv4's reserved flag bit
    h2_to_h1 = udp_pkt(H2[0], H1[0], 50000, smac=H2[1], dmac=PORT_MACS[2][0])
    marked = udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT, smac=PORT_MACS[3][1], dmac=PORT_MACS[3][0])
    marked[IP].flags = "evil"
    rerouted = routed(udp_pkt(H1[0], REMOTE, sport, dport=ROCE_PORT), 4)
    return f"""{SETUP}
# ECMP: the flow hashes to port 3; the controller marks port 3 dead -> port 4 at once.
packet 1 {pkt}
expect 3 {on3}$
setdefault port_liveness set_dead_ports(mask:0x8)
packet 1 {pkt}
expect 4 {on4}$
# The switch's own port signal says port 4 is down too: no live member, dropped.
register_write port_down_signal 0 0x10
packet 1 {pkt}
check_counter port_drops(1) packets == 1
# The controller revives port 3 (port 4 still signalled down): back on 3.
setdefault port_liveness set_dead_ports(mask:0)
packet 1 {pkt}
expect 3 {on3}$
register_write port_down_signal 0 0
# Adaptive: port 3 is the less loaded but dead -> port 4; alive again -> port 3.
setdefault routing_mode set_mode(mode:2, flowlet_gap:0, load_max_age:{never_stale})
setdefault port_liveness set_dead_ports(mask:0x8)
{load4}
packet 1 {pkt}
expect 4 {on4}$
setdefault port_liveness set_dead_ports(mask:0)
{load4}
packet 1 {pkt}
expect 3 {on3}$
# Flowlet (gap 0.5 s): the flowlet is on port 3; port 3's signal goes down within the gap
# -> re-picked to port 4 at once, and it stays there when port 3 comes back.
setdefault routing_mode set_mode(mode:1, flowlet_gap:500000, load_max_age:{never_stale})
{load4}
packet 1 {pkt}
expect 3 {on3}$
register_write port_down_signal 0 0x8
{load4}
packet 1 {pkt}
expect 4 {on4}$
register_write port_down_signal 0 0
{load4}
packet 1 {pkt}
expect 4 {on4}$
# The remote half (bounce): ports 3 and 4 face spines. A spine's packet for h1 while h1's
# port is dead has no live candidate: it goes back out of port 3, marked (IPv4's reserved
# flag), so the spine routes it another way. The same from a host (port 2): dropped.
setdefault routing_mode set_mode(mode:0, flowlet_gap:0, load_max_age:0)
add switch_ports standard_metadata.ingress_port:3 bounce()
add switch_ports standard_metadata.ingress_port:4 bounce()
setdefault port_liveness set_dead_ports(mask:0x2)
packet 3 {hx(spine_to_h1)}
expect 3 {hx(sent_back)}$
packet 2 {hx(h2_to_h1)}
check_counter port_drops(2) packets == 1
check_counter port_bounces(3) packets == 1
# A marked packet back from the spine on port 3: port 3 counts as dead for it, so it
# leaves by port 4, unmarked, although the flow hashes to port 3.
setdefault port_liveness set_dead_ports(mask:0)
packet 3 {hx(marked)}
expect 4 {hx(rerouted)}$
# The switch learnt it for the group (for BOUNCE_HOLD_US): the flow's next packet from
# its host leaves by port 4 too, with no bounce.
packet 1 {pkt}
expect 4 {on4}$
# Marked, and port 4 dead too: dropped, never bounced twice.
setdefault port_liveness set_dead_ports(mask:0x10)
packet 3 {hx(marked)}
check_counter port_drops(3) packets == 1
check_counter port_bounces(3) packets == 1
# Once the hold is over (wait: 1 s later) the group tries port 3 again.
setdefault port_liveness set_dead_ports(mask:0)
wait
packet 1 {pkt}
expect 3 {on3}$
"""


def main(out_dir: pathlib.Path = HERE) -> None:
    for name, make in [("forwarding", forwarding), ("ecmp", ecmp), ("ecn", ecn),
                       ("modes", modes), ("int", int_test),
                       ("int_to_host", int_to_host), ("notification", switch_notification),
                       ("aggregation", aggregation),
                       ("tenant_meters", tenant_meters), ("tenant_queues", tenant_queues),
                       ("liveness", liveness)]:
        (out_dir / f"fabric_{name}.stf").write_text(
            "# Generated by gen_fabric_stf.py from the formats in p4src/fabric/headers.p4.\n"
            + make())


if __name__ == "__main__":
    import sys

    main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
