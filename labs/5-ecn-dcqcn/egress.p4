/* Lab 5: ECN marking for DCQCN. This is fabric.p4's egress (p4src/fabric/egress.p4) with
   three TODO holes in the ECN path; the rest works already.

   ecn_config (`fabriclab ctl ecn --kmin K --kmax K --pmax P`) gives the port's Kmin, Kmax
   and slope = Pmax * 65536 / (Kmax - Kmin). RED-like marking on the queue depth a packet
   saw when it left the queue (standard_metadata.deq_qdepth, in packets): never below or at
   Kmin, always at or above Kmax, and in between with probability
   (depth - Kmin) * slope / 65536. A DCQCN receiver answers CE-marked packets with CNPs;
   the sender cuts its rate. */
#ifndef _FABRIC_EGRESS_P4_
#define _FABRIC_EGRESS_P4_

control FabricEgress(inout headers_t hdr,
                     inout metadata_t meta,
                     inout standard_metadata_t standard_metadata) {

    counter(PORT_SLOTS, CounterType.packets_and_bytes) port_tx;
    counter(PORT_SLOTS, CounterType.packets) port_ecn_marks;
    register<bit<32>>(PORT_SLOTS) port_max_qdepth;
    register<bit<32>>(PORT_SLOTS) port_tx_bytes;
    register<bit<32>>(1) report_seq;
    FabricAggregationEgress() aggregation;

    action set_port_macs(bit<48> smac, bit<48> dmac) {
        meta.portSmac = smac;
        meta.portDmac = dmac;
        meta.portKnown = 1;
    }

    /* Every fabric port has exactly one neighbour: our MAC on it and the neighbour's MAC. */
    table port_macs {
        key = { standard_metadata.egress_port: exact; }
        actions = { set_port_macs; NoAction; }
        default_action = NoAction();
        size = PORT_SLOTS;
    }

    action ecn_disabled() {
        meta.ecnEnabled = 0;
    }

    action ecn_thresholds(bit<32> kmin, bit<32> kmax, bit<32> slope) {
        meta.ecnEnabled = 1;
        meta.ecnKmin = kmin;
        meta.ecnKmax = kmax;
        meta.ecnSlope = slope;
    }

    /* RED-like marking on the dequeue queue depth; the default action is the switch-wide
       setting, entries override it per port. */
    table ecn_config {
        key = { standard_metadata.egress_port: exact; }
        actions = { ecn_thresholds; ecn_disabled; }
        default_action = ecn_disabled();
        size = PORT_SLOTS;
    }

    action int_configure(bit<32> switch_id, bit<32> report_src_ip, bit<32> collector_ip,
                         bit<16> collector_port) {
        meta.switchId = switch_id;
        meta.reportSrcIp = report_src_ip;
        meta.collectorIp = collector_ip;
        meta.collectorPort = collector_port;
    }

    table int_config {
        key = { }
        actions = { int_configure; NoAction; }
        default_action = NoAction();
        size = 1;
    }

    action set_port_rate(bit<32> rate_mbps) {
        meta.portRateMbps = rate_mbps;
    }

    /* Each port's link rate, for the INT-to-the-receiver records (HPCC's B_j). */
    table port_rate {
        key = { standard_metadata.egress_port: exact; }
        actions = { set_port_rate; NoAction; }
        default_action = NoAction();
        size = PORT_SLOTS;
    }

    action mark_ce() {
        /* TODO 1: set the packet's IPv4 ECN field to CE (Congestion Experienced, binary 11) */
        port_ecn_marks.count((bit<32>)standard_metadata.egress_port);
    }

    action int_insert(in bit<16> instructions) {
        hdr.int_shim.setValid();
        hdr.int_shim.intType = 1;
        hdr.int_shim.npt = 1;
        hdr.int_shim.rsvd = 0;
        hdr.int_shim.len = INT_BASE_WORDS;
        hdr.int_shim.origPort = hdr.udp.dstPort;
        hdr.int_md.setValid();
        hdr.int_md.ver = 2;
        hdr.int_md.d = 0;
        hdr.int_md.e = 0;
        hdr.int_md.m = 0;
        hdr.int_md.rsvd = 0;
        hdr.int_md.hopMl = (bit<5>)INT_HOP_WORDS;
        hdr.int_md.remainingHops = INT_MAX_HOPS;
        hdr.int_md.instructions = instructions;
        hdr.int_md.domainId = 0;
        hdr.int_md.dsInstructions = 0;
        hdr.int_md.dsFlags = 0;
        hdr.udp.dstPort = INT_UDP_PORT;
        hdr.udp.checksum = 0;   /* optional over IPv4; RoCEv2 sends 0 anyway */
        hdr.udp.length = hdr.udp.length + INT_BASE_BYTES;
        hdr.ipv4.totalLen = hdr.ipv4.totalLen + INT_BASE_BYTES;
        meta.intGrowth = meta.intGrowth + (bit<32>)INT_BASE_BYTES;
    }

    action int_push_hop(in bit<9> ingress_port, in bit<9> egress_port, in bit<48> ingress_ts,
                        in bit<3> qid, in bit<32> qdepth, in bit<32> tx_bytes) {
        bit<48> now = standard_metadata.egress_global_timestamp;
        hdr.int_local.setValid();
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
    }

    /* INT to the receiver: HPCC's per-hop fields in a record of the same size. */
    action int_cc_push_hop(in bit<32> qdepth, in bit<32> tx_bytes) {
        hdr.int_cc_local.setValid();
        hdr.int_cc_local.switchId = meta.switchId;
        hdr.int_cc_local.egressPort = (bit<16>)standard_metadata.egress_port;
        hdr.int_cc_local.rsvd = 0;
        hdr.int_cc_local.rateMbps = meta.portRateMbps;
        hdr.int_cc_local.qlenBytes = qdepth * standard_metadata.packet_length;
        hdr.int_cc_local.egressTs = (bit<32>)standard_metadata.egress_global_timestamp;
        hdr.int_cc_local.txBytes = tx_bytes;
        hdr.int_md.remainingHops = hdr.int_md.remainingHops - 1;
        hdr.int_shim.len = hdr.int_shim.len + INT_HOP_WORDS;
        hdr.udp.length = hdr.udp.length + INT_HOP_BYTES;
        hdr.ipv4.totalLen = hdr.ipv4.totalLen + INT_HOP_BYTES;
        meta.intGrowth = meta.intGrowth + (bit<32>)INT_HOP_BYTES;
    }

    action int_strip() {
        bit<16> int_bytes = ((bit<16>)hdr.int_shim.len) << 2;
        hdr.udp.dstPort = hdr.int_shim.origPort;
        hdr.udp.length = hdr.udp.length - int_bytes;
        hdr.ipv4.totalLen = hdr.ipv4.totalLen - int_bytes;
        meta.intGrowth = meta.intGrowth - (bit<32>)int_bytes;
        hdr.int_shim.setInvalid();
        hdr.int_md.setInvalid();
        hdr.int_hops[0].setInvalid();
        hdr.int_hops[1].setInvalid();
        hdr.int_hops[2].setInvalid();
        hdr.int_hops[3].setInvalid();
        hdr.int_hops[4].setInvalid();
        hdr.int_hops[5].setInvalid();
    }

    /* Wrap the clone (with the sink's record pushed) in Ethernet/IPv4/UDP to the collector. */
    action int_encap_report() {
        bit<16> inner_len = hdr.ipv4.totalLen + 14;
        hdr.report_ethernet.setValid();
        hdr.report_ethernet.dstAddr = meta.portDmac;
        hdr.report_ethernet.srcAddr = meta.portSmac;
        hdr.report_ethernet.etherType = ETHERTYPE_IPV4;
        hdr.report_ipv4.setValid();
        hdr.report_ipv4.version = 4;
        hdr.report_ipv4.ihl = 5;
        hdr.report_ipv4.dscp = 0;
        hdr.report_ipv4.ecn = 0;
        hdr.report_ipv4.totalLen = inner_len + 20 + 8 + 16;
        hdr.report_ipv4.identification = 0;
        hdr.report_ipv4.flags = 2;   /* don't fragment */
        hdr.report_ipv4.fragOffset = 0;
        hdr.report_ipv4.ttl = 64;
        hdr.report_ipv4.protocol = IPPROTO_UDP;
        hdr.report_ipv4.srcAddr = meta.reportSrcIp;
        hdr.report_ipv4.dstAddr = meta.collectorIp;
        hdr.report_udp.setValid();
        hdr.report_udp.srcPort = meta.collectorPort;
        hdr.report_udp.dstPort = meta.collectorPort;
        hdr.report_udp.length = inner_len + 8 + 16;
        hdr.report_udp.checksum = 0;
        bit<32> seq;
        report_seq.read(seq, 0);
        report_seq.write(0, seq + 1);
        hdr.report.setValid();
        hdr.report.ver = 1;
        hdr.report.hopCount = (bit<4>)(INT_MAX_HOPS - hdr.int_md.remainingHops);
        hdr.report.rsvd = 0;
        hdr.report.innerLen = inner_len;
        hdr.report.switchId = meta.switchId;
        hdr.report.seqNo = seq;
        hdr.report.ingressTs = (bit<32>)meta.intOrigIngressTs;
    }

    /* Turn the clone of a data packet into a CNP from its destination to its source, for
       the QP the data was sent to (the source NIC maps it to its own QP). */
    action notify_build() {
        bit<32> src = hdr.ipv4.srcAddr;
        hdr.ipv4.srcAddr = hdr.ipv4.dstAddr;
        hdr.ipv4.dstAddr = src;
        hdr.ipv4.dscp = meta.notifyDscp;
        hdr.ipv4.ecn = 0;
        hdr.ipv4.ttl = 64;
        hdr.ipv4.totalLen = CNP_FRAME_BYTES - 14;
        hdr.udp.dstPort = ROCE_UDP_PORT;
        hdr.udp.length = CNP_FRAME_BYTES - 34;
        hdr.udp.checksum = 0;
        hdr.int_shim.setInvalid();
        hdr.int_md.setInvalid();
        hdr.int_hops[0].setInvalid();
        hdr.int_hops[1].setInvalid();
        hdr.int_hops[2].setInvalid();
        hdr.int_hops[3].setInvalid();
        hdr.int_hops[4].setInvalid();
        hdr.int_hops[5].setInvalid();
        hdr.aeth.setInvalid();
        hdr.bth.opcode = ROCE_CNP;
        hdr.bth.se = 0;
        hdr.bth.migReq = 0;
        hdr.bth.padCnt = 0;
        hdr.bth.fecn = 0;
        hdr.bth.becn = 1;
        hdr.bth.resv6 = BTH_FROM_SWITCH;
        hdr.bth.ackReq = 0;
        hdr.bth.psn = 0;
        hdr.reth.setValid();   /* the CNP's 16 reserved bytes */
        hdr.reth.va = 0;
        hdr.reth.rkey = 0;
        hdr.reth.dmaLen = 0;
        truncate((bit<32>)CNP_FRAME_BYTES);
    }

    apply {
        bit<32> port = (bit<32>)standard_metadata.egress_port;
        port_tx.count(port);
        port_macs.apply();
        if (hdr.int_md.isValid() || meta.intSource == 1) {
            int_config.apply();
        }

        if (standard_metadata.instance_type == INSTANCE_NORMAL
                || standard_metadata.instance_type == INSTANCE_REPLICATION) {
            bit<32> depth = (bit<32>)standard_metadata.deq_qdepth;
            port_qdepth.write(port, depth);
            port_seen.write(port, standard_metadata.egress_global_timestamp);
            bit<32> max_depth;
            port_max_qdepth.read(max_depth, port);
            port_max_qdepth.write(port, depth > max_depth ? depth : max_depth);
            /* HPCC's txBytes: what the port sent before this packet; the packet is counted
               below, as it leaves (with the INT bytes this hop adds or strips). */
            bit<32> tx_bytes;
            port_tx_bytes.read(tx_bytes, port);

            /* TODO 2: only ECN-capable packets may be marked: ECT(0) and ECT(1) (ecn 2, 1),
               not Not-ECT (0, the sender does not understand CE) nor packets already CE (3). */
            if (hdr.ipv4.isValid()) {
                ecn_config.apply();
                if (meta.ecnEnabled == 1) {
                    if (depth >= meta.ecnKmax) {
                        mark_ce();
                    } else if (depth > meta.ecnKmin) {
                        /* TODO 3: between Kmin and Kmax, mark with probability
                           (depth - Kmin) * slope / 65536: draw a random 16-bit number
                           (v1model's random(r, lo, hi)) and compare. */
                    }
                }
            }

            if (meta.intSource == 1 && meta.intToHost == 1) {
                int_insert(INT_CC_INSTRUCTIONS);
            } else if (meta.intSource == 1 && meta.intSink == 0) {
                int_insert(INT_INSTRUCTIONS);
            }
            if (hdr.int_md.isValid()) {
                if (meta.intSink == 1 && meta.intToHost == 0) {
                    int_strip();
                } else if (hdr.int_md.remainingHops == 0) {
                    hdr.int_md.e = 1;
                } else if (meta.intToHost == 1) {
                    port_rate.apply();
                    int_cc_push_hop(depth, tx_bytes);
                } else {
                    int_push_hop(standard_metadata.ingress_port, standard_metadata.egress_port,
                                 standard_metadata.ingress_global_timestamp,
                                 standard_metadata.priority, depth, tx_bytes);
                }
            }

            port_tx_bytes.write(port, tx_bytes + standard_metadata.packet_length + meta.intGrowth);

            aggregation.apply(hdr, meta, standard_metadata);
            if (meta.portKnown == 1) {
                hdr.ethernet.srcAddr = meta.portSmac;
                hdr.ethernet.dstAddr = meta.portDmac;
                if (hdr.arp.isValid()) {
                    hdr.arp.sha = meta.portSmac;
                }
            }
        } else if (standard_metadata.instance_type == INSTANCE_I2E_CLONE && meta.ccNotify == 1) {
            notify_build();
            if (meta.portKnown == 1) {
                hdr.ethernet.srcAddr = meta.portSmac;
                hdr.ethernet.dstAddr = meta.portDmac;
            }
        } else if (standard_metadata.instance_type == INSTANCE_I2E_CLONE && meta.intReport == 1) {
            bit<32> orig_port = (bit<32>)meta.intOrigEgressPort;
            bit<32> depth;
            bit<32> tx_bytes;
            port_qdepth.read(depth, orig_port);
            port_tx_bytes.read(tx_bytes, orig_port);
            if (hdr.int_md.remainingHops == 0) {
                hdr.int_md.e = 1;
            } else {
                int_push_hop(meta.intOrigIngressPort, meta.intOrigEgressPort,
                             meta.intOrigIngressTs, meta.intOrigQid, depth, tx_bytes);
            }
            int_encap_report();
        }
    }
}

#endif  /* _FABRIC_EGRESS_P4_ */
