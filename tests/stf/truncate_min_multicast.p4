/* truncate(): the smallest length asked for wins; multicast replicas are new packets that do
   not inherit it (BMv2 Packet::truncate, clone_with_phv). */
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header extra_t { bit<32> x; }
header data_t { bit<32> f1; bit<32> f2; bit<16> h1; bit<8> b1; bit<8> b2; }
struct headers { data_t data; extra_t extra; }
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data); transition accept; }
}
control NoVerify(inout headers hdr, inout metadata meta) { apply { } }
control NoCompute(inout headers hdr, inout metadata meta) { apply { } }
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        if (hdr.data.b1 == 1) {          // truncate twice: BMv2 keeps the smaller
            truncate(6); truncate(10);
        } else if (hdr.data.b1 == 2) {   // truncate + multicast
            truncate(6);
            sm.mcast_grp = 1;
        }
    }
}
control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
    }
}
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); pkt.emit(hdr.extra); } }
V1Switch(P(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), D()) main;
