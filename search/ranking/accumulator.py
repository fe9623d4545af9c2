"""The accumulator: where the evaluation of one query node adds its documents' scores."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Accumulator:
    """Scores being summed for a query node: ``factor`` times each document's score goes into
    ``scores``; how many of the node's terms each document holds goes into ``counts`` when it is
    counted (None: not asked for); only the documents in ``restrict`` are scored when it is given."""

    scores: dict[int, float] = field(default_factory=dict)
    counts: dict[int, int] | None = None
    factor: float = 1.0
    restrict: set[int] | None = None

    def scaled(self, by: float) -> Accumulator:
        """The same totals, each score added ``by`` times as much (a node's boost)."""
        return Accumulator(self.scores, self.counts, self.factor * by, self.restrict)
