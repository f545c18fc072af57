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
#ifndef _FABRIC_LIVENESS_P4_
#define _FABRIC_LIVENESS_P4_

register<bit<64>>(1) port_down_signal;

/* Per next-hop group (meta.group): the ports that bounced its packets back (bits 111:48)
   and until when that holds (47:0, ingress_global_timestamp, us). Every group id has a cell. */
register<bit<112>>(65536) remote_dead;
const bit<48> BOUNCE_HOLD_US = 1000;   /* then try the port again (the controller has regrouped) */

control FabricLiveness(inout headers_t hdr,
                       inout metadata_t meta,
                       inout standard_metadata_t standard_metadata) {

    action set_dead_ports(bit<64> mask) {
        meta.deadPorts = mask;
    }

    table port_liveness {
        key = { }
        actions = { set_dead_ports; }
        default_action = set_dead_ports(0);
    }

    apply {
        port_liveness.apply();
        bit<64> signalled;
        port_down_signal.read(signalled, 0);
        meta.deadPorts = meta.deadPorts | signalled;
        bit<112> learned;
        remote_dead.read(learned, (bit<32>)meta.group);
        if (learned != 0) {   /* rare: this group's packets were bounced back lately */
            if (standard_metadata.ingress_global_timestamp < learned[47:0]) {
                meta.deadPorts = meta.deadPorts | learned[111:48];
            } else {
                remote_dead.write((bit<32>)meta.group, 0);   /* held long enough: try again */
                learned = 0;
            }
        }
        /* TODO 1: a packet with the bounce mark (IPv4's reserved flag, hdr.ipv4.flags[2:2])
           came back from a switch that has no way on: clear the mark (it is fabric-internal),
           set meta.bounced (a packet is bounced once at most), count the port it came in by
           as dead for this packet, and remember it for the packet's group (remote_dead at
           index meta.group: the group's learned ports with this one added, ++ the time until
           which that holds, now + BOUNCE_HOLD_US), so the group's next packets avoid that
           spine too without a bounce each. (A port's bit: BMv2 shifts by at most 8 bits, so
           shift by (bit<8>)standard_metadata.ingress_port.) */
    }
}

/* The candidate list without its dead ports; in ECMP mode, the one live member the flow's
   hash picks. */
control FabricLiveCandidates(inout headers_t hdr,
                             inout metadata_t meta,
                             inout standard_metadata_t standard_metadata) {
    apply {
        bit<72> live = 0;
        bit<8> n = 0;
        if (meta.candidateCount > 0 && (meta.deadPorts >> (bit<8>)meta.cand0)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand0 << (n * 9));
            n = n + 1;
        }
        /* TODO 2: the same for candidates 1 to 7: candidate k exists if
           meta.candidateCount > k, and is live if its bit in meta.deadPorts is 0; a live
           one goes into the next free 9-bit slot of `live` (slot n) and counts in n. The
           lines below then make the live ports the new candidate list. */
        meta.candidateCount = (bit<4>)n;
        meta.cand0 = live[8:0];
        meta.cand1 = live[17:9];
        meta.cand2 = live[26:18];
        meta.cand3 = live[35:27];
        meta.cand4 = live[44:36];
        meta.cand5 = live[53:45];
        meta.cand6 = live[62:54];
        meta.cand7 = live[71:63];
        if (meta.mode == MODE_ECMP && n > 0) {
            bit<32> pick;
            hash(pick, HashAlgorithm.crc32, 32w0,
                 { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4.protocol,
                   meta.l4SrcPort, meta.l4DstPort }, (bit<32>)n);
            bit<72> chosen = live >> ((bit<8>)pick * 9);
            meta.cand0 = chosen[8:0];
            meta.candidateCount = 1;
        }
    }
}

#endif  /* _FABRIC_LIVENESS_P4_ */
