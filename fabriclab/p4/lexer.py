"""Post-lexer: the context a LALR parser for P4-16 needs from its lexer.

P4-16 is not context-free at the token level: `a (b)` vs `T (b)`, `(T) x` vs `(a)` depend on
whether a name denotes a type. Like p4c's lexer, this pass tracks the type names declared so
far (headers, structs, enums, typedefs, externs, parsers, controls, packages and the type
parameters in scope) and emits TYPE_IDENTIFIER for them. It also folds `@name(...)` into one
ANNOTATION token (annotation bodies are unparsed token soup in P4), marks the first `>` of an
adjacent `>>` as R_ANGLE_SHIFT (so `bit<bit<8>>` closes two angles) and marks the `<` that
opens explicit type arguments of a call (`pkt.lookahead<bit<8>>()`) as TARGS_OPEN.
"""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedToken

_TYPE_KEYWORDS = {"BOOL", "ERROR", "STRING_KW", "INT", "BIT", "VARBIT", "TUPLE", "LIST", "VOID", "TYPE_IDENTIFIER"}
_DECL_START = {"SEMICOLON", "LBRACE", "RBRACE", "ANNOTATION"}
_TYPE_ARG_TOKENS = _TYPE_KEYWORDS | {"MATCH_KIND", "INTEGER", "COMMA", "LSQB", "RSQB", "DONTCARE", "LPAR", "RPAR"}


# tokens that can end a function's return type: `T f<X>(...)` declares a generic function
_RETURN_TYPE_END = {"TYPE_IDENTIFIER", "IDENTIFIER", "VOID", "BOOL"}


def _retype(tok: Token, kind: str) -> Token:
    return Token.new_borrow_pos(kind, tok.value, tok)


def _parameter_names(toks: list[Token], i: int) -> set[str]:
    """The names a parameter list (its `(` at i) declares: at its top nesting level, each name
    just before a `,`, the closing `)` or a default value's `=`."""
    names: set[str] = set()
    level = 0
    for j in range(i, len(toks)):
        value = toks[j].value
        if value in ("(", "<", "["):
            level += 1
        elif value in (")", ">", "]"):
            level -= 1
        if level <= 0 or level == 1 and value in (",", "="):
            if toks[j - 1].type in ("IDENTIFIER", "TYPE_IDENTIFIER"):
                names.add(toks[j - 1].value)
            if level <= 0:
                break
    return names


def _check_structured_body(body: list[Token]) -> None:
    """A structured annotation's body is an expression list or a key=value list (p4c's
    grammar; a key may be a keyword, `key=4`): where a mixed one stops parsing, a syntax
    error."""
    items: list[list[Token]] = [[]]
    depth = 0
    for tok in body:
        if tok.type in ("LPAR", "LSQB", "LBRACE"):
            depth += 1
        elif tok.type in ("RPAR", "RSQB", "RBRACE"):
            depth -= 1
        elif tok.value == "," and depth == 0:
            items.append([])
            continue
        items[-1].append(tok)
    items = [item for item in items if item]
    keyed = [len(item) > 1 and item[0].value.isidentifier() and item[1].value == "="
             for item in items]
    for item, is_kv in zip(items, keyed):
        if is_kv != keyed[0]:  # a key=value list expects a key; an expression list sees the `=`
            raise UnexpectedToken(item[0] if keyed[0] else item[1], {"RSQB"})


class PostLexer:
    """Stateless between runs: `process` starts from the built-in type names each time."""

    always_accept = ()

    def __init__(self) -> None:
        self.text = ""

    def process(self, stream):
        tokens = self._annotations(list(stream))
        tokens = self._classify(tokens)
        return iter(self._angles(tokens))

    # -- @annotations --------------------------------------------------------------
    def _annotations(self, toks: list[Token]) -> list[Token]:
        out: list[Token] = []
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok.type == "ANNOTATION" and i + 1 < len(toks) and toks[i + 1].type in ("LPAR", "LSQB"):
                # `@x(...)` (unparsed body) or a structured `@x[...]`: one token up to the match
                open_t, close_t = ("LPAR", "RPAR") if toks[i + 1].type == "LPAR" else ("LSQB", "RSQB")
                depth, j = 0, i + 1
                while j < len(toks):
                    if toks[j].type == open_t:
                        depth += 1
                    elif toks[j].type == close_t:
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                if open_t == "LSQB":
                    _check_structured_body(toks[i + 2:j])
                end = toks[min(j, len(toks) - 1)].end_pos
                out.append(Token.new_borrow_pos("ANNOTATION", self.text[tok.start_pos:end], tok))
                i = j + 1
                continue
            if tok.type == "ANNOTATION" and tok.value == "@pragma" and i + 1 < len(toks) \
                    and toks[i + 1].line == tok.line:
                # `@pragma name body...` to the end of its line: the annotation `@name(body)`
                j = i + 2
                while j < len(toks) and toks[j].line == toks[i + 1].line:
                    j += 1
                name, body = toks[i + 1], self.text[toks[i + 1].end_pos:toks[j - 1].end_pos].strip()
                value = f"@{name.value}({body})" if j > i + 2 else f"@{name.value}"
                out.append(Token.new_borrow_pos("ANNOTATION", value, tok))
                i = j
                continue
            out.append(tok)
            i += 1
        return out

    # -- type names ----------------------------------------------------------------
    def _classify(self, toks: list[Token]) -> list[Token]:
        global_types: set[str] = set()
        scopes: list[tuple[int, set[str]]] = []  # (brace depth at opening, type variables)
        extern_depth: int | None = None  # brace depth of the `extern` keyword being read
        fields_depth: int | None = None  # brace depth of the `struct`/`header` being read
        declare_next = False  # the next identifier is a type being declared
        depth = 0
        n = len(toks)

        # apply parameters of the parser or control being declared (`parser p(packet_in p)`),
        # then of its body: as in p4c's lexer, a parameter hides a type of its name there
        params_next = False  # the next `(` opens the parameter list of a parser or control
        pending: set[str] | None = None  # its parameter names, until its body's `{` (or `;`)
        # (brace depth at opening, parameter names or a local variable's name: it hides a type too)
        shadows: list[tuple[int, set[str]]] = []

        def is_type(name: str) -> bool:
            if any(name in s for _, s in shadows):
                return False
            return name in global_types or any(name in s for _, s in scopes)

        def hides_type(i: int) -> bool:
            """Token i, a type name, is the name of a local variable being declared (`bit<16>
            counter;` with an extern `counter`): as in p4c, the rest of its block sees a value."""
            prev, after = out[-1], toks[i + 1] if i + 1 < n else None
            return depth > 0 and fields_depth is None and after is not None and after.value in (";", "=") \
                and (prev.type in _TYPE_KEYWORDS or prev.value == "]" or prev.value == ">" and closes_type())

        def closes_type() -> bool:
            """The `>` last out closes a type's arguments (`bit<16>`, `T<U>`), not a comparison."""
            level = 0
            for j in range(len(out) - 1, -1, -1):
                level += {">": 1, "<": -1}.get(out[j].value, 0)
                if level == 0:
                    return j > 0 and out[j - 1].type in _TYPE_KEYWORDS
            return False

        def type_params(i: int) -> int:
            """Tokens i.. are `< A, B >`: leave them IDENTIFIER, scope them as types."""
            names: set[str] = set()
            j = i + 1
            while j < n and toks[j].value != ">":
                if toks[j].type in ("IDENTIFIER", "TYPE_IDENTIFIER"):
                    toks[j] = _retype(toks[j], "IDENTIFIER")
                    names.add(toks[j].value)
                j += 1
            scopes.append((depth, names))
            return j

        out: list[Token] = []
        i = 0
        while i < n:
            tok = toks[i]
            kind = tok.type
            nxt = toks[i + 1] if i + 1 < n else None
            if kind in ("HEADER", "STRUCT", "HEADER_UNION", "PARSER", "CONTROL", "PACKAGE"):
                declare_next = True
                if kind in ("HEADER", "STRUCT", "HEADER_UNION"):
                    fields_depth = depth
                params_next = kind in ("PARSER", "CONTROL")
            elif kind == "LPAR" and params_next:
                params_next = False
                pending = _parameter_names(toks, i)
            elif kind == "ENUM":  # `enum [bit<8> | typedef_t] Name {`: the name precedes the brace
                j = i + 1
                while j < n and toks[j].value not in ("{", ";"):
                    j += 1
                if toks[j - 1].type in ("IDENTIFIER", "TYPE_IDENTIFIER"):
                    global_types.add(toks[j - 1].value)
            elif kind == "TYPEDEF" or kind == "TYPE" and (i == 0 or toks[i - 1].type in _DECL_START) \
                    and (nxt is None or nxt.value not in ("=", ".", "[")):
                j, braces = i + 1, 0
                while j < n and (toks[j].value != ";" or braces):  # `typedef struct S {...} T;`
                    braces += {"{": 1, "}": -1}.get(toks[j].value, 0)
                    j += 1
                if j - 1 > i and toks[j - 1].type in ("IDENTIFIER", "TYPE_IDENTIFIER"):
                    global_types.add(toks[j - 1].value)
            elif kind == "EXTERN":
                extern_depth = depth
                if nxt is not None and nxt.type in ("IDENTIFIER", "TYPE_IDENTIFIER"):
                    after = toks[i + 2].value if i + 2 < n else ""
                    if after in ("{", "<"):
                        global_types.add(nxt.value)
            elif kind == "LBRACE":
                if pending is not None:
                    shadows.append((depth, pending))
                    pending = None
                depth += 1
            elif kind == "RBRACE":
                depth -= 1
                while scopes and scopes[-1][0] >= depth:
                    scopes.pop()
                while shadows and shadows[-1][0] >= depth:
                    shadows.pop()
                if extern_depth is not None and depth == extern_depth:
                    extern_depth = None
                if fields_depth is not None and depth == fields_depth:
                    fields_depth = None
            elif kind == "SEMICOLON":
                pending = None
                while scopes and scopes[-1][0] == depth:
                    scopes.pop()
                if extern_depth is not None and depth == extern_depth:
                    extern_depth = None
            if kind in ("IDENTIFIER", "TYPE_IDENTIFIER"):
                if declare_next:
                    declare_next = False
                    global_types.add(tok.value)
                    tok = _retype(tok, "TYPE_IDENTIFIER")
                    if nxt is not None and nxt.value == "<":
                        out.append(tok)
                        j = type_params(i + 1)
                        out.extend(toks[i + 1 : j])
                        i = j
                        continue
                elif nxt is not None and nxt.value == "<" and not (
                        tok.value in global_types and i > 0 and toks[i - 1].type != "EXTERN") and (
                        extern_depth is not None or depth == 0 and i > 0 and (
                            toks[i - 1].value == ">" or toks[i - 1].type in _RETURN_TYPE_END)):
                    # (not a declared type other than the extern being declared: `s<V>` in an
                    # extern's method signature is a specialization)
                    # an extern method's or a top-level function's type parameters
                    out.append(_retype(tok, "TYPE_IDENTIFIER") if is_type(tok.value) else tok)
                    j = type_params(i + 1)
                    _type_args_of_return_type(out, scopes[-1][1])
                    out.extend(toks[i + 1 : j])
                    i = j
                    continue
                elif is_type(tok.value) and hides_type(i):
                    shadows.append((depth - 1, {tok.value}))
                    tok = _retype(tok, "IDENTIFIER")
                elif is_type(tok.value):
                    tok = _retype(tok, "TYPE_IDENTIFIER")
            out.append(tok)
            i += 1
        return out

    # -- angle brackets --------------------------------------------------------------
    def _angles(self, toks: list[Token]) -> list[Token]:
        n = len(toks)
        for i, tok in enumerate(toks):
            if tok.type == "MORETHAN" and i + 1 < n and toks[i + 1].value in (">", ">=") \
                    and toks[i + 1].start_pos == tok.end_pos:
                toks[i] = _retype(tok, "R_ANGLE_SHIFT")
            elif tok.type == "LESSTHAN" and i > 0 and toks[i - 1].type == "IDENTIFIER" \
                    and self._type_args_follow(toks, i):
                toks[i] = _retype(tok, "TARGS_OPEN")
        return toks

    @staticmethod
    def _type_args_follow(toks: list[Token], i: int) -> bool:
        """`<` at i opens `<types>(`: balanced angles over type tokens, then a `(`."""
        level, j = 0, i
        while j < len(toks):
            value = toks[j].value
            if toks[j].type in ("BIT", "INT", "VARBIT") and j + 1 < len(toks) and toks[j + 1].value == "<":
                j = _width_end(toks, j + 2)  # `bit<b ^ 3>`: its width is an expression
                continue
            if value == "<":
                level += 1
            elif value == ">":
                level -= 1
                if level == 0:
                    return j + 1 < len(toks) and toks[j + 1].value == "("
            elif value == ">>":
                level -= 2
            elif toks[j].type not in _TYPE_ARG_TOKENS:
                return False
            j += 1
        return False


def _type_args_of_return_type(out: list[Token], names: set[str]) -> None:
    """`extern widget<T> make<T>(...)`: the function's type parameters (`names`) are types in
    the type arguments of its return type, which comes before them (factory2, hashext)."""
    k = len(out) - 2  # out[-1] is the function's name
    while k > 0 and out[k].type not in _DECL_START and out[k].type != "EXTERN":
        if out[k].type == "IDENTIFIER" and out[k].value in names and out[k - 1].value in ("<", ","):
            out[k] = _retype(out[k], "TYPE_IDENTIFIER")
        k -= 1


def _width_end(toks: list[Token], j: int) -> int:
    """The index after the `>` closing a width that starts at j: p4c's width expressions hold
    no `>` outside parentheses."""
    parens = 0
    while j < len(toks) and (parens or toks[j].value != ">"):
        parens += {"(": 1, ")": -1}.get(toks[j].value, 0)
        j += 1
    return j + 1
