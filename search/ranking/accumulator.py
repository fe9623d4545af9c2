"""The accumulator: where the evaluation of one query node adds its documents' scores, and, for an
explanation, what each term added to the documents being explained."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COORDINATION = "coordination"
"""The kind of a :class:`Contribution` that is the coordination bonus, not a term's score."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one term (or an Or's coordination bonus) added to one document's score: ``weight``
    times ``score``. For a term, ``score`` is its BM25F score in the document before boosts and
    ``weight`` every boost above it (the field weight, an expansion's weight, an Or's scaling);
    for the coordination bonus, ``score`` is ``(matched - 1) / (termcount - scale)^2``."""

    node: Any
    """The query's Term node (None for the coordination bonus)."""
    weight: float
    score: float
    kind: str = "term"

    @property
    def value(self) -> float:
        return self.weight * self.score

    def scaled(self, by: float) -> Contribution:
        return Contribution(self.node, self.weight * by, self.score, self.kind)


@dataclass(slots=True)
class Accumulator:
    """Scores being summed for a query node: ``factor`` times each document's score goes into
    ``scores``; how many of the node's terms each document holds goes into ``counts`` when it is
    counted (None: not asked for); only the documents in ``restrict`` are scored when it is given.
    ``trace`` (None unless an explanation asks) collects the contributions to a few documents."""

    scores: dict[int, float] = field(default_factory=dict)
    counts: dict[int, int] | None = None
    factor: float = 1.0
    restrict: set[int] | None = None
    trace: dict[int, list[Contribution]] | None = None

    def scaled(self, by: float) -> Accumulator:
        """The same totals, each score added ``by`` times as much (a node's boost)."""
        return Accumulator(self.scores, self.counts, self.factor * by, self.restrict, self.trace)

    def fresh_trace(self) -> dict[int, list[Contribution]] | None:
        """An empty trace for the same documents (a child node's own, merged once it is scored)."""
        return None if self.trace is None else {docnum: [] for docnum in self.trace}
