"""Worst-case queries: plain Whoosh (its default query parser, every plugin on) against procsearch.

Each plain-Whoosh query runs in a child process with a time limit, so a runaway query is reported
as "> LIMIT s" instead of hanging the benchmark. procsearch answers each in the same index.

    python bench/hostile.py --index IX            # an index built by procsearch
    python bench/hostile.py --index IX --limit 60
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from pathlib import Path

from procsearch.index.schema import TEXT_FIELDS
from procsearch.index.store import current_generation
from procsearch.search.engine import SearchEngine
from procsearch.search.errors import QueryError

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds allowed per plain-Whoosh query")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
