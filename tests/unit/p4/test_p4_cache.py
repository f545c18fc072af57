"""The on-disk compile cache: read back faithfully, never trusted blindly, never fatal."""

import os
import pathlib
import pickle
from collections import OrderedDict

import pytest
from finsy.proto import p4i

from fabriclab.p4 import cache, compile_file, compile_source, compiler, ir
from fabriclab.switch.core import SwitchCore
from fabriclab.switch.stf import run_stf

REPO = pathlib.Path(__file__).resolve().parents[3]
BASIC = REPO / "p4src" / "basic.p4"
STF_DIR = REPO / "tests" / "stf"


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> pathlib.Path:
    """A private cache directory and an empty in-process cache (so compiles reach the disk)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FABRICLAB_CACHE", raising=False)
    monkeypatch.setattr(compiler, "_cache", OrderedDict())
    return tmp_path / "xdg" / "fabriclab" / "p4"


def _fresh_process(monkeypatch) -> None:
    """Forget what this process compiled, as a new process would."""
    monkeypatch.setattr(compiler, "_cache", OrderedDict())


def _entries(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(folder.glob("*.pickle"))


def _doctor(entry: pathlib.Path) -> None:
    """Rewrite a cache entry so that a hit is recognisable: its P4Info gets a pkg_info name."""
    program, p4info_bytes, warnings, errors, infos, entries = pickle.loads(entry.read_bytes())
    info = p4i.P4Info.FromString(p4info_bytes)
    info.pkg_info.name = "from-the-cache"
    entry.write_bytes(pickle.dumps((program, info.SerializeToString(), warnings, errors, infos, entries)))


def test_a_second_compile_reads_the_entry_the_first_wrote(cache_home, monkeypatch):
    first = compile_file(BASIC)
    [entry] = _entries(cache_home)
    assert entry.stat().st_mode & 0o777 == 0o600 and cache_home.stat().st_mode & 0o777 == 0o700
    _doctor(entry)
    _fresh_process(monkeypatch)
    second = compile_file(BASIC)
    assert second.p4info.pkg_info.name == "from-the-cache"
    assert isinstance(second.program, ir.Program) and second.program is not first.program
    assert second.source == first.source and second.name == first.name == "basic"


@pytest.mark.parametrize("case", ["action_selector", "arch_clone_i2e", "extern_global_register", "fabric_style"])
def test_a_cached_program_runs_like_a_fresh_one(cache_home, monkeypatch, case):
    """The unpickled IR drives the switch exactly as the freshly checked one does."""
    program, stf = STF_DIR / f"{case}.p4", (STF_DIR / f"{case}.stf").read_text()
    fresh = compile_file(program, include_dirs=(STF_DIR / "include",))
    _fresh_process(monkeypatch)
    cached = compile_file(program, include_dirs=(STF_DIR / "include",))
    assert cached.program is not fresh.program and cached.p4info == fresh.p4info
    assert cached.warnings == fresh.warnings
    results = [run_stf(SwitchCore(c), stf) for c in (fresh, cached)]
    assert all(r.ok and r.packets_sent for r in results), results[1].failures
    assert results[0].outputs == results[1].outputs


def test_warnings_survive_the_cache(cache_home, monkeypatch):
    text = BASIC.read_text().replace("    apply {\n        if (hdr.ipv4.isValid()) {",
                                     "    table unused_t { key = { hdr.ipv4.srcAddr: exact; } actions = { NoAction; } }\n"
                                     "    apply {\n        if (hdr.ipv4.isValid()) {")
    fresh = compile_source(text, "warn.p4")
    _fresh_process(monkeypatch)
    cached = compile_source(text, "warn.p4")
    assert [w.format() for w in cached.warnings] == [w.format() for w in fresh.warnings]
    assert [w.message for w in cached.warnings] == ["table 'unused_t' is unused"]
    assert [i.format() for i in cached.infos] == [i.format() for i in fresh.infos]
    assert [i.message for i in cached.infos] == ["removing table 'unused_t'"]


@pytest.mark.parametrize("damage", [b"", b"not a pickle", pickle.dumps(("a", "tuple", "of", 4)),
                                    pickle.dumps({"some": "dict"})])
def test_a_damaged_entry_is_a_miss_and_is_replaced(cache_home, monkeypatch, damage):
    compile_file(BASIC)
    [entry] = _entries(cache_home)
    good = entry.read_bytes()
    entry.write_bytes(damage)
    _fresh_process(monkeypatch)
    assert compile_file(BASIC).p4info.tables[0].preamble.name == "MyIngress.ipv4_lpm"
    assert entry.read_bytes() != damage and len(entry.read_bytes()) == len(good)


def test_an_entry_others_could_write_is_not_read(cache_home, monkeypatch):
    compile_file(BASIC)
    [entry] = _entries(cache_home)
    _doctor(entry)
    os.chmod(entry, 0o666)
    _fresh_process(monkeypatch)
    assert compile_file(BASIC).p4info.pkg_info.name == ""


def test_fabriclab_cache_0_neither_reads_nor_writes(cache_home, monkeypatch):
    compile_file(BASIC)
    [entry] = _entries(cache_home)
    _doctor(entry)
    monkeypatch.setenv("FABRICLAB_CACHE", "0")
    _fresh_process(monkeypatch)
    assert compile_file(BASIC).p4info.pkg_info.name == ""
    compile_source(BASIC.read_text() + "\n// changed\n", "other.p4")
    assert _entries(cache_home) == [entry]


def test_an_unusable_cache_directory_never_fails_a_compile(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(compiler, "_cache", OrderedDict())
    assert compile_file(BASIC).p4info.tables[0].preamble.id == 37375156


def test_the_key_covers_the_source_the_name_and_the_toolchain(monkeypatch):
    base = cache.key("prog", "text")
    assert base != cache.key("prog", "text2") and base != cache.key("prog2", "text")
    cache.toolchain_fingerprint.cache_clear()
    monkeypatch.setattr(cache, "toolchain_fingerprint", lambda: "an edited checker")
    assert cache.key("prog", "text") != base


def test_the_directory_is_pruned_to_its_newest_entries(cache_home, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    for i in range(4):
        cache.store(f"{i:064x}", ("entry", i))
        os.utime(cache_home / f"{i:064x}.pickle", (1000 + i, 1000 + i))
    cache.store("f" * 64, ("entry", "last"))
    assert [p.stem for p in _entries(cache_home)] == [f"{3:064x}", "f" * 64]
    assert cache.load("f" * 64) == ("entry", "last") and cache.load(f"{0:064x}") is None


def test_nothing_is_written_into_another_users_directory(tmp_path, monkeypatch):
    home = tmp_path / "someone_else"
    home.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setattr(compiler, "_cache", OrderedDict())
    monkeypatch.setattr(os, "getuid", lambda: home.stat().st_uid + 1)  # as if run by another user
    assert compile_file(BASIC).p4info.tables[0].preamble.id == 37375156
    assert not (home / ".cache").exists()
