#include <core.p4>
#include <v1model.p4>
header data_t {
    bit<32> f1;
    bit<32> f2;
    bit<16> h1;
    bit<8>  b1;
    bit<8>  b2;
}
header opt_t { bit<16> o; }
header ext_t { bit<32> e; }

struct headers {
    data_t data;
    opt_t  opt;
    ext_t  ext;
    ext_t  ext2;
}

struct metadata {
    @field_list(1) bit<8> in_len;
}

parser MyParser(packet_in pkt, out headers hdr, inout metadata meta,
                inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.data);
        transition select(hdr.data.b1) {
            1: parse_opt;
            default: accept;
        }
    }
    state parse_opt {
        pkt.extract(hdr.opt);
        transition accept;
    }
}

control NoVerify(inout headers hdr, inout metadata meta) { apply { } }
control NoCompute(inout headers hdr, inout metadata meta) { apply { } }

/* simple_switch's packet-length register: the received length, plus each setValid() of an
   invalid header, minus each setInvalid() of a valid one; egress reads it as packet_length
   (an ingress write to packet_length is not seen), and an E2E clone takes the original's */
control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        meta.in_len = (bit<8>)sm.packet_length;
        sm.packet_length = 0xFF;
        hdr.ext.setValid();
        hdr.ext.setValid();          /* already valid: counted once */
        hdr.ext.e = 0xE0E0E0E0;
        hdr.opt.setInvalid();        /* -2 only when parsed */
        sm.egress_spec = 1;
    }
}

control MyEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply {
        hdr.data.b2 = (bit<8>)sm.packet_length;
        if (sm.instance_type == 0) {
            hdr.data.h1 = (bit<16>)meta.in_len;
            hdr.ext2.setValid();
            hdr.ext2.e = 0xE2E2E2E2;
            clone_preserving_field_list(CloneType.E2E, 32w3, 1);
        }
    }
}

control MyDeparser(packet_out pkt, in headers hdr) {
    apply {
        pkt.emit(hdr.data);
        pkt.emit(hdr.opt);
        pkt.emit(hdr.ext);
        pkt.emit(hdr.ext2);
    }
}

V1Switch(MyParser(), NoVerify(), MyIngress(), MyEgress(), NoCompute(), MyDeparser()) main;
