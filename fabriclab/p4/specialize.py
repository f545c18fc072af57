"""Specializing generic parsers and controls: one copy per instantiation's type arguments.

As p4c's front end (SpecializeGenericTypes/SpecializeAll), on the untyped IR so that the
checker and the switch only see concrete blocks: for `control C<H>(inout H h)`, each
`C<bit<8>>() c;`, `C(args) c;` or `C()` passed to a package becomes an instance of a copy of C
whose `H` is the type argument: written, inferred from a constructor argument passed to a
parameter declared `H` (its type: a `typeof` type reference), or from the parser/control type
the package expects (its parameter declared `H` takes the type the prototype's has). Equal
type arguments share a copy; the first copy keeps the declaration's name. A generic block
nothing instantiates stays, and the checker types it with its type parameters as types.
"""

from __future__ import annotations

import copy

from fabriclab.p4 import ir
from fabriclab.p4.inline import _bind_type_vars, _children
from fabriclab.p4.typecheck import error

_BLOCKS = (ir.ControlDecl, ir.ParserDecl)


def _subst(ref: ir.TypeRef, bindings: dict[str, ir.TypeRef]) -> ir.TypeRef:
    if ref.kind == "name" and ref.name in bindings:
        return copy.deepcopy(bindings[ref.name])
    ref = copy.deepcopy(ref)
    _bind_type_vars(ref, bindings)
    return ref


def _key(ref: ir.TypeRef) -> str:
    """A text that equal type references share (the key of a specialization)."""
    if ref.kind == "typeof":
        return f"typeof({ref.of.text})"
    width = f"[{getattr(ref.width, 'text', '')}]" if ref.width is not None else ""
    return f"{ref.kind}:{ref.name}{width}<{','.join(_key(a) for a in ref.args)}>"


def _type_names(node) -> set[str]:
    """The names the type references under `node` use."""
    names: set[str] = set()
    for _name, value in _children(node):
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ir.TypeRef) and child.kind == "name":
                names.add(child.name)
            if isinstance(child, ir.Node):
                names |= _type_names(child)
    return names


class Specializer:
    def __init__(self, program: ir.Program) -> None:
        self.program = program
        self.generic = {d.name: d for d in program.decls if isinstance(d, _BLOCKS) and d.type_params}
        self.protos = {d.name: d for d in program.decls if isinstance(d, ir.BlockTypeDecl)}
        self.copies: dict[str, dict[tuple, ir.Decl]] = {name: {} for name in self.generic}
        self.taken = {getattr(d, "name", None) for d in program.decls}

    def run(self) -> None:
        for decl in list(self.program.decls):
            self._visit(decl, None)
        kept: list[ir.Node] = []
        for decl in self.program.decls:
            made = self.copies.get(decl.name) if decl in self.generic.values() else None
            kept.extend(made.values() if made else [decl])
        self.program.decls = kept

    def _visit(self, node, expected: ir.TypeRef | None, bindings: dict | None = None) -> None:
        """Specialize the instantiations under `node`; `expected`: the type the package
        parameter `node` is passed to expects (with the package's `bindings`)."""
        if isinstance(node, (ir.Instance, ir.ConstructorCall)):
            ref = node.type_ref if isinstance(node, ir.Instance) else node.target
            if ref is not None and ref.name in self.generic:
                self._specialize(node, ref, expected, bindings or {})
            package = self.protos.get(ref.name) if ref is not None else None
            if package is not None and package.kind == "package":
                known = dict(zip(package.type_params, ref.args)) if ref.kind == "specialized" else {}
                known = {k: v for k, v in known.items() if v.kind != "dontcare"}
                params = {p.name: p for p in package.params}
                pairs = [(arg, params.get(arg.name) if arg.name else
                          (package.params[i] if i < len(package.params) else None))
                         for i, arg in enumerate(node.args)]
                for arg, param in pairs:  # the package's type arguments the other blocks give
                    if param is not None and isinstance(arg.value, ir.ConstructorCall):
                        self._infer_package(package, param.type_ref, arg.value.target, known)
                pairs += self._defaults(node, package, pairs, known)
                for arg, param in pairs:
                    if arg.value is not None:
                        self._visit(arg.value, param.type_ref if param is not None else None, known)
                return
        if isinstance(node, ir.BlockTypeDecl):
            return  # a package parameter's default stays as written (not supported)
        for _name, value in _children(node):
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ir.Node) and not isinstance(child, ir.TypeRef):
                    self._visit(child, None)

    @staticmethod
    def _defaults(node, package: ir.BlockTypeDecl, pairs: list, known: dict[str, ir.TypeRef]) -> list:
        """The arguments an instance of `package` leaves to its parameters' default values
        (`V<H> vr = EmptyV<H>()`), each a copy of the default with the package's type
        arguments in it; appended to the instance's arguments."""
        given = {param.name for _arg, param in pairs if param is not None}
        named = bool(node.args) and all(arg.name for arg in node.args)
        added = []
        for i, param in enumerate(package.params):
            if param.name in given or param.default is None or (not named and i < len(node.args)):
                continue
            value = copy.deepcopy(param.default)
            _bind_type_vars(value, known)
            unbound = _type_names(value) & (set(package.type_params) - set(known))
            if unbound and isinstance(node, ir.Instance):  # (p4c: at the instance)
                name = next(t for t in package.type_params if t in unbound)
                raise error(node.pos, f"{node.name}: could not infer a type for variable {name}")
            arg = ir.Argument(value, name=param.name if named else None, pos=node.pos)
            node.args.append(arg)
            added.append((arg, param))
        return added

    def _infer_package(self, package: ir.BlockTypeDecl, expected: ir.TypeRef | None, target: ir.TypeRef,
                       known: dict[str, ir.TypeRef]) -> None:
        """Bind the package's type parameters that the parameters of a (non-generic) parser or
        control passed to it give, as `V1Switch`'s H and M from the parser's `out headers hdr`."""
        block = next((d for d in self.program.decls if isinstance(d, _BLOCKS) and d.name == target.name), None)
        proto = self.protos.get(expected.name) if expected is not None else None
        if block is None or block.type_params or proto is None or len(proto.params) != len(block.params):
            return
        local = dict(zip(proto.type_params, expected.args)) if expected.kind == "specialized" else {}
        for mine, theirs in zip(block.params, proto.params):
            want = _subst(theirs.type_ref, local) if theirs.type_ref is not None else None
            if want is not None and want.kind == "name" and want.name in package.type_params \
                    and want.name not in known and mine.type_ref is not None:
                known[want.name] = mine.type_ref

    def _specialize(self, node, ref: ir.TypeRef, expected: ir.TypeRef | None, outer: dict) -> None:
        generic = self.generic[ref.name]
        bindings: dict[str, ir.TypeRef] = {}
        if ref.kind == "specialized":
            if len(ref.args) != len(generic.type_params):
                raise error(ref.pos, f"'{ref.name}' takes {len(generic.type_params)} type arguments, "
                                     f"got {len(ref.args)}")
            bindings = {t: a for t, a in zip(generic.type_params, ref.args) if a.kind != "dontcare"}
        params = generic.ctor_params
        for i, arg in enumerate(node.args):  # constructor arguments
            param = next((p for p in params if p.name == arg.name), None) if arg.name else \
                (params[i] if i < len(params) else None)
            pref = param.type_ref if param is not None else None
            if pref is not None and pref.kind == "name" and pref.name in generic.type_params \
                    and pref.name not in bindings and arg.value is not None:
                bindings[pref.name] = ir.TypeRef("typeof", of=copy.deepcopy(arg.value), pos=arg.pos)
        proto = self.protos.get(expected.name) if expected is not None else None
        if proto is not None and proto.kind != "package" and len(proto.params) == len(generic.params):
            local = dict(zip(proto.type_params, expected.args)) if expected.kind == "specialized" else {}
            local = {k: _subst(v, outer) for k, v in local.items()}
            for mine, theirs in zip(generic.params, proto.params):
                pref = mine.type_ref
                if pref is None or pref.kind != "name" or pref.name not in generic.type_params \
                        or pref.name in bindings or theirs.type_ref is None:
                    continue
                bound = _subst(theirs.type_ref, local)
                if not (bound.kind == "name" and (bound.name in proto.type_params or bound.name in outer
                                                  or bound.name in local)):
                    bindings[pref.name] = bound
        used = {p.type_ref.name for p in generic.params + generic.ctor_params
                if p.type_ref is not None and p.type_ref.kind == "name"}
        for t in generic.type_params:
            if t not in bindings:
                if t in used:
                    raise error(node.pos, f"unsupported: cannot infer type argument '{t}' of "
                                          f"{'parser' if isinstance(generic, ir.ParserDecl) else 'control'} "
                                          f"'{generic.name}'; give it explicitly ({generic.name}<...>)")
                bindings[t] = ir.TypeRef("dontcare", pos=node.pos)
        key = tuple(_key(bindings[t]) for t in generic.type_params)
        made = self.copies[generic.name]
        spec = made.get(key)
        if spec is None:
            spec = copy.deepcopy(generic)
            spec.type_params = []
            _bind_type_vars(spec, bindings)
            if made:
                n = 0
                while f"{generic.name}_{n}" in self.taken:
                    n += 1
                spec.name = f"{generic.name}_{n}"
                self.taken.add(spec.name)
            made[key] = spec
            self._visit(spec, None)  # the instantiations inside it
        new_ref = ir.TypeRef("name", name=spec.name, pos=ref.pos)
        if isinstance(node, ir.Instance):
            node.type_ref = new_ref
        else:
            node.target = new_ref


class SpecializeBlocks:
    """Pass: see the module docstring."""

    name = "specialize-blocks"

    def run(self, ctx) -> None:
        Specializer(ctx.program).run()
