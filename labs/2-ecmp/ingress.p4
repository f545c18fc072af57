/* Lab 2: ECMP with an action selector. This is fabric.p4's ingress (p4src/fabric/ingress.p4)
   with three TODO holes in the ECMP path; everything else works already.

   ipv4_routes maps a destination prefix to a next-hop group; ecmp_groups maps the group to
   the action selector ecmp_selector, whose members are set_port(port) actions (member id =
   port, written by `fabriclab net`'s installer). The selector hashes the fields marked
   `selector` in ecmp_groups' key (crc16) and picks member hash % group size. */
#ifndef _FABRIC_INGRESS_P4_
#define _FABRIC_INGRESS_P4_

/* Per-port load signal, written by egress at dequeue and read by ingress (adaptive and
   flowlet modes). Top-level instances, so both controls share them. */
register<bit<32>>(PORT_SLOTS) port_qdepth;   /* deq_qdepth of the last packet sent */
register<bit<48>>(PORT_SLOTS) port_seen;     /* when that packet left */

/* Why ingress dropped a frame, counted per ingress port in drop_reasons (`ctl stats`). */
const bit<32> DROP_OTHER     = 0;
const bit<32> DROP_MALFORMED = 1;   /* parser or checksum error */
const bit<32> DROP_ARP       = 2;   /* ARP other than a request (we answer requests) */
const bit<32> DROP_NOT_IPV4  = 3;   /* neither IPv4 nor ARP (IPv6 ND), or IPv4 options */
const bit<32> DROP_TTL       = 4;   /* TTL expired */
const bit<32> DROP_NO_ROUTE  = 5;
const bit<32> DROP_NO_PATH   = 6;   /* no next-hop group member, or every candidate dead */
const bit<32> DROP_TENANT    = 7;   /* a tenant's meter said red */
const bit<32> DROP_REASONS   = 8;

control FabricIngress(inout headers_t hdr,
                      inout metadata_t meta,
                      inout standard_metadata_t standard_metadata) {

    counter(PORT_SLOTS, CounterType.packets_and_bytes) port_rx;
    counter(PORT_SLOTS, CounterType.packets) port_drops;
    counter(PORT_SLOTS * DROP_REASONS, CounterType.packets) drop_reasons;   /* port * DROP_REASONS + DROP_* */
    register<bit<48>>(FLOWLET_SLOTS) flowlet_seen;
    register<bit<9>>(FLOWLET_SLOTS) flowlet_port;
    register<bit<48>>(NOTIFY_SLOTS) notify_last;
    counter(PORT_SLOTS, CounterType.packets) port_notifications;   /* by congested egress port */
    counter(PORT_SLOTS, CounterType.packets) port_bounces;   /* sent back, by ingress port (liveness.p4) */
    action_selector(HashAlgorithm.crc16, 1024, 16) ecmp_selector;
    FabricAggregation() aggregation;
    FabricTenants() tenants;
    FabricLiveness() liveness;
    FabricLiveCandidates() live_candidates;
    FabricBorder() border;

    action drop() {
        mark_to_drop(standard_metadata);
    }

    /* Answer every ARP request with the port's MAC (egress writes it): hosts send all IP
       traffic to their leaf, which routes it. */
    action arp_reply() {
        hdr.arp.oper = ARP_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        bit<32> target = hdr.arp.tpa;
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.spa = target;
        standard_metadata.egress_spec = standard_metadata.ingress_port;
    }

    /* No live candidate: back to the switch the packet came from, marked (liveness.p4). */
    action bounce() {
        standard_metadata.egress_spec = standard_metadata.ingress_port;
        hdr.ipv4.flags[2:2] = 1;
        port_bounces.count((bit<32>)standard_metadata.ingress_port);
    }

    /* Ports facing another switch: the ones a packet may be bounced back through. */
    table switch_ports {
        key = { standard_metadata.ingress_port: exact; }
        actions = { bounce; NoAction; }
        default_action = NoAction();
        size = 512;
    }

    action set_group(bit<16> group) {
        meta.group = group;
        meta.routed = 1;
    }

    table ipv4_routes {
        key = { hdr.ipv4.dstAddr: lpm; }
        actions = { set_group; drop; }
        default_action = drop();
        size = 4096;
    }

    action set_mode(bit<2> mode, bit<48> flowlet_gap, bit<48> load_max_age) {
        meta.mode = mode;
        meta.flowletGap = flowlet_gap;
        meta.loadMaxAge = load_max_age;
    }

    /* Per traffic class (DSCP) entries override the switch-wide default action. */
    table routing_mode {
        key = { hdr.ipv4.dscp: exact; }
        actions = { set_mode; }
        default_action = set_mode(MODE_ECMP, 0, 0);
        size = 64;
    }

    action set_port(bit<9> port) {
        /* TODO 1: send the packet out of `port` */
    }

    table ecmp_groups {
        key = {
            meta.group: exact;
            /* TODO 2: hash the whole 5-tuple, not just the destination: add the source
               address, the IP protocol and the L4 ports (meta.l4SrcPort, meta.l4DstPort;
               the UDP source port is RoCEv2's entropy), each as a `selector` field. */
            hdr.ipv4.dstAddr: selector;
        }
        actions = { set_port; drop; }
        default_action = drop();
        implementation = ecmp_selector;
        size = 1024;
    }

    /* The same groups as ecmp_groups, as explicit port lists for flowlet/adaptive. */
    action set_candidates(bit<4> count, bit<9> p0, bit<9> p1, bit<9> p2, bit<9> p3,
                          bit<9> p4, bit<9> p5, bit<9> p6, bit<9> p7) {
        meta.candidateCount = count;
        meta.cand0 = p0; meta.cand1 = p1; meta.cand2 = p2; meta.cand3 = p3;
        meta.cand4 = p4; meta.cand5 = p5; meta.cand6 = p6; meta.cand7 = p7;
    }

    table group_candidates {
        key = { meta.group: exact; }
        actions = { set_candidates; NoAction; }
        default_action = NoAction();
        size = 1024;
    }

    /* Keep the candidate with the lowest (queue depth, random tie-break); a port that sent
       nothing for loadMaxAge counts as idle, so a congested port is tried again later. */
    action consider(in bit<9> port, in bit<4> tiebreak) {
        bit<32> depth;
        bit<48> seen;
        port_qdepth.read(depth, (bit<32>)port);
        port_seen.read(seen, (bit<32>)port);
        bit<32> load = (standard_metadata.ingress_global_timestamp - seen > meta.loadMaxAge)
                       ? 32w0 : depth;
        bit<36> key = load ++ tiebreak;
        meta.bestPort = (key < meta.bestKey) ? port : meta.bestPort;
        meta.bestKey = (key < meta.bestKey) ? key : meta.bestKey;
    }

    /* Flowlet switching: keep the flow's port while its packets are closer than flowletGap;
       after a gap (or if the port left the group) re-pick the least loaded candidate. */
    action flowlet_lookup() {
        hash(meta.flowletSlot, HashAlgorithm.crc32, 32w0,
             { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4.protocol,
               meta.l4SrcPort, meta.l4DstPort }, FLOWLET_SLOTS);
        bit<48> last;
        flowlet_seen.read(last, meta.flowletSlot);
        flowlet_port.read(meta.bestPort, meta.flowletSlot);
        bit<48> now = standard_metadata.ingress_global_timestamp;
        flowlet_seen.write(meta.flowletSlot, now);
        bit<9> port = meta.bestPort;
        bool member = (port == meta.cand0)
            || (meta.candidateCount > 1 && port == meta.cand1)
            || (meta.candidateCount > 2 && port == meta.cand2)
            || (meta.candidateCount > 3 && port == meta.cand3)
            || (meta.candidateCount > 4 && port == meta.cand4)
            || (meta.candidateCount > 5 && port == meta.cand5)
            || (meta.candidateCount > 6 && port == meta.cand6)
            || (meta.candidateCount > 7 && port == meta.cand7);
        meta.flowletRepick = (member && now - last <= meta.flowletGap) ? 1w0 : 1w1;
    }

    action set_priority(bit<3> priority) {
        standard_metadata.priority = priority;
    }

    /* CNPs and ACKs (by DSCP or RoCE opcode) go to a higher priority queue than data. */
    table traffic_class {
        key = {
            hdr.ipv4.dscp: ternary;
            meta.bthValid: ternary;
            meta.bthOpcode: ternary;
        }
        actions = { set_priority; NoAction; }
        default_action = NoAction();
        size = 64;
    }

    action int_watch() {
        meta.intSource = 1;
    }

    /* INT to the receiver (HPCC): the stack reaches the destination host, which echoes it. */
    action int_watch_to_host() {
        meta.intSource = 1;
        meta.intToHost = 1;
    }

    /* Flows to trace: the first switch on their path inserts the INT headers (in egress). */
    table int_watchlist {
        key = {
            hdr.ipv4.srcAddr: ternary;
            hdr.ipv4.dstAddr: ternary;
            meta.l4DstPort: ternary;
        }
        actions = { int_watch; int_watch_to_host; NoAction; }
        default_action = NoAction();
        size = 64;
    }

    /* Switch-generated notification per traffic class (DSCP): CNP back toward the source
       when the egress queue is at least `threshold` packets deep, at most once per
       `interval_us` per flow (src, dst, destination QP). */
    action notify_on(bit<32> threshold, bit<48> interval_us, bit<6> cnp_dscp) {
        meta.notifyOn = 1;
        meta.notifyThreshold = threshold;
        meta.notifyInterval = interval_us;
        meta.notifyDscp = cnp_dscp;
    }

    table switch_notify {
        key = { hdr.ipv4.dscp: exact; }
        actions = { notify_on; NoAction; }
        default_action = NoAction();
        size = 64;
    }

    action notify_clone() {
        meta.ccNotify = 1;
        notify_last.write(meta.notifySlot, standard_metadata.ingress_global_timestamp);
        clone_preserving_field_list(CloneType.I2E,
                                    NOTIFY_SESSION_BASE + (bit<32>)standard_metadata.ingress_port,
                                    FL_NOTIFY);
    }

    action int_sink() {
        meta.intSink = 1;
    }

    /* Host-facing ports: INT ends here. */
    table int_sink_ports {
        key = { standard_metadata.egress_spec: exact; }
        actions = { int_sink; NoAction; }
        default_action = NoAction();
        size = PORT_SLOTS;
    }

    /* The report is a copy of the packet as it arrived; egress adds this hop's record to it
       using the preserved fields (a clone's standard metadata is all new, its priority 0),
       and strips INT from the original. */
    action int_report_clone() {
        meta.intReport = 1;
        meta.intOrigIngressPort = standard_metadata.ingress_port;
        meta.intOrigEgressPort = standard_metadata.egress_spec;
        meta.intOrigIngressTs = standard_metadata.ingress_global_timestamp;
        meta.intOrigQid = standard_metadata.priority;
        clone_preserving_field_list(CloneType.I2E, INT_REPORT_SESSION, FL_INT_REPORT);
    }

    apply {
        bit<32> drop_reason = DROP_OTHER;
        port_rx.count((bit<32>)standard_metadata.ingress_port);
        if (hdr.udp.isValid() && hdr.udp.dstPort == AGG_UDP_PORT) {
            aggregation.apply(hdr, meta, standard_metadata);
        } else if (standard_metadata.parser_error != error.NoError
                || standard_metadata.checksum_error == 1) {
            drop();
            drop_reason = DROP_MALFORMED;
        } else if (hdr.arp.isValid()) {
            if (hdr.arp.oper == ARP_REQUEST) {
                arp_reply();
            } else {
                drop();
                drop_reason = DROP_ARP;
            }
        } else if (hdr.ipv4.isValid() && hdr.ipv4.ihl == 5 && hdr.ipv4.ttl > 1) {
            ipv4_routes.apply();
            if (meta.routed == 0) {
                drop_reason = DROP_NO_ROUTE;
            }
        } else {
            drop();
            drop_reason = (hdr.ipv4.isValid() && hdr.ipv4.ihl == 5) ? DROP_TTL : DROP_NOT_IPV4;
        }

        if (meta.routed == 1) {
            routing_mode.apply();
            liveness.apply(hdr, meta, standard_metadata);
            bool use_ecmp = true;
            /* with a dead port, ECMP too goes through the (live) candidates: liveness.p4 */
            if (meta.mode != MODE_ECMP || meta.deadPorts != 0) {
                if (group_candidates.apply().hit && meta.candidateCount > 0) {
                    use_ecmp = false;
                    /* with no dead port the filter would keep the list as it is */
                    if (meta.deadPorts != 0) {
                        live_candidates.apply(hdr, meta, standard_metadata);
                    }
                    if (meta.mode == MODE_FLOWLET) {
                        flowlet_lookup();
                    }
                    if (meta.mode != MODE_FLOWLET || meta.flowletRepick == 1) {
                        /* least loaded candidate; 4 random bits per candidate break ties */
                        bit<32> r;
                        random(r, 0, 0xFFFFFFFF);
                        meta.bestKey = 0xFFFFFFFFF;
                        /* nested: a group of n candidates costs n tests, not 8 */
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
                        }
                        if (meta.mode == MODE_FLOWLET) {
                            flowlet_port.write(meta.flowletSlot, meta.bestPort);
                        }
                    }
                    standard_metadata.egress_spec = meta.bestPort;
                    if (meta.candidateCount == 0) {   /* every candidate is dead */
                        bool sent_back = false;
                        if (meta.bounced == 0) {
                            sent_back = switch_ports.apply().hit;   /* bounce() */
                        }
                        if (!sent_back) {
                            drop();
                            drop_reason = DROP_NO_PATH;
                        }
                    }
                }
            }
            if (use_ecmp) {
                ecmp_groups.apply();
                if (standard_metadata.egress_spec == 511) {
                    drop_reason = DROP_NO_PATH;
                }
            }
            /* TODO 3: a router decrements the TTL of every packet it routes */
            traffic_class.apply();
            tenants.apply(hdr, meta, standard_metadata);
            if (standard_metadata.egress_spec == 511 && drop_reason == DROP_OTHER) {
                drop_reason = DROP_TENANT;
            }
            if (hdr.udp.isValid() && !hdr.int_shim.isValid()) {
                int_watchlist.apply();
            }
            if (hdr.int_shim.isValid() || meta.intSource == 1) {
                int_sink_ports.apply();
                /* int_md is valid with int_shim only (the parser extracts both) */
                if (hdr.int_md.isValid() && hdr.int_md.instructions == INT_CC_INSTRUCTIONS) {
                    meta.intToHost = 1;
                }
                if (hdr.int_shim.isValid() && meta.intSink == 1 && meta.intToHost == 0) {
                    int_report_clone();
                }
            }
            /* RoCE requests (RC opcodes 0x00-0x0B) only; an INT report clone takes precedence. */
            if (meta.bthValid == 1 && meta.bthOpcode < 0x0C && meta.intReport == 0) {
                switch_notify.apply();
                border.apply(hdr, meta, standard_metadata);   /* onto the DCI: its thresholds */
                if (meta.notifyOn == 1) {
                    bit<32> depth;
                    port_qdepth.read(depth, (bit<32>)standard_metadata.egress_spec);
                    if (depth >= meta.notifyThreshold) {
                        hash(meta.notifySlot, HashAlgorithm.crc32, 32w0,
                             { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.bth.destQP }, NOTIFY_SLOTS);
                        bit<48> last;
                        notify_last.read(last, meta.notifySlot);
                        bit<48> now = standard_metadata.ingress_global_timestamp;
                        if (last == 0 || now - last >= meta.notifyInterval) {
                            notify_clone();
                            port_notifications.count((bit<32>)standard_metadata.egress_spec);
                        }
                    }
                }
            }
        }

        if (standard_metadata.egress_spec == 511 && meta.aggHandled == 0) {
            port_drops.count((bit<32>)standard_metadata.ingress_port);
            drop_reasons.count((bit<32>)standard_metadata.ingress_port * DROP_REASONS + drop_reason);
        }
    }
}

#endif  /* _FABRIC_INGRESS_P4_ */
