"""Incremental re-indexing on the largest index procsearch builds, next to a full rebuild.

Copies the bundled corpus to a temporary folder, builds (or, with --index, reuses) an index of
those pages plus every ICD-10-PCS code, and times procsearch.index.update.reindex(corpus copy,
index):

  no page changed    the usual nightly run when nothing moved
  one page changed   one copied page gets a word added to a paragraph, then reindex
                     (each run adds a new word, so every run has one page to update); the
                     change is checked with a search, and the page is put back at the end

next to the time of the full build (build_index with sources=("pages", "icd10pcs")), and with
the two parts every run pays whatever changed: reading the indexed pages' hashes from the index
(indexed_pages) and hashing the corpus files (file_hashes). Prints a Markdown table on stdout;
progress goes to stderr.

    /work/venv/bin/python bench/reindex.py                 # builds the index once (~2 minutes)
    /work/venv/bin/python bench/reindex.py --index IX      # reuse an index built from the bundled
                                                           # corpus with pages + icd10pcs

With --index the index is changed (new generations: one per run, the page then put back), and
the full rebuild is not timed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from harness import environment, environment_lines
from procsearch.corpus import bundled_corpus
from procsearch.index.build import ICD10PCS, PAGES, build_index
from procsearch.index.errors import IndexStoreError
from procsearch.index.store import current_generation
from procsearch.index.update import ReindexReport, file_hashes, indexed_pages, plan_changes, reindex
from procsearch.ingest.pages import find_pages
from procsearch.ingest.parse import parse_page
from procsearch.search.engine import SearchEngine

MARKER_WORDS = (
    "quokkabench",
    "wombatbench",
    "numbatbench",
    "bilbybench",
    "dingobench",
    "possumbench",
    "kiwibench",
    "takahebench",
    "kakapobench",
    "tuatarabench",
)
"""Words no page contains, one per run (letters only, so typo correction and tokenizing leave them whole)."""


@dataclass(frozen=True)
class Timing:
    """Seconds of one operation over several runs."""

    label: str
    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def note(message: str) -> None:
    """Progress goes to stderr; only the table goes to stdout."""
    print(message, file=sys.stderr, flush=True)


def copy_corpus(target: Path) -> Path:
    """A private copy of the bundled corpus (pages only) that this script may edit."""
    shutil.copytree(bundled_corpus(), target, ignore=shutil.ignore_patterns("__pycache__", "*.py", "*.pyc"))
    return target


def with_word(html: bytes, word: str, at: int) -> bytes:
    """The page with `` word`` inserted at byte offset ``at`` (the end of a paragraph)."""
    return html[:at] + f" {word}".encode("ascii") + html[at:]


@dataclass(frozen=True)
class EditablePage:
    """A page of the corpus copy, and where a word added to it lands in an indexed section."""

    path: Path
    code: str
    at: int
    original: bytes


def pick_page(corpus: Path, max_tries: int = 40) -> EditablePage:
    """The first page (in path order) with a paragraph whose end, given an extra word, puts that
    word into one of the parsed record's sections (not the code label or the page furniture)."""
    for path in find_pages(corpus):
        html = path.read_bytes()
        for match in list(re.finditer(rb"</p>", html))[:max_tries]:
            at = match.start()
            doc = parse_page(with_word(html, MARKER_WORDS[0], at), source=path.name)
            if any(MARKER_WORDS[0] in text for text in doc.sections.values()):
                return EditablePage(path, doc.code, at, html)
    raise RuntimeError(f"no page in {corpus} has a paragraph that is parsed into a section")


T = TypeVar("T")


def timed(function: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds of one call, and what it returned."""
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def check_index_matches(corpus: Path, index: Path) -> None:
    """Refuse an --index whose pages are not the bundled corpus: reindex would rewrite them."""
    try:
        indexed = indexed_pages(current_generation(index))
    except IndexStoreError as exc:
        raise SystemExit(f"--index {index}: {exc}") from exc
    plan = plan_changes({s: h for s, (_, h) in indexed.items()}, {s: h for s, (_, h) in file_hashes(corpus).items()})
    if plan.changed:
        raise SystemExit(
            f"{index} does not hold the bundled corpus's pages as they are ({len(plan.add)} to add, "
            f"{len(plan.update)} to update, {len(plan.delete)} to delete): reindexing would change them. "
            "Leave out --index to build a fresh index in a temporary folder."
        )


def expect(report: ReindexReport, *, updated: int, what: str) -> None:
    """Stop if a re-index did something else than the benchmark intended."""
    if report.updated != updated or report.added or report.deleted or report.skipped:
        raise RuntimeError(f"{what}: expected {updated} updated page(s), got {report.to_dict()}")


def markdown(
    timings: Sequence[Timing], rebuild: float | None, documents: int, pages: int, repeat: int, argv: Sequence[str]
) -> str:
    """The table: each operation's median, and its share of the full rebuild."""
    lines = [
        f"| operation (index of {documents:,} documents, {pages} of them pages) | median s | min s | max s "
        "| of a full rebuild |",
        "|---|---:|---:|---:|---:|",
    ]
    if rebuild is not None:
        lines.append(
            f"| full rebuild: build_index(pages + icd10pcs), one run | {rebuild:.2f} | {rebuild:.2f} "
            f"| {rebuild:.2f} | 100% |"
        )
    else:
        lines.append("| full rebuild: build_index(pages + icd10pcs) | not timed (--index) | | | |")
    for timing in timings:
        share = f"{timing.median / rebuild:.1%}" if rebuild else "n/a"
        lines.append(
            f"| {timing.label} | {timing.median:.3f} | {min(timing.runs):.3f} | {max(timing.runs):.3f} | {share} |"
        )
    lines += [
        "",
        f"- {repeat} run(s) of each re-index operation; the corpus is a temporary copy of the bundled corpus",
        *environment_lines(environment(argv)),
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--index",
        type=Path,
        help="reuse this index (bundled corpus, pages + icd10pcs) instead "
        "of building one; it gets new generations and its full rebuild is not timed",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each re-index operation (default: 3)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= len(MARKER_WORDS):
        parser.error(f"--repeat must be between 1 and {len(MARKER_WORDS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="procsearch-reindex-") as scratch_name:
        scratch = Path(scratch_name)
        corpus = copy_corpus(scratch / "corpus")
        page = pick_page(corpus)  # before the long build: fail fast
        rebuild: float | None = None
        if args.index is not None:
            index = args.index
            check_index_matches(corpus, index)
        else:
            index = scratch / "index"
            note("building the full index (pages + icd10pcs) ...")
            rebuild, built = timed(lambda: build_index(corpus, index, sources=(PAGES, ICD10PCS)))
            note(f"  {rebuild:.1f} s, {built.indexed:,} documents")

        timings: list[Timing] = []
        note("reindex, no page changed ...")
        runs = []
        for _ in range(args.repeat):
            seconds, report = timed(lambda: reindex(corpus, index))
            expect(report, updated=0, what="no page changed")
            runs.append(seconds)
        timings.append(Timing("reindex, no page changed", runs))
        documents = report.documents

        generation = current_generation(index)
        timings.append(
            Timing(
                "of which: indexed_pages() (hashes of the indexed pages, from the index)",
                [timed(lambda: indexed_pages(generation))[0] for _ in range(args.repeat)],
            )
        )
        timings.append(
            Timing(
                "of which: file_hashes() (SHA-256 of every corpus file)",
                [timed(lambda: file_hashes(corpus))[0] for _ in range(args.repeat)],
            )
        )
        pages = len(indexed_pages(generation))

        note(f"reindex, one page changed ({page.path.name}, {page.code}) ...")
        runs = []
        try:
            for word in MARKER_WORDS[: args.repeat]:
                page.path.write_bytes(with_word(page.original, word, page.at))
                seconds, report = timed(lambda: reindex(corpus, index))
                expect(report, updated=1, what=f"one page changed ({page.path.name})")
                runs.append(seconds)
            with SearchEngine(index) as engine:
                found = list(engine.search(word, limit=1, expand=False, correct=False).codes)
            if found != [page.code]:
                raise RuntimeError(f"after reindex, a search for {word!r} found {found}, not [{page.code!r}]")
        finally:
            page.path.write_bytes(page.original)
            restored = reindex(corpus, index)
        expect(restored, updated=1, what="putting the page back")
        timings.append(Timing("reindex, one page changed", runs))

    print(markdown(timings, rebuild, documents, pages, args.repeat, [str(Path(sys.argv[0])), *argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
