"""Rules on declarations that p4c enforces (its negative corpus): each rule rejects a small
program at the line marked `@@` and a close variant still compiles."""

import pytest

from fabriclab.p4 import compile_source
from marked import rejected_at


def rejected(text: str, message: str) -> None:
    rejected_at(text, message)


REJECTED = [
    # extern constructors and methods (p4c: constructor_e, issue435, issue5253)
    ("constructor with a return type", "extern X {\n    void @@X();\n}", "invalid constructor; cannot have a return type"),
    ("method without a return type", "struct s_t { }\nextern X {\n    X();\n    @@s_t(in bit<8> a);\n}",
     "invalid type; method has no return type"),
    ("constructor parameter with a direction", "extern X {\n    X(in bit<8> @@a);\n}",
     "invalid direction. Constructor parameters cannot have a direction"),
    ("duplicate constructor", "extern E {\n    E(bit<8> x);\n    @@E(bit<8> x);\n}",
     "Duplicate declaration of E: previous declaration at"),
    ("duplicate method", "extern E {\n    void f(bit<8> a);\n    void @@f(bit<8> a);\n}",
     "Duplicate declaration of f: previous declaration at"),
    # parameters (p4c: default-param, issue3814)
    ("out parameter with a default", "extern void f(out bit<32> @@x = 0);", "out parameters cannot have default values"),
    ("optional parameter with a default", "extern void f(@optional bit<32> @@y = 0);",
     "optional parameters cannot have default values"),
    ("optional constructor parameter", "control g(in bit t)(@optional bit @@tt) { apply { } }",
     "optional parameter not allowed here"),
    ("optional function parameter", "bit<8> f(@optional in bit<8> @@a) { return 1; }", "optional parameter not allowed here"),
    ("package parameter with a direction", "control ct();\npackage top(in ct @@c);",
     "invalid direction. Constructor parameters cannot have a direction"),
    # names (p4c: issue1932, template_e, name-duplicate-type-parameter-names-2): its parser
    # refuses a name declared again as another kind of symbol (a type, a block type, an object)
    ("a control and a function of one name", "control foo(in bit<8> x) { apply { } }\nbool @@foo() { return true; }",
     "Re-declaration of foo with different type:"),
    ("a type and a constant of one name", "struct S { }\nconst bit<8> @@S = 1;", "Re-declaration of S with different type:"),
    ("two constants of one name", "const bit<8> S = 1;\nconst bit<8> @@S = 1;", "S duplicates S."),
    ("a type parameter and a constructor parameter", "control @@c<p>(in bit<8> x)(bit<8> p) { apply { } }",
     "p duplicates p."),
    ("duplicate type parameters of a package", "package @@S<T, T>();", "T: Duplicates declaration T"),
    ("duplicate type parameters of a struct", "struct @@S<T, T> { T a; }", "T: Duplicates declaration T"),
    # functions (p4c: function_e1), this (issue3264), self reference (self-call)
    ("function without a return on all paths",
     "bit<16> @@max(in bit<16> left, in bit<16> right) {\n    if (left > right)\n        return left;\n}",
     "Function 'max' does not return a value on all paths"),
    ("this in a function", "void func() {\n    bit t;\n    t = @@this;\n}", "'this' can only be used"),
    # parameter types (p4c: extern, string-e, issue3787, parser-arg, spec-issue563, issue816-1, issue818)
    ("extern parameter with a direction", "extern X { }\ncontrol c(in X @@x) { apply { } }",
     "x: a parameter with type X cannot have a direction"),
    ("generic extern parameter with a direction", "extern X<T> { }\ncontrol c(in X<bit> @@x);",
     "a parameter with type X cannot have a direction"),
    ("string parameter with a direction", "extern void f(in string @@s);", "a parameter with type string cannot have a direction"),
    ("parser apply parameter of parser type", "parser Parser();\nparser MyParser(Parser @@p);",
     "p: parameter cannot have type parser Parser"),
    ("constructor parameter of a control declaration", "control A() { apply { } }\ncontrol C()(A @@a) { apply { } }",
     "a: parameter cannot have type control A"),
    ("action parameter of control type", "control X();\naction a(X @@x) { }", "parameter cannot have type control X"),
    ("extern method parameter of control type with a direction", "control X();\nextern void f(in X @@x);",
     "parameter cannot have type control X"),
    ("control constructor parameter of package type",
     "control C();\npackage P(C c1);\ncontrol D() { apply { } }\ncontrol M()(P @@p) { apply { } }\n"
     "control T() {\n    D() d;\n    P(d) p;\n    M(p) m;\n    apply { m.apply(); }\n}",
     "p: parameter cannot be a package"),
    ("extern constructor parameter of control type",
     "control C();\nextern W {\n    W(C @@c);\n}\ncontrol D() { apply { } }\ncontrol T() {\n    W(D()) w;\n    apply { }\n}",
     "c: parameter cannot have type control C"),
    # variables and instances (p4c: issue807, issue3359, issue388, issue4140, issue4144)
    ("variable of parser type", "parser mypt(in bit tt);\nparser P(in bit tt) {\n    mypt @@t;\n"
     "    state start { transition accept; }\n}", "t: cannot declare variables of type 'parser mypt'"),
    ("variable of control type", "control C1();\ncontrol C() {\n    apply { C1 @@c; }\n}",
     "cannot declare variables of type 'control C1'"),
    ("control instantiated at the top level", "control C() { apply { } }\nC() @@c;", "c: cannot instantiate at top-level"),
    ("main of an extern", "extern MyExtern {\n    MyExtern();\n}\nMyExtern() @@main;", "expected package declaration"),
    ("main as an extern type", "extern @@main { }", "main: must be a package declaration"),
    # calls (p4c: string-e2, issue3808, issue807)
    ("generic parameter with a direction bound to string",
     "extern void f<T>(in T @@data);\ncontrol c() {\n    apply { f(\"hi\"); }\n}",
     "data: a parameter with type string cannot have a direction"),
    ("table passed to a generic parameter", "action NoAction() { }\nextern void f<T>(in T a);\ncontrol c() {\n"
     "    table t { actions = { NoAction; } }\n    apply {\n        f<_>(@@t);\n    }\n}",
     "t: argument cannot have type Type_Table"),
    ("control passed to an extern method",
     "control C1();\nextern E {\n    E();\n    void set1(C1 c1);\n}\ncontrol M()(E e, C1 c1) {\n"
     "    apply {\n        e.set1(@@c1);\n    }\n}", "c1: argument cannot have type control"),
    ("extern method returning a control", "control C1();\nextern E {\n    E();\n    C1 get1();\n}\n"
     "control M()(E e) {\n    apply {\n        @@e.get1();\n    }\n}", "e.get1(): illegal return type control C1"),
    # instances main makes (p4c: issue1331)
    ("a parser given to a control", "parser P();\ncontrol C();\npackage S(C c);\nparser MyP() {\n"
     "    state start { transition accept; }\n}\ncontrol MyC()(P @@p) {\n    apply { p.apply(); }\n}\n"
     "S(MyC(MyP())) main;", "p: instantiation of parser in control"),
    ("a control instantiated in a parser", "parser P();\npackage S(P p);\ncontrol D() { apply { } }\n"
     "parser MyP() {\n    @@D() d;\n    state start { transition accept; }\n}\nS(MyP()) main;",
     "d: instantiation of control in parser"),
    # a package's explicit type arguments (p4c: equate-type-parser-and-parser-with-incompatible-type)
    ("a parser against a package's type argument", "parser Parser<IH>(out IH parsedHeaders);\n"
     "package Ingress<IH>(Parser<IH> p);\nstruct H { }\nparser ing_parse(out H hdr) {\n"
     "    state start { transition accept; }\n}\nIngress<bit<8>>(@@ing_parse()) main;", "parameter 'hdr' of 'ing_parse'"),
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
    ("directionless extern and string parameters", "extern X { }\nextern void f(X x, string s);\ncontrol c()(X x) { apply { } }"),
    ("control type as a constructor and extern method parameter",
     "control C();\ncontrol M()(C c) { apply { c.apply(); } }\nextern void f(C c);"),
    ("a control type's variable-free use in a package", "control C();\npackage P(C c);\ncontrol D() { apply { } }\nP(D()) main;"),
    ("generic parameter with a direction bound to a value", "extern void f<T>(in T data);\n"
     "control c() {\n    apply { f(8w1); }\n}"),
    ("a parser given to a parser", "parser P();\npackage S(P p);\nparser Sub() {\n"
     "    state start { transition accept; }\n}\nparser MyP()(P sub) {\n"
     "    state start { sub.apply(); transition accept; }\n}\nS(MyP(Sub())) main;"),
    ("a parser agreeing with a package's type argument", "parser Parser<IH>(out IH parsedHeaders);\n"
     "package Ingress<IH>(Parser<IH> p);\nstruct H { }\nparser ing_parse(out H hdr) {\n"
     "    state start { transition accept; }\n}\nIngress<H>(ing_parse()) main;"),
    ("a control instantiating another", "control d() { apply { } }\ncontrol c() {\n    d() i;\n    apply { i.apply(); }\n}"),
]


@pytest.mark.parametrize("name, text", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(name, text):
    compile_source(text, "prog.p4")
