"""Table entries as P4Runtime writes (p4c's --p4runtime-entries-files): ids, byte strings,
don't-cares left out, priorities, and the files `fabriclab compile` writes."""

import json
import pathlib

import pytest
from finsy.proto import p4r
from google.protobuf import json_format, text_format

from fabriclab.cli import main
from fabriclab.p4 import CompileError, compile_source

REPO = pathlib.Path(__file__).resolve().parents[3]

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
enum bit<8> Colour { RED = 1, BLUE = 7 }
header h_t { bit<16> a; bit<8> b; bit<8> c; bit<32> d; bool f; bit<7> pad; }
struct H { h_t h; }
struct M { }
parser P(packet_in pkt, out H hdr, inout M m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; } }
control VC(inout H hdr, inout M m) { apply { } }
control I(inout H hdr, inout M m, inout standard_metadata_t sm) {
    action set(bit<16> v) { hdr.h.a = v; }
    action paint(bool on, Colour c) { hdr.h.f = on; hdr.h.b = (bit<8>)c; }
    table tern {
        key = { hdr.h.a: ternary; hdr.h.b: exact; }
        actions = { set; NoAction; }
        const entries = {
            (0x1111 &&& 0xF, 1) : set(1);
            (_, 2)              : set(2);
            (0x1181, 3)         : set(3);
        }
    }
    table rng {
        key = { hdr.h.a: range; hdr.h.c: optional; }
        actions = { set; NoAction; }
        entries = {
            priority=10: (1 .. 5, _)         : set(1);
            priority=5:  (0 .. 0xFFFF, 7)    : set(2);
            priority=20: (9, 8)              : set(3);
        }
    }
    table pfx {
        key = { hdr.h.d: lpm; }
        actions = { set; NoAction; }
        const entries = {
            0x0A000000 &&& 0xFF000000 : set(8);
            0x0A000001                : set(32);
            0 &&& 0                   : set(0);
        }
    }
    table en {
        key = { hdr.h.b: exact; hdr.h.f: exact; }
        actions = { paint; }
        entries = { (Colour.BLUE, true) : paint(true, Colour.RED); }
    }
    apply { tern.apply(); rng.apply(); pfx.apply(); en.apply(); }
}
control E(inout H hdr, inout M m, inout standard_metadata_t sm) { apply { } }
control CC(inout H hdr, inout M m) { apply { } }
control D(packet_out pkt, in H hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""


@pytest.fixture(scope="module")
def compiled():
    return compile_source(PROGRAM, "entries.p4")


def _updates(compiled, table: str) -> list:
    tid = next(t.preamble.id for t in compiled.p4info.tables if t.preamble.name == f"I.{table}")
    return [u.entity.table_entry for u in compiled.p4runtime_entries.updates if u.entity.table_entry.table_id == tid]


def _action_id(compiled, name: str) -> int:
    return next(a.preamble.id for a in compiled.p4info.actions if a.preamble.name == name)


def test_every_update_is_an_insert_in_p4info_table_order(compiled):
    updates = compiled.p4runtime_entries.updates
    assert {u.type for u in updates} == {p4r.Update.INSERT} and len(updates) == 10
    order = [t.preamble.id for t in compiled.p4info.tables]
    ids = [u.entity.table_entry.table_id for u in updates]
    assert ids == sorted(ids, key=order.index)


def test_const_ternary_entries_count_down_and_leave_dont_cares_out(compiled):
    entries = _updates(compiled, "tern")
    assert [e.priority for e in entries] == [3, 2, 1] and all(e.is_const for e in entries)
    first = entries[0]
    assert first.match[0].field_id == 1 and first.match[0].ternary.value == b"\x00\x01"  # masked-off bits cleared
    assert first.match[0].ternary.mask == b"\x00\x0f"
    assert first.match[1].field_id == 2 and first.match[1].exact.value == b"\x01"
    assert [m.field_id for m in entries[1].match] == [2]  # `_` is left out
    assert entries[2].match[0].ternary.mask == b"\xff\xff"  # a plain value matches every bit
    assert first.action.action.action_id == _action_id(compiled, "I.set")
    assert [(p.param_id, p.value) for p in first.action.action.params] == [(1, b"\x00\x01")]


def test_other_entries_keep_their_priorities_in_priority_order(compiled):
    entries = _updates(compiled, "rng")
    assert [e.priority for e in entries] == [20, 10, 5]  # p4c's front end sorts them
    assert not any(e.is_const for e in entries)
    single, some, everything = entries
    assert single.match[0].range.low == single.match[0].range.high == b"\x00\x09"
    assert single.match[1].optional.value == b"\x08"
    assert [m.field_id for m in some.match] == [1] and some.match[0].range.high == b"\x00\x05"
    assert [m.field_id for m in everything.match] == [2]  # a range over every value is left out


def test_lpm_prefixes_and_no_priority_for_exact_and_lpm(compiled):
    entries = _updates(compiled, "pfx")
    assert [(m.lpm.value, m.lpm.prefix_len) for e in entries for m in e.match] == \
        [(b"\x0a\x00\x00\x00", 8), (b"\x0a\x00\x00\x01", 32)]
    assert len(entries[2].match) == 0  # /0 matches everything
    assert all(e.priority == 0 for e in entries)


def test_bools_and_serializable_enums_as_their_bits(compiled):
    (entry,) = _updates(compiled, "en")
    assert [m.exact.value for m in entry.match] == [b"\x07", b"\x01"]
    assert [p.value for p in entry.action.action.params] == [b"\x01", b"\x01"]
    assert entry.action.action.action_id == _action_id(compiled, "I.paint")


def test_negative_values_are_refused_as_p4c_does():
    neg = "\n    action neg(int<8> v) { hdr.h.b = (bit<8>)v; }"
    text = PROGRAM.replace("action set(bit<16> v) { hdr.h.a = v; }", "action set(bit<16> v) { hdr.h.a = v; }" + neg) \
        .replace("actions = { paint; }", "actions = { paint; neg; }") \
        .replace("paint(true, Colour.RED); }", "paint(true, Colour.RED); (1, false) : neg(-3); }")
    compiled = compile_source(text, "negative.p4")
    with pytest.raises(CompileError, match="-3: Negative values not supported yet"):
        compiled.checked_p4info()


def test_compile_writes_entries_files_in_every_format(tmp_path, compiled):
    prog = tmp_path / "entries.p4"
    prog.write_text(PROGRAM)
    files = [tmp_path / "e.txtpb", tmp_path / "e.json", tmp_path / "e.bin"]
    assert main(["compile", str(prog), "-q", "-o", str(tmp_path / "p.json"),
                 "--p4runtime-entries-files", ",".join(map(str, files)),
                 "--p4runtime-entries-file", str(tmp_path / "one.entries"), "--p4runtime-format", "text"]) == 0
    expected = compiled.p4runtime_entries
    text = files[0].read_text()
    assert text.startswith("# proto-file: p4/v1/p4runtime.proto\n# proto-message: p4.v1.WriteRequest\n\n")
    assert '"\\000\\001"' in text  # octal escapes, as p4c's C++ printer
    assert text_format.Parse(text, p4r.WriteRequest()) == expected
    assert (tmp_path / "one.entries").read_text() == text
    doc = files[1].read_text()
    assert doc.startswith('{\n "updates": [\n  {\n')  # C++ protobuf's JSON: one space per level
    assert json_format.Parse(doc, p4r.WriteRequest()) == expected and json.loads(doc)
    assert p4r.WriteRequest.FromString(files[2].read_bytes()) == expected


def test_a_program_without_entries_writes_an_empty_request(tmp_path):
    out = tmp_path / "e.txtpb"
    assert main(["compile", str(REPO / "p4src" / "basic.p4"), "-q", "-o", str(tmp_path / "b.json"),
                 "--p4runtime-entries-files", str(out)]) == 0
    assert out.read_text() == "# proto-file: p4/v1/p4runtime.proto\n# proto-message: p4.v1.WriteRequest\n\n"
