"""The relevance harness: run a file of queries with known answers and score the ranking.

A query file is tab-separated with a header: ``query``, ``acceptable`` (comma-separated codes;
``0DTJ*`` accepts any code with that prefix) and optionally ``kind`` (lay, clinical, typo, ...).
Metrics: success@1, success@3, MRR@10 and nDCG@10 (binary relevance), overall and per kind.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SearchError

DEPTH = 10


class QueryFileError(SearchError):
    """A query file cannot be read; the message names the file and the row."""


@dataclass(frozen=True)
class EvalQuery:
    query: str
    acceptable: tuple[str, ...]
    kind: str = ""

    def accepts(self, code: str) -> bool:
        code = code.upper()
        return any(code.startswith(a[:-1]) if a.endswith("*") else code == a for a in self.acceptable)


@dataclass(frozen=True)
class QueryOutcome:
    query: EvalQuery
    returned: tuple[str, ...]
    rank: int | None  # 1-based rank of the first acceptable code within DEPTH
    ndcg: float
    error: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query.query,
            "kind": self.query.kind,
            "acceptable": list(self.query.acceptable),
            "returned": list(self.returned),
            "rank": self.rank,
            "ndcg": round(self.ndcg, 4),
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class Metrics:
    count: int
    success_at_1: float
    success_at_3: float
    mrr_at_10: float
    ndcg_at_10: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "success@1": round(self.success_at_1, 4),
            "success@3": round(self.success_at_3, 4),
            "mrr@10": round(self.mrr_at_10, 4),
            "ndcg@10": round(self.ndcg_at_10, 4),
        }


@dataclass(frozen=True)
class EvalReport:
    overall: Metrics
    by_kind: dict[str, Metrics]
    outcomes: tuple[QueryOutcome, ...]

    @property
    def misses(self) -> list[QueryOutcome]:
        """Queries whose first acceptable code is not in the top 3."""
        return [o for o in self.outcomes if o.rank is None or o.rank > 3]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "by_kind": {k: m.to_dict() for k, m in self.by_kind.items()},
            "queries": [o.to_dict() for o in self.outcomes],
        }


def read_queries(path: Path) -> list[EvalQuery]:
    """Read a query file; a missing column or an empty row is an error naming the row."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise QueryFileError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        reader = csv.DictReader(
            (line for line in handle if not line.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE
        )
        if not reader.fieldnames or not {"query", "acceptable"} <= set(reader.fieldnames):
            raise QueryFileError(f"{path}: the header must name the columns query and acceptable (and optionally kind)")
        queries = []
        for number, row in enumerate(reader, 2):
            query, acceptable = (row.get("query") or "").strip(), (row.get("acceptable") or "").strip()
            if not query or not acceptable:
                raise QueryFileError(f"{path}: row {number} needs a query and at least one acceptable code")
            codes = tuple(code.strip().upper() for code in acceptable.split(",") if code.strip())
            queries.append(EvalQuery(query, codes, (row.get("kind") or "").strip()))
    if not queries:
        raise QueryFileError(f"{path}: no queries")
    return queries


def evaluate(queries: Sequence[EvalQuery], run: Callable[[str], Sequence[str]]) -> EvalReport:
    """Score ``run(query) -> ranked codes`` on every query."""
    outcomes = []
    for item in queries:
        try:
            returned = tuple(run(item.query))[:DEPTH]
            error = ""
        except SearchError as exc:
            returned, error = (), str(exc)
        outcomes.append(score(item, returned, error))
    kinds: dict[str, list[QueryOutcome]] = defaultdict(list)
    for outcome in outcomes:
        kinds[outcome.query.kind or "(none)"].append(outcome)
    return EvalReport(summarise(outcomes), {k: summarise(v) for k, v in sorted(kinds.items())}, tuple(outcomes))


def score(item: EvalQuery, returned: Sequence[str], error: str = "") -> QueryOutcome:
    relevant = [item.accepts(code) for code in returned[:DEPTH]]
    rank = relevant.index(True) + 1 if True in relevant else None
    dcg = sum(1 / math.log2(position + 2) for position, hit in enumerate(relevant) if hit)
    ideal = sum(1 / math.log2(position + 2) for position in range(min(len(item.acceptable), DEPTH)))
    return QueryOutcome(item, tuple(returned), rank, dcg / ideal if ideal else 0.0, error)


def summarise(outcomes: Sequence[QueryOutcome]) -> Metrics:
    count = len(outcomes) or 1
    return Metrics(
        count=len(outcomes),
        success_at_1=sum(o.rank == 1 for o in outcomes) / count,
        success_at_3=sum(o.rank is not None and o.rank <= 3 for o in outcomes) / count,
        mrr_at_10=sum(1 / o.rank for o in outcomes if o.rank) / count,
        ndcg_at_10=sum(min(o.ndcg, 1.0) for o in outcomes) / count,
    )
