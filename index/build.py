"""Building an index from procedure pages (and other sources) into a fresh generation."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import IndexingError, SegmentWriter

from ..errors import UsageError
from ..ingest.coverage import PageCoverage, page_coverage
from ..ingest.errors import PageSkipped, StrictModeError
from ..ingest.pages import DEFAULT_MAX_BYTES, PageBatch, load_pages
from ..ingest.processes import die_with_parent
from ..ingest.record import ProcedureDoc
from .documents import GENERATED_SOURCES, ICD10PCS, PAGES, SOURCES, to_fields
from .errors import BuildWorkerError, IndexDamagedError, IndexMissingError, IndexStoreError
from .pagetable import write_page_table
from .publishing import FULL_DISK, check_deletions, recorded_sources, reporting_full_disk, serving_codes
from .schema import build_schema
from .segment import BulkSegmentWriter
from .store import (
    clean_leftovers,
    current_generation,
    new_generation_dir,
    new_meta,
    open_whoosh,
    publish,
    read_meta,
    write_meta,
    writer_lock,
)

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``; phases are "reading pages", "reading icd10pcs", "indexing"
and, for a re-index, "hashing pages"."""

NOT_PUBLISHED = "nothing was published: the index is unchanged"


@dataclass(frozen=True)
class SkippedPage:
    """A file that was not indexed, and why."""

    source: str
    reason: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class IndexReport:
    """What a build did: documents indexed per source, files skipped with reasons, time taken."""

    index_path: Path
    generation: str
    indexed: int
    sources: dict[str, int]
    skipped: tuple[SkippedPage, ...]
    seconds: float
    removed_leftovers: int = 0
    pages: tuple[PageCoverage, ...] = ()
    """How much of each page reached its record (see :class:`PageCoverage`)."""

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(skip.reason for skip in self.skipped))

    @property
    def low_coverage(self) -> tuple[PageCoverage, ...]:
        """Pages whose coverage is low for no strong reason: worth a look with ``procsearch parse``."""
        return tuple(page for page in self.pages if page.coverage.suspicious)

    def to_dict(self) -> dict[str, object]:
        return {
            "index": str(self.index_path),
            "generation": self.generation,
            "documents": self.indexed,
            "sources": self.sources,
            "skipped": [skip.to_dict() for skip in self.skipped],
            "skipped_by_reason": self.skipped_by_reason(),
            "seconds": round(self.seconds, 3),
            "removed_leftovers": self.removed_leftovers,
            "pages": [page.to_dict() for page in self.pages],
            "low_coverage": [page.source for page in self.low_coverage],
        }


def code_set_releases(counts: Mapping[str, int]) -> dict[str, str]:
    """The release of each code set an index holds, for ``stats``."""
    if not counts.get(ICD10PCS):
        return {}
    from ..ingest.icd10pcs.database import data_release

    return {ICD10PCS: data_release()}


def collect_docs(
    corpus_dir: Path | None,
    sources: Sequence[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: ProgressCallback | None = None,
) -> tuple[list[ProcedureDoc], list[SkippedPage], dict[str, int], PageBatch]:
    """Read every document of the chosen sources; a code already seen in an earlier source wins.
    The pages as read come back too: how each was read, and what the page table stores."""
    docs: list[ProcedureDoc] = []
    skipped: list[SkippedPage] = []
    counts: dict[str, int] = {}
    batch = PageBatch()
    if PAGES in sources:
        if corpus_dir is None:
            raise UsageError("the pages source needs a corpus folder")
        batch = load_pages(
            corpus_dir,
            max_bytes=max_bytes,
            progress=(lambda done, total, _item: progress("reading pages", done, total)) if progress else None,
        )
        docs.extend(batch.docs)
        skipped.extend(_skipped(skip) for skip in batch.skipped)
        counts[PAGES] = len(batch.docs)
    if ICD10PCS in sources:
        from ..ingest.icd10pcs import count_icd10pcs_codes, iter_icd10pcs_docs

        seen = {doc.code for doc in docs}
        total = count_icd10pcs_codes()
        added = 0
        for done, doc in enumerate(iter_icd10pcs_docs(), 1):
            if doc.code not in seen:
                docs.append(doc)
                added += 1
            if progress and (done % 2000 == 0 or done == total):
                progress("reading icd10pcs", done, total)
        counts[ICD10PCS] = added
    return docs, skipped, counts, batch


def build_index(
    corpus_dir: Path | str | None,
    index_path: Path | str,
    *,
    sources: Sequence[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    lock_timeout: float = 0.0,
    progress: ProgressCallback | None = None,
    strict: bool = False,
    max_delete: int | None = None,
    allow_empty: bool = False,
) -> IndexReport:
    """Build a complete new index generation from ``corpus_dir`` and swap it in atomically.

    ``sources`` defaults to the pages plus every other source the index holds now (see
    :func:`recorded_sources`), so a rebuild never drops the ICD-10-PCS codes of an index.
    The previous generation keeps serving until the new one is complete, checked and on disk.
    With ``strict``, any skipped page raises StrictModeError and the index is left as it was.
    A build that would remove more of the serving documents than ``max_delete`` (default: half
    of them), or all of them without ``allow_empty``, raises DeletionLimitError, index unchanged.
    """
    corpus_dir, index_path = (Path(corpus_dir) if corpus_dir is not None else None), Path(index_path)
    if sources is not None:
        unknown = set(sources) - set(SOURCES)
        if unknown:
            raise UsageError(f"unknown source {sorted(unknown)[0]!r}; choose from {', '.join(SOURCES)}")
    started = time.perf_counter()
    with writer_lock(index_path, lock_timeout):
        held = recorded_sources(index_path) or ()
        if sources is None:
            sources = (PAGES, *(name for name in held if name != PAGES))
        docs, skipped, counts, batch = collect_docs(corpus_dir, sources, max_bytes=max_bytes, progress=progress)
        if strict and skipped:
            listed = "; ".join(f"{s.source}: {s.reason}" for s in skipped[:5])
            raise StrictModeError(f"{len(skipped)} page(s) skipped, index left unchanged (strict mode): {listed}")
        serving, codes = serving_codes(index_path)
        deleting = len(codes - {doc.code for doc in docs}) if codes is not None else max(0, serving - len(docs))
        check_deletions(
            index_path,
            serving,
            deleting,
            len(docs),
            max_delete=max_delete,
            allow_empty=allow_empty,
            unbuilt=tuple(name for name in held if name not in sources),
        )
        with reporting_full_disk(index_path, lambda: estimate_size(index_path, docs)):
            built = new_generation_dir(index_path)
            try:
                write_docs(built, docs, progress=progress)
                write_meta(built, new_meta(len(docs), counts, code_set_releases(counts)))
                write_page_table(built, batch.entries, batch.boilerplate)
                _check(built, len(docs))
                generation = publish(index_path, built)
            except BaseException:
                shutil.rmtree(built, ignore_errors=True)
                raise
        removed = clean_leftovers(index_path)
    return IndexReport(
        index_path=index_path,
        generation=generation.name,
        indexed=len(docs),
        sources=counts,
        skipped=tuple(skipped),
        seconds=time.perf_counter() - started,
        removed_leftovers=len(removed),
        pages=page_coverage(batch.reports),
    )


BYTES_PER_CHARACTER = {"pages": 9.0, "generated": 2.0}
"""Index bytes per character of text, as measured (BENCHMARKS.md): pages store and index all their
text; generated records repeat whole definitions, whose stored copies compress and whose analysis
is shared."""


def text_bytes(docs: Sequence[ProcedureDoc]) -> int:
    """Roughly the index bytes ``docs`` take, from their amount of text."""
    return int(
        sum(
            _text_size(doc) * BYTES_PER_CHARACTER["generated" if doc.source.startswith(GENERATED_SOURCES) else "pages"]
            for doc in docs
        )
    )


def estimate_size(index_path: Path, docs: Sequence[ProcedureDoc]) -> int:
    """Roughly the bytes a generation of ``docs`` takes: scaled from the serving generation when
    there is one, else from the amount of text."""
    by_text = text_bytes(docs)
    try:
        generation = current_generation(index_path)
        serving = read_meta(generation, index_path).document_count
        size = sum(p.stat().st_size for p in generation.iterdir() if p.is_file())
    except (IndexStoreError, OSError):
        return by_text
    return int(size * len(docs) / serving) if serving else by_text


def cancel_writer(writer: Any) -> None:
    """Cancel a Whoosh writer after a failure. Whoosh marks a writer whose commit failed closed,
    and cancelling it then raises "This writer is closed" (cancelling on a full disk may fail
    too): the original error is the one to report. The files of the segment it was writing are
    closed here, since Whoosh leaves them open then."""
    with contextlib.suppress(IndexingError, OSError):
        writer.cancel()
    fieldwriter = getattr(writer, "fieldwriter", None)
    for handle in (
        getattr(getattr(fieldwriter, "_tindex", None), "dbfile", None),
        getattr(fieldwriter, "_postfile", None),
    ):
        if handle is not None:
            with contextlib.suppress(Exception):  # closing flushes, and the disk may still be full
                handle.close()


COMPOUND = False
"""Segments stay as separate files: whoosh3 copies a compound segment file into memory on every
open (about 4x the memory and 2x the open time of separate, memory-mapped files)."""

PARALLEL_THRESHOLD = 4000
"""Below this many documents one process writes the index; above it, one process per core."""


def write_docs(directory: Path, docs: Iterable[ProcedureDoc], *, progress: ProgressCallback | None = None) -> None:
    """Create a Whoosh index in ``directory`` holding ``docs``, in one commit.

    Large builds use every core: each worker process (forked, so the documents are shared, not
    copied) writes its own segment, and one table of contents lists them all.
    """
    docs = list(docs)
    ix = whoosh_index.create_in(str(directory), build_schema())
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if len(docs) >= PARALLEL_THRESHOLD and workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        _write_parallel(ix, docs, workers, progress)
        return
    writer = BulkSegmentWriter(ix, compound=COMPOUND)
    try:
        for done, fields in enumerate(document_fields(docs), 1):
            writer.add_document(**fields)
            if progress and (done % 500 == 0 or done == len(docs)):
                progress("indexing", done, len(docs))
        writer.commit()
    except BaseException:
        cancel_writer(writer)
        raise


def document_fields(docs: Iterable[ProcedureDoc]) -> Iterator[dict[str, Any]]:
    """The Whoosh documents of one segment's records: generated records share one set of the
    words already in the segment's spelling vocabulary (see :func:`to_fields`)."""
    spelled: set[str] = set()
    for doc in docs:
        yield to_fields(doc, spelled if doc.source.startswith(GENERATED_SOURCES) else None)


MAX_WORKERS = 4
CHUNK_CHARS = 32_000_000
"""Characters of text per segment in a parallel build: few enough to bound a worker's memory (it
holds its segment's postings until it writes them: about 130 MB for 32 million characters of
ICD-10-PCS records), many enough to keep the segment count low (every search pays a little per
segment). The full build (pages and ICD-10-PCS, 60 million characters) writes two segments."""
_SHARED: list[ProcedureDoc] = []  # the documents, inherited by forked workers


def _write_segment(ix: Any, start: int, stop: int, results: Any, counter: Any, parent: int) -> None:
    """Worker: index ``_SHARED[start:stop]`` into a new segment and send the segment back."""
    die_with_parent(parent)
    writer = BulkSegmentWriter(ix, _lk=False, compound=COMPOUND)
    try:
        for done, fields in enumerate(document_fields(_SHARED[start:stop]), 1):
            writer.add_document(**fields)
            if done % 500 == 0:
                with counter.get_lock():
                    counter.value += 500
        results.put((start, writer._finalize_segment(), None))
    except BaseException as exc:  # reported to the parent, which raises it
        cancel_writer(writer)
        results.put((start, None, (f"{type(exc).__name__}: {exc}", getattr(exc, "errno", None))))


def _chunks(sizes: list[int], workers: int) -> list[tuple[int, int]]:
    """(start, stop) ranges of documents, none empty, with about the same amount of text each:
    about :data:`CHUNK_CHARS` or less a range, and ``workers`` ranges or more unless the documents
    are too few (or one of them too large) to share out."""
    total = sum(sizes)
    count = min(len(sizes), max(workers, -(-total // CHUNK_CHARS)))
    ranges: list[tuple[int, int]] = []
    start = running = 0
    for index, size in enumerate(sizes):
        running += size
        last = index + 1 == len(sizes)  # the last range must keep at least one document
        if len(ranges) < count - 1 and not last and running * count >= total * (len(ranges) + 1):
            ranges.append((start, index + 1))
            start = index + 1
    ranges.append((start, len(sizes)))
    return ranges


def _text_size(doc: ProcedureDoc) -> int:
    return len(doc.title) + sum(map(len, doc.common_names)) + sum(map(len, doc.sections.values())) + len(doc.other_text)


def _write_parallel(ix: Any, docs: list[ProcedureDoc], workers: int, progress: ProgressCallback | None) -> None:
    """Index ``docs`` in chunks of about :data:`CHUNK_CHARS` characters or less, ``workers`` forked
    processes at a time, each writing one segment; then commit one table of contents listing them all."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    counter = context.Value("l", 0)
    waiting = _chunks([_text_size(doc) for doc in docs], workers)
    _SHARED[:] = docs
    writer = SegmentWriter(ix, limitmb=16)  # holds the Whoosh lock and commits the table of contents
    started: list[Any] = []
    try:
        segments: list[tuple[int, Any]] = []
        expected = len(waiting)
        while len(segments) < expected:
            while waiting and sum(process.exitcode is None for process in started) < workers:
                start, stop = waiting.pop(0)
                process = context.Process(target=_write_segment, args=(ix, start, stop, results, counter, os.getpid()))
                process.start()
                started.append(process)
            try:
                start, segment, error = results.get(timeout=0.5)
            except queue.Empty:
                if progress:
                    progress("indexing", min(counter.value, len(docs)), len(docs))
                if any(p.exitcode not in (None, 0) for p in started):
                    raise BuildWorkerError(f"an index worker process died; {NOT_PUBLISHED}") from None
                if not waiting and all(p.exitcode is not None for p in started):
                    raise BuildWorkerError(
                        f"an index worker ended without sending its segment; {NOT_PUBLISHED}"
                    ) from None
                continue
            if error:
                message, code = error
                if code in FULL_DISK:
                    raise OSError(code, f"an index worker failed: {message}")
                raise BuildWorkerError(f"an index worker failed: {message}; {NOT_PUBLISHED}")
            segments.append((start, segment))
        for process in started:
            process.join()
        if progress:
            progress("indexing", len(docs), len(docs))
        writer._close_segment()  # the parent's own (empty) segment: closed, then removed with the leftovers
        writer._commit_toc([segment for _, segment in sorted(segments, key=lambda item: item[0])])
        writer._finish()
    except BaseException:
        for process in started:
            if process.is_alive():
                process.kill()
        cancel_writer(writer)
        raise
    finally:
        _SHARED.clear()


def _check(directory: Path, expected: int) -> None:
    """Open what was just written and compare its document count before it is published."""
    ix = open_whoosh(directory)
    try:
        count = ix.doc_count()
    finally:
        ix.close()
    if count != expected:
        raise IndexDamagedError(f"{directory}: wrote {expected} documents but the index holds {count}")


def _skipped(skip: PageSkipped) -> SkippedPage:
    return SkippedPage(skip.source, skip.reason, skip.detail)


MISSING = "missing"
OUTDATED = "outdated"
"""Why :func:`ensure_index` builds: there is no index yet, or the one there cannot be served (built
by another version of procsearch, or unreadable)."""


def ensure_index(
    index_path: Path,
    corpus_dir: Path,
    *,
    progress: ProgressCallback | None = None,
    building: Callable[[str], None] | None = None,
) -> IndexReport | None:
    """Build ``index_path`` from ``corpus_dir`` if it is missing, or was built by another version.

    Used for the default index over the bundled corpus, so a first search just works. Returns
    the build report, or None when the index was already usable (or another process, which this
    one waited for, has just built it). ``building(reason)`` is called just before a build
    starts, with :data:`MISSING` or :data:`OUTDATED`.
    """
    from .store import current_generation, index_is_current

    if index_is_current(index_path):
        return None
    with writer_lock(index_path, timeout=60.0):
        if index_is_current(index_path):
            return None
        if building is not None:
            try:
                current_generation(index_path)
                building(OUTDATED)
            except IndexMissingError:
                building(MISSING)
            except IndexStoreError:
                building(OUTDATED)
        # A cache of ``corpus_dir``: whatever it held goes, so no limit on what the rebuild removes.
        return build_index(corpus_dir, index_path, progress=progress, lock_timeout=60.0, max_delete=sys.maxsize)
