"""p4c's STF test format: parse a file, run it against a SwitchCore, report mismatches.

Commands (one per line, `#` starts a comment), executed in file order:

    packet PORT HEX...                 send a packet (spaces allowed in the hex)
    expect PORT HEX... [$]             expect a packet on PORT; `*` is a wildcard nibble,
                                       `$` demands the exact length; `expect PORT` alone
                                       accepts any packets on PORT
    no_packet                          (accepted; outputs are all checked at the end)
    add TABLE [PRIO] FIELD:VAL ... ACTION(P:V, ...) [= HANDLE]
         VAL: 0x0a0001** (wildcard nibbles), V/LEN, V&&&MASK, LO..HI, or a number
    setdefault TABLE ACTION(P:V, ...)
    remove TABLE [PRIO] FIELD:VAL ...  |  remove all
    wait                               advance the virtual clock by one second
    mirroring_add SESSION PORT         mirroring_add_mc SESSION GROUP
    mc_mgrp_create GROUP    mc_node_create RID PORT...    mc_node_associate GROUP NODE
    register_write REG IDX VAL         register_read REG IDX [== VAL]   register_reset REG
    counter_read CTR IDX               check_counter CTR(IDX) [packets|bytes] [==|!=] N
    meter_set_rates METER IDX CIR:CBURST PIR:PBURST    (rates per microsecond, as BMv2)
    pvs_add VALUE_SET VALUE...  pvs_clear VALUE_SET   parser value sets (simple_switch_CLI);
         a struct element takes one FIELD:VALUE per field
    member PROFILE ID ACTION(P:V, ...) group PROFILE ID MEMBER...   (fabriclab extensions:
         action profile members/groups; `add` then takes member(ID) or group(ID))
    priority_queues N                  (fabriclab extension) queues per port, as
         simple_switch's --priority-queues: a packet whose priority has no queue is
         dropped; 1 by default, as p4c's runner starts simple_switch

As in p4c's runner: names match by suffix, a higher STF priority wins, outputs on each
port are compared in order with the expects for that port after the whole file ran, and
any unexpected packet is a failure. The parser is sans-I/O; `run_stf` drives a core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fabriclab.errors import FabricError
from fabriclab.switch.externs import CounterData, MeterConfig
from fabriclab.switch.replication import CloneSession
from fabriclab.switch.tables import (ActionCall, Exact, FieldMatch, GroupRef, KeyField, Lpm,
                                     MemberRef, OptionalMatch, Range, Table, Ternary)


class StfSyntaxError(FabricError):
    """A malformed STF line (bad input: `fabriclab stf` exits 2)."""


class StfCheckFailed(FabricError):
    """A check in the file did not hold (register_read ==, check_counter): a test failure, exit 1."""


MAX_PORT = 511  # v1model ports are bit<9>


def decode_stf(data: bytes, where: str) -> str:
    """The text of an STF file; a non-UTF-8 byte is a one-line error, not a traceback."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise StfSyntaxError(f"{where}: line {line}: byte 0x{data[err.start]:02x} is not UTF-8 text") from None


@dataclass(frozen=True)
class Command:
    """One STF line: its keyword, the words after it, and where it came from."""

    line: int
    keyword: str
    words: tuple[str, ...]
    text: str


_KEYWORDS = {
    "packet", "expect", "no_packet", "add", "setdefault", "remove", "wait", "mirroring_add",
    "mirroring_add_mc", "mirroring_delete", "mirroring_get", "mc_mgrp_create", "mc_node_create",
    "mc_node_associate", "register_read", "register_write", "register_reset", "counter_read",
    "counter_write", "check_counter", "meter_set_rates", "meter_array_set_rates",
    "meter_get_rates", "member", "group", "pvs_add", "pvs_clear", "priority_queues",
}


def parse_stf(text: str) -> list[Command]:
    """Split an STF file into commands; unknown keywords are errors with the line number."""
    commands = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.lower()
        if keyword not in _KEYWORDS:
            raise StfSyntaxError(f"line {lineno}: unknown STF command '{keyword}'")
        commands.append(Command(lineno, keyword, tuple(rest.split()), rest.strip()))
    return commands


# ---------------------------------------------------------------- values
def parse_int(text: str, where: str) -> int:
    try:
        return int(text.strip().strip('"'), 0)
    except ValueError:
        raise StfSyntaxError(f"{where}: '{text}' is not a number") from None


def parse_port(text: str, where: str) -> int:
    port = parse_int(text, where)
    if not 0 <= port <= MAX_PORT:
        raise StfSyntaxError(f"{where}: port {text} is outside 0..{MAX_PORT} (v1model ports are bit<9>)")
    return port


def words(cmd: Command, where: str, least: int, most: int | None, usage: str) -> tuple[str, ...]:
    """The command's words if there are `least`..`most` of them (None: no upper bound)."""
    n = len(cmd.words)
    if n < least or (most is not None and n > most):
        raise StfSyntaxError(f"{where}: usage: {cmd.keyword} {usage}")
    return cmd.words


def _digits(text: str) -> tuple[str, int]:
    """Split a literal into its digits and bits per digit (hex default for `*` forms)."""
    t = text.lower()
    for prefix, bits in (("0x", 4), ("0b", 1), ("0o", 3)):
        if t.startswith(prefix):
            return t[2:], bits
    return t, 0


def _wild_value_mask(text: str, where: str) -> tuple[int, int]:
    """`0x0A**` -> (0x0A00, 0xFF00): each `*` digit is a wildcard."""
    digits, bits = _digits(text)
    if bits == 0:
        raise StfSyntaxError(f"{where}: wildcard '{text}' needs a 0x/0b/0o prefix")
    base = 1 << bits
    value = mask = 0
    for d in digits:
        value <<= bits
        mask <<= bits
        if d != "*":
            try:
                value |= int(d, base)
            except ValueError:
                raise StfSyntaxError(f"{where}: bad digit '{d}' in '{text}'") from None
            mask |= base - 1
    return value, mask


def field_match(key: KeyField, text: str, where: str) -> FieldMatch | None:
    """Convert one STF key value to a match for `key` (None means wildcard)."""
    text = text.strip('"')
    full = (1 << key.width) - 1
    kind = key.match_kind
    if "&&&" in text:
        v, m = text.split("&&&", 1)
        value, mask = parse_int(v, where), parse_int(m, where)
    elif "/" in text:
        v, plen = text.split("/", 1)
        value, n = parse_int(v, where), parse_int(plen, where)
        if not 0 <= n <= key.width:
            raise StfSyntaxError(f"{where}: prefix /{n} outside 0..{key.width} (bit<{key.width}>)")
        mask = full ^ (full >> n)
    elif ".." in text:
        lo, hi = text.split("..", 1)
        if kind != "range":
            raise StfSyntaxError(f"{where}: '{text}' is a range but '{key.name}' is {kind}")
        return Range(parse_int(lo, where), parse_int(hi, where))
    elif "*" in text:
        if text == "*":
            return None
        value, mask = _wild_value_mask(text, where)
    else:
        value, mask = parse_int(text, where), full
    if value > full:
        raise StfSyntaxError(f"{where}: value {text} does not fit '{key.name}' (bit<{key.width}>)")
    mask &= full
    value &= mask
    if kind == "exact":
        if mask != full:
            raise StfSyntaxError(f"{where}: '{key.name}' is exact: '{text}' must be one value")
        return Exact(value)
    if kind == "lpm":
        plen = bin(mask).count("1")
        if mask != full ^ (full >> plen):
            raise StfSyntaxError(f"{where}: '{text}' is not a prefix for lpm '{key.name}'")
        return Lpm(value, plen)
    if kind == "ternary":
        return Ternary(value, mask)
    if kind == "optional":
        if mask == 0:
            return None
        if mask != full:
            raise StfSyntaxError(f"{where}: optional '{key.name}' takes a value or '*'")
        return OptionalMatch(value)
    if kind == "range":
        if mask != full:
            raise StfSyntaxError(f"{where}: range '{key.name}' takes LO..HI or a value")
        return Range(value, value)
    raise StfSyntaxError(f"{where}: match kind '{kind}' of '{key.name}' is not supported")


def by_suffix(names, wanted: str, what: str, where: str) -> str:
    """p4c's rule: an exact name, else the one name ending with `wanted`."""
    wanted = wanted.strip('"')
    names = list(names)
    if wanted in names:
        return wanted
    dotted = [n for n in names if n.endswith("." + wanted)]
    found = dotted or [n for n in names if n.endswith(wanted)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise FabricError(f"{where}: no {what} named '{wanted}'")
    raise FabricError(f"{where}: {what} name '{wanted}' is ambiguous: {', '.join(found)}")


_ACTION_RE = re.compile(r"^\s*([\w.$\"]+)\s*\((.*)\)\s*$")


def split_action(text: str, where: str) -> tuple[str, list[tuple[str, str]]]:
    m = _ACTION_RE.match(text)
    if not m:
        raise StfSyntaxError(f"{where}: expected ACTION(param:value, ...), got '{text}'")
    params = []
    for part in filter(None, (p.strip() for p in m.group(2).split(","))):
        name, sep, value = part.partition(":")
        if not sep:
            raise StfSyntaxError(f"{where}: action argument '{part}' is not name:value")
        params.append((name.strip().strip('"'), value.strip()))
    return m.group(1).strip('"'), params


# ---------------------------------------------------------------- results
@dataclass
class Expectation:
    line: int
    port: int
    pattern: str  # upper-case hex nibbles and '*'
    exact: bool


@dataclass
class StfResult:
    """Outcome of a run: failures (first is the one to show) and what was sent/received."""

    failures: list[str] = field(default_factory=list)
    outputs: dict[int, list[bytes]] = field(default_factory=dict)
    packets_sent: int = 0
    expects_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


def compare_packet(exp: Expectation, got: bytes, index: int) -> str | None:
    """None if `got` matches, else a report: port, expected vs got, first differing byte."""
    hexgot = got.hex().upper()
    pat = exp.pattern
    problem = None
    if len(hexgot) < len(pat):
        problem = f"packet too short: {len(got)} bytes, expected {(len(pat) + 1) // 2}"
    elif exp.exact and len(hexgot) != len(pat):
        problem = f"length {len(got)} bytes, expected exactly {(len(pat) + 1) // 2}"
    else:
        for i, (e, g) in enumerate(zip(pat, hexgot)):
            if e != "*" and e != g:
                b = i // 2
                problem = (f"byte {b} differs: expected {pat[2 * b:2 * b + 2]}, "
                           f"got {hexgot[2 * b:2 * b + 2]}")
                break
    if problem is None:
        return None
    return (f"line {exp.line}: packet {index} on port {exp.port}: {problem}\n"
            f"  expected {_spaced(pat)}\n  got      {_spaced(hexgot)}")


def _spaced(hexstr: str) -> str:
    return " ".join(hexstr[i:i + 2] for i in range(0, len(hexstr), 2))


# ---------------------------------------------------------------- runner
class StfRunner:
    """Executes parsed commands against a SwitchCore with a virtual clock."""

    def __init__(self, core, start_us: int = 0) -> None:
        self.core = core
        self.now_us = start_us
        self.result = StfResult()
        self.expects: dict[int, list[Expectation]] = {}
        self.any_ports: set[int] = set()
        self.mc_nodes: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.mc_members: dict[int, list[int]] = {}
        self.log: list[str] = []
        self.sources: dict[int, list[int]] = {}  # port -> line of the packet behind each output
        self.queues = 1

    def run(self, commands: list[Command]) -> StfResult:
        """Run `commands`; a failed check ends the run as a failure, bad input raises FabricError."""
        for cmd in commands:
            where = f"line {cmd.line}"
            try:
                getattr(self, "_do_" + cmd.keyword)(cmd, where)
            except StfCheckFailed as err:
                self.result.failures.append(str(err))
                return self.result
            except FabricError as err:
                msg = str(err)
                raise FabricError(msg if msg.startswith("line ") else f"{where}: {msg}") from None
        self._check_outputs()
        return self.result

    # packets --------------------------------------------------------------
    def _do_packet(self, cmd: Command, where: str) -> None:
        if not cmd.words:
            raise StfSyntaxError(f"{where}: packet needs a port")
        port = parse_port(cmd.words[0], where)
        data = "".join(cmd.words[1:])
        try:
            payload = bytes.fromhex(data)
        except ValueError:
            raise StfSyntaxError(f"{where}: bad packet hex '{data}'") from None
        self.now_us += 1
        self.result.packets_sent += 1
        for out_port, out in self.core.process(port, payload, self.now_us, self.queues):
            self.result.outputs.setdefault(out_port, []).append(out)
            self.sources.setdefault(out_port, []).append(cmd.line)

    def _do_expect(self, cmd: Command, where: str) -> None:
        if not cmd.words:
            raise StfSyntaxError(f"{where}: expect needs a port")
        port = parse_port(cmd.words[0], where)
        data = "".join(cmd.words[1:]).upper()
        exact = data.endswith("$")
        data = data.rstrip("$")
        if not data:
            self.any_ports.add(port)
            return
        if not re.fullmatch(r"[0-9A-F*]*", data):
            raise StfSyntaxError(f"{where}: bad expect data '{data}'")
        self.expects.setdefault(port, []).append(Expectation(cmd.line, port, data, exact))

    def _do_no_packet(self, cmd: Command, where: str) -> None:
        pass

    def _do_wait(self, cmd: Command, where: str) -> None:
        self.now_us += 1_000_000

    def _check_outputs(self) -> None:
        """Compare per port in order; failures are sorted so the earliest line comes first."""
        res = self.result
        for port in sorted(set(self.expects) | set(res.outputs)):
            if port in self.any_ports:
                continue
            expected = self.expects.get(port, [])
            got = res.outputs.get(port, [])
            for i, exp in enumerate(expected):
                if i >= len(got):
                    res.failures.append(f"line {exp.line}: expected packet {i} on port {port}, "
                                        f"got only {len(got)} packet(s) there\n"
                                        f"  expected {_spaced(exp.pattern)}")
                    break
                res.expects_checked += 1
                report = compare_packet(exp, got[i], i)
                if report:
                    res.failures.append(report)
                    break
            else:
                if len(got) > len(expected):
                    extra = got[len(expected)]
                    line = self.sources[port][len(expected)]
                    res.failures.append(f"line {line}: unexpected packet {len(expected)} on port "
                                        f"{port} ({len(got)} sent there, {len(expected)} "
                                        f"expected)\n  got      {_spaced(extra.hex().upper())}")
        res.failures.sort(key=lambda f: int(f.split(":", 1)[0][5:]))

    # tables ---------------------------------------------------------------
    def _table(self, name: str, where: str) -> Table:
        return self.core.tables[by_suffix(self.core.tables, name, "table", where)]

    def _action(self, table: Table, text: str, where: str) -> ActionCall:
        name, params = split_action(text, where)
        action = by_suffix(table.actions, name, "action", where)
        spec = table.actions[action]
        values = {}
        for pname, value in params:
            full = by_suffix([p for p, _ in spec.params], pname, f"parameter of {action}", where)
            values[full] = parse_int(value, where)
        return table.action_call(action, values)

    def _entry_action(self, table: Table, text: str, where: str):
        m = re.fullmatch(r"\s*(member|group)\s*\(\s*(\w+)\s*\)\s*", text)
        if m and table.profile is not None:
            ref = MemberRef if m.group(1) == "member" else GroupRef
            return ref(parse_int(m.group(2), where))
        return self._action(table, text, where)

    def _key(self, table: Table, words: list[str], where: str) -> tuple[dict, int]:
        priority = 0
        if words and re.fullmatch(r"\d+", words[0]):
            priority = int(words.pop(0))
        keys = {k.name: k for k in table.keys}
        match: dict[str, FieldMatch] = {}
        for word in words:
            name, sep, value = word.rpartition(":")
            if not sep:
                raise StfSyntaxError(f"{where}: key '{word}' is not field:value")
            name = name.strip('"')
            name = re.sub(r"\$(\d+)", r"[\1]", name)
            name = re.sub(r"\.?\$valid\$$", ".isValid()", name)  # BMv2 JSON spelling
            full = by_suffix(keys, name, f"key field of {table.name}", where)
            m = field_match(keys[full], value, where)
            if m is not None:
                match[full] = m
        return match, priority

    def _split_add(self, cmd: Command, where: str) -> tuple[Table, list[str], str]:
        text = cmd.text.split("=", 1)[0] if re.search(r"\)\s*=", cmd.text) else cmd.text
        head, paren, tail = text.partition("(")
        if not paren:
            raise StfSyntaxError(f"{where}: expected an action call ACTION(...)")
        words = head.split()
        if len(words) < 2:
            raise StfSyntaxError(f"{where}: expected TABLE [PRIO] KEYS... ACTION(...)")
        table = self._table(words[0], where)
        return table, words[1:-1], words[-1] + "(" + tail

    def _do_add(self, cmd: Command, where: str) -> None:
        table, key_words, action_text = self._split_add(cmd, where)
        match, priority = self._key(table, key_words, where)
        table.insert(match, self._entry_action(table, action_text, where), priority)

    def _do_setdefault(self, cmd: Command, where: str) -> None:
        name, _, action_text = cmd.text.partition(" ")
        table = self._table(name, where)
        table.set_default(self._action(table, action_text, where))

    def _do_remove(self, cmd: Command, where: str) -> None:
        if cmd.words == ("all",):
            for table in self.core.tables.values():
                if table.entries() and not table.const_entries:
                    table.clear()
            return
        if not cmd.words:
            raise StfSyntaxError(f"{where}: remove needs a table (or 'all')")
        table = self._table(cmd.words[0], where)
        match, priority = self._key(table, list(cmd.words[1:]), where)
        table.delete(match, priority)

    def _do_member(self, cmd: Command, where: str) -> None:
        if len(cmd.words) < 3:
            raise StfSyntaxError(f"{where}: member PROFILE ID ACTION(P:V, ...)")
        name, mid, *rest = cmd.words
        profile = self.core.action_profiles[by_suffix(self.core.action_profiles, name,
                                                      "action profile", where)]
        table = next((t for t in self.core.tables.values() if t.profile is profile), None)
        if table is None:
            raise StfSyntaxError(f"{where}: no table uses action profile '{profile.name}'")
        profile.add_member(parse_int(mid, where), self._action(table, " ".join(rest), where))

    def _do_group(self, cmd: Command, where: str) -> None:
        if len(cmd.words) < 2:
            raise StfSyntaxError(f"{where}: group PROFILE ID MEMBER...")
        name, gid, *members = cmd.words
        profile = self.core.action_profiles[by_suffix(self.core.action_profiles, name,
                                                      "action profile", where)]
        profile.set_group(parse_int(gid, where), [(parse_int(m, where), 1) for m in members])

    # value sets -------------------------------------------------------------
    def _do_pvs_add(self, cmd: Command, where: str) -> None:
        if len(cmd.words) < 2:
            raise StfSyntaxError(f"{where}: pvs_add VALUE_SET VALUE...")
        vs = self._named(self.core.value_sets, cmd.words[0], "value set", where)
        member = {}
        for kf, word in zip(vs.fields, cmd.words[1:]):
            name, sep, value = word.rpartition(":")
            m = field_match(kf, value if sep else word, where)
            if m is not None:
                member[kf.name] = m
        vs.set_members(vs.members + [member])

    def _do_pvs_clear(self, cmd: Command, where: str) -> None:
        (name,) = words(cmd, where, 1, 1, "VALUE_SET")
        self._named(self.core.value_sets, name, "value set", where).set_members([])

    # replication ------------------------------------------------------------
    def _ints(self, cmd: Command, where: str, n: int | None = None) -> list[int]:
        if n is not None and len(cmd.words) != n:
            raise StfSyntaxError(f"{where}: {cmd.keyword} takes {n} number(s)")
        return [parse_int(w, where) for w in cmd.words]

    def _do_priority_queues(self, cmd: Command, where: str) -> None:
        (n,) = self._ints(cmd, where, 1)
        if n < 1:
            raise StfSyntaxError(f"{where}: priority_queues needs at least 1 queue")
        self.queues = n

    def _do_mirroring_add(self, cmd: Command, where: str) -> None:
        session, port = self._ints(cmd, where, 2)
        parse_port(str(port), where)
        self.core.pre.set_clone_session(session, CloneSession(replicas=((port, 0),)))

    def _do_mirroring_add_mc(self, cmd: Command, where: str) -> None:
        session, group = self._ints(cmd, where, 2)
        self.core.pre.set_clone_session(session, CloneSession(mcast_group=group))

    def _do_mirroring_delete(self, cmd: Command, where: str) -> None:
        (session,) = self._ints(cmd, where, 1)
        self.core.pre.delete_clone_session(session)

    def _do_mirroring_get(self, cmd: Command, where: str) -> None:
        (session,) = self._ints(cmd, where, 1)
        self.log.append(f"mirroring_get {session}: {self.core.pre.clone_sessions.get(session)}")

    def _do_mc_mgrp_create(self, cmd: Command, where: str) -> None:
        (group,) = self._ints(cmd, where, 1)
        self.mc_members[group] = []
        self.core.pre.set_group(group, [])

    def _do_mc_node_create(self, cmd: Command, where: str) -> None:
        words(cmd, where, 1, None, "RID PORT...")
        rid, *ports = self._ints(cmd, where)
        for port in ports:
            parse_port(str(port), where)
        handle = len(self.mc_nodes)  # BMv2 hands out node handles from 0
        # a node's ports are a bitmap in BMv2's PRE: each once, replicated in ascending order
        self.mc_nodes[handle] = (rid, tuple(sorted(set(ports))))

    def _do_mc_node_associate(self, cmd: Command, where: str) -> None:
        group, handle = self._ints(cmd, where, 2)
        if group not in self.mc_members:
            raise FabricError(f"{where}: multicast group {group} was not created")
        if handle not in self.mc_nodes:
            raise FabricError(f"{where}: no multicast node with handle {handle}")
        self.mc_members[group].append(handle)
        replicas = [(port, self.mc_nodes[h][0]) for h in self.mc_members[group]
                    for port in self.mc_nodes[h][1]]
        self.core.pre.set_group(group, replicas)

    # externs ------------------------------------------------------------------
    def _named(self, store: dict, name: str, what: str, where: str):
        return store[by_suffix(store, name, what, where)]

    def _do_register_write(self, cmd: Command, where: str) -> None:
        if len(cmd.words) != 3:
            raise StfSyntaxError(f"{where}: register_write REGISTER INDEX VALUE")
        reg = self._named(self.core.registers, cmd.words[0], "register", where)
        reg.write(parse_int(cmd.words[1], where), parse_int(cmd.words[2], where))

    def _do_register_read(self, cmd: Command, where: str) -> None:
        if len(cmd.words) not in (2, 4) or (len(cmd.words) == 4 and cmd.words[2] != "=="):
            raise StfSyntaxError(f"{where}: register_read REGISTER INDEX [== VALUE]")
        reg = self._named(self.core.registers, cmd.words[0], "register", where)
        value = reg.read(parse_int(cmd.words[1], where))
        self.log.append(f"{reg.name}[{cmd.words[1]}] = {value}")
        if len(cmd.words) == 4 and value != parse_int(cmd.words[3], where):
            raise StfCheckFailed(f"{where}: register {reg.name}[{cmd.words[1]}] is {value}, "
                                 f"expected {cmd.words[3]}")

    def _do_register_reset(self, cmd: Command, where: str) -> None:
        (name,) = words(cmd, where, 1, 1, "REGISTER")
        self._named(self.core.registers, name, "register", where).reset()

    def _do_counter_read(self, cmd: Command, where: str) -> None:
        name, index = words(cmd, where, 2, 2, "COUNTER INDEX")
        ctr = self._named(self.core.counters, name, "counter", where)
        data = ctr.read(parse_int(index, where))
        self.log.append(f"{ctr.name}[{index}] = {data.packets} packets, {data.bytes} bytes")

    def _do_counter_write(self, cmd: Command, where: str) -> None:
        name, *values = words(cmd, where, 4, 4, "COUNTER INDEX PACKETS BYTES")
        ctr = self._named(self.core.counters, name, "counter", where)
        index, packets, nbytes = (parse_int(w, where) for w in values)
        if packets < 0 or nbytes < 0:
            raise StfSyntaxError(f"{where}: counter values must not be negative")
        ctr.write(index, CounterData(packets, nbytes))

    def _do_check_counter(self, cmd: Command, where: str) -> None:
        m = re.fullmatch(r"\s*([\w.$]+)\s*\(\s*(\w+)\s*\)\s*(?:(packets|bytes)\s*)?"
                         r"(?:(==|!=)\s*(\w+))?\s*", cmd.text)
        if not m:
            raise StfSyntaxError(f"{where}: check_counter COUNTER(INDEX) [packets|bytes] == N")
        ctr = self._named(self.core.counters, m.group(1), "counter", where)
        data = ctr.read(parse_int(m.group(2), where))
        kind = m.group(3) or "packets"
        op, want = m.group(4) or "==", parse_int(m.group(5) or "0", where)
        got = data.packets if kind == "packets" else data.bytes
        if (got == want) != (op == "=="):
            raise StfCheckFailed(f"{where}: counter {ctr.name}({m.group(2)}) {kind} is {got}, "
                                 f"expected {op} {want}")

    def _do_meter_set_rates(self, cmd: Command, where: str) -> None:
        if len(cmd.words) != 4:
            raise StfSyntaxError(f"{where}: meter_set_rates METER INDEX CIR:CBURST PIR:PBURST")
        meter = self._named(self.core.meters, cmd.words[0], "meter", where)
        (cir, cburst), (pir, pburst) = (self._rate(w, where) for w in cmd.words[2:4])
        meter.set_config(parse_int(cmd.words[1], where), MeterConfig(cir, cburst, pir, pburst))

    def _do_meter_array_set_rates(self, cmd: Command, where: str) -> None:
        if len(cmd.words) != 3:
            raise StfSyntaxError(f"{where}: meter_array_set_rates METER CIR:CBURST PIR:PBURST")
        meter = self._named(self.core.meters, cmd.words[0], "meter", where)
        (cir, cburst), (pir, pburst) = (self._rate(w, where) for w in cmd.words[1:3])
        meter.set_all(MeterConfig(cir, cburst, pir, pburst))

    def _do_meter_get_rates(self, cmd: Command, where: str) -> None:
        name, index = words(cmd, where, 2, 2, "METER INDEX")
        meter = self._named(self.core.meters, name, "meter", where)
        self.log.append(f"{meter.name}[{index}]: {meter.config(parse_int(index, where))}")

    @staticmethod
    def _rate(text: str, where: str) -> tuple[int, int]:
        rate, sep, burst = text.partition(":")
        try:
            per_s, size = round(float(rate) * 1_000_000), int(burst, 0)
            if per_s < 0 or size < 0:
                raise ValueError
            return per_s, size
        except (ValueError, OverflowError):
            raise StfSyntaxError(f"{where}: bad meter rate '{text}' (RATE_PER_US:BURST)") from None


def run_stf(core, text: str) -> StfResult:
    """Parse and run an STF text against `core`."""
    return StfRunner(core).run(parse_stf(text))
