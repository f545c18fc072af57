// Function calls with side effects inside expressions keep P4's evaluation order (P4-16
// spec, "order of evaluation": left to right; && || ?: evaluate an operand only if needed;
// p4c's front end orders them in frontends/p4/sideEffects.cpp). Checked against p4c's STF
// expectations for issue2205, gauntlet_short_circuit and opassign2, not against BMv2 itself.
#include <core.p4>
#include <v1model.p4>
struct metadata { }
header d_t { bit<8> a; bit<8> b; bit<8> c; bit<8> n; bit<8> i; }
header e_t { bit<8> x; }
struct headers { d_t d; e_t[4] s; }

bit<8> bump(inout bit<8> v) { bit<8> old = v; v = v + 1; return old; }
bool touch(inout bit<8> v) { v = v + 1; return true; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.d);
        pkt.extract(hdr.s.next); pkt.extract(hdr.s.next); pkt.extract(hdr.s.next); pkt.extract(hdr.s.next);
        transition accept;
    }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        // the left operand reads a before bump writes it: b = a + a, then a = a + 1
        hdr.d.b = hdr.d.a + bump(hdr.d.a);
        // skipped right operands: n is not touched
        bool t = true || touch(hdr.d.n);
        bool f = false && touch(hdr.d.n);
        // evaluated: n += 1 once
        bool u = t && !f && touch(hdr.d.n);
        // only the chosen branch of ?: runs: c = old c, and c incremented once
        bit<8> r = u ? bump(hdr.d.c) : bump(hdr.d.c);
        hdr.d.c = hdr.d.c + r;
        // a call in the l-value of a compound assignment runs once: s[i] ^= 0xFF, i += 1
        hdr.s[bump(hdr.d.i) & 3].x ^= 0xFF;
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
