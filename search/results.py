"""What a search returns: hits with section-labelled snippets, the search's own report, and an
explanation of a hit's place (built by :mod:`.explanation`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import Remedy
from ..fields import prose_label

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


@dataclass(frozen=True)
class TermContribution:
    """What one term in one field added to the score: ``weight * bm25``.

    ``weight`` is every multiplier the query put on the term: the field weight, times an
    expansion's weight, times the coordination shrink of the Or it sits in. ``tf``, the field's
    length against the average, and ``idf`` are what ``bm25`` is made of (None when not read)."""

    field: str
    term: str
    """The term as indexed (stemmed)."""
    word: str
    """The word it was analysed from, as typed, corrected or expanded."""
    origin: str
    detail: str
    field_weight: float
    weight: float
    bm25: float
    value: float
    share: float
    tf: float | None = None
    field_length: float | None = None
    average_length: float | None = None
    idf: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "label": prose_label(self.field),
            "term": self.term,
            "word": self.word,
            "origin": self.origin,
            "detail": self.detail,
            "field_weight": self.field_weight,
            "weight": self.weight,
            "tf": self.tf,
            "field_length": self.field_length,
            "average_length": self.average_length,
            "idf": self.idf,
            "bm25": self.bm25,
            "value": self.value,
            "share": self.share,
        }


@dataclass(frozen=True)
class FieldShare:
    """One field's part of the score, and the words that matched in it."""

    field: str
    value: float
    share: float
    words: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "label": prose_label(self.field),
            "value": self.value,
            "share": self.share,
            "words": list(self.words),
        }


@dataclass(frozen=True)
class AxisPlacing:
    """How an ICD-10-PCS code was placed among the codes ordered by their axes: its text score
    relative to the best of them, plus how well each of its axes agrees with the query's reading."""

    text_score: float
    best_text_score: float
    text_points: float
    """The text score's part of the placing score (``TEXT_WEIGHT`` x text / best)."""
    axes: tuple[tuple[str, str, float], ...]
    """(axis, the code's value on it, points) for each axis that adds or takes points."""

    @property
    def total(self) -> float:
        """The placing score: the codes ordered by their axes are ranked by it, best first."""
        return self.text_points + sum(points for _axis, _value, points in self.axes)

    def to_dict(self) -> dict[str, object]:
        return {
            "text_score": self.text_score,
            "best_text_score": self.best_text_score,
            "text_points": self.text_points,
            "axes": [{"axis": axis, "value": value, "points": points} for axis, value, points in self.axes],
            "total": self.total,
        }


@dataclass(frozen=True)
class Explanation:
    """Why one document is where it is for one query (``procsearch explain``)."""

    query: str
    code: str
    title: str
    path: str
    """One of :data:`~procsearch.search.explanation.PATHS`."""
    rank: int | None
    """Its place in the whole result list; None if it matches nothing."""
    score: float | None
    on_page: bool
    """Whether it is among the hits shown (ranks ``offset + 1`` to ``offset + limit``)."""
    broken_down: bool
    """Whether :attr:`contributions` (with the coordination and code parts) add up to the score."""
    contributions: tuple[TermContribution, ...] = ()
    coordination: float = 0.0
    """The Or's bonus for matching more of the query's terms."""
    code_rule: str = ""
    """Why a document found by its code is where it is (empty for a word match)."""
    code_score: float = 0.0
    """The score the code rule gives (the best word match's plus one)."""
    fields: tuple[FieldShare, ...] = ()
    relaxed: bool = False
    lacking: tuple[str, ...] = ()
    """The query's words and expansions it holds none of (an expansion: not every word of it)."""
    excluded_by: tuple[str, ...] = ()
    """The query's NOT terms, as typed, that leave it out (it holds them and matches the rest)."""
    last_shown_score: float | None = None
    gap: float | None = None
    """How far its score is below the last hit shown (for a document below the page)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    placing: AxisPlacing | None = None
    """For an ICD-10-PCS code ordered by the query's axis reading: what placed it."""
    interpretation: Interpretation | None = None
    """The query's reading along the ICD-10-PCS axes, when it ordered the ICD-10-PCS codes."""

    @property
    def options_in_force(self) -> dict[str, Any]:
        """The options it was made with that differ from a plain search's (the page aside)."""
        return {
            name: value
            for name, value in self.options.items()
            if name not in ("limit", "offset") and value not in (None, {}, True)
        }

    @property
    def placement(self) -> str:
        """Where it ranks against the page asked for (ranks ``offset + 1`` to ``offset + limit``),
        in words ("" when it is not ranked: the notes say why)."""
        if self.rank is None:
            return ""
        first = int(self.options.get("offset", 0)) + 1
        page = f"the page (ranks {first} to {first + int(self.options.get('limit', 10)) - 1})"
        if self.on_page:
            return f"On {page}."
        if self.rank < first:
            return f"Ranks #{self.rank}, above {page}: not on this page."
        behind = (
            f": {self.gap:.4f} below the last hit shown ({self.last_shown_score:.4f})"
            if self.gap is not None and self.last_shown_score is not None
            else ""
        )
        return f"Ranks #{self.rank}, below {page}{behind}."

    @property
    def total(self) -> float:
        """The parts added up (equal to ``score`` when :attr:`broken_down`)."""
        return sum(part.value for part in self.contributions) + self.coordination + self.code_score

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "code": self.code,
            "title": self.title,
            "path": self.path,
            "rank": self.rank,
            "score": self.score,
            "on_page": self.on_page,
            "placement": self.placement,
            "broken_down": self.broken_down,
            "fields": [share.to_dict() for share in self.fields],
            "contributions": [part.to_dict() for part in self.contributions],
            "coordination": self.coordination,
            "code_rule": self.code_rule,
            "code_score": self.code_score,
            "relaxed": self.relaxed,
            "lacking": list(self.lacking),
            "excluded_by": list(self.excluded_by),
            "last_shown_score": self.last_shown_score,
            "gap": self.gap,
            "options": dict(self.options),
            "notes": list(self.notes),
            "placing": self.placing.to_dict() if self.placing is not None else None,
            "interpretation": self.interpretation.to_dict() if self.interpretation else None,
        }
