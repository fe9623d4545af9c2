"""Where each searched term came from: typed, a spelling correction, a vocabulary expansion
(with its kind), a section prefix, or a typed code's Similar Codes entry (for an explanation)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from whoosh.query import And, Not, Or, Query
from whoosh.searching import Searcher

from ..index.schema import SIMILAR
from ..ingest.sections import SECTION_NAMES
from .plan import QueryPlan
from .query import FIELD_ALIASES
from .ranking import leaves
from .weights import EXPANSION_FIELDS

TYPED = "typed"
CORRECTION = "spelling correction"
EXPANSION = "vocabulary expansion"
SECTION_PREFIX = "section prefix"
SIMILAR_CODES = "similar codes"
ORIGINS = (TYPED, CORRECTION, EXPANSION, SECTION_PREFIX, SIMILAR_CODES)
"""Where a searched term came from."""


@dataclass(frozen=True)
class Origin:
    """Where one term came from: ``origin`` (one of :data:`ORIGINS`), the ``word`` it was analysed
    from, and a ``detail`` a person reads ("stimulatr -> stimulator")."""

    origin: str
    word: str
    detail: str
    unit: str
    """The query word or expansion the term belongs to (what "lacking" names)."""


_TOKEN = re.compile(r"(?:(?P<field>\w+):)?(?P<word>[^\s():\"]+)")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE"}
_OTHER_FIELDS = ("title", "names", "similar", "other")
_ALIASES = {alias: name for name, aliases in FIELD_ALIASES.items() for alias in aliases}


def term_origins(searcher: Searcher, plan: QueryPlan, main: Query) -> dict[int, Origin]:
    """Each Term node of ``main`` (by identity) with the word it came from and how."""
    schema = searcher.schema
    origins: dict[int, Origin] = {}
    if not plan.text:
        for term in leaves(main):
            if term.fieldname == SIMILAR:
                origins[id(term)] = Origin(SIMILAR_CODES, term.text.upper(), "the page lists the typed code", term.text)
        return origins
    root = main
    if type(root) is And and root.subqueries and isinstance(root.subqueries[-1], Not):
        root = root.subqueries[0]
    typed, alternatives = root, list[Query]()
    if plan.expansions and type(root) is Or and len(root.subqueries) == len(plan.expansions) + 1:
        typed, alternatives = root.subqueries[0], list(root.subqueries[1:])
    corrected = {c.suggestion.lower(): c.word for c in plan.corrections}
    typed_words = typed_terms(searcher, plan)
    for term in leaves(typed):
        scope, word = typed_words.get((term.fieldname, term.text), (None, str(term.text)))
        if scope:
            origin = Origin(SECTION_PREFIX, word, f"{scope}:{word}", f"{scope}:{word}")
        elif word.lower() in corrected:
            origin = Origin(CORRECTION, word, f"{corrected[word.lower()]} -> {word}", word)
        else:
            origin = Origin(TYPED, word, "", word)
        origins[id(term)] = origin
    for expansion, alternative in zip(plan.expansions, alternatives, strict=False):
        meanings = list(alternative.subqueries) if type(alternative) is Or else [alternative]
        for meaning_text, meaning in zip(expansion.expansions, meanings, strict=False):
            meaning_words = {
                (name, text): word
                for word in meaning_text.split()
                for name in EXPANSION_FIELDS
                if name in schema
                for text in schema[name].process_text(word, mode="query")
            }
            detail = f"{expansion.kind} of {expansion.term!r}: {meaning_text}"
            unit = f"{expansion.term} ({expansion.kind}: {' / '.join(expansion.expansions[: len(meanings)])})"
            for term in leaves(meaning):
                word = meaning_words.get((term.fieldname, term.text), str(term.text))
                origins[id(term)] = Origin(EXPANSION, word, detail, unit)
    return origins


def typed_terms(searcher: Searcher, plan: QueryPlan) -> dict[tuple[str, str], tuple[str | None, str]]:
    """Each (field, indexed term) the typed words of ``plan`` analyse to, with the section the
    word is scoped to and the word as typed (NOT terms included)."""
    schema = searcher.schema
    terms: dict[tuple[str, str], tuple[str | None, str]] = {}
    for scope, word in _typed_words(plan.text):
        for name in (scope,) if scope else plan.fields:
            if name not in schema:
                continue
            for text in schema[name].process_text(word, mode="query"):
                terms.setdefault((name, text), (scope, word))
    return terms


def _typed_words(text: str) -> Iterator[tuple[str | None, str]]:
    """The words of the query with the section each is scoped to (a prefix covers the words after
    it, up to the next prefix or operator), without operators, quotes and wildcards."""
    scope: str | None = None
    for match in _TOKEN.finditer(text):
        word = match.group("word").lstrip("-+").rstrip("*")
        prefix = match.group("field")
        if prefix:
            name = _ALIASES.get(prefix.lower(), prefix.lower())
            scope = name if name in SECTION_NAMES or name in _OTHER_FIELDS else None
        elif word in _OPERATORS:
            scope = None
            continue
        if word:
            yield scope, word
