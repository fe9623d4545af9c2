"""Writing generations: a fresh temporary directory for a build, the metadata file, the durable
atomic swap of CURRENT (publishing), and the clean-up of what crashed runs, rollbacks and old
generations left behind. Reading an index is :mod:`.store`'s."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import time
from pathlib import Path

from .errors import IndexDamagedError, IndexMissingError
from .lock import LEGACY_LOCK
from .manifest import PUBLISHED, FileRecord, read_published, write_manifest, write_published
from .store import (
    BAD_PREFIX,
    CURRENT,
    GEN_PREFIX,
    KEEP_GENERATIONS,
    META,
    ROLLED_BACK,
    TMP_PREFIX,
    IndexMeta,
    current_generation,
    generations,
    is_rolled_back,
    rolled_back_marker,
)


def new_generation_dir(index_path: Path) -> Path:
    """A fresh temporary directory for a generation being built."""
    index_path.mkdir(parents=True, exist_ok=True, mode=0o755)
    # Zero-padded nanoseconds: generation names sort in the order they were built.
    path = index_path / f"{TMP_PREFIX}{time.time_ns():020d}-{os.getpid()}"
    path.mkdir(mode=0o755)
    return path


def fsync_tree(path: Path) -> None:
    """Flush every file in a directory, then the directory itself, to disk."""
    for child in path.iterdir():
        if child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(path)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_meta(generation: Path, meta: IndexMeta) -> None:
    """Write procsearch.json by replacing it: the old file may be a hard link into another generation."""
    temporary = generation / f"{META}.tmp"
    temporary.write_text(json.dumps(meta.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, generation / META)


def publish(index_path: Path, built: Path, known: dict[str, FileRecord] | None = None) -> Path:
    """Make a built temporary directory the current generation, atomically and durably, and
    record it as published. ``known``: records of files linked from the previous generation."""
    digest = write_manifest(built, known)
    _restrict_modes(built)
    fsync_tree(built)
    final = index_path / (GEN_PREFIX + built.name[len(TMP_PREFIX) :])
    os.replace(built, final)
    point_current(index_path, final)
    published = read_published(index_path)
    published[final.name] = digest
    write_published(index_path, published, keep=[g.name for g in generations(index_path)])
    return final


def _restrict_modes(directory: Path) -> None:
    """Make a generation and its files writable by their owner only (whatever the umask): an
    index readers refuse when others can write it must not be written that way."""
    for path in [directory, *directory.iterdir()]:
        mode = path.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            path.chmod(stat.S_IMODE(mode) & ~(stat.S_IWGRP | stat.S_IWOTH))


def point_current(index_path: Path, generation: Path) -> None:
    """Atomically and durably make CURRENT name ``generation``."""
    pointer_tmp = index_path / f"{CURRENT}.tmp-{os.getpid()}"
    pointer_tmp.write_text(generation.name + "\n", encoding="utf-8")
    pointer_tmp.chmod(0o644)
    with open(pointer_tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_path / CURRENT)
    fsync_dir(index_path)


def clean_leftovers(index_path: Path, *, keep: int = KEEP_GENERATIONS) -> list[Path]:
    """Remove what crashed runs left (temporary directories of writers no longer alive, pointer
    files, generations never published), generations set aside by a rollback, and generations
    older than the last ``keep``. Call it holding the writer lock."""
    try:
        current = current_generation(index_path).name
    except (IndexMissingError, IndexDamagedError):
        current = ""
    try:
        published = read_published(index_path)
    except IndexDamagedError:
        published = {}
    removed: list[Path] = []
    existing = generations(index_path)
    # A generation never recorded as published was left by a writer that died before the swap.
    # One a rollback moved away from stays restorable (rollback --to) until a newer one is
    # published: then it is not wanted any more.
    rolled_back = {p for p in existing if is_rolled_back(p)}
    unpublished = [p for p in existing if p.name != current and p.name not in published]
    unpublished += [p for p in existing if current and p.name < current and p in rolled_back and p not in unpublished]
    kept = [p for p in existing if p not in unpublished]
    before = [p for p in kept if not current or p.name < current]  # what rollback goes back to
    old = before[: max(0, len(before) - (keep - 1 if current else keep))]
    leftovers = [
        *(p for p in index_path.glob(TMP_PREFIX + "*") if not _writer_alive(p)),
        *index_path.glob(BAD_PREFIX + "*"),
        *index_path.glob(CURRENT + ".tmp-*"),
        *index_path.glob(PUBLISHED + ".tmp-*"),
        *([index_path / LEGACY_LOCK] if (index_path / LEGACY_LOCK).is_file() else []),
    ]
    names = {p.name for p in existing}
    markers = [m for m in index_path.glob(ROLLED_BACK + "-*") if m.name[len(ROLLED_BACK) + 1 :] not in names]
    for path in [*leftovers, *unpublished, *old]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            rolled_back_marker(path).unlink(missing_ok=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    for marker in markers:  # of a generation removed some other way
        marker.unlink(missing_ok=True)
    if published:
        with contextlib.suppress(OSError):
            write_published(index_path, published, keep=[g.name for g in generations(index_path)])
    return removed


def _writer_alive(temporary: Path) -> bool:
    """Whether the process that made a temporary generation (its pid ends the name) still runs."""
    try:
        pid = int(temporary.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True
