"""The search engine: open an index once, answer many queries.

:class:`SearchEngine` is the facade: it opens the index and reopens it when a newer generation is
published, runs one call at a time, turns damage found while reading into IndexDamagedError, and
its public methods are thin calls into the parts that do the work:

- ``plan``: what a typed query becomes (:func:`~.plan.plan_query`, :class:`~.plan.QueryPlan`);
- ``execution``: running a plan (ranking, relaxed retry, codes first, totals and caps);
- ``hits``: the one builder of a :class:`~.results.SearchHit`;
- ``facets``: counts per code system and group (``search --facets`` and ``stats``);
- ``similar``: a code's listed and content-based neighbours.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from whoosh import scoring
from whoosh.searching import Searcher

from ..errors import SEARCH, Remedy
from ..index.damage import as_damage
from ..index.documents import from_fields
from ..index.errors import IndexStoreError
from ..index.store import current_name, open_current
from ..ingest.codes import normalize_code
from ..ingest.record import ProcedureDoc
from .budget import Deadline
from .errors import NotFoundError, SearchError
from .execution import (
    COUNT_CAP,
    PARTIAL_NOTICE,
    RELAXED_NOTICE,
    STOP_WORDS_NOTICE,
    TIMED_OUT_NOTICE,
    PlanRun,
    check_page,
    run_plan,
)
from .explanation import Explanation, explain_run, explained_options
from .facets import headings_of, index_stats
from .families import family_page
from .limits import MAX_LIMIT
from .pcs_order import load_axes
from .plan import ParserCache, QueryPlan, plan_query, relaxed_query, resolved_weights
from .ranking import PostingCache
from .results import IndexStats, SearchResults, SimilarResults
from .similar import similar_codes
from .spelling import Speller
from .vocabulary import Vocabulary, load_vocabulary
from .weights import resolve_weights

if TYPE_CHECKING:
    from .evaluate import EvalQuery, EvalReport

__all__ = [
    "COUNT_CAP",
    "DEFAULT_TIME_BUDGET",
    "MAX_LIMIT",
    "PARTIAL_NOTICE",
    "RELAXED_NOTICE",
    "STOP_WORDS_NOTICE",
    "TIMED_OUT_NOTICE",
    "SearchEngine",
]

T = TypeVar("T")
DEFAULT_TIME_BUDGET = 1.0
"""Seconds a search may run before it returns what it has, marked partial."""


def _guard(method: Callable[..., T]) -> Callable[..., T]:
    """Run one engine call at a time (Whoosh's readers share file positions, so two threads
    reading one index at once read each other's bytes); turn damage found while reading into
    IndexDamagedError naming the fix; if the generation was removed under a long-lived engine,
    reopen on the current one and try once more."""

    @functools.wraps(method)
    def wrapper(self: SearchEngine, *args: Any, **kwargs: Any) -> T:
        with self._busy:
            return _guarded(self, method, *args, **kwargs)

    return wrapper


def _guarded(engine: SearchEngine, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return method(engine, *args, **kwargs)
    except (SearchError, IndexStoreError):
        raise
    except Exception as exc:
        if engine._generation is not None and not engine._generation.exists():
            engine._searcher = None
            return method(engine, *args, **kwargs)
        damage = as_damage(exc, engine.index_path, engine._generation)
        if damage is None:
            raise
        raise damage from exc


class SearchEngine:
    """Searches one procsearch index.

    Open it once and reuse it: it keeps a Whoosh searcher open, and before each call checks
    whether a newer index generation has been published (by ``procsearch index`` or
    ``reindex``) and, if so, reopens on it. It never uses ``Searcher.refresh()``. Threads may
    share one engine; its calls run one at a time (for searches in parallel, use processes).

    >>> engine = SearchEngine(index_path)            # doctest: +SKIP
    >>> engine.search("spinal cord stimulator", limit=5).codes   # doctest: +SKIP
    """

    def __init__(
        self,
        index_path: Path | str,
        *,
        weights: Mapping[str, float] | None = None,
        vocabulary: Vocabulary | None = None,
        time_budget: float = DEFAULT_TIME_BUDGET,
    ) -> None:
        self.index_path = Path(index_path)
        self.time_budget = time_budget
        self.weights = resolve_weights(weights)
        self.vocabulary = vocabulary if vocabulary is not None else load_vocabulary()
        self._lock = threading.Lock()
        self._busy = threading.RLock()
        self._generation: Path | None = None
        self._searcher: Searcher | None = None
        self._postings = PostingCache()
        self._parsers = ParserCache()
        self._spelling: Speller | None = None
        self._open()

    # --- lifecycle -----------------------------------------------------------------------------

    def _open(self, retry: bool = True) -> None:
        opened = open_current(self.index_path)  # checked for safety and damage, retried if it moved on
        generation = opened.path
        try:
            searcher = opened.index.searcher(weighting=scoring.BM25F())
        except Exception as exc:
            opened.index.close()
            if not generation.exists() and retry:
                return self._open(retry=False)  # removed by a writer between reading CURRENT and opening
            damage = as_damage(exc, self.index_path, generation)
            if damage is None:
                raise
            raise damage from exc
        self.meta = opened.meta
        old = self._searcher
        self._searcher, self._generation = searcher, generation
        if old is not None:
            old.close()

    def _current(self) -> Searcher:
        """The searcher, reopened first if a newer generation has been published."""
        with self._lock:
            latest = current_name(self.index_path)
            if self._searcher is None or (latest is not None and latest != getattr(self._generation, "name", None)):
                self._open()
            assert self._searcher is not None
            return self._searcher

    def _speller(self, searcher: Searcher) -> Speller:
        """The typo corrector for the open searcher (it reads the vocabulary once, when first needed)."""
        if self._spelling is None or self._spelling.reader is not searcher.reader():
            self._spelling = Speller(searcher.reader())
        return self._spelling

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def __enter__(self) -> SearchEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- queries -------------------------------------------------------------------------------

    @_guard
    def plan_query(
        self,
        query: str,
        *,
        section: str | None = None,
        system: str | None = None,
        group: str | None = None,
        weights: Mapping[str, float] | None = None,
        expand: bool = True,
        correct: bool = True,
        axes: bool = True,
    ) -> QueryPlan:
        """What :meth:`search` would run for ``query`` with these options (see :func:`plan_query`)."""
        return self._plan(self._current(), query, section, system, group, weights, expand, correct, axes)

    def _plan(
        self,
        searcher: Searcher,
        query: str,
        section: str | None,
        system: str | None,
        group: str | None,
        weights: Mapping[str, float] | None,
        expand: bool,
        correct: bool,
        axes: bool = True,
    ) -> QueryPlan:
        load_axes(searcher)  # the ICD-10-PCS axis data, read once, before a time budget starts
        return plan_query(
            searcher,
            query,
            vocabulary=self.vocabulary,
            weights=resolved_weights(self.weights, weights),
            speller=self._speller(searcher),
            parsers=self._parsers,
            section=section,
            system=system,
            group=group,
            expand=expand,
            correct=correct,
            axes=axes,
        )

    @_guard
    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        offset: int = 0,
        section: str | None = None,
        system: str | None = None,
        group: str | None = None,
        weights: Mapping[str, float] | None = None,
        facets: bool = False,
        expand: bool = True,
        correct: bool = True,
        axes: bool = True,
    ) -> SearchResults:
        """Rank documents for ``query``; an exact code always comes first. The hits are ranks
        ``offset + 1`` to ``offset + limit``.

        ``section`` restricts matching to one section; ``system`` and ``group`` filter;
        ``weights`` overrides the default field weights for this query only; ``expand`` adds
        vocabulary expansions (counted below the typed words); ``correct`` replaces words the
        index has never seen with the closest indexed word; ``axes`` orders ICD-10-PCS codes by
        the query's reading along their axes as well as by text (:mod:`.pcs_order`).
        """
        check_page(limit, offset)
        searcher = self._current()
        load_axes(searcher)
        deadline = Deadline(self.time_budget)
        plan = self._plan(searcher, query, section, system, group, weights, expand, correct, axes)
        return self._run(searcher, plan, limit, offset, facets, deadline).results

    def search_families(self, query: str, *, limit: int = 10, **options: Any) -> SearchResults:
        """:meth:`search` with ``limit`` rows, a row being an ICD-10-PCS code family with its codes
        or a hit of no family (what ``procsearch search`` shows; ``--flat`` is :meth:`search`)."""
        return family_page(self.search, query, limit=limit, **options)

    @_guard
    def explain(self, query: str, code: str, **options: Any) -> Explanation:
        """Why ``code`` is where it is in :meth:`search`'s ranking for ``query`` with these
        ``options`` (limit, offset, section, system, group, weights, expand, correct, axes): its rank
        and score, and each term's part of the score, from the ranking's own sums; for a code not
        on the page, what it lacks and how far it is behind the last hit shown. Raises
        NotFoundError for a code not in the index."""
        return self._explain(query, code, **options)[1][0]

    @_guard
    def explain_page(self, query: str, **options: Any) -> tuple[SearchResults, tuple[Explanation, ...]]:
        """:meth:`search`'s results for ``query`` and ``options``, and an explanation of every hit
        on the page (``search --explain``)."""
        return self._explain(query, None, **options)

    def _explain(
        self,
        query: str,
        code: str | None,
        *,
        limit: int = 10,
        offset: int = 0,
        section: str | None = None,
        system: str | None = None,
        group: str | None = None,
        weights: Mapping[str, float] | None = None,
        expand: bool = True,
        correct: bool = True,
        axes: bool = True,
    ) -> tuple[SearchResults, tuple[Explanation, ...]]:
        """The results and the explanations of ``code`` (None: of every hit on the page)."""
        check_page(limit, offset)
        searcher = self._current()
        options = explained_options(section, system, group, weights, expand, correct, axes, limit, offset)
        plan = self._plan(searcher, query, section, system, group, weights, expand, correct, axes)
        if code is not None:
            docnums = [self._docnum(searcher, code)]
        else:  # the page first, to know whose scores to trace
            page = self._run(searcher, plan, limit, offset, False, Deadline(self.time_budget)).results
            docnums = [self._docnum(searcher, hit.code) for hit in page.hits]
        deadline = Deadline(self.time_budget)
        run = self._run(searcher, plan, limit, offset, False, deadline, trace=set(docnums))
        explanations = tuple(
            explain_run(searcher, plan, run, docnum, deadline=deadline, postings=self._postings, options=options)
            for docnum in docnums
        )
        return run.results, explanations

    def _docnum(self, searcher: Searcher, code: str) -> int:
        docnum = searcher.document_number(code=normalize_code(code))
        if docnum is None:
            docnum = searcher.document_number(code=code.strip())
        if docnum is None:
            raise _not_found(self.index_path, code)
        return int(docnum)

    def _run(
        self,
        searcher: Searcher,
        plan: QueryPlan,
        limit: int,
        offset: int,
        facets: bool,
        deadline: Deadline,
        trace: set[int] | None = None,
    ) -> PlanRun:
        return run_plan(
            searcher,
            plan,
            limit=limit,
            offset=offset,
            facets=facets,
            deadline=deadline,
            postings=self._postings,
            relax=lambda: relaxed_query(searcher, plan, self._parsers),
            index_path=self.index_path,
            trace=trace,
        )

    # --- documents -----------------------------------------------------------------------------

    @_guard
    def get(self, code: str) -> ProcedureDoc:
        """The full record of one code (or page id); raises NotFoundError."""
        searcher = self._current()
        stored = searcher.document(code=normalize_code(code)) or searcher.document(code=code.strip())
        if stored is None:
            raise _not_found(self.index_path, code)
        return from_fields(stored)

    @_guard
    def similar(self, code: str, *, limit: int = 10) -> SimilarResults:
        """A code's neighbours: the page's own Similar Codes list first (marking which are in the
        index), then documents whose weighted sections read most alike (more-like-this)."""
        return similar_codes(self._current(), self.get(code), weights=self.weights, limit=limit)

    @_guard
    def evaluate(self, queries: Sequence[EvalQuery] | Path | str, **options: Any) -> EvalReport:
        """Score the ranking on queries with known answers (a list, or a query file's path).

        ``options`` are passed to :meth:`search` (section, system, weights, expand, correct, ...).
        """
        from .evaluate import DEPTH, evaluate, read_queries  # here: searching never needs it

        items = read_queries(Path(queries)) if isinstance(queries, (str, Path)) else list(queries)
        return evaluate(items, lambda query: self.search(query, limit=DEPTH, **options).codes)

    @_guard
    def stats(self) -> IndexStats:
        """Document counts by code system and group, and what the index says about itself."""
        searcher = self._current()
        assert self._generation is not None
        return index_stats(searcher, self.index_path, self._generation, self.meta)

    @_guard
    def headings(self) -> tuple[str, list[tuple[str, str, str, tuple[str, ...], str]]]:
        """The generation served and every document's code, code system, title, common names and
        source, read in one pass (what a completion table for search-as-you-type is built from)."""
        searcher = self._current()
        assert self._generation is not None
        return self._generation.name, headings_of(searcher)


def _not_found(index_path: Path, code: str) -> NotFoundError:
    return NotFoundError(
        f"No document with code {code!r} in the index.", remedies=[Remedy(SEARCH, index_path, query=code)]
    )
