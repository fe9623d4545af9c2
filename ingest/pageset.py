"""The rules that depend on the whole set of pages, not on one page: site boilerplate, ids and
duplicates, and :func:`assemble_pages`, which applies them to pages read into blocks.

A full build applies them to every page it reads; an incremental re-index applies them to the
stored entries of unchanged pages plus the pages it reads again, and so reaches the same result
(:func:`settle`). Each page is summed up by a :class:`PageEntry`, which the index stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .blocks import PageBlocks
from .boilerplate import find_boilerplate
from .coverage import ParseReport
from .duplicates import Duplicates, page_url
from .errors import PageSkipped
from .extract import page_id
from .pages import PageBatch
from .parse import assemble
from .skips import SkippedPage

MAX_ID_PARTS = 8
"""How many parts of a path an id may take before two pages are called the same page."""


@dataclass(frozen=True)
class PageEntry:
    """What the set-wide rules need to know of one page, as read without any site boilerplate.

    ``id`` is the page's own id (its code, or the id from its own path); ``coded`` says whether
    it is a code. ``fingerprints`` are the blocks that could be site boilerplate.
    """

    site: str
    fingerprints: frozenset[str]
    id: str
    coded: bool
    canonical: str = ""
    title: str = ""

    @classmethod
    def of(cls, report: ParseReport) -> PageEntry:
        doc = report.doc
        return cls(report.site, report.fingerprints, doc.code, bool(doc.code_system), report.canonical_url, doc.title)

    def to_json(self) -> dict[str, object]:
        return {
            "site": self.site,
            "fingerprints": sorted(self.fingerprints),
            "id": self.id,
            "coded": self.coded,
            "canonical": self.canonical,
            "title": self.title,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> PageEntry:
        prints = data.get("fingerprints") or []
        return cls(
            str(data.get("site", "")),
            frozenset(str(p) for p in prints) if isinstance(prints, list) else frozenset(),
            str(data.get("id", "")),
            bool(data.get("coded", False)),
            str(data.get("canonical", "")),
            str(data.get("title", "")),
        )


@dataclass(frozen=True)
class Settlement:
    """The outcome of the set-wide rules: the boilerplate fingerprints, and each page's final id."""

    boilerplate: frozenset[str]
    ids: Mapping[str, str]


def settle(entries: Mapping[str, PageEntry]) -> Settlement:
    """Apply the set-wide rules to every page (source -> entry)."""
    boilerplate = find_boilerplate((entry.site, entry.fingerprints) for entry in entries.values())
    return Settlement(boilerplate, unique_ids(entries))


def unique_ids(entries: Mapping[str, PageEntry]) -> dict[str, str]:
    """Each page's id; pages without a code that share one get more of their path in it until the
    ids differ. Two pages with the same canonical URL (or the same path) keep the same id: they
    are one page, and the build keeps the one whose path sorts first."""
    ids = {source: entry.id for source, entry in entries.items()}
    for parts in range(2, MAX_ID_PARTS + 1):
        clashes = _clashes(ids, entries)
        if not clashes:
            break
        for group in clashes:
            for source in group:
                entry = entries[source]
                ids[source] = page_id(entry.canonical, source, entry.title, parts=parts)
    else:  # paths that slug alike ("knee.html", "knee/index.html"): a digest of the page's identity tells them apart
        for group in _clashes(ids, entries):
            for source in group:
                digest = hashlib.blake2b(identity(source, entries[source]).encode("utf-8"), digest_size=3).hexdigest()
                ids[source] = f"{ids[source]}-{digest}"
    return ids


def _clashes(ids: Mapping[str, str], entries: Mapping[str, PageEntry]) -> list[list[str]]:
    """Groups of pages without a code that share an id but are different pages."""
    groups: dict[str, list[str]] = {}
    for source, entry in entries.items():
        if not entry.coded:
            groups.setdefault(ids[source], []).append(source)
    return [group for group in groups.values() if len({identity(s, entries[s]) for s in group}) > 1]


def identity(source: str, entry: PageEntry) -> str:
    """What makes two pages the same page: the canonical URL, else the file."""
    return page_url(entry.canonical) or source


def assemble_pages(read: list[tuple[str, PageBlocks | PageSkipped]]) -> PageBatch:
    """Records from pages read into blocks, under the set-wide rules of :mod:`.pageset`: site
    boilerplate is dropped from every page, ids are made unique, and two pages are one only when
    they carry the same code or the same canonical URL (:mod:`.duplicates`)."""
    batch = PageBatch()
    first: dict[str, ParseReport] = {}
    pages: dict[str, PageBlocks] = {}
    for relative, page in read:
        if isinstance(page, PageSkipped):
            batch.skipped.append(SkippedPage.of(page))
            continue
        try:
            first[relative] = assemble(page, source=relative)
            pages[relative] = page
        except PageSkipped as skip:
            batch.skipped.append(SkippedPage.of(skip))
    batch.entries = {source: PageEntry.of(report) for source, report in first.items()}
    settled = settle(batch.entries)
    batch.boilerplate = settled.boilerplate
    duplicates = Duplicates()
    for relative, report in sorted(first.items()):
        try:
            report = finish_page(pages[relative], report, relative, settled.boilerplate, settled.ids[relative])
        except PageSkipped as skip:  # nothing but the site's boilerplate on it
            batch.skipped.append(SkippedPage.of(skip))
            continue
        doc = report.doc
        duplicate = duplicates.admit(relative, doc.code, bool(doc.code_system), report.canonical_url)
        if duplicate is not None:  # in path order, the holder always sorts first
            batch.skipped.append(duplicate)
            continue
        batch.docs.append(doc)
        batch.reports[relative] = report
    return batch


def finish_page(
    page: PageBlocks, report: ParseReport, source: str, boilerplate: frozenset[str], page_id: str
) -> ParseReport:
    """A page's report under the set-wide rules: re-assembled without the site's boilerplate,
    under its settled id."""
    if report.fingerprints & boilerplate:
        report = assemble(page, source=source, boilerplate=boilerplate)
    if report.doc.code != page_id:
        report = replace(report, doc=replace(report.doc, code=page_id))
    return report
