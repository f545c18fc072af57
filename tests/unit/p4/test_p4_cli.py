"""`fabriclab compile`: output files, p4c-style flags, and clean errors for bad input."""

import json
import pathlib

import pytest
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
    assert "no such file" in err and "bad -D argument" in err
    assert f"{tmp_path / 'x.yaml'}: unknown file kind; known suffixes are .bin, .txt, .json, and .txtpb" in err
    # p4c's suffixes only: .pbtxt is no P4Runtime file kind, for P4Info or entries
    for flag in ("--p4runtime-files", "--p4runtime-entries-files"):
        assert main(["compile", str(BASIC), "-o", str(tmp_path), flag, str(tmp_path / "x.pbtxt")]) == 2
        assert "unknown file kind" in capsys.readouterr().err
    assert not (tmp_path / "x.pbtxt").exists()


def test_programs_p4c_cannot_describe_in_p4info_fail_like_p4c(tmp_path, capsys):
    prog = tmp_path / "dup.p4"
    prog.write_text(BASIC.read_text().replace("action drop()", "@id(7) action drop()").replace(
        "action ipv4_forward(", "@id(7) action ipv4_forward("))
    assert main(["compile", str(prog), "-o", str(tmp_path)]) == 2
    assert "@id 16777223 is assigned to multiple declarations" in capsys.readouterr().err
    assert not (tmp_path / "dup.p4info.txtpb").exists()


# -------------------------------------------------------------- p4c-bm2-ss's command lines
TUTORIAL = ["compile", "--p4v", "16", "--p4runtime-files", "build/basic.p4.p4info.txtpb",
            "-o", "build/basic.json", "basic.p4"]  # the P4 tutorials' Makefile, name changed


def _switch_core(artifact: pathlib.Path):
    """The SwitchCore `fabriclab switch ARTIFACT` would run (its own argument parsing and loader)."""
    import argparse

    from fabriclab.switch import cli as switch_cli
    parser = argparse.ArgumentParser()
    switch_cli.add_arguments(parser)
    return switch_cli.load_core(parser.parse_args([str(artifact)]))


def test_the_tutorials_command_line_writes_what_p4c_bm2_ss_writes(tmp_path, monkeypatch):
    """p4c-bm2-ss's -o is the output JSON file, P4Info goes only where --p4runtime-files says."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "basic.p4").write_text(BASIC.read_text())
    (tmp_path / "build").mkdir()
    assert main(["compile", str(BASIC), "-o", "today", "-q"]) == 0
    assert main(TUTORIAL) == 0
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == ["basic.json", "basic.p4.p4info.txtpb"]
    assert (tmp_path / "build" / "basic.p4.p4info.txtpb").read_bytes() == \
        (tmp_path / "today" / "basic.p4info.txtpb").read_bytes()
    assert list(_switch_core(tmp_path / "build" / "basic.json").tables) == ["MyIngress.ipv4_lpm"]
    assert load_artifact(tmp_path / "build" / "basic.json").p4info == compile_file(BASIC).p4info
    assert not (tmp_path / "basic.p4info.txtpb").exists()


def test_output_path_is_a_file_or_a_directory_by_its_name(tmp_path):
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path / "a" / "prog.out")]) == 2  # no folder made, as p4c
    (tmp_path / "a").mkdir()
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path / "a" / "prog.out")]) == 0
    assert load_artifact(tmp_path / "a" / "prog.out").name == "basic"
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path / "nosuffix")]) == 0  # today's: a directory
    assert sorted(p.name for p in (tmp_path / "nosuffix").iterdir()) == ["basic.json", "basic.p4info.txtpb"]
    (tmp_path / "out.d").mkdir()
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path / "out.d")]) == 0  # an existing directory
    assert (tmp_path / "out.d" / "basic.json").is_file()


def test_language_architecture_and_target_selectors(tmp_path, capsys):
    for flags in (["--p4v", "16"], ["--p4v=1.2"], ["--std", "p4-16"], ["--std=16"], ["--arch", "v1model"],
                  ["--target", "bmv2"]):
        assert main(["compile", *flags, str(BASIC), "-q", "-o", str(tmp_path)]) == 0
    for flags, words in ((["--p4v", "14"], "P4-16 only"), (["--std=p4-14"], "P4-16 only"),
                         (["--p4v", "17"], "illegal language version 17"), (["--arch", "psa"], "v1model only"),
                         (["--target", "tofino"], "bmv2 only"), (["--emit-externs"], "not supported")):
        with pytest.raises(SystemExit) as exit_:
            main(["compile", *flags, str(BASIC), "-o", str(tmp_path)])
        assert exit_.value.code == 2
        assert words in capsys.readouterr().err.splitlines()[-1]


WARNED = BASIC.read_text().replace("    action drop() {", "    bit<8> spare;\n    action drop() {", 1)
UNUSED = "warning: 'spare' is unused"


def _warned(tmp_path: pathlib.Path, text: str = WARNED) -> pathlib.Path:
    prog = tmp_path / "warned.p4"
    prog.write_text(text)
    return prog


def test_werror_makes_warnings_errors_and_writes_nothing(tmp_path, capsys):
    prog = _warned(tmp_path)
    assert main(["compile", str(prog), "-o", str(tmp_path / "ok")]) == 0
    assert UNUSED in capsys.readouterr().err
    for flags in (["--Werror"], ["--Werror=unused"], ["--Wwarn=unused", "--Werror=unused"]):
        out = tmp_path / "_".join(flags).strip("-")
        assert main(["compile", *flags, str(prog), "-o", str(out)]) == 2  # (bare --Werror takes no NAME)
        err = capsys.readouterr().err
        assert "error: 'spare' is unused" in err and UNUSED not in err
        assert not out.exists()
    # other names stay warnings; a name's own option wins over the global one, the last one wins
    for flags in (["--Werror=shadow"], ["--Werror", "--Wwarn=unused"], ["--Werror=unused", "--Wwarn=unused"]):
        assert main(["compile", *flags, str(prog), "-q", "-o", str(tmp_path)]) == 0
        assert UNUSED in capsys.readouterr().err


def test_wdisable_silences_and_a_name_is_p4cs_spelling(tmp_path, capsys):
    prog = _warned(tmp_path)
    for flags in (["--Wdisable=unused"], ["--Wdisable"], ["--Werror", "--Wdisable=unused"]):
        assert main(["compile", *flags, str(prog), "-q", "-o", str(tmp_path)]) == 0
        assert capsys.readouterr().err == ""
    # p4c does not normalise names: `uninitialized_use` is no diagnostic, it silences nothing
    prog = _warned(tmp_path, BASIC.read_text().replace(
        "hdr.ipv4.ttl = hdr.ipv4.ttl - 1;", "bit<8> x;\n        hdr.ipv4.ttl = x;"))
    assert main(["compile", "--Wdisable=uninitialized_use", str(prog), "-q", "-o", str(tmp_path)]) == 0
    assert "warning: x may be uninitialized" in capsys.readouterr().err
    assert main(["compile", "--Wdisable=uninitialized-use", str(prog), "-q", "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""


def test_an_error_cannot_be_demoted_as_p4c_says(tmp_path, capsys):
    assert main(["compile", "--Wdisable=type-error", str(BASIC), "-o", str(tmp_path)]) == 2
    assert "Error type-error cannot be demoted." in capsys.readouterr().err
    assert not (tmp_path / "basic.json").exists()


def test_branch_hints_as_p4c_hidden_unless_asked_and_pragmas_count(tmp_path, capsys):
    hinted = BASIC.read_text().replace("        if (hdr.ipv4.isValid()) {",
                                       "        if (true) @unlikely { }\n        if (hdr.ipv4.isValid()) {", 1)
    prog = _warned(tmp_path, hinted)
    hint = "warning: ignoring @unlikely on always taken statement"
    assert main(["compile", str(prog), "-q", "-o", str(tmp_path)]) == 0
    assert hint not in capsys.readouterr().err
    assert main(["compile", "--Wwarn=branch", str(prog), "-q", "-o", str(tmp_path)]) == 0
    assert hint in capsys.readouterr().err
    # p4c-bm2-ss applies a program's @command_line and @diagnostic after the command line
    pragma = '@command_line("--Wwarn=branch") @diagnostic("unused", "error")\n'
    prog = _warned(tmp_path, WARNED.replace("control MyIngress(", pragma + "control MyIngress("))
    assert main(["compile", "--Wdisable=unused", str(prog), "-q", "-o", str(tmp_path)]) == 2
    assert "error: 'spare' is unused" in capsys.readouterr().err


def test_undefine_follows_cpp_order(tmp_path):
    prog = tmp_path / "prog.p4"
    prog.write_text("#ifndef K\n#define K 3\n#endif\n" + BASIC.read_text().replace("size = 1024;", "size = 77 * K;"))
    for flags, size in ((["-D", "K=2"], 154), (["-D", "K=2", "-U", "K"], 231), (["-UK", "-DK=2"], 154)):
        assert main(["compile", str(prog), "-q", "-o", str(tmp_path), *flags]) == 0
        assert f"size: {size}\n" in (tmp_path / "prog.p4info.txtpb").read_text()
    assert main(["compile", str(prog), "-q", "-o", str(tmp_path), "-U", "K=2"]) == 2


def test_target_macro_as_p4c_bm2_ss(tmp_path):
    """p4c-bm2-ss defines __TARGET_BMV2__ before the command line's -D/-U: `#ifdef` code for
    BMv2 is compiled, and -U__TARGET_BMV2__ takes it away."""
    prog = tmp_path / "prog.p4"
    prog.write_text("#ifdef __TARGET_BMV2__\n#define K 2\n#else\n#define K 3\n#endif\n"
                    + BASIC.read_text().replace("size = 1024;", "size = 77 * K;"))
    for flags, size in (([], 154), (["-U", "__TARGET_BMV2__"], 231)):
        assert main(["compile", str(prog), "-q", "-o", str(tmp_path), *flags]) == 0
        assert f"size: {size}\n" in (tmp_path / "prog.p4info.txtpb").read_text()


def test_deprecated_p4runtime_file_and_format(tmp_path, capsys):
    expected = compile_file(BASIC).p4info
    info_type = type(expected)
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path / "p.json"),
                 "--p4runtime-file", str(tmp_path / "p.info")]) == 0  # binary, as p4c's default
    assert info_type.FromString((tmp_path / "p.info").read_bytes()) == expected
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path / "p.json"), "--p4runtime-format", "json",
                 "--p4runtime-file", str(tmp_path / "p.info")]) == 0
    assert json_format.Parse((tmp_path / "p.info").read_text(), info_type()) == expected
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path / "p.json"), "--p4runtime-format", "text",
                 "--p4runtime-file", str(tmp_path / "p.txt")]) == 0  # (only a --p4runtime-files .txt is warned of)
    assert text_format.Parse((tmp_path / "p.txt").read_text(), info_type()) == expected
    assert capsys.readouterr().err == ""
    # p4c's serializer warns that .txt is deprecated (a warning like any other: --Werror fails)
    assert main(["compile", str(BASIC), "-q", "-o", str(tmp_path), "--p4runtime-files", str(tmp_path / "p.txt")]) == 0
    assert "warning: .txt format is being deprecated; use .txtpb instead" in capsys.readouterr().err
    assert main(["compile", "--Werror", str(BASIC), "-q", "-o", str(tmp_path / "x.json"),
                 "--p4runtime-files", str(tmp_path / "p.txt")]) == 2
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("message, name", [
    ("'spare' is unused", "unused"), ("x may be uninitialized", "uninitialized-use"),
    ("out parameter 'o' may be uninitialized when 'f' terminates", "uninitialized-out-param"),
    ("accessing a field of a potentially invalid header hdr.h", "invalid-header"),
    ("8w256: value does not fit in 8 bits", "overflow"), ("-1w1: negative value with unsigned type", "mismatch"),
    ("KeyElement: constant key element", "ignore-prop"), ("8w1: Constant key field", "mismatch"),
    ("start: implicit transition to `reject'", "parser-transition"), ("'x' shadows 'x'", "shadow"),
    ("accept state in parser p is unreachable", "unreachable"), ("removing table 't'", "removed"),
    ("'string with\n  lines' is unused", "unused"),
    ("some words p4c never says", None)])
def test_warnings_carry_p4cs_diagnostic_names(message, name):
    """As p4c's stderr files tag them (`[--Wwarn=NAME]`), checked on its p4_16_samples_outputs."""
    from fabriclab.p4.diagnostics import Diagnostic, diagnostic_name
    assert diagnostic_name(Diagnostic(None, message, severity="warning")) == name


def test_warnings_before_an_error_are_printed_as_p4c_prints_them(tmp_path, capsys):
    prog = tmp_path / "old.p4"
    prog.write_text(WARNED.replace("    action drop() {", "    Checksum16() ck;\n    action drop() {", 1)
                    .replace("        if (hdr.ipv4.isValid()) {", "        hdr.ipv4.hdrChecksum = ck.get(hdr.ipv4);\n"
                             "        if (hdr.ipv4.isValid()) {", 1))
    assert main(["compile", str(prog), "-o", str(tmp_path)]) == 2  # p4c-bm2-ss's back end has no Checksum16
    err = capsys.readouterr().err
    assert err.index("warning: Checksum16: Using deprecated feature") < err.index("error: Checksum16: unknown extern")
    assert UNUSED in err
    assert main(["compile", "--Wdisable", str(prog), "-o", str(tmp_path)]) == 2
    assert "warning:" not in capsys.readouterr().err
    assert main(["compile", "--Werror=unused", str(prog), "-o", str(tmp_path)]) == 2
    assert "error: 'spare' is unused" in capsys.readouterr().err


def test_a_back_end_rejection_leaves_the_p4runtime_files_p4c_bm2_ss_writes(tmp_path, capsys):
    """p4c-bm2-ss writes P4Runtime files between its front and mid ends: a program its BMv2
    back end refuses still leaves them (and no JSON); a front-end error leaves none."""
    prog = tmp_path / "ck.p4"
    prog.write_text(BASIC.read_text().replace("    action drop() {", "    Checksum16() ck;\n    action drop() {", 1)
                    .replace("        if (hdr.ipv4.isValid()) {", "        hdr.ipv4.hdrChecksum = ck.get(hdr.ipv4);\n"
                             "        if (hdr.ipv4.isValid()) {", 1))
    info, entries, out = tmp_path / "ck.p4info.txtpb", tmp_path / "ck.entries.json", tmp_path / "ck.json"
    args = ["compile", str(prog), "-o", str(out), "--p4runtime-files", str(info),
            "--p4runtime-entries-files", str(entries)]
    assert main(args) == 2
    assert "error: Checksum16: unknown extern" in capsys.readouterr().err
    assert not out.exists()
    expected = compile_file(BASIC).p4info
    assert text_format.Parse(info.read_text(), type(expected)()) == expected  # (ck.get is no table or action)
    assert json.loads(entries.read_text()) == {}  # basic.p4 declares no entries
    info.unlink(), entries.unlink()
    prog.write_text(prog.read_text().replace("ck.get(hdr.ipv4)", "ck.get(hdr.nothing)"))
    assert main(args) == 2 and not info.exists() and not entries.exists()
