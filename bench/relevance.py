"""Relevance of procsearch on the development query sets, feature by feature.

Builds an index of the bundled corpus (or uses --index), then runs every query file with:
  titles       plain BM25 over the titles alone
  plain BM25   every field weighted 1, no vocabulary, no typo correction (the baseline)
  + weights    the default section weights
  + vocabulary the default weights and the medical vocabulary
  + correction typo correction too
  + axes       ICD-10-PCS codes ordered by the query's reading along their axes (the default)
and prints a Markdown table of success@1, success@3, MRR@10 and nDCG@10 per configuration
and per query kind, plus warm latency with and without vocabulary and correction.

    python bench/relevance.py                       # bench/queries/pages.tsv on the sample corpus
    python bench/relevance.py --index IX bench/queries/pages.tsv
    python bench/relevance.py --index IX --system ICD-10-PCS bench/queries/icd10pcs.tsv
    python bench/relevance.py --index IX --system ICD-10-PCS --by-axis bench/queries/icd10pcs-clinical.tsv

``--by-axis`` adds, for ICD-10-PCS query files, MRR@10 and success@3 per root operation and per
body system (the third and second characters of the acceptable codes; a query counts once for
each value its codes hold): plain BM25 over titles, the ranking without the ICD-10-PCS axes,
and the default.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import tempfile
import time
from pathlib import Path

from harness import environment_block, percentile
from procsearch.corpus import bundled_corpus
from procsearch.index.build import build_index
from procsearch.index.schema import TEXT_FIELDS
from procsearch.search.engine import SearchEngine
from procsearch.search.evaluate import EvalReport, read_queries, summarise

HERE = Path(__file__).parent
PLAIN = {name: 1.0 for name in TEXT_FIELDS}
TITLES = {name: 1.0 if name == "title" else 0.0 for name in TEXT_FIELDS}
# Versions of the engine without the ICD-10-PCS axes (for a "before" run) take no such option.
NO_AXES = {"axes": False} if "axes" in inspect.signature(SearchEngine.search).parameters else {}
DEFAULT = "+ ICD-10-PCS axes (default)"
BEFORE_AXES = "+ typo correction"
CONFIGS = {
    "plain BM25 over titles": {"weights": TITLES, "expand": False, "correct": False, **NO_AXES},
    "plain BM25 (baseline)": {"weights": PLAIN, "expand": False, "correct": False, **NO_AXES},
    "+ section weights": {"expand": False, "correct": False, **NO_AXES},
    "+ vocabulary": {"expand": True, "correct": False, **NO_AXES},
    BEFORE_AXES: {"expand": True, "correct": True, **NO_AXES},
    DEFAULT: {"expand": True, "correct": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("queries", nargs="*", type=Path, default=[HERE / "queries" / "pages.tsv"])
    parser.add_argument("--index", type=Path, help="an existing index (default: build one of the sample corpus)")
    parser.add_argument("--repeat", type=int, default=3, help="latency: runs per query (best of)")
    parser.add_argument("--system", help="search only this code system (e.g. ICD-10-PCS for icd10pcs.tsv)")
    parser.add_argument("--by-axis", action="store_true", help="ICD-10-PCS: figures per root operation and body system")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        index = args.index or Path(scratch) / "index"
        if args.index is None:
            build_index(bundled_corpus(), index)
        engine = SearchEngine(index)
        for path in args.queries:
            queries = read_queries(path)
            print(f"\n### {path.name}: {len(queries)} queries, index of {engine.stats().document_count} documents\n")
            print("| configuration | s@1 | s@3 | MRR@10 | nDCG@10 |")
            print("|---|---|---|---|---|")
            reports = {}
            for name, options in CONFIGS.items():
                report = engine.evaluate(queries, system=args.system, **options)
                reports[name] = report
                m = report.overall
                print(
                    f"| {name} | {m.success_at_1:.3f} | {m.success_at_3:.3f} | {m.mrr_at_10:.3f} | {m.ndcg_at_10:.3f} |"
                )
            final = reports[DEFAULT]
            baseline = reports["plain BM25 (baseline)"]
            print("\n| kind | queries | baseline s@3 | s@3 | baseline MRR@10 | MRR@10 |")
            print("|---|---|---|---|---|---|")
            for kind, m in final.by_kind.items():
                b = baseline.by_kind[kind]
                print(
                    f"| {kind} | {m.count} | {b.success_at_3:.3f} | {m.success_at_3:.3f} | {b.mrr_at_10:.3f} | {m.mrr_at_10:.3f} |"
                )
            if args.by_axis:
                columns = [reports["plain BM25 over titles"], reports[BEFORE_AXES], final]
                by_axis(columns, "root operation", 2)
                by_axis(columns, "body system", 1)
            print(f"\nMisses (default configuration): {len(final.misses)}")
            for miss in final.misses:
                print(
                    f"- `{miss.query.query}` [{miss.query.kind}] wants {','.join(miss.query.acceptable)}; "
                    f"got {', '.join(miss.returned[:3]) or 'nothing'}"
                )
            latency(engine, [q.query for q in queries], args.repeat)
    print()
    print(environment_block())


def by_axis(columns: list[EvalReport], name: str, position: int) -> None:
    """MRR@10 and success@3 per value of one axis (a character position of the acceptable codes),
    for plain BM25 over titles, the ranking without the ICD-10-PCS axes, and the default."""
    groups: dict[str, list[int]] = {}
    for number, outcome in enumerate(columns[-1].outcomes):
        for value in sorted({code[position] for code in outcome.query.acceptable if len(code) > position}):
            groups.setdefault(value, []).append(number)
    print(f"\n| {name} | queries | MRR@10 titles / before / after | s@3 titles / before / after |")
    print("|---|---|---|---|")
    for value, numbers in sorted(groups.items()):
        figures = [summarise([report.outcomes[i] for i in numbers]) for report in columns]
        mrr = " / ".join(f"{m.mrr_at_10:.2f}" for m in figures)
        s3 = " / ".join(f"{m.success_at_3:.2f}" for m in figures)
        print(f"| {value} | {figures[0].count} | {mrr} | {s3} |")


def latency(engine: SearchEngine, queries: list[str], repeat: int) -> None:
    """Warm latency per query (best of ``repeat``), with and without vocabulary and correction."""
    timings: dict[str, list[float]] = {"without": [], "with": []}
    for query in queries:
        for label, options in (("without", {"expand": False, "correct": False}), ("with", {})):
            best = float("inf")
            for _ in range(repeat):
                started = time.perf_counter()
                engine.search(query, limit=10, **options)
                best = min(best, time.perf_counter() - started)
            timings[label].append(best)
    print("\n| warm latency, top 10 with snippets | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|")
    for label, values in timings.items():
        values.sort()
        print(
            f"| {label} vocabulary and correction | {percentile(values, 0.50) * 1000:.2f} | "
            f"{percentile(values, 0.95) * 1000:.2f} | {statistics.mean(values) * 1000:.2f} |"
        )
    ratio = statistics.mean(timings["with"]) / statistics.mean(timings["without"])
    print(f"\nCost of vocabulary and correction: {ratio:.2f}x the mean time without them (budget: 2x).")


if __name__ == "__main__":
    main()
