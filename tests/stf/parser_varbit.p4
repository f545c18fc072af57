// varbit fields: extract(hdr, len) with the length from a field, emit with the extracted
// length, a checksum over a list holding the varbit field (its current length counts, as
// BMv2 builds field lists), header equality (lengths must match too), and the parser errors
// BMv2 raises for bad lengths as p4c's test-parserinvalidargument-error-bmv2 STF shows them
// (not a multiple of 8 bits: ParserInvalidArgument; over the maximum: HeaderTooShort).
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header base_t { bit<8> len; bit<8> err; bit<16> csum; }
header opt_t { bit<8> kind; varbit<24> data; }
struct headers { base_t base; opt_t a; opt_t b; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.base);
        pkt.extract(hdr.a, (bit<32>)hdr.base.len);
        pkt.extract(hdr.b, (bit<32>)hdr.base.len);
        transition accept;
    }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (sm.parser_error == error.ParserInvalidArgument) { hdr.base.err = 1; }
        if (sm.parser_error == error.HeaderTooShort) { hdr.base.err = 2; }
        if (sm.parser_error == error.PacketTooShort) { hdr.base.err = 3; }
        if (hdr.a.isValid() && hdr.a == hdr.b) { sm.egress_spec = 2; }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) {
    apply {
        update_checksum(hdr.a.isValid(), { hdr.a.kind, hdr.a.data }, hdr.base.csum,
                        HashAlgorithm.csum16);
    }
}
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
