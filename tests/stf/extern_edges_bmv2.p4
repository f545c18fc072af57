/* BMv2's edges of v1model externs: hash() with max 0 is the base (max counts as 1); random()
   with lo > hi, a register read and a meter execute out of range write nothing (simple_switch's
   primitives check and leave the destination as it was). */
#include <core.p4>
#include <v1model.p4>
struct metadata { }
#include "include/data_common.p4"
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    register<bit<32>>(4) r;
    meter(32w4, MeterType.packets) m;
    apply {
        sm.egress_spec = 1;
        if (hdr.data.b1 == 1) {        // hash with max 0 (constant)
            hash(hdr.data.f2, HashAlgorithm.crc16, 32w5, {hdr.data.f1}, 32w0);
        } else if (hdr.data.b1 == 2) { // hash with max from packet (0)
            hash(hdr.data.f2, HashAlgorithm.crc16, 32w5, {hdr.data.f1}, (bit<32>)hdr.data.h1);
        } else if (hdr.data.b1 == 3) { // random lo > hi (from packet)
            random(hdr.data.f2, hdr.data.f1, (bit<32>)hdr.data.h1);
        } else if (hdr.data.b1 == 4) { // register read out of bounds
            r.read(hdr.data.f2, (bit<32>)hdr.data.h1);
        } else if (hdr.data.b1 == 5) { // meter execute out of bounds
            bit<8> c = 8w7;
            m.execute_meter((bit<32>)hdr.data.h1, c);
            hdr.data.b2 = c;
        }
    }
}
V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
