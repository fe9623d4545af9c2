"""procsearch at full scale, next to SQLite FTS5 and Tantivy on the same records.

Builds the largest index procsearch makes (the bundled sample pages plus every billable
ICD-10-PCS code) and, from the very same ProcedureDoc records, an SQLite FTS5 table and a Tantivy
index with the same text fields and comparable field weights. Then it measures, per engine:

  build time       whole build (reading the records + indexing + commit), in a child process;
                   also the indexing part alone (after every record has been read)
  peak memory      ru_maxrss of that child (os.wait4): the largest single process; and the peak
                   of the summed PSS of the child and any worker processes it forks (sampled)
  index size       bytes of the files on disk (the served generation, for procsearch)
  warm latency     p50 and p95 of top-10 searches with snippets, engine opened once and reused,
                   over a fixed mix of realistic queries (bench/queries/*.tsv: lay, clinical,
                   abbreviation, code, typo, section), after one untimed warm-up pass
  cold process     wall time of one search process (for procsearch, the `procsearch` console
                   script with --index), median of several runs after one untimed run

FTS5 and Tantivy get each query as an OR of its words, every word quoted (so no query can be a
syntax error); procsearch gets the query as typed (it does its own parsing, vocabulary
expansion and typo correction, which is part of what is measured).

Prints a Markdown table (results on stdout, progress on stderr) and writes the same figures as
JSON (and the table as Markdown) to --out.

    /work/venv/bin/python bench/scale.py                      # everything (a few minutes)
    /work/venv/bin/python bench/scale.py --queries 400        # 400 queries (adds fixed variants)
    /work/venv/bin/python bench/scale.py --skip-build IX      # reuse a built procsearch index
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from procsearch.ingest.record import ProcedureDoc

HERE = Path(__file__).resolve().parent
QUERY_FILES = (HERE / "queries" / "pages.tsv", HERE / "queries" / "icd10pcs.tsv")
DEFAULT_OUT = HERE / "results"
PROCSEARCH_SCRIPT = Path(sys.executable).parent / "procsearch"

ENGINES = ("procsearch", "fts5", "tantivy")
LABELS = {"procsearch": "procsearch", "fts5": "SQLite FTS5", "tantivy": "Tantivy"}

MIN_QUERIES = 200
MAX_WORDS = 6
EXTRA_WORDS = ("procedure", "surgery", "pain", "risks", "recovery", "adult", "cost", "treatment")
"""Appended, in turn, to make deterministic variants when more queries are asked for than the files hold."""
LIMIT = 10
SNIPPET_CHARS = 220
"""procsearch's snippet length (search/snippets.py); Tantivy's snippets are cut to the same."""
SNIPPET_TOKENS = 32
"""FTS5 snippets are counted in tokens: 32 tokens is about 220 characters of this text."""
CODE_WEIGHT = 10.0
"""Weight of the code column in FTS5 and Tantivy; procsearch puts an exact code first anyway."""
TANTIVY_HEAP = 256_000_000
"""One Tantivy writer thread with 256 MB, like procsearch's one Whoosh writer with limitmb=256."""
COLD_RUNS = 5
QUERY_TIMEOUT = 30.0
"""Seconds after which a warm query is interrupted and counted as a failure."""
COLD_TIMEOUT = 120.0
DEFAULT_COLD_QUERY = "knee replacement"
SETTINGS_FILE = "bench-settings.json"
"""Written next to the FTS5 and Tantivy indexes: their fields and weights, so a cold search
process needs neither procsearch nor this script's build code."""

_WORD = re.compile(r"\w")


# --- the queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchQuery:
    """One query of the mix; ``acceptable`` (codes, ``0DTJ*`` prefixes) is empty for variants."""

    text: str
    kind: str
    acceptable: tuple[str, ...] = ()

    def accepts(self, code: str) -> bool:
        code = code.upper()
        return any(code.startswith(a[:-1].upper()) if a.endswith("*") else code == a.upper() for a in self.acceptable)


def read_query_files(paths: Sequence[Path] = QUERY_FILES) -> list[BenchQuery]:
    """The ``query`` column of the TSV files (with kind and answers), 1 to 6 words, each text once."""
    import csv

    queries: list[BenchQuery] = []
    seen: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                text = (row.get("query") or "").strip()
                if not text or text in seen or not 1 <= len(text.split()) <= MAX_WORDS:
                    continue
                seen.add(text)
                acceptable = tuple(a.strip() for a in (row.get("acceptable") or "").split(",") if a.strip())
                queries.append(BenchQuery(text, (row.get("kind") or "").strip() or "other", acceptable))
    return queries


def query_mix(count: int | None, base: Sequence[BenchQuery]) -> list[BenchQuery]:
    """A fixed mix of ``count`` queries (default: every query of the files, at least MIN_QUERIES).

    Fewer than the files hold: evenly spaced over them, so every kind stays in. More: the files'
    queries, then variants "QUERY WORD" with WORD from EXTRA_WORDS in turn (never random).
    """
    wanted = count if count is not None else max(MIN_QUERIES, len(base))
    if wanted <= len(base):
        return [base[i * len(base) // wanted] for i in range(wanted)]
    mix = list(base)
    round_ = 0
    while len(mix) < wanted:
        for query in base:
            if len(mix) >= wanted:
                break
            words = query.text.split()
            if len(words) < MAX_WORDS:
                extra = EXTRA_WORDS[(len(mix) + round_) % len(EXTRA_WORDS)]
                mix.append(BenchQuery(f"{query.text} {extra}", f"{query.kind}+word"))
        round_ += 1
    return mix


def query_words(text: str, drop: str = '"') -> list[str]:
    """The words of a query (split on white space) with ``drop`` characters blanked out; words
    with no letter or digit are left out. The engines' tokenizers split on those characters anyway."""
    table = str.maketrans({char: " " for char in drop})
    words = []
    for word in text.split():
        cleaned = " ".join(word.translate(table).split())
        if _WORD.search(cleaned):
            words.append(cleaned)
    return words


def fts5_match(text: str) -> str:
    """``"w1" OR "w2" ...``: every word a quoted FTS5 string (a phrase of its tokens)."""
    return " OR ".join(f'"{word}"' for word in query_words(text, drop='"'))


def tantivy_match(text: str) -> str:
    """``"w1" "w2" ...``: quoted words, OR-ed by Tantivy's parser (its default for several terms)."""
    return " ".join(f'"{word}"' for word in query_words(text, drop='"\\'))


# --- the records and the fields -------------------------------------------------------------------


def read_records() -> list[ProcedureDoc]:
    """The records build_index(sources=("pages", "icd10pcs")) indexes: the bundled pages, then
    every ICD-10-PCS code that no page already has (the same rule as procsearch's collect_docs)."""
    from procsearch.corpus import bundled_corpus
    from procsearch.ingest.icd10pcs import iter_icd10pcs_docs
    from procsearch.ingest.pages import load_pages

    docs = list(load_pages(bundled_corpus()).docs)
    seen = {doc.code for doc in docs}
    docs.extend(doc for doc in iter_icd10pcs_docs() if doc.code not in seen)
    return docs


def field_names() -> tuple[str, ...]:
    """code, then procsearch's searched text fields: title, names, the sections, other, similar."""
    from procsearch.index.schema import TEXT_FIELDS

    return ("code", *TEXT_FIELDS)


def field_weights() -> dict[str, float]:
    """procsearch's default field weights, plus the code column's."""
    from procsearch.search.weights import DEFAULT_WEIGHTS

    return {"code": CODE_WEIGHT, **{name: float(w) for name, w in DEFAULT_WEIGHTS.items()}}


def snippet_fields() -> list[str]:
    """The fields procsearch takes snippets from, highest weight first (ties in display order)."""
    from procsearch.index.schema import SNIPPET_FIELDS

    weights = field_weights()
    return sorted(SNIPPET_FIELDS, key=lambda name: (-weights.get(name, 0.0), SNIPPET_FIELDS.index(name)))


def record_texts(doc: ProcedureDoc) -> dict[str, str]:
    """The text each field gets from a record: a quick copy of what procsearch's to_fields gives
    (which also computes the spelling words and stored extras, ~3 s over all records)."""
    from procsearch.index.schema import NAMES, SIMILAR, TITLE
    from procsearch.ingest.sections import OTHER

    texts = {"code": doc.code, TITLE: doc.title, NAMES: "\n".join(doc.common_names)}
    texts.update(doc.sections)
    texts[OTHER] = doc.other_text
    texts[SIMILAR] = " ".join(s.code for s in doc.similar_codes)
    return {name: texts.get(name, "") for name in field_names()}


def to_fields_texts(doc: ProcedureDoc) -> dict[str, str]:
    """The text each field gets from a record, taken from procsearch's to_fields itself."""
    from procsearch.index.documents import to_fields

    fields = to_fields(doc)
    return {name: fields.get(name, "") for name in field_names()}


def texts_function(sample: Sequence[ProcedureDoc]) -> Callable[[ProcedureDoc], dict[str, str]]:
    """record_texts if it still agrees with to_fields on ``sample``; otherwise (procsearch changed
    what it indexes) to_fields itself, with a warning: the records' text stays the same either way."""
    for doc in sample:
        if record_texts(doc) != to_fields_texts(doc):
            differing = [n for n, t in record_texts(doc).items() if t != to_fields_texts(doc)[n]]
            note(
                f"warning: record_texts() differs from procsearch's to_fields in {differing} ({doc.code}); "
                "using to_fields (slower); update record_texts() in bench/scale.py"
            )
            return to_fields_texts
    return record_texts


def write_settings(directory: Path) -> None:
    """Record the fields and weights next to an FTS5 or Tantivy index."""
    settings = {"fields": list(field_names()), "weights": field_weights(), "snippet_fields": snippet_fields()}
    (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def read_settings(directory: Path) -> dict[str, Any]:
    """The fields and weights an FTS5 or Tantivy index was built with."""
    settings: dict[str, Any] = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
    return settings


# --- building (each in a child process) -----------------------------------------------------------


@dataclass
class BuildFigures:
    """What one build child reports, plus what the parent measured around it."""

    engine: str
    seconds: float
    """Whole build: reading the records, indexing, committing (inside the child)."""
    indexing_seconds: float | None
    """The part after every record had been read."""
    documents: int
    peak_rss_mb: float
    """ru_maxrss of the child process (its largest resident set), from os.wait4."""
    peak_tree_pss_mb: float | None
    """Peak of the summed PSS of the child and its worker processes, sampled every 0.2 s: unlike
    ru_maxrss it counts worker processes, and memory they share (fork) only once. None off Linux."""
    rss_after_reading_mb: float | None
    """The child's peak resident set once the records were read, before indexing."""
    process_seconds: float
    """Wall time of the child process, interpreter start and imports included."""
    size_bytes: int
    worker_processes_peak_rss_mb: float = 0.0
    """ru_maxrss of the child's own children, if the build used worker processes (not summed)."""
    detail: dict[str, Any] = field(default_factory=dict)


def _rss_mb(children: bool = False) -> float:
    """This process's peak resident set in MB (or the largest of its waited-for children's)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF).ru_maxrss / 1024


def build_procsearch(target: Path) -> dict[str, Any]:
    """procsearch's own full build: build_index(bundled corpus, sources=(pages, icd10pcs))."""
    from procsearch.corpus import bundled_corpus
    from procsearch.index.build import ICD10PCS, PAGES, build_index

    reading: dict[str, float] = {}

    def progress(phase: str, done: int, total: int) -> None:
        if phase.startswith("reading"):  # the last reading event comes after the last record
            reading["done"] = time.perf_counter()
            reading["rss"] = _rss_mb()

    started = time.perf_counter()
    report = build_index(bundled_corpus(), target, sources=(PAGES, ICD10PCS), progress=progress)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "indexing_seconds": seconds - (reading["done"] - started) if "done" in reading else None,
        "rss_after_reading_mb": reading.get("rss"),
        "documents": report.indexed,
        "detail": {"sources": report.sources, "skipped": len(report.skipped), "generation": report.generation},
    }


def build_fts5(
    target: Path, docs: Sequence[ProcedureDoc], texts: Callable[[ProcedureDoc], dict[str, str]]
) -> dict[str, Any]:
    """One FTS5 table, a column per field, porter stemming; one transaction, then 'optimize'."""
    names = field_names()
    target.mkdir(parents=True)
    columns = ", ".join(f'"{name}"' for name in names)
    connection = sqlite3.connect(target / "index.db")
    try:
        connection.execute(f"CREATE VIRTUAL TABLE docs USING fts5({columns}, tokenize='porter unicode61')")
        rows = ([fields[name] or None for name in names] for fields in map(texts, docs))
        with connection:
            connection.executemany(f"INSERT INTO docs ({columns}) VALUES ({', '.join('?' * len(names))})", rows)
        with connection:
            connection.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        count = connection.execute("SELECT count(*) FROM docs").fetchone()[0]
    finally:
        connection.close()
    write_settings(target)
    return {"documents": count, "detail": {"tokenizer": "porter unicode61", "optimize": True}}


def build_tantivy(
    target: Path, docs: Sequence[ProcedureDoc], texts: Callable[[ProcedureDoc], dict[str, str]]
) -> dict[str, Any]:
    """A Tantivy index, every field stored text with the en_stem tokenizer; one writer thread."""
    import tantivy

    names = field_names()
    builder = tantivy.SchemaBuilder()
    for name in names:
        builder.add_text_field(name, stored=True, tokenizer_name="en_stem")
    target.mkdir(parents=True)
    index = tantivy.Index(builder.build(), path=str(target))
    writer = index.writer(heap_size=TANTIVY_HEAP, num_threads=1)
    for fields in map(texts, docs):
        writer.add_document(tantivy.Document(**{name: text for name, text in fields.items() if text}))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    write_settings(target)
    return {
        "documents": index.searcher().num_docs,
        "detail": {"tokenizer": "en_stem", "heap_size": TANTIVY_HEAP, "num_threads": 1},
    }


def child_build(engine: str, target: Path, result_file: Path) -> None:
    """Run inside the child process: one build, its figures written as JSON to ``result_file``."""
    if engine == "procsearch":
        result = build_procsearch(target)
    else:
        started = time.perf_counter()
        docs = read_records()
        texts = texts_function(docs[:200] + docs[-200:])
        read_done, rss_after_reading = time.perf_counter(), _rss_mb()
        result = (build_fts5 if engine == "fts5" else build_tantivy)(target, docs, texts)
        result["seconds"] = time.perf_counter() - started
        result["indexing_seconds"] = time.perf_counter() - read_done
        result["rss_after_reading_mb"] = rss_after_reading
        result["detail"]["records_read"] = len(docs)
        result["detail"]["texts_from"] = texts.__name__
    result["worker_processes_peak_rss_mb"] = _rss_mb(children=True)
    result_file.write_text(json.dumps(result), encoding="utf-8")


def _bench_argv(*args: str) -> list[str]:
    """A Python command that imports this module (compiled once, cached) and runs ``child_main``."""
    boot = f"import sys; sys.path.insert(0, {str(HERE)!r}); import scale; scale.child_main(sys.argv[1:])"
    return [sys.executable, "-c", boot, *args]


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux /proc), or [pid] where that cannot be read."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def pss_kb(pid: int) -> int:
    """Proportional set size of one process in kB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeMemorySampler(threading.Thread):
    """Samples the summed PSS of a process and its descendants in the background, keeping the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.available = Path("/proc/self/smaps_rollup").exists()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while self.available and not self._stop_event.wait(self.interval):
            self.peak_kb = max(self.peak_kb, sum(pss_kb(pid) for pid in descendants(self.pid)))

    def stop(self) -> float | None:
        """Stop sampling; the peak in MB (None where PSS cannot be read)."""
        self._stop_event.set()
        self.join()
        return self.peak_kb / 1024 if self.available and self.peak_kb else None


def measured_build(engine: str, target: Path, scratch: Path) -> BuildFigures:
    """Build one engine's index in a child process and measure it (peak memory via os.wait4)."""
    result_file = scratch / f"build-{engine}.json"
    argv = _bench_argv("build", engine, str(target), str(result_file))
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, dict(os.environ))
    sampler = TreeMemorySampler(pid)
    sampler.start()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    peak_tree = sampler.stop()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"building the {LABELS[engine]} index failed (exit code {code}); see the messages above")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    return BuildFigures(
        engine=engine,
        seconds=result["seconds"],
        indexing_seconds=result.get("indexing_seconds"),
        documents=result["documents"],
        peak_rss_mb=usage.ru_maxrss / 1024,
        peak_tree_pss_mb=peak_tree,
        rss_after_reading_mb=result.get("rss_after_reading_mb"),
        process_seconds=wall,
        size_bytes=index_size(engine, target),
        worker_processes_peak_rss_mb=result.get("worker_processes_peak_rss_mb", 0.0),
        detail=result.get("detail", {}),
    )


def index_size(engine: str, path: Path) -> int:
    """Bytes on disk (apparent file sizes): for procsearch the generation being served."""
    if engine == "procsearch":
        from procsearch.index.store import current_generation

        path = current_generation(path)
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --- searching -------------------------------------------------------------------------------------


class Searcher(Protocol):
    """One engine, opened once: ``search`` returns the top 10 as (code, snippet) pairs."""

    def search(self, text: str) -> list[tuple[str, str]]: ...


class ProcsearchSearcher:
    """procsearch's SearchEngine, defaults (vocabulary, typo correction, snippets) and all."""

    def __init__(self, index: Path) -> None:
        from procsearch.search.engine import SearchEngine

        self.engine = SearchEngine(index)
        self.partial = 0

    def search(self, text: str) -> list[tuple[str, str]]:
        results = self.engine.search(text, limit=LIMIT)
        self.partial += bool(results.partial)
        return [(hit.code, hit.snippet.text if hit.snippet else "") for hit in results.hits]


class Fts5Searcher:
    """The FTS5 table: bm25() with the field weights, snippet() from the best-matching column."""

    def __init__(self, directory: Path) -> None:
        settings = read_settings(directory)
        path = (directory / "index.db").resolve()
        self.connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        weights = ", ".join(repr(float(settings["weights"][name])) for name in settings["fields"])
        self.sql = (
            f"SELECT code, snippet(docs, -1, '<b>', '</b>', '...', {SNIPPET_TOKENS}) FROM docs "
            f"WHERE docs MATCH ? ORDER BY bm25(docs, {weights}) LIMIT {LIMIT}"
        )

    def search(self, text: str) -> list[tuple[str, str]]:
        match = fts5_match(text)
        if not match:
            raise ValueError(f"no words in {text!r}")
        return self.connection.execute(self.sql, (match,)).fetchall()


class TantivySearcher:
    """The Tantivy index: BM25 with field boosts, a SnippetGenerator per snippet field.

    Like procsearch, a hit's snippet comes from the highest-weighted section field that has a
    highlighted match; failing that, the start of the summary.
    """

    def __init__(self, directory: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        settings = read_settings(directory)
        self.index = tantivy.Index.open(str(directory))
        self.searcher = self.index.searcher()
        self.schema = self.index.schema
        self.fields: list[str] = settings["fields"]
        self.boosts: dict[str, float] = {name: float(settings["weights"][name]) for name in self.fields}
        self.snippet_fields: list[str] = settings["snippet_fields"]

    def search(self, text: str) -> list[tuple[str, str]]:
        match = tantivy_match(text)
        if not match:
            raise ValueError(f"no words in {text!r}")
        query = self.index.parse_query(match, self.fields, field_boosts=self.boosts)
        generators: dict[str, Any] = {}
        hits = []
        for _score, address in self.searcher.search(query, LIMIT).hits:
            doc = self.searcher.doc(address)
            hits.append((str(doc.get_first("code")), self._snippet(query, doc, generators)))
        return hits

    def _snippet(self, query: Any, doc: Any, generators: dict[str, Any]) -> str:
        for name in self.snippet_fields:
            if doc.get_first(name) is None:
                continue
            if name not in generators:
                generator = self.tantivy.SnippetGenerator.create(self.searcher, query, self.schema, name)
                generator.set_max_num_chars(SNIPPET_CHARS)
                generators[name] = generator
            snippet = generators[name].snippet_from_doc(doc)
            if snippet.highlighted():
                return str(snippet.to_html())
        return str(doc.get_first("summary") or "")[:SNIPPET_CHARS]


def open_searcher(engine: str, path: Path) -> Searcher:
    if engine == "procsearch":
        return ProcsearchSearcher(path)
    return Fts5Searcher(path) if engine == "fts5" else TantivySearcher(path)


@dataclass
class LatencyFigures:
    """Warm latency of one engine over the query mix."""

    engine: str
    queries: int
    samples: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    failures: int
    failure_examples: list[str]
    slowest: list[tuple[str, float]]
    """The slowest queries (text, ms), slowest first."""
    no_hits: int
    answered_in_top10: int
    with_answers: int
    partial: int = 0
    first_p50_ms: float = 0.0
    first_p95_ms: float = 0.0
    """The same percentiles for each query's first run (engine open, nothing of that query cached)."""


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


class QueryTimeout(Exception):
    """A query ran past QUERY_TIMEOUT seconds (and was interrupted)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise QueryTimeout in the block after ``seconds`` (SIGALRM; the main thread on POSIX), so
    one runaway query is counted as a failure instead of stalling the benchmark."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise QueryTimeout(f"still running after {seconds:g} s, interrupted")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def measure_latency(engine: str, searcher: Searcher, queries: Sequence[BenchQuery], repeat: int) -> LatencyFigures:
    """One untimed pass (counts failures, empty results and answers in the top 10), then
    ``repeat`` timed passes over the queries that did not fail; every timing is one sample."""
    failures: list[str] = []
    failed: set[str] = set()
    no_hits = answered = 0
    first: list[float] = []
    for query in queries:
        started = time.perf_counter()
        try:
            with deadline(QUERY_TIMEOUT):
                hits = searcher.search(query.text)
        except Exception as exc:  # any engine error on a query counts as a failure
            failures.append(f"{query.text!r}: {type(exc).__name__}: {exc}")
            failed.add(query.text)
            continue
        first.append(time.perf_counter() - started)
        no_hits += not hits
        answered += bool(query.acceptable) and any(query.accepts(code) for code, _ in hits)
    samples: list[float] = []
    slowest: dict[str, float] = {}
    for _ in range(repeat):
        for query in queries:
            if query.text in failed:
                continue
            started = time.perf_counter()
            try:
                with deadline(QUERY_TIMEOUT):
                    searcher.search(query.text)
            except Exception as exc:
                failures.append(f"{query.text!r} (timed pass): {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            samples.append(elapsed)
            slowest[query.text] = max(elapsed, slowest.get(query.text, 0.0))
    samples.sort()
    if not samples:
        raise RuntimeError(f"every query failed on {LABELS[engine]}: {failures[:3]}")
    return LatencyFigures(
        engine=engine,
        queries=len(queries),
        samples=len(samples),
        p50_ms=percentile(samples, 0.50) * 1000,
        p95_ms=percentile(samples, 0.95) * 1000,
        mean_ms=statistics.fmean(samples) * 1000,
        max_ms=samples[-1] * 1000,
        failures=len(failures),
        failure_examples=failures[:5],
        slowest=[(text, ms * 1000) for text, ms in sorted(slowest.items(), key=lambda item: -item[1])[:10]],
        no_hits=no_hits,
        answered_in_top10=answered,
        with_answers=sum(1 for q in queries if q.acceptable),
        partial=getattr(searcher, "partial", 0),
        first_p50_ms=percentile(sorted(first), 0.50) * 1000,
        first_p95_ms=percentile(sorted(first), 0.95) * 1000,
    )


# --- cold processes --------------------------------------------------------------------------------


def cold_argv(engine: str, index: Path, query: str) -> list[str]:
    """One search process: the procsearch console script, or a minimal Python process for the others."""
    if engine == "procsearch":
        return [str(PROCSEARCH_SCRIPT), "--index", str(index), "search", query, "--limit", str(LIMIT)]
    return _bench_argv("cold", engine, str(index), query)


def child_cold(engine: str, index: Path, query: str) -> None:
    """Run inside a cold process: open the index, search once, print the hits with snippets."""
    for code, snippet in open_searcher(engine, index).search(query):
        print(f"{code}  {snippet}")


def measure_cold(engine: str, index: Path, query: str, runs: int, pycache: Path) -> list[float]:
    """Wall seconds of ``runs`` search processes, after one untimed run which warms the OS file
    cache and the bytecode cache: 'cold' means a new process, not a cold disk or an install that
    never compiled its modules. Bytecode goes to ``pycache`` (PYTHONPYCACHEPREFIX), not into the
    source tree, and is written even where PYTHONDONTWRITEBYTECODE is set."""
    argv = cold_argv(engine, index, query)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env=env,
            timeout=COLD_TIMEOUT,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} exited with {done.returncode}: {done.stderr.strip()[-500:]}")
        if attempt:
            times.append(elapsed)
    return times


def child_main(argv: Sequence[str]) -> None:
    """Entry point of the child processes: ``build ENGINE TARGET RESULT`` or ``cold ENGINE INDEX QUERY``."""
    mode, engine, path, extra = argv
    if mode == "build":
        child_build(engine, Path(path), Path(extra))
    elif mode == "cold":
        child_cold(engine, Path(path), extra)
    else:
        raise SystemExit(f"unknown child mode {mode!r}")


# --- the report ------------------------------------------------------------------------------------


def environment(argv: Sequence[str]) -> dict[str, Any]:
    """Command line, versions, CPU model, core count and date."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("procsearch", "whoosh3", "tantivy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "command": shlex.join([sys.executable, *argv]),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average_at_start": _load_average(),
        "versions": versions,
    }


def _load_average() -> float | None:
    """The 1-minute load average: other work on the machine makes every timing slower."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


@dataclass(frozen=True)
class Row:
    """One figure of the table: its label, unit, format and a value per engine (None: not measured)."""

    label: str
    values: dict[str, float | None]
    fmt: str = "{:.2f}"
    ratios: bool = True


def rows_for(
    builds: dict[str, BuildFigures | None],
    sizes: dict[str, int],
    latency: dict[str, LatencyFigures],
    cold: dict[str, list[float]],
) -> list[Row]:
    """The table's figures; build figures are None for an index that was reused (--skip-build)."""

    def build_value(getter: Callable[[BuildFigures], float | None]) -> dict[str, float | None]:
        return {e: (getter(b) if (b := builds.get(e)) is not None else None) for e in ENGINES}

    return [
        Row("build time, whole (s)", build_value(lambda b: b.seconds), "{:.1f}"),
        Row("build time, indexing only (s)", build_value(lambda b: b.indexing_seconds), "{:.1f}"),
        Row(
            "peak memory of the build, largest process (ru_maxrss, MB)", build_value(lambda b: b.peak_rss_mb), "{:.0f}"
        ),
        Row(
            "peak memory of the build, all its processes (PSS, MB)", build_value(lambda b: b.peak_tree_pss_mb), "{:.0f}"
        ),
        Row("index size on disk (MB)", {e: sizes[e] / 1e6 for e in ENGINES}, "{:.1f}"),
        Row("warm search p50 (ms)", {e: latency[e].p50_ms for e in ENGINES}, "{:.2f}"),
        Row("warm search p95 (ms)", {e: latency[e].p95_ms for e in ENGINES}, "{:.2f}"),
        Row("first run of each query p50 (ms)", {e: latency[e].first_p50_ms for e in ENGINES}, "{:.2f}"),
        Row("first run of each query p95 (ms)", {e: latency[e].first_p95_ms for e in ENGINES}, "{:.2f}"),
        Row("cold search process (ms)", {e: statistics.median(cold[e]) * 1000 for e in ENGINES}, "{:.0f}"),
        Row(
            "queries with an answer in the top 10",
            {e: float(latency[e].answered_in_top10) for e in ENGINES},
            "{:.0f}",
            ratios=False,
        ),
    ]


def ratio_of(row: Row, other: str) -> float | None:
    """procsearch's value over another engine's, or None where it means nothing or is missing."""
    mine, theirs = row.values.get("procsearch"), row.values.get(other)
    if not row.ratios or mine is None or not theirs:
        return None
    return mine / theirs


def markdown(
    rows: Sequence[Row],
    env: dict[str, Any],
    builds: dict[str, BuildFigures | None],
    latency: dict[str, LatencyFigures],
    queries: Sequence[BenchQuery],
    cold_query: str,
) -> str:
    """The table, then how it was measured."""

    def cell(row: Row, engine: str) -> str:
        value = row.values.get(engine)
        return "n/a" if value is None else row.fmt.format(value)

    def ratio(row: Row, other: str) -> str:
        value = ratio_of(row, other)
        return "-" if value is None else f"{value:.1f}x"

    lines = [
        "| figure | procsearch | SQLite FTS5 | Tantivy | procsearch / FTS5 | procsearch / Tantivy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.label} | {cell(row, 'procsearch')} | {cell(row, 'fts5')} | {cell(row, 'tantivy')} "
            f"| {ratio(row, 'fts5')} | {ratio(row, 'tantivy')} |"
        )
    docs = {e: b.documents for e, b in builds.items() if b is not None}
    kinds = Counter(q.kind for q in queries)
    with_answers = latency["procsearch"].with_answers
    lines += [
        "",
        f"- documents: {', '.join(f'{LABELS[e]} {n:,}' for e, n in docs.items())}",
        f"- queries: {len(queries)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
        f"{with_answers} have known answers (last row); top {LIMIT} with snippets; "
        f"{latency['procsearch'].samples // max(1, len(queries))} timed pass(es) after one warm-up pass",
        "- failures: "
        + ", ".join(f"{LABELS[e]} {latency[e].failures}" for e in ENGINES)
        + "; queries with no hits: "
        + ", ".join(f"{LABELS[e]} {latency[e].no_hits}" for e in ENGINES)
        + f"; procsearch results marked partial (time budget): {latency['procsearch'].partial}",
        "- peak memory once the records were read (before indexing): "
        + ", ".join(
            f"{LABELS[e]} {b.rss_after_reading_mb:.0f} MB"
            for e, b in builds.items()
            if b is not None and b.rss_after_reading_mb is not None
        ),
        f"- cold search process: median of {COLD_RUNS} runs of one search ({cold_query!r}) after one untimed run; "
        f"procsearch is `procsearch --index IX search`, the others a minimal Python process",
        f"- FTS5: porter unicode61, bm25() with procsearch's field weights (code {CODE_WEIGHT:g}), snippet() "
        f"{SNIPPET_TOKENS} tokens; Tantivy: en_stem, one writer thread ({TANTIVY_HEAP // 1_000_000} MB), "
        f"field boosts = the same weights, SnippetGenerator {SNIPPET_CHARS} chars; both get each query as an OR "
        "of its quoted words",
        f"- command: `{env['command']}`",
        f"- Python {env['python']}; CPU {env['cpu']}, {env['cores']} cores; {env['platform']}; {env['date']}; "
        f"load average (1 min) {env['load_average_at_start']} at start, {env.get('load_average_at_end')} at end",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
    ]
    workers = {e: b.worker_processes_peak_rss_mb for e, b in builds.items() if b and b.worker_processes_peak_rss_mb}
    if workers:
        lines.append(
            "- worker processes of the build peaked at (largest single process, not summed): "
            + ", ".join(f"{LABELS[e]} {mb:.0f} MB" for e, mb in workers.items())
        )
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------------


def note(message: str) -> None:
    """Progress goes to stderr; only the table goes to stdout."""
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder for the JSON and Markdown results (default: bench/results/)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        metavar="N",
        help=f"how many queries (default: all of the query "
        f"files' queries of 1 to {MAX_WORDS} words, at least {MIN_QUERIES})",
    )
    parser.add_argument(
        "--skip-build",
        type=Path,
        metavar="INDEX",
        help="use this procsearch index (built with "
        "pages + icd10pcs) instead of building one; its build figures are then not measured",
    )
    parser.add_argument("--repeat", type=int, default=1, help="timed passes over the queries (default: 1)")
    parser.add_argument("--cold-query", default=DEFAULT_COLD_QUERY, help="the query of the cold process runs")
    args = parser.parse_args(argv)
    if args.queries is not None and args.queries < 1:
        parser.error("--queries must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    queries = query_mix(args.queries, read_query_files())
    env = environment([str(Path(sys.argv[0])), *argv])
    builds: dict[str, BuildFigures | None] = {}
    with tempfile.TemporaryDirectory(prefix="procsearch-scale-") as scratch_name:
        scratch = Path(scratch_name)
        paths = {
            "procsearch": args.skip_build or scratch / "procsearch",
            "fts5": scratch / "fts5",
            "tantivy": scratch / "tantivy",
        }
        for engine in ENGINES:
            if engine == "procsearch" and args.skip_build:
                note(f"procsearch: using {args.skip_build} (--skip-build), build not measured")
                builds[engine] = None
                continue
            note(f"{LABELS[engine]}: building (child process) ...")
            builds[engine] = figures = measured_build(engine, paths[engine], scratch)
            note(
                f"  {figures.seconds:.1f} s, peak {figures.peak_rss_mb:.0f} MB, "
                f"{figures.size_bytes / 1e6:.1f} MB on disk, {figures.documents:,} documents"
            )
        counts = {b.documents for b in builds.values() if b is not None}
        if len(counts) > 1:
            note(f"warning: the engines hold different numbers of documents: {sorted(counts)}")

        latency: dict[str, LatencyFigures] = {}
        cold: dict[str, list[float]] = {}
        for engine in ENGINES:
            note(f"{LABELS[engine]}: {len(queries)} queries, warm ...")
            latency[engine] = measure_latency(engine, open_searcher(engine, paths[engine]), queries, args.repeat)
            note(
                f"  p50 {latency[engine].p50_ms:.2f} ms, p95 {latency[engine].p95_ms:.2f} ms, "
                f"{latency[engine].failures} failures"
            )
            note(f"{LABELS[engine]}: cold search process x{COLD_RUNS} ...")
            cold[engine] = measure_cold(engine, paths[engine], args.cold_query, COLD_RUNS, scratch / "pycache")
        sizes = {engine: index_size(engine, paths[engine]) for engine in ENGINES}

    env["load_average_at_end"] = _load_average()
    rows = rows_for(builds, sizes, latency, cold)
    table = markdown(rows, env, builds, latency, queries, args.cold_query)
    print(table)

    result = {
        "environment": env,
        "figures": [
            {
                "figure": row.label,
                **{e: row.values.get(e) for e in ENGINES},
                "procsearch_over_fts5": ratio_of(row, "fts5"),
                "procsearch_over_tantivy": ratio_of(row, "tantivy"),
            }
            for row in rows
        ],
        "builds": {e: (asdict(b) if b is not None else None) for e, b in builds.items()},
        "latency": {e: asdict(f) for e, f in latency.items()},
        "cold_seconds": cold,
        "cold_query": args.cold_query,
        "queries": [asdict(q) for q in queries],
        "settings": {
            "limit": LIMIT,
            "code_weight": CODE_WEIGHT,
            "snippet_chars": SNIPPET_CHARS,
            "snippet_tokens": SNIPPET_TOKENS,
            "tantivy_heap": TANTIVY_HEAP,
            "repeat": args.repeat,
            "cold_runs": COLD_RUNS,
            "weights": field_weights(),
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    json_path = args.out / f"scale-{stamp}.json"
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / f"scale-{stamp}.md").write_text(table + "\n", encoding="utf-8")
    note(f"wrote {json_path} and {json_path.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
