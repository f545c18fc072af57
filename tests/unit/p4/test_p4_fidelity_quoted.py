"""p4c's words where its type unification fails: it quotes the node it was checking (a call,
a declaration, an assignment, a `return`, a package, a select, an entry), printed as its IR
prints nodes, and gives the mismatch under `---- Actual error:` (p4c's negative corpus:
call-inout-parameter-with-non-lvalue-2, constructor3_e, equate-type-*, table-entries-*, ...).
"""

import pytest

from marked import build

from fabriclab.p4 import CompileError, compile_source, ir
from fabriclab.p4.p4c_text import node_text


def first_error(text: str):
    with pytest.raises(CompileError) as info:
        compile_source(text, "q.p4")
    return info.value.first


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("slots, quoted, at, cause, detail", [
    # a call: the call as p4c prints it (an unsized constant without a width)
    ({"DECLS": "extern void f(in bit<8> a, in bool b);", "APPLY": "f(1, 8w2);"},
     "f(1, 8w2)", "f(1, 8w2)", "8w2);", "argument 'b' of 'f' of type bit<8> cannot be used as bool"),
    ({"DECLS": "extern void f(in bit<8> a);", "APPLY": "f();"}, "f()", "f();", "f();", "wrong number of arguments"),
    ({"DECLS": "extern void f(inout bit<8> a);", "APPLY": "f(meta.x + 1);"},
     "f(meta.x + 1)", "f(meta.x", "meta.x + 1)", "is not an l-value"),
    # a function's call, inlined: the call, as p4c checks it before inlining (equate-type-variable-...)
    ({"DECLS": "void f(in bool a) { }", "APPLY": "f(meta.x);"},
     "f(meta.x)", "f(meta.x)", "meta.x);", "argument for 'a' of type bit<8> cannot be used as bool"),
    # a type argument a directional parameter cannot have: the call's mismatch first
    # (call-on-function-illformed-after-specialization, call-on-extern-abstract-method-...)
    ({"DECLS": "void foo<T>(in T x) { }", "APPLY": "foo<string>(true);"},
     "foo(true)", "foo<string", "true);", "argument for 'x' of type bool cannot be used as string"),
    ({"DECLS": "extern void put<T>(in T v);", "APPLY": "put<string>({ 0, 1 });"},
     "put({ 0, 1 })", "put<string", "{ 0, 1 });", "of type tuple<int, int> cannot be used as string"),
    # a type argument of the keyword type match_kind (call-on-extern-function-parameter-type-...)
    ({"DECLS": "extern void g<T>(in T x);", "APPLY": "g<match_kind>(8w2);"},
     "g(8w2)", "g<match", "8w2);", "cannot be used as match_kind"),
    # a declaration: its name
    ({"APPLY": "bool v = meta.x;"}, "v", "v =", "meta.x;", "initializer of 'v' of type bit<8> cannot be used as bool"),
    # an assignment and a return
    ({"APPLY": "meta.x = hdr.h.b;"}, "meta.x = hdr.h.b", "meta.x =", "hdr.h.b;", "right-hand side of type bit<16>"),
    ({"DECLS": "bit<8> f(in bit<16> a) { return a + 1; }"}, "return a + 1", "return", "a + 1;", "returned value"),
    # a select and a table entry: p4c's IR class names
    ({"PARSER": "transition select(hdr.h.a, hdr.h.b) { (1, 2, 3): accept; } } state s {"},
     "SelectExpression", "select(hdr", "(1, 2, 3)", "select case has 3 values for 2 keys"),
    ({"LOCALS": "table t { key = { meta.x: exact; } actions = { NoAction; } "
                "const entries = { (1, 2): NoAction(); } }", "APPLY": "t.apply();"},
     "Entry", "(1, 2):", "(1, 2):", "entry key has 2 values for 1 keys"),
    # a struct expression with `...` whose names do not match: itself, the `...` expanded away
    ({"DECLS": "struct s_t { bit<8> a; }", "APPLY": "s_t s = { b = 2, ... };"},
     "{ b = 2 }", "{ b = 2", "{ b = 2", "initializer for 's_t': no field 'b'"),
    # a cast: the cast
    ({"APPLY": "hdr.h.a = (bit<8>)hdr.h;"}, "(bit<8>)hdr.h", "(bit<8>)", "(bit<8>)", "cannot cast h_t to bit<8>"),
    # type arguments of another number than the declaration's type parameters: the call (printed
    # without them), the declaration (call-on-function-with-different-type-parameter-arity)
    ({"DECLS": "extern void f<T, U>(in T a);", "APPLY": "f<bit<8>>(meta.x);"},
     "f(meta.x)", "f<bit", "extern void f<", "f: 2 type parameters expected, but 1 type arguments supplied"),
    ({"DECLS": "T g<T, U>(in T a) { return a; }", "APPLY": "meta.x = g<bit<8>>(meta.x);"},
     "g(meta.x)", "= g<", "T g<", "g: 2 type parameters expected, but 1 type arguments supplied"),
])
def test_a_type_mismatch_quotes_the_node_p4c_was_checking(slots, quoted, at, cause, detail):
    text = build(**slots)
    first = first_error(text)
    head, *rest = first.message.splitlines()
    assert head == f"'{quoted}'" and rest[0] == "  ---- Actual error:" and detail in rest[1]
    assert first.pos.line == line_of(text, at) and first.cause_pos.line == line_of(text, cause)
    assert f"\n  ---- Actual error:\n  {first.cause_pos}: " in first.format()  # (where the mismatch is)


def test_a_package_argument_mismatch_quotes_the_package_type():
    text = ("control c(inout bit<8> x);\ncontrol d(inout bit<16> x) { apply { } }\npackage P(c a);\n"
            "P(d()) main;\n")
    first = first_error(text)
    assert first.message.startswith("'package P'\n  ---- Actual error:\n")
    assert (first.pos.line, first.cause_pos.line) == (3, 4)


def test_an_action_argument_in_a_table_quotes_the_argument():
    text = build(DECLS="enum bit<8> E { A = 1 }",
                 LOCALS="action a(E e) { }\n"
                        "table t { key = { meta.x: exact; } actions = { a; } const entries = { 1: a(8w2); } }",
                 APPLY="t.apply();")
    assert first_error(text).message.splitlines()[0] == "'8w2'"


@pytest.mark.parametrize("slots, message", [
    ({"DECLS": "enum E { p }\nenum G { p }\nconst bool z = E.p == G.p;"},
     "'E.p' with type 'E' cannot be compared to 'G.p' with type 'G'"),
    ({"DECLS": "enum bit<4> E { p = 1 }\ncontrol c2(in E v) { apply { switch (v) { 4w1: { } } } }"},
     "'v' with type 'E' cannot be compared to '4w1' with type 'bit<4>'"),
    ({"APPLY": "meta.x = meta.x + hdr.h.b;"},
     "meta.x + hdr.h.b: Cannot operate on values with different widths 8 and 16"),
    ({"APPLY": "bool b = true >= false;"}, "true >= false: not defined on bool and bool"),
    ({"APPLY": "meta.x = (bit<8>)(-8 / -2);"}, "-8 / -2: Division is not defined for negative numbers"),
    ({"APPLY": "meta.x = meta.x / 0;"}, "meta.x / 0: Division by zero"),
    ({"APPLY": "meta.x = meta.x >> 3 >> -2;"}, "meta.x >> 3 >> -2: Shifts with negative amounts are not permitted"),
    ({"APPLY": "meta.x = hdr.h.zz;"}, "Field zz is not a member of header h_t"),
    ({"APPLY": "meta.x = meta.x.y;"}, "Cannot extract field y from meta.x which has type bit<8>"),
    ({"APPLY": "meta.x = meta.x[2];"}, "Indexing meta.x[2] applied to non-array and non-tuple type bit<8>"),
    ({"DECLS": "const bit<32> z = 1w1;"}, "z: initializer has wrong type bit<1>"),
    ({"PARSER": "transition select(hdr.h.b) { 16w1 &&& 8w1: accept; } } state s {"},
     "1 &&& 1: Cannot operate on values with different types bit<16> and bit<8>"),
    # unary operators: p4c's constant folding's words for a literal, its type checker's else
    ({"APPLY": "bool b = !meta.x;"}, "Cannot apply ! to value meta.x of type bit<8>"),
    ({"APPLY": "bool b = ~true;"}, "true: expected an integer value"),
    ({"APPLY": "meta.x = (bit<8>)~5;"}, "~5: Operation cannot be applied to values with unknown width;"),
    # switch labels (p4c's parsed-program check), instances, type arguments
    ({"APPLY": "switch (meta.x) { default: { } 1: { } }"},
     "switch label 1 follows 'default' label, which is not allowed."),
    ({"APPLY": "switch (meta.x) { default: { } default: { } }"}, "switch has multiple 'default' labels:"),
    ({"DECLS": "struct s_t { bit<8> a; }", "LOCALS": "s_t() s;"}, "s: cannot allocate objects of type struct s_t"),
    ({"DECLS": "extern X { void f(); }", "LOCALS": "X() x;"}, "x: type X has no matching constructor"),
    ({"DECLS": "extern E<T> { E(); }", "LOCALS": "E<bit<8>, bit<8>>() e;"},
     "E<bit<8>, bit<8>>: Type E has 1 type parameter(s), but it is specialized with 2"),
    ({"DECLS": "struct s_t { bit<8> a; }", "APPLY": "meta.x = s_t.a;"},
     "Cannot extract field a from s_t which has type Type(struct s_t)"),
    # slices: p4c's constant folding's words when everything is a constant, its type checker's else
    ({"APPLY": "meta.x = (bit<8>)(8w2[-2:0]);"}, "8w2[-2:0]: bit slicing should be specified as [msb:lsb]"),
    ({"APPLY": "meta.x = (bit<8>)(8w2[1:-1]);"}, "-1: expected slice indexes to be non-negative"),
    ({"APPLY": "meta.x = (bit<8>)hdr.h.b[3:5];"}, "LSB index 5 greater than MSB index 3"),
    ({"APPLY": "meta.x = (bit<8>)hdr.h.b[meta.x:0];"}, "meta.x: slice bit index values must be constants"),
    # a type's external name (v1model's @name("standard_metadata")), a value_set's size
    ({"APPLY": "sm.drop = 1;"}, "Field drop is not a member of structure struct standard_metadata"),
    ({"PARSER_LOCALS": "value_set<bit<8>>(meta.x) vs;"}, "meta.x: value_set size must be constant"),
    # members and methods a type does not have, selects and switches on what they cannot take
    ({"APPLY": "hdr.h.push_front(1);"}, "Field push_front is not a member of header h_t"),
    ({"APPLY": "meta.isValid();"}, "Field isValid is not a member of structure struct m_t"),
    ({"APPLY": "bool b = meta.x.isValid();"}, "Cannot extract field isValid from meta.x which has type bit<8>"),
    ({"PARSER": "transition select(meta) { default: accept; } } state s {"},
     "Expression '{ meta }' with a component of type 'struct m_t' cannot be used in 'select'"),
    ({"APPLY": "switch (meta) { default: { } }"}, "meta: 'switch' type can't be struct m_t"),
    ({"APPLY": "break;"}, "break: break statement must be used in the context of a for statement."),
    # shifts: the amount first, then the shifted value; constant folding's words for a literal
    ({"APPLY": "meta.x = meta.x << true;"}, "true: The right operand of shift must be either an expression of "
     "type bit<S> or a compile-time known value that is a non-negative integer, but is bool"),
    ({"APPLY": "bool b = true; meta.x = (bit<8>)(b >> 1);"},
     "b >> 1 left operand of shift must be a numeric type, not bool"),
    ({"APPLY": "meta.x = (bit<8>)({ 8w1 } << 2);"}, "{ 8w1 }: expected an integer value"),
    ({"APPLY": "meta.x = 8w1 << 3000;"}, "1 << 3000: Compiler only supports widths up to 2048"),
    # concatenation, widths, literals
    ({"APPLY": 'meta.x = 4 ++ meta.x;'}, "4 ++ meta.x: Concatenation not defined on int and bit<8>"),
    ({"DECLS": "const bit<4294967296> k = 0;"}, "4294967296: this implementation does not support bitstrings "
     "this large"),
    ({"APPLY": "meta.x = (bit<8>)0s0;"}, "Width of signed type cannot be zero"),
    # declarations: enums, returns, named arguments, actions
    ({"DECLS": "typedef bit<8> B; type B T; enum T E { a = 1 }"}, "T: Illegal type for enum; only bit<> and "
     "int<> are allowed; note that type-declared types are not allowed even if they are fixed-size"),
    ({"DECLS": "enum int E { a = 1 }"}, "int: Illegal type for enum; only bit<> and int<> are allowed; note that "
     "the used type is unsized integral type"),
    ({"DECLS": "bit<8> f() { return; }"}, "return : return with no expression in a function returning bit<8>"),
    ({"DECLS": "extern void f(in bit<8> a, in bit<8> b);", "APPLY": "f(a = 1, 2);"},
     "2: either all or none of the arguments of a call must be named"),
    ({"LOCALS": "action a() { } table t { actions = { a; } default_action = a()(); }"},
     "a(): Cannot invoke result of an action call"),
    # select cases: constant folding's words on a constant key, the mid end's for a range
    ({"PARSER": "transition select(8w1) { meta.x &&& 3: accept; default: reject; } } state s {"},
     "meta.x: expression must evaluate to a constant"),
    ({"PARSER": "transition select(hdr.h.a) { meta.x .. 3: accept; default: reject; } } state s {"},
     "meta.x: Range boundaries must be a compile-time constants."),
    # tables: their own name in a key, a function in the actions, action_run outside a switch
    ({"LOCALS": "table t { key = { meta.x: exact; } actions = { } } table u { key = { u: exact; } actions = { } }"},
     "u: Cannot refer to the containing table u"),
    ({"DECLS": "void g(in bit<8> v) { }", "LOCALS": "table t { actions = { g(1); } }", "APPLY": "t.apply();"},
     "g(1) is not invoking an action"),
    ({"LOCALS": "action a() { } table t { actions = { a; } }",
      "APPLY": "if (t.apply().action_run == t.apply().action_run) { }"},
     "t.apply().action_run: only allowed in switch statements"),
    # declarations: constants of extern types, instances of non-block types, @match values
    ({"DECLS": "extern I { I(); }\nconst I i = I();"}, "i: Cannot declare constants of extern types"),
    ({"LOCALS": "bit<8>() b;"}, "bit<8>: invalid type for declaration"),
    ({"DECLS": "struct k_t { @match(1 + 2) bit<8> f; }"}, "3: value must be a match_kind"),
    ({"DECLS": "@a[k = { 2, 3 }] const bit<8> c = 1;"},
     "{ 2, 3 }: illegal type for structured annotation; must be int, string or bool"),
    # what p4c has folded by then: a header built in place is valid, `{#}` is not; constants
    ({"APPLY": "bool b = ((h_t) { 1, 2 }).isValid() & true;"},
     "&: cannot be applied to expression 'true' with type 'bool'"),
    ({"APPLY": "verify(8w0 == 8w1, error.NoMatch);"}, "verify(false, error.NoMatch): may only be invoked in parsers"),
    # tuples take constant indexes within their size
    ({"APPLY": "tuple<bit<8>, bit<8>> t = { 1, 2 }; meta.x = t[meta.x];"}, "Tuple index meta.x must be constant"),
    ({"APPLY": "tuple<bit<8>, bit<8>> t = { 1, 2 }; meta.x = t[2];"}, "Tuple index 2 larger than tuple size 2"),
    ({"DECLS": "extern bit<8> g(in bit<8> v);",
      "APPLY": "tuple<bit<8>, bit<8>> t = { 1, 2 }; meta.x = t[g(0xF)];"}, "Tuple index g((bit<8>)0xf) must be constant"),
    # an assignment's right-hand side is typed before its left-hand side must be writable
    ({"APPLY": "hdr.h.a[3:0] = (bit<4>)hdr.h.c;"}, "Field c is not a member of header h_t"),
    # a serializable enum takes no int implicitly; extract(_) has no type to extract
    ({"DECLS": "enum bit<8> E { a = 1 }", "APPLY": "E e = 1;"},
     "'e': values of type 'int' cannot be implicitly cast to type 'E'"),
    ({"PARSER": "pkt.extract(_);"}, "pkt.extract(DefaultExpression): could not infer a type for variable T"),
    # a parameter of a generic extern type names its type arguments
    ({"DECLS": "extern If<T> { T id(in T d); }\ncontrol q(If x) { apply { } }"}, "Type parameters needed for x"),
    ({"DECLS": "header_union U<T> { tuple<T, T> t; }"}, "Field 't' of 'header_union U' cannot have type 'tuple<T, T>'"),
    # selects: a case's next state must be a state, its values no calls
    ({"PARSER_LOCALS": "value_set<bit<8>>(4) vs;",
      "PARSER": "transition select(hdr.h.a) { 1: vs; default: accept; } } state s {"}, "SelectCase must be state"),
    ({"DECLS": "bit<8> g() { return 1; }", "PARSER": "transition select(hdr.h.a) { g(): accept; default: reject; } "
                                                     "} state s {"}, "g(): no function calls allowed in this context"),
    # what p4c types first: an action's body before its parameters' block types, a variable's
    # initializer before the variable's type
    ({"DECLS": "control K(); action act(in K k) { k.apply(); }"}, "k.apply(): apply cannot be called from actions"),
    # generic types: their own type inside them, type arguments of what is not generic, arguments
    # a constructor cannot infer
    ({"DECLS": "control k() { action a() { k.apply(); } apply { } }"},
     "Self-referencing types not supported: 'k' within 'control k'"),
    ({"DECLS": "extern X<T> { X(T a); }\ntypedef X<bit<8>> X8;", "LOCALS": "X8<bit<8>>(1) x;"},
     "X8<bit<8>>: Type X<...> is not generic and thus it cannot be specialized using type arguments"),
    ({"DECLS": "extern Two<A, B> { Two(A a); B get(); }", "LOCALS": "Two(8w1) two;"},
     "two: could not infer a type for variable B"),
    # an action's body is typed before its parameter list is checked; an abstract method's
    # implementation has its parameters checked before anything of the instance
    ({"DECLS": "action act(inout string s) { bit<8> y = (bit<8>)(s >> 3); }"},
     "s >> 3 left operand of shift must be a numeric type, not string"),
    ({"DECLS": "extern E { E(); }", "PARSER_LOCALS": "E() e = { bit<8> f(in int a) { return 1; } };"},
     "a: parameters with type int must be directionless"),
    # a table applied in an action argument; an undeclared name as a type argument
    ({"LOCALS": "action a(bit<8> v) { meta.x = v; } table u { actions = { } } "
                "table t { actions = { a(u.apply().hit ? 8w1 : 8w2); } }", "APPLY": "t.apply();"},
     "u.apply(): table invocation in action argument"),
    ({"DECLS": "parser Q<T>(in T i);\npackage M(Q<D> q);"}, "D: declaration not found"),
    # a width: folded before any typing, so what does not fold is no constant; its names resolved
    ({"DECLS": 'typedef bit<({#} - "N")> n_t;'}, '{#} - "N": expected a constant'),
    ({"DECLS": "typedef bit<W> n_t;"}, "W: declaration not found"),
    ({"DECLS": "extern void f<T>(in T x);", "APPLY": "f({ a = 1 });"},
     "unknown struct: Cannot infer type for unknown struct type initializer"),
    # unified with their context: a conditional's branches, a select's tuple of keys
    ({"DECLS": "struct s_t { }", "APPLY": "s_t s = (meta.x == 1 ? { } : true);"}, "'s'"),
    ({"PARSER": "transition select(hdr.h.a, { hdr.h.a, hdr.h.a }) { (1, { 2, 3 }, 4): accept; } } state s {"},
     "'SelectExpression'"),
    ({"APPLY": "for (bit<8> a in 16w0 .. 16w3) { meta.x = a; }"}, "'ForInStatement'"),
    # a specialized extern's methods: a directional parameter a type argument makes a string
    # (extern-abstract-method-parameter-type-unsupported-after-specialization)
    ({"DECLS": "extern S<T> { S(); abstract void u(out T v); }", "LOCALS": "S<string>() s = { };"},
     "v: a parameter with type string cannot have a direction"),
    # a control passed to a generic function: the argument (issue2454)
    ({"DECLS": "control K() { apply { } }\nvoid g<T>(in T t) { }", "LOCALS": "K() k;", "APPLY": "g(k);"},
     "k: argument cannot have type control K"),
])
def test_p4c_words_for_operands(slots, message):
    assert first_error(build(**slots)).message.splitlines()[0] == message


def test_a_directionless_parameter_takes_a_constant():
    """p4c unifies the call with the extern's type: a run-time value for a directionless
    parameter is quoted under the call; a function's own directionless parameter, and an
    action's data, are constants (issue4500, extern-int-arg1, factory-err2)."""
    first = first_error(build(APPLY="resubmit_preserving_field_list(meta.x);"))
    assert first.message.splitlines()[:3] == [
        "'resubmit_preserving_field_list(meta.x)'", "  ---- Actual error:",
        "  meta.x: argument used for directionless parameter 'index' must be a compile-time constant"]
    compile_source(build(DECLS="void f(bit<8> y) { resubmit_preserving_field_list(y); }",
                         APPLY="f(3); resubmit_preserving_field_list(2);"), "q.p4")


def test_a_quoted_struct_expression_prints_a_field_per_line():
    """p4c's debug printer writes a struct expression's fields on lines of their own; the
    whole quote comes before the source line (issue3057-1, issue5268)."""
    first = first_error(build(DECLS="struct s_t { bit<8> a; bit<8> b; }",
                              APPLY="bool z = (s_t) { a = 1, b = 2 } == { a = 1, c = 2 };"))
    assert first.message.startswith("'{\n  a:1;\n  b:2; } == {\n  a:1;\n  c:2; }'\n  ---- Actual error:")
    lines = first.format().splitlines()
    assert lines[4] == "  c:2; }'" and "bool z = (s_t)" in lines[5] and lines[7] == "  ---- Actual error:"


Q = "control Q() { apply { } }"


@pytest.mark.parametrize("slots, message", [
    ({"DECLS": Q, "APPLY": "Q() n;"}, "n: invalid declaration. Instantiations cannot be in a control 'apply' block."),
    ({"DECLS": Q, "LOCALS": "action a() { Q() n; }"},
     "n: invalid declaration. Instantiations cannot be in a control 'apply' block."),
    ({"DECLS": Q, "PARSER": "Q() n;"}, "n: invalid declaration. Instantiations cannot be in a parser state."),
    ({"DECLS": Q + "\nvoid f() { Q() n; }"},
     "n: invalid declaration. Instantiations cannot be in a function or method."),
    ({"DECLS": Q + "\naction f() { Q() n; }"}, "n: declaration. Instantiations not allowed in actions."),
])
def test_an_instance_in_code_is_refused_where_it_is(slots, message):
    """Instances belong among a block's locals; p4c's words say where one was found."""
    assert first_error(build(**slots)).message == message


def test_an_option_cannot_demote_an_error():
    """p4test's @command_line options: an error stays an error; p4c says so (no position)
    and reads the program on (issue4365_*)."""
    with pytest.raises(CompileError) as info:
        compile_source(build(DECLS='@command_line("--Wwarn=type-error") const bit<8> k = 1;\nconst bit<8> k = 2;'),
                       "q.p4")
    first, second = info.value.diagnostics[:2]
    assert first.pos is None and first.message == "Error type-error cannot be demoted."
    assert second.pos is not None and second.message.startswith("k duplicates k.")


def test_a_call_of_an_instance_says_it_is_not_a_method():
    text = "control X();\npackage Q(X x);\ncontrol Y() { apply { } }\nQ(Y()()) main;\n"
    assert first_error(text).message == "Y() is not a method"


def test_a_division_p4c_cannot_fold_is_quoted_after_copy_propagation():
    """p4c's mid end propagates a local's constant or copied value into the division it
    reports (div3, compound-assignment)."""
    assert first_error(build(APPLY="bit<8> b = 3; meta.x = meta.x / b;")).message.splitlines()[0] == \
        "meta.x / 3: could not evaluate expression at compilation time"
    assert first_error(build(LOCALS="action a() { bit<8> r = hdr.h.a; r /= meta.x; meta.x = r; }",
                             APPLY="a();")).message.splitlines()[0] == \
        "hdr.h.a / meta.x: could not evaluate expression at compilation time"


def test_an_assignment_to_what_cannot_be_written_names_the_expression():
    message = first_error(build(LOCALS="action w(in bit<8> v) { v = 1; }")).message
    assert message.splitlines() == ["Expression v cannot be the target of an assignment",
                                    "(cannot write to 'in' parameter 'v')"]


def test_node_text_prints_as_p4c_does():
    c8 = ir.Constant(2, type=ir.BitType(8))
    path = ir.PathExpr("a")
    cases = [
        (ir.Constant(255), "255"), (c8, "8w2"), (ir.Constant(-5, type=ir.BitType(4, True)), "-4s5"),
        (ir.Constant(16, 16, type=ir.BitType(8)), "8w0x10"),
        (ir.Binary("+", path, ir.Binary("*", c8, path)), "a + 2 * a"),  # (dbprint: operands' values)
        (ir.Binary("*", ir.Binary("+", path, c8), path), "(a + 2) * a"),
        (ir.Binary("-", path, ir.Binary("-", path, path)), "a - (a - a)"),
        (ir.MethodCall(ir.Member(path, "f"), args=[ir.Argument(c8), ir.Argument(None)]),
         "a.f(8w2, DefaultExpression)"),
        (ir.MethodCall(ir.PathExpr("g"), args=[ir.Argument(path, name="z")]), "g(z = a)"),
        (ir.ListExpr([]), "{}"), (ir.ListExpr([c8, ir.Dots()]), "{ 8w2, ... }"),
        (ir.StructExpr([("x", path), ("...", ir.Dots())]), "{ x = a, ... = ... }"),
        (ir.Conditional(path, path, path), "?:"),
        (ir.Return(path), "return a"), (ir.Assign(ir.Member(path, "b"), c8), "a.b = 8w2"),
        (ir.Slice(path, ir.Constant(3), ir.Constant(0)), "a[3:0]"),
        (ir.Cast(ir.TypeRef("bit", width=ir.Constant(16)), path), "(bit<16>)a"),
        (ir.SelectExpr([], []), "SelectExpression"),
    ]
    for node, text in cases:
        assert node_text(node) == text
    # a cast of a list to a stack type: printed when quoted itself, as its list inside a node
    stack = ir.Cast(ir.TypeRef("stack", args=[ir.TypeRef("name", name="h_t")], width=ir.Constant(1)),
                    ir.ListExpr([path]), type=ir.StackType(ir.BitType(8), 1))
    assert (node_text(stack), node_text(ir.Assign(path, stack))) == ("(h_t[1]){ a }", "a = { a }")
