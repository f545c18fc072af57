"""Building the IR: lark parse tree -> untyped IR (names unresolved, types as `TypeRef`).

One method per grammar rule; each attaches the source position of its construct (mapped
back through cpp's line markers) so later passes can report errors precisely.
"""

from __future__ import annotations

import copy
import itertools
import re

from lark import Token, Transformer, Tree, v_args
from lark.exceptions import VisitError

from fabriclab.p4 import consteval, ir
from fabriclab.p4.annotations import (body_items, check_annotations, expression_text, fold_literals,
                                      structured_values, unknown_diagnostic)
from fabriclab.p4.diagnostics import CompileError, Diagnostic, SourceMap, SourcePos
from fabriclab.p4.parser import UNEXPECTED_CHARACTER

_INT = re.compile(r"^(?:(\d+)([ws]))?(0[xX]|0[bB]|0[oO]|0[dD])?([0-9a-fA-F_]+)$")
_RADIX = {None: 10, "0x": 16, "0b": 2, "0o": 8, "0d": 10}


def parse_annotation(text: str, pos) -> ir.Annotation:
    """Split `@name(body)`; literal bodies (`"x"`, `5`, `"a", 2`) become `args`. A
    structured `@name[...]` gets its folded values in `structured`."""
    square = re.match(r"@\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[(.*)\]\s*$", text, re.S)
    if square:
        return ir.Annotation(square.group(1), pos=pos, structured=_structured(text, square.start(2), square.end(2), pos))
    match = re.match(r"@\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", text, re.S)
    if not match:
        return ir.Annotation(text.lstrip("@"), pos=pos)
    name, body = match.group(1), match.group(2)
    args: list = []
    if body is not None:
        for item in (m.group(1).strip() for m in _ITEM.finditer(body)):
            strings = _STRINGS.findall(item)
            if strings and _CONCAT.fullmatch(item):  # `"a" ++ "b"`: p4c folds it to one string
                args.append("".join(unescape(t[1:-1]) for t in strings))
            elif item:
                number = parse_int(item)
                args.append(number[0] if number else item)
    return ir.Annotation(name, body, args, pos=pos)


_ITEM = re.compile(r'\s*((?:"(?:\\.|[^"\\])*"|[^,"])+)\s*(?:,|$)')
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"')
_CONCAT = re.compile(r'\s*"(?:\\.|[^"\\])*"(?:\s*\+\+\s*"(?:\\.|[^"\\])*")*\s*')


def _structured(raw: str, start: int, end: int, pos) -> tuple:
    """`e, ...` or `k = e, ...` (the body `raw[start:end]` of an annotation's text) with
    each e a literal or a constant expression of literals (p4c folds them: `5+6` is 11,
    `1==2` false); any other expression is kept (ir.AnnotationExpr) for the checker."""
    where = _TokenPlaces(raw, start, pos)
    items = [(toks, where.each(toks)) for toks in body_items(raw[start:end]) if toks]
    if items and all(len(t) > 2 and t[1] == "=" and re.fullmatch(r"[A-Za-z_]\w*", t[0]) for t, _ in items):
        return ("kv", [(toks[0], _fold(toks[2:], places[2:], pos)) for toks, places in items])
    return ("list", [_fold(toks, places, pos) for toks, places in items])


class _TokenPlaces:
    """Where each token of an annotation's text is, as source positions (its tokens are
    substrings of the text, found in order)."""

    def __init__(self, raw: str, start: int, pos) -> None:
        self.raw, self.cursor, self.pos = raw, start, pos

    def each(self, toks: list[str]) -> list:
        places = []
        for tok in toks:
            k = self.raw.find(tok, self.cursor)
            self.cursor = k + len(tok)
            places.append(self._at(k))
        return places

    def _at(self, k: int):
        if self.pos is None:
            return None
        lines = self.raw.count("\n", 0, k)
        col = self.pos.col + k if not lines else k - self.raw.rfind("\n", 0, k)
        return SourcePos(self.pos.file, self.pos.line + lines, col)


def _fold(toks: list[str], places: list, pos):
    text = " ".join(toks).strip()
    if text.startswith("{"):  # (a list: p4c types it, and takes only scalars)
        inner = expression_text([t for item in body_items(text[1:-1]) for t in item + [","]][:-1])
        raise CompileError([Diagnostic(pos, f"{{ {inner} }}: illegal type for structured annotation; must be "
                                            f"int, string or bool")])
    if text.startswith('"') and text.endswith('"'):
        return unescape(text[1:-1])
    try:
        return fold_literals(text)
    except ValueError:
        names = [(t, p) for t, p in zip(toks, places)
                 if re.fullmatch(r"[A-Za-z_]\w*", t) and t not in ("true", "false")]
        compared = (toks[0], toks[2]) if len(toks) == 3 and toks[1] in ("==", "!=") and len(names) == 2 \
            and [n for n, _ in names] == [toks[0], toks[2]] else None
        return ir.AnnotationExpr(expression_text(toks), places[0] if places else pos, names, compared)


def unescape(text: str) -> str:
    """A string literal's escapes decoded; other characters (UTF-8 ones too) kept as written."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


def parse_int(text: str) -> tuple[int, int | None, bool, int] | None:
    """`8w0x1F` -> (value, width, signed, radix); None if not an integer literal."""
    match = _INT.match(text.strip())
    if not match:
        return None
    width, sign, prefix, digits = match.groups()
    radix = _RADIX[prefix.lower() if prefix else None]
    try:
        value = int(digits.replace("_", ""), radix)
    except ValueError:
        return None
    return value, int(width) if width else None, sign == "s", radix


@v_args(meta=True)
class IrBuilder(Transformer):
    """Transforms the parse tree bottom-up into `ir.Program`."""

    def __init__(self, smap: SourceMap, text: str):
        super().__init__(visit_tokens=False)
        self.smap = smap
        self.text = text
        self.warnings: list = []
        self._loops = itertools.count()  # numbers the variables of for-in loops
        self._unfolded = False  # a structured annotation holds an expression p4c does not fold

    # -- helpers -------------------------------------------------------------------
    def _pos(self, meta_or_tok):
        line = getattr(meta_or_tok, "line", None)
        if line is None:
            return None
        return self.smap.pos(line, meta_or_tok.column)

    def _src(self, meta) -> str:
        if getattr(meta, "empty", True):
            return ""
        return re.sub(r"\s+", "", self.text[meta.start_pos:meta.end_pos])

    def _error(self, meta_or_tok, message: str):
        line = getattr(meta_or_tok, "line", 1)
        col = getattr(meta_or_tok, "column", 1)
        return CompileError([self.smap.diagnostic(line, col, message)])

    def _expr(self, node: ir.Expr, meta) -> ir.Expr:
        node.pos = self._pos(meta)
        node.text = self._src(meta)
        return node

    def _name(self, tok) -> str:
        return str(tok)

    def _annos(self, value) -> list[ir.Annotation]:
        return value if isinstance(value, list) else []

    def _args(self, value) -> list[ir.Argument]:
        return value if isinstance(value, list) else []

    # -- program / annotations -----------------------------------------------------
    def start(self, meta, children):
        decls = [d for c in children for d in (c if isinstance(c, list) else [c])]
        return ir.Program(decls=[d for d in decls if isinstance(d, ir.Node)], pos=self._pos(meta),
                          unfolded_annotations=self._unfolded)

    def annos(self, meta, children):
        annos = [parse_annotation(str(tok), self._pos(tok)) for tok in children]
        check_annotations(annos)
        self._unfolded = self._unfolded or any(isinstance(v, ir.AnnotationExpr) for a in annos
                                               for v in structured_values(a))
        for tok, anno in zip(children, annos):
            if (message := unknown_diagnostic(anno)) is not None:
                self.warnings.append(self.smap.diagnostic(tok.line, tok.column, message))
        return annos

    # -- types ---------------------------------------------------------------------
    def _type(self, meta, kind, **kw) -> ir.TypeRef:
        return ir.TypeRef(kind, pos=self._pos(meta), **kw)

    def bool_type(self, meta, c):
        return self._type(meta, "bool")

    def error_type(self, meta, c):
        return self._type(meta, "error")

    def string_type(self, meta, c):
        return self._type(meta, "string")

    def match_kind_type(self, meta, c):
        return self._type(meta, "match_kind")

    def int_type(self, meta, c):
        return self._type(meta, "infint")

    def bit1_type(self, meta, c):
        return self._type(meta, "bit", width=ir.Constant(1, type=ir.IntType(), pos=self._pos(meta)))

    def _width(self, value, meta) -> ir.Expr:
        if isinstance(value, Token):
            return self.int_lit(value, [value])
        return value

    def bit_type(self, meta, c):
        return self._type(meta, "bit", width=self._width(c[1], meta))

    def signed_type(self, meta, c):
        return self._type(meta, "int", width=self._width(c[1], meta))

    def varbit_type(self, meta, c):
        return self._type(meta, "varbit", width=self._width(c[1], meta))

    def named_type(self, meta, c):
        return self._type(meta, "name", name=str(c[-1]))

    def specialized_type(self, meta, c):
        return self._type(meta, "specialized", name=str(c[0]), args=c[1])

    def stack_type(self, meta, c):
        return self._type(meta, "stack", args=[c[0]], width=c[1])

    def tuple_type(self, meta, c):
        return self._type(meta, "tuple", args=c[1] or [])

    def list_type(self, meta, c):
        return self._type(meta, "list", args=[c[1]])

    def function_decl(self, meta, c):
        annos, ret, name, type_params, params, body = c
        return ir.FunctionDecl(str(name), return_ref=ret, type_params=type_params or [],
                               params=params or [], body=body, annotations=self._annos(annos),
                               pos=self._pos(name))

    def type_args(self, meta, c):
        return list(c)

    def void_type(self, meta, c):
        return self._type(meta, "void")

    def dontcare_type(self, meta, c):
        return self._type(meta, "dontcare")

    def type_var(self, meta, c):
        return self._type(meta, "name", name=str(c[0]))

    def undeclared_type(self, meta, c):  # a type argument no type declared before it names
        return self._type(meta, "undeclared", name=str(c[0]))

    def type_params(self, meta, c):
        return [ir.TypeParam(str(t), self._pos(t)) for t in c if isinstance(t, Token) and t.type == "IDENTIFIER"]

    # -- type declarations -----------------------------------------------------------
    def const_decl(self, meta, c):
        annos, _const, type_ref, name, init = c
        return ir.ConstDecl(str(name), type_ref, init, annotations=self._annos(annos), pos=self._pos(name))

    def _struct(self, kind, meta, c):
        annos, _kw, name, *fields = c
        type_params = fields.pop(0)
        return ir.StructLike(str(name), kind=kind, fields=fields, annotations=self._annos(annos),
                             type_params=type_params or [], pos=self._pos(name))

    def header_decl(self, meta, c):
        return self._struct("header", meta, c)

    def struct_decl(self, meta, c):
        return self._struct("struct", meta, c)

    def union_decl(self, meta, c):
        return self._struct("header_union", meta, c)

    def field(self, meta, c):
        annos, type_ref, name, size = c
        if size is not None:  # `bit<8> a[16];`: an array, as `bit<8>[16] a;`
            type_ref = self._type(meta, "stack", args=[type_ref], width=size)
        return ir.Field(str(name), type_ref, annotations=self._annos(annos), pos=self._pos(name))

    def enum_decl(self, meta, c):
        annos, _kw, name, *members = c
        members = [m for m in members if m is not None]
        return ir.EnumDecl(str(name), members=[str(m) for m in members], member_pos=[self._pos(m) for m in members],
                           annotations=self._annos(annos), pos=self._pos(name))

    def ser_enum_decl(self, meta, c):
        annos, _kw, type_ref, name, *members = c
        members = [m for m in members if m is not None]
        return ir.EnumDecl(str(name), members=[m[0] for m in members], underlying_ref=type_ref,
                           value_exprs=[m[1] for m in members], member_pos=[m[2] for m in members],
                           annotations=self._annos(annos), pos=self._pos(name))

    def enum_member(self, meta, c):
        return (str(c[0]), c[1], self._pos(c[0]))

    def typedef_decl(self, meta, c):
        annos, _kw, type_ref, name = c
        if isinstance(type_ref, ir.Decl):  # `typedef struct S {...} T;`: S declared, T names it
            decl = type_ref
            type_ref = ir.TypeRef("name", name=decl.name, pos=decl.pos)
            return [decl, ir.TypedefDecl(str(name), type_ref, annotations=self._annos(annos), pos=self._pos(name))]
        return ir.TypedefDecl(str(name), type_ref, annotations=self._annos(annos), pos=self._pos(name))

    def newtype_decl(self, meta, c):
        annos, _kw, type_ref, name = c
        return ir.NewTypeDecl(str(name), type_ref, annotations=self._annos(annos), pos=self._pos(name))

    def error_decl(self, meta, c):
        members = [t for t in c[1:] if t is not None]
        return ir.ErrorDecl("error", members=[str(t) for t in members], member_pos=[self._pos(t) for t in members],
                            pos=self._pos(meta))

    def match_kind_decl(self, meta, c):
        members = [t for t in c[1:] if t is not None]
        return ir.MatchKindDecl("match_kind", members=[str(t) for t in members],
                                member_pos=[self._pos(t) for t in members], pos=self._pos(meta))

    # -- externs -----------------------------------------------------------------------
    def extern_object(self, meta, c):
        annos, _kw, name, type_params, *protos = c
        ext = ir.ExternDecl(str(name), type_params=type_params or [], annotations=self._annos(annos),
                            pos=self._pos(name))
        for proto in protos:
            (ext.constructors if proto.is_constructor else ext.methods).append(proto)
        return ext

    def extern_function(self, meta, c):
        annos, _kw, proto = c
        return ir.ExternFunction(proto.name, return_ref=proto.return_ref, type_params=proto.type_params,
                                 params=proto.params, annotations=self._annos(annos), pos=proto.pos)

    def function_proto(self, meta, c):
        ret, name, type_params, params = c
        return ir.Method(str(name), return_ref=ret, type_params=type_params or [],
                         params=params or [], pos=self._pos(name))

    def method_proto(self, meta, c):
        annos, abstract, proto = c
        proto.annotations = self._annos(annos)
        proto.abstract = abstract is not None
        return proto

    def ctor_proto(self, meta, c):
        annos, name, params = c
        return ir.Method(str(name), params=params or [], is_constructor=True,
                         annotations=self._annos(annos), pos=self._pos(name))

    def params(self, meta, c):
        return list(c)

    def param(self, meta, c):
        annos, direction, type_ref, name, default = c
        return ir.Param(str(name), direction=direction, type_ref=type_ref, default=default,
                        annotations=self._annos(annos), pos=self._pos(name))

    def direction(self, meta, c):
        return str(c[0])

    def _block_type(self, kind, meta, c):
        annos, _kw, name, type_params, params = c
        return ir.BlockTypeDecl(str(name), kind=kind, type_params=type_params or [], params=params or [],
                                annotations=self._annos(annos), pos=self._pos(name))

    def parser_type_decl(self, meta, c):
        return self._block_type("parser", meta, c)

    def control_type_decl(self, meta, c):
        return self._block_type("control", meta, c)

    def package_decl(self, meta, c):
        return self._block_type("package", meta, c)

    # -- parsers -----------------------------------------------------------------------
    def parser_decl(self, meta, c):
        annos, _kw, name, type_params, params, ctor_params, *rest = c
        return ir.ParserDecl(str(name), type_params=type_params or [], params=params or [], ctor_params=ctor_params or [],
                             locals=[r for r in rest if not isinstance(r, ir.ParserState)],
                             states=[r for r in rest if isinstance(r, ir.ParserState)],
                             annotations=self._annos(annos), pos=self._pos(name))

    def ctor_params(self, meta, c):
        return c[0] or []

    def value_set_decl(self, meta, c):
        annos, _kw, elem, _close, size, name = c
        return ir.ValueSetDecl(str(name), elem_ref=elem, size_expr=size, annotations=self._annos(annos),
                               pos=self._pos(name))

    def parser_state(self, meta, c):
        annos, _kw, name, *stmts = c
        transition = stmts.pop()
        if transition is None:  # p4c: an implicit transition to reject, with a warning
            self.warnings.append(self.smap.diagnostic(name.line, name.column,
                                                      f"{name}: implicit transition to `reject'"))
            transition = ir.Transition(state="reject", pos=self._pos(name))
        return ir.ParserState(str(name), stmts=stmts, transition=transition,
                              annotations=self._annos(annos), pos=self._pos(name))

    def transition(self, meta, c):
        return ir.Transition(state=str(c[1]), pos=self._pos(c[1]))

    def transition_select(self, meta, c):
        return ir.Transition(select=c[1], pos=self._pos(meta))

    def select_expr(self, meta, c):
        return ir.SelectExpr(keys=c[1] or [], cases=list(c[2:]), pos=self._pos(meta))  # `select()`

    def select_case(self, meta, c):
        keyset, state = c
        keysets = keyset.items if isinstance(keyset, ir.ListExpr) and keyset.text == "<tuple>" else [keyset]
        return ir.SelectCase(keysets, str(state), pos=self._pos(meta))

    def tuple_keyset(self, meta, c):
        return ir.ListExpr(list(c), text="<tuple>", pos=self._pos(meta))

    def mask(self, meta, c):
        return self._expr(ir.Mask(c[0], c[1]), meta)

    def range(self, meta, c):
        return self._expr(ir.Range(c[0], c[1]), meta)

    def default_keyset(self, meta, c):
        return self._expr(ir.DefaultExpr(), meta)

    dontcare_keyset = default_keyset

    # -- controls ------------------------------------------------------------------------
    def control_decl(self, meta, c):
        annos, _kw, name, type_params, params, ctor_params, *rest = c
        body = rest.pop()
        rest = [r for r in rest if not (isinstance(r, Token) and r.type == "APPLY")]
        return ir.ControlDecl(str(name), type_params=type_params or [], params=params or [],
                              ctor_params=ctor_params or [], locals=rest,
                              body=body, annotations=self._annos(annos), pos=self._pos(name))

    def action_decl(self, meta, c):
        annos, _kw, name, params, body = c
        return ir.ActionDecl(str(name), params=params or [], body=body, annotations=self._annos(annos),
                             pos=self._pos(name))

    def table_decl(self, meta, c):
        annos, _kw, name, *props = c
        table = ir.TableDecl(str(name), annotations=self._annos(annos), pos=self._pos(name))
        for kind, value, pos in props:
            table.layout.append((kind, pos))
            if kind == "key":
                table.keys = value
            elif kind == "actions":
                table.actions = value
            elif kind == "entries":
                table.entries, table.entries_const, table.entries_annotations = value
                table.has_entries = True
            else:
                table.properties.append(value)
        return table

    def key_prop(self, meta, c):
        return ("key", list(c[1:]), self._pos(c[0]))

    def key_element(self, meta, c):
        expr, kind, annos = c
        return ir.KeyElement(expr, str(kind), annotations=self._annos(annos), pos=self._pos(expr) or expr.pos)

    def actions_prop(self, meta, c):
        return ("actions", list(c[1:]), self._pos(c[0]))

    def action_ref(self, meta, c):
        annos, (name, absolute, tok), args = c
        return ir.ActionRef(name, args=self._args(args), annotations=self._annos(annos),
                            has_args=self._has_parens(meta), absolute=absolute, pos=self._pos(tok))

    def _has_parens(self, meta) -> bool:
        return not getattr(meta, "empty", True) and "(" in self.text[meta.start_pos:meta.end_pos]

    def entries_prop(self, meta, c):
        annos, const, kw, *entries = c
        return ("entries", ([e for e in entries if e is not None], const is not None, self._annos(annos)),
                self._pos(kw))

    def entry(self, meta, c):
        const, _prio_kw, prio, keyset, action, annos = c
        keysets = keyset.items if isinstance(keyset, ir.ListExpr) and keyset.text == "<tuple>" else [keyset]
        return ir.Entry(keysets, action, priority_expr=prio, is_const=const is not None,
                        annotations=self._annos(annos), pos=self._pos(meta))

    def entry_action(self, meta, c):
        (name, absolute, tok), args = c
        return ir.ActionRef(name, args=self._args(args), has_args=self._has_parens(meta),
                            absolute=absolute, pos=self._pos(tok))

    def simple_prop(self, meta, c):
        annos, const, name, value = c
        return (str(name), ir.TableProperty(str(name), value, is_const=const is not None,
                                            annotations=self._annos(annos), pos=self._pos(name)), self._pos(name))

    def path(self, meta, c):
        return (str(c[0]), False, c[0])

    def dot_path(self, meta, c):
        return (str(c[0]), True, c[0])

    def instantiation(self, meta, c):
        annos, type_ref, args, name, size, init = c
        return ir.Instance(str(name), type_ref=type_ref, args=self._args(args), annotations=self._annos(annos),
                           initializer=init, size_expr=size, pos=self._pos(name))

    def instance_init(self, meta, c):
        return list(c)

    def variable_decl(self, meta, c):
        annos, type_ref, name, init = c
        return ir.VarDecl(str(name), type_ref=type_ref, init=init, annotations=self._annos(annos),
                          pos=self._pos(name))

    # -- statements --------------------------------------------------------------------
    def block(self, meta, c):
        annos, *stmts = c
        return ir.Block(stmts=list(stmts), annotations=self._annos(annos), pos=self._pos(meta))

    def assignment(self, meta, c):
        return ir.Assign(c[0], c[1], pos=self._pos(meta))

    def compound_assignment(self, meta, c):
        """`x op= e` is `x = x op e`, with `x` evaluated once: function calls in `x` (an index)
        are hoisted once by the inlining, which then copies the call-free `x`."""
        lhs, op, *rest = c
        op = ">>" if op.type == "R_ANGLE_SHIFT" else str(op)[:-1]
        rhs = ir.Binary(op, lhs, rest[-2], pos=self._pos(meta), text=self._src(meta))
        return ir.Assign(copy.deepcopy(lhs), rhs, pos=self._pos(meta), compound=True)

    def call_stmt(self, meta, c):
        target, _targs_open, type_args, _close, args = c
        call = self._expr(ir.MethodCall(target, args=self._args(args), type_args=type_args or []), meta)
        return ir.CallStmt(call, pos=call.pos)

    def direct_apply(self, meta, c):
        """`Ctl.apply(args);`, `Prs<T>.apply(args);` (direct_calls.py turns it into an
        instance's apply)."""
        tname, type_args, _close, _apply, args = c
        target = ir.TypeMember(str(tname), "apply", type_args=type_args or [], pos=self._pos(tname),
                               text=f"{tname}.apply")
        call = self._expr(ir.MethodCall(target, args=self._args(args)), meta)
        return ir.CallStmt(call, pos=call.pos)

    def if_stmt(self, meta, c):
        _kw, cond, then, *rest = c
        else_ = next((r for r in rest if isinstance(r, ir.Stmt)), None)
        return ir.If(cond, then, else_, pos=self._pos(meta))

    def for_stmt(self, meta, c):
        annos, kw, init, cond, update, body = c
        return ir.For(init or [], cond, update or [], body, annotations=self._annos(annos), pos=self._pos(kw))

    def for_in_stmt(self, meta, c):
        """`for (T v in lo .. hi) S` and `for (T v in stack) S` as three-clause loops (the
        collection evaluated once, as P4 does), v a copy of the element in S:

            for (T v__lo = lo, T v__hi = hi, bool v__go = v__lo <= v__hi; v__go;
                 v__go = v__lo != v__hi, v__lo = v__lo + 1) { T v = v__lo; S }
            for (bit<32> v__i = 0; v__i < stack.size; v__i = v__i + 1) { T v = stack[v__i]; S }

        (`v__go` ends a range at its last value, where `v__lo + 1` may wrap around)."""
        loop_annos, kw, annos, type_ref, name, _in, first, last, body = c
        pos = self._pos(kw)
        n = next(self._loops)
        var = f"{name}__{n}"

        def ref(suffix: str) -> ir.PathExpr:
            return ir.PathExpr(var + suffix, pos=pos, text=var + suffix)

        def decl(suffix: str, tref, init) -> ir.VarDecl:
            return ir.VarDecl(var + suffix, type_ref=copy.deepcopy(tref), init=init, pos=pos)

        one = ir.Constant(1, type=ir.IntType(), pos=pos)
        if last is not None:
            bool_ref = ir.TypeRef("bool", pos=pos)
            init = [decl("_lo", type_ref, first), decl("_hi", type_ref, last),
                    decl("_go", bool_ref, ir.Binary("<=", ref("_lo"), ref("_hi"), pos=pos))]
            cond = ref("_go")
            update = [ir.Assign(ref("_go"), ir.Binary("!=", ref("_lo"), ref("_hi"), pos=pos), pos=pos),
                      ir.Assign(ref("_lo"), ir.Binary("+", ref("_lo"), one, pos=pos), pos=pos)]
            element: ir.Expr = ref("_lo")
        else:
            width = ir.Constant(32, type=ir.IntType(), pos=pos)
            index_ref = ir.TypeRef("bit", width=width, pos=pos)
            init = [decl("_i", index_ref, ir.Constant(0, type=ir.IntType(), pos=pos))]
            cond = ir.Binary("<", ref("_i"), ir.Member(first, "size", pos=pos, text=f"{first.text}.size"),
                             pos=pos)
            update = [ir.Assign(ref("_i"), ir.Binary("+", ref("_i"), one, pos=pos), pos=pos)]
            element = ir.Index(copy.deepcopy(first), ref("_i"), pos=pos, text=f"{first.text}[{var}_i]")
        inner = ir.VarDecl(str(name), type_ref=type_ref, init=element, annotations=self._annos(annos),
                           pos=self._pos(name))
        stmts = body.stmts if isinstance(body, ir.Block) and not body.annotations else [body]
        return ir.For(init, cond, update, ir.Block(stmts=[inner, *stmts], pos=body.pos), for_in=True,
                      annotations=self._annos(loop_annos), pos=pos)

    def for_compound(self, meta, c):
        return self.compound_assignment(meta, [*c, None])

    def for_clauses(self, meta, c):
        return list(c)

    def for_var(self, meta, c):
        annos, type_ref, name, init = c
        return ir.VarDecl(str(name), type_ref=type_ref, init=init, annotations=self._annos(annos),
                          pos=self._pos(name))

    def for_assign(self, meta, c):
        return ir.Assign(c[0], c[1], pos=self._pos(meta))

    def for_call(self, meta, c):
        target, args = c
        call = self._expr(ir.MethodCall(target, args=self._args(args)), meta)
        return ir.CallStmt(call, pos=call.pos)

    def stray_stmt(self, meta, c):
        raise self._error(c[0], UNEXPECTED_CHARACTER)

    def break_stmt(self, meta, c):
        return ir.Break(pos=self._pos(meta))

    def continue_stmt(self, meta, c):
        return ir.Continue(pos=self._pos(meta))

    def exit_stmt(self, meta, c):
        return ir.Exit(pos=self._pos(meta))

    def return_stmt(self, meta, c):
        return ir.Return(c[1], pos=self._pos(meta))

    def empty_stmt(self, meta, c):
        return ir.Empty(pos=self._pos(meta))

    def switch_stmt(self, meta, c):
        return ir.Switch(c[1], cases=list(c[2:]), pos=self._pos(meta))

    def switch_case(self, meta, c):
        label, body = c
        return ir.SwitchCase(label, body, pos=self._pos(meta))

    def default_label(self, meta, c):
        return None

    # -- expressions -------------------------------------------------------------------
    def args(self, meta, c):
        return [a if isinstance(a, ir.Argument) else ir.Argument(a, pos=a.pos) for a in c]

    def named_arg(self, meta, c):
        return ir.Argument(c[1], name=str(c[0]), pos=self._pos(meta))

    def dontcare_arg(self, meta, c):
        return ir.Argument(None, pos=self._pos(meta))

    def named_dontcare_arg(self, meta, c):
        return ir.Argument(None, name=str(c[0]), pos=self._pos(meta))

    def expr_list(self, meta, c):
        return list(c)

    def cond(self, meta, c):
        return self._expr(ir.Conditional(c[0], c[1], c[2]), meta)

    def _binary(self, meta, c):
        if len(c) == 4:  # shift right: R_ANGLE_SHIFT ">"
            return self._expr(ir.Binary(">>", c[0], c[3]), meta)
        return self._expr(ir.Binary(str(c[1]), c[0], c[2]), meta)

    lor = land = eq = rel = bor = bxor = band = shift = add = mul = _binary

    def lnot(self, meta, c):
        return self._expr(ir.Unary("!", c[0]), meta)

    def bnot(self, meta, c):
        return self._expr(ir.Unary("~", c[0]), meta)

    def neg(self, meta, c):
        return self._expr(ir.Unary("-", c[0]), meta)

    def pos(self, meta, c):
        return self._expr(ir.Unary("+", c[0]), meta)

    def cast(self, meta, c):
        return self._expr(ir.Cast(c[0], c[1]), meta)

    def member(self, meta, c):
        return self._expr(ir.Member(c[0], str(c[1])), meta)

    def index(self, meta, c):
        return self._expr(ir.Index(c[0], c[1]), meta)

    def slice(self, meta, c):
        return self._expr(ir.Slice(c[0], c[1], c[2]), meta)

    def width_slice(self, meta, c):
        """`e[lo +: w]` is `e[lo + w - 1 : lo]` (when lo is a compile-time constant)."""
        base, lo, _op, width = c
        hi = ir.Binary("-", ir.Binary("+", copy.deepcopy(lo), width, pos=self._pos(meta)),
                       ir.Constant(1, type=ir.IntType(), pos=self._pos(meta)), pos=self._pos(meta))
        return self._expr(ir.Slice(base, hi, lo, width=copy.deepcopy(width)), meta)

    def call(self, meta, c):
        target, _open, type_args, _close, args = c
        return self._expr(ir.MethodCall(target, args=self._args(args), type_args=type_args or []), meta)

    def int_lit(self, meta, c):
        tok = c[0]
        parsed = parse_int(str(tok))
        if parsed is None:
            raise self._error(tok, f"invalid integer literal '{tok}'")
        value, width, signed, radix = parsed
        if width is not None:
            if width == 0 and signed:
                raise self._error(tok, "Width of signed type cannot be zero")
            if width == 0 and value != 0 or width > consteval.MAX_WIDTH:
                raise self._error(tok, f"invalid width {width} in integer literal '{tok}'")
            typ: ir.Type = ir.BitType(width, signed)
            if value >= 1 << (width - signed):  # (p4c: IR::Constant::handleOverflow)
                what = "signed value" if signed else "value"
                text = consteval.literal_text(value, width, signed, radix)
                self.warnings.append(self.smap.diagnostic(tok.line, tok.column,
                                                          f"{text}: {what} does not fit in {width} bits"))
                value &= (1 << width) - 1
            value = consteval.wrap(value, typ)
        else:
            typ = ir.IntType()
        node = ir.Constant(value, radix, type=typ, text=str(tok), pos=self._pos(tok))
        return node

    def string_lit(self, meta, c):
        raw = str(c[0])[1:-1]
        return self._expr(ir.StringLiteral(unescape(raw), type=ir.StringType()), meta)

    def true_lit(self, meta, c):
        return self._expr(ir.BoolLiteral(True, type=ir.BoolType()), meta)

    def false_lit(self, meta, c):
        return self._expr(ir.BoolLiteral(False, type=ir.BoolType()), meta)

    def path_expr(self, meta, c):
        return self._expr(ir.PathExpr(str(c[0])), meta)

    def dot_path_expr(self, meta, c):
        return self._expr(ir.PathExpr(str(c[0]), absolute=True), meta)

    def list_expr(self, meta, c):
        return self._expr(ir.ListExpr([x for x in c if x is not None]), meta)

    def struct_expr(self, meta, c):
        fields = [x if isinstance(x, tuple) else ("...", ir.Dots(pos=self._pos(x), text="..."))
                  for x in c if x is not None]
        return self._expr(ir.StructExpr(fields), meta)

    def dots(self, meta, c):
        return self._expr(ir.Dots(), meta)

    def invalid_header(self, meta, c):
        return self._expr(ir.InvalidHeader(), meta)

    def kv_pair(self, meta, c):
        return (str(c[0]), c[1])

    def type_member(self, meta, c):
        return self._expr(ir.TypeMember(str(c[0]), str(c[1])), meta)

    def error_member(self, meta, c):
        return self._expr(ir.TypeMember("error", str(c[1])), meta)

    def ctor_call(self, meta, c):
        return self._expr(ir.ConstructorCall(c[0], args=self._args(c[1])), meta)


def build_ir(tree: Tree, smap: SourceMap, text: str, warnings: list | None = None) -> ir.Program:
    builder = IrBuilder(smap, text)
    try:
        program = builder.transform(tree)
        if warnings is not None:
            warnings.extend(builder.warnings)
        return program
    except VisitError as err:
        if isinstance(err.orig_exc, CompileError):
            raise err.orig_exc from None
        if isinstance(err.orig_exc, RecursionError):
            raise RecursionError from None  # the compiler reports it as a diagnostic
        raise
