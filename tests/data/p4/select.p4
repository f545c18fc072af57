// Parser features: select on tuples with masks, ranges, default and `_`, value_set,
// lookahead, advance, verify, sub-states and reject.
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header vlan_t { bit<3> pcp; bit<1> dei; bit<12> vid; bit<16> type; }
header l4_t { bit<16> sport; bit<16> dport; }
struct pvs_t { bit<16> type; bit<12> vid; }
struct headers_t { eth_t eth; vlan_t vlan; l4_t l4; }
struct meta_t { bit<8> kind; bit<16> peek; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    value_set<bit<16>>(4) tpids;
    value_set<pvs_t>(8) special;

    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) {
            tpids: parse_vlan;
            0x8100 &&& 0xEFFF: parse_vlan;
            0x0600 .. 0x06FF: parse_l4;
            default: accept;
        }
    }
    state parse_vlan {
        pkt.extract(hdr.vlan);
        transition select(hdr.vlan.type, hdr.vlan.vid) {
            special: parse_l4;
            (0x0800, 0x001 .. 0x00F): parse_l4;
            (0x86dd, _): skip;
            (_, 0xFFF): reject;
            (default, 0x0 &&& 0x0): accept;
        }
    }
    state skip {
        meta.peek = pkt.lookahead<bit<16>>();
        pkt.advance(32);
        verify(meta.peek != 0, error.NoMatch);
        transition parse_l4;
    }
    state parse_l4 {
        pkt.extract(hdr.l4);
        transition select(hdr.l4.dport[15:8], hdr.l4.sport) {
            (0x00, 53): accept;
            (8w0xFF, _): reject;
            default: accept;
        }
    }
}

control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply { if (sm.parser_error != error.NoError) { mark_to_drop(sm); } }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.vlan); pkt.emit(hdr.l4); } }

V1Switch(P(), VC(), I(), E(), CC(), D()) main;
