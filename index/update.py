"""Incremental re-indexing by content hash, into a new generation swapped in atomically.

Planning is a pure function (:func:`plan_changes`); applying the plan copies the current
generation by hard links (Whoosh never rewrites a segment file, so the copy is free and the old
generation stays intact for readers), applies deletions and additions in one commit, flushes it
to disk, and swaps the CURRENT pointer.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.writing import MERGE_SMALL

from ..errors import REBUILD, ROLLBACK, Remedy
from ..ingest.blocks import PageBlocks
from ..ingest.coverage import PageCoverage, ParseReport, page_coverage
from ..ingest.errors import PageSkipped, StrictModeError
from ..ingest.pages import (
    DEFAULT_MAX_BYTES,
    find_pages,
    page_blocks_from_bytes,
    read_page_bytes,
    scan_pages,
)
from ..ingest.pageset import PageEntry, finish_page, settle
from ..ingest.parse import assemble
from ..ingest.record import ProcedureDoc
from .build import (
    COMPOUND,
    ProgressCallback,
    SkippedPage,
    build_index,
    cancel_writer,
    text_bytes,
)
from .documents import GENERATED_SOURCES, PAGES, SOURCES, to_fields
from .errors import IndexDamagedError, IndexMissingError, IndexVersionError
from .manifest import linked_records, read_manifest
from .pagetable import read_page_table, write_page_table
from .publishing import check_deletions, recorded_sources, reporting_full_disk
from .store import (
    check_generation_files,
    clean_leftovers,
    current_generation,
    damaged_error,
    new_generation_dir,
    new_meta,
    open_whoosh,
    publish,
    read_meta,
    write_meta,
    writer_lock,
)

METADATA_BYTES = 64 * 1024
"""Room for a generation's table of contents, metadata and manifest (a few KB each)."""

PAGE_SOURCE_PREFIXES_EXCLUDED = GENERATED_SOURCES
"""Documents from other sources are never touched by a pages re-index."""


@dataclass(frozen=True)
class ChangePlan:
    """What a re-index will do, by source path."""

    add: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.add or self.update or self.delete)


def plan_changes(indexed: Mapping[str, str], current: Mapping[str, str]) -> ChangePlan:
    """Compare indexed (source -> hash) with the folder now (source -> hash)."""
    return ChangePlan(
        add=tuple(sorted(s for s in current if s not in indexed)),
        update=tuple(sorted(s for s in current if s in indexed and indexed[s] != current[s])),
        delete=tuple(sorted(s for s in indexed if s not in current)),
        unchanged=tuple(sorted(s for s in current if indexed.get(s) == current[s])),
    )


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


@dataclass(frozen=True)
class PageFile:
    """One candidate file of the folder, read once: its hash, and its bytes when they are to be
    parsed (a file that cannot be read as a page has the hash "" and the skip that says why)."""

    path: Path
    digest: str
    data: bytes | None = None
    skip: PageSkipped | None = None


def read_files(
    corpus_dir: Path,
    paths: list[Path] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    keep: Callable[[str, str], bool] = lambda source, digest: False,
    progress: ProgressCallback | None = None,
) -> dict[str, PageFile]:
    """source (path relative to the folder) -> :class:`PageFile` for every candidate file (or for
    ``paths``, the candidates of a :func:`scan_pages` of the folder). Each file is opened and read
    once (:func:`read_page_bytes`); its bytes are kept when ``keep(source, digest)`` says so, and
    what is parsed later is exactly what was hashed."""
    root = corpus_dir.resolve()
    paths = find_pages(root) if paths is None else paths
    result: dict[str, PageFile] = {}
    for done, path in enumerate(paths, 1):
        source = path.relative_to(root).as_posix()
        try:
            data, digest = read_page_bytes(path, root=root, max_bytes=max_bytes, source=source)
            result[source] = PageFile(path, digest, data if keep(source, digest) else None)
        except PageSkipped as skip:
            result[source] = PageFile(path, "", skip=skip)
        if progress and (done % 100 == 0 or done == len(paths)):
            progress("hashing pages", done, len(paths))
    return result


def file_hashes(
    corpus_dir: Path, paths: list[Path] | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, tuple[Path, str]]:
    """source -> (path, SHA-256 of the bytes) for every candidate file (see :func:`read_files`);
    a file that is too large or cannot be read gets the hash "" (read_page reports it)."""
    return {
        source: (file.path, file.digest) for source, file in read_files(corpus_dir, paths, max_bytes=max_bytes).items()
    }


def indexed_pages(generation: Path) -> dict[str, tuple[str, str]]:
    """source -> (code, content hash) of every page document in a generation.

    Walks the ``source`` terms rather than every stored document, and jumps over the terms of
    generated records (``icd10pcs:...``), so tens of thousands of ICD-10-PCS documents next to
    the pages cost nothing.
    """
    ix = open_whoosh(generation)
    try:
        with ix.searcher() as searcher:
            found: dict[str, tuple[str, str]] = {}
            for source in _page_sources(searcher.reader()):
                for docnum in searcher.document_numbers(source=source):
                    stored = searcher.reader().stored_fields(docnum)
                    found[source] = (stored["code"], stored.get("content_hash", ""))
            return found
    finally:
        ix.close()


def _page_sources(reader: Any) -> Iterator[str]:
    """The ``source`` terms in order, without the ranges of the generated sources' prefixes."""
    start = ""
    for prefix in [*sorted(PAGE_SOURCE_PREFIXES_EXCLUDED), None]:
        for fieldname, term in reader.terms_from("source", start):
            source = term.decode("utf-8") if isinstance(term, bytes) else term
            if fieldname != "source" or (prefix is not None and source >= prefix):
                break
            yield source
        if prefix is None:
            return
        start = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the first text after every prefix + ...


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
                remedies=[Remedy(REBUILD, index_path, corpus_dir, SOURCES)],
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
        docs, skipped, entries, boilerplate, reports = _read_changed(
            corpus_dir, plan, files, indexed, table, max_bytes=max_bytes, progress=progress
        )
        skipped[:0] = [SkippedPage(skip.source, skip.reason, skip.detail) for skip in scan.skipped]
        if strict and skipped:
            listed = "; ".join(f"{s.source}: {s.reason}" for s in skipped[:5])
            raise StrictModeError(f"{len(skipped)} page(s) skipped, index left unchanged (strict mode): {listed}")
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


def _read_changed(
    corpus_dir: Path,
    plan: ChangePlan,
    files: Mapping[str, PageFile],
    indexed: Mapping[str, tuple[str, str]],
    table: tuple[Mapping[str, PageEntry], frozenset[str]],
    *,
    max_bytes: int,
    progress: ProgressCallback | None,
) -> tuple[list[ProcedureDoc], list[SkippedPage], dict[str, PageEntry], frozenset[str], dict[str, ParseReport]]:
    """Parse new and changed files (from the bytes they were hashed from), and the unchanged
    ones that the set-wide rules now read differently (a block became or stopped being site
    boilerplate, an id had to grow); apply the duplicate rule of a full build (the path that
    sorts first keeps the code). Returns the documents, the skips, the new page table with its
    boilerplate, and how each page was read."""
    stored, old_boilerplate = table
    root = corpus_dir.resolve()
    todo = sorted({*plan.add, *plan.update})
    pages: dict[str, PageBlocks] = {}
    first: dict[str, ParseReport] = {}
    skipped: list[SkippedPage] = []

    def read(sources: list[str]) -> None:
        for done, source in enumerate(sources, 1):
            file = files[source]
            try:
                if file.skip is not None:
                    raise file.skip
                data = file.data
                if data is None:  # an unchanged file, read again because the rules changed
                    data, _digest = read_page_bytes(file.path, root=root, max_bytes=max_bytes, source=source)
                page = page_blocks_from_bytes(data, source=source, suffix=file.path.suffix)
                first[source] = assemble(page, source=source)
                pages[source] = page
            except PageSkipped as skip:
                skipped.append(SkippedPage(skip.source, skip.reason, skip.detail))
            finally:
                if progress:
                    progress("reading pages", done, len(sources))

    read(todo)
    entries = {
        s: entry for s, entry in stored.items() if s in files and s in indexed and s not in first and s not in todo
    }
    entries.update((source, PageEntry.of(report)) for source, report in first.items())
    settled = settle(entries)
    flipped = old_boilerplate ^ settled.boilerplate
    again = sorted(
        source
        for source, entry in entries.items()
        if source not in first and (entry.fingerprints & flipped or settled.ids[source] != indexed[source][0])
    )
    read(again)

    owners = {
        code: source
        for source, (code, _) in indexed.items()
        if source not in plan.update and source not in plan.delete and source not in first
    }
    # Two files are one page when they carry the same code or the same canonical URL (as in a full build).
    by_url = {
        entry.canonical.rstrip("/"): source
        for source, entry in entries.items()
        if entry.canonical and source not in first and source in indexed
    }
    finished: dict[str, ParseReport] = {}
    docs: list[ProcedureDoc] = []
    for source in sorted(first):
        try:
            report = finish_page(pages[source], first[source], source, settled.boilerplate, settled.ids[source])
        except PageSkipped as skip:  # nothing but the site's boilerplate on it
            skipped.append(SkippedPage(skip.source, skip.reason, skip.detail))
            continue
        finished[source] = report
        doc = report.doc
        reason = "duplicate code" if doc.code_system else "duplicate page"
        url = report.canonical_url.rstrip("/")
        holder = owners.get(doc.code)
        same = f"{doc.code} is also in"
        if holder is None and url and by_url.get(url, source) != source:
            holder, reason, same = by_url[url], "duplicate page", "the same canonical URL as"
        if holder is not None and holder != source:
            if holder < source:
                skipped.append(SkippedPage(source, reason, f"{same} {holder}, which is kept"))
                continue
            # The new file sorts first: it takes the code, and the old holder is dropped.
            skipped.append(SkippedPage(holder, reason, f"{same} {source}, which is kept"))
            docs = [d for d in docs if d.source != holder]
        owners[doc.code] = source
        if url:
            by_url[url] = source
        docs.append(doc)
    kept = {doc.source for doc in docs}
    return docs, skipped, entries, settled.boilerplate, {s: r for s, r in finished.items() if s in kept}


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
