"""Writes the border role's STF tests (p4src/fabric/border.p4) into this directory (or the
one given): `.venv/bin/python tests/stf/fabric_border/gen_border_stf.py`.

The switch is the leaf of tests/stf/fabric's setup, with one more route: 10.0.9.0/24, the
other site, through port 4 alone, its DCI port. Packets and the CNPs fabric.p4 builds come
from that generator's helpers (gen_fabric_stf.py), so both agree on the formats.
"""

from __future__ import annotations

import pathlib
import struct
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fabric"))

from gen_fabric_stf import H1, H2, PORT_MACS, ROCE_PORT, SETUP, bth, cnp_from_switch, hx, routed  # noqa: E402

DCI_PORT, REMOTE_SITE = 4, "10.0.9.1"
DSCP_DATA = 26

BORDER_SETUP = SETUP + f"""\
# The border role: 10.0.9.0/24 is the other site, through the DCI on port {DCI_PORT}.
group ecmp_selector 13 {DCI_PORT}
add ipv4_routes hdr.ipv4.dstAddr:0x0a0009** set_group(group:13)
add ecmp_groups meta.group:13 group(13)
"""


def write(dst: str, qp: int, src=H1, port: int = 1, ecn: int = 2):
    """An RDMA WRITE (RETH, 64 bytes, ICRC) from a host of this site arriving on `port`."""
    return Ether(bytes(Ether(src=src[1], dst=PORT_MACS[port][0])
                       / IP(src=src[0], dst=dst, tos=DSCP_DATA << 2 | ecn, id=1)
                       / UDP(sport=50001, dport=ROCE_PORT, chksum=0)
                       / Raw(bth(opcode=0x0A, qp=qp) + struct.pack("!QII", 0x1000, 0x77, 64)
                             + bytes(range(1, 65)) + b"ICRC")))


def notification() -> str:
    """Near-source notification onto the DCI: the DCI port's own (BDP-scaled) threshold,
    a CNP back out of the sender's port, the per-flow rate limit, none below the threshold,
    none for traffic staying in the site."""
    flow_a, flow_b = write(REMOTE_SITE, 0x12), write(REMOTE_SITE, 0x13)
    fwd_a, fwd_b = hx(routed(flow_a, DCI_PORT)), hx(routed(flow_b, DCI_PORT))
    cnp_a, cnp_b = hx(cnp_from_switch(flow_a, 1)), hx(cnp_from_switch(flow_b, 1))
    local = write(H2[0], 0x12)
    return f"""{BORDER_SETUP}
# The site's class 26 notifies at 5 packets; the DCI port at 1000 (its BDP is deep).
add switch_notify hdr.ipv4.dscp:{DSCP_DATA} notify_on(threshold:5, interval_us:500000, cnp_dscp:48)
add dci_ports standard_metadata.egress_spec:{DCI_PORT} dci_notify(threshold:1000, interval_us:500000, cnp_dscp:48)
mirroring_add 201 1
# 999 packets queued on the DCI: above the site's threshold, below the DCI's: no CNP.
register_write port_qdepth {DCI_PORT} 999
packet 1 {hx(flow_a)}
expect {DCI_PORT} {fwd_a}$
check_counter port_notifications({DCI_PORT}) packets == 0
# At the DCI threshold: forwarded, and a CNP for QP 0x12 goes straight back to 10.0.1.1.
register_write port_qdepth {DCI_PORT} 1000
packet 1 {hx(flow_a)}
expect {DCI_PORT} {fwd_a}$
expect 1 {cnp_a}$
check_counter port_notifications({DCI_PORT}) packets == 1
# The same flow within the interval: rate-limited; another flow (QP 0x13) is notified.
register_write port_qdepth {DCI_PORT} 5000
packet 1 {hx(flow_a)}
expect {DCI_PORT} {fwd_a}$
check_counter port_notifications({DCI_PORT}) packets == 1
register_write port_qdepth {DCI_PORT} 5000
packet 1 {hx(flow_b)}
expect {DCI_PORT} {fwd_b}$
expect 1 {cnp_b}$
# Traffic staying in the site keeps the class's threshold (5): notified at 9.
register_write port_qdepth 2 9
packet 1 {hx(local)}
expect 2 {hx(routed(local, 2))}$
expect 1 {hx(cnp_from_switch(local, 1))}$
# After the interval the first flow is notified again.
wait
register_write port_qdepth {DCI_PORT} 5000
packet 1 {hx(flow_a)}
expect {DCI_PORT} {fwd_a}$
expect 1 {cnp_a}$
check_counter port_notifications({DCI_PORT}) packets == 3
check_counter port_notifications(2) packets == 1
check_counter port_tx(1) packets == 4
"""


def dci_only() -> str:
    """Without a switch_notify entry for the class, only the DCI port notifies."""
    flow = write(REMOTE_SITE, 0x21)
    local = write(H2[0], 0x21)
    return f"""{BORDER_SETUP}
add dci_ports standard_metadata.egress_spec:{DCI_PORT} dci_notify(threshold:64, interval_us:100, cnp_dscp:48)
mirroring_add 201 1
register_write port_qdepth 2 100000
packet 1 {hx(local)}
expect 2 {hx(routed(local, 2))}$
register_write port_qdepth {DCI_PORT} 64
packet 1 {hx(flow)}
expect {DCI_PORT} {hx(routed(flow, DCI_PORT))}$
expect 1 {hx(cnp_from_switch(flow, 1))}$
check_counter port_notifications({DCI_PORT}) packets == 1
check_counter port_notifications(2) packets == 0
"""


def ecn() -> str:
    """ECN on the DCI egress: its per-port thresholds (scaled to the DCI's BDP) override
    the site's switch-wide ones. The STF queue is empty, so a site port whose Kmax is 0
    marks every ECN-capable packet and the DCI port (Kmin 2000, Kmax 8000) none."""
    to_dci, to_site = write(REMOTE_SITE, 0x12), write(H2[0], 0x12)
    ce = routed(to_site, 2)
    ce[IP].tos = DSCP_DATA << 2 | 3
    return f"""{BORDER_SETUP}
setdefault ecn_config ecn_thresholds(kmin:0, kmax:0, slope:0)
add ecn_config standard_metadata.egress_port:{DCI_PORT} ecn_thresholds(kmin:2000, kmax:8000, slope:10)
packet 1 {hx(to_site)}
expect 2 {hx(ce)}$
packet 1 {hx(to_dci)}
expect {DCI_PORT} {hx(routed(to_dci, DCI_PORT))}$
check_counter port_ecn_marks(2) packets == 1
check_counter port_ecn_marks({DCI_PORT}) packets == 0
"""


def main(out_dir: pathlib.Path = HERE) -> None:
    for name, make in [("notification", notification), ("dci_only", dci_only), ("ecn", ecn)]:
        (out_dir / f"fabric_border_{name}.stf").write_text(
            "# Generated by gen_border_stf.py from the formats in p4src/fabric/headers.p4.\n" + make())


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
