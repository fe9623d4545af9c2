"""Reading page files and walking corpus folders (the I/O around the pure parser)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import PageSkipped
from .processes import die_with_parent
from .record import ProcedureDoc

if TYPE_CHECKING:
    from .blocks import PageBlocks
    from .coverage import ParseReport
    from .pageset import PageEntry

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
"""Pages larger than this are skipped: real procedure pages are tens of kilobytes."""

PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")

# Files that are never pages and are passed over silently: hidden files and the Python package
# files that let the bundled corpus ship inside the wheel.
_IGNORED_NAMES = ("__init__.py", "__pycache__", "README", "README.md", "SOURCES.txt")

_BINARY_MAGIC = (
    (b"\x89PNG", "PNG image"),
    (b"%PDF", "PDF document"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"RIFF", "RIFF media file"),
    (b"\x7fELF", "executable"),
)

ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(done, total, item)`` while long work runs."""


@dataclass
class PageBatch:
    """The documents read from a folder, and every file skipped with its reason."""

    docs: list[ProcedureDoc] = field(default_factory=list)
    skipped: list[PageSkipped] = field(default_factory=list)
    reports: dict[str, ParseReport] = field(default_factory=dict)
    """source -> how the page was read (coverage, dropped blocks), for every document kept."""
    boilerplate: frozenset[str] = frozenset()
    """The fingerprints of site boilerplate found across the folder (:mod:`.boilerplate`)."""
    entries: dict[str, PageEntry] = field(default_factory=dict)
    """source -> what the set-wide rules know of each page read (the index stores it)."""


def find_pages(corpus_dir: Path) -> list[Path]:
    """Every candidate file below ``corpus_dir``, sorted; symbolic links are followed only when
    their real path is inside the folder, and link loops end."""
    root = corpus_dir.resolve()
    found: list[Path] = []
    seen_dirs: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen_dirs or not _inside(Path(real), root):
            dirnames[:] = []
            continue
        seen_dirs.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _IGNORED_NAMES)
        for name in filenames:
            if name.startswith(".") or name in _IGNORED_NAMES:
                continue
            path = Path(dirpath) / name
            if _inside(path.resolve(), root) and path.is_file():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_page(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, source: str | None = None) -> ProcedureDoc:
    """Read and parse one page file; raises PageSkipped with the reason when it is not a page."""
    name = source if source is not None else str(path)
    data = read_page_bytes(path, max_bytes=max_bytes, source=name)
    from .parse import parse_page  # here, not at the top: searching imports this module but never parses

    return parse_page(data, source=name)


def read_page_bytes(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, source: str | None = None) -> bytes:
    """The bytes of one page file; raises PageSkipped with the reason when it is not a page."""
    name = source if source is not None else str(path)
    try:
        size = path.stat().st_size
        if size == 0:
            raise PageSkipped("empty file", name)
        if size > max_bytes:
            raise PageSkipped("file too large", name, f"{size:,} bytes; the limit is {max_bytes:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise PageSkipped("cannot read file", name, exc.strerror or str(exc)) from exc
    kind = binary_kind(data)
    if kind:
        raise PageSkipped("not an HTML page", name, kind)
    if path.suffix.lower() not in PAGE_SUFFIXES and b"<" not in data[:65536]:
        raise PageSkipped("not an HTML page", name, f"{path.suffix or 'no'} file without markup")
    return data


def binary_kind(data: bytes) -> str:
    """What kind of binary file ``data`` is, or "" when it looks like text."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ""  # UTF-16 with a BOM: text
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic):
            return kind
    if b"\x00" in head:
        return "binary data"
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    return "binary data" if head and controls / len(head) > 0.05 else ""


def load_pages(
    corpus_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: ProgressCallback | None = None,
) -> PageBatch:
    """Read every page below ``corpus_dir``.

    Pages are read into blocks (in parallel when there are many), site boilerplate is found
    across all of them, and each page is then assembled into its record (see :func:`assemble_pages`).
    """
    root = corpus_dir.resolve()
    paths = find_pages(root)
    read: list[tuple[str, PageBlocks | PageSkipped]] = []
    jobs = [(path, path.relative_to(root).as_posix(), max_bytes) for path in paths]
    for done, (relative, page) in enumerate(_read_all(jobs), 1):
        read.append((relative, page))
        if progress:
            progress(done, len(paths), relative)
    return assemble_pages(read)


def assemble_pages(read: list[tuple[str, PageBlocks | PageSkipped]]) -> PageBatch:
    """Records from pages read into blocks, under the set-wide rules of :mod:`.pageset`: site
    boilerplate is dropped from every page, ids are made unique, and two pages are one (the path
    that sorts first is kept, the other reported as skipped) only when they carry the same code
    or the same canonical URL."""
    from .pageset import PageEntry, settle
    from .parse import assemble

    batch = PageBatch()
    first: dict[str, ParseReport] = {}
    pages: dict[str, PageBlocks] = {}
    for relative, page in read:
        if isinstance(page, PageSkipped):
            batch.skipped.append(page)
            continue
        try:
            first[relative] = assemble(page, source=relative)
            pages[relative] = page
        except PageSkipped as skip:
            batch.skipped.append(skip)
    batch.entries = {source: PageEntry.of(report) for source, report in first.items()}
    settled = settle(batch.entries)
    batch.boilerplate = settled.boilerplate
    by_code: dict[str, str] = {}
    by_url: dict[str, str] = {}
    for relative, report in sorted(first.items()):
        report = finish_page(pages[relative], report, relative, settled.boilerplate, settled.ids[relative])
        doc = report.doc
        url = report.canonical_url.rstrip("/")
        if doc.code in by_code and doc.code_system:
            detail = f"{doc.code} is also in {by_code[doc.code]}, which is kept"
            batch.skipped.append(PageSkipped("duplicate code", relative, detail))
        elif url and url in by_url:
            detail = f"the same canonical URL as {by_url[url]}, which is kept"
            batch.skipped.append(PageSkipped("duplicate page", relative, detail))
        elif doc.code in by_code:
            detail = f"the same id {doc.code} as {by_code[doc.code]}, which is kept"
            batch.skipped.append(PageSkipped("duplicate page", relative, detail))
        else:
            by_code[doc.code] = relative
            if url:
                by_url[url] = relative
            batch.docs.append(doc)
            batch.reports[relative] = report
    return batch


def finish_page(
    page: PageBlocks, report: ParseReport, source: str, boilerplate: frozenset[str], page_id: str
) -> ParseReport:
    """A page's report under the set-wide rules: re-assembled without the site's boilerplate,
    under its settled id."""
    from dataclasses import replace

    from .parse import assemble

    if report.fingerprints & boilerplate:
        report = assemble(page, source=source, boilerplate=boilerplate)
    if report.doc.code != page_id:
        report = replace(report, doc=replace(report.doc, code=page_id))
    return report


PARALLEL_PAGES = 48
"""From this many files on, pages are parsed by one process per core (up to :data:`MAX_READERS`)."""
MAX_READERS = 4


def _read_all(jobs: list[tuple[Path, str, int]]) -> Iterator[tuple[str, PageBlocks | PageSkipped]]:
    """Each file's document or skip, in the order of ``jobs``; parsed in forked worker processes
    when there are many (parsing is pure Python: one core does about 30 pages a second)."""
    workers = min(os.cpu_count() or 1, MAX_READERS)
    if len(jobs) < PARALLEL_PAGES or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_read_job, jobs)
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=die_with_parent, initargs=(os.getpid(),)
    )
    try:
        yield from pool.map(_read_job, jobs, chunksize=4)
    finally:  # interrupted: pages not yet started are dropped, not parsed
        pool.shutdown(wait=True, cancel_futures=True)


def _read_job(job: tuple[Path, str, int]) -> tuple[str, PageBlocks | PageSkipped]:
    path, relative, max_bytes = job
    from .parse import read_page_blocks

    try:
        return relative, read_page_blocks(read_page_bytes(path, max_bytes=max_bytes, source=relative), source=relative)
    except PageSkipped as skip:
        return relative, skip


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
