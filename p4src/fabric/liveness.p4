/* fabric.p4 port liveness for data-plane fast reroute (docs/tenants.md, "Fast reroute").

   meta.deadPorts is a bit mask of egress ports (bit p = port p, ports 0..63) the routing
   modes must not pick. It is the OR of two signals:
     - the controller's: the default action of `port_liveness` (a table entry, so it works
       over P4Runtime on BMv2, which serves no register writes);
     - the switch's own port status: cell 0 of `port_down_signal`, which the switch process
       updates when a port's carrier goes down or up (fabriclab's switch: its port monitor;
       BMv2: the port-status callback of a thin agent writing the register through the
       Thrift runtime, the one interface simple_switch offers for it). The program only
       reads it, so nothing depends on P4Runtime register writes.
   Routing uses it through the candidate list (group_candidates): FabricLiveCandidates
   removes dead ports from it before any mode looks at it, so flowlet re-picks a flow whose
   port died, adaptive never considers a dead port, and ECMP (which goes through the
   candidates while any port is dead) picks a live member by a per-flow hash: the same
   flow keeps its port, flows spread over the live ones. Groups without candidates (more
   than 8 ports) stay plain ECMP until the controller regroups.

   No live candidate (a spine whose one link down to the destination's leaf died): the
   packet goes back out of the port it came in by, to the switch that sent it, with the
   IPv4 header's reserved flag bit set (the "bounce" mark, fabric-internal: the next switch
   clears it). A switch that receives a marked packet takes the port it came in by as dead
   for that packet's next-hop group for BOUNCE_HOLD_US (`remote_dead`), so it routes it, and
   the group's later packets, over another spine at once, before any controller acts: the
   remote half of fast reroute. Learning per group, not per packet, is what keeps two spines
   that both lost the way down from passing a packet back and forth. Only packets from
   switches (ingress.p4's switch_ports, set by the controller) are bounced, and only once: a
   host's packet, or one bounced already, with no live candidate is dropped. */
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
        if (hdr.ipv4.flags[2:2] == 1) {   /* bounced back to us: no way on behind that port */
            hdr.ipv4.flags[2:2] = 0;
            meta.bounced = 1;
            /* (bit<8>): BMv2 shifts by at most 8 bits; fabric ports are below 64, deadPorts' bits */
            bit<64> port = (bit<64>)1 << (bit<8>)standard_metadata.ingress_port;
            meta.deadPorts = meta.deadPorts | port;
            remote_dead.write((bit<32>)meta.group, (learned[111:48] | port)
                              ++ (standard_metadata.ingress_global_timestamp + BOUNCE_HOLD_US));
        }
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
        if (meta.candidateCount > 1 && (meta.deadPorts >> (bit<8>)meta.cand1)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand1 << (n * 9));
            n = n + 1;
        }
        if (meta.candidateCount > 2 && (meta.deadPorts >> (bit<8>)meta.cand2)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand2 << (n * 9));
            n = n + 1;
        }
        if (meta.candidateCount > 3 && (meta.deadPorts >> (bit<8>)meta.cand3)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand3 << (n * 9));
            n = n + 1;
        }
        if (meta.candidateCount > 4 && (meta.deadPorts >> (bit<8>)meta.cand4)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand4 << (n * 9));
            n = n + 1;
        }
        if (meta.candidateCount > 5 && (meta.deadPorts >> (bit<8>)meta.cand5)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand5 << (n * 9));
            n = n + 1;
        }
        if (meta.candidateCount > 6 && (meta.deadPorts >> (bit<8>)meta.cand6)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand6 << (n * 9));
            n = n + 1;
        }
        if (meta.candidateCount > 7 && (meta.deadPorts >> (bit<8>)meta.cand7)[0:0] == 0) {
            live = live | ((bit<72>)meta.cand7 << (n * 9));
            n = n + 1;
        }
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
