"""Measure fabriclab's P4-16 front end and switch against a p4c checkout's public sample corpus.

    python bench/p4c_corpus.py /path/to/p4c [--stf] [--samples] [--errors] [--list]

P4C is a p4c checkout or a bare git clone of one (its HEAD's testdata/ and
backends/bmv2/CMakeLists.txt are extracted to a temporary directory).

P4Info: for every program of p4c's p4test suite (testdata/p4_16_samples/*.p4 and its dash,
fabric_*, omec and pins programs, as backends/p4test/CMakeLists.txt lists them) that includes
v1model.p4 and has a P4Info (testdata/p4_16_samples_outputs/PATH.p4info.txtpb), compile it
with fabriclab and compare the
P4Info text: identical, differ, rejected (CompileError), rejected as p4c-bm2-ss (a rule of
p4c's BMv2 back end, which the samples' P4Info, written by p4test, does not apply; with the
P4Info p4c-bm2-ss writes before its back end runs, identical or not) or crash (any other
exception). Of those with P4Info, the table entries as P4Runtime writes
(PATH.p4.entries.txtpb, p4c's --p4runtime-entries-files): identical or differ.

STF (--stf): the v1model STF tests p4c runs on BMv2, as backends/bmv2/CMakeLists.txt lists
them (BMV2_V1MODEL_TEST_SUITES and the parser-inline suite, minus XFAIL_TESTS): every listed
program with a .stf beside it runs on the built-in switch: pass, fail (wrong packets),
rejected (a clear error from the compiler or the switch), crash (a traceback) or timeout.
Errors (--errors): every testdata/p4_16_errors/*.p4, a program p4c must reject (its
expected stderr, p4_16_errors_outputs/NAME.p4-stderr, holds an error): rejected (as p4c; an
error in the P4Info counts, as p4c's test driver writes P4Runtime files),
and of those how many name a line p4c's errors name and how many say first what p4c says
first; accepted (a difference); crash.
Then testdata/p4_16_bmv_errors/*-bmv2.p4, which p4c's BMv2 test driver requires p4c-bm2-ss
to reject (no expected stderr): accepted or rejected.

Samples (--samples): every program of the p4test suite, all of which p4c's front end (p4test)
accepts: accepted, rejected as p4c-bm2-ss (above), another architecture (it includes an
architecture file fabriclab does not ship: psa.p4, pna.p4, ebpf_model.p4, ...) or rejected.
Of the accepted v1model programs, how many the built-in switch loads (builds a pipeline
for) or refuses with a clear error (listed with --list). Of the accepted ones, the warnings
p4c's stderr files hold against fabriclab's, by kind (`[--Wwarn=kind]`): the same file and
line (and, for unused declarations, the same words).

Measure-only: it reads the checkout and contains none of p4c's code.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile

# backends/p4test/CMakeLists.txt: the positive corpus p4test compiles
P4TEST_SUITES = ("testdata/p4_16_samples/*.p4", "testdata/p4_16_samples/dash/*.p4",
                 "testdata/p4_16_samples/fabric_*/fabric.p4", "testdata/p4_16_samples/omec/*.p4",
                 "testdata/p4_16_samples/pins/*.p4")
# backends/bmv2/CMakeLists.txt: the v1model suites (the *-bmv2.p4 ones only if they include
# v1model.p4) and the parser-inline suite; p4_14 samples are not P4-16.
V1MODEL_SUITES = ("testdata/p4_16_samples/*-bmv2.p4", "testdata/p4_16_bmv_errors/*-bmv2.p4",
                  "testdata/p4_16_samples/dash/*-bmv2.p4", "testdata/p4_16_samples/fabric_*/fabric.p4",
                  "testdata/p4_16_samples/omec/*.p4", "testdata/p4_16_samples/pins/*.p4",
                  "testdata/p4_16_samples/parser-inline/*.p4")
EXTRACTED = ("testdata/p4_16_samples", "testdata/p4_16_samples_outputs",
             "testdata/p4_16_bmv_errors", "testdata/p4_16_errors", "testdata/p4_16_errors_outputs",
             "backends/bmv2/CMakeLists.txt")


def _timeout(*_a):
    raise TimeoutError()


@contextlib.contextmanager
def checkout(path: pathlib.Path):
    """`path` itself, or a temporary extract of a bare clone's HEAD."""
    if (path / "testdata").is_dir() or not (path / "objects").is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="p4c-corpus-") as tmp:
        archive = subprocess.run(["git", f"--git-dir={path}", "archive", "HEAD", *EXTRACTED],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield pathlib.Path(tmp)


def p4test_programs(root: pathlib.Path) -> list[pathlib.Path]:
    """The programs of p4c's p4test suite (P4TEST_SUITES)."""
    return sorted({p for pattern in P4TEST_SUITES for p in root.glob(pattern) if p.is_file()})


def output(root: pathlib.Path, prog: pathlib.Path, suffix: str) -> pathlib.Path:
    """A sample's expected output (p4_16_samples_outputs mirrors p4_16_samples' folders)."""
    rel = prog.relative_to(root / "testdata" / "p4_16_samples")
    return root / "testdata" / "p4_16_samples_outputs" / rel.parent / (rel.name + suffix)


def samples(root: pathlib.Path):
    """(program, expected P4Info path) for every v1model sample with an expected P4Info."""
    for p in p4test_programs(root):
        exp = output(root, p, ".p4info.txtpb")
        if not exp.exists():
            exp = exp.with_name(p.stem + ".p4info.txtpb")
        if exp.exists() and "v1model.p4" in p.read_text(errors="replace"):
            yield p, exp


def bmv2_stf_tests(root: pathlib.Path) -> list[pathlib.Path]:
    """The v1model programs with an STF test that p4c's BMv2 test list runs (not XFAIL)."""
    cmake = root / "backends" / "bmv2" / "CMakeLists.txt"
    xfail: set[str] = set()
    if cmake.exists():
        block = re.search(r"set \(XFAIL_TESTS(.*?)\n\)", cmake.read_text(), re.S)
        xfail = set(re.findall(r"^\s*(testdata/\S+\.p4)", block.group(1), re.M)) if block else set()
    found: list[pathlib.Path] = []
    for pattern in V1MODEL_SUITES:
        for p in sorted(root.glob(pattern)):
            rel = p.relative_to(root).as_posix()
            if rel in xfail or not p.with_suffix(".stf").exists():
                continue
            if not re.search(r"include.*v1model\.p4", p.read_text(errors="replace")):
                continue
            found.append(p)
    return found


# a rejection by a rule of p4c's BMv2 back end (p4c-bm2-ss), which p4test, whose P4Info the
# samples hold, does not apply: the program is not one simple_switch can run
REJECTED_BY_TARGET = "rejected as p4c-bm2-ss"


def compile_one(prog: pathlib.Path):
    """(compiled program or None, outcome) with a 60 s limit; a rejection's outcome carries
    its first message and the lines of `prog` its diagnostics name."""
    from fabriclab.p4 import CompileError, TargetError, compile_file
    signal.alarm(60)
    try:
        return compile_file(prog, include_dirs=(str(prog.parent),)), None
    except CompileError as e:
        lines = [d.pos.line for d in e.diagnostics
                 if d.pos and pathlib.Path(d.pos.file).name == prog.name]
        kind = REJECTED_BY_TARGET if isinstance(e, TargetError) else "rejected"
        return None, (kind, str(e).splitlines()[0][:160], lines, e.diagnostics[0].message.splitlines()[0],
                      e.p4runtime)
    except TimeoutError:
        return None, ("timeout", "")
    except Exception as e:  # noqa: BLE001 - a crash is a finding to count
        return None, ("crash " + type(e).__name__, f"{e!r:.160}")
    finally:
        signal.alarm(0)


def measure_p4info(root: pathlib.Path, listing: bool, compiled: dict,
                   entries: collections.Counter) -> collections.Counter:
    """P4Info outcomes; `entries` counts the table-entries files (--p4runtime-entries-files,
    PATH.p4.entries.txtpb beside the P4Info) of the programs whose P4Info is written."""
    from fabriclab.p4.compiler import p4runtime_bytes
    res: collections.Counter = collections.Counter()
    for prog, exp in samples(root):
        program, failure = compile_one(prog)
        compiled[prog] = (program, failure)
        left = failure[4] if failure is not None and len(failure) > 4 else None
        if failure is not None and left is None:
            kind = failure[0]
            if listing:
                print(f"{kind} {prog.name}: {failure[1]}", flush=True)
        else:
            if left is not None:  # the P4Info p4c-bm2-ss writes before its back end rejects
                info, writes = left
                text = p4runtime_bytes(info, "text").decode()
            else:
                writes = program.p4runtime_entries
                text = None if program.p4info_errors else program.p4info_text
            kind = ("p4info error" if text is None else
                    "identical" if text.strip() == exp.read_text().strip() else "differ")
            if listing and kind != "identical":
                print(f"{kind} {prog.name}", flush=True)
            if left is not None:
                kind = f"{failure[0]} (P4Info {kind})"
            expected = exp.with_name(exp.name.replace(".p4info.txtpb", ".entries.txtpb"))
            if text is not None and expected.exists():
                mine = p4runtime_bytes(writes, "text").decode()
                same = mine.strip() == expected.read_text().strip()
                entries["identical" if same else "differ"] += 1
                if listing and not same:
                    print(f"entries differ {prog.name}", flush=True)
        res[kind] += 1
    return res


def measure_stf(root: pathlib.Path, listing: bool, compiled: dict) -> collections.Counter:
    res: collections.Counter = collections.Counter()
    for prog in bmv2_stf_tests(root):
        program, failure = compiled.get(prog) or compile_one(prog)
        outcome = "rejected" if failure is not None else run_one_stf(program, prog.with_suffix(".stf"))
        res[outcome] += 1
        if listing and outcome != "pass":
            print(f"stf {outcome} {prog.relative_to(root / 'testdata')}", flush=True)
    return res


_FIRST_ERROR = re.compile(r"^(?:\S+\(\d+\):\s?)?(?:\[--Werror=[^\]]+\] )?error: (.*)$|^\S+\(\d+\):(syntax error.*)$", re.M)


def first_error(stderr: str) -> str:
    """The message of p4c's first error in `stderr` (its syntax errors have no `error:`)."""
    m = _FIRST_ERROR.search(stderr)
    return (m[1] or m[2]).strip() if m else ""


def error_lines(name: str, stderr: str) -> set[int]:
    """The lines of `name` p4c's errors name in `stderr` (not its warnings' lines)."""
    lines: set[int] = set()
    in_warning = False
    for text in stderr.splitlines():
        if "[--Wwarn=" in text or "[--Winfo=" in text:
            in_warning = True
        elif "[--Werror=" in text or "error" in text:
            in_warning = False
        m = re.match(re.escape(name) + r"\((\d+)\)", text)
        if m and not in_warning:
            lines.add(int(m[1]))
    return lines


def measure_errors(root: pathlib.Path, listing: bool, words: collections.Counter) -> collections.Counter:
    """p4c's negative corpus: each program must be rejected; a rejection also counts as on
    p4c's line when our first diagnostic in the program names a line p4c's stderr names (or
    as "p4c names no line" when p4c's errors name none of the program's lines)."""
    res: collections.Counter = collections.Counter()
    out = root / "testdata" / "p4_16_errors_outputs"
    for prog in sorted(p for p in (root / "testdata" / "p4_16_errors").glob("*.p4") if p.is_file()):
        stderr = out / (prog.name + "-stderr")
        expected = stderr.read_text(errors="replace") if stderr.exists() else ""
        p4c_lines = error_lines(prog.name, expected)
        program, failure = compile_one(prog)
        if failure is None and program.p4info_errors:
            # p4c's error tests also write P4Runtime files, so its P4Info errors reject too.
            failure = ("rejected", program.p4info_errors[0].message[:160],
                       [d.pos.line for d in program.p4info_errors
                        if d.pos and pathlib.Path(d.pos.file).name == prog.name],
                       program.p4info_errors[0].message.splitlines()[0])
        if failure is None:
            kind = "accepted"
            first = next((l for l in expected.splitlines() if "error" in l), "")
            detail = f"p4c: {first.strip()[:140]}"
        elif failure[0].startswith("rejected"):
            ours = failure[2]
            kind = ("rejected, p4c names no line" if not p4c_lines else
                    "rejected, p4c's line" if ours and ours[0] in p4c_lines else "rejected")
            detail = failure[1]
            words[failure[3] == first_error(expected)] += 1
            if listing and failure[3] != first_error(expected):
                print(f"errors words {prog.name}: p4c: {first_error(expected)[:100]} | ours: {failure[3][:100]}",
                      flush=True)
        else:
            kind, detail = failure[0], failure[1]
        res[kind] += 1
        if listing and not kind.startswith("rejected, p4c"):
            print(f"errors {kind} {prog.name}: {detail}", flush=True)
    return res


def measure_bmv_errors(root: pathlib.Path, listing: bool) -> collections.Counter:
    """p4c's BMv2 negative corpus (testdata/p4_16_bmv_errors/*-bmv2.p4): p4c's BMv2 test driver
    requires p4c-bm2-ss to reject each (no expected stderr: only rejected or not)."""
    res: collections.Counter = collections.Counter()
    for prog in sorted(p for p in (root / "testdata" / "p4_16_bmv_errors").glob("*-bmv2.p4") if p.is_file()):
        program, failure = compile_one(prog)
        if failure is None and program.p4info_errors:
            failure = ("rejected", program.p4info_errors[0].message[:160], [])
        kind = "accepted" if failure is None else "rejected" if failure[0].startswith("rejected") else failure[0]
        res[kind] += 1
        if listing and kind != "rejected":
            print(f"bmv errors {kind} {prog.name}" + (f": {failure[1]}" if failure else ""), flush=True)
    return res


# p4c's warnings in its stderr files: `[file(line): ][--Wwarn=kind] warning: message`
WARNING = re.compile(r"^(?:(\S+)\((\d+)\): )?\[--Wwarn=([a-z-]+)\] warning: (.*)$", re.M)


def compare_warnings(program, stderr: str, counts: collections.Counter) -> list[str]:
    """Count p4c's warnings (by kind) that fabriclab gives too: on the same line, or, for one
    without a line, with its words; unused-declaration ones must have p4c's words as well.
    Returns what differs, for --list."""
    from fabriclab.p4.diagnostics import diagnostic_name

    ours = [(pathlib.Path(w.pos.file).name if w.pos else None, w.pos.line if w.pos else None,
             w.message.splitlines()[0]) for w in program.warnings]
    named = {key: diagnostic_name(w) for key, w in zip(ours, program.warnings)}  # what --W<action>=NAME selects
    lines = {(f, line) for f, line, _ in ours}
    exact = set(ours)
    seen: set[tuple] = set()
    differ = []
    for m in WARNING.finditer(stderr):
        where, kind, message = ((m[1], int(m[2])) if m[2] else None), m[3], m[4]
        if kind == "unused":
            same = (*where, message) in {(f, line, msg) for f, line, msg in ours}
        elif where is not None:
            same = where in lines
        else:
            same = any(message in msg for _, _, msg in ours)
        counts[(kind, same)] += 1
        if same and (where is None or (*where, message) in exact):
            counts[(kind, "words")] += 1
            if where is not None and named.get((*where, message)) != kind:
                differ.append(f"named {kind} {where}: ours {named.get((*where, message))}: {message[:60]}")
            else:
                counts[(kind, "named")] += 1
        elif same and where is not None and kind != "unused":
            differ.append(f"words {kind} {where}: {message[:80]}")
        seen.add(where)
        if not same:
            differ.append(f"missing {kind} {where}: {message[:80]}")
    for f, line, msg in ours:
        if line is not None and (f, line) not in seen:
            counts[("extra", True)] += 1
            differ.append(f"extra {f}:{line}: {msg[:80]}")
    # the same words on the same line, given another number of times (p4c warns once per
    # expression: `f(h.a, h.a)` of an invalid header h twice)
    theirs = collections.Counter((m[1], int(m[2]), m[4]) for m in WARNING.finditer(stderr) if m[2])
    mine = collections.Counter(w for w in ours if w[1] is not None)
    for key in theirs.keys() & mine.keys():
        if theirs[key] != mine[key]:
            counts[("times", True)] += 1
            differ.append(f"times {key[0]}:{key[1]}: p4c {theirs[key]}, fabriclab {mine[key]}: {key[2][:60]}")
    return differ


def measure_samples(root: pathlib.Path, listing: bool, compiled: dict) -> tuple[collections.Counter, collections.Counter]:
    """p4c's positive corpus, every program p4test accepts (any architecture); and, of the
    accepted ones, p4c's warnings (p4_16_samples_outputs/NAME-stderr) against fabriclab's."""
    res: collections.Counter = collections.Counter()
    warn: collections.Counter = collections.Counter()
    for prog in p4test_programs(root):
        program, failure = compiled.get(prog) or compile_one(prog)
        kind = "accepted" if failure is None else failure[0]
        if kind == "rejected" and re.search(r"error: [\w/]+\.p4: No such file", failure[1]):
            kind = "another architecture"
        res[kind] += 1
        if listing and kind not in ("accepted", "another architecture"):
            print(f"samples {kind} {prog.name}: {failure[1]}", flush=True)
        if program is not None and re.search(r"include.*v1model\.p4", program.source):
            loads = load_one(program)
            res[f"switch {loads}"] += 1
            if listing and loads != "loads":
                print(f"samples switch {loads} {prog.name}", flush=True)
        stderr = output(root, prog, "-stderr")
        if program is not None and stderr.is_file():
            for line in compare_warnings(program, stderr.read_text(), warn):
                if listing:
                    print(f"warnings {prog.name}: {line}", flush=True)
    return res, warn


def print_warnings(warn: collections.Counter) -> None:
    """One line per kind of p4c warning: how many p4c gives and how many fabriclab gives too
    (on p4c's line; how many of those also in p4c's words)."""
    kinds = sorted({k for k, _ in warn} - {"extra", "times"}, key=lambda k: -(warn[(k, True)] + warn[(k, False)]))
    total = sum(warn[(k, s)] for k in kinds for s in (True, False))
    same = sum(warn[(k, True)] for k in kinds)
    words = sum(warn[(k, "words")] for k in kinds)
    named = sum(warn[(k, "named")] for k in kinds)
    print(f"p4c's warnings on the accepted samples: {total}; fabriclab gives {same} of them "
          f"(on the same line; unused declarations also in p4c's words), {words} in p4c's words "
          f"({named} of those under p4c's name, what --Wdisable=NAME etc. select), "
          f"and {warn[('extra', True)]} on lines where p4c gives none; "
          f"{warn[('times', True)]} of its lines have a warning of p4c's another number of times")
    for k in kinds:
        print(f"  {k:30} p4c {warn[(k, True)] + warn[(k, False)]:4}  fabriclab {warn[(k, True)]:4}"
              f"  in p4c's words {warn[(k, 'words')]:4}")


def load_one(compiled) -> str:
    """Whether the built-in switch builds a pipeline for a program: loads, or refuses
    (a clear error, with it), crash or timeout."""
    from fabriclab.errors import FabricError
    from fabriclab.switch.core import SwitchCore
    signal.alarm(60)
    try:
        SwitchCore(compiled)
        return "loads"
    except TimeoutError:
        return "timeout"
    except FabricError as e:
        return f"refuses: {str(e).splitlines()[0][:140]}"
    except Exception as e:  # noqa: BLE001 - a traceback in the switch is a finding to count
        return f"crash {type(e).__name__}: {e!r:.120}"
    finally:
        signal.alarm(0)


def run_one_stf(compiled, path: pathlib.Path) -> str:
    from fabriclab.errors import FabricError
    from fabriclab.switch.core import SwitchCore
    from fabriclab.switch.stf import run_stf
    signal.alarm(120)
    try:
        return "pass" if run_stf(SwitchCore(compiled), path.read_text()).ok else "fail"
    except TimeoutError:
        return "timeout"
    except FabricError:  # the switch refuses the program with a clear error
        return "rejected"
    except Exception:  # noqa: BLE001 - a traceback in the switch is a finding to count
        return "crash"
    finally:
        signal.alarm(0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("p4c", type=pathlib.Path, help="a p4c checkout (with testdata/) or a bare clone")
    ap.add_argument("--stf", action="store_true", help="also run p4c's BMv2 v1model STF tests on the switch")
    ap.add_argument("--errors", action="store_true",
                    help="also compile p4c's negative corpora (testdata/p4_16_errors, "
                         "p4_16_bmv_errors): each must be rejected")
    ap.add_argument("--samples", action="store_true",
                    help="also compile every program of p4c's positive corpus (testdata/p4_16_samples)")
    ap.add_argument("--list", action="store_true", help="print each program that is not identical/passing")
    args = ap.parse_args(argv)
    os.environ.setdefault("FABRICLAB_CACHE", "0")
    signal.signal(signal.SIGALRM, _timeout)
    with checkout(args.p4c) as root:
        if not (root / "testdata" / "p4_16_samples").is_dir():
            print(f"error: {args.p4c} has no testdata/p4_16_samples", file=sys.stderr)
            return 2
        compiled: dict = {}
        entries: collections.Counter = collections.Counter()
        res = measure_p4info(root, args.list, compiled, entries)
        total = sum(res.values())
        line = ", ".join(f"{k} {v}" for k, v in sorted(res.items()))
        same = sum(v for k, v in res.items() if k == "identical" or k.endswith("(P4Info identical)"))
        print(f"P4Info of {total} v1model samples: {line} "
              f"({100 * same / max(total, 1):.1f}% of the P4Info written identical)")
        print(f"table entries as P4Runtime writes (--p4runtime-entries-files) of those "
              f"{sum(entries.values())}: identical {entries['identical']}, differ {entries['differ']}")
        if args.stf:
            stf = measure_stf(root, args.list, compiled)
            n = sum(stf.values())
            print(f"STF of {n} v1model tests in p4c's BMv2 list: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(stf.items()))
                  + f" ({100 * stf['pass'] / max(n, 1):.1f}% pass)")
        if args.samples:
            smp, warn = measure_samples(root, args.list, compiled)
            switch: collections.Counter = collections.Counter()
            for k, v in smp.items():
                if k.startswith("switch "):
                    switch[k.split(":")[0]] += v
            kinds = {k: v for k, v in smp.items() if not k.startswith("switch ")}
            print(f"p4c's positive corpus (p4test's suite), {sum(kinds.values())} programs: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
            print(f"  of the accepted v1model programs, {sum(switch.values())}, the built-in switch: "
                  + ", ".join(f"{k.removeprefix('switch ')} {v}" for k, v in sorted(switch.items())))
            print_warnings(warn)
        if args.errors:
            words: collections.Counter = collections.Counter()
            err = measure_errors(root, args.list, words)
            n = sum(err.values())
            rejected = sum(v for k, v in err.items() if k.startswith("rejected"))
            print(f"p4c's negative corpus, {n} programs: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(err.items()))
                  + f" ({100 * rejected / max(n, 1):.1f}% rejected as p4c does); "
                  + f"the first error in p4c's words: {words[True]}")
            bmv = measure_bmv_errors(root, args.list)
            print(f"p4c's BMv2 negative corpus (p4_16_bmv_errors), {sum(bmv.values())} programs: "
                  + ", ".join(f"{k} {bmv[k]}" for k in ("accepted", "rejected"))
                  + "".join(f", {k} {v}" for k, v in sorted(bmv.items()) if k not in ("accepted", "rejected")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
