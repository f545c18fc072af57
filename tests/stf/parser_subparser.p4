// Sub-parsers: a parser instance applied from a parser state runs its states at the
// caller's offset; `out` arguments start invalid and are copied out when it accepts,
// `inout` ones copied in and out; its reject ends the whole parse without copying out (p4c
// inlines sub-parsers into the caller, frontends/p4/inlining.cpp: the callee's reject is
// the caller's, the copy-out a state after its accept; the parser-inline-test* STF agree,
// BMv2's behaviour on reject itself is not checked here).
#include <core.p4>
#include <v1model.p4>
struct metadata { bit<8> count; }
header tag_t { bit<8> kind; }
header val_t { bit<8> v; }
struct headers { tag_t t; val_t a; val_t b; }

parser Sub(packet_in pkt, out val_t v, inout bit<8> count) {
    state start {
        pkt.extract(v);
        count = count + 1;
        transition select(v.v) { 0xFF: reject; default: accept; }
    }
}
parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    Sub() sub;
    state start {
        pkt.extract(hdr.t);
        meta.count = 0;
        sub.apply(pkt, hdr.a, meta.count);
        transition select(hdr.t.kind) { 2: second; default: accept; }
    }
    state second {
        sub.apply(pkt, hdr.b, meta.count);
        hdr.t.kind = 0x20 + meta.count;
        transition accept;
    }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = (bit<9>)meta.count; }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
