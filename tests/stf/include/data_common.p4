/* Shared pieces of the small STF programs: a 12-byte `data` header and pass-through
   blocks. Include after core.p4/v1model.p4 and after declaring `struct metadata`. */
header data_t {
    bit<32> f1;
    bit<32> f2;
    bit<16> h1;
    bit<8>  b1;
    bit<8>  b2;
}

struct headers {
    data_t data;
}

parser DataParser(packet_in pkt, out headers hdr, inout metadata meta,
                  inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.data);
        transition accept;
    }
}

control NoVerify(inout headers hdr, inout metadata meta) { apply { } }
control NoCompute(inout headers hdr, inout metadata meta) { apply { } }
control NoEgress(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    apply { }
}
control DataDeparser(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.data); } }
