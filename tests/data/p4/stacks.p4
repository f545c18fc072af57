// Header stacks (next/last/lastIndex/size/push_front/pop_front, indexing) and header unions.
#include <core.p4>
#include <v1model.p4>

header ethernet_t { bit<48> dst; bit<48> src; bit<16> etherType; }
header mpls_t { bit<20> label; bit<3> tc; bit<1> bos; bit<8> ttl; }
header ipv4_t { bit<4> version; bit<4> ihl; bit<8> tos; bit<16> len; bit<16> id; bit<3> flags;
                bit<13> frag; bit<8> ttl; bit<8> proto; bit<16> csum; bit<32> src; bit<32> dst; }
header ipv6_t { bit<4> version; bit<8> tc; bit<20> flow; bit<16> len; bit<8> next; bit<8> hops;
                bit<128> src; bit<128> dst; }
header_union ip_t { ipv4_t v4; ipv6_t v6; }

struct headers_t { ethernet_t eth; mpls_t[4] mpls; ip_t ip; }
struct meta_t { bit<8> depth; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.etherType) {
            0x8847: parse_mpls;
            0x0800: parse_v4;
            0x86dd: parse_v6;
            default: accept;
        }
    }
    state parse_mpls {
        pkt.extract(hdr.mpls.next);
        meta.depth = (bit<8>)hdr.mpls.lastIndex + 1;  // lastIndex: in parsers only (p4c)
        transition select(hdr.mpls.last.bos) {
            0: parse_mpls;
            1: parse_inner;
        }
    }
    state parse_inner {
        transition select(pkt.lookahead<bit<4>>()) {
            4: parse_v4;
            6: parse_v6;
            default: accept;
        }
    }
    state parse_v4 { pkt.extract(hdr.ip.v4); transition accept; }
    state parse_v6 { pkt.extract(hdr.ip.v6); transition accept; }
}

control VC(inout headers_t hdr, inout meta_t meta) { apply { } }

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action pop() { hdr.mpls.pop_front(1); }
    action push(bit<20> label) {
        hdr.mpls.push_front(1);
        hdr.mpls[0].setValid();
        hdr.mpls[0].label = label;
        hdr.mpls[0].ttl = 64;
        hdr.mpls[0].bos = 0;
    }
    table mpls_tbl {
        key = { hdr.mpls[0].label: exact; hdr.mpls[0].isValid(): exact; }
        actions = { pop; push; NoAction; }
    }
    apply {
        bit<8> depth = meta.depth;
        if (hdr.mpls.size == 4 && depth < 4) {
            mpls_tbl.apply();
        }
        if (hdr.ip.isValid() && hdr.ip.v4.isValid()) {
            hdr.ip.v4.ttl = hdr.ip.v4.ttl - 1;
        } else if (hdr.ip.v6.isValid()) {
            hdr.ip.v6.hops = hdr.ip.v6.hops - 1;
            hdr.ip.v4.setInvalid();
        }
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.mpls); pkt.emit(hdr.ip); }
}

V1Switch(P(), VC(), I(), E(), CC(), D()) main;
