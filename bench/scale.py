"""procsearch at full scale, next to SQLite FTS5 and Tantivy on the same records.

Builds the largest index procsearch makes (the bundled sample pages plus every billable
ICD-10-PCS code) and, from the very same ProcedureDoc records and procsearch's own field texts,
an SQLite FTS5 table and a Tantivy index with the same text fields and comparable field weights.
Then it measures, per engine:

  build time       whole build (reading the records + indexing + commit), in a child process;
                   also the indexing part alone (after every record has been read; for FTS5
                   and Tantivy less the time procsearch's to_fields takes to give the texts)
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
JSON (and the table as Markdown) to --out. The measuring is the harness's (bench/harness/);
this script chooses what to run and writes the report.

    /work/venv/bin/python bench/scale.py                      # everything (a few minutes)
    /work/venv/bin/python bench/scale.py --sources pages      # the 140 sample pages only (quick)
    /work/venv/bin/python bench/scale.py --queries 400        # 400 queries (adds fixed variants)
    /work/venv/bin/python bench/scale.py --skip-build IX      # reuse a built procsearch index
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import environment, environment_lines, note
from harness.engines import LIMIT, Adapter, adapters
from harness.environment import load_average
from harness.processes import BuildFigures, cold_argv, measured_build
from harness.queries import MAX_WORDS, MIN_QUERIES, BenchQuery, query_mix, read_query_files
from harness.records import CODE_WEIGHT, field_weights
from harness.report import Row, figure_table, ratio_of
from harness.timing import LatencyFigures, measure_cold, measure_latency
from procsearch.ingest.sources import SOURCE_NAMES as SOURCES  # the default builds every one

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results"
COLD_RUNS = 5
DEFAULT_COLD_QUERY = "knee replacement"


def rows_for(
    engines: Sequence[str],
    builds: dict[str, BuildFigures | None],
    sizes: dict[str, int],
    latency: dict[str, LatencyFigures],
    cold: dict[str, list[float]],
) -> list[Row]:
    """The table's figures; build figures are None for an index that was reused (--skip-build)."""

    def build_value(getter: Callable[[BuildFigures], float | None]) -> dict[str, float | None]:
        return {e: (getter(b) if (b := builds.get(e)) is not None else None) for e in engines}

    return [
        Row("build time, whole (s)", build_value(lambda b: b.seconds), "{:.1f}"),
        Row("build time, indexing only (s)", build_value(lambda b: b.indexing_seconds), "{:.1f}"),
        Row(
            "peak memory of the build, largest process (ru_maxrss, MB)", build_value(lambda b: b.peak_rss_mb), "{:.0f}"
        ),
        Row(
            "peak memory of the build, all its processes (PSS, MB)", build_value(lambda b: b.peak_tree_pss_mb), "{:.0f}"
        ),
        Row("index size on disk (MB)", {e: sizes[e] / 1e6 for e in engines}, "{:.1f}"),
        Row("warm search p50 (ms)", {e: latency[e].p50_ms for e in engines}, "{:.2f}"),
        Row("warm search p95 (ms)", {e: latency[e].p95_ms for e in engines}, "{:.2f}"),
        Row("first run of each query p50 (ms)", {e: latency[e].first_p50_ms for e in engines}, "{:.2f}"),
        Row("first run of each query p95 (ms)", {e: latency[e].first_p95_ms for e in engines}, "{:.2f}"),
        Row("cold search process (ms)", {e: statistics.median(cold[e]) * 1000 for e in engines}, "{:.0f}"),
        Row(
            "queries with an answer in the top 10",
            {e: float(latency[e].answered_in_top10) for e in engines},
            "{:.0f}",
            ratios=False,
        ),
    ]


def markdown(
    rows: Sequence[Row],
    env: dict[str, Any],
    engines: dict[str, Adapter],
    builds: dict[str, BuildFigures | None],
    latency: dict[str, LatencyFigures],
    queries: Sequence[BenchQuery],
    cold_query: str,
) -> str:
    """The table, then how it was measured."""
    labels = {name: adapter.label for name, adapter in engines.items()}
    docs = {e: b.documents for e, b in builds.items() if b is not None}
    kinds = Counter(q.kind for q in queries)
    mine = latency["procsearch"]
    texts = {e: b.detail["field_texts_seconds"] for e, b in builds.items() if b and "field_texts_seconds" in b.detail}
    lines = [
        *figure_table(rows, labels),
        "",
        f"- documents: {', '.join(f'{labels[e]} {n:,}' for e, n in docs.items())}",
        f"- queries: {len(queries)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
        f"{mine.with_answers} have known answers (last row); top {LIMIT} with snippets; "
        f"{mine.samples // max(1, len(queries))} timed pass(es) after one warm-up pass",
        "- failures: "
        + ", ".join(f"{labels[e]} {latency[e].failures}" for e in engines)
        + "; queries with no hits: "
        + ", ".join(f"{labels[e]} {latency[e].no_hits}" for e in engines)
        + f"; procsearch results marked partial (time budget): {mine.partial}",
        "- peak memory once the records were read (before indexing): "
        + ", ".join(
            f"{labels[e]} {b.rss_after_reading_mb:.0f} MB"
            for e, b in builds.items()
            if b is not None and b.rss_after_reading_mb is not None
        ),
        f"- cold search process: median of {COLD_RUNS} runs of one search ({cold_query!r}) after one untimed run; "
        f"procsearch is `procsearch --index IX search`, the others a minimal Python process",
        *(f"- {adapter.label}: {adapter.description}" for adapter in engines.values()),
        "- FTS5 and Tantivy index procsearch's own records and field texts (to_fields: "
        + ", ".join(f"{labels[e]} {s:.1f} s" for e, s in texts.items())
        + f", in the whole build, not in the indexing row); code column weight {CODE_WEIGHT:g}",
        *environment_lines(env),
    ]
    workers = {e: b.worker_processes_peak_rss_mb for e, b in builds.items() if b and b.worker_processes_peak_rss_mb}
    if workers:
        lines.append(
            "- worker processes of the build peaked at (largest single process, not summed): "
            + ", ".join(f"{labels[e]} {mb:.0f} MB" for e, mb in workers.items())
        )
    return "\n".join(lines)


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
        "--sources",
        choices=SOURCES,
        action="append",
        help="what every engine indexes, repeatable (default: pages and icd10pcs; "
        "--sources pages: the 140 sample pages, a quick run)",
    )
    parser.add_argument(
        "--skip-build",
        type=Path,
        metavar="INDEX",
        help="use this procsearch index (built with "
        "the same sources) instead of building one; its build figures are then not measured",
    )
    parser.add_argument("--repeat", type=int, default=1, help="timed passes over the queries (default: 1)")
    parser.add_argument("--cold-query", default=DEFAULT_COLD_QUERY, help="the query of the cold process runs")
    args = parser.parse_args(argv)
    if args.queries is not None and args.queries < 1:
        parser.error("--queries must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.sources = tuple(args.sources or SOURCES)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    queries = query_mix(args.queries, read_query_files())
    env = environment([str(Path(sys.argv[0])), *argv])
    engines = adapters()
    builds: dict[str, BuildFigures | None] = {}
    with tempfile.TemporaryDirectory(prefix="procsearch-scale-") as scratch_name:
        scratch = Path(scratch_name)
        paths = {name: scratch / name for name in engines}
        if args.skip_build:
            paths["procsearch"] = args.skip_build
        for name, adapter in engines.items():
            if name == "procsearch" and args.skip_build:
                note(f"procsearch: using {args.skip_build} (--skip-build), build not measured")
                builds[name] = None
                continue
            note(f"{adapter.label}: building (child process) ...")
            builds[name] = figures = measured_build(adapter, paths[name], args.sources, scratch)
            note(
                f"  {figures.seconds:.1f} s, peak {figures.peak_rss_mb:.0f} MB, "
                f"{figures.size_bytes / 1e6:.1f} MB on disk, {figures.documents:,} documents"
            )
        counts = {b.documents for b in builds.values() if b is not None}
        if len(counts) > 1:
            note(f"warning: the engines hold different numbers of documents: {sorted(counts)}")

        latency: dict[str, LatencyFigures] = {}
        cold: dict[str, list[float]] = {}
        for name, adapter in engines.items():
            note(f"{adapter.label}: {len(queries)} queries, warm ...")
            latency[name] = measure_latency(adapter.label, adapter.open(paths[name]), queries, args.repeat)
            note(
                f"  p50 {latency[name].p50_ms:.2f} ms, p95 {latency[name].p95_ms:.2f} ms, "
                f"{latency[name].failures} failures"
            )
            note(f"{adapter.label}: cold search process x{COLD_RUNS} ...")
            argv_cold = cold_argv(adapter, paths[name], args.cold_query)
            cold[name] = measure_cold(argv_cold, COLD_RUNS, scratch / "pycache")
        sizes = {name: adapter.size_bytes(paths[name]) for name, adapter in engines.items()}

    env["load_average_at_end"] = load_average()
    rows = rows_for(list(engines), builds, sizes, latency, cold)
    table = markdown(rows, env, engines, builds, latency, queries, args.cold_query)
    print(table)

    result = {
        "environment": env,
        "figures": [
            {
                "figure": row.label,
                **{e: row.values.get(e) for e in engines},
                **{f"procsearch_over_{e}": ratio_of(row, e) for e in engines if e != "procsearch"},
            }
            for row in rows
        ],
        "builds": {e: (asdict(b) if b is not None else None) for e, b in builds.items()},
        "latency": {e: asdict(f) for e, f in latency.items()},
        "cold_seconds": cold,
        "cold_query": args.cold_query,
        "queries": [asdict(q) for q in queries],
        "settings": {
            "sources": list(args.sources),
            "limit": LIMIT,
            "code_weight": CODE_WEIGHT,
            "engines": {name: adapter.description for name, adapter in engines.items()},
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
