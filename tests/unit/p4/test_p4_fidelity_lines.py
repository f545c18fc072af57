"""p4c's negative corpus (p4_16_errors) where the first diagnostic must name p4c's line.

Each rule has a program p4c rejects (`@@` marks the line the first diagnostic must name) and
a close variant p4c accepts, which must still compile.
"""

import pytest

from fabriclab.p4 import CompileError, compile_source

MAIN = """
header h_t { bit<8> a; bit<16> b; }
struct hs_t { h_t h; }
struct m_t { bit<8> x; }
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    {LOCALS}
    apply { {APPLY} }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;
"""


def program(decls: str = "", locals_: str = "", apply: str = "", include: str = "#include <v1model.p4>\n") -> str:
    return include + decls + MAIN.replace("{LOCALS}", locals_).replace("{APPLY}", apply)


def rejects(message: str, text: str) -> None:
    marker = text.index("@@")
    line = text.count("\n", 0, marker) + 1
    with pytest.raises(CompileError) as info:
        compile_source(text.replace("@@", ""), "prog.p4")
    diag = info.value.first
    assert message in diag.message, diag.format()
    assert diag.pos is not None and diag.pos.line == line, diag.format()


def compiles(text: str) -> None:
    compile_source(text, "prog.p4")


# -- a repeated member of an enum, error or match_kind: p4c names the repeat -----------------

@pytest.mark.parametrize("decl", [
    "enum E {\n  a,\n  b,\n  @@b\n}\n",
    "enum bit<8> E {\n  a = 1,\n  @@a = 2\n}\n",
    "error {\n  Oops,\n  @@Oops\n}\n",
    "match_kind {\n  fancy,\n  @@fancy\n}\n",
    "match_kind {\n  fancy\n}\nmatch_kind {\n  @@fancy\n}\n",
    "error {\n  @@NoError\n}\n",  # core.p4 declares it
])
def test_repeated_member_names_the_repeat(decl: str) -> None:
    rejects("duplicate", program(decl))


@pytest.mark.parametrize("decl", [
    "enum E {\n  a,\n  b\n}\n",
    "error {\n  Oops,\n  Oops2\n}\n",
    "match_kind {\n  fancy\n}\nmatch_kind {\n  fancier\n}\n",
])
def test_distinct_members_compile(decl: str) -> None:
    compiles(program(decl))


# -- entry priorities: p4c names the table's key (not needed) or the table (overflow) -------

def _table(key: str, entries: str, props: str = "", name: str = "t") -> str:
    return (f"    action set(bit<8> v) {{ meta.x = v; }}\n    table {name} {{\n        key = {{ {key} }}\n"
            f"        actions = {{ set; }}\n        {props}\n        entries = {{ {entries} }}\n    }}\n")


def test_priorities_on_exact_keys_name_the_key() -> None:
    locals_ = _table("hdr.h.a : exact;", "priority = 10 : 1 : set(1); 2 : set(2);").replace("key =", "@@key =")
    rejects("does not require priorities", program(locals_=locals_, apply="t.apply();"))
    compiles(program(locals_=_table("hdr.h.a : ternary;", "priority = 10 : 1 : set(1); 2 : set(2);"),
                     apply="t.apply();"))


def test_priority_overflow_names_the_table() -> None:
    locals_ = _table("hdr.h.a : ternary;", "priority = 0 : 1 : set(1); 2 : set(2);", name="@@t")
    rejects("overflow in priority computation", program(locals_=locals_, apply="t.apply();"))
    compiles(program(locals_=_table("hdr.h.a : ternary;", "priority = 2 : 1 : set(1); 2 : set(2);"),
                     apply="t.apply();"))


# -- tables: names resolve before entries are checked; NoAction; properties once ------------

def test_undeclared_entry_action_comes_before_key_errors() -> None:
    entries = "(1, 2) : set(1);\n @@1 : missing();"
    rejects("'missing' in the entries of table 't' is undeclared",
            program(locals_=_table("hdr.h.a : exact;", entries), apply="t.apply();"))
    compiles(program(locals_=_table("hdr.h.a : exact;", "1 : set(1);"), apply="t.apply();"))


@pytest.mark.parametrize("decl, message", [
    ("@@const bit<1> NoAction = 1;\n", "NoAction: expected to be an action"),
    ("@@action NoAction(bit<1> t) {}\n", "NoAction: expected an action with no parameters"),
])
def test_a_table_without_default_action_names_a_wrong_noaction(decl: str, message: str) -> None:
    control = "control c() {\n    table t { actions = {} }\n    apply { t.apply(); }\n}\n"
    rejects(message, decl + control)
    compiles("action NoAction() {}\n" + control)


def test_a_table_property_is_declared_once() -> None:
    control = "control c() {\n    table t {\n        key = {}\n        @@key = {}\n        actions = {}\n    }\n" \
              "    apply { t.apply(); }\n}\n"
    rejects("key: duplicate property of table 't'", "#include <core.p4>\n" + control)
    compiles("#include <core.p4>\n" + control.replace("@@key = {}", ""))
