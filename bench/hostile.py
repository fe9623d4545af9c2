"""Worst-case queries: plain Whoosh (its default query parser, every plugin on) against procsearch.

Each plain-Whoosh query runs in a child process with a time limit, so a runaway query is reported
as "> LIMIT s" instead of hanging the benchmark. procsearch answers each in the same index.

    python bench/hostile.py --index IX            # an index built by procsearch
    python bench/hostile.py --index IX --limit 60
    python bench/hostile.py --index IX --budget   # the budget shapes only (issue 13)

The budget shapes (BUDGET_QUERIES) run each in a fresh child process on a warmed engine; the table
gives the wall time and the peak memory the search added (Linux: the peak is reset before it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from pathlib import Path

from harness import environment_block
from procsearch.index.schema import TEXT_FIELDS
from procsearch.index.store import current_generation
from procsearch.search.engine import SearchEngine
from procsearch.search.errors import QueryError

_BODY = "0123456789BCDFGHJKLMNPQRSTUVWXYZ"  # ICD-10-PCS body-system characters
_COMMON = [
    "open",
    "approach",
    "percutaneous",
    "endoscopic",
    "right",
    "left",
    "device",
    "substitute",
    "tissue",
    "artery",
    "drainage",
]
_PAIRS = [(a, b) for a in _COMMON for b in _COMMON if a != b]

BUDGET_QUERIES = {
    "60 wide code ranges (959 characters)": " ".join(
        f"0{_BODY[i % 30]}00000-0{_BODY[i % 30 + 2]}ZZZZZ" for i in range(60)
    ),
    "55 two-word phrases of common words": " ".join(f'"{a} {b}"' for a, b in _PAIRS[:55]),
    '`knee` with 40 `NOT "a b"`': "knee " + " ".join(f'NOT "{a} {b}"' for a, b in _PAIRS[:40]),
    "code prefix `0D*`": "0D*",
    "code prefix `0*` of every section-0 code (`00*` to `0Y*`)": " ".join(f"0{c}*" for c in _BODY[:30]),
    'phrase `"stoma colectomy"`': '"stoma colectomy"',
    'phrase `"open approach"`': '"open approach"',
    'phrase `"spinal tap"`': '"spinal tap"',
    "word prefixes `app* per* end* ope*`": "app* per* end* ope*",
    "10 word prefixes of 3 letters": "app* per* end* ope* rig* lef* dev* sub* tis* art*",
    "a range with words `0D00000-0DZZZZZ open approach`": "0D00000-0DZZZZZ open approach",
    "15 phrases of common words (under the estimate)": " ".join(f'"{a} {b}"' for a, b in _PAIRS[:15]),
    '`knee` with 8 `NOT "a b"`': "knee " + " ".join(f'NOT "{a} {b}"' for a, b in _PAIRS[:8]),
    "110 common words, each twice misspelled": " ".join(f"{w}x {w}q" for w in _COMMON * 5),
    "1,000 characters of common words": " ".join(_COMMON * 20)[:1000],
    "phrases with --facets": '"open approach" "right upper"',
}
"""Shapes that read a great deal of the index (issue 13): each must be answered or refused
within about the time budget (1 s) and 100 MB of extra memory on the full index."""

QUERIES = {
    "inner wildcard `*a*`": "*a*",
    "three wildcards `*e* OR *a* OR *i*`": "*e* OR *a* OR *i*",
    "fuzzy `catheter~5`": "catheter~5",
    "open range `procedure:[a TO z]`": "procedure:[a TO z]",
    "1 MB query": "knee pain " * 100_000,
    "1,000 nested parentheses": "(" * 1000 + "knee" + ")" * 1000,
    "`NOT NOT knee`": "NOT NOT knee",
}


def plain_whoosh(generation: str, query: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Child process: parse and run ``query`` with Whoosh's stock MultifieldParser and fuzzy terms."""
    from whoosh import index, qparser

    started = time.perf_counter()
    try:
        ix = index.open_dir(generation, readonly=True)
        parser = qparser.MultifieldParser(list(TEXT_FIELDS), ix.schema)
        parser.add_plugin(qparser.FuzzyTermPlugin())
        with ix.searcher() as searcher:
            results = searcher.search(parser.parse(query), limit=10)
            outcome = f"{len(results)} hits"
    except BaseException as exc:  # the point is to see what escapes
        outcome = f"{type(exc).__name__}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put((time.perf_counter() - started, outcome, peak))


def _resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmHWM")) / 1024


def budget_probe(index: str, query: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Child process: one procsearch search on a warmed engine; (seconds, extra peak MB, answer)."""
    engine = SearchEngine(index)
    engine.search("knee replacement", limit=10)
    before = _resident_mb()
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak resident size
    started = time.perf_counter()
    try:
        results = engine.search(query, limit=10, facets="facets" in query)
        answer = f"{len(results.hits)} hits of {results.total}" + (" (partial)" if results.partial else "")
    except QueryError as exc:
        answer = f"refused: {str(exc)[:70]}..."
    seconds = time.perf_counter() - started
    out.put((seconds, max(0.0, _peak_mb() - before), answer))


def run_budget(index: Path, limit: float) -> None:
    print("| shape | procsearch | extra memory | answer |")
    print("|---|---|---|---|")
    context = multiprocessing.get_context("spawn")
    worst_time = worst_memory = 0.0
    for label, query in BUDGET_QUERIES.items():
        out = context.Queue()
        child = context.Process(target=budget_probe, args=(str(index), query, out))
        child.start()
        child.join(limit)
        if child.is_alive():
            child.kill()
            child.join()
            print(f"| {label} | > {limit:.0f} s (killed) | - | - |")
            continue
        seconds, memory, answer = out.get()
        worst_time, worst_memory = max(worst_time, seconds), max(worst_memory, memory)
        print(f"| {label} | {seconds:.2f} s | {memory:.0f} MB | {answer} |")
    print(f"\nWorst: {worst_time:.2f} s, {worst_memory:.0f} MB extra.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds allowed per plain-Whoosh query")
    parser.add_argument("--budget", action="store_true", help="run only the budget shapes")
    args = parser.parse_args()
    if args.budget:
        run_budget(args.index, args.limit)
        print()
        print(environment_block())
        return
    generation = str(current_generation(args.index))
    engine = SearchEngine(args.index)
    print(f"Index: {args.index} ({engine.stats().document_count} documents)\n")
    print("| query | plain Whoosh | peak memory | procsearch | procsearch answer |")
    print("|---|---|---|---|---|")
    context = multiprocessing.get_context("spawn")
    for label, query in QUERIES.items():
        out = context.Queue()
        child = context.Process(target=plain_whoosh, args=(generation, query, out))
        child.start()
        child.join(args.limit)
        if child.is_alive():
            child.kill()
            child.join()
            before = f"> {args.limit:.0f} s (killed)"
            memory = "-"
        else:
            seconds, outcome, peak = out.get()
            before = f"{seconds:.2f} s ({outcome})"
            memory = f"{peak:.0f} MB"
        started = time.perf_counter()
        try:
            results = engine.search(query, limit=10)
            answer = f"{len(results.hits)} hits" + (" (partial)" if results.partial else "")
        except QueryError as exc:
            answer = f"message: {str(exc)[:60]}..."
        after = time.perf_counter() - started
        print(f"| {label} | {before} | {memory} | {after * 1000:.1f} ms | {answer} |")
    print()
    run_budget(args.index, args.limit)
    print()
    print(environment_block())


if __name__ == "__main__":
    main()
