"""The search engine: open an index once, answer many queries."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from whoosh import scoring
from whoosh.collectors import FilterCollector, TermsCollector, TimeLimit, TopCollector
from whoosh.query import And, Not, Or, Query, Term
from whoosh.searching import Searcher

from ..index.damage import as_damage
from ..index.documents import from_fields
from ..index.errors import IndexStoreError
from ..index.schema import SIMILAR, TEXT_FIELDS
from ..index.store import current_name, open_current
from ..ingest.codes import ICD10PCS, normalize_code, system_of
from ..ingest.record import ProcedureDoc
from ..ingest.sections import section_label
from .budget import Deadline, check_cost, timed
from .codeset import code_docs
from .errors import NotFoundError, QueryError, SearchError
from .pcs_order import axis_reading, candidate_limit, load_axes, reorder
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
from .ranking import PostingCache, filter_docs, leaves, matching_docs, rank
from .ranking.whoosh_internals import NullQuery
from .results import Expansion, IndexStats, SearchHit, SearchResults, SimilarEntry, SimilarResults, Snippet
from .snippets import best_snippet, clip, words_by_field
from .spelling import Correction, Speller, correct_text
from .vocabulary import Vocabulary, load_vocabulary
from .weights import EXPANSION_FIELDS, EXPANSION_WEIGHT, resolve_weights

if TYPE_CHECKING:
    from .evaluate import EvalQuery, EvalReport

T = TypeVar("T")
MAX_LIMIT = 1000
MAX_MEANINGS = 4
"""At most this many meanings of one expanded term are searched (each costs a sub-query)."""
COUNT_CAP = 1000
"""Counting stops here ("1000+ results"): an exact count of a broad query costs more than the search."""
MATCH_FIELDS = (*TEXT_FIELDS, "code")
DEFAULT_TIME_BUDGET = 1.0
"""Seconds a search may run before it returns what it has, marked partial."""
MORE_LIKE_TERMS = 6
"""Key terms taken from each field of a document to find its neighbours."""


def analysed(schema: Any, fieldname: str, text: str) -> str:
    """``text`` as the field's analyzer indexes it (a code in the Similar Codes field: "0dtj4zz")."""
    tokens = [token.text for token in schema[fieldname].analyzer(text)]
    return tokens[0] if tokens else text.lower()


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


RELAXED_NOTICE = "No document holds all the words of a known name for the query; these hold most of them."
PARTIAL_NOTICE = "The search ran out of time; these results are partial."
TIMED_OUT_NOTICE = (
    "The search ran out of time before it found anything: narrow the query (fewer phrases or NOT terms, "
    "--section, --system or --group)."
)
STOP_WORDS_NOTICE = (
    "Every word of the query is a common word that is not searched (the, and, of, ...): "
    "add a word that names the procedure."
)


def _searches_anything(query: Query) -> bool:
    """Whether a query tree holds anything to match (the analyzer drops stop words: "the and of" is empty)."""
    if isinstance(query, NullQuery):
        return False
    children = list(query.children())
    return not children or any(_searches_anything(sub) for sub in children)


MAX_PARSERS = 16
"""Parsers (one per set of weights and fields) an engine keeps."""


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
        self._parsers: dict[tuple[Any, ...], FieldParser] = {}
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
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
        if offset < 0:
            raise QueryError(f"offset must be zero or more, not {offset}")
        window = offset + limit
        field_weights = resolve_weights({**self.weights, **weights}) if weights else self.weights
        searcher = self._current()
        load_axes(searcher)  # the ICD-10-PCS axis data, read once, before the time budget starts
        deadline = Deadline(self.time_budget)
        parsed = implicit_prefixes(split_query(query), searcher.reader())
        text: str = check_text(parsed.text)
        if not text.strip() and not parsed.codes:
            raise QueryError(
                "The query is empty. Type words, a code (63685), a prefix (636*) or a range (63650-63688)."
            )
        filters = self._filters(searcher, system, group)
        fields = (section_field(section),) if section else TEXT_FIELDS
        if len(fields) == 1:
            field_weights = {fields[0]: 1.0}

        corrections: tuple[Correction, ...] = ()
        if correct and text:
            text, corrections = correct_text(text, self._speller(searcher), self.vocabulary.known_words())
        expansions = tuple(self.vocabulary.expand(included_text(unscoped_text(text)))) if expand and text else ()
        main = self._main_query(searcher, parsed, text, expansions, field_weights, fields)
        reading = axis_reading(searcher, text, expansions, system) if axes else None  # ICD-10-PCS (pcs_order)

        exact = self._exact_hits(searcher, parsed, filters)
        # Code prefixes and ranges are sets of documents: with words, the words are ranked within
        # them; alone, their codes are listed in code order.
        allowed = filter_docs(searcher, filters) if filters is not None else None
        ranged = [part for part in parsed.codes if part.kind != "exact"]
        coded = code_docs(searcher, ranged) if ranged else {}
        listed: list[int] = []
        if ranged and text:
            allowed = set(coded) if allowed is None else allowed & coded.keys()
        elif ranged:
            listed = sorted(
                (d for d in coded if d not in exact and (allowed is None or d in allowed)), key=coded.__getitem__
            )
        first = [*exact, *listed]
        partial = capped = False
        found: set[int] = set()
        ranked: list[SearchHit] = []
        best = 0.0
        relaxed = False
        if allowed is not None and not allowed:
            main = None  # nothing passes the filters
        ranking = None
        if main is not None:
            ranking = rank(
                searcher,
                main,
                limit=candidate_limit(window + len(first), reading),
                allowed=allowed,
                deadline=deadline.end,
                cache=self._postings,
            )
            if ranking is not None and not ranking.matching and not ranking.partial and not first and expansions:
                # Nothing holds every word of an expansion ("coronary artery bypass graft", where
                # titles say "Bypass Coronary Artery"): rank by how many of its words they hold.
                loose = self._main_query(searcher, parsed, text, expansions, field_weights, fields, relaxed=True)
                loose_ranking = (
                    rank(searcher, loose, limit=window, allowed=allowed, deadline=deadline.end, cache=self._postings)
                    if loose is not None
                    else None
                )
                if loose_ranking is not None and loose_ranking.matching:
                    main, ranking, relaxed = loose, loose_ranking, True
        if ranking is not None and reading and main is not None:
            ranked_query = main  # ICD-10-PCS codes by text and axes (pcs_order)
            ranking = reorder(
                searcher,
                ranking,
                reading,
                allowed,
                window,
                lambda docs: rank(
                    searcher, ranked_query, limit=len(docs), allowed=docs, deadline=deadline.end, cache=self._postings
                ),
            )
        if ranking is not None:
            # The usual case: plain words (and their expansions), scored a posting block at a time.
            found, partial = ranking.matching, ranking.partial
            assert main is not None
            words = words_by_field((term.fieldname, term.text) for term in leaves(main))
            reader = searcher.reader()
            best = ranking.top[0][1] if ranking.top else 0.0
            shown = [item for item in ranking.top if item[0] not in first][
                max(0, offset - len(first)) : window - len(first)
            ]
            for docnum, score in shown:
                terms = ranking.terms.get(docnum, [])
                stored = reader.stored_fields(docnum)
                ranked.append(self._make_hit(stored, score, 0, terms, words, field_weights, searcher.schema))
        elif main is not None:
            # Phrases, word prefixes and NOT: Whoosh's own matchers, within the budget.
            check_cost(main, searcher)
            results, partial = self._run(searcher, main, window + len(first), allowed, deadline)
            best = results.top_n[0][0] if results.top_n else 0.0
            if partial or results.scored_length() < window + len(first):
                # On a time-out, what was collected is all there was time for.
                found = {docnum for _, docnum in results.top_n} if partial else set(results.docs())
            else:
                found, partial = self._matching(searcher, main, allowed, deadline, cap=None if facets else COUNT_CAP)
                found.update(results.docs())  # a count cut short still holds what was collected
                capped = len(found) >= COUNT_CAP and not facets
            matched = [hit for hit in results if hit.docnum not in first]
            shown_hits = matched[max(0, offset - len(first)) : window - len(first)]
            ranked = [self._hit(hit, rank=0, weights=field_weights) for hit in shown_hits]
        reader = searcher.reader()
        # A hit found by its code outranks every word match: it scores one more than the best of them.
        hits = [
            self._hit_from_stored(reader.stored_fields(d), rank=0, score=best + 1.0, exact=d in exact)
            for d in first[offset:window]
        ]
        hits = [replace(hit, rank=offset + i + 1) for i, hit in enumerate([*hits, *ranked][:limit])]
        total = max(len(first) + len(found.difference(first)), offset + len(hits) if hits else 0)
        facet_counts = self._facets(searcher, {*first, *found}) if facets else {}
        return SearchResults(
            query=query,
            hits=tuple(hits),
            total=total,
            total_capped=capped,
            offset=offset,
            corrected_query=" ".join([text, *(p.label for p in parsed.codes)]).strip() if corrections else None,
            corrections=corrections,
            expansions=expansions,
            partial=partial,
            notices=parsed.notices
            + ((RELAXED_NOTICE,) if relaxed else ())
            + self._absent_system_notice(searcher, parsed, system)
            + (
                (STOP_WORDS_NOTICE,)
                if text and not ranged and not exact and main is not None and not _searches_anything(main)
                else ()
            )
            + (((PARTIAL_NOTICE if hits else TIMED_OUT_NOTICE),) if partial else ()),
            facets=facet_counts,
            interpretation=reading,
        )

    def _run(
        self, searcher: Searcher, query: Query, limit: int, allowed: set[int] | None, deadline: Deadline
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

    def _main_query(
        self,
        searcher: Searcher,
        parsed: ParsedQuery,
        text: str,
        expansions: tuple[Expansion, ...],
        weights: Mapping[str, float],
        fields: tuple[str, ...],
        *,
        relaxed: bool = False,
    ) -> Query | None:
        """The ranked part of a search: the typed words, their expansions, code prefixes and ranges.

        An expansion of several words must match all of them, unless ``relaxed``: then more of
        its words score higher, as the typed words do."""
        if not text:
            # Codes alone: after the codes themselves, the pages that list them as similar codes.
            related = [Term(SIMILAR, analysed(searcher.schema, SIMILAR, part.value)) for part in parsed.exact_codes]
            return (Or(related) if len(related) > 1 else related[0]) if related else None
        parser = self._parser(searcher, weights, fields)
        typed = self._parse(parser, scope_following_words(text))
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
            and_parser = self._parser(searcher, weights, expansion_fields, conjunctive=not relaxed)
            for expansion in expansions:
                meanings = [self._parse(and_parser, meaning) for meaning in expansion.expansions[:MAX_MEANINGS]]
                alternatives.append(Or(meanings, boost=EXPANSION_WEIGHT))
            typed = Or(alternatives)
        return And([typed, excluded]) if excluded is not None else typed

    def _parser(
        self, searcher: Searcher, weights: Mapping[str, float], fields: tuple[str, ...], *, conjunctive: bool = False
    ) -> FieldParser:
        """A parser for these weights and fields, kept for the next query (it caches analysed words)."""
        key = (id(searcher.schema), tuple(sorted(weights.items())), fields, conjunctive)
        parser = self._parsers.get(key)
        if parser is None or parser.schema is not searcher.schema:
            if len(self._parsers) >= MAX_PARSERS:
                self._parsers.clear()
            parser = self._parsers[key] = FieldParser(searcher.schema, weights, fields, conjunctive=conjunctive)
        return parser

    @staticmethod
    def _parse(parser: Any, text: str) -> Query:
        """Parse with the full syntax; if Whoosh chokes ("NOT NOT x"), search the plain words."""
        try:
            return parser.parse(text)
        except Exception:  # the Whoosh parser raises assorted errors on odd input
            words = plain_text(text)
            try:
                return parser.parse(words)
            except Exception as exc:
                raise QueryError(
                    f"Cannot understand the query {text!r}. Remove special characters and try again."
                ) from exc

    def _hit(self, hit: Any, *, rank: int, weights: Mapping[str, float]) -> SearchHit:
        """A result from a Whoosh hit."""
        words = words_by_field(hit.results.query_terms(expand=True)) if hit.results else {}
        return self._make_hit(
            hit.fields(), float(hit.score or 0.0), rank, hit.matched_terms(), words, weights, hit.searcher.schema
        )

    @staticmethod
    def _make_hit(
        stored: Mapping[str, Any],
        score: float,
        rank: int,
        terms: Iterable[tuple[str, Any]],
        words: Mapping[str, set[str]],
        weights: Mapping[str, float],
        schema: Any,
    ) -> SearchHit:
        """A result: the stored record's summary parts, and a snippet where the matched terms are."""
        matched = Counter(name for name, _ in terms if name in MATCH_FIELDS)
        return SearchHit(
            code=stored["code"],
            code_system=stored.get("code_system", ""),
            title=stored.get("title", ""),
            score=score,
            rank=rank,
            snippet=best_snippet(stored, words, schema, weights, matched),
            group=stored.get("group", ""),
            common_names=tuple(n for n in stored.get("names", "").split("\n") if n),
            matched_fields=tuple(sorted(matched, key=MATCH_FIELDS.index)),
        )

    def _exact_hits(self, searcher: Searcher, parsed, filters: Query | None) -> list[int]:  # type: ignore[no-untyped-def]
        docnums: list[int] = []
        for part in parsed.exact_codes:
            query = part.to_query()
            if filters is not None:
                query = And([query, filters])
            docnums.extend(d for d in matching_docs(searcher, query) if d not in docnums)
        return docnums

    def _absent_system_notice(self, searcher: Searcher, parsed: ParsedQuery, system: str | None) -> tuple[str, ...]:
        """Say so when the query asks for codes of a system the index holds none of (an
        ICD-10-PCS code in an index of pages), and how to add them."""
        wanted = {part.system or system_of(part.value) for part in parsed.codes}
        if system:
            wanted.add(system_name(system))
        reader = searcher.reader()
        absent = sorted(name for name in wanted if name and ("code_system", name.encode()) not in reader)
        notices = []
        for name in absent:
            hint = (
                f" Add them with: procsearch --index {self.index_path} index --source pages --source icd10pcs "
                "(needs procsearch[icd10pcs])."
                if name == ICD10PCS
                else ""
            )
            notices.append(f"The index holds no {name} codes.{hint}")
        return tuple(notices)

    @staticmethod
    def _filters(searcher: Searcher, system: str | None, group: str | None) -> Query | None:
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

    @staticmethod
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

    @staticmethod
    def _facets(searcher: Searcher, docnums: set[int]) -> dict[str, dict[str, int]]:
        """Counts per code system and group over every match."""
        systems: Counter[str] = Counter()
        groups: Counter[str] = Counter()
        for docnum in docnums:
            stored = searcher.reader().stored_fields(docnum)
            systems[stored.get("code_system") or "(none)"] += 1
            groups[stored.get("group") or "(none)"] += 1
        return {"code_system": dict(systems.most_common()), "group": dict(groups.most_common())}

    def _hit_from_stored(self, stored: Mapping[str, object], *, rank: int, score: float, exact: bool) -> SearchHit:
        summary = str(stored.get("summary", ""))
        snippet = Snippet("summary", section_label("summary"), clip(summary)) if summary else None
        return SearchHit(
            code=str(stored["code"]),
            code_system=str(stored.get("code_system", "")),
            title=str(stored.get("title", "")),
            score=score,
            rank=rank,
            snippet=snippet,
            group=str(stored.get("group", "")),
            common_names=tuple(n for n in str(stored.get("names", "")).split("\n") if n),
            exact_code_match=exact,
            matched_fields=("code",),
        )

    # --- documents -----------------------------------------------------------------------------

    @_guard
    def get(self, code: str) -> ProcedureDoc:
        """The full record of one code (or page id); raises NotFoundError."""
        searcher = self._current()
        stored = searcher.document(code=normalize_code(code)) or searcher.document(code=code.strip())
        if stored is None:
            raise NotFoundError(
                f"No document with code {code!r} in the index. Search for it with: procsearch search {code!r}"
            )
        return from_fields(stored)

    @_guard
    def similar(self, code: str, *, limit: int = 10) -> SimilarResults:
        """A code's neighbours: the page's own Similar Codes list first (marking which are in the
        index), then documents whose weighted sections read most alike (more-like-this)."""
        searcher = self._current()
        doc = self.get(code)
        listed = []
        for similar in doc.similar_codes:
            stored = searcher.document(code=similar.code)
            listed.append(
                SimilarEntry(
                    similar.code, similar.label, stored is not None, str(stored.get("title", "")) if stored else ""
                )
            )
        docnum = searcher.document_number(code=doc.code)
        query = self._more_like_query(searcher, doc)
        neighbours: list[SearchHit] = []
        if query is not None:
            results = searcher.search(query, limit=limit + 1, mask=Term("code", doc.code), terms=True)
            for hit in results:
                if hit.docnum != docnum and len(neighbours) < limit:
                    neighbours.append(self._hit(hit, rank=len(neighbours) + 1, weights=self.weights))
        return SimilarResults(code=doc.code, title=doc.title, listed=tuple(listed), neighbours=tuple(neighbours))

    def _more_like_query(self, searcher: Searcher, doc: ProcedureDoc) -> Query | None:
        """The document's most telling terms per field, weighted like a search."""
        terms: list[Query] = []
        texts = {"title": doc.title, "names": "\n".join(doc.common_names), **doc.sections}
        for name, text in texts.items():
            weight = self.weights.get(name, 0.0)
            if not text or weight <= 0:
                continue
            for term, score in searcher.key_terms_from_text(name, text, numterms=MORE_LIKE_TERMS):
                terms.append(Term(name, term, boost=weight * score))
        return Or(terms) if terms else None

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
        systems: Counter[str] = Counter()
        groups: Counter[str] = Counter()
        for stored in searcher.reader().all_stored_fields():
            systems[stored.get("code_system") or "(none)"] += 1
            groups[stored.get("group") or "(none)"] += 1
        assert self._generation is not None
        size = sum(p.stat().st_size for p in self._generation.iterdir() if p.is_file())
        return IndexStats(
            index_path=str(self.index_path),
            generation=self._generation.name,
            document_count=searcher.doc_count(),
            by_system=dict(systems.most_common()),
            by_group=dict(groups.most_common()),
            schema_version=self.meta.schema_version,
            package_version=self.meta.package_version,
            whoosh_version=self.meta.whoosh_version,
            built_at=self.meta.built_at,
            size_bytes=size,
            sources=dict(self.meta.sources),
            releases=dict(self.meta.releases),
        )

    @_guard
    def headings(self) -> tuple[str, list[tuple[str, str, str, tuple[str, ...], str]]]:
        """The generation served and every document's code, code system, title, common names and
        source, read in one pass (what a completion table for search-as-you-type is built from)."""
        searcher = self._current()
        assert self._generation is not None
        rows = [
            (
                str(stored["code"]),
                str(stored.get("code_system", "")),
                str(stored.get("title", "")),
                tuple(n for n in str(stored.get("names", "")).split("\n") if n),
                str(stored.get("source", "")),
            )
            for stored in searcher.reader().all_stored_fields()
        ]
        return self._generation.name, rows
