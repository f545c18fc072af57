"""`fabriclab compile`: output files, p4c-style flags, and clean errors for bad input."""

import json
import pathlib

from google.protobuf import json_format, text_format

from fabriclab.cli import main
from fabriclab.p4 import compile_file, load_artifact

REPO = pathlib.Path(__file__).resolve().parents[3]
BASIC = REPO / "p4src" / "basic.p4"


def test_compile_writes_p4info_and_artifact(tmp_path, capsys):
    assert main(["compile", str(BASIC), "-o", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "basic.p4info.txtpb").read_text()
    assert text.startswith("# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n")
    expected = compile_file(BASIC).p4info
    assert text_format.Parse(text, type(expected)()) == expected
    doc = json.loads((tmp_path / "out" / "basic.json").read_text())
    assert doc["format"] == "fabriclab-pipeline" and doc["version"] == 1 and doc["name"] == "basic"
    assert load_artifact(tmp_path / "out" / "basic.json").p4info == expected
    assert "1 tables, 3 actions" in capsys.readouterr().out


def test_p4runtime_files_formats(tmp_path):
    files = [tmp_path / "p.txt", tmp_path / "p.json", tmp_path / "p.bin"]
    assert main(["compile", str(BASIC), "-o", str(tmp_path), "-q",
                 "--p4runtime-files", ",".join(map(str, files))]) == 0
    expected = compile_file(BASIC).p4info
    info_type = type(expected)
    assert text_format.Parse(files[0].read_text(), info_type()) == expected
    assert json_format.Parse(files[1].read_text(), info_type()) == expected
    assert info_type.FromString(files[2].read_bytes()) == expected


def test_include_dirs_and_defines(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "size.p4").write_text("#define TABLE_SIZE 77\n")
    prog = tmp_path / "prog.p4"
    prog.write_text('#include "size.p4"\n' + BASIC.read_text().replace("size = 1024;", "size = TABLE_SIZE * K;"))
    assert main(["compile", str(prog), "-o", str(tmp_path), "-q", "-I", str(tmp_path / "inc"), "-D", "K=2"]) == 0
    assert "size: 154" in (tmp_path / "prog.p4info.txtpb").read_text()


def test_a_table_never_applied_is_an_info_on_stderr_as_p4c_prints_it(tmp_path, capsys):
    """p4c: gauntlet_exit_combination_21 (applied only in a branch constant folding drops:
    "[--Winfo=removed] info: removing table 'tbl'", and no warning)."""
    prog = tmp_path / "folded.p4"
    prog.write_text(BASIC.read_text().replace(
        "    apply {\n        if (hdr.ipv4.isValid()) {",
        "    table tbl { key = { hdr.ipv4.srcAddr: exact; } actions = { NoAction; } }\n"
        "    apply {\n        hdr.ipv4.ttl = false ? (tbl.apply().hit ? 8w1 : 8w2) : 8w3;\n"
        "        if (hdr.ipv4.isValid()) {"))
    assert main(["compile", str(prog), "-o", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "info: removing table 'tbl'" in err and "warning" not in err
    assert main(["compile", str(BASIC), "-o", str(tmp_path)]) == 0
    assert "info:" not in capsys.readouterr().err


def test_bad_program_exits_nonzero_with_diagnostic(tmp_path, capsys):
    prog = tmp_path / "bad.p4"
    prog.write_text(BASIC.read_text().replace("hdr.ipv4.ttl - 1", "hdr.ipv4.ttl - hdr.ipv4.totalLen"))
    assert main(["compile", str(prog), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{prog}:97:24: error: hdr.ipv4.ttl - hdr.ipv4.totalLen: Cannot operate on values with different " \
           f"widths 8 and 16" in err  # (p4c's words)
    assert "Traceback" not in err
    assert not (tmp_path / "bad.json").exists()


def test_bad_arguments_exit_nonzero(tmp_path, capsys):
    assert main(["compile", str(tmp_path / "missing.p4")]) == 2
    assert main(["compile", str(BASIC), "-o", str(tmp_path), "--p4runtime-files", str(tmp_path / "x.yaml")]) == 2
    assert main(["compile", str(BASIC), "-o", str(tmp_path), "-D", "1bad"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "unknown P4Runtime file kind" in err and "bad -D argument" in err


def test_programs_p4c_cannot_describe_in_p4info_fail_like_p4c(tmp_path, capsys):
    prog = tmp_path / "dup.p4"
    prog.write_text(BASIC.read_text().replace("action drop()", "@id(7) action drop()").replace(
        "action ipv4_forward(", "@id(7) action ipv4_forward("))
    assert main(["compile", str(prog), "-o", str(tmp_path)]) == 2
    assert "@id 16777223 is assigned to multiple declarations" in capsys.readouterr().err
    assert not (tmp_path / "dup.p4info.txtpb").exists()
