"""Checksums of a generation's files, and the record of the generations an index published.

Every generation holds ``MANIFEST.json``: the size and SHA-256 of each of its files, written when
it is published. Opening a generation checks the small files in full (the table of contents,
procsearch.json, the field-length columns: under a millisecond together, even on the full
index); ``verify``, ``rollback`` and ``reindex`` check every file. The index directory holds
``PUBLISHED``: the SHA-256 of each published generation's manifest, so a generation this index
did not publish (or whose manifest was changed) is never served by a rollback.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import REBUILD, Remedy
from .errors import IndexDamagedError, IndexVersionError

MANIFEST = "MANIFEST.json"
PUBLISHED = "PUBLISHED"
MANIFEST_FORMAT = 2
OPEN_CHECK_BYTES = 1 << 20
"""Files up to this size (by the manifest) are checked in full every time a generation opens."""
_CHUNK = 1 << 20

ByteProgress = Callable[[int, int], None]
"""Called as ``progress(bytes_done, bytes_total)`` while files are checked."""


@dataclass(frozen=True)
class FileRecord:
    """What the manifest says about one file."""

    size: int
    sha256: str


def is_bookkeeping(name: str) -> bool:
    """Files of a generation that are not part of its content: the manifest, Whoosh's lock file."""
    return name == MANIFEST or name.endswith("WRITELOCK") or name.startswith(f"{MANIFEST}.")


def file_digest(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """SHA-256 of a file, read in chunks (``progress`` gets the bytes read each time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def write_manifest(generation: Path, known: Mapping[str, FileRecord] | None = None) -> str:
    """Record every file's size and checksum; return the SHA-256 of the manifest written.

    ``known`` gives the records of files linked from a generation they were just checked
    against, so what is recorded is what was published there, not what the file holds now.
    """
    known = known or {}
    files: dict[str, dict[str, object]] = {}
    for path in sorted(generation.iterdir()):
        if not path.is_file() or is_bookkeeping(path.name):
            continue
        size = path.stat().st_size
        record = known.get(path.name)
        digest = record.sha256 if record is not None and record.size == size else file_digest(path)
        files[path.name] = {"size": size, "sha256": digest}
    data = (json.dumps({"format": MANIFEST_FORMAT, "files": files}, indent=1) + "\n").encode("utf-8")
    temporary = generation / f"{MANIFEST}.tmp"  # replace, never rewrite: the old one may be a hard link
    temporary.write_bytes(data)
    os.replace(temporary, generation / MANIFEST)
    return hashlib.sha256(data).hexdigest()


def linked_records(source: Path, target: Path, records: Mapping[str, FileRecord]) -> dict[str, FileRecord]:
    """The records of ``source`` for the files of ``target`` that are still hard links to them."""
    linked = {}
    for name, record in records.items():
        try:
            if os.path.samefile(source / name, target / name):
                linked[name] = record
        except FileNotFoundError:
            continue
    return linked


def read_manifest(generation: Path, index_path: Path) -> tuple[dict[str, FileRecord], str]:
    """A generation's file records and the SHA-256 of its manifest."""
    path = generation / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IndexVersionError(
            f"{generation} has no {MANIFEST}: it was built by an older procsearch, before index files had checksums.",
            remedies=[Remedy(REBUILD, index_path)],
        ) from None
    except OSError as exc:
        raise IndexDamagedError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        parsed = json.loads(data.decode("utf-8"))
        if not isinstance(parsed, dict) or "format" not in parsed:
            raise IndexVersionError(
                f"{path} records no checksums: it was built by an older procsearch.",
                remedies=[Remedy(REBUILD, index_path)],
            )
        records = {
            str(name): FileRecord(int(entry["size"]), str(entry["sha256"])) for name, entry in parsed["files"].items()
        }
    except IndexVersionError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IndexDamagedError(f"{path} is damaged ({type(exc).__name__}: {exc})") from exc
    return records, hashlib.sha256(data).hexdigest()


def check_files(
    generation: Path,
    records: Mapping[str, FileRecord],
    *,
    full: bool,
    progress: ByteProgress | None = None,
) -> list[str]:
    """Problems with a generation's files: missing, resized, changed, or not in the manifest.

    Checks the checksum of every file when ``full``, else only of the files of at most
    :data:`OPEN_CHECK_BYTES` (and of every table of contents, whatever its size).
    """
    problems: list[str] = []
    present = {p.name for p in generation.iterdir() if not is_bookkeeping(p.name)}
    problems.extend(f"{name} is not part of the published generation" for name in sorted(present - set(records)))
    to_hash: list[tuple[str, FileRecord]] = []
    for name, record in sorted(records.items()):
        try:
            size = (generation / name).stat().st_size
        except FileNotFoundError:
            problems.append(f"{name} is missing")
            continue
        if size != record.size:
            problems.append(f"{name} has {size:,} bytes, {record.size:,} when published")
        elif full or record.size <= OPEN_CHECK_BYTES or name.endswith(".toc"):
            to_hash.append((name, record))
    total = sum(record.size for _, record in to_hash)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    for name, record in to_hash:
        try:
            digest = file_digest(generation / name, advance if progress else None)
        except FileNotFoundError:
            problems.append(f"{name} is missing")
            continue
        if digest != record.sha256:
            problems.append(f"{name} does not match its checksum (changed since it was published)")
    return problems


def read_published(index_path: Path) -> dict[str, str]:
    """Generation name -> SHA-256 of its manifest, for every generation this index published."""
    try:
        data = json.loads((index_path / PUBLISHED).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise IndexDamagedError(f"{index_path / PUBLISHED} is damaged ({exc})") from exc
    if not isinstance(data, dict):
        raise IndexDamagedError(f"{index_path / PUBLISHED} is damaged (not a JSON object)")
    return {str(name): str(digest) for name, digest in data.items()}


def write_published(index_path: Path, published: Mapping[str, str], keep: Iterable[str]) -> None:
    """Replace the record of published generations, keeping the entries of ``keep`` only."""
    kept = set(keep)
    data = {name: digest for name, digest in sorted(published.items()) if name in kept}
    temporary = index_path / f"{PUBLISHED}.tmp-{os.getpid()}"
    temporary.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    temporary.chmod(0o644)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, index_path / PUBLISHED)
