"""Measure fabriclab's P4-16 front end against a p4c checkout's public sample corpus.

    python bench/p4c_corpus.py /path/to/p4c [--stf] [--list]

For every testdata/p4_16_samples/*.p4 that includes v1model.p4 and has a P4Info
(testdata/p4_16_samples_outputs/NAME.p4info.txtpb), compile it with fabriclab and compare the
P4Info text: identical, differ, rejected (CompileError) or crash (any other exception).
With --stf, also run every NAME.stf beside a sample on the built-in switch and count passes.
Measure-only: it reads the checkout and contains none of p4c's code.
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import signal
import sys


def _timeout(*_a):
    raise TimeoutError()


def samples(root: pathlib.Path):
    """(program, expected P4Info path) for every v1model sample with an expected P4Info."""
    src = root / "testdata" / "p4_16_samples"
    out = root / "testdata" / "p4_16_samples_outputs"
    for p in sorted(src.glob("*.p4")):
        exp = out / (p.name + ".p4info.txtpb")
        if not exp.exists():
            exp = out / (p.stem + ".p4info.txtpb")
        if p.is_file() and exp.exists() and "v1model.p4" in p.read_text(errors="replace"):
            yield p, exp


def measure(root: pathlib.Path, stf: bool, listing: bool) -> collections.Counter:
    from fabriclab.p4 import CompileError, compile_file
    res: collections.Counter = collections.Counter()
    signal.signal(signal.SIGALRM, _timeout)
    for prog, exp in samples(root):
        signal.alarm(60)
        try:
            compiled = compile_file(prog, include_dirs=(str(prog.parent),))
            text = None if compiled.p4info_errors else compiled.p4info_text
            kind = ("p4info error" if text is None else
                    "identical" if text.strip() == exp.read_text().strip() else "differ")
        except CompileError as e:
            compiled, kind = None, "rejected"
            if listing:
                print(f"rejected {prog.name}: {str(e).splitlines()[0][:160]}")
        except TimeoutError:
            compiled, kind = None, "timeout"
        except Exception as e:  # noqa: BLE001 - a crash is a finding to count
            compiled, kind = None, "crash " + type(e).__name__
            if listing:
                print(f"crash {prog.name}: {e!r:.160}")
        finally:
            signal.alarm(0)
        res[kind] += 1
        if listing and kind == "differ":
            print(f"differ {prog.name}", flush=True)
        if stf and compiled is not None and prog.with_suffix(".stf").exists():
            outcome = run_one_stf(compiled, prog.with_suffix(".stf"))
            res["stf " + outcome] += 1
            if listing and outcome != "pass":
                print(f"stf {outcome} {prog.name}", flush=True)
        elif stf and prog.with_suffix(".stf").exists():
            res["stf rejected"] += 1
    return res


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
    ap.add_argument("p4c", type=pathlib.Path, help="path to a p4c checkout (with testdata/)")
    ap.add_argument("--stf", action="store_true", help="also run the STF tests on the switch")
    ap.add_argument("--list", action="store_true", help="print each rejected/differing program")
    args = ap.parse_args(argv)
    if not (args.p4c / "testdata" / "p4_16_samples").is_dir():
        print(f"error: {args.p4c} has no testdata/p4_16_samples", file=sys.stderr)
        return 2
    os.environ.setdefault("FABRICLAB_CACHE", "0")
    res = measure(args.p4c, args.stf, args.list)
    total = sum(v for k, v in res.items() if not k.startswith("stf "))
    print(f"P4Info of {total} v1model samples: " + ", ".join(
        f"{k} {v}" for k, v in sorted(res.items()) if not k.startswith("stf ")))
    if args.stf:
        print("STF: " + ", ".join(f"{k[4:]} {v}" for k, v in sorted(res.items()) if k.startswith("stf ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
