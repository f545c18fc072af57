// P4Info details checked against p4c's outputs for its samples (golden file beside):
// - a `type` over a translated `type` has the underlying width in P4Info, only the outermost
//   translation counts (v1model-p4runtime-enumint-types1, v1model-p4runtime-most-types1);
// - a `type` field of a digest struct is a new_type spec, and the type's own annotations
//   are listed in type_info.new_types (v1model-digest-custom-type, p416-type-use3);
// - a non-ASCII name is printed with octal escapes of its UTF-8 bytes and hashed over them
//   (nonstandard_table_names-bmv2).
#include <core.p4>
#include <v1model.p4>
@p4runtime_translation("example.org/port", 12)
type bit<8> port_t;
type port_t inner_port_t;
@my_note("kept")
type bit<16> tag_t;
header h_t { bit<8> a; bit<16> b; }
struct headers { h_t h; }
struct metadata { inner_port_t p; }
struct learn_t { tag_t tag; bit<8> a; }

parser P(packet_in pkt, out headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control V(inout headers hdr, inout metadata meta) { apply { } }
control I(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    @name("wörld_table")
    table t {
        key = { meta.p: exact; }
        actions = { NoAction; }
    }
    apply {
        meta.p = (inner_port_t)(port_t)hdr.h.a;
        t.apply();
        digest<learn_t>(1, { (tag_t)hdr.h.b, hdr.h.a });
    }
}
control E(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) { apply { } }
control C(inout headers hdr, inout metadata meta) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
