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


def parse(text: str, smap: SourceMap) -> Tree:
    lark, post = _parser()
    with _lock:
        post.text = text
        try:
            return lark.parse(text)
        except UnexpectedInput as err:
            raise CompileError([_syntax_diagnostic(err, smap)]) from None
        except RecursionError:
            raise CompileError([smap.diagnostic(1, 1, "program nested too deeply")]) from None


def _syntax_diagnostic(err: UnexpectedInput, smap: SourceMap):
    line, col = max(getattr(err, "line", 1) or 1, 1), max(getattr(err, "column", 1) or 1, 1)
    if isinstance(err, UnexpectedEOF):
        last = smap.text.rstrip().split("\n")
        return smap.diagnostic(len(last), max(len(last[-1]), 1), "syntax error: unexpected end of file")
    if isinstance(err, UnexpectedCharacters):
        char = smap.text[err.pos_in_stream] if err.pos_in_stream < len(smap.text) else "?"
        return smap.diagnostic(line, col, f"syntax error: unexpected character {char!r}")
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            last = smap.text.rstrip().split("\n")
            return smap.diagnostic(len(last), max(len(last[-1]), 1), "syntax error: unexpected end of file")
        value = str(tok.value)
        if tok.type == "STRAY_CHAR":  # only annotation bodies may hold it (p4.lark)
            return smap.diagnostic(line, col, f"syntax error: unexpected character {value!r}")
        if value in UNSUPPORTED_WORDS:
            return smap.diagnostic(line, col, f"unsupported: {UNSUPPORTED_WORDS[value]} are not supported by fabriclab")
        if tok.type == "IDENTIFIER" and re.match(r"\s*[A-Za-z_]", smap.text[tok.end_pos:]):
            return smap.diagnostic(line, col, f"undeclared type '{value}'")
        before = re.search(r"(?<![\w.])([A-Za-z_]\w*)[ \t]+$", smap.text[:tok.start_pos])
        if tok.type == "IDENTIFIER" and before and before.group(1) not in _KEYWORDS:
            start = before.start(1)
            prev_line = smap.text.count("\n", 0, start) + 1
            prev_col = start - (smap.text.rfind("\n", 0, start) + 1) + 1
            return smap.diagnostic(prev_line, prev_col, f"undeclared type '{before.group(1)}'")
        if tok.type == "ANNOTATION":
            return smap.diagnostic(line, col, f"syntax error: annotation {value.split('(')[0]} is not allowed here")
        return smap.diagnostic(line, col, f"syntax error: unexpected {value!r}")
    return smap.diagnostic(line, col, "syntax error")
