"""p4c's rules on types, generics and annotations (its negative corpus: annotation,
issue1296, issue3170, string-e1, structured-annotation-e1, ...): each rule rejects a small
program at the line p4c names (marked `@@`), and a close variant still compiles."""

import pytest

from marked import build, compiles, rejected_at


def rejected(message: str, **slots: str) -> None:
    rejected_at(build(**slots), message)


def accepted(**slots: str) -> None:
    compiles(build(**slots))


def test_template_compiles():
    accepted()


# -- annotations -------------------------------------------------------------------------
@pytest.mark.parametrize("bad, good, message", [
    # a known annotation's body has its shape (p4c: annotation, issue2283_2-bmv2)
    ("@@@pkginfo const bit<8> K = 1;", '@pkginfo(version="1") const bit<8> K = 1;',
     "syntax error, unexpected END_ANNOTATION\n(@pkginfo needs a list of key = value pairs)"),
    ('@@@pkginfo(version "1") const bit<8> K = 1;', '@pkginfo(version="1", o=(1 + 2)) const bit<8> K = 1;',
     "syntax error, unexpected STRING_LITERAL, expecting ="),
    ("@@@hidden(1) const bit<8> K = 1;", "@hidden const bit<8> K = 1;", "should not have any arguments"),
    ("@@@id(x) const bit<8> K = 1;", "@id(0x01000001) const bit<8> K = 1;", "@id needs an integer"),
    ('@@@p4runtime_translation("p4.org/t", bool) type bit<8> T_t;',
     '@p4runtime_translation("p4.org/t", bit<16>) type bit<8> T_t;',
     "syntax error, unexpected BOOL, expecting BIT or STRING or INTEGER\n(@p4runtime_translation needs"),
    ('@@@p4runtime_translation("p4.org/t", bit<5+3>) type bit<8> T_t;',
     '@p4runtime_translation("p4.org/t", 8) type bit<8> T_t;', "syntax error, unexpected +, expecting > or R_ANGLE_SHIFT"),
    ('@@@p4runtime_translation("p4.org/t", string, 1) type bit<8> T_t;',
     '@p4runtime_translation("p4.org/t", string) type bit<8> T_t;', 'unexpected ",", expecting END_ANNOTATION'),
    # a structured annotation's expression is type-checked, then must be a constant (p4c: issue3363,
    # type-in-expr)
    ("extern E { E(); }\nE() t;\nE() t1;\n@@@x[t == t1] const bit<8> K = 1;",
     "extern E { E(); }\nE() t;\n@x[1 == 2] const bit<8> K = 1;", "t and t1: externs cannot be compared"),
    ("@foo[bar=4 < \n@@H]\ncontrol q<H>(in H h) { apply { } }", "@foo[bar=4 < 5]\ncontrol q<H>(in H h) { apply { } }",
     "H: Type cannot be used here, expecting an expression."),
    ("@@@x[k=zz] const bit<8> K = 1;", '@x[k="zz"] const bit<8> K = 1;',
     "zz: structured annotation must be compile-time constant values"),
    # @name/@deprecated need a string; "a" ++ "b" is one (p4c: spec-issue1297-string-cat-err-*-anno)
    ("@@@name(4) const bit<8> K = 1;", '@name("a" ++ "b") const bit<8> K = 1;', "@name: should contain a string"),
    ('@@@deprecated("a" | "b") const bit<8> K = 1;', '@deprecated("a" ++ "b") const bit<8> K = 1;',
     "@deprecated annotation's value must be a string"),
    # a structured annotation's name is not used twice on one declaration (p4c: structured-annotation-e1/e3)
    ("@x[]\n@@@x[] const bit<8> K = 1;", "@x[] @y[] const bit<8> K = 1;", "@x: duplicate name for structured"),
    ("@x(1) @x(2)\n@@@x[] const bit<8> K = 1;", "@x(1) @x(2) const bit<8> K = 1;", "duplicate name for structured"),
])
def test_annotations(bad, good, message):
    rejected(message, DECLS=bad)
    accepted(DECLS=good)


# -- functions are checked where declared, used or not ----------------------------------
@pytest.mark.parametrize("bad, good, message", [
    # a function cannot call itself: its name is declared after its body (p4c: issue3197-e)
    ("void f() {\n@@f();\n}", "void g() { }\nvoid f() { g(); }", "f: declaration not found"),
    ("void f() {\n@@later();\n}\nvoid later() { }", "void later() { }\nvoid f() { later(); }",
     "later: declaration not found"),
    # types in its signature and locals (p4c: type-int-with-non-natural-width, -non-lctk-width)
    ("bit<5> f(\n@@in int<0> a) { return 1; }", "bit<5> f(in int<1> a) { return 1; }",
     "Width of signed type cannot be zero"),
    ("bit<4> f(in bit<4> l) {\n@@const int<(l)> t = 1; return l; }",
     "const bit<4> W = 4;\nbit<4> f(in bit<4> l) { const int<(W)> t = 1; return l; }",
     "l: expected a constant"),
])
def test_unused_functions(bad, good, message):
    rejected(message, DECLS=bad)
    accepted(DECLS=good)


# -- field types --------------------------------------------------------------------------
@pytest.mark.parametrize("bad, good, message", [
    # a struct field is not a string, an int, an extern, ... (p4c: string-e1)
    ("struct s_t {\n@@string s; }", "struct s_t { bit<8> s; error e; tuple<bit<8>, bool> t; }",
     "Field 's' of 'struct s_t' cannot have type 'string'"),
    # a tuple holds what a struct field may (p4c: constructor-parameter-type-illformed)
    ("extern E {\n@@E(tuple<string> x); }", "extern E { E(tuple<bit<8>> x); }",
     "Field 'f0' of 'struct tuple_0' cannot have type 'string'"),
    # ... and no extern, parser, control or package (p4c: issue3750, issue3750-1)
    ("extern X { X(); }\nvoid f(\n@@tuple<X> t) { }", "extern X { X(); }\nvoid f(tuple<bit<8>> t) { }",
     "X: not supported as a tuple field"),
    ("control ct();\nvoid f(tuple<\n@@ct> t) { }", "control ct();\nvoid f(in ct c) { }",
     "ct: not supported as a tuple field"),
    # a generic struct's fields are checked once specialized (p4c: issue3170-1,
    # type-stack-of-unsupported-type-after-specialization, decl-constant-type-has-dont-care)
    ("header g_t<T> { T t; }\nstruct s_t {\n@@g_t<int> g; }", "header g_t<T> { T t; }\nstruct s_t { g_t<bit<8>> g; }",
     "Field 't' of 'header g_t' cannot have type 'int'"),
    ("header g_t<T> { T t; }\nstruct s_t {\n@@g_t<hs_t> g; }", "header g_t<T> { T t; }\nstruct s_t { g_t<m_t> g; }",
     "cannot have type 'struct hs_t'"),
    ("struct g_t<T> { tuple<T, T> t; }\n@@const g_t<_> x = { t = { 0, 0 } };",
     "struct g_t<T> { tuple<T, T> t; }\nconst g_t<bit<8>> x = { t = { 0, 0 } };",
     "Field 'f0' of 'struct tuple_0' cannot have type '_'"),
    # ... by p4c's mid end: a type error its front end finds comes first
    # (decl-constant-with-illformed-type-after-specialization)
    ("struct g_t<T> { tuple<T, T> t; }\nconst g_t<void> @@x = { t = { 0, 0 } };",
     "struct g_t<T> { tuple<T, T> t; }\nconst g_t<bit<8>> x = { t = { 0, 0 } };", "'x'\n  ---- Actual error:"),
    # (extern-abstract-method-return-type-has-dont-care)
    ("extern e2 {\n@@abstract tuple<bit<8>, void> f(in bit<1> a); }", "extern e2 { abstract tuple<bit<8>> f(in bit<1> a); }",
     "Field 'f1' of 'struct tuple_0' cannot have type 'void'"),
])
def test_field_types(bad, good, message):
    rejected(message, DECLS=bad)
    accepted(DECLS=good)


# -- generic types ------------------------------------------------------------------------
@pytest.mark.parametrize("bad, good, message", [
    # a generic type needs its type arguments where nothing infers them (p4c: issue3170, issue3293)
    ("struct g_t<T> { T t; }\ntypedef\n@@g_t ty;", "struct g_t<T> { T t; }\ntypedef g_t<bit<8>> ty;",
     "g_t: no type parameters supplied for generic type"),
    ("struct g_t<T> { T t; }\nextern\n@@g_t f();", "struct g_t<T> { T t; }\nextern g_t<bit<8>> f();",
     "g_t: no type parameters supplied for return generic type"),
    # a type argument is not a generic type without arguments (p4c: issue3305)
    ("struct g_t<T> { T t; }\nstruct s_t { g_t<\n@@g_t> a; }",
     "struct g_t<T> { T t; }\nstruct k_t<T> { T t; }\nstruct s_t { g_t<k_t<bit<8>>> a; }",
     "g_t: generic type needs type arguments"),
    # nor a parser, control or package type (p4c: issue3304)
    ("parser pp<T>(in T a);\nstruct g_t<T> { T t; }\nstruct s_t {\n@@g_t<pp<bit>> a; }",
     "struct g_t<T> { T t; }\nstruct s_t { g_t<bit> a; }", "g_t<pp<bit<1>>>: Cannot use parser pp as a type parameter"),
    # nor a type that holds the generic type itself (p4c: issue1296, issue3291)
    ("extern X<T> { X(); }\n@@X<X<bit<8>>>() x;", "extern X<T> { X(); }\nextern Y<T> { Y(); }\nX<Y<bit<8>>>() x;",
     "X: contains self 'X' as type argument"),
    # (a control whose parameter has the generic type holds it, a check made first: issue819)
    ("extern W<T> { W(); }\ncontrol mc(W<_> w);\n@@W<mc>() x;", "extern W<T> { W(); }\nW<bit<8>>() x;",
     "W: contains self 'W' as type argument"),
    ("struct g_t<T> { T t; }\ntypedef g_t<bit> one_t;\n@@typedef g_t<one_t> two_t;",
     "struct g_t<T> { T t; }\ntypedef g_t<bit> one_t;\ntypedef g_t<bit<2>> two_t;", "contains self 'struct g_t'"),
])
def test_generic_types(bad, good, message):
    rejected(message, DECLS=bad)
    accepted(DECLS=good)


def test_a_type_declaration_does_not_name_itself():
    # p4c: issue2544_self_ref
    rejected("Self-referencing types not supported: 'X' within 'X'", DECLS="extern X {\n@@void m(X x); }")
    accepted(DECLS="extern Y { Y(); }\nextern X { void m(Y y); }")


def test_a_variable_of_a_generic_type_needs_its_arguments():
    rejected("Unspecified type parameters for g_t", DECLS="struct g_t<T> { T t; }",
             APPLY="@@g_t v;")
    accepted(DECLS="struct g_t<T> { T t; }", APPLY="g_t<bit<8>> v;")


def test_lookahead_needs_a_fixed_width_type():
    # p4c: issue600
    decls = "header v_t { bit<8> a; varbit<32> opts; }"
    rejected("v_t: type argument must be a fixed-width type", DECLS=decls,
             PARSER="v_t v = pkt.lookahead<\n@@v_t>();")
    accepted(DECLS=decls, PARSER="h_t v = pkt.lookahead<h_t>();")


def test_struct_initializers_of_unknown_types_are_not_compared():
    # p4c: issue3057-1 (lists compare)
    rejected("cannot compare structure-valued expressions with unknown types",
             APPLY="bool b =\n@@{a = 8w1} == {a = 8w1};")
    accepted(APPLY="bool b = { 1, 2 } == { 1, 2 };")


def test_a_generic_function_binds_no_unsized_int_and_returns_only_its_type():
    # p4c: issue2260-1 ('int' cannot be unified with T), equate-type-specialized-and-non-specialized
    identity = "T f<T>(T x) { return x; }"
    rejected("'f(255)'\n  ---- Actual error:\n  'int' type can only be unified with 'int', 'bit<>', or 'signed<>' "
             "types, not with '<returned type>'", DECLS=identity, APPLY="meta.x = @@f(255);")
    rejected("could not infer a width for type argument 'T'", DECLS="void h<T>(T x) { }", APPLY="h(@@255);")
    accepted(DECLS=identity, APPLY="meta.x = f(8w255);")
    rejected("returned value of type tuple<> cannot be used as T", DECLS="T g<T>(tuple<> x) {\n    @@return x;\n}")
    accepted(DECLS="T g<T>(T x, tuple<> y) {\n    return x;\n}")
