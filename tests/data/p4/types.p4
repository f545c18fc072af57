// Enums, serializable enums, typedef, `type`, constants, errors, switch on values.
#include <core.p4>
#include <v1model.p4>

typedef bit<48> mac_t;
type bit<32> tenant_t;
const bit<16> ETH_IPV4 = 16w0x0800;
const int HALF = 8;
const bool ENABLED = true;

enum Color { Red, Green, Blue }
enum bit<8> Proto { TCP = 6, UDP = 17, ICMP = 1 }
error { BadVersion, TooManyLabels }

header eth_t { mac_t dst; mac_t src; bit<16> type; }
header ip_t { bit<4> version; bit<4> ihl; Proto proto; bit<8> ttl; }
struct headers_t { eth_t eth; ip_t ip; }
struct meta_t { Color color; tenant_t tenant; Proto proto; error err; bit<8> ttl_class; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) {
            ETH_IPV4: parse_ip;
            default: accept;
        }
    }
    state parse_ip {
        pkt.extract(hdr.ip);
        verify(hdr.ip.version == 4, error.BadVersion);
        meta.proto = hdr.ip.proto;
        transition select(hdr.ip.proto) {
            Proto.TCP: accept;
            Proto.UDP: accept;
            default: reject;
        }
    }
}

control VC(inout headers_t hdr, inout meta_t meta) { apply { } }

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action set_tenant(tenant_t t, Proto p) { meta.tenant = t; meta.proto = p; }
    table tenants {
        key = { hdr.eth.src: exact; meta.proto: exact; }
        actions = { set_tenant; NoAction; }
        default_action = NoAction();
    }
    apply {
        meta.color = Color.Green;
        if (sm.parser_error == error.BadVersion) {
            meta.err = sm.parser_error;
            mark_to_drop(sm);
            exit;
        }
        if (meta.color != Color.Red && ENABLED) {
            tenants.apply();
        }
        switch (hdr.ip.ttl) {
            0: { meta.ttl_class = 0; }
            1:
            2: { meta.ttl_class = 1; }
            default: { meta.ttl_class = HALF; }
        }
        switch (meta.color) {
            Color.Red: { sm.egress_spec = 1; }
            Color.Green: { sm.egress_spec = (bit<9>)(bit<8>)meta.proto; }
        }
        bit<8> p = (bit<8>)meta.proto;
        if ((bit<32>)meta.tenant == 7 && p == 6) { sm.egress_spec = 2; }
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }

V1Switch(P(), VC(), I(), E(), CC(), D()) main;
