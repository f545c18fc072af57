"""`fabriclab stf`: exit codes and the first-mismatch report."""

import pathlib

from fabriclab.cli import main

STF_DIR = pathlib.Path(__file__).resolve().parents[2] / "stf"
PROG = str(STF_DIR / "table_lpm.p4")
INC = ["-I", str(STF_DIR / "include")]


def run(tmp_path, stf_text, capsys, prog=PROG):
    stf = tmp_path / "t.stf"
    stf.write_text(stf_text)
    code = main(["stf", *INC, prog, str(stf)])
    return code, capsys.readouterr()


def test_passing_file_exits_0(capsys):
    code = main(["stf", *INC, PROG, str(STF_DIR / "table_lpm.stf")])
    assert code == 0
    assert "PASS" in capsys.readouterr().out


def test_mismatch_reports_port_bytes_and_exits_1(tmp_path, capsys):
    code, out = run(tmp_path, "add t f1:0x0a****** fwd(port:1, tag:8)\n"
                              "packet 0 0a000105 00000000 0000 00 00\n"
                              "expect 1 0a000105 00000000 0000 09 00\n", capsys)
    assert code == 1
    assert "line 3: packet 0 on port 1: byte 10 differs: expected 09, got 08" in out.err
    assert "expected 0A 00 01 05" in out.err and "got      0A 00 01 05" in out.err


def test_unexpected_packet_fails(tmp_path, capsys):
    code, out = run(tmp_path, "add t f1:0x0a****** fwd(port:1, tag:8)\n"
                              "packet 0 0a000105 00000000 0000 00 00\n", capsys)
    assert code == 1
    assert "line 2: unexpected packet 0 on port 1" in out.err


def test_bad_table_name_is_an_error_not_a_traceback(tmp_path, capsys):
    code, out = run(tmp_path, "add nosuch f1:1 fwd(port:1, tag:8)\n", capsys)
    assert code == 2  # bad input, not a packet mismatch (issue 25)
    assert "line 1: no table named 'nosuch'" in out.err


def test_syntax_error_and_missing_files(tmp_path, capsys):
    code, out = run(tmp_path, "bogus 1 2\n", capsys)
    assert code == 2 and "unknown STF command 'bogus'" in out.err
    assert main(["stf", str(tmp_path / "none.p4"), str(tmp_path / "t.stf")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["stf", *INC, PROG, str(tmp_path / "none.stf")]) == 2


def test_program_compile_error_exits_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.p4"
    bad.write_text("control X( { }\n")
    code = main(["stf", str(bad), str(STF_DIR / "table_lpm.stf")])
    assert code == 2  # rejected program: 2, not the mismatch code 1 (issue 19)
    assert "bad.p4:1" in capsys.readouterr().err


def test_a_program_the_switch_refuses_exits_2(tmp_path, capsys):
    """A program the switch cannot load (here: no main) is a one-line error, exit 2."""
    prog = str(pathlib.Path(__file__).resolve().parents[2] / "data" / "p4" / "no_main.p4")
    code, out = run(tmp_path, "packet 0 01\n", capsys, prog=prog)
    assert code == 2 and "no 'main' package instance" in out.err
    assert "Traceback" not in out.err


def test_a_switch_bug_while_loading_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    import fabriclab.switch.core as core

    def broken(*_a, **_k):
        raise KeyError("boom")
    monkeypatch.setattr(core, "SwitchCore", broken)
    code, out = run(tmp_path, "packet 0 01\n", capsys)
    assert code == 2 and "the run broke: KeyError" in out.err


def test_pipeline_artifact_works_in_place_of_the_source(tmp_path, capsys):
    assert main(["compile", "-q", *INC, "-o", str(tmp_path), PROG]) == 0
    artifact = tmp_path / "table_lpm.json"
    assert main(["stf", str(artifact), str(STF_DIR / "table_lpm.stf")]) == 0
    assert "PASS" in capsys.readouterr().out
