// Top-level extern instances, shared by ingress and egress: P4Info names them without a
// control prefix and lists them before the controls' own instances (p4c's breadth-first walk
// of the evaluated program). A table property may name a top-level instance too.
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { eth_t eth; }
struct meta_t { bit<32> hash; bit<8> seen; }

register<bit<8>>(2) r;
@name("port_hits") counter(64, CounterType.packets) hits;
meter(8, MeterType.bytes) rate;
action_selector(HashAlgorithm.crc16, 128, 14) sel;
direct_counter(CounterType.bytes) dc;

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    register<bit<16>>(4) r;
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table lag {
        key = { hdr.eth.dst: exact; meta.hash: selector; }
        actions = { fwd; }
        implementation = sel;
    }
    table lag2 {
        key = { hdr.eth.src: exact; meta.hash: selector; }
        actions = { fwd; }
        implementation = sel;
    }
    apply {
        bit<16> local_r;
        r.read(local_r, 0);  // the control's own r shadows the top-level one
        hits.count((bit<32>)sm.ingress_port);
        lag.apply();
        lag2.apply();
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action mark() { hdr.eth.type = 0x1234; }
    table acct {
        key = { hdr.eth.type: exact; }
        actions = { mark; }
        counters = dc;
    }
    apply {
        bit<32> color;
        rate.execute_meter((bit<32>)sm.egress_port, color);
        r.write(1, meta.seen);
        acct.apply();
    }
}

control Nop(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }

V1Switch(P(), Nop(), I(), E(), Nop(), D()) main;
