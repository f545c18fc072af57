// Tables: all match kinds, action profiles and selectors, direct counters and meters,
// const entries with priorities, const default actions, @defaultonly/@tableonly, @name,
// @id, switch on action_run, hit/miss.
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header ipv4_t { bit<8> ttl; bit<8> proto; bit<32> src; bit<32> dst; }
struct headers_t { eth_t eth; ipv4_t ipv4; }
struct meta_t { bit<16> nhop; bit<8> cls; bit<32> color; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.ipv4); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets) acl_counter;
    direct_meter<bit<32>>(MeterType.bytes) acl_meter;
    action_selector(HashAlgorithm.crc16, 1024, 14) ecmp_selector;
    action_profile(128) nhop_profile;

    action drop() { mark_to_drop(sm); }
    action set_nhop(bit<16> nhop) { meta.nhop = nhop; }
    action set_port(bit<9> port, bit<48> dmac) { sm.egress_spec = port; hdr.eth.dst = dmac; }
    action classify(bit<8> cls) { meta.cls = cls; acl_counter.count(); acl_meter.read(meta.color); }
    @name("permit") action allow() { acl_counter.count(); acl_meter.read(meta.color); }

    @name("routes") table ipv4_lpm {
        key = { hdr.ipv4.dst: lpm @name("dst_addr"); }
        actions = { set_nhop; @defaultonly drop; }
        const default_action = drop();
        size = 4096;
    }
    table ecmp {
        key = { meta.nhop: exact; hdr.ipv4.src: selector; hdr.ipv4.dst: selector; }
        actions = { set_port; drop; }
        implementation = ecmp_selector;
    }
    table nexthops {
        key = { meta.nhop: exact; }
        actions = { set_port; }
        implementation = nhop_profile;
        size = 0;
    }
    @id(0x02000042) table acl {
        key = {
            hdr.eth.type: ternary;
            hdr.ipv4.proto: range;
            hdr.ipv4.ttl: optional;
            hdr.eth.src: exact;
        }
        actions = { classify; @tableonly allow; NoAction; }
        counters = acl_counter;
        meters = acl_meter;
        entries = {
            priority = 30 : (0x0800 &&& 0xFFFF, 6 .. 17, 64, 0x000000000001) : classify(1);
            priority = 10 : (0x86dd, _, _, 2) : classify(2);
            (_, 1 .. 1, _, 3) : allow();
        }
    }
    table fixed {
        key = { hdr.eth.dst: exact; }
        actions = { set_port; NoAction; }
        const entries = {
            0xffffffffffff : set_port(0, 0xffffffffffff);
            1 : NoAction();
        }
        default_action = set_port(1, 2);
    }
    apply {
        switch (ipv4_lpm.apply().action_run) {
            set_nhop: {
                if (ecmp.apply().hit) { exit; }
                nexthops.apply();
            }
            default: { }
        }
        if (acl.apply().miss) { fixed.apply(); }
    }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.ipv4); } }

V1Switch(P(), VC(), I(), E(), CC(), D()) main;
