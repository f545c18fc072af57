"""Every user error is a `file:line:col: error: message` diagnostic at the right place.

Each case inserts snippets into a small valid program; `@@` marks where the caret must point.
"""

import pytest

from fabriclab.p4 import CompileError, compile_source

TEMPLATE = """#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
header_union u_t { h_t x; }
struct hs_t { h_t h; h_t[2] st; u_t u; }
struct m_t { bit<8> x; bit<16> y; }
enum E { A, B }
{DECLS}
parser P(packet_in pkt, out hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    {PARSER_LOCALS}
    state start { pkt.extract(hdr.h); {PARSER} transition {TRANSITION} }
    state next { transition accept; }
}
control C(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) {
    action a1(in bit<8> v, bit<8> p) { meta.x = p; }
    {LOCALS}
    apply { {APPLY} }
}
control Nop(inout hs_t hdr, inout m_t meta) { apply { } }
control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out pkt, in hs_t hdr) { apply { pkt.emit(hdr.h); } }
{MAIN}
"""
DEFAULTS = {"DECLS": "", "PARSER_LOCALS": "", "PARSER": "", "TRANSITION": "accept;", "LOCALS": "",
            "APPLY": "", "MAIN": "V1Switch(P(), Nop(), C(), Eg(), Nop(), D()) main;"}


def build(**slots):
    text = TEMPLATE
    for key, default in DEFAULTS.items():
        text = text.replace("{" + key + "}", slots.get(key, default))
    return text


def test_template_compiles():
    compile_source(build(), "t.p4")


CASES = [
    # syntax and unsupported constructs
    ("syntax", {"APPLY": "meta.x = @@;"}, "syntax error, unexpected ;"),  # (p4c's bison words)
    ("syntax keyword", {"APPLY": "meta.x = @@default;"}, "syntax error, unexpected DEFAULT"),
    ("syntax comma", {"APPLY": "meta.x = @@, 1;"}, 'syntax error, unexpected ","'),
    ("syntax type name", {"APPLY": "meta.x = 1 @@m_t;"}, "syntax error, unexpected TYPE_IDENTIFIER"),
    ("unexpected char", {"APPLY": "meta.x = @@$;"}, "syntax error, unexpected UNEXPECTED_TOKEN"),
    # p4c's grammar: a constructor call names a type declared (or specialised), never a base type;
    # a type argument may be any name (one no type declared before it names: found later)
    ("base type constructor", {"DECLS": "const bit<32> K2 = @@bit<32>(0);"}, "syntax error, unexpected BIT"),
    ("specialised method name", {"DECLS": "extern Y {\n    Y<T>@@(in T arg);\n}"}, "syntax error, unexpected ("),
    ("keyword type argument", {"DECLS": "type m_t<type> @@(type x) { }"}, "syntax error, unexpected ("),
    ("undeclared type argument", {"DECLS": "extern X<T> { X(); }", "LOCALS": "X<@@nope_t>() x;"},
     "nope_t: declaration not found"),
    ("varbit width", {"DECLS": "header v_t { @@varbit<(-1)> opts; }"}, "varbit<-1>: invalid type size"),
    # core.p4's static_assert (p4c: issue3531), false or not a constant
    ("static_assert", {"DECLS": 'const bool ok = @@static_assert(1 == 2, "one is not two");'},
     'static_assert(false, "one is not two"): one is not two'),
    ("generic function", {"DECLS": "T zero<T>() { return 0; }", "APPLY": "meta.x = @@zero();"},
     "unsupported: cannot infer type argument 'T' of function 'zero'"),
    ("two-argument extract", {"PARSER": "pkt.extract(@@hdr.h, 32);"},
     "hdr.h: argument should contain a varbit field\n(extract(hdr, len) needs a header with one varbit field"),
    ("this", {"APPLY": "@@this.x = 1;"}, "'this' can only be used in the definition of an abstract method"),
    ("generic control", {"DECLS": "control G<T>(inout T t) { apply { } }", "LOCALS": "G() @@g;"},
     "unsupported: cannot infer type argument 'T' of control 'G'"),
    ("exit in parser", {"PARSER": "if (true) { @@exit; }"}, "exit statements are not allowed in parser"),
    # names and types
    ("undeclared", {"APPLY": "meta.x = @@nope;"}, "nope: declaration not found"),
    ("undeclared type", {"LOCALS": "@@nope_t v;"}, "syntax error, unexpected IDENTIFIER\n('nope_t' is not"),
    ("undeclared type in statement", {"APPLY": "nope_t @@v = 1;"}, "unexpected IDENTIFIER\n('nope_t' is not"),
    ("undeclared typedef target", {"DECLS": "typedef @@missing_t other_t;"}, "unexpected IDENTIFIER\n('missing_t' is"),
    ("comment and spaces", {"APPLY": "meta.x = /* note */   @@hdr.h.b;"}, "cannot be used as bit<8>"),
    ("type as value", {"APPLY": "meta.x = m_t@@;"}, "syntax error, unexpected ;"),
    ("duplicate", {"LOCALS": "action @@a1() { }"}, "a1: Duplicates declaration a1"),  # (p4c's words)
    ("duplicate field", {"DECLS": "header d_t { bit<8> f; bit<8> @@f; }"}, "f: Duplicates declaration f"),
    ("header field type", {"DECLS": "header d_t { @@error f; }"}, "header fields must be bit<W>"),
    ("zero width", {"DECLS": "header d_t { @@int<0> f; }"}, "Width of signed type cannot be zero"),
    ("stack of structs", {"DECLS": "header a_t { m_t[2] ms; }", "LOCALS": "a_t ah;", "APPLY": "ah.ms[@@meta.x].x = 1;"},
     "unsupported: a non-constant index into an array of structs in a header"),
    ("no field", {"APPLY": "meta.x = @@hdr.h.zz;"}, "Field zz is not a member of header h_t"),
    ("no enum member", {"APPLY": "E e = @@E.C;"}, "E.C: Invalid enum tag"),
    ("undeclared error", {"APPLY": "error e = @@error.Nope;"}, "error.Nope is not declared"),
    ("stack index", {"APPLY": "hdr.st[@@2].a = 1;"}, "index 2 is out of bounds for a stack of size 2"),
    ("slice range", {"APPLY": "meta.x = @@hdr.h.b[16:9];"}, "Bit index 16 greater than width 16"),
    ("width mismatch", {"APPLY": "meta.x = @@hdr.h.b;"}, "bit<16> cannot be used as bit<8> (width/sign mismatch"),
    ("operand mismatch", {"APPLY": "meta.y = @@meta.x + hdr.h.b;"},
     "meta.x + hdr.h.b: Cannot operate on values with different widths 8 and 16"),
    ("not bool", {"APPLY": "if (@@meta.x) { }"}, "Condition of IfStatement does not evaluate to a bool but bit<8>"),
    ("bad not", {"APPLY": "bool b = @@!meta.x;"}, "Cannot apply ! to value meta.x of type bit<8>"),
    ("bad cast", {"APPLY": "meta.x = @@(bit<8>)hdr.h;"}, "cannot cast h_t to bit<8>"),
    ("type of a tuple", {"DECLS": "type @@tuple<bit<8>> T;"}, "T: `type' can only be applied to base types"),
    ("enum of int", {"DECLS": "enum @@int E2 { A = 1 }"},
     "int: Illegal type for enum; only bit<> and int<> are allowed; note that the used type is unsized int"),
    # (p4c: explicit-cast-to-incompatible-type-*: to a type no value converts to)
    ("cast to a tuple", {"APPLY": "tuple<bit<8>> t = @@(tuple<bit<8>>){#};"}, "tuple<bit<8>>: cast not supported"),
    ("cast to a struct", {"APPLY": "m_t m = @@(m_t)meta.x;"}, "m_t: cast not supported"),
    ("concat unsized", {"APPLY": "meta.y = @@meta.x ++ 1;"}, "meta.x ++ 1: Concatenation not defined on bit<8> and int"),
    ("signed shift", {"APPLY": "int<8> s = 1; meta.x = meta.x << @@s;"}, "s: Shift amount must be an unsigned number"),
    ("division by zero", {"APPLY": "meta.x = @@8w1 / 0;"}, "1 / 0: Division by zero"),
    ("not constant", {"DECLS": "const bit<8> K = 1 + @@Z;"}, "Z: declaration not found"),
    # calls and directions
    ("arg count", {"APPLY": "@@mark_to_drop(sm, sm);"}, "wrong number of arguments to 'mark_to_drop': expected 0 or 1, got 2"),
    # an action only called: p4c binds its parameters (RemoveActionParameters); one a table
    # lists too: its inlining (ActionsInlining) finds the argument missing
    ("action arg count", {"APPLY": "@@a1(1);"}, "action a1(1): parameter p must be bound"),
    ("action arg count, listed", {"LOCALS": "table t { actions = { a1(meta.x); } }", "APPLY": "t.apply(); @@a1(1);"},
     "a1(1): No argument supplied for p"),
    ("control-plane argument", {"LOCALS": "table t { actions = { a1(1, @@2); } }", "APPLY": "t.apply();"},
     "2: parameter p cannot be bound: it is set by the control plane"),
    ("arg type", {"APPLY": "hdr.h.b = 1; a1(@@hdr.h.b, 2);"}, "argument 'v' of action 'a1' of type bit<16>"),
    ("write in param", {"LOCALS": "action w(in bit<8> v) { @@v = 1; }"}, "cannot write to 'in' parameter 'v'"),
    ("write action data", {"LOCALS": "action w(bit<8> v) { @@v = 1; }"}, "cannot write to directionless parameter 'v'"),
    ("out needs lvalue", {"APPLY": "random(@@meta.x + 1, 0, 2);"}, "is not an l-value"),
    ("write constant", {"DECLS": "const bit<8> K = 1;", "APPLY": "@@K = 2;"}, "is not an l-value"),
    ("no method", {"APPLY": "@@hdr.h.push();"}, "Field push is not a member of header h_t"),
    ("extract non-header", {"PARSER": "pkt.extract(@@meta);"}, "extract() needs a header, not m_t"),
    ("not callable", {"APPLY": "@@meta.x();"}, "Field x is not a member of structure struct m_t"),
    ("lookahead needs type", {"PARSER": "@@pkt.lookahead();"}, "cannot infer the type of 'lookahead'()"),
    ("action param order", {"LOCALS": "action w(bit<8> d, in bit<8> @@v) { }"},
     "v: direction-less action parameters have to be at the end"),
    # parsers
    ("undeclared state", {"TRANSITION": "@@nowhere;"}, "nowhere: declaration not found"),
    ("select arity", {"TRANSITION": "select(hdr.h.a, hdr.h.b) { @@1: next; }"}, "select case has 1 value for 2 keys"),
    ("select case type", {"TRANSITION": "select(hdr.h.a) { @@hdr.h.b: next; }"}, "does not match the key type bit<8>"),
    ("select non-constant", {"TRANSITION": "select(hdr.h.a) { @@meta.x: next; }"}, "is not a compile-time constant"),
    # tables
    ("match kind", {"LOCALS": "table t { key = { @@meta.x: fuzzy; } actions = { NoAction; } }"}, "fuzzy: declaration not found"),
    ("table action", {"LOCALS": "table t { key = { meta.x: exact; } actions = { @@nope; } }"}, "nope: declaration not found"),
    ("default not listed", {"LOCALS": "table t { key = { meta.x: exact; } actions = { NoAction; } default_action = @@a1(1, 2); }"},
     "a1() not present in action list"),
    ("entry arity", {"LOCALS": "table t { key = { meta.x: exact; meta.y: exact; } actions = { NoAction; } "
                               "const entries = { @@1 : NoAction(); } }"}, "{ 1 }: Size of entry keyset must match the table key set size"),
    ("implementation type", {"LOCALS": "counter(4, CounterType.packets) c; table t { key = { meta.x: exact; } "
                                       "actions = { NoAction; } implementation = @@c; }"},
     "table property 'implementation' must be action_profile or action_selector"),
    ("apply in action", {"LOCALS": "table t { key = { meta.x: exact; } actions = { NoAction; } }\n"
                                   "    action w() { @@t.apply(); }", "APPLY": "t.apply();"},
     "t.apply(): apply cannot be called from actions"),
    ("switch label", {"LOCALS": "table t { key = { meta.x: exact; } actions = { NoAction; } }",
                      "APPLY": "switch (t.apply().action_run) { @@a1: { } }"}, "a1 is not a legal label (action name)"),
    ("duplicate label", {"APPLY": "switch (meta.x) { 1: { } @@1: { } }"}, "8w1: duplicate case label 8w1"),
    ("return value", {"APPLY": "@@return 1;"}, "return with a value is only allowed in functions"),
    # programs
    ("package argument", {"MAIN": "V1Switch(P(), Nop(), @@Nop(), Eg(), Nop(), D()) main;"},
     "'Nop' has 2 parameters, 'Ingress' needs 3"),
]


@pytest.mark.parametrize("name, slots, message", CASES, ids=[c[0] for c in CASES])
def test_diagnostic(name, slots, message):
    text = build(**slots)
    marker = text.index("@@")
    line = text.count("\n", 0, marker) + 1
    col = marker - (text.rfind("\n", 0, marker) + 1) + 1
    text = text.replace("@@", "", 1)
    with pytest.raises(CompileError) as info:
        compile_source(text, "prog.p4")
    diag = info.value.first
    assert message in diag.message
    pos = diag.pos
    cause = diag.cause_pos
    if cause is not None:  # p4c's words for a type mismatch: the node it was checking, the mismatch below
        assert diag.message.startswith("'") and "\n  ---- Actual error:\n  " in diag.message
        assert (cause.file, cause.line, cause.col) == ("prog.p4", line, col)
    else:
        assert (pos.file, pos.line, pos.col) == ("prog.p4", line, col)
    rendered = diag.format().splitlines()
    message = diag.message.splitlines()  # (a detail on lines of its own, after the source line)
    assert rendered[0] == f"{pos}: error: {message[0]}"
    if pos.file == "prog.p4":
        assert rendered[1] == text.splitlines()[pos.line - 1]
    assert rendered[2] == " " * (pos.col - 1) + "^"
    if cause is not None:
        message[2] = f"  {cause}: {message[2][2:]}"
    assert rendered[3:] == message[1:]


@pytest.mark.parametrize("slots, message", [
    ({"DECLS": "bit<8> f() {\n    return 1\n}"}, "syntax error, unexpected }"),  # (an expression goes on)
    ({"DECLS": "bit<8> g;"}, "syntax error, unexpected ;, expecting ("),  # (no global variables)
    ({"APPLY": "meta.x = 1 + m_t;"}, "syntax error, unexpected ;, expecting ("),  # (a type's name: a constructor)
    ({"DECLS": "const h_t H0 = { # };"}, "syntax error, unexpected UNEXPECTED_TOKEN, expecting }"),
    ({"DECLS": "const h_t H0 = { $ };"}, "syntax error, unexpected UNEXPECTED_TOKEN, expecting }"),
    ({"APPLY": "$"}, "syntax error, unexpected UNEXPECTED_TOKEN"),
    ({"PARSER": "return;"}, "syntax error, unexpected RETURN, expecting { or CONST"),
    ({"PARSER": "{ exit; }"}, "syntax error, unexpected EXIT, expecting { or CONST"),
    ({"PARSER": "if (true) { exit; }"}, "exit statements are not allowed in parser states"),  # (any statement)
    # p4c's parser reports a name repeated in a list as it builds it, before a later syntax error
    # (structure-valued-expr-errs-2)
    ({"APPLY": "meta = {x = 1, y = 2, x = 3};\nmeta.x = = 1;"}, "x: Duplicates declaration x"),
])
def test_expected_tokens_as_p4c_names_them(slots, message):
    """p4c's bison parser names the token it expected only where its state takes one after
    its default reductions (p4c: globalVar_e, type-in-expr-lex0/1, explicit-cast-...-3,
    stmt-return-from-unsupported-scope)."""
    with pytest.raises(CompileError) as info:
        compile_source(build(**slots), "prog.p4")
    assert info.value.first.message.splitlines()[0] == message


def test_errors_in_included_files_point_at_the_include(tmp_path):
    (tmp_path / "lib.p4").write_text("header x_t {\n  bit<8> a;\n  bit<8> a;\n}\n")
    main = tmp_path / "main.p4"
    main.write_text('#include "lib.p4"\n' + build())
    from fabriclab.p4 import compile_file
    with pytest.raises(CompileError) as info:
        compile_file(main)
    pos = info.value.first.pos
    assert (pos.file.endswith("lib.p4"), pos.line, pos.col) == (True, 3, 10)


def test_preprocessor_errors_are_diagnostics(tmp_path):
    main = tmp_path / "main.p4"
    main.write_text('#include "missing.p4"\n')
    from fabriclab.p4 import compile_file
    with pytest.raises(CompileError, match="missing.p4"):
        compile_file(main)


def test_missing_file_is_a_diagnostic(tmp_path):
    from fabriclab.p4 import compile_file
    with pytest.raises(CompileError, match="cannot read"):
        compile_file(tmp_path / "nope.p4")


@pytest.mark.parametrize("slots, value, message", [
    ({"APPLY": "meta.x = @@300;"}, 300 & 0xFF, "300: value does not fit in 8 bits"),
    ({"APPLY": "meta.x = @@4w17 ++ 4w0;"}, 0x10, "4w17: value does not fit in 4 bits"),
])
def test_truncated_constants_are_warnings_as_in_p4c(slots, value, message):
    text = build(**slots)
    marker = text.index("@@")
    line = text.count("\n", 0, marker) + 1
    col = marker - (text.rfind("\n", 0, marker) + 1) + 1
    compiled = compile_source(text.replace("@@", ""), "prog.p4")
    [warning] = [w for w in compiled.warnings if not w.message.endswith("is unused")]  # (unused.py's)
    assert warning.severity == "warning" and message in warning.message
    assert (warning.pos.line, warning.pos.col) == (line, col)
    assign = compiled.program.find("C").body.stmts[0]
    assert assign.rhs.value == value


def test_state_without_transition_rejects_with_a_warning():
    text = build(TRANSITION="next;").replace("state next { transition accept; }", "state next { }")
    compiled = compile_source(text, "prog.p4")
    warning, *unreachable = [w for w in compiled.warnings if not w.message.endswith("is unused")]  # (unused.py's)
    assert warning.message == "next: implicit transition to `reject'"
    assert (warning.pos.line, warning.pos.col) == (11, 11)
    # every path rejects: p4c's front end and its mid end say so
    assert [w.message for w in unreachable] == ["accept state in parser P is unreachable"] * 2
    assert compiled.program.find("P").state("next").transition.state == "reject"


def test_absurdly_deep_nesting_is_a_diagnostic():
    deep = "meta.x = " + "~" * 3000 + "meta.x;"
    with pytest.raises(CompileError, match="nested too deeply"):
        compile_source(build(APPLY=deep), "deep.p4")


def _marks(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Remove every `@@` and return the (line, col) of each, in order."""
    places = []
    while "@@" in text:
        marker = text.index("@@")
        places.append((text.count("\n", 0, marker) + 1, marker - (text.rfind("\n", 0, marker) + 1) + 1))
        text = text[:marker] + text[marker + 2:]
    return text, places


def test_errors_in_several_parsers_and_controls_are_all_reported():
    """As p4c: the first error of each parser, control and action, in program order."""
    text, places = _marks(build(PARSER="meta.x = @@hdr.h.b;", APPLY="@@undefined_thing = 1;",
                                DECLS="action top(inout m_t m) { m.x = @@m.nope; }").replace(
        "control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { } }",
        "control Eg(inout hs_t hdr, inout m_t meta, inout standard_metadata_t sm) { apply { meta.y = @@true; } }"))
    with pytest.raises(CompileError) as info:
        compile_source(text, "many.p4")
    diags = info.value.diagnostics  # (a type mismatch: where the mismatch is, under the quoted node)
    assert [((d.cause_pos or d.pos).line, (d.cause_pos or d.pos).col) for d in diags] == places and len(diags) == 4
    assert "Field nope is not a member of structure struct m_t" in diags[0].message
    assert "undefined_thing: declaration not found" in diags[2].message
    assert str(info.value).count(": error: ") == 4


def test_a_selector_that_is_not_bool_is_reported_without_a_position_and_checking_goes_on():
    """p4c: mux_e (its message names no node, so no position; the next error is found too)."""
    text, [place] = _marks(build(APPLY="meta.x = hdr.h.a == 1 ? meta.x : meta.x;\n"
                                       " meta.x = (bit<1>)meta.x ? meta.x : 1;\n"
                                       " meta.x = @@undefined_thing;"))
    with pytest.raises(CompileError) as info:
        compile_source(text, "mux.p4")
    first, second = info.value.diagnostics
    assert (first.pos, first.message) == (None, "Selector of ?: must be bool, not bit<1>")
    assert (second.pos.line, second.pos.col) == place and "undefined_thing" in second.message
    assert str(info.value).startswith("error: Selector of ?: must be bool, not bit<1>\nmux.p4:")


def test_an_error_in_a_type_stops_the_report_there():
    """Later errors could be cascades of a broken type or constant: only the first is shown."""
    text, [place] = _marks(build(DECLS="struct bad_t { bit<8> f; bit<8> @@f; }", APPLY="undefined_thing = 1;"))
    with pytest.raises(CompileError) as info:
        compile_source(text, "typeerr.p4")
    [diag] = info.value.diagnostics
    assert (diag.pos.line, diag.pos.col) == place and diag.message == "f: Duplicates declaration f"


def test_a_broken_signature_stops_the_report_there():
    text = build(DECLS="control X(inout m_t m, in undefined_t u) { apply { } }", APPLY="undefined_thing = 1;")
    with pytest.raises(CompileError) as info:
        compile_source(text, "sig.p4")
    [diag] = info.value.diagnostics
    assert "undefined_t" in diag.message


def test_a_line_marker_inside_a_string_is_text():
    """A line `# 369 "f"` that starts inside a string (pins_middleblock's multi-line
    @entry_restriction): p4c's lexer reads it as text, so the lines after it keep their numbers."""
    text = ('#include <core.p4>\n@note("first line\n# 369 " acl . p4 "\n last line")\n'
            'const bit<8> K = 1;\ncontrol c() {\n  apply {\n    bit<8> x = K + undeclared;\n  }\n}\n')
    with pytest.raises(CompileError) as info:
        compile_source(text, "marker.p4")
    assert (info.value.first.pos.file, info.value.first.pos.line) == ("marker.p4", 8)
