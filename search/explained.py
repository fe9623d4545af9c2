"""Why a document is where it is: an explanation of one hit's place, the terms and fields its
score is made of, and for an ICD-10-PCS code what its axes added (built by :mod:`.explanation`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..fields import prose_label

if TYPE_CHECKING:
    from .pcs_interpretation import Interpretation


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
