"""The query plan: what a typed query becomes before anything is ranked.

:func:`plan_query` parses the query (codes, section prefixes, operators), corrects words the index
has never seen, adds vocabulary expansions, builds the main (ranked) query and the --system and
--group filters, and returns them as one :class:`QueryPlan`. Running a plan is
``search/execution.py``'s job; the plan itself touches no posting list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from whoosh.query import And, Not, Or, Query, Term
from whoosh.searching import Searcher

from ..index.schema import SIMILAR, TEXT_FIELDS
from .errors import QueryError
from .pcs_interpretation import Interpretation
from .pcs_order import axis_reading
from .query import (
    FieldParser,
    ParsedQuery,
    check_text,
    implicit_prefixes,
    included_text,
    plain_text,
    scope_following_words,
    section_field,
    split_query,
    system_name,
    unscoped_text,
)
from .ranking import reader_cache
from .results import Expansion
from .spelling import Correction, Speller, correct_text
from .vocabulary import ABBREVIATION, Vocabulary
from .weights import EXPANSION_FIELDS, EXPANSION_WEIGHT, resolve_weights

MAX_MEANINGS = 4
"""At most this many meanings of one expanded term are searched (each costs a sub-query)."""
MAX_PARSERS = 16
"""Parsers (one per set of weights and fields) a :class:`ParserCache` keeps."""


@dataclass(frozen=True)
class QueryPlan:
    """What one search will run: the typed query understood, corrected and expanded."""

    query: str
    """The query as typed."""
    parsed: ParsedQuery
    """Its codes, code prefixes and ranges, and its words (with their notices)."""
    text: str
    """The words searched, after spelling correction."""
    corrections: tuple[Correction, ...]
    expansions: tuple[Expansion, ...]
    weights: Mapping[str, float]
    """The field weights in force (one field at weight 1 under ``section``)."""
    fields: tuple[str, ...]
    """The fields the words are looked for in."""
    main: Query | None
    """The ranked query: typed words, their expansions; None for codes alone with no similar codes."""
    filters: Query | None
    """The --system and --group filters, or None."""
    section: str | None = None
    system: str | None = None
    group: str | None = None
    interpretation: Interpretation | None = None
    """The words read along the ICD-10-PCS axes (:mod:`.pcs_order`), or None: ICD-10-PCS codes
    are then ordered by text alone."""
    loosened: tuple[str, ...] = ()
    """Expansions' meanings no document holds whole, searched by as many of their words as a
    document holds ("below knee amputation")."""

    @property
    def ranged(self) -> list[Any]:
        """The code prefixes and ranges typed (each a set of documents)."""
        return [part for part in self.parsed.codes if part.kind != "exact"]


class ParserCache:
    """Query parsers, one per set of weights and fields, kept across queries (each caches the
    words it has analysed)."""

    def __init__(self) -> None:
        self._parsers: dict[tuple[Any, ...], FieldParser] = {}

    def get(
        self, searcher: Searcher, weights: Mapping[str, float], fields: tuple[str, ...], *, conjunctive: bool = False
    ) -> FieldParser:
        key = (id(searcher.schema), tuple(sorted(weights.items())), fields, conjunctive)
        parser = self._parsers.get(key)
        if parser is None or parser.schema is not searcher.schema:
            if len(self._parsers) >= MAX_PARSERS:
                self._parsers.clear()
            parser = self._parsers[key] = FieldParser(searcher.schema, weights, fields, conjunctive=conjunctive)
        return parser


def plan_query(
    searcher: Searcher,
    query: str,
    *,
    vocabulary: Vocabulary,
    weights: Mapping[str, float],
    speller: Speller | None = None,
    parsers: ParserCache | None = None,
    section: str | None = None,
    system: str | None = None,
    group: str | None = None,
    expand: bool = True,
    correct: bool = True,
    axes: bool = True,
) -> QueryPlan:
    """Plan ``query`` over the index ``searcher`` reads; raises QueryError for an empty query,
    an unknown section, system or group, or text the parser cannot read. With ``axes``, the
    words are also read along the ICD-10-PCS axes when the index holds those codes."""
    parsers = parsers if parsers is not None else ParserCache()
    parsed = implicit_prefixes(split_query(query), searcher.reader())
    text: str = check_text(parsed.text)
    if not text.strip() and not parsed.codes:
        raise QueryError("The query is empty. Type words, a code (63685), a prefix (636*) or a range (63650-63688).")
    filters = search_filters(searcher, system, group)
    fields = (section_field(section),) if section else TEXT_FIELDS
    field_weights = {fields[0]: 1.0} if len(fields) == 1 else dict(weights)
    corrections: tuple[Correction, ...] = ()
    if correct and text:
        speller = speller if speller is not None else Speller(searcher.reader())
        text, corrections = correct_text(text, speller, vocabulary.known_words())
    expansions = tuple(vocabulary.expand(included_text(unscoped_text(text)))) if expand and text else ()
    loosened: list[str] = []
    main = main_query(
        searcher, parsers, parsed, text, expansions, field_weights, fields, loosened=loosened, filters=filters
    )
    return QueryPlan(
        query=query,
        parsed=parsed,
        text=text,
        corrections=corrections,
        expansions=expansions,
        weights=field_weights,
        fields=fields,
        main=main,
        filters=filters,
        section=section,
        system=system,
        group=group,
        interpretation=axis_reading(searcher, text, expansions, system) if axes else None,
        loosened=tuple(loosened),
    )


def relaxed_query(searcher: Searcher, plan: QueryPlan, parsers: ParserCache | None = None) -> Query | None:
    """The plan's main query with each expansion's words ranked by how many a document holds,
    instead of all of them required (the retry when nothing holds every word of an expansion)."""
    parsers = parsers if parsers is not None else ParserCache()
    return main_query(
        searcher, parsers, plan.parsed, plan.text, plan.expansions, plan.weights, plan.fields, relaxed=True
    )


def main_query(
    searcher: Searcher,
    parsers: ParserCache,
    parsed: ParsedQuery,
    text: str,
    expansions: tuple[Expansion, ...],
    weights: Mapping[str, float],
    fields: tuple[str, ...],
    *,
    relaxed: bool = False,
    loosened: list[str] | None = None,
    filters: Query | None = None,
) -> Query | None:
    """The ranked part of a search: the typed words, their expansions, code prefixes and ranges.

    An expansion of several words must match all of them, unless ``relaxed``, or unless it spells
    out an abbreviation that no document holds, neither as typed nor any meaning whole (those
    meanings are added to ``loosened``): then more of its words score higher, as the typed words
    do (a document the ``filters`` leave out does not count as holding them)."""
    if not text:
        # Codes alone: after the codes themselves, the pages that list them as similar codes.
        related = [Term(SIMILAR, analysed(searcher.schema, SIMILAR, part.value)) for part in parsed.exact_codes]
        return (Or(related) if len(related) > 1 else related[0]) if related else None
    parser = parsers.get(searcher, weights, fields)
    typed = parse_text(parser, scope_following_words(text))
    excluded = None
    parts: list[Query] = list(getattr(typed, "subqueries", ())) if type(typed) is And else []
    if parts and isinstance(parts[-1], Not):
        # What NOT excludes, expansions must not bring back.
        kept = parts[:-1]
        typed, excluded = (kept[0] if len(kept) == 1 else And(kept)), parts[-1]
    if expansions:
        alternatives = [typed]
        # Expansions are names for the procedure: they are looked for where names are (title,
        # common names, summary), which keeps a many-word expansion from touching every field.
        expansion_fields = tuple(f for f in fields if f in EXPANSION_FIELDS) or fields
        and_parser = parsers.get(searcher, weights, expansion_fields, conjunctive=not relaxed)
        or_parser = parsers.get(searcher, weights, expansion_fields, conjunctive=False)
        for expansion in expansions:
            said = expansion.expansions[:MAX_MEANINGS]
            meanings = [parse_text(and_parser, meaning) for meaning in said]
            # An abbreviation nothing holds, neither as typed nor any of its meanings whole ("BKA":
            # titles say "Detachment at ... Lower Leg"), is searched by its meanings' words.
            if (
                not relaxed
                and expansion.kind == ABBREVIATION
                and any(len(meaning.split()) > 1 for meaning in said)
                and not _held(searcher, [parse_text(parser, expansion.term), *meanings], filters)
            ):
                meanings = [parse_text(or_parser, meaning) for meaning in said]
                if loosened is not None:
                    loosened.extend(said)
            alternatives.append(Or(meanings, boost=EXPANSION_WEIGHT))
        typed = Or(alternatives)
    return And([typed, excluded]) if excluded is not None else typed


MAX_HELD = 10_000
"""How many answers of :func:`_held` an open reader keeps."""


def _held(searcher: Searcher, queries: list[Query], filters: Query | None) -> bool:
    """Whether any document the filters let through matches any of ``queries``; asked once per
    open reader (its files never change)."""
    held = reader_cache(searcher.reader(), "_procsearch_held")
    key = (tuple(repr(query) for query in queries), repr(filters))
    if key not in held:
        if len(held) >= MAX_HELD:
            held.clear()
        try:
            wanted = Or(queries) if len(queries) > 1 else queries[0]
            held[key] = (And([wanted, filters]) if filters is not None else wanted).matcher(searcher).is_active()
        except Exception:  # a query Whoosh cannot match directly counts as held: nothing changes
            held[key] = True
    return bool(held[key])


def parse_text(parser: Any, text: str) -> Query:
    """Parse with the full syntax; if Whoosh chokes ("NOT NOT x"), search the plain words."""
    try:
        return parser.parse(text)
    except Exception:  # the Whoosh parser raises assorted errors on odd input
        words = plain_text(text)
        try:
            return parser.parse(words)
        except Exception as exc:
            raise QueryError(f"Cannot understand the query {text!r}. Remove special characters and try again.") from exc


def search_filters(searcher: Searcher, system: str | None, group: str | None) -> Query | None:
    """The --system and --group filters; a group is matched ignoring case, and an unknown one
    is answered with the groups the index holds."""
    terms: list[Query] = []
    if system:
        terms.append(Term("code_system", system_name(system)))
    if group:
        groups = {text.decode(): None for text in searcher.reader().lexicon("group")}
        by_case = {name.casefold(): name for name in groups}
        wanted = by_case.get(" ".join(group.split()).casefold())
        if wanted is None:
            raise QueryError(f"Unknown group {group!r}. Groups in this index: {', '.join(sorted(groups))}.")
        terms.append(Term("group", wanted))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else And(terms)


def analysed(schema: Any, fieldname: str, text: str) -> str:
    """``text`` as the field's analyzer indexes it (a code in the Similar Codes field: "0dtj4zz")."""
    tokens = [token.text for token in schema[fieldname].analyzer(text)]
    return tokens[0] if tokens else text.lower()


def resolved_weights(base: Mapping[str, float], overrides: Mapping[str, float] | None) -> Mapping[str, float]:
    """The engine's weights with one query's overrides applied."""
    return resolve_weights({**base, **overrides}) if overrides else base
