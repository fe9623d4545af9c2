"""The index on disk: generations, the CURRENT pointer, the metadata file, the writer lock.

Layout of an index directory::

    INDEX/CURRENT          name of the generation being served (replaced atomically)
    INDEX/gen-<stamp>/     a complete Whoosh index plus procsearch.json
    INDEX/write.lock       held (flock) by the one process writing

A rebuild writes a new generation next to the current one, flushes it to disk, and then swaps
CURRENT; the previous generation is kept, so there is always a good index to serve or roll
back to.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .analysis import ANALYZER_SETTINGS
from .errors import (
    IndexDamagedError,
    IndexLockedError,
    IndexMissingError,
    IndexStoreError,
    IndexUnsafeError,
    IndexVersionError,
)
from .schema import SCHEMA_VERSION

CURRENT = "CURRENT"
META = "procsearch.json"
MANIFEST = "MANIFEST.json"
LOCK = "write.lock"
GEN_PREFIX = "gen-"
TMP_PREFIX = "tmp-"
BAD_PREFIX = "bad-"
KEEP_GENERATIONS = 2
ROLLED_BACK = "ROLLED_BACK"
"""Marker file in a generation a rollback moved away from: while it is newer than CURRENT it is
kept (``rollback --to`` serves it again); once a newer generation is published it goes."""


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

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("procsearch")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0+unknown"


def new_meta(document_count: int, sources: dict[str, int]) -> IndexMeta:
    import whoosh

    return IndexMeta(
        schema_version=SCHEMA_VERSION,
        package_version=package_version(),
        whoosh_version=whoosh.versionstring(),
        analyzer=dict(ANALYZER_SETTINGS),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        document_count=document_count,
        sources=sources,
    )


def rebuild_hint(index_path: Path) -> str:
    return f"procsearch --index {index_path} index --rebuild"


def current_generation(index_path: Path) -> Path:
    """The generation directory CURRENT names; raises IndexMissingError if there is none."""
    pointer = index_path / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(
            f"No index at {index_path}. Build it with: procsearch --index {index_path} index [CORPUS_DIR]"
        ) from None
    except OSError as exc:
        raise IndexDamagedError(f"{pointer}: cannot read ({exc.strerror})") from exc
    if not name.startswith(GEN_PREFIX) or "/" in name or not (index_path / name).is_dir():
        raise IndexDamagedError(
            f"{pointer} names a missing generation {name!r}. Rebuild with: {rebuild_hint(index_path)}"
        )
    return index_path / name


def read_meta(generation: Path, index_path: Path) -> IndexMeta:
    """Read and check a generation's metadata: a missing or different schema says how to rebuild."""
    try:
        data = json.loads((generation / META).read_text(encoding="utf-8"))
        meta = IndexMeta(**data)
    except FileNotFoundError:
        raise IndexVersionError(
            f"{generation} has no {META}: it was not built by this version of procsearch. "
            f"Rebuild with: {rebuild_hint(index_path)}"
        ) from None
    except (ValueError, TypeError) as exc:
        raise IndexDamagedError(
            f"{generation / META} is damaged ({exc}). Roll back with: procsearch --index {index_path} rollback; "
            f"or rebuild with: {rebuild_hint(index_path)}"
        ) from exc
    if meta.schema_version != SCHEMA_VERSION or meta.analyzer != ANALYZER_SETTINGS:
        raise IndexVersionError(
            f"The index at {index_path} was built by procsearch {meta.package_version} "
            f"(schema {meta.schema_version}); this is procsearch {package_version()} "
            f"(schema {SCHEMA_VERSION}). Rebuild with: {rebuild_hint(index_path)}"
        )
    return meta


def check_safe(path: Path) -> None:
    """Refuse a directory another user owns or others can write: Whoosh unpickles its files."""
    if not hasattr(os, "getuid"):
        return
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid not in (os.getuid(), 0) or info.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
        who = "owned by another user" if info.st_uid not in (os.getuid(), 0) else "writable by other users"
        raise IndexUnsafeError(
            f"Refusing to open {path}: it is {who}, and opening an index runs code stored in it. "
            f"Use an index directory only you can write (chmod go-w {path}), or rebuild it elsewhere."
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


def write_manifest(generation: Path) -> None:
    """Record every file's size, so a truncated or emptied file is caught when the index opens."""
    sizes = {
        p.name: p.stat().st_size
        for p in sorted(generation.iterdir())
        if p.is_file() and p.name != MANIFEST and not p.name.endswith("WRITELOCK")
    }
    temporary = generation / f"{MANIFEST}.tmp"  # replace, never rewrite: the old one may be a hard link
    temporary.write_text(json.dumps(sizes, indent=0) + "\n", encoding="utf-8")
    os.replace(temporary, generation / MANIFEST)


def check_manifest(generation: Path) -> list[str]:
    """Files of a generation that are missing or whose size changed since it was published."""
    try:
        sizes = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []  # built before manifests existed
    except (OSError, ValueError) as exc:
        return [f"{MANIFEST} is unreadable ({exc})"]
    problems = []
    for name, size in sizes.items():
        try:
            actual = (generation / name).stat().st_size
        except FileNotFoundError:
            problems.append(f"{name} is missing")
            continue
        if actual != size:
            problems.append(f"{name} has {actual:,} bytes, {size:,} when published")
    return problems


def publish(index_path: Path, built: Path) -> Path:
    """Make a built temporary directory the current generation, atomically and durably."""
    write_manifest(built)
    fsync_tree(built)
    final = index_path / (GEN_PREFIX + built.name[len(TMP_PREFIX) :])
    os.replace(built, final)
    point_current(index_path, final)
    return final


def point_current(index_path: Path, generation: Path) -> None:
    """Atomically and durably make CURRENT name ``generation``."""
    pointer_tmp = index_path / f"{CURRENT}.tmp-{os.getpid()}"
    pointer_tmp.write_text(generation.name + "\n", encoding="utf-8")
    with open(pointer_tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_path / CURRENT)
    fsync_dir(index_path)


def generations(index_path: Path) -> list[Path]:
    """Every generation directory, oldest first (their names sort by build time)."""
    return sorted(p for p in index_path.glob(GEN_PREFIX + "*") if p.is_dir())


def clean_leftovers(index_path: Path, *, keep: int = KEEP_GENERATIONS) -> list[Path]:
    """Remove what crashed runs left (temporary directories and pointer files), generations set
    aside by a rollback, and generations older than the last ``keep``. Call it holding the writer lock."""
    try:
        current = current_generation(index_path).name
    except (IndexMissingError, IndexDamagedError):
        current = ""
    removed: list[Path] = []
    existing = generations(index_path)
    # A generation newer than CURRENT was never published (its writer died before the swap),
    # unless a rollback moved away from it; one a rollback moved away from before CURRENT was
    # published is not wanted any more.
    rolled_back = {p for p in existing if (p / ROLLED_BACK).exists()}
    unpublished = [p for p in existing if current and p.name > current and p not in rolled_back]
    unpublished += [p for p in existing if current and p.name < current and p in rolled_back]
    published = [p for p in existing if p not in unpublished]
    before = [p for p in published if not current or p.name < current]  # what rollback goes back to
    old = before[: max(0, len(before) - (keep - 1 if current else keep))]
    leftovers = [
        *index_path.glob(TMP_PREFIX + "*"),
        *index_path.glob(BAD_PREFIX + "*"),
        *index_path.glob(CURRENT + ".tmp-*"),
    ]
    for path in [*leftovers, *unpublished, *old]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


@contextlib.contextmanager
def writer_lock(index_path: Path, timeout: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; wait up to ``timeout`` seconds for another writer.

    The lock is an flock on a file, so the kernel releases it when its process dies: a killed
    writer never blocks the next run.
    """
    index_path.mkdir(parents=True, exist_ok=True, mode=0o755)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one writer is the user's responsibility
        yield
        return
    with open(index_path / LOCK, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLockedError(
                        f"Another procsearch process is writing the index at {index_path}; "
                        f"gave up after {timeout:g} s. Try again later or raise --lock-timeout."
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
        meta = read_meta(current_generation(index_path), index_path)
    except IndexStoreError:
        return False
    return meta.package_version == package_version()
