"""Running a query plan: ranking, the relaxed retry, codes first, totals, caps and notices.

:func:`run_plan` ranks a :class:`~.plan.QueryPlan` with the term-at-a-time scorer
(``search/ranking/``) when it can, and through Whoosh's own matchers otherwise (phrases, word
prefixes, NOT); retries with relaxed expansions when nothing holds every word of one; puts
documents found by their code first; counts the matches (up to :data:`COUNT_CAP`); and says in
notices what the user should know about the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from whoosh.collectors import FilterCollector, TermsCollector, TimeLimit, TopCollector
from whoosh.query import And, Query
from whoosh.searching import Searcher

from ..errors import REBUILD, Remedy
from ..ingest.codes import ICD10PCS, system_of
from ..ingest.sources import ICD10PCS as ICD10PCS_SOURCE
from ..ingest.sources import PAGES
from .budget import Deadline, check_cost, timed
from .codeset import code_docs
from .errors import QueryError
from .facets import facets_of
from .hits import build_hit, whoosh_hit
from .limits import MAX_LIMIT
from .pcs_order import candidate_limit, reorder
from .plan import QueryPlan
from .query import ParsedQuery, system_name
from .ranking import PostingCache, Ranking, filter_docs, leaves, matching_docs, rank
from .ranking.whoosh_internals import NullQuery
from .results import SearchHit, SearchResults
from .snippets import words_by_field

COUNT_CAP = 1000
"""Counting stops here ("1000+ results"): an exact count of a broad query costs more than the search."""

RELAXED_NOTICE = "No document holds all the words of a known name for the query; these hold some of them."
PARTIAL_NOTICE = "The search ran out of time; these results are partial."
TIMED_OUT_NOTICE = (
    "The search ran out of time before it found anything: narrow the query (fewer phrases or NOT terms, "
    "or a section, code system or group filter)."
)
STOP_WORDS_NOTICE = (
    "Every word of the query is a common word that is not searched (the, and, of, ...): "
    "add a word that names the procedure."
)


@dataclass
class PlanRun:
    """A plan's results, and how they were reached (what an explanation reads)."""

    results: SearchResults
    main: Query | None
    """The query that ranked the words (the relaxed one after a relaxed retry)."""
    relaxed: bool = False
    first: list[int] = field(default_factory=list)
    """Documents listed before every word match: exact codes, then codes of a prefix or range alone."""
    exact: list[int] = field(default_factory=list)
    best: float = 0.0
    """The best word-match score (a code match scores one more)."""
    ranking: Ranking | None = None
    """The term-at-a-time ranking; None when Whoosh ranked the words (or nothing did)."""
    allowed: set[int] | None = None
    """The documents the filters and code ranges let through (None: all)."""


def run_plan(
    searcher: Searcher,
    plan: QueryPlan,
    *,
    limit: int,
    offset: int = 0,
    facets: bool = False,
    deadline: Deadline,
    postings: PostingCache,
    relax: Callable[[], Query | None],
    index_path: Any = None,
    trace: set[int] | None = None,
) -> PlanRun:
    """Rank ``plan``: the hits are ranks ``offset + 1`` to ``offset + limit``.

    ``relax`` builds the relaxed main query when the retry needs it; ``trace`` names documents
    whose score contributions the term-at-a-time scorer records (for an explanation)."""
    window = offset + limit
    parsed, text, main = plan.parsed, plan.text, plan.main
    exact = exact_docs(searcher, parsed, plan.filters)
    # Code prefixes and ranges are sets of documents: with words, the words are ranked within
    # them; alone, their codes are listed in code order.
    allowed = filter_docs(searcher, plan.filters) if plan.filters is not None else None
    ranged = plan.ranged
    coded = code_docs(searcher, ranged) if ranged else {}
    listed: list[int] = []
    if ranged and text:
        allowed = set(coded) if allowed is None else allowed & coded.keys()
    elif ranged:
        listed = sorted(
            (d for d in coded if d not in exact and (allowed is None or d in allowed)), key=coded.__getitem__
        )
    first = [*exact, *listed]
    if trace is not None:
        trace = trace | set(first)  # an explanation places a document among the code matches too
    partial = capped = False
    found: set[int] = set()
    ranked: list[SearchHit] = []
    best = 0.0
    relaxed = False
    if allowed is not None and not allowed:
        main = None  # nothing passes the filters
    ranking = None
    reordered = False
    if main is not None:
        ranking = rank(
            searcher,
            main,
            limit=candidate_limit(window + len(first), plan.interpretation),
            allowed=allowed,
            deadline=deadline.end,
            cache=postings,
            trace=trace,
        )
        if ranking is not None and not ranking.matching and not ranking.partial and not first and plan.expansions:
            # Nothing holds every word of an expansion ("coronary artery bypass graft", where
            # titles say "Bypass Coronary Artery"): rank by how many of its words they hold.
            loose = relax()
            loose_ranking = (
                rank(
                    searcher,
                    loose,
                    limit=candidate_limit(window, plan.interpretation),
                    allowed=allowed,
                    deadline=deadline.end,
                    cache=postings,
                    trace=trace,
                )
                if loose is not None
                else None
            )
            if loose_ranking is not None and loose_ranking.matching:
                main, ranking, relaxed = loose, loose_ranking, True
        reordered = ranking is not None and bool(plan.interpretation)
        if ranking is not None and plan.interpretation:
            ranked_query = main  # ICD-10-PCS codes by text and axes (pcs_order)
            ranking = reorder(
                searcher,
                ranking,
                plan.interpretation,
                allowed,
                lambda docs: rank(
                    searcher,
                    ranked_query,
                    limit=len(docs),
                    allowed=docs,
                    deadline=deadline.end,
                    cache=postings,
                    trace=trace,
                ),
            )
    reader = searcher.reader()
    if ranking is not None:
        # The usual case: plain words (and their expansions), scored a posting block at a time.
        found, partial = ranking.matching, ranking.partial
        assert main is not None
        words = words_by_field((term.fieldname, term.text) for term in leaves(main))
        best = ranking.top[0][1] if ranking.top else 0.0
        shown = [item for item in ranking.top if item[0] not in first][
            max(0, offset - len(first)) : window - len(first)
        ]
        for docnum, score in shown:
            ranked.append(
                build_hit(
                    reader.stored_fields(docnum),
                    score=score,
                    terms=ranking.terms.get(docnum, []),
                    words=words,
                    weights=plan.weights,
                    schema=searcher.schema,
                )
            )
    elif main is not None:
        # Phrases, word prefixes and NOT: Whoosh's own matchers, within the budget.
        check_cost(main, searcher)
        results, partial = _run_whoosh(searcher, main, window + len(first), allowed, deadline)
        best = results.top_n[0][0] if results.top_n else 0.0
        if partial or results.scored_length() < window + len(first):
            # On a time-out, what was collected is all there was time for.
            found = {docnum for _, docnum in results.top_n} if partial else set(results.docs())
        else:
            found, partial = _matching(searcher, main, allowed, deadline, cap=None if facets else COUNT_CAP)
            found.update(results.docs())  # a count cut short still holds what was collected
            capped = len(found) >= COUNT_CAP and not facets
        matched = [hit for hit in results if hit.docnum not in first]
        shown_hits = matched[max(0, offset - len(first)) : window - len(first)]
        ranked = [whoosh_hit(hit, rank=0, weights=plan.weights) for hit in shown_hits]
    if plan.loosened and found and not partial:
        relaxed = True  # an abbreviation nothing holds was searched by its meanings' words
    # A hit found by its code outranks every word match: it scores one more than the best of them.
    hits = [
        build_hit(reader.stored_fields(d), score=best + 1.0, exact=d in exact, by_code=True)
        for d in first[offset:window]
    ]
    hits = [replace(hit, rank=offset + i + 1) for i, hit in enumerate([*hits, *ranked][:limit])]
    total = max(len(first) + len(found.difference(first)), offset + len(hits) if hits else 0)
    absent = absent_system_notices(searcher, parsed, plan.system, index_path)
    notices = (
        parsed.notices
        + ((RELAXED_NOTICE,) if relaxed else ())
        + tuple(notice for notice, _ in absent)
        + (
            (STOP_WORDS_NOTICE,)
            if text and not ranged and not exact and main is not None and not _searches_anything(main)
            else ()
        )
        + (((PARTIAL_NOTICE if hits else TIMED_OUT_NOTICE),) if partial else ())
    )
    results = SearchResults(
        query=plan.query,
        hits=tuple(hits),
        total=total,
        total_capped=capped,
        offset=offset,
        corrected_query=" ".join([text, *(p.label for p in parsed.codes)]).strip() if plan.corrections else None,
        corrections=plan.corrections,
        expansions=plan.expansions,
        partial=partial,
        notices=notices,
        facets=facets_of(reader, {*first, *found}) if facets else {},
        # The reading is shown when it ordered the ICD-10-PCS codes shown (not for the phrases,
        # prefixes and NOT that Whoosh scores, nor above a page without such codes).
        interpretation=plan.interpretation if reordered and any(hit.code_system == ICD10PCS for hit in hits) else None,
        remedies=tuple(remedy for _, remedy in absent if remedy is not None),
    )
    return PlanRun(results, main, relaxed, first, exact, best, ranking, allowed)


def check_page(limit: int, offset: int) -> None:
    """Raise QueryError for a page the engine does not serve."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise QueryError(f"offset must be zero or more, not {offset}")


def exact_docs(searcher: Searcher, parsed: ParsedQuery, filters: Query | None) -> list[int]:
    """The documents whose code was typed exactly, in the order typed, within the filters."""
    docnums: list[int] = []
    for part in parsed.exact_codes:
        query = part.to_query()
        if filters is not None:
            query = And([query, filters])
        docnums.extend(d for d in matching_docs(searcher, query) if d not in docnums)
    return docnums


def absent_system_notices(
    searcher: Searcher, parsed: ParsedQuery, system: str | None, index_path: Any
) -> tuple[tuple[str, Remedy | None], ...]:
    """Say so when the query asks for codes of a system the index holds none of (an
    ICD-10-PCS code in an index of pages), and what adds them: (notice, remedy) pairs."""
    wanted = {part.system or system_of(part.value) for part in parsed.codes}
    if system:
        wanted.add(system_name(system))
    reader = searcher.reader()
    absent = sorted(name for name in wanted if name and ("code_system", name.encode()) not in reader)
    notices: list[tuple[str, Remedy | None]] = []
    for name in absent:
        if name == ICD10PCS:
            remedy = Remedy(REBUILD, index_path, sources=(PAGES, ICD10PCS_SOURCE))
            notices.append(
                (f"The index holds no {name} codes: {remedy.describe()} (needs procsearch[icd10pcs]).", remedy)
            )
        else:
            notices.append((f"The index holds no {name} codes.", None))
    return tuple(notices)


def _searches_anything(query: Query) -> bool:
    """Whether a query tree holds anything to match (the analyzer drops stop words: "the and of" is empty)."""
    if isinstance(query, NullQuery):
        return False
    children = list(query.children())
    return not children or any(_searches_anything(sub) for sub in children)


def _run_whoosh(
    searcher: Searcher, query: Query, limit: int, allowed: set[int] | None, deadline: Deadline
) -> tuple[Any, bool]:
    """Run a query through Whoosh until ``deadline``; on time-out, return what was collected so far."""
    # No pruning (replace=0, no block quality): Whoosh's pruning rescores documents as posting
    # lists run out, so the scores, and the order, would depend on the limit.
    collector: Any = TermsCollector(TopCollector(limit, usequality=False, replace=0))
    if allowed is not None:
        collector = FilterCollector(collector, allow=allowed)
    try:
        with timed(searcher, deadline):
            searcher.search_with_collector(query, collector)
    except TimeLimit:
        return collector.results(), True
    return collector.results(), False


def _matching(
    searcher: Searcher, main: Query, allowed: set[int] | None, deadline: Deadline, cap: int | None = None
) -> tuple[set[int], bool]:
    """The documents matching ``main`` among ``allowed`` (for counts and facets), at most
    ``cap``, and whether the deadline cut the count short."""
    found: set[int] = set()
    docs = matching_docs(searcher, main)
    if allowed is not None:
        docs = (docnum for docnum in docs if docnum in allowed)
    try:
        with timed(searcher, deadline):
            found.update(islice(docs, cap))  # lazy, so the cap saves the work
    except TimeLimit:
        return found, True
    return found, False
