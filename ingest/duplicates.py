"""The one duplicate rule: two files are one page when they carry the same code or the same
canonical URL, and the path that sorts first (relative to the folder) keeps it; the other is
reported as skipped, on every run and machine.

A full build offers the pages in path order, so the holder always sorts first. A re-index starts
from the pages it leaves as they are, and a new or changed file may sort before the one holding
its code or URL: then the new file takes it and the old holder is the one skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

from .skips import SkippedPage, SkipReason


def page_url(canonical: str) -> str:
    """A canonical URL as pages are compared by it (a trailing slash makes no other page)."""
    return canonical.rstrip("/")


class Duplicates:
    """Who holds each code and canonical URL so far, and the rule that settles a clash."""

    def __init__(self, codes: Mapping[str, str] | None = None, urls: Mapping[str, str] | None = None) -> None:
        self.codes: dict[str, str] = dict(codes or {})
        """code -> the source that holds it."""
        self.urls: dict[str, str] = dict(urls or {})
        """canonical URL (see :func:`page_url`) -> the source that holds it."""

    def admit(self, source: str, code: str, coded: bool, canonical: str) -> SkippedPage | None:
        """Offer ``source``'s record: None when it clashes with nobody (it now holds its code and
        URL); else the skip of whichever of the two sorts later. When that is the holder, the new
        source takes over its code and URL."""
        url = page_url(canonical)
        clash = self._clash(source, code, coded, url)
        if clash is not None:
            holder, reason, same = clash
            if holder < source:
                return SkippedPage(source, reason, f"{same} {holder}, which is kept")
        self.codes[code] = source
        if url:
            self.urls[url] = source
        if clash is not None:
            holder, reason, same = clash
            return SkippedPage(holder, reason, f"{same} {source}, which is kept")
        return None

    def _clash(self, source: str, code: str, coded: bool, url: str) -> tuple[str, str, str] | None:
        """(holder, reason, what they share) when another source holds the code or the URL."""
        by_code = self.codes.get(code, source)
        by_url = self.urls.get(url, source) if url else source
        if by_code != source and coded:
            return by_code, SkipReason.DUPLICATE_CODE, f"{code} is also in"
        if by_url != source:
            return by_url, SkipReason.DUPLICATE_PAGE, "the same canonical URL as"
        if by_code != source:
            return by_code, SkipReason.DUPLICATE_PAGE, f"the same id {code} as"
        return None
