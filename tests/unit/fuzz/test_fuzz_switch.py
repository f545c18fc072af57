"""Fuzz the switch core: random and mutated frames through fabric.p4 and the STF corpus.

Each corpus program is set up with its own STF file's control-plane commands, then gets
mutated copies of that file's packets (bit flips, truncation, extension, splices) and
random bytes on random ports. `SwitchCore.process` must never raise, and every output goes
to a real port (0..510) as bytes.
"""

from __future__ import annotations

import pathlib
import random

import pytest
from fuzzing import scaled

from fabriclab.p4 import compile_file
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import StfRunner, parse_stf

REPO = pathlib.Path(__file__).resolve().parents[3]
STF_DIR = REPO / "tests" / "stf"
_ALL = sorted(p.stem for p in STF_DIR.glob("*.stf")
              if not (STF_DIR / f"{p.stem}.p4").read_text().startswith("// skip:"))
CORPUS = sorted(random.Random("corpus").sample(_ALL, min(len(_ALL), scaled(10))))
CONTROL = {"add", "setdefault", "member", "group", "mirroring_add", "mirroring_add_mc", "mc_mgrp_create",
           "mc_node_create", "mc_node_associate", "register_write", "meter_set_rates", "meter_array_set_rates",
           "pvs_add", "counter_write"}


def _mutate(rng: random.Random, frame: bytes, pool: list[bytes]) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(("flip", "truncate", "extend", "splice", "byte"))
        if kind == "flip" and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif kind == "byte" and data:
            data[rng.randrange(len(data))] = rng.choice((0, 0xFF, 0x80, rng.randrange(256)))
        elif kind == "truncate":
            del data[rng.randrange(len(data) + 1):]
        elif kind == "extend":
            data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        else:
            other = rng.choice(pool)
            cut = rng.randrange(len(data) + 1)
            data = data[:cut] + other[rng.randrange(len(other) + 1):]
    return bytes(data)


def _pound(core: SwitchCore, rng: random.Random, pool: list[bytes], count: int, tally, ports: int) -> None:
    now = 1
    for i in range(count):
        frame = _mutate(rng, rng.choice(pool), pool) if pool and i % 4 else \
            bytes(rng.randrange(256) for _ in range(rng.randint(0, 120)))
        port = rng.randrange(ports)
        now += rng.randint(1, 2_000_000)
        try:
            outputs = core.process(port, frame, now)
        except Exception as err:  # noqa: BLE001 - name the frame
            pytest.fail(f"port {port} frame {frame.hex()}: {type(err).__name__}: {err}")
        for out_port, out in outputs:
            assert 0 <= out_port <= 510 and isinstance(out, bytes)
            tally["frames out"] += 1
        tally["frames in"] += 1


@pytest.mark.parametrize("name", CORPUS)
def test_stf_corpus_programs(name, tally):
    rng = random.Random(f"switch-{name}")
    program = compile_file(STF_DIR / f"{name}.p4", include_dirs=(STF_DIR / "include",))
    core = SwitchCore(program)
    commands = parse_stf((STF_DIR / f"{name}.stf").read_text())
    StfRunner(core).run([c for c in commands if c.keyword in CONTROL])
    pool = [bytes.fromhex("".join(c.words[1:])) for c in commands if c.keyword == "packet"]
    _pound(core, rng, pool, scaled(300), tally, 16)


def test_project_fabric(tally):
    path = REPO / "p4src" / "fabric.p4"
    core = SwitchCore(compile_file(path))
    rng = random.Random("switch-fabric")
    eth_ipv4 = bytes.fromhex("000000000001000000000002" "0800" "45000054000040004011" "0000"
                             "0a000101" "0a000202") + bytes(40)
    roce = eth_ipv4[:23] + b"\x11" + eth_ipv4[24:34] + bytes.fromhex("c0001b12003c0000") + bytes(12 + 32)
    _pound(core, rng, [eth_ipv4, roce, bytes(14), bytes.fromhex("ffffffffffff0000000000020806") + bytes(28)],
           scaled(1500), tally, 32)
