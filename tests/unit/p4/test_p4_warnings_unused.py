"""p4c's `[--Wwarn=unused]` warnings (its WarnAboutUnusedDeclarations), checked against p4c
34b86e9's sample outputs (bench/p4c_corpus.py --warnings); the programs here are ours."""

import pytest

from fabriclab.p4 import compile_source
from marked import build


def unused(text: str) -> list[tuple[int, str]]:
    """(line, message) of each unused-declaration warning `text` compiles with."""
    return [(w.pos.line, w.message) for w in compile_source(text, "prog.p4").warnings
            if w.message.endswith("is unused")]


def line_of(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


def test_the_v1model_scaffold_uses_everything_it_declares():
    assert unused(build()) == []  # and nothing of core.p4 or v1model.p4 (system files)


@pytest.mark.parametrize("slots, fragment, message", [
    ({"DECLS": "const bit<8> K = 1;"}, "K = 1", "'K' is unused"),
    ({"DECLS": "typedef bit<9> port_t;"}, "port_t", "'port_t' is unused"),
    ({"DECLS": "type bit<9> Port;"}, "Port", "'Port' is unused"),
    ({"DECLS": "control Other() { apply { } }"}, "Other", "control 'Other' is unused"),
    ({"DECLS": "parser Q(packet_in p) { state start { transition accept; } }"}, "Q(", "parser 'Q' is unused"),
    ({"DECLS": "package Pkg();"}, "Pkg", "'package Pkg' is unused"),
    ({"DECLS": "bit<8> f(in bit<8> v) { return v; }"}, "f(in", "'f' is unused"),
    ({"DECLS": "struct Pair<T, U> { T a; }"}, "U>", "'U' is unused"),
    ({"DECLS": "@name(\"outside\") const bit<8> K = 1;"}, "K = 1", "'outside' is unused"),
    ({"LOCALS": "table t { key = { hdr.h.a: exact; } actions = { NoAction; } }"}, "table t", "table 't' is unused"),
    ({"LOCALS": "action a() { }"}, "a()", "'a' is unused"),
    ({"LOCALS": "action a(bit<8> v) { } table t { key = { hdr.h.a: exact; } actions = { a; } }",
      "APPLY": "t.apply();"}, "v)", "'v' is unused"),  # an action's parameter
    ({"LOCALS": "counter(4, CounterType.packets) c;"}, "c;", "'c' is unused"),
    ({"APPLY": "bit<8> tmp = 1;"}, "tmp", "'tmp' is unused"),
    ({"PARSER_LOCALS": "value_set<bit<8>>(4) vs;"}, "vs;", "'vs' is unused"),
])
def test_an_unused_declaration_is_a_warning_on_its_line(slots, fragment, message):
    text = build(**slots)
    assert unused(text) == [(line_of(text, fragment), message)]


@pytest.mark.parametrize("slots", [
    {"DECLS": "const bit<8> K = 1;", "APPLY": "meta.x = K;"},
    {"DECLS": "typedef bit<8> byte_t;", "APPLY": "meta.x = (byte_t)1;"},
    {"DECLS": "@noWarn(\"unused\") const bit<8> K = 1;"},
    {"DECLS": "const bool ok = static_assert(true);"},  # p4c: it asserts, it is never "unused"
    {"DECLS": "const bit<8> __internal = 1;"},
    {"DECLS": "struct Pair<T> { T a; }\nenum E { A }\nheader g_t { bit<8> b; }\nextern void ext(in bit<8> v);"},
    {"LOCALS": "action a() { } table t { key = { hdr.h.a: exact; } actions = { a; } }", "APPLY": "t.apply();"},
    {"APPLY": "for (bit<8> i in 1 .. 3) { }"},  # the loop refers to its variable
    # `hash(...)` in an action named hash is v1model's function (p4c looks past the action)
    {"LOCALS": "action hash() { } table t { key = { hdr.h.a: exact; } actions = { hash; } }",
     "APPLY": "t.apply(); hash(meta.x, HashAlgorithm.crc16, 8w0, { hdr.h.a }, 8w7);"},
])
def test_used_or_exempt_declarations_give_no_warning(slots):
    assert unused(build(**slots)) == []


def test_an_unused_action_calling_a_same_named_function_is_still_unused():
    text = build(LOCALS="action hash() { hash(meta.x, HashAlgorithm.crc16, 8w0, { hdr.h.a }, 8w7); }")
    assert unused(text) == [(line_of(text, "hash()"), "'hash' is unused")]


def test_of_overloads_of_one_arity_the_first_is_the_one_used():
    """p4c's name lookup (before types) takes the first: issue3197's second `f` is unused."""
    text = build(DECLS="bit<1> f(in bit<1> v) { return v; }\n"
                       "bit<2> f(in bit<2> v) { bit<1> b = f((bit<1>)v); return (bit<2>)b; }")
    assert unused(text) == [(line_of(text, "f(in bit<2>"), "'f' is unused")]


def test_an_unused_control_still_has_its_unused_locals_reported():
    text = build(DECLS="control Other() { apply { bit<8> tmp = 1; } }")
    assert unused(text) == [(line_of(text, "Other"), "control 'Other' is unused"),
                            (line_of(text, "tmp"), "'tmp' is unused")]
