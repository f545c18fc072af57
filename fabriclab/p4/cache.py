"""On-disk cache of checked programs, keyed by a content hash.

A fresh process spends most of a compile importing lark, loading the LALR tables, parsing
and checking; switches, tests and experiments compile the same few programs in many
processes. So the checked result is pickled under `~/.cache/fabriclab/p4/<sha256>.pickle`
(`$XDG_CACHE_HOME` honoured). The key hashes the preprocessed source, the program name,
fabriclab's version and the toolchain's own files, so an edited compiler never reads an
entry an older one wrote. The cache can only make a compile faster, never fail it: an
unreadable, foreign or stale entry is a miss (and is replaced), a failed write is ignored.
Unpickling runs code, so an entry is read only if this user owns it and nobody else can
write it; nothing is written into a directory another user owns (`sudo` keeping the
caller's HOME). `FABRICLAB_CACHE=0` turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import pickle
import stat
import sys
import tempfile
from functools import lru_cache

from fabriclab import __version__

FORMAT = 1
MAX_ENTRIES = 200  # a store beyond this removes the least recently written entries
_TOOLCHAIN_SUFFIXES = {".py", ".lark", ".p4"}


def enabled() -> bool:
    return os.environ.get("FABRICLAB_CACHE", "1") != "0"


def directory() -> pathlib.Path | None:
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        root = pathlib.Path(base) if base else pathlib.Path.home() / ".cache"
    except RuntimeError:  # no home directory to be found
        return None
    return root / "fabriclab" / "p4"


@lru_cache(maxsize=1)
def toolchain_fingerprint() -> str:
    """Hash of every source file of the toolchain (its code, grammar and include files)."""
    digest = hashlib.sha256()
    package = pathlib.Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in _TOOLCHAIN_SUFFIXES and "__pycache__" not in path.parts:
            try:
                content = path.read_bytes()
            except OSError:  # (vanished meanwhile): still a key, never a failed compile
                content = b"\0unreadable"
            digest.update(str(path.relative_to(package)).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def key(name: str, text: str) -> str:
    material = "\0".join([str(FORMAT), __version__, f"{sys.version_info[0]}.{sys.version_info[1]}",
                          toolchain_fingerprint(), name, text])
    return hashlib.sha256(material.encode()).hexdigest()


def load(entry_key: str) -> object | None:
    """The object stored under `entry_key`, or None (a miss) for any problem at all."""
    folder = directory() if enabled() else None
    if folder is None:
        return None
    path = folder / f"{entry_key}.pickle"
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            data = handle.read()
    except OSError:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # truncated, corrupt or written by other code: a miss, to be replaced
        return None


def store(entry_key: str, value: object) -> None:
    """Write `value` under `entry_key` atomically; failures are silently ignored."""
    folder = directory() if enabled() else None
    if folder is None:
        return
    try:
        if _nearest_existing(folder).stat().st_uid != os.getuid():
            return  # e.g. sudo with the invoking user's HOME: leave their cache alone
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="tmp-", suffix=".part")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, folder / f"{entry_key}.pickle")
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(folder)
    except Exception:  # unpicklable, too deep, disk full, read-only home: compile uncached
        return


def _nearest_existing(path: pathlib.Path) -> pathlib.Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _prune(folder: pathlib.Path) -> None:
    entries = []
    for path in folder.glob("*.pickle"):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            continue
    entries.sort()
    for _, path in entries[:max(len(entries) - MAX_ENTRIES, 0)]:
        try:
            path.unlink()
        except OSError:
            continue
