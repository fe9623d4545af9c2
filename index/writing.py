"""Writing records into a Whoosh index in a generation directory, in one commit: one process for
a small build, one forked process per core (each writing its own segment) for a large one; and
the disk space that takes.

Used by :mod:`.build` (a whole generation) and :mod:`.update` (the changed records).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import IndexingError, SegmentWriter

from ..ingest.processes import die_with_parent
from ..ingest.record import ProcedureDoc
from ..ingest.sources import GENERATED_PREFIXES
from ..progress import ProgressCallback
from .documents import to_fields
from .errors import BuildWorkerError, IndexDamagedError, IndexStoreError
from .publishing import FULL_DISK
from .schema import build_schema
from .segment import BulkSegmentWriter, commit_segments
from .store import current_generation, open_whoosh, read_meta

BYTES_PER_CHARACTER = {"pages": 9.0, "generated": 2.0}
"""Index bytes per character of text, as measured (BENCHMARKS.md): pages store and index all their
text; generated records repeat whole definitions, whose stored copies compress and whose analysis
is shared."""

NOT_PUBLISHED = "nothing was published: the index is unchanged"


def text_bytes(docs: Sequence[ProcedureDoc]) -> int:
    """Roughly the index bytes ``docs`` take, from their amount of text."""
    return int(
        sum(
            _text_size(doc) * BYTES_PER_CHARACTER["generated" if doc.source.startswith(GENERATED_PREFIXES) else "pages"]
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
open, where separate files are memory-mapped (BENCHMARKS.md, "Opening an index")."""

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
        yield to_fields(doc, spelled if doc.source.startswith(GENERATED_PREFIXES) else None)


MAX_WORKERS = 4
CHUNK_CHARS = 32_000_000
"""Characters of text per segment in a parallel build: few enough to bound a worker's memory (it
holds its segment's postings until it writes them), many enough to keep the segment count low
(every search pays a little per segment): the full build of pages and ICD-10-PCS codes writes two
segments (BENCHMARKS.md, "Scale")."""
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
        results.put((start, writer.finish_segment(), None))
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
        commit_segments(writer, [segment for _, segment in sorted(segments, key=lambda item: item[0])])
    except BaseException:
        for process in started:
            if process.is_alive():
                process.kill()
        cancel_writer(writer)
        raise
    finally:
        _SHARED.clear()


def check_written(directory: Path, expected: int) -> None:
    """Open what was just written and compare its document count before it is published."""
    ix = open_whoosh(directory)
    try:
        count = ix.doc_count()
    finally:
        ix.close()
    if count != expected:
        raise IndexDamagedError(f"{directory}: wrote {expected} documents but the index holds {count}")
