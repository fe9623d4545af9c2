"""Query parsing: the plain-words fast path builds exactly the Whoosh parser's query tree."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from procsearch.index.schema import build_schema
from procsearch.search.query import FieldParser, make_parser
from procsearch.search.weights import DEFAULT_WEIGHTS, EXPANSION_FIELDS
from whoosh.query import NullQuery, Term

QUERIES = Path(__file__).resolve().parent.parent / "bench" / "queries"

AWKWARD = [
    "knee knee",  # a repeated word counts once
    "knee hip knee",
    "the a",  # only stop words: nothing to search
    "knee the",
    "Knee REPLACEMENT",
    "x" * 45,  # longer than a token may be
    "knee " + "x" * 45,
    "hip AND knee",  # an operator: the Whoosh parser
    "knee REQUIRE surgery",
    "REQUIRE knee",
    "and or not",
    "12345 knee",
    "ünïcode wörd",
    "knee_cap",
    "knee-replacement hip",  # a hyphen: the Whoosh parser
    "risks:infection knee",
    '"total knee"',
]


def _shape(query: Any) -> str:
    """A query tree with everything scoring depends on: class, boost, scale, terms and order."""
    if isinstance(query, Term):
        return f"{query.fieldname}:{query.text}^{query.boost}"
    if not hasattr(query, "subqueries"):
        return repr(query)
    parts = ", ".join(_shape(sub) for sub in query.subqueries)
    return f"{type(query).__name__}[{query.boost},{getattr(query, 'scale', None)}]({parts})"


def _texts() -> list[str]:
    texts = list(AWKWARD)
    for name in ("pages.tsv", "holdout.tsv", "icd10pcs.tsv"):
        with (QUERIES / name).open(encoding="utf-8") as handle:
            texts += [row["query"] for row in csv.DictReader(handle, delimiter="\t")]
    return texts


@pytest.mark.parametrize(
    ("fields", "conjunctive"),
    [(None, False), (None, True), (EXPANSION_FIELDS, True), (("risks",), False), (("risks",), True)],
)
def test_plain_words_give_the_whoosh_parsers_tree(fields: tuple[str, ...] | None, conjunctive: bool) -> None:
    schema = build_schema()
    options: dict[str, Any] = {"conjunctive": conjunctive} | ({"fields": fields} if fields else {})
    whoosh_parser = make_parser(schema, DEFAULT_WEIGHTS, **options)
    parser = FieldParser(schema, DEFAULT_WEIGHTS, **options)
    texts = _texts()
    assert len(texts) > 400
    for text in texts:
        assert _shape(parser.parse(text)) == _shape(whoosh_parser.parse(text)), text


def test_stop_words_alone_search_nothing() -> None:
    assert FieldParser(build_schema(), DEFAULT_WEIGHTS).parse("the of a") is NullQuery
