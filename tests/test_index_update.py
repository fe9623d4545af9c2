"""Incremental re-indexing: the pure planner, what a re-index changes (and what it leaves alone),
the duplicate rule at every step, and what a successful run leaves on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from procsearch.index.build import build_index
from procsearch.index.changes import ChangePlan, indexed_pages, plan_changes
from procsearch.index.store import CURRENT, META, current_generation, generations
from procsearch.index.update import reindex
from procsearch.index.verify import check_generation, rollback_index, verify_index
from procsearch.ingest.skips import SkipReason
from procsearch.search.engine import SearchEngine
from support.reindex import (
    FIXTURES,
    DocSet,
    assert_no_leftovers,
    doc_set,
    expected_docs,
    live_docs_per_segment,
    make_corpus,
    run_cli,
    segment_files,
    served_docs,
    synthetic_code,
    write_synthetic,
)
from whoosh import index as whoosh_index

from procsearch.cli import EXIT_OK, EXIT_SKIPPED

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
        (broken.name, SkipReason.NOT_HTML),
        (emptied.name, SkipReason.EMPTY),
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
    report = build_index(None, tmp_path, records=docs)
    assert report.sources == {"pages": 4, "icd10pcs": 2}
    assert indexed_pages(current_generation(tmp_path)) == {
        "a.html": ("10001", "1000110001"),
        "icd.html": ("10002", "1000210002"),
        "icd10pcsx.html": ("10003", "1000310003"),
        "z/page.html": ("10004", "1000410004"),
    }
