"""The search engine: open an index once, answer many queries."""

from __future__ import annotations

import functools
import pickle
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.index import IndexError as WhooshIndexError
from whoosh.query import And, Or, Query, Term
from whoosh.reading import CorruptIndexError
from whoosh.searching import Searcher

from ..index.documents import from_fields
from ..index.errors import IndexDamagedError, IndexStoreError
from ..index.schema import SIMILAR, TEXT_FIELDS
from ..index.store import check_manifest, check_safe, current_generation, read_meta
from ..ingest.codes import normalize_code
from ..ingest.record import ProcedureDoc
from ..ingest.sections import section_label
from .errors import NotFoundError, QueryError, SearchError
from .query import (
    FieldParser,
    ParsedQuery,
    check_text,
    codes_query,
    implicit_prefixes,
    plain_text,
    scope_following_words,
    section_field,
    split_query,
    system_name,
    unscoped_text,
)
from .results import Expansion, IndexStats, SearchHit, SearchResults, SimilarEntry, SimilarResults, Snippet
from .scoring import PostingCache, leaves, rank
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


_DAMAGE = (OSError, EOFError, zlib.error, struct.error, pickle.UnpicklingError)
"""What reading damaged Whoosh files raises (besides Whoosh's own errors)."""


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


def _fix_hint(index_path: Path, generation: Path) -> str:
    """The command that repairs a damaged index (``index.verify`` is imported only then)."""
    from ..index.verify import fix_hint as hint

    return hint(index_path, generation)


def _guarded(engine: SearchEngine, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return method(engine, *args, **kwargs)
    except (SearchError, IndexStoreError):
        raise
    except (*_DAMAGE, WhooshIndexError, CorruptIndexError) as exc:
        if engine._generation is not None and not engine._generation.exists():
            engine._searcher = None
            return method(engine, *args, **kwargs)
        generation = engine._generation or engine.index_path
        raise IndexDamagedError(
            f"The index at {engine.index_path} is damaged ({type(exc).__name__}: {exc}). "
            f"Fix: {_fix_hint(engine.index_path, generation)}"
        ) from exc


RELAXED_NOTICE = "No document holds all the words of a known name for the query; these hold most of them."

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
        check_safe(self.index_path)
        generation = current_generation(self.index_path)
        check_safe(generation)
        self.meta = read_meta(generation, self.index_path)
        problems = check_manifest(generation)
        if problems:
            raise IndexDamagedError(
                f"The index at {self.index_path} is damaged ({problems[0]}). Fix: {_fix_hint(self.index_path, generation)}"
            )
        try:
            ix = whoosh_index.open_dir(str(generation), readonly=True)
            searcher = ix.searcher(weighting=scoring.BM25F())
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            if not generation.exists() and retry:
                return self._open(retry=False)  # removed by a writer between reading CURRENT and opening
            raise IndexDamagedError(
                f"The index at {self.index_path} cannot be read ({type(exc).__name__}: {exc}). "
                f"Fix: {_fix_hint(self.index_path, generation)}"
            ) from exc
        old = self._searcher
        self._searcher, self._generation = searcher, generation
        if old is not None:
            old.close()

    def _current(self) -> Searcher:
        """The searcher, reopened first if a newer generation has been published."""
        with self._lock:
            try:
                latest = current_generation(self.index_path)
            except IndexStoreError:
                latest = self._generation
            if latest != self._generation or self._searcher is None:
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
        section: str | None = None,
        system: str | None = None,
        group: str | None = None,
        weights: Mapping[str, float] | None = None,
        facets: bool = False,
        expand: bool = True,
        correct: bool = True,
    ) -> SearchResults:
        """Rank documents for ``query``; an exact code always comes first.

        ``section`` restricts matching to one section; ``system`` and ``group`` filter;
        ``weights`` overrides the default field weights for this query only; ``expand`` adds
        vocabulary expansions (counted below the typed words); ``correct`` replaces words the
        index has never seen with the closest indexed word.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
        field_weights = resolve_weights({**self.weights, **weights}) if weights else self.weights
        searcher = self._current()
        parsed = implicit_prefixes(split_query(query), searcher.reader())
        text: str = check_text(parsed.text)
        if not text.strip() and not parsed.codes:
            raise QueryError(
                "The query is empty. Type words, a code (63685), a prefix (636*) or a range (63650-63688)."
            )
        filters = self._filters(system, group)
        fields = (section_field(section),) if section else TEXT_FIELDS
        if len(fields) == 1:
            field_weights = {fields[0]: 1.0}

        corrections: tuple[Correction, ...] = ()
        if correct and text:
            text, corrections = correct_text(text, self._speller(searcher), self.vocabulary.known_words())
        expansions = tuple(self.vocabulary.expand(unscoped_text(text))) if expand and text else ()
        main = self._main_query(searcher, parsed, text, expansions, field_weights, fields)

        exact = self._exact_hits(searcher, parsed, filters)
        partial = capped = False
        hits = [
            self._hit_from_stored(searcher.reader().stored_fields(d), rank=i + 1, score=0.0, exact=True)
            for i, d in enumerate(exact[:limit])
        ]
        total = len(exact)
        found: set[int] = set()
        ranking = None
        relaxed = False
        if main is not None:
            deadline = time.monotonic() + self.time_budget
            ranking = rank(
                searcher, main, limit=limit + len(exact), allowed=filters, deadline=deadline, cache=self._postings
            )
            if ranking is not None and not ranking.matching and not ranking.partial and not exact and expansions:
                # Nothing holds every word of an expansion ("coronary artery bypass graft", where
                # titles say "Bypass Coronary Artery"): rank by how many of its words they hold.
                loose = self._main_query(searcher, parsed, text, expansions, field_weights, fields, relaxed=True)
                loose_ranking = (
                    rank(searcher, loose, limit=limit, allowed=filters, deadline=deadline, cache=self._postings)
                    if loose is not None
                    else None
                )
                if loose_ranking is not None and loose_ranking.matching:
                    main, ranking, relaxed = loose, loose_ranking, True
        if ranking is not None:
            # The usual case: plain words (and their expansions), scored a posting block at a time.
            found, partial = ranking.matching, ranking.partial
            total += len(found - set(exact))
            assert main is not None
            words = words_by_field((term.fieldname, term.text) for term in leaves(main))
            reader = searcher.reader()
            for docnum, score in ranking.top:
                if len(hits) >= limit:
                    break
                if docnum not in exact:
                    stored = reader.stored_fields(docnum)
                    terms = ranking.terms.get(docnum, [])
                    hits.append(
                        self._make_hit(stored, score, len(hits) + 1, terms, words, field_weights, searcher.schema)
                    )
        elif main is not None:
            # Phrases, word prefixes, NOT, code prefixes and ranges: Whoosh's own matchers.
            results, partial = self._run(searcher, main, limit + len(exact), filters)
            if partial or results.scored_length() < limit + len(exact):
                # On a time-out, what was collected is all there was time for.
                found = {docnum for _, docnum in results.top_n} if partial else set(results.docs())
            else:
                found = self._matching(searcher, main, filters, cap=None if facets else COUNT_CAP)
                capped = len(found) >= COUNT_CAP and not facets
            total += len(found - set(exact))
            for hit in results:
                if len(hits) >= limit:
                    break
                if hit.docnum not in exact:
                    hits.append(self._hit(hit, rank=len(hits) + 1, weights=field_weights))
        if exact:
            # An exact code outranks everything: give it a score above the best text match.
            top = max((hit.score for hit in hits if not hit.exact_code_match), default=0.0) + 1.0
            hits = [replace(hit, score=top) if hit.exact_code_match else hit for hit in hits]
        # What matched is known in full unless Whoosh's collector ran out of time.
        complete = ranking is not None or not partial
        facet_counts = self._facets(searcher, main, filters, exact, found if complete else None) if facets else {}
        return SearchResults(
            query=query,
            hits=tuple(hits),
            total=total,
            total_capped=capped,
            corrected_query=" ".join([text, *(p.label for p in parsed.codes)]).strip() if corrections else None,
            corrections=corrections,
            expansions=expansions,
            partial=partial,
            notices=parsed.notices
            + ((RELAXED_NOTICE,) if relaxed else ())
            + (("The search ran out of time; these results are partial.",) if partial else ()),
            facets=facet_counts,
        )

    def _run(self, searcher: Searcher, query: Query, limit: int, filters: Query | None) -> tuple[Any, bool]:
        """Run a query within the time budget; on time-out, return what was collected so far."""
        collector = searcher.collector(limit=limit, filter=filters, terms=True)
        timed = TimeLimitCollector(collector, timelimit=self.time_budget, use_alarm=False)
        try:
            searcher.search_with_collector(query, timed)
        except TimeLimit:
            return timed.results(), True
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
        ranged = [part for part in parsed.codes if part.kind != "exact"]
        if not text:
            # Codes alone: the codes themselves, then the pages that list them as similar codes.
            related = [Term(SIMILAR, analysed(searcher.schema, SIMILAR, part.value)) for part in parsed.exact_codes]
            code_query = codes_query(parsed.codes)
            return Or([code_query, *related]) if related and code_query is not None else code_query
        parser = self._parser(searcher, weights, fields)
        typed = self._parse(parser, scope_following_words(text))
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
        ranged_query = codes_query(ranged)
        return And([typed, ranged_query]) if ranged_query is not None else typed

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
            docnums.extend(d for d in query.docs(searcher) if d not in docnums)
        return docnums

    def _filters(self, system: str | None, group: str | None) -> Query | None:
        terms: list[Query] = []
        if system:
            terms.append(Term("code_system", system_name(system)))
        if group:
            terms.append(Term("group", group))
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else And(terms)

    @staticmethod
    def _matching(searcher: Searcher, main: Query, filters: Query | None, cap: int | None = None) -> set[int]:
        """The documents matching ``main`` and the filters (for counts and facets), at most ``cap``."""
        query = And([main, filters]) if filters is not None else main
        matcher = query.matcher(searcher)  # lazy, unlike Query.docs(), so the cap saves the work
        return set(islice(matcher.all_ids(), cap))

    def _facets(
        self,
        searcher: Searcher,
        main: Query | None,
        filters: Query | None,
        exact: list[int],
        found: set[int] | None = None,
    ) -> dict[str, dict[str, int]]:
        """Counts per code system and group over every match (``found``, when already known)."""
        docnums = set(exact)
        if found is not None:
            docnums.update(found)
        elif main is not None:
            docnums.update(self._matching(searcher, main, filters))
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
