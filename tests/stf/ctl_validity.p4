#include <core.p4>
#include <v1model.p4>
struct metadata { }
header data_t { bit<32> f1; bit<8> b1; }
header opt_t { bit<16> x; bit<16> y; }
struct headers { data_t data; opt_t opt; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        // reading an invalid header gives 0
        hdr.data.f1 = (bit<32>)hdr.opt.x;
        if (hdr.data.b1 == 1) {
            hdr.opt.setValid();          // fields start at zero
            hdr.opt.y = 0x1234;
        }
        if (hdr.data.b1 == 2) {
            hdr.data.setInvalid();
        }
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); pkt.emit(hdr.opt); } }

V1Switch(P(), V(), I(), E(), C(), D()) main;
