"""Site boilerplate: blocks whose text recurs on most pages of one site in a corpus.

Sidebars, promotions, "related tests" widgets and disclaimers are found by counting, not by
lists of phrases: each page contributes the fingerprints of its blocks that lie outside any
canonical section, and a fingerprint on most pages of a site (and on at least a handful of them)
is furniture. The result is a pure function of the final set of pages, so a full build and an
incremental re-index of the same pages agree.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import urlparse

from ..words import WORD

MIN_PAGES = 4
"""A block is boilerplate only when it is on at least this many pages of its site..."""
MIN_SHARE = 0.5
"""...and on more than this share of them."""
MIN_WORDS = 3
"""Shorter blocks ("Overview", "Read more") are left to the other rules."""


def fingerprint(text: str) -> str:
    """A short digest of a block's words, ignoring case, punctuation and spacing; "" for a block
    too short to judge."""
    words = WORD.findall(text.casefold())
    if len(words) < MIN_WORDS:
        return ""
    return hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()


def site_of(canonical: str, source: str) -> str:
    """The site a page belongs to: its canonical URL's host, else the folder its file is in."""
    host = urlparse(canonical).netloc.lower() if canonical else ""
    if host:
        return host.removeprefix("www.")
    parent = PurePosixPath(source.replace("\\", "/")).parent.as_posix()
    return "" if parent == "." else parent


def find_boilerplate(pages: Iterable[tuple[str, Iterable[str]]]) -> frozenset[str]:
    """The boilerplate fingerprints, from each page's (site, fingerprints)."""
    page_counts: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for site, fingerprints in pages:
        page_counts[site] += 1
        counts[site].update(set(fingerprints))
    found: set[str] = set()
    for site, counter in counts.items():
        pages_of_site = page_counts[site]
        for print_, n in counter.items():
            if n >= MIN_PAGES and n > MIN_SHARE * pages_of_site:
                found.add(print_)
    return frozenset(found)
