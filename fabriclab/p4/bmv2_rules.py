"""What p4c's BMv2 back end (p4c-bm2-ss, simple_switch) rejects in a V1Switch program.

These are target rules, not language rules: p4test accepts such programs, p4c-bm2-ss does not
(its negative corpus, testdata/p4_16_bmv_errors). fabriclab is a simple_switch-faithful
target, so `rules.SimpleSwitchBackEnd` runs them, after the mid end, when main is a `V1Switch`:

- the parser's headers type must be a struct of headers, header stacks and header unions
  (nested structs are flattened first), and its metadata type a struct;
- every header instantiated (in those types, or as a local) must total a multiple of 8 bits;
- a table has at most one `lpm` key;
- no `list<T>` value at run time (lists are constructor arguments of externs);
- a direct_meter is used through a table's `meters` property and read() in its actions: a
  read() without such a table has nowhere to bind, a table's meter never read() has no result;
- a table's action argument is no invalid header (`{#}`): action data are bit strings;
- no arrays of extern instances (`register<bit<8>>(4) regs[2];`): the switch has none;
- a register's cells are bit<W> or int<W>, and it has some (no direct registers);
- externs are those simple_switch implements (v1model.p4's and core.p4's but Checksum16): p4c
  rejects a program's own extern functions and extern instances unless told to emit them
  (--emit-externs), and v1model.p4's Checksum16, which its back end never converts;
- each of V1Switch's blocks by its kind: the checksum controls hold only calls of their
  checksum functions on plain fields, the deparser only emits, constant assignments and
  extern calls (no `if`), clone(I2E)/resubmit run in ingress, clone(E2E)/recirculate in
  egress; the deprecated resubmit/recirculate/clone3 (and the checksum functions elsewhere)
  have no converter; a hash's data are a list or the fields of a struct or header; ingress
  and egress make a BMv2 control graph (bmv2_cfg: each table applied once on a path, with
  the same successors wherever it is applied);
- no field of a header stack's `next` is read or written (`next` is extract's argument only);
- a shift amount has at most 8 bits (BMv2's expressions).
"""

from __future__ import annotations

import itertools
import pathlib

from fabriclab.p4 import bmv2_cfg, ir, liveness
from fabriclab.p4.diagnostics import Diagnostic, TargetError
from fabriclab.p4.p4c_text import folded_text
from fabriclab.p4.preprocess import INCLUDE_DIR
from fabriclab.p4.typecheck import CheckContext


# v1model.p4 declares it, but p4c-bm2-ss has no converter for it (nor simple_switch a primitive)
UNIMPLEMENTED_EXTERNS = frozenset({"Checksum16"})


def error(pos, message: str) -> TargetError:
    return TargetError([Diagnostic(pos, message)])


def check_simple_switch(ctx: CheckContext, blocks: list, actions: list[ir.ActionDecl]) -> None:
    """Run the BMv2 rules on a V1Switch program; `blocks` are the parsers and controls main
    gets (and those they instantiate), `actions` the actions they use."""
    main = ctx.program.main
    if not is_v1switch(main):
        return
    parser = _main_arg(main, 0)
    if isinstance(parser, ir.ParserDecl) and len(parser.params) == 4:
        _check_headers_type(parser)
    _check_header_widths(blocks, actions)
    tables = [t for b in blocks if isinstance(b, ir.ControlDecl) for t in ir.applied_tables(b)]
    for table in tables:
        if sum(k.match_kind == "lpm" for k in table.keys) > 1:
            raise error(table.pos, f"multiple LPM keys in table '{table.name}' are not supported on "
                                   f"this target (BMv2 allows one lpm key per table)")
    _check_invalid_header_arguments(tables)
    instances = [d for b in blocks for d in b.locals if isinstance(d, ir.Instance)]
    for inst in [d for d in ctx.program.decls if isinstance(d, ir.Instance)] + instances:
        if inst.size_expr is not None:
            raise error(inst.pos, f"unsupported: {inst.name}: arrays of extern instances are not supported on "
                                  f"this target")
    for inst in [d for d in ctx.program.decls if isinstance(d, ir.Instance)] + instances:
        _check_register(inst)
    in_place = [getattr(t, prop) for t in tables for prop in ("implementation", "counters", "meters")]
    for inst in instances + [i for i in in_place if isinstance(i, ir.Instance)]:
        base = inst.type.base if isinstance(inst.type, ir.SpecializedType) else inst.type
        if isinstance(base, ir.ExternDecl) and (not system_decl(base) or base.name in UNIMPLEMENTED_EXTERNS):
            raise error(inst.pos, f"{base.name}: unknown extern instance: simple_switch does not implement "
                                  f"the extern '{base.name}' (p4c accepts it only with --emit-externs)")
    _check_no_lists(blocks, actions)
    calls = [c for body in _bodies(blocks, actions) for c in ir.iter_calls(body)]
    _check_direct_meters(blocks, tables, calls)
    for call in calls:
        if call.kind == ir.CallKind.EXTERN_FUNCTION and not system_decl(call.decl):
            raise error(call.pos, f"{call.method}: unknown extern function: simple_switch does not "
                                  f"implement it (p4c accepts it only with --emit-externs)")
    _check_next_fields(blocks, actions)
    _check_shifts(blocks, actions)
    _check_blocks(main)


# V1Switch's arguments in order: p4c-bm2-ss converts each by its kind
_PARSER, _VERIFY, _INGRESS, _EGRESS, _COMPUTE, _DEPARSER = range(6)
# v1model.p4's extern functions p4c-bm2-ss has no converter for (the deprecated ones, and the
# checksum functions outside their controls): "unknown extern function" where called
_NO_CONVERTER = frozenset({"resubmit", "recirculate", "clone3", "verify_checksum", "update_checksum",
                           "verify_checksum_with_payload", "update_checksum_with_payload"})
# extern function -> {argument's CloneType member or None: (the block it must be called in, p4c's words)}
_ONLY_IN = {
    "clone": {"I2E": (_INGRESS, "'clone(I2E, ...) not invoked in ingress"),
              "E2E": (_EGRESS, "'clone(E2E, ...) not invoked in egress")},
    "clone_preserving_field_list": {
        "I2E": (_INGRESS, "'clone_preserving_field_list(I2E, ...) not invoked in ingress"),
        "E2E": (_EGRESS, "'clone_preserving_field_list(E2E, ...) not invoked in egress")},
    "resubmit_preserving_field_list": {None: (_INGRESS, "'resubmit' can only be invoked in ingress")},
    "recirculate_preserving_field_list": {None: (_EGRESS, "'resubmit' can only be invoked in egress")},  # (sic)
}


def _check_blocks(main: ir.Instance) -> None:
    """What p4c-bm2-ss converts block by block: the checksum controls hold only calls of their
    checksum functions on plain fields, the deparser only emits, constant assignments and
    extern functions (no `if`), and clone, resubmit and recirculate run in the block they
    belong to (an action counts in each control that uses it)."""
    for role in range(_VERIFY, len(main.args)):
        blocks = liveness.blocks_under([main.args[role].value])
        if not blocks or not isinstance(blocks[0], ir.ControlDecl):
            continue
        if role in (_VERIFY, _COMPUTE):
            _check_checksum_control(blocks[0], role == _VERIFY)
        elif role == _DEPARSER:
            _check_deparser(blocks[0])
        else:
            bmv2_cfg.check_control(blocks[0])
        for call in (c for body in _bodies(blocks, liveness.used_actions(blocks)) for c in ir.iter_calls(body)):
            if call.kind != ir.CallKind.EXTERN_FUNCTION or not system_decl(call.decl):
                continue
            if call.method in _NO_CONVERTER and role not in (_VERIFY, _COMPUTE):
                raise error(call.pos, f"{call.method}: unknown extern function")
            if call.method == "hash" and len(call.args) > 3:
                _check_calculation_data(call.args[3].value)
            if call.method == "mark_to_drop" and not call.args:  # (v1model.p4's deprecated form)
                raise error(call.pos, f"Expected 1 argument for {folded_text(call)}. Are you using an "
                                      f"up-to-date v1model.p4?")
            rule = _ONLY_IN.get(call.method, {})
            first = call.args[0].value if call.args else None
            block, words = rule.get(first.member if isinstance(first, ir.EnumMember) else None, (role, ""))
            if block != role:
                raise error(call.pos, f"{words} {folded_text(call)}")


def _check_checksum_control(control: ir.ControlDecl, verify: bool) -> None:
    """p4c-bm2-ss turns a checksum control into a list of checksums: each statement a call of
    verify_checksum(_with_payload) (or update_...), whose data are fields, not computations."""
    name = "verify_checksum" if verify else "update_checksum"
    for stmt in _statements_of(control.body.stmts):
        call = stmt.call if isinstance(stmt, ir.CallStmt) else None
        if call is None or call.kind != ir.CallKind.EXTERN_FUNCTION or not system_decl(call.decl) or \
                call.method not in (name, name + "_with_payload"):
            if _local_write(stmt):
                continue  # (a local's copy: p4c's copy propagation may take it away)
            raise error(stmt.pos, f"{folded_text(stmt)}: Only calls to {name} or {name}_with_payload allowed")
        if len(call.args) > 1:
            _check_calculation_data(call.args[1].value)
            for node in ir.walk(call.args[1].value):
                if not isinstance(node, _SIMPLE) and not (isinstance(node, ir.Cast) and node.target is None):
                    raise error(node.pos, f"{folded_text(node)}: Computations are not supported in {name}")


def _check_next_fields(blocks: list, actions: list[ir.ActionDecl]) -> None:
    """A field of `hs.next` has no BMv2 expression (`next` is only extract's argument there):
    p4c-bm2-ss refuses reading or writing one (issue692-bmv2, XFAIL in p4c's BMv2 list)."""
    for node in _nodes(blocks, actions):
        inner = node.expr if isinstance(node, ir.Member) else None
        if isinstance(inner, ir.Member) and inner.member == "next" and \
                isinstance(_unalias(inner.expr.type), ir.StackType) and \
                not isinstance(_unalias(node.type), ir.StructLike):  # (extract's hs.next.union_member)
            raise error(inner.pos, f"{folded_text(inner)} uninitialized: next field read")


def _check_shifts(blocks: list, actions: list[ir.ActionDecl]) -> None:
    """BMv2 takes a shift amount of at most 8 bits (p4c-bm2-ss's LowerExpressions): a `bit<W>`
    amount wider than that, or a constant one over 256, is refused, even one that always fits
    (cast it: `x << (bit<8>)port`). Table keys are not lowered; a shift the mid end folds away
    (a constant or zero operand) is gone before."""
    for node in _nodes(blocks, actions):
        if not (isinstance(node, ir.Binary) and node.op in ("<<", ">>")):
            continue
        amount, left = _uncast(node.right), _uncast(node.left)
        if isinstance(amount, ir.Constant) and (amount.value == 0 or isinstance(left, ir.Constant)):
            continue  # (folded: `x << 0` is x, a constant shift is a constant)
        if isinstance(left, ir.Constant) and left.value == 0:
            continue  # (`0 << x` is 0)
        t = _unalias(node.right.type)
        if isinstance(t, ir.EnumDecl) and t.underlying is not None:
            t = t.underlying
        if isinstance(t, ir.BitType) and t.width > 8:
            raise error(node.pos, f"{folded_text(node)}: shift amount limited to 8 bits on this target")
        if isinstance(amount, ir.Constant) and not isinstance(t, ir.BitType) and amount.value > 256:
            raise error(node.pos, f"{folded_text(node)}: shift amount limited to 256 on this target")


def _check_calculation_data(data: ir.Expr) -> None:
    """A hash's or checksum's data become a BMv2 calculation's field list: a list, or the
    fields of a struct or header (a tuple is a struct by then), not a single value."""
    if not isinstance(_uncast(data), (ir.ListExpr, ir.StructExpr)) and \
            not isinstance(_unalias(data.type), (ir.StructLike, ir.TupleType)):
        raise TargetError([Diagnostic(data.pos, f"{folded_text(data)}: expected a struct"),
                           Diagnostic(None, "Are you using an up-to-date v1model.p4?")])


# what a checksum's data may hold (p4c's EnsureExpressionIsSimple): fields, lists, constants
_SIMPLE = (ir.StructExpr, ir.PathExpr, ir.Member, ir.ListExpr, ir.Constant, ir.Index, ir.EnumMember,
           ir.TypeMember, ir.TypeRef)


def _check_deparser(control: ir.ControlDecl) -> None:
    """The deparser's statements, as p4c-bm2-ss converts them: emits, assignments of
    constants and extern function calls, in blocks; `return`/`exit` end it; nothing else
    (no `if`: every emit already tests its header's validity)."""
    for stmt in _statements_of(control.body.stmts, stop_at_exit=True):
        if isinstance(stmt, ir.CallStmt) and stmt.call.kind in (ir.CallKind.EMIT, ir.CallKind.EXTERN_FUNCTION):
            continue
        if isinstance(stmt, ir.Assign) and (isinstance(_uncast(stmt.rhs), (ir.Constant, ir.BoolLiteral))
                                            or _local_write(stmt)):
            continue
        raise error(stmt.pos, f"{folded_text(stmt)}: not supported within a deparser on this target")


def _statements_of(stmts: list, stop_at_exit: bool = False):
    """The statements of a control's body as p4c's back end sees them: blocks and applied
    controls inlined, declarations moved out, empty statements gone (`stop_at_exit`: none
    after a `return` or `exit`)."""
    for stmt in stmts:
        if isinstance(stmt, ir.Block):
            yield from _statements_of(stmt.stmts, stop_at_exit)
        elif isinstance(stmt, ir.CallStmt) and stmt.call.kind == ir.CallKind.CONTROL_APPLY and \
                isinstance(inner := liveness.block_of(stmt.call.target), ir.ControlDecl):
            yield from _statements_of(inner.body.stmts, stop_at_exit)
        elif isinstance(stmt, (ir.Return, ir.Exit)) and stop_at_exit:
            return
        elif not isinstance(stmt, (ir.Empty, ir.VarDecl, ir.ConstDecl)):
            yield stmt


def _local_write(stmt) -> bool:
    """An assignment to a local variable (or a part of one), not to a parameter."""
    if not isinstance(stmt, ir.Assign):
        return False
    root = stmt.lhs
    while isinstance(root, (ir.Member, ir.Index, ir.Slice)):
        root = root.expr
    return isinstance(root, ir.PathExpr) and isinstance(root.decl, ir.VarDecl)


def _uncast(e):
    while isinstance(e, ir.Cast) and e.target is None:
        e = e.expr
    return e


def _check_register(inst: ir.Instance) -> None:
    """simple_switch's registers hold bit strings: p4c-bm2-ss refuses a register of any other
    cell type (a serializable enum is its bits by then) and one of no cells (a direct
    register, which BMv2 does not have)."""
    t = inst.type
    if not (isinstance(t, ir.SpecializedType) and getattr(t.base, "name", None) == "register"
            and system_decl(t.base) and t.args):
        return
    cell = _unalias(t.args[0])
    if isinstance(cell, ir.EnumDecl) and cell.underlying is not None:
        cell = cell.underlying
    if inst.args and isinstance(size := inst.args[0].value, ir.Constant) and size.value == 0:
        raise error(inst.pos, f"{inst.name}: direct registers are not supported in bmv2")
    if not isinstance(cell, ir.BitType):
        raise error(inst.pos, "register: Only registers with bit or int types are currently supported")


def _check_invalid_header_arguments(tables: list[ir.TableDecl]) -> None:
    """Action data are bit strings: an invalid header (`{#}`, a constant p4c's front end takes
    as a table's action argument: invalid_header_default_action_arg) has none on this target."""
    for table in tables:
        refs = [table.default_action] + [e.action for e in table.entries]
        for arg in (a for ref in refs if ref is not None for a in ref.args):
            value = arg.value
            while isinstance(value, ir.Cast):
                value = value.expr
            if isinstance(value, ir.InvalidHeader):
                raise error(arg.value.pos, f"unsupported: {arg.value.text}: an invalid header as an action "
                                           f"argument of table '{table.name}' on this target")


def is_v1switch(main: ir.Instance | None) -> bool:
    """Whether `main` is a V1Switch: the program simple_switch runs (and the one p4c writes
    P4Runtime files for)."""
    return main is not None and _type_name(main.type) == "V1Switch"


def _type_name(t) -> str | None:
    return getattr(t.base if isinstance(t, ir.SpecializedType) else t, "name", None)


def _main_arg(main: ir.Instance, index: int):
    if index >= len(main.args):
        return None
    value = main.args[index].value
    value = value.decl if isinstance(value, ir.PathExpr) else value
    return getattr(value, "type", None)


def system_decl(decl) -> bool:
    """Declared in fabriclab's own core.p4/v1model.p4 (what simple_switch implements)."""
    pos = getattr(decl, "pos", None)
    if pos is None:
        return True
    try:
        return pathlib.Path(pos.file).resolve().parent == INCLUDE_DIR.resolve()
    except (OSError, ValueError):
        return False


def _unalias(t):
    while isinstance(t, (ir.TypedefDecl, ir.NewTypeDecl)) and t.type is not None:
        t = t.type
    return t


def _check_headers_type(parser: ir.ParserDecl) -> None:
    """p4c-bm2-ss maps the headers struct's fields to header instances and the metadata
    struct's to metadata: the parser's out headers parameter and its metadata parameter must
    be structs, and the headers' (flattened) fields headers, stacks or unions."""
    hdr, meta = parser.params[1], parser.params[2]
    htype, mtype = _unalias(hdr.type), _unalias(meta.type)
    where = hdr.type_ref.pos if hdr.type_ref is not None and hdr.type_ref.pos else hdr.pos
    if not (isinstance(htype, ir.StructLike) and htype.kind == "struct"):
        raise error(where, f"{_show(htype)}: the headers type of parser '{parser.name}' (parameter "
                           f"'{hdr.name}') must be a struct on this target")
    if not all(_header_like(t) for t in _leaf_types(htype)):
        raise error(where, f"{_show(htype)}: the type should be a struct of headers, stacks, or unions "
                           f"(the headers of parser '{parser.name}', parameter '{hdr.name}')")
    if not (isinstance(mtype, ir.StructLike) and mtype.kind == "struct"):
        where = meta.type_ref.pos if meta.type_ref is not None and meta.type_ref.pos else meta.pos
        raise error(where, f"{_show(mtype)}: expected the user metadata type to be a struct "
                           f"(parameter '{meta.name}' of parser '{parser.name}')")


def _show(t) -> str:
    display = getattr(t, "display", None)
    return display() if callable(display) else str(t)


def _leaf_types(struct: ir.StructLike):
    """The field types of a struct, nested structs flattened (as p4c's mid end does)."""
    for f in struct.fields:
        t = _unalias(f.type)
        if isinstance(t, ir.StructLike) and t.kind == "struct":
            yield from _leaf_types(t)
        else:
            yield t


def _header_like(t) -> bool:
    return isinstance(t, ir.StackType) or (isinstance(t, ir.StructLike) and t.kind in ("header", "header_union"))


def _check_header_widths(blocks: list, actions: list[ir.ActionDecl]) -> None:
    """BMv2 stores a header as whole bytes: p4c-bm2-ss rejects a header type it instantiates
    (through the blocks' parameters or locals) whose fields do not total a multiple of 8 bits
    (a varbit counts with its maximum width, an error as 32 bits, a bool as 1)."""
    seen: set[int] = set()
    types = [p.type for b in blocks for p in b.params]
    for node in [b.locals for b in blocks] + list(_bodies(blocks, actions)):
        types += [d.type for d in _var_decls(node)]
    todo = list(types)
    while todo:
        t = _unalias(todo.pop(0))
        if isinstance(t, ir.SpecializedType) or id(t) in seen:
            continue
        seen.add(id(t))
        if isinstance(t, ir.StackType):
            todo.append(t.elem)
        elif isinstance(t, ir.StructLike) and t.kind == "header":
            bits = _header_bits(t)
            if bits % 8:
                raise error(t.pos, f"header '{t.name}' has fields totaling {bits} bits: the BMv2 target only "
                                   f"supports headers with fields totaling a multiple of 8 bits")
        elif isinstance(t, ir.StructLike):
            todo += [f.type for f in t.fields]


def _header_bits(t) -> int:
    t = _unalias(t)
    if isinstance(t, ir.ErrorType):
        return 32
    if isinstance(t, ir.StructLike):
        return sum(_header_bits(f.type) for f in t.fields)
    if isinstance(t, ir.StackType):
        return _header_bits(t.elem) * t.size
    return ir.bit_width(t)


def _var_decls(node):
    """Every variable declared in a statement tree or list of declarations."""
    items = node if isinstance(node, (list, tuple)) else [node]
    return [n for item in items for n in ir.walk(item) if isinstance(n, ir.VarDecl)]


def _bodies(blocks: list, actions: list[ir.ActionDecl]) -> list:
    found: list = []
    for b in blocks:
        found.append(b.body if isinstance(b, ir.ControlDecl) else b.states)
        found += [d for d in b.locals if isinstance(d, ir.VarDecl)]
    return found + [a.body for a in actions]


def _nodes(blocks: list, actions: list[ir.ActionDecl]):
    """Every IR node of the blocks' and actions' code (not through links)."""
    for body in _bodies(blocks, actions):
        for root in body if isinstance(body, list) else [body]:
            yield from ir.walk(root)


def _check_no_lists(blocks: list, actions: list[ir.ActionDecl]) -> None:
    """`list<T>` values exist at compile time only (extern constructor arguments): simple_switch
    has no run-time list, so a variable, action parameter or expression of a list type in the
    pipeline is refused rather than run."""
    params = (n for a in actions for p in a.params for n in ir.walk(p))
    for node in itertools.chain(_nodes(blocks, actions), params):
        if isinstance(getattr(node, "type", None), ir.ListType):
            raise error(node.pos, f"unsupported: {node.type.display()} values at run time "
                                  f"(list types are only supported in extern constructor arguments)")


def _check_direct_meters(blocks: list, tables: list[ir.TableDecl], calls: list[ir.MethodCall]) -> None:
    """simple_switch binds a direct meter to the one table whose `meters` property names it and
    writes its colour to the read() call's argument: a meter read() but attached to no
    (applied) table is an error in p4c, one attached but never read() has no destination."""
    read = {id(_receiver(c)): c for c in calls
            if c.kind == ir.CallKind.EXTERN_METHOD and c.method == "read" and _receiver(c) is not None}
    owner = {id(t.meters): t for t in tables if isinstance(t.meters, ir.Instance)}
    for block in blocks:
        for inst in block.locals:
            if not isinstance(inst, ir.Instance) or _type_name(inst.type) != "direct_meter":
                continue
            if id(inst) in read and id(inst) not in owner:
                raise error(inst.pos, f"{inst.name}: direct meter is not associated with any table via "
                                      f"'meters' table property")
            if id(inst) in owner and id(inst) not in read:
                raise error(inst.pos, f"{inst.name}: the direct meter of table '{owner[id(inst)].name}' is "
                                      f"never read: BMv2 needs a read() of it in the table's actions")


def _receiver(call: ir.MethodCall):
    target = call.target
    decl = target.decl if isinstance(target, ir.PathExpr) else None
    return decl if isinstance(decl, ir.Instance) else None
