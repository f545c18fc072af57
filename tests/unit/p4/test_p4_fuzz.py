"""Property test: damaged programs only ever produce CompileError, never another exception."""

import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabriclab.p4 import CompileError, compiler
from fabriclab.p4.preprocess import preprocess

REPO = pathlib.Path(__file__).resolve().parents[3]
SOURCES = [REPO / "p4src" / "basic.p4"] + sorted((REPO / "tests" / "data" / "p4").glob("*.p4"))
# Preprocess once: mutations then exercise the lexer, parser, IR builder, checker and P4Info
# without paying for cpp on every example.
PREPROCESSED = [preprocess(p.read_text(), str(p)) for p in SOURCES]
TOKENS = ["(", ")", "{", "}", ";", ",", ".", "<", ">", ">>", "=", "==", "&&&", "..", "_", "default",
          "bit<8>", "int<4>", "8w300", "0", "-1", "true", "hdr", "meta", "apply", "table", "action",
          "state", "transition", "select", "extract", "exit", "return", "@name(\"x\")", "@id(3)", "++",
          "[", "]", ":", "?", "headers", "error", "void", "const", "#", "\"s\"", "/*", "0x", "1w2w3"]


WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]+")
# Tokens of the programs themselves: swapping them keeps most mutants parseable, so the
# checker and P4Info generation see many near-valid programs, not just syntax errors.
POOL = sorted({m.group() for text in PREPROCESSED for m in WORD.finditer(text)})


@pytest.fixture(scope="module", autouse=True)
def _no_disk_cache():
    """Thousands of mutants must not fill ~/.cache with entries nobody will read again."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FABRICLAB_CACHE", "0")
        yield


def _compile(text: str) -> None:
    try:
        compiler._compile_preprocessed(text, "fuzz")
    except CompileError as err:
        assert err.diagnostics and all(d.message for d in err.diagnostics)
        str(err)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(PREPROCESSED))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "swap", "swap"]))
        if kind == "swap":
            match = WORD.search(text, pos)
            if match:
                text = text[:match.start()] + draw(st.sampled_from(POOL)) + text[match.end():]
        elif kind == "truncate":
            text = text[:pos]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)):]
        else:
            token = draw(st.sampled_from(TOKENS))
            cut = pos + (draw(st.integers(1, 12)) if kind == "replace" else 0)
            text = text[:pos] + " " + token + " " + text[cut:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_programs_only_produce_diagnostics(text):
    _compile(text)


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=200))
def test_random_text_only_produces_diagnostics(text):
    _compile(text)


def test_a_token_only_the_post_lexer_makes_is_named_in_a_syntax_error():
    """Found by the mutation above: `.` at the top level wants a type's name, a terminal the
    grammar declares but only the post-lexer produces; naming it crashed."""
    with pytest.raises(CompileError) as info:
        compiler._compile_preprocessed(". \nerror { X }\n", "fuzz")
    assert info.value.first.message == "syntax error, unexpected ERROR, expecting TYPE_IDENTIFIER"
