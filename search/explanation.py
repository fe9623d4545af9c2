"""Explaining a ranking: why a document is where it is, from the numbers the ranking added up.

:func:`explain_run` reads a :class:`~.execution.PlanRun` that was run with the document traced:
the term-at-a-time scorer recorded each term's contribution as it added it (``search/ranking/``),
so the parts of an explanation are the ranking's own, not a second computation. This module only
names them: where each term came from (typed, spelling correction, vocabulary expansion, section
prefix), the field's weight, and the BM25F parts of the term's score; it groups them by field,
and for a document that is not on the page says what it lacks and how far it is behind, or which
of the query's NOT terms leaves it out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from whoosh.collectors import TimeLimit, TopCollector
from whoosh.query import And, Not, Phrase, Prefix, Query, Term
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from ..ingest.codes import ICD10PCS
from .budget import Deadline, timed
from .execution import PlanRun
from .explained import AxisPlacing, Explanation, FieldShare, TermContribution
from .origins import EXPANSION, TYPED, Origin, term_origins, typed_terms
from .pcs_order import placing_score
from .plan import QueryPlan
from .ranking import COORDINATION, PostingCache, PostingReader, leaves

RANKING, WHOOSH, CODE, NONE = "ranking", "whoosh", "code", "none"
PATHS = (RANKING, WHOOSH, CODE, NONE)
"""How the document was scored: the term-at-a-time ranking (broken down), Whoosh's own matchers
(not broken down), the code rule, or not at all (it matches nothing, or a NOT leaves it out)."""

UNMATCHED_NOTE = "It matches nothing of the query."

WHOOSH_NOTE = (
    "This query has phrases, word prefixes or NOT, which Whoosh's own matchers score: the score is "
    "Whoosh's and is not broken down into terms here (the terms the document holds are listed)."
)


AXES_NOTE = (
    "ICD-10-PCS codes are placed by their text score against the best of them plus how well each of "
    "their axes agrees with the query's reading (the placing above): a hit shows the score of the place "
    "it holds, which may differ from its own."
)


def explain_run(
    searcher: Searcher,
    plan: QueryPlan,
    run: PlanRun,
    docnum: int,
    *,
    deadline: Deadline,
    postings: PostingCache,
    options: Mapping[str, Any],
) -> Explanation:
    """Explain document ``docnum`` from ``run``, a run of ``plan`` that traced it."""
    stored = searcher.reader().stored_fields(docnum)
    hits = run.results.hits
    shown = {hit.code: hit for hit in hits}
    code = str(stored["code"])
    base: dict[str, Any] = {
        "query": plan.query,
        "code": code,
        "title": str(stored.get("title", "")),
        "options": options,
        "relaxed": run.relaxed,
        "last_shown_score": hits[-1].score if hits else None,
        # The reading, when it ordered the ICD-10-PCS codes (not for what Whoosh scores).
        "interpretation": plan.interpretation if run.ranking is not None and run.ranking.text_best else None,
    }
    notes = list(run.results.notices)
    main = run.main
    reader = PostingReader(searcher, postings)
    origins = term_origins(searcher, plan, main) if main is not None else {}
    lacking = _lacking(reader, main, origins, docnum) if main is not None else ()
    if docnum in run.first:
        exact = docnum in run.exact
        rule = (
            "Its code was typed: a document found by its code comes before every word match"
            if exact
            else "Its code is in the typed code prefix or range: these are listed in code order before word matches"
        )
        rank = run.first.index(docnum) + 1
        score = run.best + 1.0
        return Explanation(
            **base,
            path=CODE,
            rank=rank,
            score=score,
            on_page=code in shown,
            broken_down=True,
            code_rule=f"{rule}, scoring one more than the best word match ({run.best:.4f} + 1).",
            code_score=score,
            notes=tuple(notes),
        )
    if run.allowed is not None and docnum not in run.allowed:
        notes.append("The filters or the typed code prefix or range leave it out.")
        return Explanation(
            **base, path=NONE, rank=None, score=None, on_page=False, broken_down=False, notes=tuple(notes)
        )
    ranking = run.ranking
    if ranking is not None:
        if docnum not in ranking.scores:
            return _unmatched(base, lacking, notes)
        score = ranking.scores[docnum]
        ahead = sum(
            1
            for other in run.first
            if other in ranking.scores
            and (ranking.scores[other] > score or (ranking.scores[other] == score and other < docnum))
        )
        rank = len(run.first) + ranking.positions[docnum] - ahead
        parts = [
            _contribution(reader, part, origins, score, docnum)
            for part in ranking.contributions.get(docnum, ())
            if part.node
        ]
        coordination = sum(part.value for part in ranking.contributions.get(docnum, ()) if part.kind == COORDINATION)
        if ranking.partial:
            notes.append("The search ran out of time: the score holds the terms scored before it did.")
        placing = None
        if plan.interpretation and stored.get("code_system") == ICD10PCS and ranking.text_best:
            notes.append(AXES_NOTE)
            placing = AxisPlacing(
                score,
                ranking.text_best,
                placing_score(score, ranking.text_best, 0.0),
                tuple(plan.interpretation.agreement_parts(code)),
            )
        return Explanation(
            **base,
            path=RANKING,
            rank=rank,
            score=score,
            on_page=code in shown,
            broken_down=True,
            contributions=tuple(sorted(parts, key=lambda part: -part.value)),
            coordination=coordination,
            fields=_by_field(parts, score),
            lacking=lacking,
            # Placed by its axes, it is behind by placing points, not by text score.
            gap=_gap(hits, score, rank, code in shown, options) if placing is None else None,
            notes=tuple(notes),
            placing=placing,
        )
    if main is None:
        return _unmatched(base, lacking, notes)
    place = _whoosh_place(searcher, main, run, docnum, deadline)
    if place is None:
        return _unmatched(base, lacking, notes, _excluded_by(searcher, plan, main, docnum))
    rank, score = place
    held = [
        TermContribution(term.fieldname, term.text, origin.word, origin.origin, origin.detail, term.boost, 0, 0, 0, 0)
        for term in leaves(main)
        if (origin := origins.get(id(term))) is not None and _holds(reader, term, docnum)
    ]
    return Explanation(
        **base,
        path=WHOOSH,
        rank=rank,
        score=score,
        on_page=code in shown,
        broken_down=False,
        contributions=tuple(held),
        lacking=lacking,
        gap=_gap(hits, score, rank, code in shown, options),
        notes=(*notes, WHOOSH_NOTE),
    )


def _unmatched(
    base: dict[str, Any], lacking: tuple[str, ...], notes: list[str], excluded: tuple[str, ...] = ()
) -> Explanation:
    return Explanation(
        **base,
        path=NONE,
        rank=None,
        score=None,
        on_page=False,
        broken_down=False,
        lacking=lacking,
        excluded_by=excluded,
        notes=(*notes, exclusion_note(excluded) if excluded else UNMATCHED_NOTE),
    )


def exclusion_note(excluded: tuple[str, ...]) -> str:
    """What an explanation says of a document its query's NOT terms leave out."""
    nots = " and ".join(f"NOT {word}" for word in excluded)
    return f"It matches the rest of the query, but {nots} {'leaves' if len(excluded) == 1 else 'leave'} it out."


def _excluded_by(searcher: Searcher, plan: QueryPlan, main: Query, docnum: int) -> tuple[str, ...]:
    """The query's NOT terms, as typed, that leave the document out: those it holds, when it
    matches the rest of the query (empty when it does not, or holds none of them)."""
    nots = [node for node in _nodes(main) if isinstance(node, Not)]
    positive = _without_exclusions(main)
    if not nots or (positive is not None and not _matches(searcher, positive, docnum)):
        return ()
    typed = typed_terms(searcher, plan)
    words: list[str] = []
    for node in nots:
        for atom in _nodes(node.query):
            if not list(atom.children()) and _matches(searcher, atom, docnum):
                word = _as_typed(atom, typed)
                if word not in words:
                    words.append(word)
    return tuple(words)


def _nodes(query: Query) -> Any:
    yield query
    for sub in query.children():
        yield from _nodes(sub)


def _without_exclusions(query: Query) -> Query | None:
    """``query`` without its NOT parts (None if nothing else is left)."""
    if isinstance(query, Not):
        return None
    if not isinstance(query, And):
        return query
    kept = [sub for sub in (_without_exclusions(part) for part in query.subqueries) if sub is not None]
    if not kept:
        return None
    positive = copy.copy(query)
    positive.subqueries = kept
    return positive


def _as_typed(atom: Query, typed: Mapping[tuple[str, str], tuple[str | None, str]]) -> str:
    """A term, phrase or prefix of the query as the user typed it."""

    def word(fieldname: str, text: str) -> str:
        scope, typed_word = typed.get((fieldname, text), (None, text))
        return f"{scope}:{typed_word}" if scope else typed_word

    if isinstance(atom, Term):
        return word(atom.fieldname, str(atom.text))
    if isinstance(atom, Phrase):
        return '"' + " ".join(word(atom.fieldname, str(w)) for w in atom.words) + '"'
    if isinstance(atom, Prefix):
        return f"{atom.text}*"
    return str(atom)


def _matches(searcher: Searcher, query: Query, docnum: int) -> bool:
    """Whether ``query`` matches document ``docnum`` (its own index segment's matcher, moved to it)."""
    for sub, offset in searcher.leaf_searchers():
        if not offset <= docnum < offset + sub.doc_count_all():
            continue
        try:
            matcher = query.matcher(sub, sub.boolean_context())
        except TermNotFound:
            return False
        if matcher.is_active() and matcher.id() < docnum - offset:
            matcher.skip_to(docnum - offset)
        return bool(matcher.is_active() and matcher.id() == docnum - offset)
    return False


def _gap(hits: Any, score: float, rank: int, on_page: bool, options: Mapping[str, Any]) -> float | None:
    """How far below the last hit shown a document below the page is (None on the page or above it)."""
    below = not on_page and rank > int(options.get("offset", 0))
    return hits[-1].score - score if below and hits else None


def _contribution(
    reader: PostingReader, part: Any, origins: Mapping[int, Origin], score: float, docnum: int
) -> TermContribution:
    term: Term = part.node
    origin = origins.get(id(term)) or Origin(TYPED, str(term.text), "", str(term.text))
    text = reader.term_bytes(term)
    parts = reader.term_parts(term.fieldname, text, docnum) if text is not None else None
    return TermContribution(
        field=term.fieldname,
        term=str(term.text),
        word=origin.word,
        origin=origin.origin,
        detail=origin.detail,
        field_weight=float(term.boost),
        weight=part.weight,
        bm25=part.score,
        value=part.value,
        share=part.value / score if score else 0.0,
        tf=parts.tf if parts else None,
        field_length=parts.length if parts else None,
        average_length=parts.average_length if parts else None,
        idf=parts.idf if parts else None,
    )


def _by_field(parts: list[TermContribution], score: float) -> tuple[FieldShare, ...]:
    """The contributions summed per field, biggest first, each with its words."""
    values: dict[str, float] = {}
    words: dict[str, list[str]] = {}
    for part in parts:
        values[part.field] = values.get(part.field, 0.0) + part.value
        if part.word not in words.setdefault(part.field, []):
            words[part.field].append(part.word)
    return tuple(
        FieldShare(name, value, value / score if score else 0.0, tuple(words[name]))
        for name, value in sorted(values.items(), key=lambda item: -item[1])
    )


def _holds(reader: PostingReader, term: Term, docnum: int) -> bool:
    text = reader.term_bytes(term)
    return text is not None and reader.term_parts(term.fieldname, text, docnum) is not None


def _lacking(reader: PostingReader, main: Query, origins: Mapping[int, Origin], docnum: int) -> tuple[str, ...]:
    """The query's words (and expansions) the document holds in none of the searched fields; an
    expansion counts as held when some meaning of it has every word somewhere."""
    held: dict[str, bool] = {}
    meanings: dict[tuple[str, str], dict[str, bool]] = {}
    for term in leaves(main):
        origin = origins.get(id(term))
        if origin is None:
            continue
        has = _holds(reader, term, docnum)
        if origin.origin == EXPANSION:
            held.setdefault(origin.unit, False)
            words = meanings.setdefault((origin.unit, origin.detail), {})
            words[origin.word] = words.get(origin.word, False) or has
        else:
            held[origin.unit] = held.get(origin.unit, False) or has
    for (unit, _), words in meanings.items():
        if all(words.values()):
            held[unit] = True
    return tuple(unit for unit, has in held.items() if not has)


def _whoosh_place(
    searcher: Searcher, main: Query, run: PlanRun, docnum: int, deadline: Deadline
) -> tuple[int, float] | None:
    """The document's rank and Whoosh score, ranking every match (within the time budget)."""
    collector = TopCollector(limit=max(1, searcher.doc_count_all()), usequality=False, replace=0)
    try:
        with timed(searcher, deadline):
            searcher.search_with_collector(main, collector)
    except TimeLimit:
        pass
    results = collector.results()
    first = set(run.first)
    allowed = run.allowed
    place = len(run.first)
    for score, other in results.top_n:
        if other in first or (allowed is not None and other not in allowed):
            continue
        place += 1
        if other == docnum:
            return place, float(score)
    return None


def explained_options(
    section: str | None,
    system: str | None,
    group: str | None,
    weights: Mapping[str, float] | None,
    expand: bool,
    correct: bool,
    axes: bool,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """The options of an explained search, as an explanation lists them."""
    return {
        "section": section,
        "system": system,
        "group": group,
        "weights": dict(weights or {}),
        "expand": expand,
        "correct": correct,
        "axes": axes,
        "limit": limit,
        "offset": offset,
    }
