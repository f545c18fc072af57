"""Parsing: preprocessed P4 text -> lark parse tree (LALR, one grammar instance per process).

Syntax errors become diagnostics at the offending token; tokens that start a construct
outside fabriclab's subset get an "unsupported" message instead of a bare syntax error.
"""

from __future__ import annotations

import pathlib
import re
import threading
from functools import lru_cache

from lark import Lark, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from fabriclab.p4.diagnostics import CompileError, SourceMap
from fabriclab.p4.lexer import PostLexer

GRAMMAR = pathlib.Path(__file__).with_name("p4.lark")

# Words that begin P4-16 constructs fabriclab does not support.
UNSUPPORTED_WORDS = {
    "varbit": "varbit types",
    "this": "'this'",
    "function": "function declarations",
    "tuple": "tuple types",
    "int": "arbitrary-precision int outside constants",
}

_KEYWORDS = {"in", "out", "inout", "const", "return", "exit", "else", "default", "transition", "state",
             "action", "table", "apply", "key", "actions", "entries", "typedef", "type", "header", "struct",
             "enum", "extern", "parser", "control", "package", "select", "switch", "if"}
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> tuple[Lark, PostLexer]:
    post = PostLexer()
    lark = Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", postlex=post,
                propagate_positions=True, maybe_placeholders=True, cache=True)
    return lark, post


class ParseError(CompileError):
    """A syntax error, with the complete parse trees read before it (`before`): p4c's parser
    reports what it finds wrong in them as it builds them, before it meets the error."""

    def __init__(self, diagnostics: list, before: list[Tree]) -> None:
        super().__init__(diagnostics)
        self.before = before


def parse(text: str, smap: SourceMap) -> Tree:
    lark, post = _parser()
    with _lock:
        post.text = text
        try:
            return lark.parse(text)
        except UnexpectedInput as err:
            state = getattr(err, "interactive_parser", None)
            before = [v for v in state.parser_state.value_stack if isinstance(v, Tree)] if state else []
            raise ParseError([_syntax_diagnostic(err, smap)], before) from None
        except RecursionError:
            raise CompileError([smap.diagnostic(1, 1, "program nested too deeply")]) from None


# p4c's grammar's names for its keywords' tokens (its bison parser names what it did not expect)
_TOKEN_NAMES = {w: w.upper() for w in (
    "abstract action actions apply bool bit break const continue control default else entries "
    "enum error exit extern false for header header_union if in inout int key list match_kind out "
    "package parser pragma priority return select state string struct switch table this "
    "transition true tuple type typedef varbit void").split()} | {"value_set": "VALUESET"}
_TYPE_DECLARED = r"\b(?:struct|header|header_union|enum(?:\s+bit\s*<[^>]*>)?|extern|parser|control|package)\s+{}\b" \
    r"|\b(?:typedef|type)\b[^;]*\b{}\s*;"
UNEXPECTED_END = "syntax error, unexpected END"
UNEXPECTED_CHARACTER = "syntax error, unexpected UNEXPECTED_TOKEN"


def token_name(value: str, before: str) -> str:
    """How p4c's bison parser names a token: a keyword's or literal's token name, an
    identifier as a type's name or not (its lexer asks what is declared so far), punctuation
    as written (quoted if it holds a comma)."""
    if value in _TOKEN_NAMES:
        return _TOKEN_NAMES[value]
    if re.fullmatch(r"[A-Za-z_]\w*", value) and value != "_":
        name = re.escape(value)
        return "TYPE_IDENTIFIER" if re.search(_TYPE_DECLARED.format(name, name), before) else "IDENTIFIER"
    if value[:1].isdigit():
        return "INTEGER"
    if value.startswith('"'):
        return "STRING_LITERAL"
    return f'"{value}"' if any(c in value for c in "',\\") else value


def _terminal_name(terminal: str) -> str:
    """p4c's name for a terminal of our grammar (its text, if it has one)."""
    lark, _post = _parser()
    try:
        pattern = lark.get_terminal(terminal).pattern
    except KeyError:  # a terminal only the post-lexer makes (TYPE_IDENTIFIER): p4c's name is ours
        return terminal
    if pattern.type == "str":
        return token_name(pattern.value, "")
    return terminal.removesuffix("_KW")


def _expecting(err: UnexpectedToken) -> str | None:
    """The token p4c's bison parser names as the one it expected, where it names one: only
    when its state takes a single token, after its default reductions (which our LALR
    tables, merged differently, do not make)."""
    expected = set(err.expected or ())
    state = err.interactive_parser.parser_state if err.interactive_parser is not None else None
    last = [getattr(v, "type", None) or getattr(v, "data", None) for v in (state.value_stack[-2:] if state else [])]
    if last[-1:] == ["TYPE_IDENTIFIER"] and {"LPAR", "DOT"} <= expected:
        return "("  # a type's name in an expression: p4c's namedType, then a constructor's "("
    if expected == {"LESSTHAN", "LPAR"}:
        return "("  # a declaration's name: p4c first reduces its empty optTypeParameters
    if expected == {"SEMICOLON"} and last[:1] in (["RETURN"], ["EQUAL"]):
        return None  # after an expression, which p4c's grammar may still continue
    return _terminal_name(expected.pop()) if len(expected) == 1 else None


def _unexpected_character(before: str) -> str:
    """p4c's words for a character no token starts with, after the text `before`: after
    `= {` (a list expression's start) its parser reduces an empty list, then takes only "}"."""
    return UNEXPECTED_CHARACTER + (", expecting }" if re.search(r"[=(,]\s*\{\s*$", before) else "")


def _syntax_diagnostic(err: UnexpectedInput, smap: SourceMap):
    line, col = max(getattr(err, "line", 1) or 1, 1), max(getattr(err, "column", 1) or 1, 1)
    if isinstance(err, UnexpectedEOF):
        last = smap.text.rstrip().split("\n")
        return smap.diagnostic(len(last), max(len(last[-1]), 1), UNEXPECTED_END)
    if isinstance(err, UnexpectedCharacters):
        return smap.diagnostic(line, col, _unexpected_character(smap.text[:err.pos_in_stream]))
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            last = smap.text.rstrip().split("\n")
            return smap.diagnostic(len(last), max(len(last[-1]), 1), UNEXPECTED_END)
        value = str(tok.value)
        if tok.type == "STRAY_CHAR":  # only annotation bodies may hold it (p4.lark)
            return smap.diagnostic(line, col, _unexpected_character(smap.text[:tok.start_pos]))
        if value in UNSUPPORTED_WORDS:
            return smap.diagnostic(line, col, f"unsupported: {UNSUPPORTED_WORDS[value]} are not supported by fabriclab")
        # p4c's words, and which name is probably meant as a type (its lexer tells an
        # identifier that names no type declared so far from a type's name)
        if tok.type == "IDENTIFIER" and re.match(r"\s*[A-Za-z_]", smap.text[tok.end_pos:]):
            return smap.diagnostic(line, col, f"syntax error, unexpected IDENTIFIER\n"
                                              f"('{value}' is not a type declared before it)")
        before = re.search(r"(?<![\w.])([A-Za-z_]\w*)[ \t]+$", smap.text[:tok.start_pos])
        if tok.type == "IDENTIFIER" and before and before.group(1) not in _KEYWORDS:
            return smap.diagnostic(line, col, f"syntax error, unexpected IDENTIFIER\n"
                                              f"('{before.group(1)}' is not a type declared before it)")
        if tok.type == "ANNOTATION":
            return smap.diagnostic(line, col, f"syntax error: annotation {value.split('(')[0]} is not allowed here")
        message = f"syntax error, unexpected {token_name(value, smap.text[:tok.start_pos])}"
        if (expecting := _expecting(err)) is not None:
            message += f", expecting {expecting}"
        return smap.diagnostic(line, col, message)
    return smap.diagnostic(line, col, "syntax error")
