"""What a search returns: hits with section-labelled snippets, the search's own report, similar
codes and index statistics (an explanation of a hit's place is :mod:`.explained`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Remedy

if TYPE_CHECKING:
    from .pcs_interpretation import Interpretation


@dataclass(frozen=True)
class Snippet:
    """A piece of one section's text around the matched words.

    ``highlights`` are (start, end) character offsets of the matched words within ``text``.
    """

    section: str
    label: str
    text: str
    highlights: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "section": self.section,
            "label": self.label,
            "text": self.text,
            "highlights": [list(span) for span in self.highlights],
        }


@dataclass(frozen=True)
class SearchHit:
    """One result: the code, its system and title, its score, and where the query matched."""

    code: str
    code_system: str
    title: str
    score: float
    rank: int
    snippet: Snippet | None = None
    group: str = ""
    common_names: tuple[str, ...] = ()
    exact_code_match: bool = False
    matched_fields: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """An ICD-10-PCS code's family: the codes that differ from it only in approach, device or
        qualifier share its first four characters ("0DTJ"). Empty for other code systems."""
        return self.code[:4] if self.code_system == "ICD-10-PCS" and len(self.code) == 7 else ""

    def to_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "code": self.code,
            "code_system": self.code_system,
            "title": self.title,
            "score": round(self.score, 4),
            "group": self.group,
            "common_names": list(self.common_names),
            "exact_code_match": self.exact_code_match,
            "matched_fields": list(self.matched_fields),
            "snippet": self.snippet.to_dict() if self.snippet else None,
            "family": self.family,
        }


@dataclass(frozen=True)
class Expansion:
    """A vocabulary expansion applied to the query ("tka" -> "total knee arthroplasty")."""

    term: str
    expansions: tuple[str, ...]
    kind: str

    def to_dict(self) -> dict[str, object]:
        return {"term": self.term, "expansions": list(self.expansions), "kind": self.kind}


@dataclass(frozen=True)
class SearchResults:
    """The hits of one search, in rank order, with what the engine did to the query."""

    query: str
    hits: tuple[SearchHit, ...]
    total: int
    total_capped: bool = False
    offset: int = 0
    corrected_query: str | None = None
    corrections: tuple[Any, ...] = ()
    expansions: tuple[Expansion, ...] = ()
    partial: bool = False
    notices: tuple[str, ...] = ()
    remedies: tuple[Remedy, ...] = ()
    """What would let the search find more (the notices say it in words): an index without the
    ICD-10-PCS codes asked for is rebuilt with them."""
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    interpretation: Interpretation | None = None
    """The query read along the ICD-10-PCS axes, when the reading ordered ICD-10-PCS codes shown here
    (not for phrases, prefixes or NOT, which Whoosh scores, nor above a page without such codes)."""

    @property
    def families(self) -> tuple[Any, ...]:
        """The hits grouped by ICD-10-PCS family, in the order each family first appears (:mod:`.families`)."""
        from .families import group_families

        return group_families(self.hits)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    @property
    def codes(self) -> list[str]:
        return [hit.code for hit in self.hits]

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "query": self.query,
            "total": self.total,
            "total_capped": self.total_capped,
            "offset": self.offset,
            "corrected_query": self.corrected_query,
            "corrections": [c.to_dict() for c in self.corrections],
            "expansions": [e.to_dict() for e in self.expansions],
            "partial": self.partial,
            "notices": list(self.notices),
            "remedies": [remedy.to_dict() for remedy in self.remedies],
            "hits": [hit.to_dict() for hit in self.hits],
        }
        if self.facets:
            data["facets"] = self.facets
        if self.interpretation:
            data["interpretation"] = self.interpretation.to_dict()
        families = self.families
        if families:
            data["families"] = [family.to_dict() for family in families]
        return data


@dataclass(frozen=True)
class IndexStats:
    """What ``procsearch stats`` reports."""

    index_path: str
    generation: str
    document_count: int
    by_system: dict[str, int]
    by_group: dict[str, int]
    schema_version: int
    package_version: str
    whoosh_version: str
    built_at: str
    size_bytes: int
    sources: dict[str, int]
    releases: dict[str, str] = field(default_factory=dict)
    """The release of each code set the index holds, by source."""

    def to_dict(self) -> dict[str, object]:
        """The shape ``stats --json`` prints: the names the other commands use for the same things
        (``index``, ``documents``, and ``facets`` as ``search --facets`` gives them)."""
        return {
            "index": self.index_path,
            "generation": self.generation,
            "documents": self.document_count,
            "facets": {"code_system": dict(self.by_system), "group": dict(self.by_group)},
            "sources": dict(self.sources),
            "releases": dict(self.releases),
            "index_schema_version": self.schema_version,
            "package_version": self.package_version,
            "whoosh_version": self.whoosh_version,
            "built_at": self.built_at,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True)
class SimilarEntry:
    """A code from a page's own Similar Codes list; ``in_index`` says whether it can be shown."""

    code: str
    label: str
    in_index: bool
    title: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "label": self.label, "in_index": self.in_index, "title": self.title}


@dataclass(frozen=True)
class SimilarResults:
    """What ``procsearch similar`` reports: the listed codes, then content-based neighbours."""

    code: str
    title: str
    listed: tuple[SimilarEntry, ...]
    neighbours: tuple[SearchHit, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "title": self.title,
            "listed": [e.to_dict() for e in self.listed],
            "neighbours": [hit.to_dict() for hit in self.neighbours],
        }
