"""The labs' skeleton programs, derived from the maintained programs in p4src/.

A lab's solution is the project's own program (labs/<n>/solution/ includes it), and its
skeleton is that program's file with a few passages replaced by TODO holes. Deriving the
skeletons keeps them in step with p4src/: when a program changes, regenerate with

    python -m fabriclab.labs.skeletons          # rewrites labs/*/<file>.p4
    python -m fabriclab.labs.skeletons --check  # exit 1 if a skeleton is out of date

A passage that no longer exists in the source is an error naming the lab and the passage,
so a change to p4src/ that moves a lab's subject shows up at once (a unit test runs
--check).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from fabriclab.errors import FabricError
from fabriclab.paths import PACKAGE


@dataclass(frozen=True)
class Hole:
    """`solution` (exact text of the source) becomes `todo` in the skeleton."""

    solution: str
    todo: str


@dataclass(frozen=True)
class Skeleton:
    lab: str            # folder under labs/
    source: str         # file under p4src/
    target: str         # file in the lab folder (what the student edits)
    header: str         # replaces the source's first comment (up to its first "*/\n")
    holes: tuple[Hole, ...]


def derive(skeleton: Skeleton, source_text: str) -> str:
    """The skeleton's text from its source's text."""
    end = source_text.index("*/\n") + 3
    text = skeleton.header + source_text[end:]
    for hole in skeleton.holes:
        if text.count(hole.solution) != 1:
            raise FabricError(f"{skeleton.lab}: p4src/{skeleton.source} no longer has exactly "
                              f"one passage {hole.solution.strip().splitlines()[0]!r}: update "
                              "fabriclab/labs/skeletons.py")
        text = text.replace(hole.solution, hole.todo)
    return text


def _live_candidate(k: int) -> str:
    """liveness.p4's filter of candidate k (the same lines for each of cand1..cand7)."""
    return (f"        if (meta.candidateCount > {k} && (meta.deadPorts >> (bit<8>)meta.cand{k})[0:0] == 0) {{\n"
            f"            live = live | ((bit<72>)meta.cand{k} << (n * 9));\n"
            "            n = n + 1;\n"
            "        }\n")


BASIC_HEADER = """\
/* -*- P4_16 -*- */
/* Lab 1: IPv4 forwarding with longest-prefix match. This is p4src/basic.p4 with three TODO
   holes: the IPv4 parser state, the forwarding action and the deparser.

   The control plane (`fabriclab net`'s route installer) fills MyIngress.ipv4_lpm with one
   entry per prefix: ipv4_forward(dstAddr = the next hop's MAC, port = the egress port).
   `fabriclab lab check 1` grades your work. */
"""

SKELETONS: tuple[Skeleton, ...] = (
    Skeleton("1-ipv4-lpm", "basic.p4", "basic.p4", BASIC_HEADER, (
        Hole("""    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        transition accept;""", """    state parse_ipv4 {
        /* TODO 1: extract the IPv4 header into hdr.ipv4 */
        transition accept;"""),
        Hole("""    action ipv4_forward(macAddr_t dstAddr, egressSpec_t port) {
        standard_metadata.egress_spec = port;
        hdr.ethernet.srcAddr = hdr.ethernet.dstAddr;
        hdr.ethernet.dstAddr = dstAddr;
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }""", """    action ipv4_forward(macAddr_t dstAddr, egressSpec_t port) {
        /* TODO 2: send the packet out of `port`; the new source MAC is the old destination
           MAC (the switch's own), the new destination MAC is `dstAddr` (the next hop);
           decrement the TTL. */
    }"""),
        Hole("""        packet.emit(hdr.ipv4);
""", """        /* TODO 3: emit the IPv4 header too (a header that is not valid is skipped) */
"""),
    )),
    Skeleton("2-ecmp", "fabric/ingress.p4", "ingress.p4", """\
/* Lab 2: ECMP with an action selector. This is fabric.p4's ingress (p4src/fabric/ingress.p4)
   with three TODO holes in the ECMP path; everything else works already.

   ipv4_routes maps a destination prefix to a next-hop group; ecmp_groups maps the group to
   the action selector ecmp_selector, whose members are set_port(port) actions (member id =
   port, written by `fabriclab net`'s installer). The selector hashes the fields marked
   `selector` in ecmp_groups' key (crc16) and picks member hash % group size. */
""", (
        Hole("""    action set_port(bit<9> port) {
        standard_metadata.egress_spec = port;
    }""", """    action set_port(bit<9> port) {
        /* TODO 1: send the packet out of `port` */
    }"""),
        Hole("""            meta.group: exact;
            hdr.ipv4.srcAddr: selector;
            hdr.ipv4.dstAddr: selector;
            hdr.ipv4.protocol: selector;
            meta.l4SrcPort: selector;
            meta.l4DstPort: selector;""", """            meta.group: exact;
            /* TODO 2: hash the whole 5-tuple, not just the destination: add the source
               address, the IP protocol and the L4 ports (meta.l4SrcPort, meta.l4DstPort;
               the UDP source port is RoCEv2's entropy), each as a `selector` field. */
            hdr.ipv4.dstAddr: selector;"""),
        Hole("""            if (use_ecmp) {
                ecmp_groups.apply();
                if (standard_metadata.egress_spec == 511) {
                    drop_reason = DROP_NO_PATH;
                }
            }
            hdr.ipv4.ttl = hdr.ipv4.ttl - 1;""", """            if (use_ecmp) {
                ecmp_groups.apply();
                if (standard_metadata.egress_spec == 511) {
                    drop_reason = DROP_NO_PATH;
                }
            }
            /* TODO 3: a router decrements the TTL of every packet it routes */"""),
    )),
    Skeleton("3-adaptive-routing", "fabric/ingress.p4", "ingress.p4", """\
/* Lab 3: per-packet adaptive routing on queue depth. This is fabric.p4's ingress
   (p4src/fabric/ingress.p4) with two TODO holes in the adaptive path; ECMP (lab 2) and the
   rest work already.

   In adaptive mode (`fabriclab ctl mode adaptive`, routing_mode's set_mode(2, ...)) every
   packet goes to the least-loaded port of its group: group_candidates lists the group's
   ports (meta.cand0..cand7, meta.candidateCount of them), and egress records for every
   port the queue depth its last packet saw (register port_qdepth) and when it left
   (register port_seen). */
""", (
        Hole("""    action consider(in bit<9> port, in bit<4> tiebreak) {
        bit<32> depth;
        bit<48> seen;
        port_qdepth.read(depth, (bit<32>)port);
        port_seen.read(seen, (bit<32>)port);
        bit<32> load = (standard_metadata.ingress_global_timestamp - seen > meta.loadMaxAge)
                       ? 32w0 : depth;
        bit<36> key = load ++ tiebreak;
        meta.bestPort = (key < meta.bestKey) ? port : meta.bestPort;
        meta.bestKey = (key < meta.bestKey) ? key : meta.bestKey;
    }""", """    action consider(in bit<9> port, in bit<4> tiebreak) {
        /* TODO 1: the load of `port` is port_qdepth[port], except that a port that sent
           nothing for longer than meta.loadMaxAge (now is
           standard_metadata.ingress_global_timestamp, its last packet left at
           port_seen[port]) counts as idle (load 0), so a congested port is tried again.
           The key to minimise is the load followed by the 4 tie-break bits
           (bit<36> key = load ++ tiebreak). If key < meta.bestKey, this port becomes the
           best: set meta.bestPort and meta.bestKey. No `if` in an action: use `? :`. */
    }"""),
        Hole("""                        /* nested: a group of n candidates costs n tests, not 8 */
                        consider(meta.cand0, r[3:0]);
                        if (meta.candidateCount > 1) {
                            consider(meta.cand1, r[7:4]);
                            if (meta.candidateCount > 2) {
                                consider(meta.cand2, r[11:8]);
                                if (meta.candidateCount > 3) {
                                    consider(meta.cand3, r[15:12]);
                                    if (meta.candidateCount > 4) {
                                        consider(meta.cand4, r[19:16]);
                                        if (meta.candidateCount > 5) {
                                            consider(meta.cand5, r[23:20]);
                                            if (meta.candidateCount > 6) {
                                                consider(meta.cand6, r[27:24]);
                                                if (meta.candidateCount > 7) {
                                                    consider(meta.cand7, r[31:28]);
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }""",
             """                        consider(meta.cand0, r[3:0]);
                        /* TODO 2: consider the other candidates too: cand1 .. cand7, each
                           only if meta.candidateCount says it exists, each with its own
                           4 random bits (r[7:4], r[11:8], ...). Candidate k exists only if
                           candidate k-1 does: nested tests cost a group of n ports n
                           tests instead of 8. */"""),
    )),
    Skeleton("4-int", "fabric/egress.p4", "egress.p4", """\
/* Lab 4: in-band telemetry. This is fabric.p4's egress (p4src/fabric/egress.p4) with two
   TODO holes in int_push_hop, the action every switch on a watched flow's path runs to add
   its hop record; inserting the INT headers at the first switch, stripping them at the
   last one and the report to the collector work already.

   Wire format (headers.p4): UDP | int_shim (4 B) | int_md (12 B) | hop records, newest
   first, 24 B each (int_hop_t) | payload. int_shim.len counts shim + md + records in 4-byte
   words; int_md.remainingHops counts down the records still allowed. */
""", (
        Hole("""        hdr.int_local.setValid();
        hdr.int_local.switchId = meta.switchId;
        hdr.int_local.ingressPort = (bit<16>)ingress_port;
        hdr.int_local.egressPort = (bit<16>)egress_port;
        hdr.int_local.hopLatency = (bit<32>)(now - ingress_ts);
        hdr.int_local.qid = (bit<8>)qid;
        hdr.int_local.qdepth = (bit<24>)qdepth;
        hdr.int_local.egressTs = (bit<32>)now;
        hdr.int_local.txBytes = tx_bytes;
        hdr.int_md.remainingHops = hdr.int_md.remainingHops - 1;
        hdr.int_shim.len = hdr.int_shim.len + INT_HOP_WORDS;
        hdr.udp.length = hdr.udp.length + INT_HOP_BYTES;
        hdr.ipv4.totalLen = hdr.ipv4.totalLen + INT_HOP_BYTES;
        meta.intGrowth = meta.intGrowth + (bit<32>)INT_HOP_BYTES;
    }""", """        hdr.int_local.setValid();
        /* TODO 1: fill this switch's record (int_hop_t in headers.p4): switchId (from
           meta.switchId, set by int_config), ingressPort and egressPort (16 bits),
           hopLatency = now - ingress_ts (microseconds, 32 bits), qid (8 bits: the
           packet's egress queue, given), qdepth (24 bits), egressTs = now (low 32 bits),
           txBytes. */
        /* TODO 2: one record more: one hop fewer in int_md.remainingHops, and the shim
           length (words), the UDP length and the IPv4 total length (bytes) grow by one
           record (INT_HOP_WORDS, INT_HOP_BYTES). */
        meta.intGrowth = meta.intGrowth + (bit<32>)INT_HOP_BYTES;  /* the port's tx counter adds it */
    }"""),
    )),
    Skeleton("5-ecn-dcqcn", "fabric/egress.p4", "egress.p4", """\
/* Lab 5: ECN marking for DCQCN. This is fabric.p4's egress (p4src/fabric/egress.p4) with
   three TODO holes in the ECN path; the rest works already.

   ecn_config (`fabriclab ctl ecn --kmin K --kmax K --pmax P`) gives the port's Kmin, Kmax
   and slope = Pmax * 65536 / (Kmax - Kmin). RED-like marking on the queue depth a packet
   saw when it left the queue (standard_metadata.deq_qdepth, in packets): never below or at
   Kmin, always at or above Kmax, and in between with probability
   (depth - Kmin) * slope / 65536. A DCQCN receiver answers CE-marked packets with CNPs;
   the sender cuts its rate. */
""", (
        Hole("""    action mark_ce() {
        hdr.ipv4.ecn = 3;
""", """    action mark_ce() {
        /* TODO 1: set the packet's IPv4 ECN field to CE (Congestion Experienced, binary 11) */
"""),
        Hole("""            if (hdr.ipv4.isValid() && hdr.ipv4.ecn != 0 && hdr.ipv4.ecn != 3) {""",
             """            /* TODO 2: only ECN-capable packets may be marked: ECT(0) and ECT(1) (ecn 2, 1),
               not Not-ECT (0, the sender does not understand CE) nor packets already CE (3). */
            if (hdr.ipv4.isValid()) {"""),
        Hole("""                    } else if (depth > meta.ecnKmin) {
                        bit<32> r;
                        random(r, 0, 0xFFFF);
                        if ((depth - meta.ecnKmin) * meta.ecnSlope > r) {
                            mark_ce();
                        }
                    }""", """                    } else if (depth > meta.ecnKmin) {
                        /* TODO 3: between Kmin and Kmax, mark with probability
                           (depth - Kmin) * slope / 65536: draw a random 16-bit number
                           (v1model's random(r, lo, hi)) and compare. */
                    }"""),
    )),
    Skeleton("6-aggregation", "fabric/aggregation.p4", "aggregation.p4", """\
/* Lab 6: in-network aggregation. This is fabric.p4's aggregation control
   (p4src/fabric/aggregation.p4, described in docs/aggregation.md) with two TODO holes in
   the slot logic: what a new contribution does to its cell, and what happens when the
   cell is complete. Jobs, cells, shadow sets, stale chunks and replays work already.

   A job's tree: ranks -> their leaf -> ... -> the root switch. A cell (slot, shadow set)
   holds the lane sums (agg_sums), the bitmap of the children that contributed, their
   count, the chunk seq and the job's tag. Children are known by ingress port
   (agg_children gives meta.aggChildBit = 1 << index); meta.aggFanIn is how many children
   the job has here. */
""", (
        Hole("""    action agg_accumulate() {
        meta.aggBitmap = meta.aggBitmap | meta.aggChildBit;
        meta.aggCount = meta.aggCount + 1;
""", """    action agg_accumulate() {
        /* TODO 1: record this child's contribution: set its bit (meta.aggChildBit) in
           meta.aggBitmap and count it in meta.aggCount (agg_save_cell writes both back;
           the lanes are overwritten when meta.aggCount == 1, added otherwise). */
"""),
        Hole("""                agg_accumulate();
                if (meta.aggCount == meta.aggFanIn) {
                    agg_stats.count(AGG_COMPLETE);
                    if (meta.aggIsRoot == 1) {
                        meta.aggDone = 1;
                        agg_multicast_down();
                    } else {
                        agg_send_up();
                    }
                } else {
                    mark_to_drop(standard_metadata);   /* absorbed */
                }""", """                agg_accumulate();
                /* TODO 2: when every child has contributed (meta.aggCount == meta.aggFanIn)
                   count AGG_COMPLETE in agg_stats, then: the root (meta.aggIsRoot == 1)
                   marks the cell done (meta.aggDone = 1) and multicasts the result down
                   (agg_multicast_down); any other switch sends its partial sum up to its
                   parent (agg_send_up). Until then the contribution is absorbed: */
                mark_to_drop(standard_metadata);"""),
    )),
    Skeleton("7-fast-reroute", "fabric/liveness.p4", "liveness.p4", """\
/* Lab 7: data-plane fast reroute around a failed link. This is fabric.p4's port liveness
   (p4src/fabric/liveness.p4, described in docs/resiliency.md) with two TODO holes: learning
   from a packet that a spine bounced back, and taking dead ports out of a group's
   candidate list. Everything else works already.

   meta.deadPorts is a bit mask of egress ports (bit p = port p) the routing modes must not
   pick: the controller's (the default action of port_liveness) OR the switch's own (cell 0
   of port_down_signal, written by the switch process when a port loses its carrier, before
   any controller hears of it). group_candidates lists a group's ports: meta.cand0..cand7,
   meta.candidateCount of them. A spine left with no live way down sends a switch's packet
   back where it came from with the IPv4 reserved flag bit set (bounce(), ingress.p4). */
""", (
        Hole("".join(_live_candidate(k) for k in range(1, 8)), """\
        /* TODO 2: the same for candidates 1 to 7: candidate k exists if
           meta.candidateCount > k, and is live if its bit in meta.deadPorts is 0; a live
           one goes into the next free 9-bit slot of `live` (slot n) and counts in n. The
           lines below then make the live ports the new candidate list. */
"""),
        Hole("""        if (hdr.ipv4.flags[2:2] == 1) {   /* bounced back to us: no way on behind that port */
            hdr.ipv4.flags[2:2] = 0;
            meta.bounced = 1;
            /* (bit<8>): BMv2 shifts by at most 8 bits; fabric ports are below 64, deadPorts' bits */
            bit<64> port = (bit<64>)1 << (bit<8>)standard_metadata.ingress_port;
            meta.deadPorts = meta.deadPorts | port;
            remote_dead.write((bit<32>)meta.group, (learned[111:48] | port)
                              ++ (standard_metadata.ingress_global_timestamp + BOUNCE_HOLD_US));
        }""", """        /* TODO 1: a packet with the bounce mark (IPv4's reserved flag, hdr.ipv4.flags[2:2])
           came back from a switch that has no way on: clear the mark (it is fabric-internal),
           set meta.bounced (a packet is bounced once at most), count the port it came in by
           as dead for this packet, and remember it for the packet's group (remote_dead at
           index meta.group: the group's learned ports with this one added, ++ the time until
           which that holds, now + BOUNCE_HOLD_US), so the group's next packets avoid that
           spine too without a bounce each. (A port's bit: BMv2 shifts by at most 8 bits, so
           shift by (bit<8>)standard_metadata.ingress_port.) */"""),
    )),
    Skeleton("8-tenant-isolation", "fabric/tenants.p4", "tenants.p4", """\
/* Lab 8: per-tenant meters and policy. This is fabric.p4's tenants control
   (p4src/fabric/tenants.p4, described in docs/tenants.md) with three TODO holes: what the
   policy actions do, the colour of a packet, and the tenant's queue. Classification, the
   tables and the counters work already.

   A tenant is a set of hosts, recognised by source IPv4 address (tenant_classify gives
   meta.tenant and meta.tenantPriority, its queue). Each tenant has two trTCM meters at
   index meta.tenant: tenant_bytes (CIR = its guaranteed share, PIR = its cap, written by
   `fabriclab ctl tenant`) and tenant_packets (packet rate; unconfigured, it colours GREEN).
   Colours are v1model's: GREEN 0, YELLOW 1, RED 2. tenant_policy maps (tenant, colour) to
   an action: the controller installs tenant_remark for YELLOW and tenant_drop for RED. */
""", (
        Hole("""    action tenant_remark(bit<6> dscp, bit<3> priority) {
        hdr.ipv4.dscp = dscp;
        standard_metadata.priority = priority;
    }

    action tenant_drop() {
        mark_to_drop(standard_metadata);
    }""", """    action tenant_remark(bit<6> dscp, bit<3> priority) {
        /* TODO 1: a YELLOW packet (above the guarantee, below the cap) is remarked: its
           IPv4 DSCP becomes `dscp` and it is sent from queue `priority` (the controller
           passes the tenant's own queue, so a flow is never reordered against itself). */
    }

    action tenant_drop() {
        /* TODO 1: a RED packet (above the cap) is dropped (v1model: mark_to_drop). */
    }"""),
        Hole("""            tenant_packets.execute_meter((bit<32>)meta.tenant, by_packets);
            meta.tenantColor = (by_bytes > by_packets) ? by_bytes : by_packets;
""", """            /* TODO 2: run the packet meter too (tenant_packets at the same index, into
               by_packets); the packet's colour, meta.tenantColor, is the worse of the two
               (the larger value: RED 2 > YELLOW 1 > GREEN 0). */
"""),
        Hole("""            if (standard_metadata.priority == 0) {
                standard_metadata.priority = meta.tenantPriority;
            }""", """            /* TODO 3: the tenant's data goes to its queue (meta.tenantPriority), unless
               traffic_class already chose one (standard_metadata.priority is not 0: CNPs
               and ACKs go ahead of data). */"""),
    )),
)


def sources_root() -> Path:
    return PACKAGE.parent


def stale(root: Path | None = None) -> list[Path]:
    """Skeleton files whose text differs from what their source gives now."""
    root = root or sources_root()
    out = []
    for sk in SKELETONS:
        target = root / "labs" / sk.lab / sk.target
        want = derive(sk, (root / "p4src" / sk.source).read_text())
        if not target.is_file() or target.read_text() != want:
            out.append(target)
    return out


def write(root: Path | None = None) -> list[Path]:
    root = root or sources_root()
    changed = stale(root)
    for sk in SKELETONS:
        target = root / "labs" / sk.lab / sk.target
        if target in changed:
            target.write_text(derive(sk, (root / "p4src" / sk.source).read_text()))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fabriclab.labs.skeletons",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only say which skeletons are out of date (exit 1 if any)")
    args = parser.parse_args(argv)
    try:
        paths = stale() if args.check else write()
    except FabricError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"{'out of date' if args.check else 'wrote'}: {path}")
    return 1 if args.check and paths else 0


if __name__ == "__main__":
    raise SystemExit(main())
