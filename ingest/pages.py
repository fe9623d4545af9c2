"""Reading page files and walking corpus folders (the I/O around the pure parser)."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..progress import ProgressCallback
from .errors import PageSkipped
from .processes import die_with_parent
from .record import ProcedureDoc
from .skips import SkippedPage, SkipReason

if TYPE_CHECKING:
    from .blocks import PageBlocks
    from .coverage import ParseReport
    from .pageset import PageEntry

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
"""Pages larger than this are skipped: real procedure pages are tens of kilobytes."""

PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".txt", ".md")
"""Files read as pages whatever they hold: HTML, or rendered text (the text of a page as a browser
shows it, or Markdown), which the parser turns into markup. Other files are pages only when they
hold markup."""

# Files that are never pages and are passed over silently: hidden files and the Python package
# files that let the bundled corpus ship inside the wheel.
_IGNORED_NAMES = ("__init__.py", "__pycache__", "README", "README.md", "README.txt", "SOURCES.txt")

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


@dataclass
class PageBatch:
    """The documents read from a folder, and every file skipped with its reason."""

    docs: list[ProcedureDoc] = field(default_factory=list)
    skipped: list[SkippedPage] = field(default_factory=list)
    reports: dict[str, ParseReport] = field(default_factory=dict)
    """source -> how the page was read (coverage, dropped blocks), for every document kept."""
    boilerplate: frozenset[str] = frozenset()
    """The fingerprints of site boilerplate found across the folder (:mod:`.boilerplate`)."""
    entries: dict[str, PageEntry] = field(default_factory=dict)
    """source -> what the set-wide rules know of each page read (the index stores it)."""


@dataclass
class PageScan:
    """The candidate files below a folder (sorted by path relative to it), and the entries that
    cannot be pages, each with its reason (a link loop, a FIFO, a name that is not UTF-8, ...)."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[SkippedPage] = field(default_factory=list)


def find_pages(corpus_dir: Path) -> list[Path]:
    """Every candidate file below ``corpus_dir``, sorted (see :func:`scan_pages`)."""
    return scan_pages(corpus_dir).paths


def scan_pages(corpus_dir: Path) -> PageScan:
    """Walk ``corpus_dir``: symbolic links are followed only when their real path is inside the
    folder, and directory loops end. No entry stops the walk: a link loop, a broken link, a link
    leaving the folder, a file that is not a regular file (FIFO, socket, device), a name that is
    not UTF-8 and an unreadable folder are each reported as skipped."""
    root = corpus_dir.resolve()
    scan = PageScan()
    seen_dirs: set[str] = set()

    def unreadable(error: OSError) -> None:
        where = display_name(os.path.relpath(error.filename, root)) if error.filename else "."
        scan.skipped.append(SkippedPage(where, SkipReason.CANNOT_READ_FOLDER, error.strerror or str(error)))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unreadable):
        real = os.path.realpath(dirpath)
        if real in seen_dirs:
            dirnames[:] = []
            continue
        if not _inside(Path(real), root):
            scan.skipped.append(
                SkippedPage(display_name(os.path.relpath(dirpath, root)), SkipReason.LINK_LEAVES_FOLDER)
            )
            dirnames[:] = []
            continue
        seen_dirs.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _IGNORED_NAMES)
        for name in filenames:
            if name.startswith(".") or name in _IGNORED_NAMES:
                continue
            path = Path(dirpath) / name
            skip = _entry_skip(path, path.relative_to(root).as_posix(), root)
            if skip is None:
                scan.paths.append(path)
            else:
                scan.skipped.append(skip)
    scan.paths.sort(key=lambda p: p.relative_to(root).as_posix())
    scan.skipped.sort(key=lambda skip: skip.source)
    return scan


def _entry_skip(path: Path, relative: str, root: Path) -> SkippedPage | None:
    """Why a directory entry cannot be a page, or None when it is a candidate file."""
    if relative != display_name(relative):
        return SkippedPage(display_name(relative), SkipReason.NAME_NOT_UTF8)
    try:
        if path.is_symlink():
            real = Path(os.path.realpath(path))
            os.stat(path)  # a loop or a missing target raises here
            if not _inside(real, root):
                return SkippedPage(relative, SkipReason.LINK_LEAVES_FOLDER)
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return SkippedPage(relative, SkipReason.LINK_LOOP)
        if exc.errno == errno.ENOENT:
            return SkippedPage(relative, SkipReason.BROKEN_LINK)
        return SkippedPage(relative, SkipReason.CANNOT_READ_FILE, exc.strerror or str(exc))
    if not stat.S_ISREG(info.st_mode):
        return SkippedPage(relative, SkipReason.NOT_REGULAR_FILE, _file_kind(info.st_mode))
    return None


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device")):
        if test(mode):
            return kind
    return "block device" if stat.S_ISBLK(mode) else "special file"


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by the OS as surrogate escapes) are
    shown as ``\\xNN``."""
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


READ_CHUNK = 1 << 16


def read_page_bytes(
    path: Path, *, root: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES, source: str | None = None
) -> tuple[bytes, str]:
    """The bytes of one page file and their SHA-256, from one descriptor opened once.

    The file is opened below ``root`` (the corpus folder, resolved; default: the folder the
    file's real path is in) one path component at a time without following any symbolic link,
    so a link swapped in after the folder was scanned cannot make it read a file outside. The
    size limit is checked on the opened file before anything is read (and again while reading,
    should the file grow), and the bytes are read and hashed a chunk at a time. Raises PageSkipped.
    """
    name = source if source is not None else str(path)
    fd = _open_below(Path(root) if root is not None else None, path, name)
    try:
        return _read_descriptor(fd, name, max_bytes)
    finally:
        os.close(fd)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
"""Non-blocking: opening a FIFO swapped in for a page must not wait for a writer."""
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0) | _NOFOLLOW


def _open_below(root: Path | None, path: Path, name: str) -> int:
    """A descriptor for ``path``'s real file, opened from ``root`` down without following links."""
    try:
        real = os.path.realpath(path)
        base = os.path.realpath(root) if root is not None else os.path.dirname(real)
    except OSError as exc:  # a link swapped for a file while its target was read (EINVAL)
        raise PageSkipped("file changed while read", name, exc.strerror or str(exc)) from exc
    relative = os.path.relpath(real, base)
    if relative == os.curdir or relative.split(os.sep)[0] == os.pardir:
        raise PageSkipped(SkipReason.LINK_LEAVES_FOLDER, name)
    try:
        if not _NOFOLLOW or os.open not in os.supports_dir_fd:  # no openat (Windows): open by path
            return os.open(real, _READ_FLAGS)
        *folders, filename = relative.split(os.sep)
        fd = os.open(base, _DIR_FLAGS)
        try:
            for folder in folders:
                inner = os.open(folder, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = inner
            return os.open(filename, _READ_FLAGS | _NOFOLLOW, dir_fd=fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # a link was swapped in after the scan
            raise PageSkipped(SkipReason.CHANGED_WHILE_READ, name, "it became a symbolic link") from exc
        raise PageSkipped(SkipReason.CANNOT_READ_FILE, name, exc.strerror or str(exc)) from exc


def _read_descriptor(fd: int, name: str, max_bytes: int) -> tuple[bytes, str]:
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PageSkipped(SkipReason.NOT_REGULAR_FILE, name, _file_kind(info.st_mode))
        if info.st_size > max_bytes:
            raise PageSkipped(SkipReason.TOO_LARGE, name, f"{info.st_size:,} bytes; the limit is {max_bytes:,}")
        digest = hashlib.sha256()
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, READ_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise PageSkipped(SkipReason.TOO_LARGE, name, f"over {max_bytes:,} bytes (it grew while read)")
            digest.update(chunk)
            chunks.append(chunk)
    except OSError as exc:
        raise PageSkipped(SkipReason.CANNOT_READ_FILE, name, exc.strerror or str(exc)) from exc
    if not size:
        raise PageSkipped(SkipReason.EMPTY, name)
    return b"".join(chunks), digest.hexdigest()


def read_page(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, source: str | None = None, root: Path | None = None
) -> ProcedureDoc:
    """Read (see :func:`read_page_bytes`) and parse one page file; raises PageSkipped with the
    reason when it is not a page."""
    name = source if source is not None else str(path)
    data, _digest = read_page_bytes(path, root=root, max_bytes=max_bytes, source=name)
    return page_from_bytes(data, source=name, suffix=path.suffix)


def page_from_bytes(data: bytes, *, source: str, suffix: str) -> ProcedureDoc:
    """Parse the bytes of a page file named ``source`` (with file name suffix ``suffix``)."""
    from .parse import parse_page  # here, not at the top: searching imports this module but never parses

    return parse_page(check_page_bytes(data, source=source, suffix=suffix), source=source)


def page_blocks_from_bytes(data: bytes, *, source: str, suffix: str) -> PageBlocks:
    """The costly half of parsing the bytes of a page file: the page read into blocks, which
    :func:`.pageset.assemble_pages` then turns into records under the set-wide rules."""
    from .parse import read_page_blocks

    return read_page_blocks(check_page_bytes(data, source=source, suffix=suffix), source=source)


def check_page_bytes(data: bytes, *, source: str, suffix: str) -> bytes:
    """``data``, unless it is no page: a binary file, or a file of another kind without markup."""
    kind = binary_kind(data)
    if kind:
        raise PageSkipped(SkipReason.NOT_HTML, source, kind)
    if suffix.lower() not in PAGE_SUFFIXES and b"<" not in data[:65536]:
        raise PageSkipped(SkipReason.NOT_HTML, source, f"{suffix or 'no'} file without markup")
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
    across all of them, and each page is then assembled into its record (see :func:`.pageset.assemble_pages`).
    """
    root = corpus_dir.resolve()
    scan = scan_pages(root)
    paths = scan.paths
    read: list[tuple[str, PageBlocks | PageSkipped]] = []
    jobs = [(path, root, path.relative_to(root).as_posix(), max_bytes) for path in paths]
    for done, (relative, page) in enumerate(_read_all(jobs), 1):
        read.append((relative, page))
        if progress:
            progress("reading pages", done, len(paths))
    from .pageset import assemble_pages

    batch = assemble_pages(read)
    batch.skipped[:0] = scan.skipped
    return batch


PARALLEL_PAGES = 48
"""From this many files on, pages are parsed by one process per core (up to :data:`MAX_READERS`)."""
MAX_READERS = 4


def _read_all(jobs: list[tuple[Path, Path, str, int]]) -> Iterator[tuple[str, PageBlocks | PageSkipped]]:
    """Each file's document or skip, in the order of ``jobs``; parsed in forked worker processes
    when there are many (parsing is pure Python: one core does about 30 pages a second)."""
    import multiprocessing  # here: a search process, which imports this module for its limits, never forks
    from concurrent.futures import ProcessPoolExecutor

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


def _read_job(job: tuple[Path, Path, str, int]) -> tuple[str, PageBlocks | PageSkipped]:
    path, root, relative, max_bytes = job
    try:
        data, _digest = read_page_bytes(path, root=root, max_bytes=max_bytes, source=relative)
        return relative, page_blocks_from_bytes(data, source=relative, suffix=path.suffix)
    except PageSkipped as skip:
        return relative, skip


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
