"""Building an index from procedure pages (and other sources) into a fresh generation: the
build report, collecting the records of the chosen sources, and the build itself (deletion
limit, disk space, publish). Writing the records into Whoosh is :mod:`.writing`'s."""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..ingest.coverage import PageCoverage, page_coverage
from ..ingest.pages import DEFAULT_MAX_BYTES, PageBatch
from ..ingest.record import ProcedureDoc
from ..ingest.skips import SkippedPage, check_strict
from ..ingest.sources import ICD10PCS, PAGES, SOURCES, source_named, source_of
from ..progress import ProgressCallback
from .errors import IndexMissingError, IndexStoreError
from .generations import clean_leftovers, new_generation_dir, publish, write_meta
from .lock import writer_lock
from .pagetable import write_page_table
from .publishing import check_deletions, recorded_sources, reporting_full_disk, serving_codes
from .store import new_meta
from .writing import check_written, estimate_size, write_docs


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
    """Read every document of the chosen sources, in :data:`SOURCES` order; a code already seen
    in an earlier source wins. The pages as read come back too: how each was read, and what the
    page table stores."""
    docs: list[ProcedureDoc] = []
    skipped: list[SkippedPage] = []
    counts: dict[str, int] = {}
    pages = PageBatch()
    for source in SOURCES:
        if source.name not in sources:
            continue
        batch = source.read(corpus_dir, max_bytes=max_bytes, progress=progress)
        seen = {doc.code for doc in docs}
        added = [doc for doc in batch.docs if doc.code not in seen]
        docs.extend(added)
        skipped.extend(batch.skipped)
        counts[source.name] = len(added)
        if not source.generated:
            pages = batch
    return docs, skipped, counts, pages


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
    records: Iterable[ProcedureDoc] | None = None,
) -> IndexReport:
    """Build a complete new index generation from ``corpus_dir`` and swap it in atomically.

    ``records``, when given, are indexed instead of reading any source (``corpus_dir`` is then
    None): records made by hand or by another reader, each counted under the source its
    ``source`` names (:func:`.sources.source_of`). Their codes must differ.

    ``sources`` defaults to the pages plus every other source the index holds now (see
    :func:`recorded_sources`), so a rebuild never drops the ICD-10-PCS codes of an index.
    The previous generation keeps serving until the new one is complete, checked and on disk.
    With ``strict``, any skipped page raises StrictModeError and the index is left as it was.
    A build that would remove more of the serving documents than ``max_delete`` (default: half
    of them), or all of them without ``allow_empty``, raises DeletionLimitError, index unchanged.
    """
    corpus_dir, index_path = (Path(corpus_dir) if corpus_dir is not None else None), Path(index_path)
    for name in sorted(set(sources or ())):
        source_named(name)  # UsageError naming the choices
    started = time.perf_counter()
    with writer_lock(index_path, lock_timeout):
        held = recorded_sources(index_path) or ()
        if sources is None:
            sources = (PAGES, *(name for name in held if name != PAGES))
        if records is not None:
            docs, skipped, batch = list(records), [], PageBatch()
            counts = dict(Counter(source_of(doc.source).name for doc in docs))
            sources = tuple(counts)
        else:
            docs, skipped, counts, batch = collect_docs(corpus_dir, sources, max_bytes=max_bytes, progress=progress)
        check_strict(skipped, strict)
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
                check_written(built, len(docs))
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
