"""What explaining costs: search latency with the explain machinery present but not asked for,
and the latency of an explanation itself.

Times every query of the development sets (warm, best of --repeat runs each, in CPU time) through
``SearchEngine.search`` and, where the engine has it, ``SearchEngine.explain`` of the top hit.
Run it once on this checkout and once on a checkout without ``explain`` (put that checkout's
package first on PYTHONPATH) to compare search latency with and without the machinery:

    python bench/explain.py                          # the sample corpus
    python bench/explain.py --index IX --system ICD-10-PCS bench/queries/icd10pcs.tsv
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import percentile
from procsearch.corpus import bundled_corpus
from procsearch.index.build import build_index
from procsearch.search.engine import SearchEngine
from procsearch.search.evaluate import read_queries

HERE = Path(__file__).parent

DEFAULT_QUERIES = [HERE / "queries" / "pages.tsv", HERE / "queries" / "holdout.tsv"]


def best_of(repeat: int, call: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in milliseconds of this process's CPU time (the cost of the
    code, not of the other processes sharing the machine)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return min(times) * 1000


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"{statistics.mean(ordered):.2f} | {percentile(ordered, 0.50):.2f} | {percentile(ordered, 0.95):.2f} | "
        f"{sum(ordered):.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("queries", nargs="*", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--index", type=Path, help="an existing index (default: build one of the sample corpus)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (best of)")
    parser.add_argument("--system", help="search only this code system")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        index = args.index or Path(scratch) / "index"
        if args.index is None:
            build_index(bundled_corpus(), index)
        with SearchEngine(index) as engine:
            texts = [q.query for path in args.queries for q in read_queries(path)]
            options = {"system": args.system} if args.system else {}
            for text in texts:  # warm: every posting list and parser the queries need
                engine.search(text, **options)
            searches = [best_of(args.repeat, lambda t=text: engine.search(t, **options)) for text in texts]
            print(f"{len(texts)} queries, index of {engine.stats().document_count} documents, best of {args.repeat}\n")
            print("| call | mean CPU ms | p50 | p95 | total |")
            print("|---|---|---|---|---|")
            print(f"| search | {summary(searches)} |")
            if hasattr(engine, "explain"):
                tops = [(text, engine.search(text, limit=1, **options).codes) for text in texts]
                explained = [
                    best_of(args.repeat, lambda t=text, c=codes[0]: engine.explain(t, c, **options))
                    for text, codes in tops
                    if codes
                ]
                print(f"| explain (top hit) | {summary(explained)} |")
            else:
                print("| explain | (not in this checkout) |")


if __name__ == "__main__":
    main()
