/* fabric.p4 parser: Ethernet, ARP, IPv4 (no options), UDP, TCP, INT-MD over UDP, RoCEv2,
   in-network aggregation. */
#ifndef _FABRIC_PARSER_P4_
#define _FABRIC_PARSER_P4_

parser FabricParser(packet_in packet,
                    out headers_t hdr,
                    inout metadata_t meta,
                    inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            ETHERTYPE_ARP: parse_arp;
            default: accept;
        }
    }

    state parse_arp {
        packet.extract(hdr.arp);
        transition accept;
    }

    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        /* Packets with IPv4 options are not parsed further; ingress drops them. */
        transition select(hdr.ipv4.ihl, hdr.ipv4.protocol) {
            (5, IPPROTO_UDP): parse_udp;
            (5, IPPROTO_TCP): parse_tcp;
            default: accept;
        }
    }

    state parse_tcp {
        packet.extract(hdr.tcp);
        meta.l4SrcPort = hdr.tcp.srcPort;
        meta.l4DstPort = hdr.tcp.dstPort;
        transition accept;
    }

    state parse_udp {
        packet.extract(hdr.udp);
        meta.l4SrcPort = hdr.udp.srcPort;
        meta.l4DstPort = hdr.udp.dstPort;
        transition select(hdr.udp.dstPort) {
            ROCE_UDP_PORT: parse_bth;
            INT_UDP_PORT: parse_int_shim;
            AGG_UDP_PORT: parse_agg;
            default: accept;
        }
    }

    state parse_int_shim {
        packet.extract(hdr.int_shim);
        packet.extract(hdr.int_md);
        meta.l4DstPort = hdr.int_shim.origPort;
        meta.intHopsToParse = INT_MAX_HOPS - hdr.int_md.remainingHops;
        transition parse_int_hops;
    }

    state parse_int_hops {
        transition select(meta.intHopsToParse) {
            0: parse_after_int;
            default: parse_int_hop;
        }
    }

    state parse_int_hop {
        packet.extract(hdr.int_hops.next);
        meta.intHopsToParse = meta.intHopsToParse - 1;
        transition parse_int_hops;
    }

    state parse_after_int {
        transition select(hdr.int_shim.origPort) {
            ROCE_UDP_PORT: parse_bth;
            default: accept;
        }
    }

    state parse_bth {
        packet.extract(hdr.bth);
        meta.bthValid = 1;
        meta.bthOpcode = hdr.bth.opcode;
        /* RC and UC opcodes that carry a RETH / an AETH (IBA vol. 1, table 38). */
        transition select(hdr.bth.opcode) {
            0x06: parse_reth;   /* RC RDMA WRITE first */
            0x0A: parse_reth;   /* RC RDMA WRITE only */
            0x0B: parse_reth;   /* RC RDMA WRITE only with immediate */
            0x0C: parse_reth;   /* RC RDMA READ request */
            0x26: parse_reth;   /* UC RDMA WRITE first */
            0x2A: parse_reth;   /* UC RDMA WRITE only */
            0x2B: parse_reth;   /* UC RDMA WRITE only with immediate */
            0x0D: parse_aeth;   /* RC RDMA READ response first */
            0x0F: parse_aeth;   /* RC RDMA READ response last */
            0x10: parse_aeth;   /* RC RDMA READ response only */
            0x11: parse_aeth;   /* RC ACK */
            0x12: parse_aeth;   /* RC atomic ACK */
            default: accept;
        }
    }

    /* A short aggregation packet ends in PacketTooShort; the aggregation control counts it. */
    state parse_agg {
        packet.extract(hdr.agg);
        packet.extract(hdr.agg_lanes);
        transition accept;
    }

    state parse_reth {
        packet.extract(hdr.reth);
        transition accept;
    }

    state parse_aeth {
        packet.extract(hdr.aeth);
        transition accept;
    }
}

#endif  /* _FABRIC_PARSER_P4_ */
