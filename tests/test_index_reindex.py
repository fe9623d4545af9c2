"""Incremental re-indexing, crash safety, readers during writes, the writer lock, and damage.

Everything here uses real files and, where it matters, real processes: the re-indexer is run
as ``python -m procsearch.cli`` and SIGKILLed, a reader process searches while generations
are swapped, and index files are truncated or zeroed on disk. Nothing is mocked; the
"kill at a named point" tests only make a real process SIGKILL itself when it reaches a
chosen library function.
"""

from __future__ import annotations

import gc
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from procsearch.index.build import build_index
from procsearch.index.errors import IndexDamagedError
from procsearch.index.store import CURRENT, META, current_generation, generations, is_rolled_back
from procsearch.index.update import ChangePlan, indexed_pages, plan_changes, reindex
from procsearch.index.verify import check_generation, rollback_index, verify_index
from procsearch.ingest.pages import load_pages
from procsearch.search.engine import SearchEngine
from whoosh import index as whoosh_index

from procsearch.cli import EXIT_INDEX, EXIT_LOCKED, EXIT_OK, EXIT_SKIPPED
from procsearch.errors import REBUILD, ROLLBACK, Remedy

FIXTURES = Path(__file__).parent / "fixtures"
PROCSEARCH = [sys.executable, "-m", "procsearch.cli"]
# The CLI runs as a separate process from a fixed folder, without the user's PROCSEARCH_* settings
# (an inherited PROCSEARCH_INDEX or PROCSEARCH_DEBUG would change what it does).
CLI_CWD = Path(__file__).parent
CLI_ENV = {k: v for k, v in os.environ.items() if not k.startswith("PROCSEARCH_")}
CLI_TIMEOUT = 120.0
"""A bound on any one CLI run, so a hang fails the test instead of blocking the suite."""

DocSet = frozenset[tuple[str, str]]
"""What an index holds: the (code, content hash) of every page document."""


# --- realistic synthetic pages -------------------------------------------------------------------

PROCEDURES = (
    ("Arthroscopic knee meniscectomy", "knee", "Musculoskeletal system", "arthroscope"),
    ("Laparoscopic cholecystectomy", "gallbladder", "Digestive system", "laparoscope"),
    ("Carpal tunnel release", "wrist", "Nervous system", "scalpel and retractor"),
    ("Cataract extraction with lens implant", "eye", "Eye and ocular adnexa", "phacoemulsification probe"),
    ("Coronary angioplasty with stent", "heart", "Cardiovascular system", "balloon catheter"),
    ("Inguinal hernia repair", "groin", "Digestive system", "surgical mesh"),
    ("Upper endoscopy with biopsy", "stomach", "Digestive system", "flexible endoscope"),
    ("Total hip arthroplasty", "hip", "Musculoskeletal system", "prosthetic implant"),
    ("Thyroid lobectomy", "neck", "Endocrine system", "harmonic scalpel"),
    ("Lumbar epidural steroid injection", "lower back", "Nervous system", "spinal needle"),
    ("Tonsillectomy", "throat", "Respiratory system", "electrocautery"),
    ("Cystoscopy", "bladder", "Urinary system", "cystoscope"),
)
SENTENCES = (
    "The {name} treats problems of the {part} that have not improved with rest, medicines or therapy.",
    "Your surgeon uses a {tool} to reach the {part} through one or more small incisions.",
    "Most patients go home the same day; some stay one night in the hospital for observation.",
    "You may be asked to stop eating and drinking after midnight before the {name}.",
    "Tell your care team about blood thinners, allergies and any problems with anesthesia.",
    "Risks include bleeding, infection, blood clots and damage to nearby nerves or vessels.",
    "Swelling and soreness around the {part} usually settle within one to two weeks.",
    "Call your doctor for fever above 38 degrees, spreading redness or pain that gets worse.",
    "A nurse checks your breathing, pulse and blood pressure while you wake up.",
    "Physical therapy or gentle exercise helps you return to normal activity.",
    "The team reviews imaging of the {part} and your blood tests before the procedure.",
    "The incisions are closed with stitches or skin glue and covered with a dressing.",
)
SECTION_HEADINGS = (
    "Summary",
    "Purpose",
    "Indications",
    "Preparation",
    "Procedure Description",
    "Duration",
    "Setting",
    "Personnel",
    "Risks and Complications",
    "Recovery",
)


def synthetic_page(code: str, number: int, revision: int = 0) -> str:
    """A realistic procedure page (about 8 KB) for ``code``; a new revision changes its text."""
    name, part, group, tool = PROCEDURES[number % len(PROCEDURES)]
    rnd = random.Random(f"{code}-{number}-{revision}")

    def sentences(count: int) -> list[str]:
        return [rnd.choice(SENTENCES).format(name=name.lower(), part=part, tool=tool) for _ in range(count)]

    body = []
    for heading in SECTION_HEADINGS:
        items = "".join(f"<li>{s}</li>" for s in sentences(5))
        body.append(f"<h2>{heading}</h2>\n<p>{' '.join(sentences(3))}</p>\n<ul>{items}</ul>")
    title = f"{name} (variant {number}, revision {revision})"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title} - CPT {code}</title>'
        f'</head><body>\n<header><nav><a href="/">Home</a></nav></header>\n<main>\n<h1>{title}</h1>\n'
        f'<p class="code-label">CPT4 code <strong>{code}</strong></p>\n<p>Category: {group}</p>\n'
        f"<h2>Name of the Procedure:</h2>\n<p>{name}. Common names: {name.split()[-1]} surgery, "
        f"{part} procedure {number}.</p>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )


def synthetic_code(number: int) -> str:
    return str(21000 + number)


def write_synthetic(
    folder: Path, number: int, revision: int = 0, *, code: str | None = None, name: str | None = None
) -> Path:
    path = folder / (name or f"proc-{synthetic_code(number)}.html")
    path.write_text(synthetic_page(code or synthetic_code(number), number, revision), encoding="utf-8")
    return path


def make_corpus(folder: Path, *, fixtures: tuple[str, ...], medlineplus: bool, synthetic: range) -> Path:
    folder.mkdir(parents=True)
    for name in fixtures:
        shutil.copy(FIXTURES / name, folder / name)
    if medlineplus:
        (folder / "medlineplus").mkdir()
        for page in sorted((FIXTURES / "medlineplus").glob("*.html")):
            shutil.copy(page, folder / "medlineplus" / page.name)
    for number in synthetic:
        write_synthetic(folder, number)
    return folder


SMALL_FIXTURES = ("seed-63685.html", "variants-47562.html", "missing-sections-99213.html", "no-code.html")


# --- helpers -------------------------------------------------------------------------------------


def expected_docs(corpus: Path) -> DocSet:
    """What a full build of ``corpus`` holds, by the full-build rules (the oracle)."""
    return frozenset((doc.code, doc.content_hash) for doc in load_pages(corpus).docs)


def doc_set(generation: Path) -> DocSet:
    return frozenset(indexed_pages(generation).values())


def served_docs(index: Path) -> DocSet:
    """Open the index the way a user does (SearchEngine) and return what it serves."""
    with SearchEngine(index) as engine:
        stats = engine.stats()
        served = doc_set(index / stats.generation)
        assert stats.document_count == len(served)
        engine.search("procedure")  # the served generation answers queries
    return served


def run_cli(*args: object, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*PROCSEARCH, *map(str, args)], capture_output=True, text=True, env=CLI_ENV, cwd=CLI_CWD, timeout=timeout
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def assert_no_leftovers(index: Path) -> None:
    """What a successful run leaves: one pointer line naming a generation, at most two generations,
    and nothing from crashed runs."""
    assert not list(index.glob("tmp-*")), sorted(p.name for p in index.iterdir())
    assert not list(index.glob(CURRENT + ".tmp-*")), sorted(p.name for p in index.iterdir())
    assert not list(index.glob("bad-*")), sorted(p.name for p in index.iterdir())
    assert 1 <= len(generations(index)) <= 2, sorted(p.name for p in index.iterdir())
    pointer = (index / CURRENT).read_text(encoding="utf-8")
    assert pointer.endswith("\n") and pointer.count("\n") == 1, repr(pointer)
    assert (index / pointer.strip()).is_dir()


def open_damaged(index: Path) -> IndexDamagedError:
    """Open a damaged index in this process; return the error SearchEngine raises.

    Whoosh leaves a file open when it fails to read a table of contents (whoosh/index.py TOC.read);
    that leak is Whoosh's, so its ResourceWarning is collected here instead of failing a later test.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            with pytest.raises(IndexDamagedError) as caught:
                SearchEngine(index)
        finally:
            gc.collect()
    return caught.value


def segment_files(generation: Path) -> dict[str, int]:
    """Segment file name -> inode (segments are stored as separate files: postings, terms, columns)."""
    return {p.name: p.stat().st_ino for p in generation.glob("MAIN_*") if not p.name.endswith("WRITELOCK")}


def live_docs_per_segment(generation: Path) -> list[int]:
    ix = whoosh_index.open_dir(str(generation), readonly=True)
    try:
        with ix.reader() as reader:
            return [leaf.doc_count() for leaf, _offset in reader.leaf_readers()]
    finally:
        ix.close()


def newest_segment(index: Path) -> Path:
    """The segment file the last re-index wrote: the one the other generation does not have."""
    current = current_generation(index)
    others = {p.name for g in generations(index) if g != current for p in g.glob("*.pst")}
    own = [p for p in current.glob("*.pst") if p.name not in others]
    assert len(own) == 1, sorted(p.name for p in current.glob("*.pst"))
    return own[0]


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """Four fixture pages and eight synthetic ones: twelve documents, all valid."""
    return make_corpus(tmp_path / "pages", fixtures=SMALL_FIXTURES, medlineplus=False, synthetic=range(8))


# --- 1. planning is a pure function --------------------------------------------------------------


def test_plan_sorts_every_source_into_exactly_one_bucket() -> None:
    indexed = {"a.html": "1", "b.html": "2", "c.html": "3", "gone.html": "4"}
    current = {"a.html": "1", "b.html": "2-new", "c.html": "3", "new.html": "5"}
    plan = plan_changes(indexed, current)
    assert plan == ChangePlan(
        add=("new.html",), update=("b.html",), delete=("gone.html",), unchanged=("a.html", "c.html")
    )
    assert plan.changed


def test_plan_for_an_identical_folder_changes_nothing() -> None:
    same = {"z.html": "9", "a/b.html": "1"}
    plan = plan_changes(same, dict(same))
    assert plan == ChangePlan(unchanged=("a/b.html", "z.html"))
    assert not plan.changed


def test_plan_from_nothing_adds_everything_and_to_nothing_deletes_everything() -> None:
    pages = {"b.html": "2", "a.html": "1"}
    assert plan_changes({}, pages) == ChangePlan(add=("a.html", "b.html"))
    assert plan_changes(pages, {}) == ChangePlan(delete=("a.html", "b.html"))
    assert plan_changes({}, {}) == ChangePlan() and not ChangePlan().changed


def test_plan_treats_an_unreadable_file_as_changed() -> None:
    # file_hashes() gives "" for a file it cannot read; the page must be re-read to report it.
    assert plan_changes({"a.html": "abc"}, {"a.html": ""}).update == ("a.html",)


@settings(database=None, max_examples=200, deadline=None)
@given(
    indexed=st.dictionaries(st.sampled_from("abcdefgh"), st.sampled_from("xyz"), max_size=8),
    current=st.dictionaries(st.sampled_from("abcdefgh"), st.sampled_from("xyz"), max_size=8),
)
def test_plan_partitions_sources_and_applying_it_gives_the_folder(
    indexed: dict[str, str], current: dict[str, str]
) -> None:
    plan = plan_changes(indexed, current)
    buckets = [plan.add, plan.update, plan.delete, plan.unchanged]
    every = [source for bucket in buckets for source in bucket]
    assert sorted(every) == sorted(set(indexed) | set(current)), "each source in exactly one bucket"
    assert all(list(bucket) == sorted(bucket) for bucket in buckets)
    applied = {s: h for s, h in indexed.items() if s not in plan.delete}
    applied.update({s: current[s] for s in plan.add + plan.update})
    assert applied == current
    assert plan.changed == (indexed != current)


# --- 2. incremental re-indexing ------------------------------------------------------------------


def test_reindex_without_changes_makes_no_new_generation(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    before = current_generation(index)
    listing = sorted(p.name for p in index.iterdir())
    report = reindex(small_corpus, index)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (0, 0, 0, 12)
    assert report.generation == before.name and report.documents == 12 and not report.rebuilt
    assert current_generation(index) == before
    assert sorted(p.name for p in index.iterdir()) == listing


def test_changing_one_page_reindexes_only_that_document(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    old = current_generation(index)
    old_pages = indexed_pages(old)
    old_segments = segment_files(old)
    write_synthetic(small_corpus, 3, revision=1)

    report = reindex(small_corpus, index)

    assert (report.added, report.updated, report.deleted, report.unchanged) == (0, 1, 0, 11)
    assert report.changed_codes == (synthetic_code(3),) and report.documents == 12
    new = current_generation(index)
    assert new != old
    new_pages = indexed_pages(new)
    changed = {s for s in new_pages.keys() | old_pages.keys() if new_pages.get(s) != old_pages.get(s)}
    assert changed == {f"proc-{synthetic_code(3)}.html"}
    # The old segments are hard links, not rewritten; one new segment holds the one new document.
    new_segments = segment_files(new)
    for name, inode in old_segments.items():
        assert new_segments[name] == inode, f"{name} was rewritten"
        assert (new / name).stat().st_nlink >= 2
    added_segments = {name.split(".")[0] for name in set(new_segments) - set(old_segments)}
    assert len(added_segments) == 1
    assert sorted(live_docs_per_segment(new)) == [1, 11]
    # The previous generation is untouched and still serves the old text.
    assert indexed_pages(old) == old_pages
    assert check_generation(old, index)[2] == []
    assert verify_index(index).damaged is False


def test_adding_and_removing_pages(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    (small_corpus / f"proc-{synthetic_code(0)}.html").unlink()
    (small_corpus / "no-code.html").unlink()
    (small_corpus / "sub").mkdir()
    write_synthetic(small_corpus / "sub", 40)
    write_synthetic(small_corpus, 41)
    write_synthetic(small_corpus, 42)

    report = reindex(small_corpus, index)

    assert (report.added, report.updated, report.deleted, report.unchanged) == (3, 0, 2, 10)
    assert report.documents == 13 and report.skipped == ()
    assert served_docs(index) == expected_docs(small_corpus)
    with SearchEngine(index) as engine:
        assert engine.get(synthetic_code(40)).source == f"sub/proc-{synthetic_code(40)}.html"
        assert engine.search(synthetic_code(0)).hits == ()
        assert "ear-wax-removal" not in engine.search("ear wax removal", limit=50).codes
    assert verify_index(index, small_corpus).drifted is False


def test_a_page_that_becomes_broken_is_skipped_and_its_old_document_removed(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    broken = small_corpus / f"proc-{synthetic_code(5)}.html"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))  # replaced by an image
    emptied = small_corpus / f"proc-{synthetic_code(6)}.html"
    emptied.write_bytes(b"")

    report = reindex(small_corpus, index)

    assert {(s.source, s.reason) for s in report.skipped} == {
        (broken.name, "not an HTML page"),
        (emptied.name, "empty file"),
    }
    assert report.documents == 10 and report.deleted == 2
    assert served_docs(index) == expected_docs(small_corpus)
    with SearchEngine(index) as engine:
        assert engine.search(synthetic_code(5)).hits == ()
    # The CLI reports the same skips, exits 3, and a second run is stable.
    result = run_cli("--index", index, "reindex", small_corpus)
    assert result.returncode == EXIT_SKIPPED, result.stderr
    assert f"skipped {broken.name}: not an HTML page" in result.stderr
    assert "0 added, 0 updated, 0 deleted" in result.stdout
    assert current_generation(index).name == report.generation


def _same_as_full_build(corpus: Path, incremental: Path, scratch: Path) -> None:
    """The incrementally updated index holds what a full build of the folder would hold, and
    reports the same skipped files."""
    report = reindex(corpus, incremental)
    full = build_index(corpus, scratch)
    assert indexed_pages(current_generation(incremental)) == indexed_pages(current_generation(scratch))
    assert {(s.source, s.reason) for s in report.skipped} == {(s.source, s.reason) for s in full.skipped}
    shutil.rmtree(scratch)


def test_duplicate_codes_follow_the_full_build_rule_at_every_step(tmp_path: Path) -> None:
    """The path that sorts first keeps a code, whatever order files appear, change and go in."""
    corpus = make_corpus(tmp_path / "pages", fixtures=("seed-63685.html",), medlineplus=False, synthetic=range(0))
    write_synthetic(corpus, 1, name="b-first.html")
    write_synthetic(corpus, 2, name="m-middle.html")
    write_synthetic(corpus, 3, name="z-last.html")
    index, scratch = tmp_path / "ix", tmp_path / "full"
    build_index(corpus, index)
    x = synthetic_code(1)

    def add_in_subfolder() -> None:
        (corpus / "sub").mkdir()
        write_synthetic(corpus / "sub", 13, code=x, name="c.html")

    steps = [
        lambda: write_synthetic(corpus, 11, code=x, name="y-dup.html"),  # sorts after the holder: skipped
        lambda: write_synthetic(corpus, 12, code=x, name="a-dup.html"),  # sorts first: takes the code
        lambda: (corpus / "a-dup.html").unlink(),  # the old holder gets it back
        lambda: write_synthetic(corpus, 1, code=synthetic_code(9), name="b-first.html"),  # holder moves away
        lambda: (corpus / "b-first.html").write_bytes(b"%PDF-1.4 broken"),  # a broken file holds nothing
        lambda: write_synthetic(corpus, 2, code=synthetic_code(3), name="m-middle.html"),  # steals z-last's
        lambda: write_synthetic(corpus, 2, revision=1, name="m-middle.html"),  # gives it back
        lambda: add_in_subfolder(),  # sub/c.html sorts before y-dup.html
        lambda: (corpus / "y-dup.html").unlink(),
    ]
    for number, step in enumerate(steps, 1):
        step()
        try:
            _same_as_full_build(corpus, index, scratch)
        except AssertionError as exc:
            raise AssertionError(f"step {number}: {exc}") from exc


def test_verify_against_the_folder_does_not_call_skipped_pages_missing(small_corpus: Path, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "no-title.html", small_corpus / "no-title.html")
    write_synthetic(small_corpus, 1, code=synthetic_code(0), name="z-duplicate.html")
    index = tmp_path / "ix"
    assert run_cli("--index", index, "index", small_corpus).returncode == EXIT_SKIPPED
    assert run_cli("--index", index, "reindex", small_corpus).returncode == EXIT_SKIPPED
    result = run_cli("--index", index, "verify", small_corpus)
    assert result.returncode == EXIT_OK, result.stdout + result.stderr


def test_repeated_reindexes_serve_the_right_documents_and_keep_two_generations(
    small_corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    for number in range(4):
        write_synthetic(small_corpus, number % 3, revision=number + 1)
        write_synthetic(small_corpus, 50 + number)
        reindex(small_corpus, index)
        assert served_docs(index) == expected_docs(small_corpus)
        assert_no_leftovers(index)
        assert verify_index(index).damaged is False


def test_reindexing_on_a_schedule_does_not_keep_dead_segments(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    for revision in range(1, 7):  # the same four pages change every run, as on a busy schedule
        for number in range(4):
            write_synthetic(small_corpus, number, revision=revision)
        reindex(small_corpus, index)
    live = live_docs_per_segment(current_generation(index))
    assert sum(live) == 12
    assert 0 not in live, f"segments with no live documents are kept: {live}"


def test_the_generation_kept_for_rollback_is_the_one_just_replaced(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    wrong = []
    before_last: DocSet = frozenset()
    for number in range(12):  # a long-running process re-indexing often (each run takes milliseconds)
        if number == 11:
            before_last = doc_set(current_generation(index))
        write_synthetic(small_corpus, 60 + number)
        previous = current_generation(index).name
        reindex(small_corpus, index)
        kept = {g.name for g in generations(index)} - {current_generation(index).name}
        if kept != {previous}:
            wrong.append((number, previous, sorted(kept)))
    rollback_index(index)
    assert served_docs(index) == before_last, "rollback must restore the state before the last re-index"
    assert wrong == []


# --- 3. SIGKILL the writer at any moment ---------------------------------------------------------


@dataclass(frozen=True)
class KillCorpora:
    """Two states of one corpus folder (as two folders with the same relative paths)."""

    old: Path
    new: Path
    old_docs: DocSet
    new_docs: DocSet
    base_index: Path
    """An index built from ``old`` (copy it before writing to it)."""


@pytest.fixture(scope="module")
def kill_corpora(tmp_path_factory: pytest.TempPathFactory) -> KillCorpora:
    """The fixture pages (one of them broken) and the MedlinePlus pages, plus 150 synthetic pages;
    the new state changes 30, removes 10 and adds 15."""
    root = tmp_path_factory.mktemp("kill")
    fixtures = tuple(sorted(p.name for p in FIXTURES.glob("*.html")))
    old = make_corpus(root / "old", fixtures=fixtures, medlineplus=True, synthetic=range(150))
    new = root / "new"
    shutil.copytree(old, new)
    for number in range(30):
        write_synthetic(new, number, revision=1)
    for number in range(140, 150):
        (new / f"proc-{synthetic_code(number)}.html").unlink()
    for number in range(150, 165):
        write_synthetic(new, number)
    old_docs, new_docs = expected_docs(old), expected_docs(new)
    assert len(old_docs) != len(new_docs) and old_docs != new_docs
    base = root / "base-index"
    build_index(old, base)
    assert served_docs(base) == old_docs
    return KillCorpora(old, new, old_docs, new_docs, base)


@pytest.fixture()
def kill_index(kill_corpora: KillCorpora, tmp_path: Path) -> Path:
    index = tmp_path / "ix"
    shutil.copytree(kill_corpora.base_index, index)
    return index


def check_after_crash(index: Path, corpora: KillCorpora, what: str) -> DocSet:
    """The index opens, serves exactly the old or exactly the new documents, and reads cleanly."""
    served = served_docs(index)
    assert served in (corpora.old_docs, corpora.new_docs), (
        f"{what}: the index serves neither state ({len(served)} documents: "
        f"{len(served - corpora.old_docs)} not in the old state, {len(served - corpora.new_docs)} not in the new)"
    )
    report = verify_index(index)
    assert not report.damaged, f"{what}: {report.damage}"
    return served


def next_run_recovers(index: Path, corpora: KillCorpora, what: str) -> None:
    """The next (default, lock-timeout 0) run succeeds, cleans up, and serves the old state."""
    result = run_cli("--index", index, "reindex", corpora.old)
    assert result.returncode == EXIT_SKIPPED, f"{what}: {result.stderr}"
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert skipped == ["skipped no-title.html: no title and no recognisable content"], f"{what}: {result.stderr}"
    assert_no_leftovers(index)
    assert served_docs(index) == corpora.old_docs, what


@pytest.mark.slow
@pytest.mark.parametrize(("command", "kills"), [("reindex", 17), ("index", 8)])
def test_sigkill_at_any_moment_leaves_the_old_or_the_new_index(
    command: str, kills: int, kill_corpora: KillCorpora, kill_index: Path
) -> None:
    index = kill_index
    argv = [*PROCSEARCH, "--index", str(index), command, str(kill_corpora.new)]
    # Measure one full run (old -> new), then go back to the old state.
    started = time.monotonic()
    result = run_cli(*argv[len(PROCSEARCH) :])
    duration = time.monotonic() - started
    assert result.returncode == EXIT_SKIPPED, result.stderr
    assert served_docs(index) == kill_corpora.new_docs
    next_run_recovers(index, kill_corpora, "after the measured run")

    outcomes: list[tuple[float, str]] = []
    for attempt in range(kills):
        delay = 1.15 * duration * attempt / (kills - 1)
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=CLI_ENV, cwd=CLI_CWD)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=CLI_TIMEOUT)
        what = f"{command} SIGKILLed after {delay:.2f} s of a {duration:.2f} s run"
        served = check_after_crash(index, kill_corpora, what)
        outcomes.append((round(delay, 2), "new" if served == kill_corpora.new_docs else "old"))
        next_run_recovers(index, kill_corpora, what)
    print(f"{command}: run {duration:.2f} s; (delay, state after SIGKILL): {outcomes}")


KILL_HOOK = r"""
import importlib, os, signal, sys
command, index, corpus, module, attribute, when = sys.argv[1:7]
target = importlib.import_module(module)
original = getattr(target, attribute)

def hooked(*args, **kwargs):
    if when == "pointer" and os.path.basename(str(args[1])) != "CURRENT":
        return original(*args, **kwargs)
    if when == "after":
        original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

setattr(target, attribute, hooked)
from procsearch.cli import main
sys.argv = ["procsearch", "--index", index, command, corpus]
main()
"""
"""Run the real CLI, but SIGKILL the process when it reaches ``module.attribute`` (before or
after the call; "pointer": at the os.replace that swaps CURRENT)."""


def kill_at(command: str, index: Path, corpus: Path, module: str, attribute: str, when: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", KILL_HOOK, command, str(index), str(corpus), module, attribute, when],
        capture_output=True,
        text=True,
        env=CLI_ENV,
        cwd=CLI_CWD,
        timeout=CLI_TIMEOUT,
    )
    assert result.returncode == -signal.SIGKILL, f"{module}.{attribute} was never reached: {result.stderr}"


KILL_POINTS = [
    # command, module, attribute, when, state served after the kill
    ("reindex", "procsearch.index.update", "_link_copy", "after", "old"),
    ("reindex", "procsearch.index.update", "write_meta", "before", "old"),  # Whoosh commit done, no metadata
    ("reindex", "procsearch.index.store", "fsync_tree", "before", "old"),
    ("reindex", "procsearch.index.store", "point_current", "before", "old"),  # generation renamed, not pointed to
    ("reindex", "os", "replace", "pointer", "old"),  # CURRENT.tmp-* written, not swapped in
    ("reindex", "procsearch.index.update", "clean_leftovers", "before", "new"),
    ("index", "procsearch.index.build", "clean_leftovers", "before", "new"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "module", "attribute", "when", "state"),
    KILL_POINTS,
    ids=[f"{c}-{a}-{w}" for c, _m, a, w, _s in KILL_POINTS],
)
def test_sigkill_at_each_step_of_publishing(
    command: str, module: str, attribute: str, when: str, state: str, kill_corpora: KillCorpora, kill_index: Path
) -> None:
    kill_at(command, kill_index, kill_corpora.new, module, attribute, when)
    served = check_after_crash(kill_index, kill_corpora, f"killed at {attribute}")
    assert served == (kill_corpora.new_docs if state == "new" else kill_corpora.old_docs)
    next_run_recovers(kill_index, kill_corpora, f"after a kill at {attribute}")


@pytest.mark.slow
def test_rollback_never_serves_a_generation_that_was_never_published(
    kill_corpora: KillCorpora, kill_index: Path, tmp_path: Path
) -> None:
    index = kill_index
    third = tmp_path / "third"
    shutil.copytree(kill_corpora.old, third)
    write_synthetic(third, 300)
    third_docs = expected_docs(third)
    assert run_cli("--index", index, "reindex", third).returncode == EXIT_SKIPPED
    assert run_cli("--index", index, "reindex", kill_corpora.old).returncode == EXIT_SKIPPED
    served_before = {g.name for g in generations(index)}
    kill_at("reindex", index, kill_corpora.new, "procsearch.index.store", "point_current", "before")
    next_run_recovers(index, kill_corpora, "after a kill between rename and pointer swap")
    assert {g.name for g in generations(index)} <= served_before, "an unpublished generation is kept"
    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == third_docs, "rollback must restore the previously served state"


# --- 4. readers during re-indexes ----------------------------------------------------------------

READER = r"""
import json, sys, time, traceback
from pathlib import Path
from procsearch.search.engine import SearchEngine

index, stop, log = map(Path, sys.argv[1:4])
engine = SearchEngine(index)  # one long-lived engine, as in a server
with open(log, "a", encoding="utf-8", buffering=1) as out:
    while not stop.exists():
        try:
            stats = engine.stats()
            codes = engine.search("procedure OR surgery OR patients", limit=1000).codes
            record = {"generation": stats.generation, "count": stats.document_count, "hits": len(codes),
                      "duplicates": sorted({c for c in codes if codes.count(c) > 1})}
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
            record = {"error": f"{type(exc).__name__}: {exc} (at {where})"}
        out.write(json.dumps(record) + "\n")
        time.sleep(0.02)  # leave the writers some CPU on a small machine
engine.close()
"""
"""A reader process: searches in a loop with one SearchEngine and logs one JSON line per round."""


def _reader_records(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.endswith("}")]


def _wait_until_reader_sees(generation: str, log: Path, reader: subprocess.Popen[bytes]) -> None:
    """Wait until the reader has searched ``generation`` (or failed); bounded, so a hang fails."""
    deadline = time.monotonic() + 60
    while True:
        records = _reader_records(log)
        if any(r.get("generation") == generation or "error" in r for r in records):
            return
        assert reader.poll() is None, "the reader process died"
        assert time.monotonic() < deadline, f"the reader never reached {generation}"
        time.sleep(0.02)


@pytest.mark.slow
def test_a_reader_sees_only_complete_generations_during_many_reindexes(tmp_path: Path) -> None:
    one = make_corpus(tmp_path / "one", fixtures=SMALL_FIXTURES, medlineplus=False, synthetic=range(30))
    two = tmp_path / "two"
    shutil.copytree(one, two)
    for number in range(3):
        write_synthetic(two, number, revision=1)
    for number in range(28, 30):
        (two / f"proc-{synthetic_code(number)}.html").unlink()
    for number in range(30, 35):
        write_synthetic(two, number)
    counts = {len(expected_docs(one)), len(expected_docs(two))}
    assert counts == {34, 37}
    index = tmp_path / "ix"
    build_index(one, index)
    stop, log = tmp_path / "stop", tmp_path / "reader.log"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(index), str(stop), str(log)],
        env=CLI_ENV,
        cwd=CLI_CWD,
        stderr=subprocess.PIPE,
    )
    published = []
    try:
        _wait_until_reader_sees(current_generation(index).name, log, reader)
        for run in range(20):
            # Each re-index is its own process, as when run from cron.
            result = run_cli("--index", index, "reindex", two if run % 2 == 0 else one)
            assert result.returncode == EXIT_OK, result.stderr
            published.append(current_generation(index).name)
            # The reader must search every published generation at least once.
            _wait_until_reader_sees(published[-1], log, reader)
    finally:
        stop.touch()
        _, stderr = reader.communicate(timeout=60)
    assert reader.returncode == 0, stderr.decode()
    records = _reader_records(log)
    errors = [r["error"] for r in records if "error" in r]
    assert errors == [], errors[:5]
    assert {r["count"] for r in records} == counts, "every observed count is one of the two states"
    assert [r for r in records if r["duplicates"]] == []
    assert set(published) <= {r["generation"] for r in records}
    assert served_docs(index) == expected_docs(one)
    assert_no_leftovers(index)


# --- 5. one writer at a time ---------------------------------------------------------------------

LOCK_HOLDER = r"""
import sys
from pathlib import Path
from procsearch.index.store import writer_lock

with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()  # hold the lock until the test closes stdin (or kills this process)
"""


@pytest.fixture()
def lock_holder(small_corpus: Path, tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(index)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=CLI_ENV,
        cwd=CLI_CWD,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield index, holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)
        for pipe in (holder.stdin, holder.stdout):
            if pipe is not None:
                pipe.close()


def test_a_second_writer_gives_up_with_exit_4_and_nothing_is_lost(
    lock_holder: tuple[Path, subprocess.Popen[str]], small_corpus: Path
) -> None:
    index, holder = lock_holder
    before = served_docs(index)
    generation = current_generation(index)
    write_synthetic(small_corpus, 70)
    write_synthetic(small_corpus, 1, revision=1)

    for args in (
        ["reindex", small_corpus, "--lock-timeout", "1"],
        ["index", small_corpus, "--lock-timeout", "0.2"],
        ["rollback", "--lock-timeout", "0"],
    ):
        result = run_cli("--index", index, *args, timeout=30)
        assert result.returncode == EXIT_LOCKED, (args, result.stderr)
        assert f"Another procsearch process is writing the index at {index}" in result.stderr
        assert "--lock-timeout" in result.stderr and result.stdout == ""
    assert current_generation(index) == generation and served_docs(index) == before
    assert not list(index.glob("tmp-*"))

    assert holder.stdin is not None
    holder.stdin.close()  # the first writer finishes
    holder.wait(timeout=30)
    result = run_cli("--index", index, "reindex", small_corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert "1 added, 1 updated, 0 deleted" in result.stdout
    assert served_docs(index) == expected_docs(small_corpus)


def test_a_lock_left_by_a_killed_process_never_blocks_the_next_run(
    lock_holder: tuple[Path, subprocess.Popen[str]], small_corpus: Path
) -> None:
    index, holder = lock_holder
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    write_synthetic(small_corpus, 71)
    result = run_cli("--index", index, "reindex", small_corpus)  # --lock-timeout 0
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == expected_docs(small_corpus)


@pytest.mark.slow
def test_writers_that_wait_for_the_lock_run_one_after_the_other(kill_corpora: KillCorpora, kill_index: Path) -> None:
    argv = [*PROCSEARCH, "--index", str(kill_index), "reindex", str(kill_corpora.new), "--lock-timeout", "60"]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CLI_ENV, cwd=CLI_CWD)
    second = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CLI_ENV, cwd=CLI_CWD)
    outputs = [first.communicate(timeout=CLI_TIMEOUT), second.communicate(timeout=CLI_TIMEOUT)]
    assert (first.returncode, second.returncode) == (EXIT_SKIPPED, EXIT_SKIPPED), outputs
    summaries = sorted(out for out, _err in outputs)
    assert "0 added, 0 updated, 0 deleted" in summaries[0], "the later writer found nothing left to do"
    assert "15 added, 30 updated, 10 deleted" in summaries[1]
    assert served_docs(kill_index) == kill_corpora.new_docs
    assert_no_leftovers(kill_index)


# --- 6. damaged index files ----------------------------------------------------------------------


def _truncate_newest_segment(generation: Path) -> None:
    segment = newest_segment(generation.parent)
    with open(segment, "r+b") as handle:
        handle.truncate(segment.stat().st_size // 2)


def _zero_toc(generation: Path) -> None:
    (toc,) = generation.glob("_MAIN_*.toc")
    size = toc.stat().st_size
    with open(toc, "r+b") as handle:
        handle.write(bytes(size))


def _empty_toc(generation: Path) -> None:
    (toc,) = generation.glob("_MAIN_*.toc")
    with open(toc, "r+b") as handle:
        handle.truncate(0)


def _zero_metadata(generation: Path) -> None:
    meta = generation / META
    size = meta.stat().st_size
    with open(meta, "r+b") as handle:
        handle.write(bytes(size))


DAMAGE = [
    pytest.param(_truncate_newest_segment, id="truncated-newest-segment"),
    pytest.param(_zero_toc, id="zeroed-toc"),
    pytest.param(_empty_toc, id="empty-toc"),
    pytest.param(_zero_metadata, id="zeroed-procsearch.json"),
]


@pytest.fixture()
def two_generations(small_corpus: Path, tmp_path: Path) -> tuple[Path, Path, DocSet, DocSet]:
    """An index whose current generation came from a re-index of the folder's previous state."""
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    old_docs = expected_docs(small_corpus)
    for number in range(3):
        write_synthetic(small_corpus, number, revision=1)
    write_synthetic(small_corpus, 80)
    reindex(small_corpus, index)
    new_docs = expected_docs(small_corpus)
    assert served_docs(index) == new_docs
    return index, small_corpus, old_docs, new_docs


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_newest_generation_is_reported_and_rollback_restores_service(
    damage, two_generations: tuple[Path, Path, DocSet, DocSet]
) -> None:  # type: ignore[no-untyped-def]
    index, corpus, old_docs, new_docs = two_generations
    damaged = current_generation(index)
    previous = next(g for g in generations(index) if g != damaged)
    damage(damaged)

    error = open_damaged(index)
    assert set(error.remedies) == {Remedy(ROLLBACK, index), Remedy(REBUILD, index)}

    result = run_cli("--index", index, "verify")
    assert result.returncode == EXIT_INDEX, result.stderr
    assert "damaged:" in result.stderr and f"procsearch --index {index} rollback" in result.stderr
    for args in (["search", "procedure"], ["reindex", corpus]):
        result = run_cli("--index", index, *args)
        assert result.returncode == EXIT_INDEX, (args, result.stderr)
        assert result.stderr.startswith("Error: ") and "rollback" in result.stderr, (args, result.stderr)

    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.strip() == f"{index} now serves {previous.name}."
    assert served_docs(index) == old_docs
    assert run_cli("--index", index, "verify").returncode == EXIT_OK

    # The damaged generation is kept, marked as rolled back (rollback --to could serve it again);
    # the next re-index removes it and serves the folder again.
    assert is_rolled_back(damaged)
    result = run_cli("--index", index, "reindex", corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == new_docs
    assert_no_leftovers(index)


def test_damage_to_a_segment_shared_by_both_generations_needs_a_rebuild(
    two_generations: tuple[Path, Path, DocSet, DocSet],
) -> None:
    """Generations share unchanged segments by hard link, so damage to one reaches both: rollback
    refuses with a clear message and the rebuild it names fixes the index."""
    index, corpus, _old_docs, new_docs = two_generations
    shared = max(
        (p for p in current_generation(index).glob("*.pst") if p.stat().st_nlink > 1), key=lambda p: p.stat().st_size
    )
    with open(shared, "r+b") as handle:
        handle.truncate(shared.stat().st_size // 2)

    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_INDEX, result.stderr
    assert f"No earlier generation of {index} reads cleanly" in result.stderr
    assert f"procsearch --index {index} index --rebuild" in result.stderr
    result = run_cli("--index", index, "index", "--rebuild", corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert served_docs(index) == new_docs
    assert run_cli("--index", index, "verify").returncode == EXIT_OK


def test_damage_found_while_searching_is_reported_as_a_damaged_index(
    two_generations: tuple[Path, Path, DocSet, DocSet],
) -> None:
    index, _corpus, _old_docs, _new_docs = two_generations
    pristine = index.with_name("pristine")
    shutil.copytree(index, pristine)
    problems = []
    # A zeroed block inside the newest segment: the segment still opens, and the damage shows up
    # only when a search reads the postings there (where depends on the layout, so try two places).
    for start, end in ((0.05, 0.2), (0.4, 0.6)):
        shutil.rmtree(index)
        shutil.copytree(pristine, index)
        segment = newest_segment(index)
        size = segment.stat().st_size
        with open(segment, "r+b") as handle:
            handle.seek(int(size * start))
            handle.write(bytes(int(size * end) - int(size * start)))
        assert run_cli("--index", index, "verify").returncode == EXIT_INDEX
        for args in (["search", "surgery"], ["search", "procedure"]):
            result = run_cli("--index", index, *args)
            if result.returncode not in (EXIT_OK, EXIT_INDEX) or "unexpected" in result.stderr:
                problems.append((start, args, result.returncode, result.stderr.strip()))
    assert problems == []


# --- 7. what a successful run leaves on disk -----------------------------------------------------


def test_after_a_successful_reindex_current_names_a_complete_published_generation(
    small_corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "ix"
    build_index(small_corpus, index)
    write_synthetic(small_corpus, 2, revision=1)
    result = run_cli("--index", index, "reindex", small_corpus, "--json")
    assert result.returncode == EXIT_OK, result.stderr
    report = json.loads(result.stdout)

    pointer = (index / CURRENT).read_bytes()
    assert pointer == f"{report['generation']}\n".encode()
    generation = index / report["generation"]
    assert generation.is_dir() and report["updated"] == 1 and report["documents"] == 12
    meta = json.loads((generation / META).read_text(encoding="utf-8"))
    assert meta["document_count"] == 12
    assert len(list(generation.glob("_MAIN_*.toc"))) == 1
    ix = whoosh_index.open_dir(str(generation), readonly=True)
    try:
        with ix.reader() as reader:
            for leaf, _offset in reader.leaf_readers():
                segment = leaf.segment()
                path = generation / segment.make_filename(".pst")
                assert path.is_file() and path.stat().st_size > 0, path
    finally:
        ix.close()
    assert_no_leftovers(index)
    assert check_generation(generation, index)[2] == []


def test_indexed_pages_skip_generated_records_wherever_their_sources_sort(tmp_path: Path) -> None:
    from procsearch.index.build import write_docs
    from procsearch.ingest.record import ProcedureDoc

    def doc(code: str, source: str) -> ProcedureDoc:
        return ProcedureDoc(code=code, code_system="CPT", title=f"Title {code}", source=source, content_hash=code * 2)

    docs = [
        doc("10001", "a.html"),
        doc("0DTJ4ZZ", "icd10pcs:0DTJ4ZZ"),
        doc("10002", "icd.html"),  # sorts just before the generated range
        doc("0SRC0J9", "icd10pcs:0SRC0J9"),
        doc("10003", "icd10pcsx.html"),  # sorts just after it
        doc("10004", "z/page.html"),
    ]
    write_docs(tmp_path, docs)
    assert indexed_pages(tmp_path) == {
        "a.html": ("10001", "1000110001"),
        "icd.html": ("10002", "1000210002"),
        "icd10pcsx.html": ("10003", "1000310003"),
        "z/page.html": ("10004", "1000410004"),
    }
