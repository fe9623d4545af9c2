"""The sources an index can hold, in one registry: each source's name, whether its records are
generated (rebuilt as a whole, never re-indexed page by page), the prefix its records' ``source``
field carries, and the reader that collects its records.

The builder reads the chosen sources in :data:`SOURCES` order (a code already read from an
earlier source wins), ``reindex`` leaves the generated sources' records alone, and the CLI offers
:data:`SOURCE_NAMES` as its ``--source`` choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..progress import ProgressCallback

if TYPE_CHECKING:  # the search path imports this registry, never the page reader
    from .pages import PageBatch

PAGES = "pages"
ICD10PCS = "icd10pcs"

Reader = Callable[..., "PageBatch"]
"""Called as ``read(corpus_dir, *, max_bytes, progress)``; returns the source's records (and, for
pages, every file skipped and what the page table stores)."""


@dataclass(frozen=True)
class Source:
    """One source of records."""

    name: str
    generated: bool
    """Generated records (a public code set) are rebuilt as a whole, never re-indexed one by one."""
    prefix: str
    """What every record's ``source`` starts with ("icd10pcs:0DTJ4ZZ"); "" for pages, whose
    ``source`` is the file's path relative to the folder."""
    read: Reader


def read_pages(corpus_dir: Path | None, *, max_bytes: int, progress: ProgressCallback | None = None) -> PageBatch:
    """The pages below ``corpus_dir`` (see :func:`.pages.load_pages`)."""
    from .pages import load_pages

    if corpus_dir is None:
        raise UsageError("the pages source needs a corpus folder")
    return load_pages(corpus_dir, max_bytes=max_bytes, progress=progress)


def read_icd10pcs(corpus_dir: Path | None, *, max_bytes: int, progress: ProgressCallback | None = None) -> PageBatch:
    """Every ICD-10-PCS code as a record (needs procsearch[icd10pcs]); the folder and the size
    limit are the pages'."""
    from .icd10pcs import count_icd10pcs_codes, iter_icd10pcs_docs
    from .pages import PageBatch

    batch = PageBatch()
    total = count_icd10pcs_codes()
    for done, doc in enumerate(iter_icd10pcs_docs(), 1):
        batch.docs.append(doc)
        if progress and (done % 2000 == 0 or done == total):
            progress("reading icd10pcs", done, total)
    return batch


SOURCES: tuple[Source, ...] = (
    Source(PAGES, generated=False, prefix="", read=read_pages),
    Source(ICD10PCS, generated=True, prefix=f"{ICD10PCS}:", read=read_icd10pcs),
)
"""Every source, in the order a build reads them."""

SOURCE_NAMES: tuple[str, ...] = tuple(source.name for source in SOURCES)
"""The names of the sources (the CLI's ``--source`` choices)."""

GENERATED_PREFIXES: tuple[str, ...] = tuple(source.prefix for source in SOURCES if source.generated)
"""Source prefixes of generated records: ``doc.source.startswith(GENERATED_PREFIXES)``."""


def source_named(name: str) -> Source:
    """The source called ``name``; UsageError naming the choices when there is none."""
    for source in SOURCES:
        if source.name == name:
            return source
    raise UsageError(f"unknown source {name!r}; choose from {', '.join(SOURCE_NAMES)}")


def source_of(record_source: str) -> Source:
    """The source a record's ``source`` field belongs to: a generated source by its prefix, else
    the pages."""
    for source in SOURCES:
        if source.prefix and record_source.startswith(source.prefix):
            return source
    return source_named(PAGES)


def is_generated(source: str) -> bool:
    """Whether a record's ``source`` names a generated record."""
    return source.startswith(GENERATED_PREFIXES)
