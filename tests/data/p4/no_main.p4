// A program without `main` (a library of declarations): p4c warns and writes an empty
// P4Info (p4c testdata: bitwise-and.p4, issue407-2.p4 have no main and an empty
// .p4info.txtpb); the switch refuses to run it.
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; }
struct headers { h_t h; }
struct metadata { }
control Lib(inout headers hdr, inout metadata meta, inout standard_metadata_t sm) {
    table t { key = { hdr.h.a: exact; } actions = { NoAction; } }
    apply { if (hdr.h.a == 1) { t.apply(); } }
}
