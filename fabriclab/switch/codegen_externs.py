"""v1model externs and tables at code-generation time.

Creates the runtime objects (tables.py, externs.py) for extern instances and tables, and
translates calls to v1model extern functions and methods into Python lines. Unsupported
externs are compile-time errors naming the source position, never silent no-ops.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from fabriclab.errors import FabricError
from fabriclab.p4 import ir
from fabriclab.switch import hashing
from fabriclab.switch.codegen_expr import max_bits, resolve, unsupported, varbit_field, width_of
from fabriclab.switch.externs import COUNTER_PACKET, Counter, Meter, Register
from fabriclab.switch.tables import (ActionCall, ActionProfile, ActionSpec, Exact, KeyField, Lpm,
                                     OptionalMatch, Range, Table, Ternary, _LookupCache)
from fabriclab.switch.v1model import Digest
from fabriclab.switch.value_sets import ValueSet


def _extern_name(t) -> str:
    t = resolve(t)
    if isinstance(t, ir.SpecializedType):
        t = t.base
    return getattr(t, "name", "")


def _algorithm(node, name: str):
    """hashing.algorithm, its refusal located at `node`."""
    try:
        return hashing.algorithm(name)
    except FabricError as err:
        raise unsupported(node, str(err)) from None


def _const(e, gen) -> int:
    if isinstance(e, ir.Constant):
        return e.value
    if isinstance(e, ir.BoolLiteral):
        return int(e.value)
    if isinstance(e, ir.EnumMember):
        return gen.enum_value(e)
    raise unsupported(e, f"a non-constant value '{e.text}' here")


def _support_timeout(t: ir.TableDecl) -> bool:
    """`support_timeout = true` (v1model): its entries may age, as p4c's P4Info says with
    idle_timeout_behavior NOTIFY_CONTROL (the same test as p4info.py's)."""
    prop = t.get_property("support_timeout")
    return prop is not None and isinstance(prop.value, ir.BoolLiteral) and prop.value.value


def _does_nothing(decl: ir.ActionDecl) -> bool:
    """An action with no parameters and no statements (NoAction): running it changes
    nothing, so an empty table whose default it is need not be applied at all."""
    return not decl.params and all(isinstance(s, ir.Empty) for s in decl.body.stmts)


def _packed_bytes(parts: list[tuple[str, int, str]]) -> str:
    """Code for the bytes of (code, width, _) items packed big-endian into one number, zero
    bits padding the end to a whole byte (hashing.pack_fields, as BMv2 packs a data list)."""
    total = sum(w for _, w, _ in parts)
    if total == 0:
        return "b''"
    shift = total + -total % 8
    nbytes, terms = shift // 8, []
    for code, width, _ in parts:
        shift -= width
        terms.append(code if shift == 0 else f"({code} << {shift})")
    return f"({' | '.join(terms)}).to_bytes({nbytes}, 'big')"


class ExternCompiler:
    def __init__(self, gen) -> None:
        self.gen = gen
        self.direct: dict[int, tuple[str, str, str]] = {}  # id(inst) -> (kind, name, unit)
        self.direct_meter_table: dict[int, str] = {}      # id(direct_meter inst) -> table
        self.profiles: dict[int, ActionProfile] = {}
        self.bound_methods: dict[tuple[str, str], str] = {}
        gen.ns["_Digest"] = Digest
        gen.ns["_rand"] = functools.partial(_rand_between, gen.rng)  # copyable with the state

    # ------------------------------------------------------------ instances
    def instantiate(self, inst: ir.Instance, qname: str) -> str | None:
        kind = _extern_name(inst.type)
        args = [a.value for a in inst.args]
        gen = self.gen
        if kind == "register":
            t = resolve(inst.type)  # (bit<W> or int<W> cells: the compiler refuses others, as p4c-bm2-ss)
            cell = resolve(t.args[0]) if isinstance(t, ir.SpecializedType) else None
            width = width_of(cell) if cell is not None else 32
            reg = gen.registers[qname] = Register(qname, _const(args[0], gen), width)
            return gen.obj("R", reg)
        if kind in ("counter", "meter"):
            unit = args[1].member if isinstance(args[1], ir.EnumMember) else "packets"
            cls = Counter if kind == "counter" else Meter
            store = gen.counters if kind == "counter" else gen.meters
            obj = store[qname] = cls(qname, _const(args[0], gen), unit)
            return gen.obj("C" if kind == "counter" else "M", obj)
        if kind in ("direct_counter", "direct_meter"):
            unit = args[0].member if args and isinstance(args[0], ir.EnumMember) else "packets"
            self.direct[id(inst)] = (kind, qname, unit)
            return None
        if kind in ("action_profile", "action_selector"):
            if kind == "action_selector":
                algo = args[0].member if isinstance(args[0], ir.EnumMember) else "crc16"
                prof = ActionProfile(qname, _const(args[1], gen), True, _algorithm(args[0], algo))
            else:
                prof = ActionProfile(qname, _const(args[0], gen))
            gen.action_profiles[qname] = prof
            self.profiles[id(inst)] = prof
            return None
        raise unsupported(inst, f"the extern '{kind}'")

    def value_set(self, decl: ir.ValueSetDecl, qname: str) -> str:
        et = resolve(decl.elem_type)
        if isinstance(et, ir.StructLike):
            fields = tuple(KeyField(f.name, str(a.args[0]) if (a := f.annotation("match")) and a.args
                                    else "exact", width_of(f.type)) for f in et.fields)
        else:
            fields = (KeyField("", "exact", width_of(et)),)
        vs = self.gen.value_sets[qname] = ValueSet(qname, decl.size, fields)
        return self.gen.obj("VS", vs)

    # ------------------------------------------------------------ tables
    def table(self, t: ir.TableDecl, ctx, qname: str) -> str:
        gen = self.gen
        keys = [KeyField(k.name, k.match_kind, _key_width(k.expr.type)) for k in t.keys]
        specs = []
        for ref in t.actions:
            if ref.decl is None:
                raise unsupported(ref, f"action '{ref.name}' (not resolved)")
            params = tuple((p.name, width_of(p.type)) for p in ref.decl.control_plane_params)
            specs.append(ActionSpec(gen.action_name(ref.decl, ctx), params))
        if t.default_action is not None and t.default_action.decl is not None:
            ref = t.default_action
            cp = ref.decl.control_plane_params
            values = {id(a.param): a.value for a in ref.args if a.param is not None}
            args = tuple(_const(values[id(p)], gen) if id(p) in values else 0 for p in cp)
            default = ActionCall(gen.action_name(ref.decl, ctx), args)
        else:
            default = ActionCall("NoAction")
        for inst in (t.implementation, t.counters, t.meters):
            if inst is not None and id(inst) not in self.profiles and id(inst) not in self.direct:
                self.in_place(t, inst)
        profile = self.profiles.get(id(t.implementation)) if t.implementation else None
        if t.implementation is not None and profile is None:
            raise unsupported(t, "this table implementation")
        dc = self.direct.get(id(t.counters)) if t.counters is not None else None
        dm = self.direct.get(id(t.meters)) if t.meters is not None else None
        table = Table(qname, keys, specs, default, const_default=t.default_action_const,
                      const_entries=t.entries_const, size=t.size or 1024, profile=profile,
                      direct_counter=dc[1] if dc else None, direct_meter=dm[1] if dm else None,
                      meter_unit=dm[2] if dm else "bytes", support_timeout=_support_timeout(t))
        n = len(t.entries)
        needs_priority = any(k.match_kind in ("ternary", "range", "optional") for k in keys)
        for i, entry in enumerate(t.entries):
            match = {}
            for key, ks in zip(keys, entry.keysets):
                m = self.entry_match(key, ks)
                if m is not None:
                    match[key.name] = m
            ref = entry.action
            cp = ref.decl.control_plane_params
            values = {id(a.param): a.value for a in ref.args if a.param is not None}
            args = tuple(_const(values[id(p)], gen) for p in cp)
            prio = _entry_priority(t, entry, i, n) if needs_priority else 0
            table.insert(match, ActionCall(gen.action_name(ref.decl, ctx), args), prio, _const=True)
        table.noop_actions = frozenset(spec.name for spec, ref in zip(specs, t.actions)
                                       if _does_nothing(ref.decl))
        gen.tables[qname] = table
        name = gen.obj("T", table)
        if t.meters is not None:
            self.direct_meter_table[id(t.meters)] = name
        return name

    def in_place(self, table: ir.TableDecl, inst: ir.Instance) -> None:
        """An extern constructed in a table property: named by its @name, unqualified (p4c)."""
        anno = inst.annotation("name")
        if anno is None or not anno.args:
            raise unsupported(inst, f"an anonymous extern in table '{table.name}' (add @name)")
        self.instantiate(inst, str(anno.args[0]).lstrip("."))

    def entry_match(self, key: KeyField, ks):
        gen = self.gen
        full = (1 << key.width) - 1
        if isinstance(ks, ir.DefaultExpr):
            return None
        if isinstance(ks, ir.Range):
            return Range(_const(ks.lo, gen), _const(ks.hi, gen))
        if isinstance(ks, ir.Mask):
            value, mask = _const(ks.value, gen) & full, _const(ks.mask, gen) & full
        else:
            value, mask = _const(ks, gen) & full, full
        kind = key.match_kind
        if kind == "exact":
            return Exact(value)
        if kind == "lpm":
            return Lpm(value & mask, bin(mask).count("1"))
        if kind == "ternary":
            return Ternary(value & mask, mask)
        if kind == "optional":
            return OptionalMatch(value)
        if kind == "range":
            return Range(value, value)
        raise FabricError(f"table key '{key.name}': match kind '{kind}' is not supported")

    # ------------------------------------------------------------ data lists
    def flatten(self, bc, e) -> list[tuple[str, int, str | None, int]]:
        """(code, width, header code, shift) per packed item, header fields mergeable."""
        t = resolve(e.type)
        if isinstance(e, (ir.ListExpr,)):
            return [x for item in e.items for x in self.flatten(bc, item)]
        if isinstance(e, ir.StructExpr):
            return [x for _, item in e.fields for x in self.flatten(bc, item)]
        if isinstance(t, ir.StructLike) and t.is_header and not varbit_field(t):
            h = bc.expr_read(e)
            return [(f"{h}.v", t.width, h, 0)]
        if isinstance(t, ir.StructLike):
            out = []
            for f in t.fields:
                out += self.flatten(bc, ir.Member(e, f.name, type=f.type, text=f"{e.text}.{f.name}"))
            return out
        if isinstance(t, ir.BoolType):
            return [(f"(1 if {bc.expr(e)} else 0)", 1, None, 0)]
        if isinstance(t, ir.VarbitType):  # its current length, known per packet
            h = bc.expr(e.expr)
            return [(bc.expr(e), f"{h}.vl", h, self.gen.layout(resolve(e.expr.type))[e.member].shift)]
        width = width_of(t)
        if isinstance(e, ir.Member):
            ht = resolve(e.expr.type)
            if isinstance(ht, ir.StructLike) and ht.is_header:
                lay = self.gen.layout(ht)[e.member]
                return [(bc.expr(e), width, bc.expr_read(e.expr), lay.shift)]
        return [(bc.expr(e), width, None, 0)]

    def merged_parts(self, bc, e) -> list[list]:
        """[code, width, header code or None, shift] per packed item of a data list, adjacent
        fields of one header merged into one slice of its int (code None: that slice)."""
        merged: list[list] = []
        for code, width, h, shift in self.flatten(bc, e):
            last = merged[-1] if merged else None
            if h is not None and last is not None and last[2] == h and isinstance(width, int) \
                    and isinstance(last[1], int) and last[3] == shift + width:
                last[1] += width
                last[3] = shift
                last[0] = None
            else:
                merged.append([code, width, h, shift])
        return merged

    def data_parts(self, bc, e) -> list[tuple[str, int, str]]:
        """(code, width, present) per packed item of a data list (see merged_parts);
        `present` is its header's validity or True."""
        return self.data_parts_of(self.merged_parts(bc, e))

    @staticmethod
    def data_parts_of(merged: list[list]) -> list[tuple[str, int, str]]:
        # As BMv2's BufBuilder: fields of an invalid header contribute no bits at all.
        parts = []
        for code, width, h, shift in merged:
            if code is None:
                mask = (1 << width) - 1
                code = f"({h}.v & {mask})" if shift == 0 else f"(({h}.v >> {shift}) & {mask})"
            parts.append((code, width, f"{h}.valid" if h is not None else "True"))
        return parts

    def selector_key(self, bc, e) -> tuple[tuple[tuple[hashing.Item, ...], ...], Callable[[str], str]] | None:
        """A data list as ActionProfile.cached_fields (and hash() by values) takes it: (the
        variants' items, a function of the member/group reference's code giving the key's
        code `(ref, variant, values...)`, no ref for None), the values unpacked (no bytes
        per packet). Consecutive fields of one header are one value, its int masked to them
        (item: their (shift, width) slices). None when more than one header's validity
        decides which fields are in or a width varies."""
        parts = self.key_items(bc, e)
        if parts is None:
            return None
        present = [ok for ok in dict.fromkeys(ok for _, _, ok in parts) if ok != "True"]
        if len(present) > 1:
            return None
        every = "".join(f"{c}, " for c, _, _ in parts)

        def key(ref: str | None, variant: int, values: str) -> str:  # None: no reference
            return f"({'' if ref is None else ref + ', '}{variant}, {values})"
        if not present:
            return (tuple(w for _, w, _ in parts),), lambda ref: key(ref, 0, every)
        always = [(c, w) for c, w, ok in parts if ok == "True"]
        some = "".join(f"{c}, " for c, _ in always)
        variants = (tuple(w for _, w, _ in parts), tuple(w for _, w in always))
        return variants, lambda ref: f"({key(ref, 0, every)} if {present[0]} else {key(ref, 1, some)})"

    def key_items(self, bc, e) -> list[tuple[str, hashing.Item, str]] | None:
        """(code, item, present) per value of a data list's by-values key: data_parts, but
        a run of slices of one header is one value, the header's int masked to them (the
        item their (shift, width) in order); None when a width varies."""
        items: list[tuple[str, hashing.Item, str]] = []
        run: list[tuple[int, int]] = []
        parts = self.merged_parts(bc, e)
        if any(not isinstance(w, int) for _, w, _, _ in parts):
            return None
        for i, (code, width, h, shift) in enumerate(parts):
            if h is None:
                items.append((code, width, "True"))
                continue
            run.append((shift, width))
            if i + 1 < len(parts) and parts[i + 1][2] == h:
                continue
            if len(run) == 1:
                items.append(self.data_parts_of([parts[i]])[0])
            else:
                mask = 0
                for s_, w_ in run:  # OR, not sum: a data list may name one field twice
                    mask |= ((1 << w_) - 1) << s_
                items.append((f"({h}.v & {mask})", tuple(run), f"{h}.valid"))
            run = []
        return items

    def data_bytes(self, bc, e) -> str:
        """A data list's bytes (hash input, selector): packed as one number when every item
        is present (one to_bytes), item by item when some header may be invalid."""
        parts = self.data_parts(bc, e)
        if any(not isinstance(w, int) for _, w, _ in parts):
            return "_rt.pack_valid((" + "".join(f"({c}, {w}, {ok}), " for c, w, ok in parts) + "))"
        present = [ok for ok in dict.fromkeys(ok for _, _, ok in parts) if ok != "True"]
        packed = _packed_bytes(parts)
        if not present:
            return packed
        if len(present) == 1:  # else: the items always present, packed alike
            return f"({packed} if {present[0]} else {_packed_bytes([p for p in parts if p[2] == 'True'])})"
        if all(w % 8 == 0 for _, w, _ in parts):
            each = " + ".join(f"({c}).to_bytes({w // 8}, 'big')" if ok == "True" else
                              f"(({c}).to_bytes({w // 8}, 'big') if {ok} else b'')"
                              for c, w, ok in parts)
        else:
            each = "_rt.pack_valid((" + "".join(f"({c}, {w}, {ok}), " for c, w, ok in parts) + "))"
        return f"({packed} if {' and '.join(present)} else {each})"

    def aligned_slices(self, bc, e) -> tuple[str, int] | None:
        """(header code, mask) when a data list is slices of one header that sit 16-bit
        aligned with their place in the packed data (whole bytes, even or odd in all): its
        number is then the header's int masked, modulo 0xFFFF. None otherwise."""
        slices = self.merged_parts(bc, e)
        heads = {h for _, _, h, _ in slices}
        if len(heads) != 1 or None in heads or any(not isinstance(w, int) for _, w, _, _ in slices):
            return None
        spans = sorted((hshift, hshift + w) for _, w, _, hshift in slices)
        if any(b[0] < a[1] for a, b in zip(spans, spans[1:])):
            return None  # a bit counted twice in the sum: the header's masked int holds it once
        total = sum(w for _, w, _, _ in slices)
        pos, mask = total + (8 if total // 8 % 2 else 0), 0
        for _, width, _, hshift in slices:
            pos -= width
            if (pos - hshift) % 16:
                return None
            mask |= ((1 << width) - 1) << hshift
        return heads.pop(), mask

    def verify_by_residue(self, bc, data, target, exact: str) -> str | None:
        """verify_checksum's mismatch test for a csum16 over aligned slices of the header
        that holds the 16-bit checksum field at a 16-bit aligned place (IPv4): with n the
        data's number and f the field, the checksum ~n equals f exactly when (n + f) mod
        0xFFFF is 0, except for f in {0, 0xFFFF} (n's residue 0, where 0 and 0xFFFF differ):
        one modulo of the header's int per packet, the `exact` test only for such f."""
        aligned = self.aligned_slices(bc, data)
        if aligned is None or not isinstance(target, ir.Member) or width_of(target.type) != 16:
            return None
        ht = resolve(target.expr.type)
        h, mask = aligned
        if not (isinstance(ht, ir.StructLike) and ht.is_header) or bc.expr_read(target.expr) != h:
            return None
        shift = self.gen.layout(ht)[target.member].shift
        field = 65535 << shift
        if shift % 16 or mask & field:
            return None
        full = mask | field
        v = f"{h}.v" if full == (1 << ht.width) - 1 else f"({h}.v & {full})"
        return f"({v} % 65535 or ({h}.v & {field}) in (0, {field}) and {exact})"

    def csum16_of_fields(self, bc, e, known_valid: str | None = None) -> str | None:
        """csum16 of a data list computed on ints (no bytes built), when every item is whole
        bytes and all are present together (one header's validity, or always): then the
        data is one big-endian number. None otherwise. `known_valid`: a validity the caller
        already checked (not tested again)."""
        parts = self.data_parts(bc, e)
        present = {ok for _, _, ok in parts}
        if not parts or len(present) != 1 or any(not isinstance(w, int) or w % 8 for _, w, _ in parts):
            return None
        total, terms = sum(w for _, w, _ in parts), []
        odd = 8 if total // 8 % 2 else 0  # an odd last byte is the high byte of its word
        shift = total
        for code, width, _ in parts:
            shift -= width
            terms.append(code if shift == 0 else f"({code} << {shift})")
        data = " | ".join(terms)
        if odd:
            data = f"(({data}) << 8)"
        # Only the residue mod 0xFFFF and zero-ness of the number matter, and x << 16k is x
        # mod 0xFFFF: slices of one header that sit 16-bit aligned with their place in the
        # packed data are the header's int masked, no shifts (IPv4 minus its checksum field).
        aligned = self.aligned_slices(bc, e)
        if aligned is not None:
            data = f"({aligned[0]}.v & {aligned[1]})"
        # hashing.csum16_int inlined (no call per packet): ~sum is 0xFFFF - (n mod 0xFFFF),
        # and a non-zero n with n mod 0xFFFF == 0 sums to 0xFFFF, whose complement is 0
        n, t = self.gen.uniq("csum_n"), self.gen.uniq("csum_t")
        value = f"(65535 - {t} if ({t} := ({n} := {data}) % 65535) else (0 if {n} else 65535))"
        (ok,) = present
        return value if ok in ("True", known_valid) else f"({value} if {ok} else {hashing.csum16(b'')})"

    def algo_fn(self, e) -> str:
        if not isinstance(e, ir.EnumMember):
            raise unsupported(e, "a hash algorithm that is not a constant")
        return self.gen.obj("alg_" + e.member, _algorithm(e, e.member))

    # ------------------------------------------------------------ functions
    def function(self, bc, mc: ir.MethodCall) -> None:
        name = mc.method
        args = [a.value for a in mc.args]
        handler = getattr(self, "f_" + name, None)
        if handler is None:
            raise unsupported(mc, f"the extern function '{name}'")
        handler(bc, mc, args)

    def f_mark_to_drop(self, bc, mc, args) -> None:
        sm = bc.expr(args[0]) if args else "pkt.sm"
        bc.emit(f"{sm}.egress_spec = _drop_port")
        bc.emit(f"{sm}.mcast_grp = 0")

    def f_hash(self, bc, mc, args) -> None:
        result, algo, base, data, max_ = args
        fn = self.algo_fn(algo)
        b, m = bc.expr(base), bc.expr(max_)
        fields = self.selector_key(bc, data)
        if fields is not None:  # by the field values, hashed once per distinct values
            variants, key = fields
            by_values = _LookupCache(functools.partial(hashing.hash_fields,
                                                       self.gen.ns[fn], variants))
            h = f"{self.gen.obj('hashed', by_values.__getitem__)}({key(None)})"
        else:
            h = f"{fn}({self.data_bytes(bc, data)})"
        b0, m0, width = bc.const_of(base), bc.const_of(max_), width_of(result.type)
        if b0 is not None and m0:  # constants (the common case): folded, no test per packet
            # h >= 0: h % m is h & (m - 1) for a power of two m
            inner = f"({h} & {m0 - 1})" if m0 & (m0 - 1) == 0 else f"({h} % {m0})"
            value = inner if b0 == 0 else f"({b0} + {inner})"
            if b0 + m0 - 1 >= 1 << width:
                value = f"({value} & {(1 << width) - 1})"
            bc.emit_all(bc.assign(result, value, result.type))
            return
        mx = self.gen.uniq("max")
        bc.emit(f"{mx} = {m}")
        value = f"(({b}) + ({h} % {mx} if {mx} else 0))"  # BMv2 treats max 0 as 1: the base
        bc.emit_all(bc.assign(result, f"({value} & {(1 << width_of(result.type)) - 1})", result.type))

    def f_random(self, bc, mc, args) -> None:
        result, lo, hi = args
        a, b = bc.const_of(lo), bc.const_of(hi)
        if a is None or b is None or b < a:  # lo > hi: BMv2 writes nothing (modify_field_rng_uniform)
            bc.emit(f"_lo, _hi = {bc.expr(lo)}, {bc.expr(hi)}")
            self.assign_if(bc, "_lo <= _hi", result, "_rand(_lo, _hi)", result.type)
            return
        # Constant bounds: rng.randint(a, b)'s own draws inline (random.Random._randbelow:
        # getrandbits(n.bit_length()) until below n), five Python calls fewer per packet.
        n = b - a + 1
        k = n.bit_length()
        draw, r = self.getrandbits(), self.gen.uniq("rr")
        bc.emit(f"{r} = {draw}({k})")
        bc.emit(f"while {r} >= {n}:")
        bc.emit(f"    {r} = {draw}({k})")
        bc.emit_all(bc.assign(result, r if a == 0 else f"({a} + {r})", result.type))

    def getrandbits(self) -> str:
        """The program's generator's getrandbits, bound once (copied with it by fresh())."""
        key = ("_rng", "getrandbits")
        name = self.bound_methods.get(key)
        if name is None:
            name = self.bound_methods[key] = self.gen.obj("getrandbits", self.gen.rng.getrandbits)
        return name

    def f_digest(self, bc, mc, args) -> None:
        """The record, with the data's values now, replaces any earlier one: simple_switch
        learns one digest per packet at the end of ingress, the last call's."""
        data = args[1]
        t = resolve(data.type)
        if not isinstance(t, ir.StructLike):
            if not (isinstance(data, ir.ListExpr) and mc.digest_name is not None):
                raise unsupported(mc, "digest of a value that is neither a struct nor a list")
            # a list: P4Info's tuple, its members by position
            body = ", ".join(f"{i}: {bc.expr(v)}" for i, v in enumerate(data.items))
            bc.emit(f"pkt.digest = _Digest({mc.digest_name!r}, {{{body}}})")
            return
        if isinstance(data, ir.StructExpr):
            fields = [(n, bc.expr(v)) for n, v in data.fields]
        else:
            fields = [(f.name, bc.expr(ir.Member(data, f.name, type=f.type))) for f in t.fields]
        body = ", ".join(f"{n!r}: {c}" for n, c in fields)
        bc.emit(f"pkt.digest = _Digest({t.name!r}, {{{body}}})")

    def _request(self, bc, slot: str, session: str | None, fl: str) -> None:
        if session is not None:
            bc.emit(f"pkt.clone_session = {session}")
        bc.emit(f"pkt.{slot} = {fl}")

    def f_clone(self, bc, mc, args) -> None:
        self._request(bc, "clone_fl", bc.expr(args[1]), "-1")

    def f_clone3(self, bc, mc, args) -> None:
        self._request(bc, "clone_fl", bc.expr(args[1]), "-1")

    def f_clone_preserving_field_list(self, bc, mc, args) -> None:
        self._request(bc, "clone_fl", bc.expr(args[1]), bc.expr(args[2]))

    def f_resubmit(self, bc, mc, args) -> None:
        self._request(bc, "resubmit_fl", None, "-1")

    def f_resubmit_preserving_field_list(self, bc, mc, args) -> None:
        self._request(bc, "resubmit_fl", None, bc.expr(args[0]))

    def f_recirculate(self, bc, mc, args) -> None:
        self._request(bc, "recirc_fl", None, "-1")

    def f_recirculate_preserving_field_list(self, bc, mc, args) -> None:
        self._request(bc, "recirc_fl", None, bc.expr(args[0]))

    def f_truncate(self, bc, mc, args) -> None:
        # BMv2's Packet::truncate keeps the smallest length asked for (0 here: none asked)
        bc.emit(f"pkt.truncate = min(pkt.truncate, {bc.expr(args[0])}) if pkt.truncate else {bc.expr(args[0])}")

    def f_static_assert(self, bc, mc, args) -> None:
        bc.emit("pass  # static_assert: checked by the compiler")

    def f_log_msg(self, bc, mc, args) -> None:
        bc.emit("pass  # log_msg")

    def f_assert(self, bc, mc, args) -> None:
        # BMv2 aborts the switch; we drop the packet instead: a switch never dies on a packet.
        bc.emit(f"if not {bc.expr(args[0])}:")
        bc.emit("    pkt.sm.egress_spec = _drop_port")
        bc.emit("    pkt.sm.mcast_grp = 0")

    f_assume = f_assert

    def _checksum(self, bc, args, payload: bool, verify: bool) -> None:
        cond, data, target, algo = args
        fn = self.algo_fn(algo)
        width = width_of(target.type)
        tail = " + pkt.payload" if payload else ""
        c = bc.expr(cond)
        fast = self.csum16_of_fields(bc, data, c) if algo.member == "csum16" and not payload else None
        if fast is not None and width >= 16:  # a ones' complement sum: 16 bits already
            value = fast
        else:
            value = f"({fast or f'{fn}({self.data_bytes(bc, data)}{tail})'} & {(1 << width) - 1})"
        guard = c  # BMv2 verifies and updates only a checksum field of a valid header (checksums.cpp)
        if isinstance(target, ir.Member):
            ht = resolve(target.expr.type)
            if isinstance(ht, ir.StructLike) and ht.is_header and c != f"{bc.expr_read(target.expr)}.valid":
                guard = f"{c} and {bc.expr_read(target.expr)}.valid"
        if verify:
            exact = f"{value} != {bc.expr(target)}"
            if fast is not None:
                exact = self.verify_by_residue(bc, data, target, exact) or exact
            bc.emit(f"if {guard} and {exact}:")
            bc.emit("    pkt.sm.checksum_error = 1")
            return
        bc.emit(f"if {guard}:")
        bc.indent += 1
        saved = bc.materialised
        lazy = bc.lazy_member(target.expr) if isinstance(target, ir.Member) else None
        if lazy is not None:  # the guard tests the header's validity: a real header
            bc.materialised = saved | {f"{lazy[0]}.{lazy[1]}"}
        bc.emit_all(bc.assign(target, value, target.type))
        bc.materialised = saved
        bc.indent -= 1

    def f_verify_checksum(self, bc, mc, args) -> None:
        self._checksum(bc, args, False, True)

    def f_verify_checksum_with_payload(self, bc, mc, args) -> None:
        self._checksum(bc, args, True, True)

    def f_update_checksum(self, bc, mc, args) -> None:
        self._checksum(bc, args, False, False)

    def f_update_checksum_with_payload(self, bc, mc, args) -> None:
        self._checksum(bc, args, True, False)

    # ------------------------------------------------------------ methods
    def bound(self, obj: str, method: str) -> str:
        """A module name for `obj.method` bound once (no attribute lookup per packet)."""
        name = self.bound_methods.get((obj, method))
        if name is None:
            name = self.bound_methods[(obj, method)] = self.gen.obj(
                f"{obj}_{method}", getattr(self.gen.ns[obj], method))
        return name

    def cells(self, obj: str, method: str | None = None) -> str:
        """A module name for a register's or counter's cell dict (or its bound `method`):
        generated code reads and writes cells inline, no call per access. The dict is never
        replaced (reset() clears it), so the binding stays valid."""
        key = (obj, "cells." + (method or ""))
        name = self.bound_methods.get(key)
        if name is None:
            cells = self.gen.ns[obj].cells
            name = self.bound_methods[key] = self.gen.obj(
                f"{obj}_cells{'_' + method if method else ''}", getattr(cells, method) if method else cells)
        return name

    def register_read(self, bc, obj: str, index, result) -> None:
        """Register.dp_read inlined into `result`: an out-of-range index leaves `result` as
        it was (BMv2's register_read checks the index and writes nothing); the check is left
        out when the index cannot exceed the register's size."""
        reg = self.gen.ns[obj]
        size = reg.size
        # a dense register's list by subscript (the index is in range here), else dict.get
        get = (f"{self.cells(obj)}[{{}}]" if reg.dense else f"{self.cells(obj, 'get')}({{}}, 0)").format
        bits = self.gen.index_bits(index)
        if bits is not None and 1 << bits <= size:
            bc.emit_all(bc.assign(result, get(bc.expr(index)), None))
            return
        # one name for every read: a read nested in the index completes before this one's walrus
        self.assign_if(bc, f"(_ri := {bc.expr(index)}) < {size}", result, get("_ri"))

    def assign_if(self, bc, cond: str, result, value: str, typ=None) -> None:
        """`result = value` only when `cond` holds: BMv2 leaves an extern's out argument
        unchanged when it refuses the call (an index out of range, an empty random range)."""
        bc.emit(f"if {cond}:")
        bc.indent += 1
        saved = bc.materialised  # a header made real in this branch only is not real after it
        bc.emit_all(bc.assign(result, value, typ))
        bc.materialised = saved
        bc.indent -= 1

    def register_write(self, bc, obj: str, index, value) -> None:
        """Register.dp_write inlined: an out-of-range write is ignored (index first, as the
        call evaluated its arguments; generated expressions have no side effects)."""
        reg = self.gen.ns[obj]
        cells = self.cells(obj)
        bits = self.gen.index_bits(index)
        vt = resolve(value.type)
        if isinstance(vt, ir.BitType) and not vt.signed and vt.width <= reg.mask.bit_length():
            store = bc.expr(value)  # a bit<W> value is in range: no mask
        else:
            store = f"({bc.expr(value)}) & {reg.mask}"
        if bits is not None and 1 << bits <= reg.size:
            bc.emit(f"{cells}[{bc.expr(index)}] = {store}")
            return
        # `_wi`, not `_ri`: the value (evaluated before the subscript) may read registers
        bc.emit(f"if (_wi := {bc.expr(index)}) < {reg.size}:")
        bc.emit(f"    {cells}[_wi] = {store}")

    def counter_count(self, bc, obj: str, index) -> None:
        """Counter.count inlined: the cell's two fields updated in place (wrapping at 2**64
        as BMv2's uint64_t); a sparse counter's cell is made on its first packet."""
        ctr = self.gen.ns[obj]
        size = ctr.size
        bits = self.gen.index_bits(index)
        if bits is not None and 1 << bits <= size:
            i, pad = bc.expr(index), ""
        else:
            i, pad = "_ci", "    "
            bc.emit(f"if ({i} := {bc.expr(index)}) < {size}:")
        # one add to the cell's int (Counter); no wrap per count: Counter.read takes each
        # part modulo 2**64
        add = f"{COUNTER_PACKET} + {bc.pkt_sm}.packet_length"
        if ctr.dense:  # every cell exists: one subscript
            bc.emit(f"{pad}{self.cells(obj)}[{i}] += {add}")
        else:
            bc.emit(f"{pad}{self.cells(obj)}[{i}] = {self.cells(obj, 'get')}({i}, 0) + {add}")

    def method(self, bc, mc: ir.MethodCall) -> None:
        target = mc.target.decl if isinstance(mc.target, ir.PathExpr) else None
        obj = bc.scope.lookup(target)
        inst = bc.ctx.instance(target)  # (a parameter: the instance bound to it)
        if inst is None:
            raise unsupported(mc, f"calling '{mc.text}' on a non-instance")
        kind = _extern_name(inst.type)
        args = [a.value for a in mc.args]
        if obj is None and kind in ("counter", "meter", "register"):
            raise unsupported(mc, f"'{inst.name}' here (instance not visible)")
        if kind == "counter" and mc.method == "count":
            self.counter_count(bc, obj, args[0])
        elif kind == "direct_counter" and mc.method == "count":
            bc.emit("pass  # direct_counter: counted by the table on a hit")
        elif kind == "meter" and mc.method == "execute_meter":  # out of range: no colour written (BMv2)
            size = self.gen.ns[obj].size
            self.assign_if(bc, f"(_mi := {bc.expr(args[0])}) < {size}", args[1],
                           f"{obj}.execute(_mi, pkt.sm.packet_length, pkt.now)")
        elif kind == "direct_meter" and mc.method == "read":
            table = self.direct_meter_table.get(id(inst))
            if table is None:
                raise unsupported(mc, "a direct_meter no table uses")
            # BMv2 writes the colour on a hit only (match_tables.cpp): on a miss the field stays
            self.assign_if(bc, f"(_dc := {table}.last_color) is not None", args[0], "_dc")
        elif kind == "register" and mc.method == "read":
            self.register_read(bc, obj, args[1], args[0])
        elif kind == "register" and mc.method == "write":
            self.register_write(bc, obj, args[0], args[1])
        else:
            raise unsupported(mc, f"the extern method {kind}.{mc.method}")


def _rand_between(rng, lo: int, hi: int) -> int:
    """v1model random(): uniform in [lo, hi] (the caller writes nothing for an empty range)."""
    return rng.randint(lo, hi)


_BMV2_TOP = (1 << 31) - 1


def _entry_priority(t: ir.TableDecl, entry: ir.Entry, i: int, n: int) -> int:
    """The table's (largest wins) priority of a program entry. p4c's BMv2 back end
    (backends/bmv2/common/control.h, convertTableEntries) gives a `const entries` entry its
    `@priority(n)` or else its 1-based position, and BMv2 picks the smallest value (p4c's
    bmv2stf.py inverts STF priorities for that reason): mirrored here as _BMV2_TOP - value.
    Other entries keep p4c's front-end priorities, the values P4Runtime reads back."""
    if not t.entries_const:
        return entry.priority if entry.priority is not None else n - i
    return _BMV2_TOP - (entry.priority if entry.priority is not None else i + 1)


def _key_width(t) -> int:
    """A key's width; an `error` key matches the error's code, held here in 32 bits (p4c
    gives no P4Info for such tables; BMv2's own width for it was not checked)."""
    return 32 if isinstance(resolve(t), ir.ErrorType) else width_of(t)
