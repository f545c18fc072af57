"""P4Info generation with p4c-bm2-ss's names, ids, aliases and ordering (v1model).

The rules (see REFERENCE_FACTS.md and the P4Runtime spec):
* Objects are named by their place in the instantiated pipeline: a top-level control by its
  type name (`MyIngress.ipv4_lpm`), a nested instance by its instance name
  (`IngressI.do_aux.t`), global actions without prefix; `@name("x")` replaces the local
  name, `@name(".x")` is absolute. Two objects of one kind with one name are an error.
* ids are `(prefix << 24) | (jenkins_one_at_a_time(name) & 0xFFFFFF)`; `@id` wins. Names
  without `@id` are hashed in sorted order per kind and collisions probe the next hash
  value, as p4c does, so ids do not depend on declaration order.
* aliases are the shortest unique dot-suffix among all names of all kinds.
* Match field / param / metadata ids count from 1 (after honouring `@id`).
* Only actions that are used (in a table or called) appear, as after p4c's dead-code pass.
"""

from __future__ import annotations

import collections
import contextvars
import re
from dataclasses import dataclass, field

from finsy.proto import p4i, p4r
from finsy.proto.p4.config.v1 import p4types_pb2

from fabriclab.p4 import consteval, ir
from fabriclab.p4.bmv2_rules import is_v1switch
from fabriclab.p4.diagnostics import Diagnostic
from fabriclab.p4.p4c_text import node_text
from fabriclab.p4.p4entries import add_table_entries

PREFIX = {"action": 0x01, "table": 0x02, "value_set": 0x03, "controller_header": 0x04,
          "action_profile": 0x11, "counter": 0x12, "direct_counter": 0x13, "meter": 0x14,
          "direct_meter": 0x15, "register": 0x16, "digest": 0x17}
DEFAULT_TABLE_SIZE = 1024
_MATCH_TYPES = {"exact": p4i.MatchField.EXACT, "lpm": p4i.MatchField.LPM, "ternary": p4i.MatchField.TERNARY,
                "range": p4i.MatchField.RANGE, "optional": p4i.MatchField.OPTIONAL}
_COUNTER_UNITS = {"packets": p4i.CounterSpec.PACKETS, "bytes": p4i.CounterSpec.BYTES,
                  "packets_and_bytes": p4i.CounterSpec.BOTH}
_METER_UNITS = {"packets": p4i.MeterSpec.PACKETS, "bytes": p4i.MeterSpec.BYTES}
_SKIPPED_ANNOTATIONS = {"name", "id", "brief", "description"}


def jenkins_hash(name: str) -> int:
    """Jenkins one-at-a-time hash (32 bit) of the UTF-8 bytes of `name`."""
    h = 0
    for byte in name.encode():
        h = (h + byte) & 0xFFFFFFFF
        h = (h + (h << 10)) & 0xFFFFFFFF
        h ^= h >> 6
    h = (h + (h << 3)) & 0xFFFFFFFF
    h ^= h >> 11
    h = (h + (h << 15)) & 0xFFFFFFFF
    return h


# p4c reports P4Info problems only when it generates P4Info (p4c-bm2-ss --p4runtime-files), so
# they are collected here, the P4Info is built as well as possible, and the compile result
# carries them (`CompiledProgram.p4info_errors`) for the tools that write or serve P4Info.
_problems: contextvars.ContextVar[list[Diagnostic]] = contextvars.ContextVar("p4info_problems")


def _fail(node, message: str) -> None:
    _problems.get().append(Diagnostic(getattr(node, "pos", None), message))


def _folded_text(e: ir.Expr) -> str:
    """An argument as p4c prints it once its mid end has folded constants: a constant cast
    to a width is that width's literal (`(bit<32>)5` is `32w5`)."""
    if isinstance(e, ir.Cast) and isinstance(e.expr, ir.Constant) and isinstance(e.type, ir.BitType):
        return f"{e.type.width}{'s' if e.type.signed else 'w'}{e.expr.value}"
    return node_text(e)


def _warn(node, message: str) -> None:
    """A warning p4c gives while generating P4Info (returned with the problems, as a warning)."""
    _problems.get().append(Diagnostic(getattr(node, "pos", None), message, severity="warning"))


class SymbolTable:
    """Names per kind -> ids (p4c's allocation) and the global alias suffix set."""

    def __init__(self) -> None:
        self.names: dict[str, dict[str, int | None]] = {k: {} for k in PREFIX}
        self.assigned: set[int] = set()
        self._all: set[str] = set()
        self._suffix_count: dict[tuple[str, ...], int] = {}

    def add(self, kind: str, name: str, node=None) -> None:
        table = self.names[kind]
        if name in table:
            return
        user_id = _user_id(kind, node) if node is not None else None
        if user_id is not None:
            if user_id in self.assigned:
                _fail(node, f"@id {user_id} is assigned to multiple declarations")
                user_id = None
            else:
                self.assigned.add(user_id)
        table[name] = user_id
        if name not in self._all:
            self._all.add(name)
            parts = tuple(name.split("."))
            for i in range(len(parts)):
                suffix = parts[i:]
                self._suffix_count[suffix] = self._suffix_count.get(suffix, 0) + 1

    def compute_ids(self) -> None:
        for kind, table in self.names.items():
            prefix = PREFIX[kind] << 24
            for name in sorted((n for n, i in table.items() if i is None), key=lambda n: n.encode()):
                value = jenkins_hash(name)
                while prefix | (value & 0xFFFFFF) in self.assigned:
                    value = (value + 1) & 0xFFFFFFFF
                table[name] = prefix | (value & 0xFFFFFF)
                self.assigned.add(table[name])

    def id(self, kind: str, name: str) -> int:
        return self.names[kind][name]  # type: ignore[return-value]

    def alias(self, name: str) -> str:
        parts = name.split(".")
        for n in range(1, len(parts) + 1):
            if self._suffix_count.get(tuple(parts[-n:]), 0) < 2:
                return ".".join(parts[-n:])
        return name


def _user_id(kind: str, node) -> int | None:
    anno = node.annotation("id") if hasattr(node, "annotation") else None
    if anno is None:
        return None
    if not anno.args or not isinstance(anno.args[0], int) or anno.args[0] < 0:
        _fail(anno, "@id needs a non-negative integer argument")
        return None
    value = anno.args[0]
    prefix = PREFIX[kind] << 24
    if value > 0xFFFFFFFF:
        _fail(anno, f"@id {value} does not fit P4Runtime's 32-bit ids")
        return None
    if value & 0xFF000000 and value & 0xFF000000 != prefix:
        _fail(anno, "@id has the wrong 8-bit prefix")
        return None
    return value | prefix


def local_name(decl: ir.Decl) -> tuple[str, bool]:
    """(control-plane local name, is_absolute) from `@name` or the declared name."""
    anno = decl.annotation("name")
    if anno and anno.args and isinstance(anno.args[0], str):
        text = anno.args[0]
        return (text[1:], True) if text.startswith(".") else (text, False)
    return decl.name, False


def qualified(prefix: str, decl: ir.Decl) -> str:
    name, absolute = local_name(decl)
    return name if absolute or not prefix else f"{prefix}.{name}"


@dataclass
class _Collected:
    """Everything P4Info lists, in p4c's traversal order, with fully qualified names."""

    actions: list[tuple[str, ir.ActionDecl]] = field(default_factory=list)
    tables: list[tuple[str, ir.TableDecl, str]] = field(default_factory=list)  # name, table, prefix
    instances: list[tuple[str, ir.Instance]] = field(default_factory=list)
    value_sets: list[tuple[str, ir.ValueSetDecl]] = field(default_factory=list)
    digests: list[tuple[str, ir.Type]] = field(default_factory=list)
    # (id(ActionDecl), control instance prefix) -> name: a control instantiated twice has
    # its actions twice
    action_names: dict[tuple[int, str], str] = field(default_factory=dict)
    extern_calls: bool = False  # an extern function is called from a control or its actions
    table_actions: set[int] = field(default_factory=set)  # id(ActionDecl) of actions some table lists
    table_sizes: dict[str, int] = field(default_factory=dict)  # name -> size set by a constructor argument


def _hidden(decl) -> bool:
    return decl.annotation("hidden") is not None


class _Walker:
    """Walks the instantiated pipeline (main's arguments, nested instances) in order."""

    def __init__(self, program: ir.Program):
        self.program = program
        self.out = _Collected()
        self.digest_names: dict[int, str] = {}
        self.top_actions = {id(d) for d in program.decls if isinstance(d, ir.ActionDecl)}

    def run(self) -> _Collected:
        main = self.program.main
        # p4c visits the evaluated blocks breadth first: top-level extern instances (children
        # of the program block, named without prefix) come before everything in main.
        for decl in self.program.decls:
            if isinstance(decl, ir.Instance) and decl is not main and _extern_kind(decl) is not None:
                self.out.instances.append((qualified("", decl), decl))
        for arg in main.args if main else []:
            value = arg.value
            if isinstance(value, ir.PathExpr) and isinstance(value.decl, ir.Instance):
                value = value.decl  # `MyIngress() ig; V1Switch(..., ig, ...)`: still the type's name
            decl = value.type if isinstance(value, (ir.ConstructorCall, ir.Instance)) else None
            if isinstance(decl, (ir.ControlDecl, ir.ParserDecl)):
                start = len(self.out.actions)
                self._block(decl, local_name(decl)[0], {})
                # p4c lists the top-level actions a stage or any control inside it uses
                # before the actions declared in them (dash-pipeline-v1model-bmv2, issue298-bmv2),
                # each part in the order walked
                stage = self.out.actions[start:]
                top = [a for a in stage if id(a[1]) in self.top_actions]
                self.out.actions[start:] = top + [a for a in stage if id(a[1]) not in self.top_actions]
        return self.out

    def _block(self, decl, prefix: str, args: dict[int, int]) -> None:
        """`args`: the block instance's numeric constructor arguments, by id of the parameter."""
        if isinstance(decl, ir.ParserDecl):
            for local in decl.locals:
                if isinstance(local, ir.ValueSetDecl):
                    self.out.value_sets.append((qualified(prefix, local), local))
                elif isinstance(local, ir.Instance):
                    self._instance(local, prefix, args)
            return
        used = self._used_actions(decl)
        globals_used = [a for a in used if a not in decl.locals]
        for action in globals_used + [d for d in decl.locals if isinstance(d, ir.ActionDecl) and d in used]:
            name = qualified("" if action not in decl.locals else prefix, action)
            self.out.action_names[(id(action), prefix)] = name
            if all(name != seen for seen, _ in self.out.actions):
                self.out.actions.append((name, action))
        applied = ir.applied_tables(decl)
        for local in decl.locals:
            if isinstance(local, ir.TableDecl):
                if local not in applied:  # p4c removes tables that are never applied
                    continue
                self.out.tables.append((qualified(prefix, local), local, prefix))
                self._table_size(qualified(prefix, local), local, args)
                for prop in ("implementation", "counters", "meters"):
                    declared = local.get_property(prop)
                    if declared is not None and isinstance(declared.value, ir.Instance):
                        self._in_place(local, prop, declared.value)
            elif isinstance(local, ir.Instance) and not _removed_unused(local, decl, self.program):
                self._instance(local, prefix, args)
        for action in [a for _, a in self.out.actions if a in used] + [decl]:
            for call in _calls_inlined(action.body):
                if call.kind == ir.CallKind.EXTERN_FUNCTION and call.method != "static_assert":
                    self.out.extern_calls = True  # (p4c's front end evaluates static_assert away)
                    if call.method == "digest":
                        self._digest(call)

    def _instance(self, inst: ir.Instance, prefix: str, args: dict[int, int]) -> None:
        typ = inst.type
        if isinstance(typ, (ir.ControlDecl, ir.ParserDecl)):
            inner = {id(a.param): consteval.instance_value(a.value, args) for a in inst.args if a.param is not None}
            # p4c: `ingress.c.t` for instance c
            self._block(typ, qualified(prefix, inst), {k: v for k, v in inner.items() if v is not None})
        else:
            self.out.instances.append((qualified(prefix, inst), inst))

    def _table_size(self, name: str, table: ir.TableDecl, args: dict[int, int]) -> None:
        """A size given by a constructor parameter (`size = Size;`) is this instance's argument."""
        prop = table.get_property("size")
        if prop is None or isinstance(prop.value, ir.Constant):
            return
        size = consteval.instance_value(prop.value, args)
        if size is None:
            _fail(prop.value, f"unsupported: the size of table '{table.name}' is not known in instance '{name}'")
            return
        self.out.table_sizes[name] = size

    def _in_place(self, table: ir.TableDecl, prop: str, inst: ir.Instance) -> None:
        """An extern constructed in a table property is named by the property's @name, unqualified."""
        anno = inst.annotation("name")
        if anno is None or not anno.args or not isinstance(anno.args[0], str):
            _fail(inst, f"unsupported: table '{table.name}' has an anonymous '{prop}' without a @name "
                        f"annotation, which P4Runtime cannot name")
            return
        self.out.instances.append((anno.args[0].lstrip("."), inst))

    def _digest(self, call: ir.MethodCall) -> None:
        data = call.type_bindings.get("T")
        if isinstance(data, ir.StructLike):
            name = local_name(data)[0]
        else:  # p4c names digests of unnamed types (lists) digest_0, digest_1, ... and says so
            if id(call) not in self.digest_names:
                self.digest_names[id(call)] = f"digest_{len(self.digest_names)}"
                args = ", ".join(_folded_text(a.value) for a in call.args)
                _warn(call, f"Cannot find a good name for {call.method}({args}) method call, using "
                            f"auto-generated name '{self.digest_names[id(call)]}'")
            name = call.digest_name = self.digest_names[id(call)]
        if all(n != name for n, _ in self.out.digests):
            self.out.digests.append((name, data))

    def _used_actions(self, control: ir.ControlDecl) -> list[ir.ActionDecl]:
        used: list[ir.ActionDecl] = []

        def add(action):
            if isinstance(action, ir.ActionDecl) and action not in used:
                used.append(action)

        applied = ir.applied_tables(control)
        for local in control.locals:
            if local in applied:
                for ref in local.actions:
                    add(ref.decl)
                    self.out.table_actions.add(id(ref.decl))
                add(local.default_action.decl)
                self.out.table_actions.add(id(local.default_action.decl))
        # Actions called from the apply block stay; p4c's front end inlines actions called from
        # other actions, so those vanish unless a table or the apply block uses them too.
        for call in ir.iter_calls(control.body, live_only=True):
            if call.kind == ir.CallKind.ACTION:
                add(call.decl)
        return used


def _check_action_names(program: ir.Program) -> None:
    """p4c checks, when it writes P4Runtime files, that no two actions of the instantiated
    program share a hierarchical control-plane name (`.name` or `.control.instance.name`):
    an absolute `@name` may repeat another action's name, and a control instantiated twice
    repeats the absolute names of its actions. Only actions the program uses count (p4c has
    removed the others); a top-level action is one action wherever it is used."""
    seen: dict[str, tuple[tuple[int, str], ir.ActionDecl, str]] = {}

    def check(action: ir.ActionDecl, name: str, owner: str) -> None:
        """`owner`: the control instance path; p4c quotes each name as its inlined `@name`
        says it (an instance's path before a relative name below the top control)."""
        local, absolute = local_name(action)
        below = owner.partition(".")[2]
        written = "." + local if absolute else f"{below}.{local}" if below else local
        key = (id(action), owner)
        first = seen.setdefault(name, (key, action, written))
        if first[0] != key:
            _fail(action, f"{written}: conflicting control plane name: {first[2]}\n(action '{action.name}' and "
                          f"action '{first[1].name}'{f', line {first[1].pos.line}' if first[1].pos else ''})")

    blocks: list[tuple[ir.ControlDecl, str]] = []

    def walk(control: ir.ControlDecl, prefix: str) -> None:
        blocks.append((control, prefix))
        for local in control.locals:
            if isinstance(local, ir.Instance) and isinstance(local.type, ir.ControlDecl):
                walk(local.type, qualified(prefix, local))

    roots = []
    for arg in program.main.args if program.main else []:
        value = arg.value.decl if isinstance(arg.value, ir.PathExpr) else arg.value
        decl = getattr(value, "type", None)
        if isinstance(decl, ir.ControlDecl) and decl not in roots:
            roots.append(decl)
    for decl in program.decls:  # p4c visits the (inlined) controls in program order
        if decl in roots:
            walk(decl, local_name(decl)[0])
    used: dict[int, set[int]] = {}  # id(control) -> ids of the actions it uses
    for control, _prefix in blocks:
        ids = used.setdefault(id(control), set())
        todo: list = [control.body]
        for table in ir.applied_tables(control):
            refs = table.actions + [table.default_action] + [e.action for e in table.entries]
            todo.extend(ref.decl for ref in refs if ref is not None and isinstance(ref.decl, ir.ActionDecl))
        while todo:
            node = todo.pop()
            if isinstance(node, ir.ActionDecl):
                if id(node) in ids:
                    continue
                ids.add(id(node))
                node = node.body
            todo.extend(c.decl for c in ir.iter_calls(node) if isinstance(c.decl, ir.ActionDecl))
    used_anywhere = set().union(*used.values()) if used else set()
    for decl in program.decls:
        if isinstance(decl, ir.ActionDecl) and id(decl) in used_anywhere:
            check(decl, "." + local_name(decl)[0], "")
    for control, prefix in blocks:
        for local in control.locals:
            if isinstance(local, ir.ActionDecl) and id(local) in used[id(control)]:
                name, absolute = local_name(local)
                check(local, "." + (name if absolute else f"{prefix}.{name}"), prefix)


def _calls_inlined(body: ir.Block, seen: tuple = ()) -> list[ir.MethodCall]:
    """Calls in `body`, looking through calls of actions (p4c inlines those)."""
    result = []
    for call in ir.iter_calls(body):
        result.append(call)
        if call.kind == ir.CallKind.ACTION and call.decl not in seen:
            result.extend(_calls_inlined(call.decl.body, seen + (call.decl,)))
    return result


# ------------------------------------------------------------------------------- builder
def _annotate(message, annotations: list[ir.Annotation], skip: set[str] = frozenset()) -> None:
    for anno in annotations:
        if anno.name in _SKIPPED_ANNOTATIONS or anno.name in skip:
            continue
        if anno.structured is not None:
            if "structured_annotations" in message.DESCRIPTOR.fields_by_name:
                _structured(message.structured_annotations.add(name=anno.name), anno.structured)
            continue
        message.annotations.append(anno.text)
    brief = ir.find_annotation(annotations, "brief")
    desc = ir.find_annotation(annotations, "description")
    if brief and brief.args:
        message.doc.brief = str(brief.args[0])
    if desc and desc.args:
        message.doc.description = str(desc.args[0])


def _structured(msg, structured: tuple) -> None:
    """A structured annotation's folded values (p4c: expression_list or kv_pair_list)."""
    def put(expr, value) -> None:
        if isinstance(value, bool):
            expr.bool_value = value
        elif isinstance(value, int):
            expr.int64_value = value
        else:
            expr.string_value = value
    kind, items = structured
    if kind == "kv":
        msg.kv_pair_list.SetInParent()
        for key, value in items:
            put(msg.kv_pair_list.kv_pairs.add(key=key).value, value)
    else:
        msg.expression_list.SetInParent()
        for value in items:
            put(msg.expression_list.expressions.add(), value)


def _preamble(pre, symbols: SymbolTable, kind: str, name: str, decl, skip: frozenset = frozenset()) -> None:
    pre.id = symbols.id(kind, name)
    pre.name = name
    pre.alias = symbols.alias(name)
    if decl is not None:
        _annotate(pre, decl.annotations, skip)


_SDN_TYPE = re.compile(r"\s*,\s*(?:bit\s*<\s*(\d+)\s*>|(\d+))\s*$")


def _translation(anno: ir.Annotation) -> tuple[str, int | None]:
    """`@p4runtime_translation(URI, N | bit<N> | string)`: the URI and the SDN bit width
    (None for `string` or no second argument: an sdn_string), as p4c reads all three forms."""
    uri = str(anno.args[0]) if anno.args else ""
    if len(anno.args) > 1 and isinstance(anno.args[1], int):
        return uri, anno.args[1]
    match = _SDN_TYPE.search(anno.body or "")
    return uri, (int(match.group(1) or match.group(2)) if match else None)


def _width(t: ir.Type | None) -> int:
    """P4Info bitwidth: a translated `type`'s SDN width; below the outermost `type`, only
    the bits count (p4c: a `type` over a translated type has the underlying width)."""
    if isinstance(t, ir.NewTypeDecl):
        anno = t.annotation("p4runtime_translation")
        if anno and anno.args:
            return _translation(anno)[1] or 0
    while isinstance(t, ir.NewTypeDecl):
        t = t.type
    if isinstance(t, ir.BitType):
        return t.width
    if isinstance(t, ir.BoolType):
        return 1
    if isinstance(t, ir.EnumDecl) and t.underlying is not None:
        return t.underlying.width
    return 0


def _flat_fields(fields: list[ir.Field], prefix: str = "") -> list[tuple[str, ir.Field]]:
    """A header's fields with struct-typed ones expanded (`b.x`), as p4c's FlattenHeaders."""
    out: list[tuple[str, ir.Field]] = []
    for f in fields:
        if isinstance(f.type, ir.StructLike) and f.type.kind == "struct":
            out.extend(_flat_fields(f.type.fields, f"{prefix}{local_name(f)[0]}."))
        else:
            out.append((prefix + local_name(f)[0], f))
    return out


def _field_ids(items: list) -> list[int]:
    """p4c's allocator: `@id` first, then 1, 2, ... skipping taken ids (index advances per item)."""
    assigned: dict[int, int] = {}
    taken: set[int] = set()
    for i, item in enumerate(items):
        anno = ir.find_annotation(getattr(item, "annotations", []), "id")
        if anno and anno.args and isinstance(anno.args[0], int):
            assigned[i] = anno.args[0]
            taken.add(anno.args[0])
    index = 1
    for i in range(len(items)):
        if i in assigned:
            index += 1
            continue
        while index in taken:
            index += 1
        assigned[i] = index
        taken.add(index)
    return [assigned[i] for i in range(len(items))]


def _ctor_arg(inst: ir.Instance, name: str):
    for arg in inst.args:
        if arg.param is not None and arg.param.name == name:
            return arg.value
    return None


def _removed_unused(inst: ir.Instance, block: ir.ControlDecl, program: ir.Program) -> bool:
    """Whether p4c's front end removes a control's extern instance before P4Info: it keeps
    unused extern instances, but tells an extern by the declaration its type names, so an
    instance of a typedef of an extern (`typedef register<T> R; R(n) r;`) is removed like any
    unused declaration (issue2735-bmv2), after SimplifyDefUse dropped the calls of
    @noSideEffects methods (register.read) whose out arguments nothing reads."""
    ref = inst.type_ref
    if ref is None or ref.kind != "name" or not any(
            isinstance(d, ir.TypedefDecl) and d.name == ref.name for d in program.decls):
        return False
    refs: collections.Counter[int] = collections.Counter()  # id(declaration) -> references
    outs: collections.Counter[int] = collections.Counter()  # of those, out arguments of the calls
    calls = 0
    for node in ir.walk(block):
        if isinstance(node, ir.PathExpr):
            refs[id(node.decl)] += 1
        elif isinstance(node, ir.CallStmt) and isinstance(node.call.target, ir.PathExpr) \
                and node.call.target.decl is inst:
            if node.call.decl is None or node.call.decl.annotation("noSideEffects") is None:
                return False
            calls += 1
            for arg in node.call.args:
                if arg.param is not None and arg.param.direction in ("out", "inout"):
                    if not (isinstance(arg.value, ir.PathExpr) and isinstance(arg.value.decl, ir.VarDecl)):
                        return False
                    outs[id(arg.value.decl)] += 1
    return refs[id(inst)] == calls and all(refs[d] == n for d, n in outs.items())


def _extern_kind(inst: ir.Instance) -> str | None:
    typ = inst.type
    base = typ.base if isinstance(typ, ir.SpecializedType) else typ
    return {"counter": "counter", "direct_counter": "direct_counter", "meter": "meter",
            "direct_meter": "direct_meter", "register": "register", "action_profile": "action_profile",
            "action_selector": "action_profile"}.get(getattr(base, "name", ""))


def _type_spec(spec, t: ir.Type, info) -> None:
    """Fill a P4DataTypeSpec; declares named structs/headers in type_info."""
    if isinstance(t, ir.BitType):
        (spec.bitstring.int if t.signed else spec.bitstring.bit).bitwidth = t.width
    elif isinstance(t, ir.BoolType):
        spec.bool.SetInParent()
    elif isinstance(t, ir.StructLike):
        name = local_name(t)[0]
        target = {"struct": (spec.struct, info.structs), "header": (spec.header, info.headers),
                  "header_union": (spec.header_union, info.header_unions)}[t.kind]
        target[0].name = name
        if name not in target[1]:
            decl = target[1][name]
            for f in t.fields:
                if t.kind == "header":
                    member = decl.members.add(name=f.name)
                    rep = f.type.type if isinstance(f.type, ir.NewTypeDecl) else f.type
                    rep = rep.underlying if isinstance(rep, ir.EnumDecl) else rep
                    (member.type_spec.int if getattr(rep, "signed", False) else member.type_spec.bit).bitwidth = \
                        _width(f.type)
                elif t.kind == "header_union":
                    member = decl.members.add(name=f.name)
                    member.header.name = local_name(f.type)[0]
                    _type_spec(p4types_pb2.P4DataTypeSpec(), f.type, info)
                else:
                    member = decl.members.add(name=f.name)
                    _type_spec(member.type_spec, f.type, info)
    elif isinstance(t, ir.NewTypeDecl):
        spec.new_type.name = t.name
        _new_type(t, info)
    elif isinstance(t, ir.EnumDecl) and t.underlying is not None:
        spec.serializable_enum.name = t.name
        if t.name not in info.serializable_enums:
            enum = info.serializable_enums[t.name]
            enum.underlying_type.bitwidth = t.underlying.width
            for member in t.members:
                width = (t.underlying.width + 7) // 8
                enum.members.add(name=member, value=(t.values[member] % (1 << t.underlying.width))
                                 .to_bytes(width, "big"))
    elif isinstance(t, ir.EnumDecl):
        spec.enum.name = t.name
        if t.name not in info.enums:
            enum = info.enums[t.name]
            for member in t.members:
                enum.members.add(name=member)
    elif isinstance(t, ir.ErrorType):
        spec.error.SetInParent()
        info.error.SetInParent()  # its members are filled in once all types are known
    elif isinstance(t, ir.StackType):
        _type_spec(p4types_pb2.P4DataTypeSpec(), t.elem, info)
        spec.header_stack.header.name = local_name(t.elem)[0]
        spec.header_stack.size = t.size
    elif isinstance(t, ir.TupleType):
        for elem in t.elems:
            _type_spec(spec.tuple.members.add(), elem, info)


def build_p4info(program: ir.Program) -> tuple[p4i.P4Info, list[Diagnostic]]:
    """The program's P4Info and the problems p4c would report while generating it (errors;
    its warnings, with severity "warning")."""
    info, _entries, problems = build_p4runtime(program)
    return info, problems


def build_p4runtime(program: ir.Program) -> tuple[p4i.P4Info, p4r.WriteRequest, list[Diagnostic]]:
    """P4Info, the table entries as P4Runtime writes (p4c's --p4runtime-entries-files; see
    p4entries.py) and the problems p4c reports while generating both."""
    problems: list[Diagnostic] = []
    token = _problems.set(problems)
    try:
        return (*_build(program), problems)
    finally:
        _problems.reset(token)


def _build(program: ir.Program) -> tuple[p4i.P4Info, p4r.WriteRequest]:
    if program.main is None:  # p4c writes an empty P4Info for a program without `main`
        return p4i.P4Info(), p4r.WriteRequest()
    _check_action_names(program)
    found = _Walker(program).run()
    symbols = SymbolTable()
    for name, action in found.actions:
        symbols.add("action", name, action)
    for name, table, _ in found.tables:
        symbols.add("table", name, table)
    for name, inst in found.instances:
        kind = _extern_kind(inst)
        if kind is not None:
            symbols.add(kind, name, inst)
    for name, vs in found.value_sets:
        symbols.add("value_set", name, vs)
    headers = [d for d in program.decls if isinstance(d, ir.StructLike) and d.is_header
               and d.annotation("controller_header") and not _hidden(d)]
    for h in headers:
        # p4c hashes the header *type* name; the annotation only names the preamble
        symbols.add("controller_header", local_name(h)[0], h)
    for name, data in found.digests:
        symbols.add("digest", name, data)
    symbols.compute_ids()

    info = p4i.P4Info()
    info.pkg_info.arch = "v1model"
    if program.main is not None:
        _pkg_info(info, program.main)
    names_of: dict[int, list[str]] = {}  # a control instantiated twice declares its externs twice
    for name, inst in found.instances:
        names_of.setdefault(id(inst), []).append(name)

    def instance_name(inst, prefix: str) -> str | None:
        """The name of the instance of extern `inst` that a table of control instance
        `prefix` uses: its own (`prefix.name`), else the one there is (a @name'd one)."""
        names = names_of.get(id(inst)) if isinstance(inst, ir.Instance) else None
        if not names:
            return None
        own = qualified(prefix, inst)
        return own if own in names else names[0]

    profile_tables: dict[int, list[tuple[str, int]]] = {}
    direct_tables: dict[int, int] = {}
    for name, table, prefix in found.tables:
        if _hidden(table):  # p4c: hidden objects keep their ids but are not listed
            continue
        msg = info.tables.add()
        _preamble(msg.preamble, symbols, "table", name, table)
        ids = {id(res): symbols.id(_extern_kind(res), res_name)
               for res in (table.implementation, table.counters, table.meters)
               if (res_name := instance_name(res, prefix)) is not None and _extern_kind(res)}
        _table(msg, table, prefix, symbols, found, ids, profile_tables, direct_tables, info)
    for _name, table, prefix in found.tables:  # p4c adds direct resources with their table
        if _hidden(table):
            continue
        for res in (table.counters, table.meters):
            if (res_name := instance_name(res, prefix)) is not None:
                _extern(info, _extern_kind(res), res_name, res, symbols, profile_tables, direct_tables)
    on_v1model = is_v1switch(program.main)  # (p4c serializes P4Runtime for v1model programs)
    for name, action in found.actions:
        if _hidden(action):
            continue
        msg = info.actions.add()
        _preamble(msg.preamble, symbols, "action", name, action)
        # p4c's front end binds directional (in/out/inout) parameters at the call site and drops
        # them: only directionless ones are control-plane parameters (drop-bmv2); an action no
        # table lists is only called with arguments, so it keeps none (issue323, predication_issue).
        params = [p for p in action.params if p.direction is None] if id(action) in found.table_actions else []
        for pid, param in zip(_field_ids(params), params):
            if on_v1model and not isinstance(param.type, (ir.BitType, ir.BoolType, ir.NewTypeDecl, ir.EnumDecl)):
                _fail(param, f"Action parameter {param.name} has a type which is not bit<>, int<>, bool, type "
                             f"or serializable enum\n(of action '{action.name}': the control plane cannot set it)")
                continue
            p = msg.params.add(id=pid, name=local_name(param)[0], bitwidth=_width(param.type))
            _named_type(p, param.type, info)
            _annotate(p, param.annotations)
    for name, inst in found.instances:
        kind = _extern_kind(inst)
        if kind is not None and not kind.startswith("direct_"):
            _extern(info, kind, name, inst, symbols, profile_tables, direct_tables)
    for h in headers:
        msg = info.controller_packet_metadata.add()
        cname = _controller_name(h)
        msg.preamble.id = symbols.id("controller_header", local_name(h)[0])
        msg.preamble.name = cname
        msg.preamble.alias = cname
        _annotate(msg.preamble, h.annotations)
        flat = _flat_fields(h.fields)
        for fid, (fname, f) in zip(_field_ids([f for _, f in flat]), flat):
            if not _hidden(f):
                m = msg.metadata.add(id=fid, name=fname, bitwidth=_width(f.type))
                _named_type(m, f.type, info)
                _annotate(m, f.annotations)
    for name, vs in found.value_sets:
        msg = info.value_sets.add(size=_size(vs, "value_set", vs.size, INT32_MAX))
        _preamble(msg.preamble, symbols, "value_set", name, vs)
        _value_set_match(msg, vs)
    for name, data in found.digests:
        msg = info.digests.add()
        _preamble(msg.preamble, symbols, "digest", name, None)
        _type_spec(msg.type_spec, data, info.type_info)
    if info.type_info.HasField("error"):
        info.type_info.error.members.extend(program.errors)
    if _touches_type_info(info, found):
        info.type_info.SetInParent()
    _check_duplicates(info)
    entries = p4r.WriteRequest()  # (p4c: after the P4Info, every table, hidden ones too)
    for name, table, prefix in found.tables:
        add_table_entries(entries, table, symbols.id("table", name),
                          lambda ref, prefix=prefix: symbols.id("action", found.action_names[(id(ref.decl), prefix)]),
                          _fail)
    return info, entries


def _touches_type_info(info, found: _Collected) -> bool:
    """p4c prints `type_info {}` even when empty once its serializer asked for it: for a table,
    an extern instance, an extern function call in a control or its actions, an action
    parameter or a controller header field. A program with none of these has no type_info."""
    return bool(info.tables or found.instances or found.extern_calls
                or any(a.params for a in info.actions)
                or any(h.metadata for h in info.controller_packet_metadata))


def _check_duplicates(info) -> None:
    """p4c: "Name 'x' is used for multiple <kind> objects in the P4Info message" for each
    repeat (it names no position), then how many there were."""
    count = 0
    for kind, items in (("table", info.tables), ("action", info.actions),
                        ("action profile", info.action_profiles), ("counter", info.counters),
                        ("direct counter", info.direct_counters), ("meter", info.meters),
                        ("direct meter", info.direct_meters),
                        ("controller packet metadata", info.controller_packet_metadata),
                        ("value set", info.value_sets), ("register", info.registers),
                        ("digest", info.digests)):
        seen: set[str] = set()
        for item in items:
            name = item.preamble.name
            if name in seen:
                _fail(None, f"Name '{name}' is used for multiple {kind} objects in the P4Info message")
                count += 1
            seen.add(name)
    for extern in info.externs:
        seen = set()
        for item in extern.instances:
            if item.preamble.name in seen:
                _fail(None, f"Name '{item.preamble.name}' is used for multiple {extern.extern_type_name} "
                            f"objects in the P4Info message")
                count += 1
            seen.add(item.preamble.name)
    if count:
        _fail(None, f"Found {count} duplicate name(s) in the P4Info")


def _new_type(t: ir.NewTypeDecl, type_info) -> None:
    """Declare a `type` in type_info.new_types: its translation or the bits below it, and
    its other annotations (as p4c)."""
    if t.name in type_info.new_types:
        return
    entry = type_info.new_types[t.name]
    anno = t.annotation("p4runtime_translation")
    if anno and anno.args:
        uri, width = _translation(anno)
        entry.translated_type.uri = uri
        if width is not None:
            entry.translated_type.sdn_bitwidth = width
        else:
            entry.translated_type.sdn_string.SetInParent()
    else:
        base = t.type
        while isinstance(base, ir.NewTypeDecl):  # a `type` over a `type`: the bits below
            base = base.type
        _type_spec(entry.original_type, base, type_info)
    # the mappings are the translation's; without one p4c lists them as any annotation (pins)
    _annotate(entry, t.annotations, {"p4runtime_translation", "p4runtime_translation_mappings"}
              if anno and anno.args else {"p4runtime_translation"})


def _named_type(message, t: ir.Type | None, info) -> None:
    """`type` newtypes get a type_name and a type_info entry; serializable enums are declared."""
    if isinstance(t, ir.NewTypeDecl):
        message.type_name.name = t.name
        _new_type(t, info.type_info)
    elif isinstance(t, ir.EnumDecl):
        _type_spec(p4types_pb2.P4DataTypeSpec(), t, info.type_info)
        if t.underlying is None and isinstance(message, p4i.Action.Param):
            message.type_name.name = local_name(t)[0]


def _pkg_info(info, main: ir.Instance) -> None:
    """arch, the fields of `@pkginfo(key="value", ...)` and the other annotations of main."""
    info.pkg_info.arch = "v1model"
    anno = main.annotation("pkginfo")
    if anno is not None and anno.body:
        fields = {"name", "version", "organization", "contact", "url", "arch"}
        for key, value in re.findall(r'(\w+)\s*=\s*"((?:\\.|[^"\\])*)"', anno.body):
            if key in fields:
                setattr(info.pkg_info, key, value)
    platform = main.annotation("platform_property")
    if platform is not None and platform.body:
        known = {f.name for f in info.pkg_info.platform_properties.DESCRIPTOR.fields}
        for key, value in re.findall(r"(\w+)\s*=\s*(\d+)", platform.body):
            if key in known and int(value) <= INT32_MAX:
                setattr(info.pkg_info.platform_properties, key, int(value))
            elif key in known:
                _fail(platform, f"@platform_property: {key} = {value} is over 2147483647")
            else:
                _fail(platform, f"@platform_property: unknown property '{key}'")
    _annotate(info.pkg_info, main.annotations, {"pkginfo", "platform_property"})


def _controller_name(h: ir.StructLike) -> str:
    anno = h.annotation("controller_header")
    if not anno.args or not isinstance(anno.args[0], str):
        _fail(anno, "@controller_header needs a string argument")
        return h.name
    return anno.args[0]


def _table(msg, table: ir.TableDecl, prefix: str, symbols: SymbolTable, found: _Collected,
           instance_ids: dict, profile_tables: dict, direct_tables: dict, info) -> None:
    """The table of control instance `prefix`; `instance_ids`: the ids of its
    implementation and direct resources."""
    for fid, key in zip(_field_ids(table.keys), table.keys):
        if key.match_kind == "selector":
            continue
        mf = msg.match_fields.add(id=fid, name=key.name, bitwidth=_width(key.expr.type))
        _named_type(mf, key.expr.type, info)
        if key.match_kind in _MATCH_TYPES:
            mf.match_type = _MATCH_TYPES[key.match_kind]
        else:
            mf.other_match_type = key.match_kind
        _annotate(mf, key.annotations)
    for ref in table.actions:
        aid = symbols.id("action", found.action_names[(id(ref.decl), prefix)])
        ar = msg.action_refs.add(id=aid)
        _annotate(ar, ref.annotations)
        table_only, default_only = ref.annotation("tableonly"), ref.annotation("defaultonly")
        if table_only and default_only:
            _fail(ref, f"action '{ref.name}' cannot be both @tableonly and @defaultonly")
        if table_only:
            ar.scope = p4i.ActionRef.TABLE_ONLY
        elif default_only:
            ar.scope = p4i.ActionRef.DEFAULT_ONLY
    default = table.default_action
    if default is not None and (id(default.decl), prefix) in found.action_names:
        aid = symbols.id("action", found.action_names[(id(default.decl), prefix)])
        if table.default_action_const:
            msg.const_default_action_id = aid
        msg.initial_default_action.action_id = aid
        params = default.decl.params
        ids = dict(zip(map(id, params), _field_ids(params)))
        for arg in default.args:
            value = arg.value.value if isinstance(arg.value, (ir.Constant, ir.EnumMember)) else None
            if arg.param is not None and arg.param.direction is None and isinstance(value, int):
                # (a serializable enum's member by its value: omec/up4)
                msg.initial_default_action.arguments.add(param_id=ids[id(arg.param)],
                                                         value=_bytes(value, _width(arg.param.type)))
    tid = msg.preamble.id
    if id(table.implementation) in instance_ids:  # (an unnamed in-place profile has no id)
        pid = instance_ids[id(table.implementation)]
        msg.implementation_id = pid
        profile_tables.setdefault(pid, []).append((msg.preamble.name, tid))
    for res in (table.counters, table.meters):
        if id(res) in instance_ids:
            rid = instance_ids[id(res)]
            msg.direct_resource_ids.append(rid)
            direct_tables[rid] = tid
    size = found.table_sizes.get(msg.preamble.name, table.size or 0)
    msg.size = _size(table, "table", size, INT64_MAX) or DEFAULT_TABLE_SIZE
    timeout = table.get_property("support_timeout")
    if timeout is not None and isinstance(timeout.value, ir.BoolLiteral) and timeout.value.value:
        msg.idle_timeout_behavior = p4i.Table.NOTIFY_CONTROL
    if table.has_entries and table.entries_const:
        msg.is_const_table = True
    if table.entries:  # p4c: at least one entry, so `const entries = {}` sets only is_const_table
        msg.has_initial_entries = True


def _bytes(value: int, width: int) -> bytes:
    """p4c's byte string for a constant: big-endian, padded to the field's whole bytes."""
    size = max((width + 7) // 8, 1)
    return (value % (1 << (8 * size))).to_bytes(size, "big")


def _enum_arg(inst: ir.Instance, name: str) -> str | None:
    value = _ctor_arg(inst, name)
    return value.member if isinstance(value, ir.EnumMember) else None


def _int_arg(inst: ir.Instance, name: str) -> int:
    value = _ctor_arg(inst, name)
    return value.value if isinstance(value, ir.Constant) else 0


INT32_MAX = (1 << 31) - 1  # P4Info's Register.size and ValueSet.size are int32
INT64_MAX = (1 << 63) - 1  # Counter/Meter/ActionProfile/Table sizes are int64


def _size(node, what: str, size: int, limit: int) -> int:
    """`size` if P4Info can carry it, else a diagnostic (and 0) instead of protobuf's ValueError."""
    if 0 <= size <= limit:
        return size
    _fail(node, f"{what} size {size} is outside 0..{limit}, what P4Runtime's P4Info can carry")
    return 0


def _extern(info, kind: str, name: str, inst: ir.Instance, symbols: SymbolTable, profile_tables: dict,
            direct_tables: dict) -> None:
    iid = symbols.id(kind, name)
    if kind == "counter":
        msg = info.counters.add(size=_size(inst, "counter", _int_arg(inst, "size"), INT64_MAX))
        msg.spec.unit = _COUNTER_UNITS.get(_enum_arg(inst, "type"), 0)
    elif kind == "direct_counter":
        msg = info.direct_counters.add(direct_table_id=direct_tables.get(iid, 0))
        msg.spec.unit = _COUNTER_UNITS.get(_enum_arg(inst, "type"), 0)
    elif kind == "meter":
        msg = info.meters.add(size=_size(inst, "meter", _int_arg(inst, "size"), INT64_MAX))
        msg.spec.unit = _METER_UNITS.get(_enum_arg(inst, "type"), 0)
    elif kind == "direct_meter":
        msg = info.direct_meters.add(direct_table_id=direct_tables.get(iid, 0))
        msg.spec.unit = _METER_UNITS.get(_enum_arg(inst, "type"), 0)
    elif kind == "register":
        msg = info.registers.add(size=_size(inst, "register", _int_arg(inst, "size"), INT32_MAX))
        _type_spec(msg.type_spec, inst.type.args[0], info.type_info)
    else:
        msg = info.action_profiles.add(size=_size(inst, "action profile", _int_arg(inst, "size"), INT64_MAX))
        msg.table_ids.extend(tid for _, tid in sorted(profile_tables.get(iid, []), key=lambda x: x[0].encode()))
        base = inst.type.base if isinstance(inst.type, ir.SpecializedType) else inst.type
        if base.name == "action_selector":
            msg.with_selector = True
            _selector_sizes(msg, inst)
            if inst.annotation("max_member_weight") is not None and not msg.HasField("sum_of_members"):
                _warn(inst, f"Ignoring annotation @max_member_weight on action profile '{name}', which does "
                            f"not use 'sum_of_members' as its SelectorSizeSemantics")
        else:  # p4c warns of the first only (one warning of a kind per position)
            ignored = next((a for a in ("max_group_size", "selector_size_semantics", "max_member_weight")
                            if inst.annotation(a) is not None), None)
            if ignored is not None:
                space = " " if ignored == "selector_size_semantics" else ""  # (p4c's text)
                _warn(inst, f"Ignoring annotation @{ignored} on action profile '{name}', which does not "
                            f"have a selector{space}")
        _preamble(msg.preamble, symbols, kind, name, inst, _SELECTOR_ANNOTATIONS)  # p4c lists none of them
        return
    _preamble(msg.preamble, symbols, kind, name, inst)


_SELECTOR_ANNOTATIONS = frozenset({"max_group_size", "selector_size_semantics", "max_member_weight"})


def _selector_sizes(msg, inst: ir.Instance) -> None:
    """@max_group_size, @selector_size_semantics("sum_of_weights"|"sum_of_members") and
    @max_member_weight (with sum_of_members) fill their P4Info fields, as p4c does (it ignores
    them on a plain action_profile, with a warning)."""
    group = inst.annotation("max_group_size")
    if group is not None:
        if group.args and isinstance(group.args[0], int) and 0 <= group.args[0] <= INT32_MAX:
            msg.max_group_size = group.args[0]
        else:
            _fail(group, "@max_group_size needs an integer in 0..2147483647")
    semantics = inst.annotation("selector_size_semantics")
    if semantics is not None:
        value = str(semantics.args[0]).upper() if semantics.args else ""
        if value == "SUM_OF_WEIGHTS":
            msg.sum_of_weights.SetInParent()
        elif value == "SUM_OF_MEMBERS":
            msg.sum_of_members.SetInParent()
        else:
            _fail(semantics, 'expected @selector_size_semantics("sum_of_weights") or ("sum_of_members")')
    weight = inst.annotation("max_member_weight")
    if weight is not None and msg.HasField("sum_of_members"):
        if weight.args and isinstance(weight.args[0], int) and 0 <= weight.args[0] <= INT32_MAX:
            msg.sum_of_members.max_member_weight = weight.args[0]
        else:
            _fail(weight, "@max_member_weight needs an integer in 0..2147483647")


def _value_set_match(msg, vs: ir.ValueSetDecl) -> None:
    et = vs.elem_type
    if isinstance(et, ir.BitType):
        msg.match.add(id=1, bitwidth=et.width, match_type=p4i.MatchField.EXACT)
    elif isinstance(et, ir.StructLike) and et.kind == "struct":
        for fid, f in zip(_field_ids(et.fields), et.fields):
            if not isinstance(f.type, ir.BitType):
                _fail(f, "unsupported: value_set struct fields must be bit<W>")
                continue
            m = msg.match.add(id=fid, name=local_name(f)[0], bitwidth=f.type.width)
            anno = f.annotation("match")
            kind = str(anno.args[0]) if anno and anno.args else "exact"
            if kind in _MATCH_TYPES:
                m.match_type = _MATCH_TYPES[kind]
            else:
                m.other_match_type = kind
            _annotate(m, f.annotations, {"match"})
    else:
        _fail(vs, "unsupported: value_set element type must be bit<W> or a struct of bit<W> fields")
