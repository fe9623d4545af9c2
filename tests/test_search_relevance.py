"""The development query set must not lose ground: success@3 and MRR@10 stay at or above the
baseline recorded in bench/queries/baseline.json (update it in the same commit as a ranking change,
with the figures from `procsearch eval bench/queries/pages.tsv`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from procsearch.search.engine import SearchEngine

QUERIES = Path(__file__).resolve().parent.parent / "bench" / "queries"


@pytest.mark.slow
def test_development_queries_do_not_drop_below_the_recorded_baseline(engine: SearchEngine) -> None:
    baseline = json.loads((QUERIES / "baseline.json").read_text())["pages.tsv"]
    report = engine.evaluate(QUERIES / "pages.tsv")
    assert report.overall.count >= 150
    assert report.overall.success_at_3 >= baseline["success@3"], [m.to_dict() for m in report.misses]
    assert report.overall.mrr_at_10 >= baseline["mrr@10"]
    # The targets the project set itself.
    assert report.overall.success_at_3 >= 0.95 and report.overall.mrr_at_10 >= 0.85


def test_every_query_kind_is_represented() -> None:
    kinds = {line.split("\t")[2].strip() for line in (QUERIES / "pages.tsv").read_text().splitlines()[1:] if line}
    assert {"lay", "clinical", "abbreviation", "typo", "code", "section"} <= kinds
