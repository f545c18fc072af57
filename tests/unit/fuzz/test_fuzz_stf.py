"""Fuzz the STF runner, and the issue-25 regressions of `fabriclab stf`'s exit codes.

Mutated corpus files (tests/stf) go through decode_stf -> parse_stf -> StfRunner.run, the
path `fabriclab stf` takes: a file may pass, fail (a mismatch) or be refused with a
FabricError; any other exception is a failure naming the mutant. The CLI tests check the
contract: 0 pass, 1 a packet mismatch or failed check, 2 bad input, rejected program or a
broken run, always one line on stderr.
"""

from __future__ import annotations

import pathlib
import random

import pytest
from fuzzing import scaled

from fabriclab.cli import main
from fabriclab.errors import FabricError
from fabriclab.p4 import compile_file
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import StfRunner, decode_stf, parse_stf

STF_DIR = pathlib.Path(__file__).resolve().parents[2] / "stf"
INC = ["-I", str(STF_DIR / "include")]
LPM = STF_DIR / "table_lpm.p4"
CORPUS = ["table_lpm", "table_ternary_priority", "extern_counter", "extern_meter", "extern_register",
          "action_selector", "arch_multicast", "arch_clone_i2e", "parser_value_set", "table_range"]
KEYWORDS = ["packet", "expect", "add", "setdefault", "remove", "wait", "mirroring_add", "mirroring_add_mc",
            "mc_mgrp_create", "mc_node_create", "mc_node_associate", "register_read", "register_write",
            "register_reset", "counter_read", "counter_write", "check_counter", "meter_set_rates",
            "meter_array_set_rates", "meter_get_rates", "member", "group", "pvs_add", "pvs_clear",
            "mirroring_delete", "mirroring_get", "no_packet"]
NUMBERS = ["-1", "0", "511", "512", "4294967296", "99999999999999999999", "0x", "1e5", "/-1", "/999",
           "0x**", "&&&", "..", "$", "*", "()", "(", "=", "==", "!=", ":", "\xff", "nan", "inf"]


def _mutant(rng: random.Random, lines: list[str]) -> str:
    lines = list(lines)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines) + 1)
        kind = rng.choice(("bare", "word", "number", "drop", "truncate", "dup"))
        if kind == "bare":
            lines.insert(i, rng.choice(KEYWORDS))
        elif not lines:
            continue
        else:
            i = min(i, len(lines) - 1)
            words = lines[i].split()
            if kind == "word" and words:
                words[rng.randrange(len(words))] = rng.choice(KEYWORDS + NUMBERS)
            elif kind == "number" and words:
                j = rng.randrange(len(words))
                words[j] = words[j] + rng.choice(NUMBERS)
            elif kind == "drop" and words:
                del words[rng.randrange(len(words))]
            elif kind == "truncate":
                words = words[:rng.randrange(len(words) + 1)]
            else:
                words = words + words
            lines[i] = " ".join(words)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def programs():
    return {name: compile_file(STF_DIR / f"{name}.p4", include_dirs=(STF_DIR / "include",)) for name in CORPUS}


@pytest.mark.parametrize("name", CORPUS)
def test_mutated_stf_files(name, programs, tally):
    rng = random.Random(f"stf-{name}")
    lines = (STF_DIR / f"{name}.stf").read_text().splitlines()
    for _ in range(scaled(25)):
        text = _mutant(rng, lines)
        data = text.encode("utf-8", "surrogateescape").replace("\xff".encode(), b"\xff")
        try:
            result = StfRunner(SwitchCore(programs[name])).run(parse_stf(decode_stf(data, "fuzz.stf")))
        except FabricError as err:
            assert "\n" not in str(err).strip(), str(err)
            tally["refused"] += 1
            continue
        except Exception as err:  # noqa: BLE001 - name the input
            pytest.fail(f"{name}: {type(err).__name__}: {err}\n--- mutant ---\n{text}")
        tally["passed" if result.ok else "failed"] += 1


# ---------------------------------------------------------------- issue 25 regressions


def _stf(tmp_path, capsys, data: bytes, program=LPM):
    stf = tmp_path / "t.stf"
    stf.write_bytes(data)
    code = main(["stf", *INC, str(program), str(stf)])
    return code, capsys.readouterr().err


BROKEN = {
    "byte 0xff": b"packet 0 0a000105\n\xff\n",
    "bare meter_get_rates": b"meter_get_rates\n",
    "bare register_reset": b"register_reset\n",
    "bare pvs_clear": b"pvs_clear\n",
    "bare counter_write": b"counter_write\n",
    "bare counter_read": b"counter_read\n",
    "bare mc_node_create": b"mc_node_create\n",
    "lpm /-1": b"add t f1:0x0a000105/-1 fwd(port:1, tag:8)\n",
    "packet -1": b"packet -1 0a000105 00000000 0000 00 00\n",
    "huge port": b"packet 99999999999999999999 0a000105 00000000 0000 00 00\n",
    "unknown table": b"add nosuch f1:1 fwd(port:1, tag:8)\n",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_commands_exit_2_with_one_line(tmp_path, capsys, case):
    code, err = _stf(tmp_path, capsys, BROKEN[case])
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_rejected_program_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.p4"
    bad.write_text("control X( { }\n")
    code, err = _stf(tmp_path, capsys, b"packet 0 00\n", program=bad)
    assert code == 2 and "bad.p4:1" in err


def test_only_a_mismatch_or_failed_check_exits_1(tmp_path, capsys):
    code, err = _stf(tmp_path, capsys, b"add t f1:0x0a****** fwd(port:1, tag:8)\n"
                                       b"packet 0 0a000105 00000000 0000 00 00\n"
                                       b"expect 1 0a000105 00000000 0000 09 00\n")
    assert code == 1 and "byte 10 differs" in err
    counter_prog = STF_DIR / "extern_counter.p4"
    code, err = _stf(tmp_path, capsys, b"check_counter nosuch(0) == 1\n", program=counter_prog)
    assert code == 2  # a counter that does not exist is bad input
    names = compile_file(counter_prog, include_dirs=(STF_DIR / "include",)).p4info.counters
    code, err = _stf(tmp_path, capsys, f"check_counter {names[0].preamble.name}(0) == 12345\n".encode(),
                     program=counter_prog)
    assert code == 1 and "expected == 12345" in err


HUGE = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers { h_t eth; }
struct meta_t { bit<2> color; }
parser P(packet_in pkt, out headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control VC(inout headers hdr, inout meta_t m) { apply { } }
control I(inout headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    counter(32w4294967295, CounterType.packets) big_counter;
    meter(32w4294967295, MeterType.packets) big_meter;
    register<bit<8>>(32w2147483647) big_register;
    apply {
        big_counter.count(4294967294);
        big_meter.execute_meter(4294967294, m.color);
        big_register.write(2147483646, 9);
        sm.egress_spec = 1;
    }
}
control E(inout headers hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout headers hdr, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""


def test_arrays_of_2_32_cells_run_without_allocating(tmp_path, capsys):
    """Issue 25: `fabriclab stf` grew to 2.9 GB on counter(32w4294967295, ...)."""
    prog = tmp_path / "huge.p4"
    prog.write_text(HUGE)
    code, err = _stf(tmp_path, capsys, b"meter_array_set_rates big_meter 0.000001:1 0.000001:1\n"
                                       b"packet 0 000000000001 000000000002 0800\n"
                                       b"expect 1 000000000001 000000000002 0800\n"
                                       b"check_counter big_counter(4294967294) == 1\n"
                                       b"register_read big_register 2147483646 == 9\n"
                                       b"counter_read big_counter 4294967295\n", program=prog)
    assert code == 2 and "out of range" in err  # the last line reads past the end: bad input
    code, err = _stf(tmp_path, capsys, b"packet 0 000000000001 000000000002 0800\n"
                                       b"expect 1 000000000001 000000000002 0800\n"
                                       b"check_counter big_counter(4294967294) == 1\n", program=prog)
    assert code == 0, err
