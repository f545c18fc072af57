"""`fabriclab demo`: the headline job behind `sudo make demo`.

Until the first experiment lands, the headline job compiles every program in p4src/ with
fabriclab's own toolchain and prints what the control plane will see (tables, actions,
externs), writing each program's P4Info and pipeline artifact under results/demo/.
"""

from __future__ import annotations

import argparse
import pathlib

from fabriclab.errors import FabricError

REPO = pathlib.Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--p4src", type=pathlib.Path, default=REPO / "p4src",
                        help="folder of P4 programs to compile (default: %(default)s)")
    parser.add_argument("-o", "--out", type=pathlib.Path, default=REPO / "results" / "demo",
                        help="where P4Info and artifacts go (default: %(default)s)")


def summarize(p4info) -> list[str]:
    """One line per control-plane object, the way a controller author looks at P4Info."""
    lines = []
    actions = {a.preamble.id: a.preamble.name for a in p4info.actions}
    for t in p4info.tables:
        keys = ", ".join(f"{m.name}:{_match_kind(m)}" for m in t.match_fields)
        acts = ", ".join(actions.get(r.id, str(r.id)) for r in t.action_refs)
        lines.append(f"  table  {t.preamble.name} (id {t.preamble.id}, size {t.size})")
        lines.append(f"         key [{keys}] actions [{acts}]")
    for kind in ("action_profiles", "counters", "direct_counters", "meters", "direct_meters",
                 "registers", "digests"):
        for obj in getattr(p4info, kind):
            lines.append(f"  {kind[:-1]:<15} {obj.preamble.name} (id {obj.preamble.id})")
    return lines


def _match_kind(field) -> str:
    from finsy.proto import p4i

    return p4i.MatchField.MatchType.Name(field.match_type).lower()


def main(args: argparse.Namespace) -> int:
    from fabriclab.p4 import compile_file

    programs = sorted(p for p in args.p4src.glob("*.p4"))
    if not programs:
        raise FabricError(f"no P4 programs in {args.p4src}")
    args.out.mkdir(parents=True, exist_ok=True)
    for path in programs:
        compiled = compile_file(path)
        (args.out / f"{path.stem}.p4info.txtpb").write_text(compiled.p4info_text)
        (args.out / f"{path.stem}.json").write_bytes(compiled.to_artifact())
        print(f"{path.name}: compiled by fabriclab's toolchain")
        print("\n".join(summarize(compiled.p4info)))
    print(f"\nP4Info and pipeline artifacts written to {args.out}")
    return 0
