"""Incremental re-indexing by content hash, into a new generation swapped in atomically.

Planning is a pure function (:func:`.changes.plan_changes`, with what the folder and the index
hold now and the changed pages read in :mod:`.changes`); applying the plan copies the current
generation by hard links (Whoosh never rewrites a segment file, so the copy is free and the old
generation stays intact for readers), applies deletions and additions in one commit, flushes it
to disk, and swaps the CURRENT pointer.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.writing import MERGE_SMALL

from ..errors import REBUILD, ROLLBACK, Remedy
from ..ingest.coverage import PageCoverage, page_coverage
from ..ingest.pages import (
    DEFAULT_MAX_BYTES,
    scan_pages,
)
from ..ingest.record import ProcedureDoc
from ..ingest.skips import SkippedPage, check_strict
from ..ingest.sources import PAGES, SOURCE_NAMES
from ..progress import ProgressCallback
from .build import build_index
from .changes import indexed_pages, plan_changes, read_changed, read_files
from .documents import to_fields
from .errors import IndexDamagedError, IndexMissingError, IndexVersionError
from .generations import clean_leftovers, new_generation_dir, publish, write_meta
from .lock import writer_lock
from .manifest import linked_records, read_manifest
from .pagetable import read_page_table, write_page_table
from .publishing import check_deletions, recorded_sources, reporting_full_disk
from .store import check_generation_files, current_generation, damaged_error, new_meta, open_whoosh, read_meta
from .writing import COMPOUND, cancel_writer, text_bytes

METADATA_BYTES = 64 * 1024
"""Room for a generation's table of contents, metadata and manifest (a few KB each)."""


@dataclass(frozen=True)
class ReindexReport:
    """What a re-index did."""

    index_path: Path
    generation: str
    added: int
    updated: int
    deleted: int
    unchanged: int
    skipped: tuple[SkippedPage, ...]
    seconds: float
    rebuilt: bool = False
    documents: int = 0
    removed_leftovers: int = 0
    changed_codes: tuple[str, ...] = field(default=())
    pages: tuple[PageCoverage, ...] = ()
    """The coverage of each page read and indexed by this run."""

    @property
    def low_coverage(self) -> tuple[PageCoverage, ...]:
        return tuple(page for page in self.pages if page.coverage.suspicious)

    def to_dict(self) -> dict[str, object]:
        return {
            "index": str(self.index_path),
            "generation": self.generation,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "documents": self.documents,
            "rebuilt": self.rebuilt,
            "skipped": [s.to_dict() for s in self.skipped],
            "seconds": round(self.seconds, 3),
            "removed_leftovers": self.removed_leftovers,
            "pages": [page.to_dict() for page in self.pages],
            "low_coverage": [page.source for page in self.low_coverage],
        }


def reindex(
    corpus_dir: Path,
    index_path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    lock_timeout: float = 0.0,
    progress: ProgressCallback | None = None,
    strict: bool = False,
    max_delete: int | None = None,
    allow_empty: bool = False,
) -> ReindexReport:
    """Bring the index in line with ``corpus_dir``: add new pages, re-index changed ones, delete
    removed ones, leave the rest untouched; all in one new generation. With no index yet (or an
    index from another version) it builds one from scratch. ``max_delete`` and ``allow_empty``
    bound the documents a run may remove, as for :func:`build_index`."""
    started = time.perf_counter()
    try:
        generation = current_generation(index_path)
        read_meta(generation, index_path)
        read_manifest(generation, index_path)
        if read_page_table(generation) is None:
            raise IndexVersionError(f"{generation} has no page table")  # built by an older version
    except (IndexMissingError, IndexVersionError) as exc:  # nothing to update, or an older schema: build anew
        if isinstance(exc, IndexVersionError) and recorded_sources(index_path) is None:
            raise IndexDamagedError(
                f"{exc.message} Its metadata and files cannot be read, so it is unknown which sources it held; "
                f"rebuild every one of them.",
                remedies=[Remedy(REBUILD, index_path, corpus_dir, SOURCE_NAMES)],
            ) from exc
        report = build_index(
            corpus_dir,
            index_path,
            max_bytes=max_bytes,
            lock_timeout=lock_timeout,
            progress=progress,
            strict=strict,
            max_delete=max_delete,
            allow_empty=allow_empty,
        )
        return ReindexReport(
            index_path,
            report.generation,
            report.indexed,
            0,
            0,
            0,
            report.skipped,
            time.perf_counter() - started,
            rebuilt=True,
            documents=report.indexed,
            pages=report.pages,
        )
    except IndexDamagedError:
        pass  # reported, with the command that repairs it, under the lock below
    with writer_lock(index_path, lock_timeout):
        generation = current_generation(index_path)  # another writer may have swapped it meanwhile
        meta = read_meta(generation, index_path)
        # Unchanged files are carried into the new generation by hard link: damage must not be.
        problems = check_generation_files(generation, index_path, full=True)
        if problems:
            raise damaged_error(
                index_path, generation, f"{generation.name}: {problems[0]}; a re-index would carry it forward"
            )
        records = read_manifest(generation, index_path)[0]
        try:
            indexed = indexed_pages(generation)
        except Exception as exc:
            raise IndexDamagedError(
                f"The index at {index_path} cannot be read ({type(exc).__name__}: {exc}).",
                remedies=[Remedy(ROLLBACK, index_path), Remedy(REBUILD, index_path)],
            ) from exc
        table = read_page_table(generation) or ({}, frozenset())
        scan = scan_pages(corpus_dir)
        hashes = {source: digest for source, (_, digest) in indexed.items()}
        files = read_files(
            corpus_dir,
            scan.paths,
            max_bytes=max_bytes,
            keep=lambda source, digest: hashes.get(source) != digest,
            progress=progress,
        )
        plan = plan_changes(hashes, {source: file.digest for source, file in files.items()})
        docs, skipped, entries, boilerplate, reports = read_changed(
            corpus_dir, plan, files, indexed, table, max_bytes=max_bytes, progress=progress
        )
        skipped[:0] = scan.skipped
        check_strict(skipped, strict)
        removed_sources = set(plan.update) | set(plan.delete) | {d.source for d in docs}
        removed_sources |= {s.source for s in skipped if s.source in indexed}
        new_sources = {d.source for d in docs}
        deleted = [s for s in removed_sources if s in indexed and s not in new_sources]
        added = sum(1 for d in docs if d.source not in indexed)
        check_deletions(
            index_path,
            meta.document_count,
            len(deleted),
            meta.document_count - len(deleted) + added,
            max_delete=max_delete,
            allow_empty=allow_empty,
        )
        if not docs and not removed_sources:
            removed = clean_leftovers(index_path)
            return ReindexReport(
                index_path,
                generation.name,
                0,
                0,
                0,
                len(plan.unchanged),
                tuple(skipped),
                time.perf_counter() - started,
                documents=meta.document_count,
                removed_leftovers=len(removed),
            )
        # The old segments are shared by hard link: the new ones and the metadata take the space.
        with reporting_full_disk(index_path, lambda: text_bytes(docs) + METADATA_BYTES):
            built = new_generation_dir(index_path)
            try:
                _link_copy(generation, built)
                count = _apply(built, removed_sources, docs)
                sources = dict(meta.sources)
                sources[PAGES] = sources.get(PAGES, 0) + count - meta.document_count
                write_meta(built, new_meta(count, sources, meta.releases))
                write_page_table(built, entries, boilerplate)
                final = publish(index_path, built, known=linked_records(generation, built, records))
            except BaseException:
                shutil.rmtree(built, ignore_errors=True)
                raise
        removed = clean_leftovers(index_path)
    return ReindexReport(
        index_path,
        final.name,
        added=added,
        updated=len(docs) - added,
        deleted=len(deleted),
        unchanged=len(plan.unchanged),
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
        documents=count,
        removed_leftovers=len(removed),
        changed_codes=tuple(sorted(d.code for d in docs)),
        pages=page_coverage(reports),
    )


def _link_copy(source: Path, target: Path) -> None:
    """Copy a generation by hard links (by copying where links are not possible)."""
    for item in source.iterdir():
        if not item.is_file() or item.name.endswith("WRITELOCK"):
            continue
        try:
            os.link(item, target / item.name)
        except OSError:
            shutil.copy2(item, target / item.name)


def _merge_policy(writer: Any, segments: list[Any]) -> list[Any]:
    """Drop segments whose documents were all deleted, and merge small segments as Whoosh does,
    so an index updated every night does not grow without bound. Untouched large segments stay
    as they are (and stay shared with the previous generation)."""
    return MERGE_SMALL(writer, [segment for segment in segments if segment.doc_count() > 0])


def _apply(directory: Path, removed_sources: set[str], docs: list[ProcedureDoc]) -> int:
    """Delete and add in one commit; return the new document count."""
    ix = open_whoosh(directory, readonly=False)
    try:
        writer = ix.writer(limitmb=128, compound=COMPOUND)
        try:
            for source in sorted(removed_sources):
                writer.delete_by_term("source", source)
            for doc in docs:
                writer.delete_by_term("code", doc.code)
                writer.add_document(**to_fields(doc))
            writer.commit(mergetype=_merge_policy)
        except BaseException:
            cancel_writer(writer)
            raise
        return ix.doc_count()
    finally:
        ix.close()
