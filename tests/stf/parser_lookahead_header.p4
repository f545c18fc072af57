#include <core.p4>
#include <v1model.p4>
struct metadata { bit<16> peek_x; }
header probe_t { bit<8> kind; bit<8> len; }
header body_t { bit<16> x; }
struct headers { body_t body; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        probe_t probe = pkt.lookahead<probe_t>();
        meta.peek_x = probe.kind ++ probe.len;
        transition select(probe.kind) { 1: body; default: accept; }
    }
    state body { pkt.extract(hdr.body); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (hdr.body.isValid()) { hdr.body.x = meta.peek_x + 1; }
        bit<16> h;
        hash(h, HashAlgorithm.crc16_custom, 16w0, { meta.peek_x }, 32w65536);
        if (h == 16w0) { sm.egress_spec = 2; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.body); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
