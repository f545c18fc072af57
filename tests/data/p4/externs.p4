// v1model externs: counters, meters, registers, hash, random, digest, clone, resubmit,
// recirculate, truncate, log_msg, assert/assume, checksums, packet-in/out headers.
#include <core.p4>
#include <v1model.p4>

@controller_header("packet_in")
header packet_in_t { bit<9> ingress_port; bit<7> _pad; }
@controller_header("packet_out")
header packet_out_t { bit<9> egress_port; @id(5) bit<7> _pad; }
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header ipv4_t { bit<4> version; bit<4> ihl; bit<8> tos; bit<16> len; bit<16> id; bit<3> flags;
                bit<13> frag; bit<8> ttl; bit<8> proto; bit<16> csum; bit<32> src; bit<32> dst; }
struct headers_t { packet_out_t pout; packet_in_t pin; eth_t eth; ipv4_t ipv4; }
struct learn_t { bit<48> src; bit<9> port; }
struct meta_t { @field_list(1) bit<9> in_port; bit<32> color; bit<16> h; bit<32> rnd; bit<32> reg; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        transition select(sm.ingress_port) {
            255: parse_pout;
            default: parse_eth;
        }
    }
    state parse_pout { pkt.extract(hdr.pout); transition parse_eth; }
    state parse_eth {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) { 0x800: parse_ipv4; default: accept; }
    }
    state parse_ipv4 { pkt.extract(hdr.ipv4); transition accept; }
}

control VC(inout headers_t hdr, inout meta_t meta) {
    apply {
        verify_checksum(hdr.ipv4.isValid(),
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.tos, hdr.ipv4.len, hdr.ipv4.id, hdr.ipv4.flags,
              hdr.ipv4.frag, hdr.ipv4.ttl, hdr.ipv4.proto, hdr.ipv4.src, hdr.ipv4.dst },
            hdr.ipv4.csum, HashAlgorithm.csum16);
    }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    counter(1024, CounterType.packets_and_bytes) port_counter;
    @name(".global_bytes") counter(64, CounterType.bytes) byte_counter;
    meter(32, MeterType.packets) port_meter;
    register<bit<32>>(256) flow_reg;
    @id(0x16000001) register<bit<48>>(16) last_seen;

    action learn() {
        digest<learn_t>(1, { hdr.eth.src, sm.ingress_port });
    }
    action to_cpu() {
        hdr.pin.setValid();
        hdr.pin.ingress_port = sm.ingress_port;
        sm.egress_spec = 255;
    }
    apply {
        port_counter.count((bit<32>)sm.ingress_port);
        byte_counter.count(0);
        port_meter.execute_meter<bit<32>>((bit<32>)sm.ingress_port, meta.color);
        hash(meta.h, HashAlgorithm.crc16, (bit<16>)0, { hdr.eth.src, hdr.eth.dst }, (bit<32>)65536);
        random(meta.rnd, 0, 100);
        flow_reg.read(meta.reg, (bit<32>)meta.h);
        flow_reg.write((bit<32>)meta.h, meta.reg + 1);
        last_seen.write(0, hdr.eth.src);
        if (hdr.pout.isValid()) {
            sm.egress_spec = hdr.pout.egress_port;
            hdr.pout.setInvalid();
            return;
        }
        if (meta.color == V1MODEL_METER_COLOR_RED) { mark_to_drop(sm); }
        learn();
        if (hdr.eth.type == 0x88cc) { to_cpu(); }
        meta.in_port = sm.ingress_port;
        clone(CloneType.I2E, 100);
        clone_preserving_field_list(CloneType.I2E, 101, 1);
        if (meta.h == 1) { resubmit_preserving_field_list(1); }
        log_msg("ingress port {}", { sm.ingress_port });
        log_msg("hello");
        assert(sm.ingress_port != 511);
        assume(true);
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        if (sm.instance_type == 1) { truncate(64); }
        if (meta.h == 0) { recirculate_preserving_field_list(1); }
    }
}

control CC(inout headers_t hdr, inout meta_t meta) {
    apply {
        update_checksum(hdr.ipv4.isValid(),
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.tos, hdr.ipv4.len, hdr.ipv4.id, hdr.ipv4.flags,
              hdr.ipv4.frag, hdr.ipv4.ttl, hdr.ipv4.proto, hdr.ipv4.src, hdr.ipv4.dst },
            hdr.ipv4.csum, HashAlgorithm.csum16);
    }
}

control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.pin); pkt.emit(hdr.eth); pkt.emit(hdr.ipv4); }
}

V1Switch(P(), VC(), I(), E(), CC(), D()) main;
