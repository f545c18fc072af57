#include <core.p4>
#include <v1model.p4>
struct pair_t { bit<8> a; bit<8> b; }
struct metadata { pair_t p; pair_t q; bool flag; }
#include "data_common.p4"

enum Mode { Copy, Swap }

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        meta.p = { hdr.data.b1, hdr.data.b2 };
        meta.q = meta.p;
        meta.p.a = 0;
        Mode m = (hdr.data.h1 == 1) ? Mode.Swap : Mode.Copy;
        meta.flag = m == Mode.Swap;
        if (meta.q == meta.p) { hdr.data.f2 = 1; }   // differ: p.a was zeroed
        meta.p.a = meta.q.a;
        if (meta.q == meta.p) { hdr.data.f2 = hdr.data.f2 + 2; }
        meta.p.a = 0;
        if (meta.flag && meta.q.a != 0) {
            hdr.data.b1 = meta.q.b;
            hdr.data.b2 = meta.q.a;
        }
        switch (hdr.data.h1) {
            1: { hdr.data.f1 = 1; }
            2:
            3: { hdr.data.f1 = 23; }
            default: { hdr.data.f1 = (bit<32>)meta.p.a; }
        }
        sm.egress_spec = 1;
    }
}

V1Switch(DataParser(), NoVerify(), MyIngress(), NoEgress(), NoCompute(), DataDeparser()) main;
