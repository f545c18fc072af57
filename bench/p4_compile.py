"""Compile-time benchmark for the P4 front end: prints timings, asserts nothing.

Generates a v1model program of N tables (about 12 lines each) and reports the time of the
first compile (grammar load included) and of a compile with a warm process but cold cache.

    .venv/bin/python bench/p4_compile.py [N]
"""

from __future__ import annotations

import pathlib
import sys
import time

HEADER = """#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header ipv4_t { bit<8> ttl; bit<8> proto; bit<32> src; bit<32> dst; }
struct headers_t { eth_t eth; ipv4_t ipv4; }
struct meta_t { bit<16> nhop; bit<8> cls; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth);
        transition select(hdr.eth.type) { 0x800: ipv4; default: accept; } }
    state ipv4 { pkt.extract(hdr.ipv4); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
"""
TABLE = """    action set_{i}(bit<16> nhop, bit<9> port) {{
        meta.nhop = nhop + {i}; sm.egress_spec = port;
        hdr.ipv4.ttl = hdr.ipv4.ttl |-| 1;
    }}
    action drop_{i}() {{ mark_to_drop(sm); }}
    table t_{i} {{
        key = {{ hdr.ipv4.dst: lpm; hdr.ipv4.proto: ternary; meta.cls: exact; }}
        actions = {{ set_{i}; drop_{i}; NoAction; }}
        default_action = drop_{i}();
        size = {size};
    }}
"""
FOOTER = """    apply {{
{applies}
    }}
}}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {{ apply {{ }} }}
control CC(inout headers_t hdr, inout meta_t meta) {{ apply {{ }} }}
control D(packet_out pkt, in headers_t hdr) {{ apply {{ pkt.emit(hdr.eth); pkt.emit(hdr.ipv4); }} }}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""


def program(n: int) -> str:
    tables = "".join(TABLE.format(i=i, size=1024 + i) for i in range(n))
    applies = "\n".join(f"        if (hdr.ipv4.isValid() && meta.cls != {i % 256}) {{ t_{i}.apply(); }}"
                        for i in range(n))
    return HEADER + tables + FOOTER.format(applies=applies)


def main() -> None:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    text = program(n)
    t0 = time.perf_counter()
    from fabriclab.p4 import compile_source
    first = compile_source(text, "bench.p4")
    t1 = time.perf_counter()
    compile_source(text + "\nconst bit<8> BENCH_UNUSED = 1;\n", "bench.p4")  # new content: no cache hit
    t2 = time.perf_counter()
    compile_source(text, "bench.p4")
    t3 = time.perf_counter()
    print(f"program: {len(text.splitlines())} lines, {len(first.p4info.tables)} tables, "
          f"{len(first.p4info.actions)} actions")
    print(f"first compile (imports + grammar): {t1 - t0:.3f} s")
    print(f"warm compile (cpp + parse + check + P4Info): {t2 - t1:.3f} s")
    print(f"cached compile: {(t3 - t2) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
