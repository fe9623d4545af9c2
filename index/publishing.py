"""What a run may publish: how many of the served documents it may remove, which sources the
index holds (so that a rebuild rebuilds them all), and a full disk reported as such.

Used by :func:`index.build.build_index` and :func:`index.update.reindex` before and while they
write a new generation; none of it writes to the index.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from whoosh import index as whoosh_index

from ..ingest.sources import PAGES, SOURCE_NAMES
from .errors import DeletionLimitError, DiskFullError, IndexStoreError
from .safety import check_safe
from .store import META, current_generation, generations, read_meta

MAX_DELETE_SHARE = 0.5
"""Unless told otherwise, a run may remove at most this share of the documents the index serves:
an empty, mistyped or unmounted folder must not wipe the index (like rsync's --max-delete)."""


def check_deletions(
    index_path: Path,
    serving: int,
    deleting: int,
    remaining: int,
    *,
    max_delete: int | None,
    allow_empty: bool,
    unbuilt: tuple[str, ...] = (),
) -> None:
    """Raise DeletionLimitError when a run removing ``deleting`` of ``serving`` documents (leaving
    ``remaining``) is not allowed: more than ``max_delete`` (default: :data:`MAX_DELETE_SHARE` of
    them), unless the run empties the index and ``allow_empty`` is set. ``unbuilt`` names the
    sources the index holds that the run does not rebuild (for the message)."""
    if deleting == 0 or (remaining == 0 and allow_empty):
        return
    limit = max_delete if max_delete is not None else int(serving * MAX_DELETE_SHARE)
    if deleting > limit:
        raise DeletionLimitError(
            index_path, serving=serving, deleting=deleting, remaining=remaining, limit=limit, unbuilt=unbuilt
        )


def recorded_sources(index_path: Path) -> tuple[str, ...] | None:
    """The sources the index at ``index_path`` holds documents of, in :data:`.sources.SOURCES` order.

    Read from the metadata of the current generation, whatever version wrote it; if that is lost,
    from the ``source`` terms of its files; then from the metadata of its other generations.
    None when there is no index, or nothing of it can be read.
    """
    try:
        generation = current_generation(index_path)
    except IndexStoreError:
        generation = None
    others = [g for g in reversed(generations(index_path)) if g != generation] if index_path.is_dir() else []
    found = _meta_sources(generation) if generation is not None else None
    if found is None and generation is not None:
        found = _term_sources(generation)
    for other in others:
        if found is not None:
            break
        found = _meta_sources(other)
    if found is None:
        return None
    return tuple(name for name in SOURCE_NAMES if name in found)


def _meta_sources(generation: Path) -> set[str] | None:
    """The sources a generation's procsearch.json lists with documents (None: no such file)."""
    try:
        recorded = json.loads((generation / META).read_text(encoding="utf-8")).get("sources")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(recorded, dict):
        return None
    return {name for name, count in recorded.items() if count}


def _term_sources(generation: Path) -> set[str] | None:
    """The sources a generation's documents come from, by their ``source`` terms: generated
    records carry their source's name as a prefix (``icd10pcs:0DTJ4ZZ``), pages a file path."""
    try:
        check_safe(generation)
        ix = whoosh_index.open_dir(str(generation), readonly=True)
    except Exception:  # unsafe, damaged or no index at all
        return None
    try:
        with ix.reader() as reader:
            found = set()
            for term in reader.lexicon("source"):
                name = term.decode("utf-8").partition(":")[0]
                found.add(name if name in SOURCE_NAMES and name != PAGES else PAGES)
                if len(found) == len(SOURCE_NAMES):
                    break
            return found
    except Exception:
        return None
    finally:
        ix.close()


def serving_codes(index_path: Path) -> tuple[int, frozenset[str] | None]:
    """How many documents the index serves now, and their codes (None when its files cannot be
    read: then only the count from its metadata is known). (0, None) when there is no index."""
    try:
        generation = current_generation(index_path)
    except IndexStoreError:
        return 0, None
    try:
        count = read_meta(generation, index_path).document_count
    except IndexStoreError:
        count = 0
    try:
        check_safe(generation)
        ix = whoosh_index.open_dir(str(generation), readonly=True)
    except Exception:  # unsafe, damaged or from another version: the count is all there is
        return count, None
    try:
        with ix.reader() as reader:
            codes = {term.decode("utf-8") for term in reader.lexicon("code")}
            if len(codes) != reader.doc_count():  # deleted documents leave their terms behind
                codes = {code for code in codes if reader.postings("code", code).is_active()}
        return len(codes), frozenset(codes)
    except Exception:
        return count, None
    finally:
        ix.close()


FULL_DISK = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
"""Errors that mean the disk (or the user's quota on it) is full."""


@contextlib.contextmanager
def reporting_full_disk(index_path: Path, needed: Callable[[], int]) -> Iterator[None]:
    """Turn a full disk while writing into DiskFullError, with the space the run needs
    (``needed()``, asked only then) and the space free once the unfinished work is removed."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in FULL_DISK:
            raise
        _close_abandoned_files(exc, index_path)
        try:
            free = shutil.disk_usage(index_path).free
        except OSError:
            free = 0
        raise DiskFullError(index_path, free=free, needed=needed()) from exc


def _close_abandoned_files(exc: BaseException, index_path: Path) -> None:
    """Close the files below ``index_path`` that a write that failed left open: Whoosh does not
    close the file it was writing when a write fails, so the file (and its disk space) stays held
    by the frames of the traceback. Looks in each frame's variables and in the attributes of its
    ``self``; files elsewhere (the caller's, stderr) are never touched."""
    inside = os.path.realpath(index_path) + os.sep
    tb = exc.__traceback__
    while tb is not None:
        scope = tb.tb_frame.f_locals
        owner = scope.get("self")
        candidates = [*scope.values(), *(vars(owner).values() if hasattr(owner, "__dict__") else ())]
        for value in candidates:
            handle = getattr(value, "file", value)  # Whoosh's StructFile wraps the real file
            name = getattr(handle, "name", None)
            if not isinstance(handle, io.IOBase) or handle.closed or not isinstance(name, str):
                continue
            if os.path.realpath(name).startswith(inside):
                with contextlib.suppress(Exception):  # closing flushes, and the disk may still be full
                    handle.close()
        tb = tb.tb_next
