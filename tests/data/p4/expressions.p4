// Every expression kind on fixed-width types: arithmetic, saturating, bitwise, shifts,
// comparisons, logic, concatenation, slices, casts, ternary, struct/list initializers.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> a; bit<8> b; bit<16> c; int<8> s; bit<32> w; bool flag; bit<7> pad; }
struct pair_t { bit<8> x; bit<16> y; }
struct headers_t { h_t h; }
struct meta_t { pair_t p; bit<32> r; int<16> sr; bool ok; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        bit<8> a = hdr.h.a;
        bit<8> b = hdr.h.b;
        bit<8> t;
        t = a + b; t = a - b; t = a * b; t = a / 2; t = a % 3;
        t = a |+| b; t = a |-| b;
        t = a & b; t = a | b; t = a ^ b; t = ~a; t = -a;
        t = a << 2; t = a >> b; t = 8w1 << 7;
        bit<16> cat = a ++ b;
        hdr.h.c = cat[15:0] + (bit<16>)a;
        bit<4> nib = hdr.h.w[31:28];
        hdr.h.w[7:0] = a;
        int<8> s = hdr.h.s;
        int<16> ws = (int<16>)s;
        meta.sr = ws - 16s1;
        bool c1 = a == b;
        bool c2 = a != b || a < b && a > b;
        bool c3 = !(a <= b) && a >= b;
        meta.ok = c1 ? c2 : c3;
        meta.r = (bit<32>)nib + (hdr.h.flag ? 32w1 : 32w2) + (bit<32>)(bit<1>)hdr.h.flag;
        meta.p = { a, cat };
        meta.p = { x = b, y = 16w0x_ff_ff };
        pair_t q = { y = 3, x = 4 };
        hdr.h.flag = (bool)1w1 && (q.x == 4);
        meta.r = meta.r + (32w0xFFFF_FFFF >> 4) + (bit<32>)(3 * 4 + 2 - 10 / 3);
        hdr.h.pad = (bit<7>)((bit<8>)-1);
    }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), VC(), I(), E(), CC(), D()) main;
