"""What changed since the index was built: the pure change planner (indexed hashes vs the folder's
hashes -> add / update / delete / unchanged), the folder's files read and hashed once, the pages
a generation holds, and the new and changed pages read under the set-wide rules.

Used by :func:`.update.reindex` (and by :mod:`.verify` for drift); nothing here writes an index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ingest.blocks import PageBlocks
from ..ingest.coverage import ParseReport
from ..ingest.duplicates import Duplicates, page_url
from ..ingest.errors import PageSkipped
from ..ingest.pages import DEFAULT_MAX_BYTES, find_pages, page_blocks_from_bytes, read_page_bytes
from ..ingest.pageset import PageEntry, finish_page, settle
from ..ingest.parse import assemble
from ..ingest.record import ProcedureDoc
from ..ingest.skips import SkippedPage
from ..ingest.sources import GENERATED_PREFIXES
from ..progress import ProgressCallback
from .store import open_whoosh

PAGE_SOURCE_PREFIXES_EXCLUDED = GENERATED_PREFIXES
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


def read_changed(
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
    boilerplate, an id had to grow); apply the duplicate rule of a full build
    (:class:`.duplicates.Duplicates`: the path that sorts first keeps the code). Returns the documents, the skips, the new page table with its
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
                skipped.append(SkippedPage.of(skip))
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

    unchanged = {source for source in indexed if source not in plan.update and source not in plan.delete}
    unchanged -= set(first)
    duplicates = Duplicates(
        {code: source for source, (code, _) in indexed.items() if source in unchanged},
        {
            page_url(entry.canonical): source
            for source, entry in entries.items()
            if entry.canonical and source in unchanged
        },
    )
    finished: dict[str, ParseReport] = {}
    docs: list[ProcedureDoc] = []
    for source in sorted(first):
        try:
            report = finish_page(pages[source], first[source], source, settled.boilerplate, settled.ids[source])
        except PageSkipped as skip:  # nothing but the site's boilerplate on it
            skipped.append(SkippedPage.of(skip))
            continue
        finished[source] = report
        doc = report.doc
        duplicate = duplicates.admit(source, doc.code, bool(doc.code_system), report.canonical_url)
        if duplicate is not None:
            skipped.append(duplicate)
            if duplicate.source == source:
                continue
            # The new file sorts first: it takes the code, and the old holder is dropped.
            docs = [d for d in docs if d.source != duplicate.source]
        docs.append(doc)
    kept = {doc.source for doc in docs}
    return docs, skipped, entries, settled.boilerplate, {s: r for s, r in finished.items() if s in kept}
