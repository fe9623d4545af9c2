"""Building an index from procedure pages (and other sources) into a fresh generation."""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from ..ingest.errors import PageSkipped, StrictModeError
from ..ingest.pages import DEFAULT_MAX_BYTES, load_pages
from ..ingest.processes import die_with_parent
from ..ingest.record import ProcedureDoc
from .documents import GENERATED_SOURCES, to_fields
from .errors import IndexDamagedError
from .schema import build_schema
from .segment import BulkSegmentWriter
from .store import clean_leftovers, new_generation_dir, new_meta, publish, write_meta, writer_lock

PAGES = "pages"
ICD10PCS = "icd10pcs"
SOURCES = (PAGES, ICD10PCS)

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``; phases are "reading pages", "reading icd10pcs", "indexing"."""


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
    extra: dict[str, int] = field(default_factory=dict)

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(skip.reason for skip in self.skipped))

    def to_dict(self) -> dict[str, object]:
        return {
            "index": str(self.index_path),
            "generation": self.generation,
            "indexed": self.indexed,
            "sources": self.sources,
            "skipped": [skip.to_dict() for skip in self.skipped],
            "skipped_by_reason": self.skipped_by_reason(),
            "seconds": round(self.seconds, 3),
        }


def collect_docs(
    corpus_dir: Path | None,
    sources: Sequence[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: ProgressCallback | None = None,
) -> tuple[list[ProcedureDoc], list[SkippedPage], dict[str, int]]:
    """Read every document of the chosen sources; a code already seen in an earlier source wins."""
    docs: list[ProcedureDoc] = []
    skipped: list[SkippedPage] = []
    counts: dict[str, int] = {}
    if PAGES in sources:
        if corpus_dir is None:
            raise ValueError("the pages source needs a corpus folder")
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
    return docs, skipped, counts


def build_index(
    corpus_dir: Path | str | None,
    index_path: Path | str,
    *,
    sources: Sequence[str] = (PAGES,),
    max_bytes: int = DEFAULT_MAX_BYTES,
    lock_timeout: float = 0.0,
    progress: ProgressCallback | None = None,
    strict: bool = False,
) -> IndexReport:
    """Build a complete new index generation from ``corpus_dir`` and swap it in atomically.

    The previous generation keeps serving until the new one is complete, checked and on disk.
    With ``strict``, any skipped page raises StrictModeError and the index is left as it was.
    """
    corpus_dir, index_path = (Path(corpus_dir) if corpus_dir is not None else None), Path(index_path)
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown source {sorted(unknown)[0]!r}; choose from {', '.join(SOURCES)}")
    started = time.perf_counter()
    with writer_lock(index_path, lock_timeout):
        docs, skipped, counts = collect_docs(corpus_dir, sources, max_bytes=max_bytes, progress=progress)
        if strict and skipped:
            listed = "; ".join(f"{s.source}: {s.reason}" for s in skipped[:5])
            raise StrictModeError(f"{len(skipped)} page(s) skipped, index left unchanged (--strict): {listed}")
        built = new_generation_dir(index_path)
        try:
            write_docs(built, docs, progress=progress)
            write_meta(built, new_meta(len(docs), counts))
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
    )


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
        writer.cancel()
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
        writer.cancel()
        results.put((start, None, f"{type(exc).__name__}: {exc}"))


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
                    raise IndexDamagedError("an index worker process died") from None
                if not waiting and all(p.exitcode is not None for p in started):
                    raise IndexDamagedError("an index worker ended without sending its segment") from None
                continue
            if error:
                raise IndexDamagedError(f"an index worker failed: {error}")
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
        writer.cancel()
        raise
    finally:
        _SHARED.clear()


def _check(directory: Path, expected: int) -> None:
    """Open what was just written and compare its document count before it is published."""
    ix = whoosh_index.open_dir(str(directory))
    try:
        count = ix.doc_count()
    finally:
        ix.close()
    if count != expected:
        raise IndexDamagedError(f"{directory}: wrote {expected} documents but the index holds {count}")


def _skipped(skip: PageSkipped) -> SkippedPage:
    return SkippedPage(skip.source, skip.reason, skip.detail)


def ensure_index(
    index_path: Path,
    corpus_dir: Path,
    *,
    progress: ProgressCallback | None = None,
) -> IndexReport | None:
    """Build ``index_path`` from ``corpus_dir`` if it is missing, or was built by another version.

    Used for the default index over the bundled corpus, so a first search just works. Returns
    the build report, or None when the index was already usable.
    """
    from .store import index_is_current

    if index_is_current(index_path):
        return None
    return build_index(corpus_dir, index_path, progress=progress, lock_timeout=60.0)
