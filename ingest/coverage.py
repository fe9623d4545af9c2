"""What a parse kept and what it dropped: the account every page gets (data only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .record import ProcedureDoc

LOW_COVERAGE = 0.5
"""Below this share of a page's words in its record, a build warns about the page."""

STRONG_REASONS = frozenset(
    ("navigation", "header landmark", "footer landmark", "form or search box", "cookie banner", "references")
    + (
        "site boilerplate",
        "advertisement",
        "promotion",
        "sharing links",
        "citation mark",
        "edit link",
        "byline or review date",
    )
)
"""Drop reasons that explain a low coverage: a page that lost most of its words for these is a
page with much furniture, not a parse gone wrong."""


@dataclass(frozen=True)
class DroppedBlock:
    """A block of the page left out of the record: why, how many words, and its first words."""

    reason: str
    words: int
    text: str

    def to_dict(self) -> dict[str, object]:
        return {"reason": self.reason, "words": self.words, "text": self.text}


@dataclass(frozen=True)
class SectionOrigin:
    """Where a field of the record came from: the page's heading and how it was recognised."""

    field: str
    heading: str
    how: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "heading": self.heading, "how": self.how}


@dataclass(frozen=True)
class Coverage:
    """The share of a page's visible words that reached its record, and the rest by reason."""

    words: int
    kept: int
    dropped: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dropped", MappingProxyType(dict(self.dropped)))

    @property
    def share(self) -> float:
        return self.kept / self.words if self.words else 1.0

    @property
    def suspicious(self) -> bool:
        """Low, and not explained by furniture: most dropped words have a weak reason (such as
        lying outside the main landmark), which is how a misread page looks."""
        if self.share >= LOW_COVERAGE:
            return False
        strong = sum(words for reason, words in self.dropped.items() if reason in STRONG_REASONS)
        return strong * 2 < self.words - self.kept

    def to_dict(self) -> dict[str, object]:
        return {
            "words": self.words,
            "kept": self.kept,
            "share": round(self.share, 4),
            "dropped": dict(sorted(self.dropped.items())),
            "suspicious": self.suspicious,
        }


@dataclass(frozen=True)
class ParseReport:
    """How one page was read: its record, where each field came from, what was dropped and why.

    ``site`` and ``fingerprints`` serve site-level boilerplate detection: the fingerprints of the
    page's blocks that could be furniture (blocks outside any canonical section).
    ``canonical_url`` is the page's own address, when it states one.
    """

    doc: ProcedureDoc
    origins: tuple[SectionOrigin, ...]
    dropped: tuple[DroppedBlock, ...]
    coverage: Coverage
    site: str = ""
    canonical_url: str = ""
    fingerprints: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.doc.code,
            "code": self.doc.code if self.doc.code_system else "",
            "code_system": self.doc.code_system,
            "title": self.doc.title,
            "common_names": list(self.doc.common_names),
            "source": self.doc.source,
            "canonical_url": self.canonical_url,
            "site": self.site,
            "sections": [{**origin.to_dict(), "text": field_text(self.doc, origin)} for origin in self.origins],
            "dropped": [block.to_dict() for block in self.dropped],
            "coverage": self.coverage.to_dict(),
        }


def field_text(doc: ProcedureDoc, origin: SectionOrigin) -> str:
    if origin.field == "other":
        return doc.other.get(origin.heading, "")
    if origin.field in doc.sections:
        return doc.sections[origin.field]
    if origin.field == "title":
        return doc.title
    if origin.field == "common_names":
        return ", ".join(doc.common_names)
    if origin.field == "similar_codes":
        return ", ".join(s.code for s in doc.similar_codes)
    return ""


@dataclass(frozen=True)
class PageCoverage:
    """One indexed page's id and coverage: the share of its visible words in its record."""

    source: str
    id: str
    coverage: Coverage

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "id": self.id, "coverage": self.coverage.to_dict()}


def page_coverage(reports: Mapping[str, ParseReport]) -> tuple[PageCoverage, ...]:
    return tuple(PageCoverage(source, report.doc.code, report.coverage) for source, report in sorted(reports.items()))
