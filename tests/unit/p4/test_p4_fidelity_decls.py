"""Rules on declarations that p4c enforces (its negative corpus): each rule rejects a small
program at the line marked `@@` and a close variant still compiles."""

import pytest

from fabriclab.p4 import CompileError, compile_source


def _line(text: str) -> tuple[str, int]:
    marker = text.index("@@")
    return text.replace("@@", "", 1), text.count("\n", 0, marker) + 1


def rejected(text: str, message: str) -> None:
    text, line = _line(text)
    with pytest.raises(CompileError) as info:
        compile_source(text, "prog.p4")
    diag = info.value.first
    assert message in diag.message
    assert diag.pos.line == line, diag.format()


REJECTED = [
    # extern constructors and methods (p4c: constructor_e, issue435, issue5253)
    ("constructor with a return type", "extern X {\n    void @@X();\n}", "invalid constructor; cannot have a return type"),
    ("method without a return type", "struct s_t { }\nextern X {\n    X();\n    @@s_t(in bit<8> a);\n}",
     "invalid type; method has no return type"),
    ("constructor parameter with a direction", "extern X {\n    X(in bit<8> @@a);\n}",
     "constructor parameters cannot have a direction"),
    ("duplicate constructor", "extern E {\n    E(bit<8> x);\n    @@E(bit<8> x);\n}", "duplicate declaration of 'E'"),
    ("duplicate method", "extern E {\n    void f(bit<8> a);\n    void @@f(bit<8> a);\n}", "duplicate declaration of 'f'"),
    # parameters (p4c: default-param, issue3814)
    ("out parameter with a default", "extern void f(out bit<32> @@x = 0);", "out parameters cannot have default values"),
    ("optional parameter with a default", "extern void f(@optional bit<32> @@y = 0);",
     "optional parameters cannot have default values"),
    ("optional constructor parameter", "control g(in bit t)(@optional bit @@tt) { apply { } }",
     "optional parameter not allowed here"),
    ("optional function parameter", "bit<8> f(@optional in bit<8> @@a) { return 1; }", "optional parameter not allowed here"),
    ("package parameter with a direction", "control ct();\npackage top(in ct @@c);",
     "constructor parameters cannot have a direction"),
    # names (p4c: issue1932, template_e, name-duplicate-type-parameter-names-2)
    ("a control and a function of one name", "control foo(in bit<8> x) { apply { } }\nbool @@foo() { return true; }",
     "duplicate declaration of 'foo'"),
    ("a type and a constant of one name", "struct S { }\nconst bit<8> @@S = 1;", "duplicate declaration of 'S'"),
    ("duplicate type parameters of a package", "package @@S<T, T>();", "duplicate type parameter 'T'"),
    ("duplicate type parameters of a struct", "struct @@S<T, T> { T a; }", "duplicate type parameter 'T'"),
    # functions (p4c: function_e1), this (issue3264), self reference (self-call)
    ("function without a return on all paths",
     "bit<16> @@max(in bit<16> left, in bit<16> right) {\n    if (left > right)\n        return left;\n}",
     "Function 'max' does not return a value on all paths"),
    ("this in a function", "void func() {\n    bit t;\n    t = @@this;\n}", "'this' can only be used"),
    ("a control instantiating itself", "control c() {\n    @@c() c_inst;\n    apply { c_inst.apply(); }\n}",
     "Self-referencing types not supported"),
]


@pytest.mark.parametrize("name, text, message", REJECTED, ids=[c[0] for c in REJECTED])
def test_rejected(name, text, message):
    rejected(text, message)


ACCEPTED = [
    ("extern constructor and methods", "extern X {\n    X(bit<8> a);\n    X();\n    void f(in bit<8> a);\n    bit<8> g();\n}"),
    ("overloads told apart by parameter names", "extern E {\n    void f(bit<8> a);\n    void f(bit<8> b);\n}"),
    ("in parameter with a default", "extern void f(in bit<32> x = 0, @optional bit<32> y);"),
    ("optional extern method parameter", "extern X {\n    X();\n    void f(@optional in bit<8> a);\n}"),
    ("overloaded extern functions", "extern void f(in bit<8> a);\nextern void f(in bit<8> a, in bit<8> b);"),
    ("function returning on all paths",
     "bit<16> max(in bit<16> l, in bit<16> r) {\n    if (l > r) { return l; } else { return r; }\n}"),
    ("function returning after an if", "bit<16> max(in bit<16> l, in bit<16> r) {\n    if (l > r) return l;\n    return r;\n}"),
    ("void function without return", "void f(inout bit<8> a) { a = 1; }"),
    ("distinct type parameters", "package S<T, U>();\nstruct P<T, U> { T a; U b; }"),
    ("a control instantiating another", "control d() { apply { } }\ncontrol c() {\n    d() i;\n    apply { i.apply(); }\n}"),
]


@pytest.mark.parametrize("name, text", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(name, text):
    compile_source(text, "prog.p4")
